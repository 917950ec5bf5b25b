"""The demo jurisdiction: deterministic, complete, and with the planted outcomes it promises."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.core.contract import (
    BANK_CATEGORIES,
    CATEGORIES,
    COUNTIES,
    INSURER_CATEGORIES,
    MONTHLY,
)
from analysis.core.indicator_defs import load_indicator_params
from analysis.core.policy import load_policies
from analysis.demo.jurisdiction import (
    DECLARED_COLUMNS,
    FIRST_YEAR,
    LAST_MONTH,
    LAST_YEAR,
    ROUGHNESS,
    SCENARIO_YEAR,
    SCENARIOS,
    YEARS,
    demo_tables,
)
from analysis.inputs.validation import load_dataset
from analysis.rules.indicators import compute_indicators

ROOT = Path(__file__).resolve().parents[2]
#: the years the demo writes in full (every month): the calendar tests compare January and July
FULL_YEARS = [y for y in YEARS if y != LAST_YEAR or LAST_MONTH == 12]


@pytest.fixture(scope="module")
def indicators(demo_csv_dir):
    policies = load_policies(ROOT / "params")
    written = load_indicator_params(ROOT / "params")  # the later years' watch items use them
    ind = compute_indicators(load_dataset(demo_csv_dir, ROOT / "params"), policies, written)
    return ind.set_index(["institution_id", ind["period"].dt.strftime("%Y-%m")])


def test_deterministic():
    a, b = demo_tables(), demo_tables()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not demo_tables(seed=1)["monthly"].equals(a["monthly"])


def test_every_category_and_county():
    inst = demo_tables()["institutions"]
    assert set(inst["category"]) == set(CATEGORIES)
    assert inst["category"].isin(BANK_CATEGORIES).sum() == 45
    assert inst["category"].isin(INSURER_CATEGORIES).sum() == 15
    rural = inst[inst["category"] == "农村商业银行"]
    assert set(rural["county_code"]) == set(COUNTIES)
    assert inst["name"].str.endswith("（示例）").all()


def test_inapplicable_columns_are_empty_never_zero():
    """Every column of the contract and every declared one (banks only, params/indicators.yaml)."""
    from analysis.demo.jurisdiction import monthly_table

    tables = demo_tables()
    monthly = tables["monthly"].merge(tables["institutions"][["institution_id", "category"]])
    declared = [c for c in monthly_table(ROOT / "params").columns if c.name in DECLARED_COLUMNS]
    assert {c.name for c in declared} == set(DECLARED_COLUMNS)  # every column the demo writes is declared
    for col in (*MONTHLY.columns, *declared):
        if col.applies_to is None:
            continue
        outside = monthly.loc[~monthly["category"].isin(col.applies_to), col.name]
        assert outside.isna().all(), col.name
        inside = monthly.loc[monthly["category"].isin(col.applies_to), col.name]
        assert inside.notna().all(), col.name


def test_every_month_from_the_first_year_to_the_latest_period():
    """A history year, then assessed years to June 2025, every month present (late filing repeats a
    month): 2020–2024 in full and 2025 to June."""
    monthly = demo_tables()["monthly"]
    months = 12 * (LAST_YEAR - FIRST_YEAR) + LAST_MONTH
    assert (FIRST_YEAR, LAST_YEAR, LAST_MONTH) == (2020, 2025, 6)
    assert monthly.groupby("institution_id")["period"].nunique().eq(months).all()
    assert monthly["period"].min() == pd.Timestamp("2020-01-31")
    assert monthly["period"].max() == pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def banks_monthly():
    tables = demo_tables()
    banks = tables["institutions"].loc[tables["institutions"]["category"].isin(BANK_CATEGORIES), "institution_id"]
    m = tables["monthly"][tables["monthly"]["institution_id"].isin(banks)].copy()
    m["ym"] = m["period"].dt.strftime("%Y-%m")
    return m.set_index(["institution_id", "ym"])


def _month_growth(monthly, column: str) -> pd.DataFrame:
    """Month-on-month growth of ``column`` by bank (rows) and period (columns)."""
    wide = monthly[column].unstack("ym")
    return wide.pct_change(axis=1)


def test_calendar_january_surge_and_quarter_end_pushes(banks_monthly):
    """PBoC monthly loan statistics: January surge, quarter-end jumps, thin month after (median bank)."""
    g = _month_growth(banks_monthly, "total_loans").median()
    for year in FULL_YEARS[1:]:
        jan, apr = g[f"{year}-01"], g[f"{year}-04"]
        jun, jul = g[f"{year}-06"], g[f"{year}-07"]
        assert jan > 2 * apr and jan > 0
        assert jun > 0 > jul  # the June push partly reverses in July


def test_spring_festival_moves_the_january_february_split(banks_monthly):
    """New borrowers disbursed: February's share is lower when the festival falls in February
    (2021: 12 Feb) than when it falls in January (2023: 22 Jan, the catch-up lands in February)."""
    festival = {y: m for y, m in ROUGHNESS.spring_festival if y in FULL_YEARS}
    ytd = banks_monthly["inclusive_ytd_borrowers_disbursed"].unstack("ym")
    feb_share = {y: ((ytd[f"{y}-02"] - ytd[f"{y}-01"]) / ytd[f"{y}-12"]).median() for y in festival}
    in_feb = [y for y, m in festival.items() if m == 2]
    in_jan = [y for y, m in festival.items() if m == 1]
    assert max(feb_share[y] for y in in_feb) < min(feb_share[y] for y in in_jan)


def test_late_filer_repeats_the_previous_month(banks_monthly):
    iid, month = ROUGHNESS.late_filers[1]
    year, m = (int(x) for x in month.split("-"))
    late = banks_monthly.loc[(iid, month)]
    before = banks_monthly.loc[(iid, f"{year}-{m - 1:02d}")]
    after = banks_monthly.loc[(iid, f"{year}-{m + 1:02d}")]
    values = [c for c in banks_monthly.columns if c not in ("period",)]
    assert late[values].equals(before[values])
    assert after["inclusive_ytd_disbursed"] > late["inclusive_ytd_disbursed"]  # the catch-up


def test_revision_and_break(banks_monthly):
    iid, month, factor = ROUGHNESS.revisions[0]
    year, m = (int(x) for x in month.split("-"))
    bal = banks_monthly["inclusive_balance"]
    neighbours = (bal[(iid, f"{year}-{m - 1:02d}")] + bal[(iid, f"{year}-{m + 1:02d}")]) / 2
    assert bal[(iid, month)] / neighbours == pytest.approx(factor, abs=0.02)
    iid, month, f_incl, _, f_borr = ROUGHNESS.breaks[0]
    year, m = (int(x) for x in month.split("-"))
    prev = f"{year}-{m - 1:02d}"
    assert bal[(iid, month)] / bal[(iid, prev)] == pytest.approx(f_incl, abs=0.03)
    assert banks_monthly["inclusive_borrowers"][(iid, month)] / banks_monthly["inclusive_borrowers"][
        (iid, prev)
    ] == pytest.approx(f_borr, abs=0.03)


def test_renewal_share_and_structure_move(banks_monthly):
    """The renewal share of each month's new lending is not flat (it was a constant before)."""
    m = banks_monthly
    flows = (
        m[["renewal_ytd_amount", "inclusive_ytd_disbursed"]]
        .groupby([m.index.get_level_values(0), m["period"].dt.year])
        .diff()
    )
    share = (flows["renewal_ytd_amount"] / flows["inclusive_ytd_disbursed"]).dropna()
    spread = share.groupby(level=0).std()
    assert (spread > 0.01).all()
    mfg = (m["mfg_midlong_balance"] / m["inclusive_balance"]).groupby(level=0).apply(lambda s: s.diff().std())
    assert (mfg > 0).all()


EXPECTED_DECEMBER = {
    # planted scenario -> (status column, expected status) in December of SCENARIO_YEAR (2023)
    "plan_missed": [("status_plan", "not_met")],
    "growth_leg_missed": [("status_growth_leg", "not_met"), ("status_two_increases", "not_met")],
    "borrowers_leg_missed": [("status_borrowers_leg", "not_met"), ("status_growth_leg", "met")],
    "rate_up": [("status_rate_change", "not_met")],
    "npl_breach": [("status_npl", "not_met")],
    "high_rate": [("high_rate", True)],
    "balance_falling": [("status_growth_leg", "not_met"), ("status_plan", "not_met")],
    "differentiated_plan_met": [("status_growth_leg", "met"), ("status_plan", "met")],
    "differentiated_plan_missed": [("status_growth_leg", "not_met")],
    "first_loan_falling": [("status_first_loan_borrowers_yoy_change", "watch")],
    "indiv_business_falling": [
        ("status_indiv_business_balance_change", "watch"),
        ("status_indiv_business_borrowers_change", "watch"),
    ],
    "premium_falling": [("status_premium_yoy_pct", "watch")],
    "sum_insured_falling": [("status_sum_insured_yoy_pct", "watch")],
}


@pytest.mark.parametrize("institution_id,scenario", sorted(SCENARIOS.items()))
def test_planted_outcomes(indicators, institution_id, scenario):
    row = indicators.loc[(institution_id, f"{SCENARIO_YEAR}-12")]
    for column, expected in EXPECTED_DECEMBER[scenario]:
        assert row[column] == expected, (institution_id, scenario, column, row[column])


def test_healthy_legal_banks_meet_two_increases(indicators):
    december = indicators.xs("2023-12", level=1)
    planted = set(SCENARIOS)
    healthy_legal = december[(december["entity_type"] == "法人机构") & ~december.index.isin(planted)]
    assert len(healthy_legal) >= 15
    assert (healthy_legal["status_two_increases"] == "met").all()
    assert (healthy_legal["status_plan"] == "met").all()


def test_growth_leg_missed_two_years_running(indicators):
    assert indicators.loc[("B017", "2022-12"), "growth_margin_pp"] < 0
    assert indicators.loc[("B034", "2022-12"), "inclusive_ytd_growth_pct"] < 0
