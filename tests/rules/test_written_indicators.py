"""Indicators written in params (``params/indicators.yaml``): each kind on a hand-made frame, a
policy's watch check on one, and the refusals. Expected values worked out by hand in comments."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from analysis.core.errors import ParamsError
from analysis.core.indicator_defs import load_indicator_params
from analysis.core.policy import load_policies
from analysis.rules.indicators import NA, WATCH, compute_indicators
from tests.conftest import make_dataset

ROOT = Path(__file__).resolve().parents[2]

#: added to the shipped file (which declares agri_balance, 涉农贷款余额)
KINDS = """
columns:
  - {name: midlong_balance, header: 中长期贷款余额（测试）, kind: amount, unit: 万元}
indicators:
  - {name: agri_level, kind: level, of: agri_balance, label: 涉农贷款余额（水平）}
  - {name: agri_change, kind: change_ytd, of: agri_balance, label: 涉农贷款较年初变化}
  - {name: agri_growth, kind: growth_ytd, of: agri_balance, label: 涉农贷款较年初增速}
  - {name: agri_yoy_change, kind: change_yoy, of: agri_balance, label: 涉农贷款同比变化}
  - {name: agri_yoy, kind: growth_yoy, of: agri_balance, label: 涉农贷款同比增速}
  - {name: midlong_share, kind: share, of: midlong_balance, per: inclusive_balance, label: 中长期占比}
  - {name: midlong_share_change, kind: share_change_ytd, of: midlong_balance, per: inclusive_balance, label: 中长期占比变化}
  - {name: agri_per_borrower, kind: ratio, of: agri_balance, per: inclusive_borrowers, label: 户均涉农贷款}
"""


@pytest.fixture
def params(tmp_path):
    folder = tmp_path / "params"
    shutil.copytree(ROOT / "params", folder)
    shipped = yaml.safe_load((folder / "indicators.yaml").read_text(encoding="utf-8"))
    added = yaml.safe_load(KINDS)
    merged = {key: shipped[key] + added[key] for key in ("columns", "indicators")}
    (folder / "indicators.yaml").write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
    return folder


def _dataset():
    ds = make_dataset(
        [{"institution_id": "L1", "name": "L1", "category": "农村商业银行"}],
        [
            {"institution_id": "L1", "period": "2022-06", "inclusive_balance": 900, "inclusive_borrowers": 90},
            {"institution_id": "L1", "period": "2022-12", "inclusive_balance": 1000, "inclusive_borrowers": 100},
            {"institution_id": "L1", "period": "2023-06", "inclusive_balance": 1100, "inclusive_borrowers": 110},
        ],
    )
    # the declared columns, as the loader carries them: 2022-06 / 2022-12 / 2023-06
    ds.monthly["agri_balance"] = [520.0, 500.0, 550.0]
    ds.monthly["midlong_balance"] = [np.nan, 100.0, 165.0]
    return ds


def test_every_kind_worked_by_hand(params):
    written = load_indicator_params(params)
    ind = compute_indicators(_dataset(), load_policies(params), written).set_index("period")
    r = ind.loc["2023-06-30"]
    assert r["agri_level"] == 550
    assert r["agri_change"] == 50  # 550 − 500 (December 2022)
    assert r["agri_growth"] == pytest.approx(10.0)  # 550 / 500 − 1
    assert r["agri_yoy_change"] == 30  # 550 − 520 (June 2022)
    assert r["agri_yoy"] == pytest.approx(30 / 520 * 100)  # 5.769 %
    assert r["midlong_share"] == pytest.approx(15.0)  # 165 / 1,100
    assert r["midlong_share_change"] == pytest.approx(5.0)  # 15 % − 100 / 1,000
    assert r["agri_per_borrower"] == pytest.approx(5.0)  # 550 / 110, scale 1
    # without its prior December, a change since the start of the year is NaN, never 0
    assert np.isnan(ind.loc["2022-06-30", "agri_change"])


def test_a_policy_watches_a_written_indicator(params):
    path = params / "policy-2023.yaml"
    policy = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy["watch_checks"].append(
        {
            "indicator": "agri_growth",
            "label": "涉农贷款较年初增速",
            "min": 12,
            "clause": "（测试）",
            "sectors": ["bank"],
        }
    )
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    ind = compute_indicators(_dataset(), load_policies(params), load_indicator_params(params)).set_index("period")
    assert ind.loc["2023-06-30", "status_agri_growth"] == WATCH  # 10 % < 12 %
    assert ind.loc["2022-06-30", "status_agri_growth"] == NA  # no 2022 policy


def test_a_watch_item_on_an_undefined_indicator_names_the_file_to_write_it_in(params):
    path = params / "policy-2023.yaml"
    policy = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy["watch_checks"].append(
        {"indicator": "agri_loans_growth", "label": "x", "min": 0, "clause": "x", "sectors": ["bank"]}
    )
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError, match="indicators.yaml"):
        load_policies(params)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("indicators: [{name: x, kind: growth_ytd, of: no_such_column, label: x}]", "no_such_column"),
        ("indicators: [{name: x, kind: share, of: inclusive_balance, label: x}]", "per"),
        ("indicators: [{name: x, kind: median, of: inclusive_balance, label: x}]", "indicators.0.kind"),
        ("indicators: [{name: growth_margin_pp, kind: level, of: inclusive_balance, label: x}]", "built-in"),
        ("columns: [{name: a, header: 各项贷款余额, kind: amount, unit: 万元}]", "built-in header"),
        ("columns: [{name: Agri, header: 涉农, kind: amount, unit: 万元}]", "lower_snake_case"),
    ],
)
def test_a_bad_indicator_file_is_refused_naming_the_key(params, text, said):
    (params / "indicators.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_indicator_params(params)
    assert said in str(info.value) and "indicators.yaml" in str(info.value)


def test_the_shipped_file_loads_and_is_used_by_the_2024_and_2025_policies():
    written = load_indicator_params(ROOT / "params")
    assert {c.header for c in written.columns} >= {"涉农贷款余额", "普惠型涉农贷款余额", "小微企业法人贷款余额"}
    load_policies(ROOT / "params")  # every watch item resolves


def test_a_declared_column_in_the_monthly_table_is_read_checked_and_used(data):
    """A bank adds 涉农贷款余额 to its monthly table: the column declared in the shipped
    params/indicators.yaml is read (no unknown_column warning), checked like any amount (a negative
    figure refused at its row), and its growth indicator computed from it."""
    import pandas as pd

    from analysis.core.errors import DataValidationError
    from analysis.inputs.validation import load_dataset
    from analysis.state import state_from_dataset

    path = data / "月度监测.csv"
    monthly = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    ids, periods = monthly["机构编码"], monthly["数据期"].str[:7]
    # B010: 1,000 at December 2022, 1,100 at June 2023 → +10 %; every other row empty
    monthly["涉农贷款余额"] = ""
    monthly.loc[(ids == "B010") & (periods == "2022-12"), "涉农贷款余额"] = "1000"
    monthly.loc[(ids == "B010") & (periods == "2023-06"), "涉农贷款余额"] = "1100"
    monthly.to_csv(path, index=False, encoding="utf-8-sig")
    ds = load_dataset(data, ROOT / "params")
    assert not [w for w in ds.warnings if w.rule == "unknown_column"]
    state = state_from_dataset(ds, load_policies(ROOT / "params"), data, ROOT / "params")
    ind = state.indicators.set_index(["institution_id", "period"])
    assert ind.loc[("B010", pd.Timestamp("2023-06-30")), "agri_ytd_growth_pct"] == pytest.approx(10.0)
    assert np.isnan(ind.loc[("B011", pd.Timestamp("2023-06-30")), "agri_ytd_growth_pct"])

    monthly.loc[(ids == "B010") & (periods == "2023-06"), "涉农贷款余额"] = "-5"
    monthly.to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, ROOT / "params")
    assert any(i.column == "agri_balance" for i in info.value.issues)
