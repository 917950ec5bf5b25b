"""analysis.content.explore on a hand-made city of three banks (expected values worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.content.explore import county_view, indicator_panel, what_if, with_changes
from analysis.core.errors import ParamsError, ReportInputError
from analysis.state import State, state_from_dataset
from tests.conftest import make_dataset


def _bank(iid: str, base: float, now: float, total_base: float, total_now: float, county: str = "411302"):
    inst = {"institution_id": iid, "name": f"{iid}银行", "category": "农村商业银行", "county_code": county}
    rows = []
    for period, balance, total in (("2022-12", base, total_base), ("2023-06", now, total_now)):
        rows.append(
            {
                "institution_id": iid,
                "period": period,
                "inclusive_balance": balance,
                "inclusive_borrowers": 100,
                "inclusive_npl": 1.0,
                "inclusive_ytd_disbursed": 50.0,
                "inclusive_ytd_borrowers_disbursed": 10,
                "inclusive_ytd_interest": 2.5,
                "total_loans": total,
                "total_npl": 10.0,
            }
        )
    return inst, rows


@pytest.fixture
def state(policy, tmp_path) -> State:
    # growth margins at 2023-06: A 12% − 5% = +7 pp; B 6% − 5% = +1 pp; C 4% − 5% = −1 pp
    banks = [
        _bank("A", 100.0, 112.0, 1000.0, 1050.0),
        _bank("B", 200.0, 212.0, 1000.0, 1050.0, "411381"),
        _bank("C", 100.0, 104.0, 1000.0, 1050.0, "411381"),
    ]
    plans = [{"institution_id": i, "year": 2023, "planned_increase": 10.0} for i in "ABC"]
    ds = make_dataset([b[0] for b in banks], [r for b in banks for r in b[1]], plans)
    policies = {2023: policy}
    return state_from_dataset(ds, policies, tmp_path, tmp_path)


def test_indicator_panel_is_institutions_by_month(state):
    panel = indicator_panel(state, "growth_margin_pp", year=2023)
    assert list(panel.columns) == ["2023-06"]
    assert panel.loc[("A", "A银行", "农村商业银行"), "2023-06"] == pytest.approx(7.0)
    assert panel.loc[("C", "C银行", "农村商业银行"), "2023-06"] == pytest.approx(-1.0)
    statuses = indicator_panel(state, "status_growth_leg", year=2023)
    assert statuses["2023-06"].tolist() == ["达标", "达标", "未达标"]
    with pytest.raises(ReportInputError):
        indicator_panel(state, "no_such_indicator")


def test_county_view_by_name_or_code(state):
    by_name = county_view(state, "邓州市", "2023-06")
    assert by_name.index.get_level_values(0).tolist() == ["B", "C"]
    assert county_view(state, "411381", "2023-06").equals(by_name)
    with pytest.raises(ReportInputError):
        county_view(state, "不存在县", "2023-06")


def test_what_if_lists_only_the_verdicts_that_change(state):
    # raising the growth-margin minimum to 2 pp turns B (+1 pp) into a miss; A (+7) stays, C already missed
    changed = what_if(state, 2023, {"two_increases.growth_margin_min_pp": 2.0}, period="2023-06")
    assert set(changed["机构编码"]) == {"B"}
    assert set(changed["评价项目"]) == {"两增：贷款增速", "两增"}
    assert set(changed["现行参数"]) == {"达标"} and set(changed["假设参数"]) == {"未达标"}
    # the state itself is untouched
    assert state.indicators.loc[state.indicators["institution_id"] == "B", "status_growth_leg"].iloc[-1] == "met"


def test_what_if_refuses_unknown_keys_and_bad_values(state):
    with pytest.raises(ParamsError):
        with_changes(state.policy(2023), {"two_increases.no_such_threshold": 1})
    with pytest.raises(ParamsError):
        with_changes(state.policy(2023), {"plan.completion_min_pct": -5})
    assert with_changes(state.policy(2023), {"plan.completion_min_pct": 90}).plan.completion_min_pct == 90
    assert isinstance(state.indicators, pd.DataFrame)
