"""The demo's financing coordination lists (analysis.demo.financing): the planted cases, checked by
hand against what the module's docstring plants, and the demo still validates."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.financing import DEFAULT_FINANCING_PARAMS
from analysis.core.policy import load_policies
from analysis.demo.financing import BAD_CODE, DATES_REVERSED, NO_VISIT, NOT_PUSHED, SLOW_BANK, write_demo_financing
from analysis.inputs.validation import load_dataset
from analysis.rules.financing import financing_figures
from tests.inputs.test_financing import PARAMS


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_csv_dir):
    import shutil

    folder = tmp_path_factory.mktemp("fin") / "data"
    shutil.copytree(demo_csv_dir, folder)
    write_demo_financing(folder)
    return load_dataset(folder, PARAMS)


def test_the_planted_rows_are_left_out_with_a_warning_each(demo):
    ex = demo.financing.excluded
    assert sorted(ex["rule"]) == ["dates_out_of_order", "feedback_not_pushed", "invalid_credit_code"]
    bad = ex[ex["rule"] == "invalid_credit_code"].iloc[0]
    assert (bad["table"], bad["institution_id"], bad["firm_name"], bad["county_code"]) == (
        "推荐清单",
        BAD_CODE[1],
        BAD_CODE[3],
        BAD_CODE[0],
    )
    order = ex[ex["rule"] == "dates_out_of_order"].iloc[0]
    assert order["institution_id"] == DATES_REVERSED[1] and DATES_REVERSED[4] in order["detail"]
    stray = ex[ex["rule"] == "feedback_not_pushed"].iloc[0]
    assert stray["institution_id"] == NOT_PUSHED[0] and NOT_PUSHED[1] in stray["detail"]
    rules = {w.rule for w in demo.warnings}
    assert {"invalid_credit_code", "dates_out_of_order", "feedback_not_pushed"} <= rules


def test_the_slow_bank_leaves_a_fifth_undecided(demo):
    bank, county, per_month = SLOW_BANK
    policies = load_policies(PARAMS)
    f = financing_figures(demo.financing, "2025-06", policies[2025], DEFAULT_FINANCING_PARAMS)
    row = f.row("bank", bank, "ytd")
    # five firms on the 5th of each month; windows ending Jan–Jun 2025: the pushes of 2024-12-05 …
    # 2025-05-05, six months × 5 = 30, the fifth of each undecided: 24 in time = 80 %
    assert (row["pushed"], row["due"], row["due_decided_in_time"]) == (6 * per_month, 30, 24)
    assert row["decided_within_pct"] == 80.0 and row["contact_rate_pct"] == 100.0
    # overdue at 2025-06-30: the fifth firm of each month 2024-10 … 2025-05 (June's window ends 07-05)
    assert row["overdue"] == 8
    assert f.verdicts.set_index("institution_id").loc[bank, "status_decision"] == "not_met"
    assert (f.firms.loc[f.firms["institution_id"] == bank, "county_code"] == county).all()
    # every other bank decides within the window
    others = f.verdicts[f.verdicts["institution_id"] != bank]
    assert set(others["status_decision"]) <= {"met", "n/a"}


def test_a_county_with_no_visits_in_a_month(demo):
    county, month = NO_VISIT
    policies = load_policies(PARAMS)
    f = financing_figures(demo.financing, month, policies[2025], DEFAULT_FINANCING_PARAMS)
    row = f.row("county", county, "month")
    assert row["pushed"] > 0 and row["pushed_visited"] == 0
    assert f.row("county", "411302", "month")["pushed_visited"] > 0


def test_the_demo_spans_the_mechanism(demo):
    dates = demo.financing.pairs["list_date"]
    assert dates.min() < pd.Timestamp("2024-10-31") and dates.max() >= pd.Timestamp("2025-06-01")
