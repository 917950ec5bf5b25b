"""The demo jurisdiction: deterministic, complete, and with the planted outcomes it promises."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.contract import BANK_CATEGORIES, CATEGORIES, COUNTIES, INSURER_CATEGORIES, MONTHLY
from analysis.demo import SCENARIOS, demo_tables
from analysis.indicators import compute_indicators
from analysis.policy import load_policies
from analysis.validation import load_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def indicators(demo_csv_dir):
    policies = load_policies(ROOT / "params")
    ind = compute_indicators(load_dataset(demo_csv_dir, ROOT / "params"), policies)
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
    tables = demo_tables()
    monthly = tables["monthly"].merge(tables["institutions"][["institution_id", "category"]])
    for col in MONTHLY.columns:
        if col.applies_to is None:
            continue
        outside = monthly.loc[~monthly["category"].isin(col.applies_to), col.name]
        assert outside.isna().all(), col.name
        inside = monthly.loc[monthly["category"].isin(col.applies_to), col.name]
        assert inside.notna().all(), col.name


def test_three_years_monthly():
    monthly = demo_tables()["monthly"]
    assert monthly.groupby("institution_id")["period"].nunique().eq(36).all()


EXPECTED_DECEMBER = {
    # planted scenario -> (status column, expected status) in the last demo year's December
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
    "indiv_business_falling": [("status_indiv_business_balance_change", "watch"),
                               ("status_indiv_business_borrowers_change", "watch")],
    "premium_falling": [("status_premium_yoy_pct", "watch")],
    "sum_insured_falling": [("status_sum_insured_yoy_pct", "watch")],
}


@pytest.mark.parametrize("institution_id,scenario", sorted(SCENARIOS.items()))
def test_planted_outcomes(indicators, institution_id, scenario):
    row = indicators.loc[(institution_id, "2023-12")]
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
