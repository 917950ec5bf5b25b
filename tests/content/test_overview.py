"""City overview on a hand-made jurisdiction: the 两增 miss list names the failed leg and shows both
legs' figures; counts are whole numbers; on-lending shows the quarters ended by the period."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.content import overview
from analysis.state import state_from_dataset
from tests.conftest import make_dataset

RCB = "农村商业银行"


def bank(iid: str, name: str, **kw) -> dict:
    return {"institution_id": iid, "name": name, "category": RCB, **kw}


def year_pair(iid: str, inclusive: tuple, total: tuple, borrowers: tuple) -> list[dict]:
    """December 2022 (the base) and December 2023 rows of one bank."""
    common = dict(
        total_npl=50.0,
        inclusive_npl=10.0,
        inclusive_ytd_disbursed=500.0,
        inclusive_ytd_borrowers_disbursed=40.0,
        inclusive_ytd_interest=25.0,
    )
    return [
        {
            "institution_id": iid,
            "period": "2022-12",
            "inclusive_balance": inclusive[0],
            "total_loans": total[0],
            "inclusive_borrowers": borrowers[0],
            **common,
        },
        {
            "institution_id": iid,
            "period": "2023-12",
            "inclusive_balance": inclusive[1],
            "total_loans": total[1],
            "inclusive_borrowers": borrowers[1],
            **common,
        },
    ]


@pytest.fixture
def ctx(policy) -> overview.CityContext:
    """Hand-worked: growth gap = inclusive growth − all-loan growth; borrower change = end − base.

    G  +2% vs +5%   → −3.00 pp;  100 → 104   (+4):     misses on growth only
    H  +10% vs +6%  → +4.00 pp;  3000 → 1488 (−1,512): misses on borrowers only
    K  −1% vs +2%   → −3.00 pp;  50 → 45     (−5):     misses both
    M  +8% vs +4%   → +4.00 pp;  10 → 11     (+1):     meets
    D  +2% vs 0% → +2.00 pp, but differentiated: plan 100 with +20 done (20%), so the growth leg
       is judged on the plan → misses; borrowers 20 → 20 (0): meets
    """
    institutions = [
        bank("G", "增速未达标银行"),
        bank("H", "户数未达标银行"),
        bank("K", "两项未达标银行"),
        bank("M", "达标银行"),
        bank("D", "差异化银行", differentiated_years=(2023,)),
    ]
    monthly = (
        year_pair("G", (1000, 1020), (5000, 5250), (100, 104))
        + year_pair("H", (1000, 1100), (5000, 5300), (3000, 1488))
        + year_pair("K", (1000, 990), (5000, 5100), (50, 45))
        + year_pair("M", (1000, 1080), (5000, 5200), (10, 11))
        + year_pair("D", (1000, 1020), (5000, 5000), (20, 20))
    )
    plans = [{"institution_id": "D", "year": 2023, "planned_increase": 100.0}]
    onlending = [
        {"institution_id": "M", "quarter": q, "onlending_amount": 100.0, "end_borrower_rate": 4.0}
        for q in ("2023Q1", "2023Q2", "2023Q3")
    ]
    ds = make_dataset(institutions, monthly, plans, onlending)
    policies = {2023: policy}
    state = state_from_dataset(ds, policies, Path("."), Path("."))
    return overview.CityContext(state=state, period=pd.Timestamp("2023-12-31"), policy=policy)


def html_rows(html: str) -> dict[str, list[str]]:
    """Body rows of the HTML tables, keyed by the first cell, cells as plain text."""
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        if cells:
            out[cells[0]] = cells
    return out


def test_misses_name_the_failed_leg_with_both_figures(ctx):
    misses = overview.two_increases_misses(ctx.rows, ctx.policy.two_increases.differentiated_on_plan)
    by_id = misses.set_index("institution_id")
    # growth leg (G −3.00), then borrowers, then both; D's growth leg is judged on its plan (20 of
    # 100): the plan's shortfall, listed once, under the plan (差异化考核), not also here
    assert list(misses["institution_id"]) == ["G", "H", "K"]
    assert by_id.loc["G", "failed_leg"] == "贷款增速"
    assert by_id.loc["H", "failed_leg"] == "贷款户数"
    assert by_id.loc["K", "failed_leg"] == "两项"
    plan = next(t for t in overview.target_lists(ctx) if t.status == "status_plan").rows.set_index("institution_id")
    assert plan.loc["D", "plan_completion_pct"] == pytest.approx(20.0)
    assert plan.loc["D", "assessment"] == overview.DIFFERENTIATED_NOTE
    assert by_id.loc["G", "growth_margin_pp"] == pytest.approx(-3.0)
    assert by_id.loc["H", "growth_margin_pp"] == pytest.approx(4.0)
    assert by_id.loc["H", "borrowers_change"] == -1512
    assert by_id.loc["K", "borrowers_change"] == -5
    assert "M" not in by_id.index


def test_overview_list_shows_leg_and_both_figures(ctx):
    html = str(overview.missing_targets(ctx))
    assert "“两增”未达标（3 家）" in html and "差异化银行" in html.split("信贷计划未完成")[1]
    rows = html_rows(html)
    # 机构编码, 机构名称, 机构类型, 监管科室, 未达标项, 增速差（个百分点）, 户数较年初（户）
    assert rows["H"][1:] == ["户数未达标银行", RCB, "农村银行机构监管科", "贷款户数", "4.00", "-1,512"]
    assert rows["G"][4:] == ["贷款增速", "-3.00", "4"]
    assert rows["K"][4:] == ["两项", "-3.00", "-5"]
    assert "<th>未达标项</th>" in html and "<th>户数较年初（户）</th>" in html


def test_county_table_counts_are_whole(ctx):
    html = str(overview.county_table(ctx))
    # one county (411302): (104 + 1488 + 45 + 11 + 20) − (100 + 3000 + 50 + 10 + 20) = 1,668 − 3,180
    rows = html_rows(html)
    [county] = rows.values()
    assert county[-1] == "-1,512"  # not "-1,512.00"
    assert county[1] == "5"  # 机构数


def test_onlending_shows_quarters_ended_by_the_period(ctx):
    may = overview.CityContext(state=ctx.state, period=pd.Timestamp("2023-05-31"), policy=ctx.policy)
    html = str(overview.onlending_table(may))
    assert "2023Q1" in html and "2023Q2" not in html  # Q2 has not ended at the end of May
    september = overview.CityContext(state=ctx.state, period=pd.Timestamp("2023-09-30"), policy=ctx.policy)
    html = str(overview.onlending_table(september))
    assert "2023Q3" in html
    february = overview.CityContext(state=ctx.state, period=pd.Timestamp("2023-02-28"), policy=ctx.policy)
    assert "2023Q1" not in str(overview.onlending_table(february))


def test_demo_overview_shows_borrower_miss(demo_csv_dir):
    """The issue's case on the demo data: a bank listed with a positive growth gap shows that it
    missed on borrowers, with its borrower change."""
    from analysis.state import compute_state

    state = compute_state(demo_csv_dir, Path(__file__).resolve().parents[2] / "params")
    c = overview.city_context("2023-12", state=state)
    rows = c.rows.set_index("institution_id")
    borrowers_only = rows[(rows["status_growth_leg"] == "met") & (rows["status_borrowers_leg"] == "not_met")]
    assert not borrowers_only.empty
    html_by_id = html_rows(str(overview.missing_targets(c)))
    for inst_id, r in borrowers_only.iterrows():
        cells = html_by_id[inst_id]
        assert cells[4] == "贷款户数"
        assert cells[5] == f"{r['growth_margin_pp']:,.2f}"
        assert cells[6] == f"{int(r['borrowers_change']):,}"


def test_rate_chart_weights_each_category_by_amount_without_seaborn(policy, monkeypatch):
    """The category rate is Σ interest ÷ Σ amount (not the mean of the banks' rates):
    A 25/500 = 5% and B 45/1500 = 3% give 70/2000 = 3.5% for 农村商业银行; C 24/400 = 6% alone
    for 城市商业银行. One line per category in the theme's first colours, drawn without seaborn."""
    import sys

    from matplotlib import rcParams
    from matplotlib.colors import to_hex

    from analysis.content import charts

    charts.setup()
    flows = {"A": (500.0, 25.0), "B": (1500.0, 45.0), "C": (400.0, 24.0)}
    monthly = []
    for iid, (amount, interest) in flows.items():
        for row in year_pair(iid, (1000, 1020), (5000, 5250), (100, 104)):
            monthly.append(dict(row, inclusive_ytd_disbursed=amount, inclusive_ytd_interest=interest))
    institutions = [bank("A", "甲农商行"), bank("B", "乙农商行"), bank("C", "丙城商行", category="城市商业银行")]
    state = state_from_dataset(make_dataset(institutions, monthly, [], []), {2023: policy}, Path("."), Path("."))
    monkeypatch.setitem(sys.modules, "seaborn", None)  # an import of seaborn would fail
    fig = overview.rate_chart(overview.CityContext(state=state, period=pd.Timestamp("2023-12-31"), policy=policy))
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == [RCB, "城市商业银行"]
    assert [list(line.get_ydata()) for line in lines] == [pytest.approx([3.5, 3.5]), pytest.approx([6.0, 6.0])]
    cycle = [c["color"] for c in rcParams["axes.prop_cycle"]]
    assert [to_hex(line.get_color()) for line in lines] == [to_hex(c) for c in cycle[:2]]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [RCB, "城市商业银行"]
