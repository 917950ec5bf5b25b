"""Every indicator on small hand-written frames; expected values worked out by hand (see comments)."""

from __future__ import annotations

import math

import pytest

from analysis.indicators import MET, NA, NOT_MET, WATCH, citywide_figures, compute_indicators, onlending_indicators
from tests.conftest import make_dataset

RCB = "农村商业银行"


def bank(iid, **kw):
    return {"institution_id": iid, "name": kw.pop("name", None), "category": kw.pop("category", RCB), **kw}


def row(iid, period, **values):
    return {"institution_id": iid, "period": period, **values}


def _two_bank_dataset():
    """L1 meets both legs; L2 misses both. Base = December 2022, evaluated June and December 2023."""
    institutions = [bank("L1"), bank("L2")]
    monthly = [
        # L1: inclusive 1000 -> 1100 (+10%), all loans 5000 -> 5400 (+8%), borrowers 100 -> 105
        row("L1", "2022-12", inclusive_balance=1000, inclusive_borrowers=100, total_loans=5000, total_npl=90,
            inclusive_npl=30, inclusive_ytd_disbursed=2000, inclusive_ytd_interest=120,
            credit_loan_balance=200, mfg_midlong_balance=100, indiv_business_balance=300,
            indiv_business_borrowers=60),
        row("L1", "2022-06", inclusive_balance=950, first_loan_ytd_borrowers=50, renewal_ytd_amount=120,
            inclusive_ytd_disbursed=1000, inclusive_ytd_interest=62),
        row("L1", "2023-05", inclusive_balance=1090, inclusive_ytd_disbursed=800, inclusive_ytd_interest=46.6),
        row("L1", "2023-06", inclusive_balance=1100, inclusive_borrowers=105, total_loans=5400, total_npl=100,
            inclusive_npl=33, inclusive_ytd_disbursed=1000, inclusive_ytd_interest=58,
            credit_loan_balance=242, first_loan_ytd_borrowers=40, renewal_ytd_amount=150,
            mfg_midlong_balance=110, indiv_business_balance=330, indiv_business_borrowers=58),
        row("L1", "2023-12", inclusive_balance=1150, inclusive_borrowers=110, total_loans=5600, total_npl=100,
            inclusive_npl=33, inclusive_ytd_disbursed=2100, inclusive_ytd_interest=124),
        # L2: inclusive 1000 -> 1050 (+5%), all loans 5000 -> 5400 (+8%), borrowers 100 -> 99
        row("L2", "2022-12", inclusive_balance=1000, inclusive_borrowers=100, total_loans=5000, total_npl=90,
            inclusive_npl=30, inclusive_ytd_disbursed=2000, inclusive_ytd_interest=120),
        row("L2", "2023-06", inclusive_balance=1050, inclusive_borrowers=99, total_loans=5400, total_npl=100,
            inclusive_npl=66, inclusive_ytd_disbursed=1000, inclusive_ytd_interest=63),
    ]
    plans = [{"institution_id": "L1", "year": 2023, "planned_increase": 200},
             {"institution_id": "L2", "year": 2023, "planned_increase": 50}]
    return make_dataset(institutions, monthly, plans)


def _at(ind, iid, period):
    rows = ind[(ind["institution_id"] == iid) & (ind["period"].dt.strftime("%Y-%m") == period)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_two_increases_both_legs_met(policy):
    ind = compute_indicators(_two_bank_dataset(), policy)
    r = _at(ind, "L1", "2023-06")
    assert r["inclusive_ytd_growth_pct"] == pytest.approx(10.0)
    assert r["total_loans_ytd_growth_pct"] == pytest.approx(8.0)
    assert r["growth_margin_pp"] == pytest.approx(2.0)
    assert r["borrowers_change"] == 5
    assert (r["status_growth_leg"], r["status_borrowers_leg"], r["status_two_increases"]) == (MET, MET, MET)


def test_two_increases_both_legs_missed(policy):
    ind = compute_indicators(_two_bank_dataset(), policy)
    r = _at(ind, "L2", "2023-06")
    assert r["growth_margin_pp"] == pytest.approx(5.0 - 8.0)
    assert r["borrowers_change"] == -1
    assert (r["status_growth_leg"], r["status_borrowers_leg"], r["status_two_increases"]) == (
        NOT_MET, NOT_MET, NOT_MET)


def test_growth_exactly_equal_is_met(policy):
    # inclusive 1000 -> 1080 (+8%) and all loans 5000 -> 5400 (+8%): "not lower" holds
    ds = make_dataset([bank("E")], [
        row("E", "2022-12", inclusive_balance=1000, inclusive_borrowers=10, total_loans=5000),
        row("E", "2023-03", inclusive_balance=1080, inclusive_borrowers=10, total_loans=5400),
    ])
    r = _at(compute_indicators(ds, policy), "E", "2023-03")
    assert r["growth_margin_pp"] == pytest.approx(0.0, abs=1e-9)
    assert r["status_growth_leg"] == MET and r["status_borrowers_leg"] == MET


def test_bills_counted_only_when_the_policy_says_so(policy):
    ds = make_dataset([bank("E")], [
        row("E", "2022-12", inclusive_balance=1000, bill_discount_balance=100, inclusive_borrowers=1, total_loans=5000),
        row("E", "2023-03", inclusive_balance=1000, bill_discount_balance=200, inclusive_borrowers=1, total_loans=5000),
    ])
    assert _at(compute_indicators(ds, policy), "E", "2023-03")["inclusive_ytd_growth_pct"] == pytest.approx(0.0)
    with_bills = policy.model_copy(update={"two_increases": policy.two_increases.model_copy(
        update={"include_bills": True})})
    # (1000 + 200) / (1000 + 100) - 1 = 9.0909%
    got = _at(compute_indicators(ds, with_bills), "E", "2023-03")["inclusive_ytd_growth_pct"]
    assert got == pytest.approx(100 / 1100 * 100)


def test_branch_is_not_judged_on_two_increases(policy):
    ds = make_dataset([bank("BR", category="大型商业银行", entity_type="分支机构")], [
        row("BR", "2022-12", inclusive_balance=1000, inclusive_borrowers=10, total_loans=5000),
        row("BR", "2023-12", inclusive_balance=1010, inclusive_borrowers=9, total_loans=6000),
    ], [{"institution_id": "BR", "year": 2023, "planned_increase": 10}])
    r = _at(compute_indicators(ds, policy), "BR", "2023-12")
    assert r["status_two_increases"] == NA
    assert r["plan_completion_pct"] == pytest.approx(100.0)  # plan exactly met
    assert r["status_plan"] == MET


def test_plan_completion_with_time_progress(policy):
    ind = compute_indicators(_two_bank_dataset(), policy)
    june = _at(ind, "L1", "2023-06")
    # increase 100 of plan 200 = 50%, exactly the June time progress 6/12 = 50%: on track
    assert june["plan_completion_pct"] == pytest.approx(50.0)
    assert june["time_progress_pct"] == pytest.approx(50.0)
    assert june["status_plan"] == MET
    december = _at(ind, "L1", "2023-12")
    assert december["plan_completion_pct"] == pytest.approx(75.0)  # 150 / 200
    assert december["status_plan"] == NOT_MET


def test_plan_behind_time_progress_is_watch(policy):
    ds = make_dataset([bank("P")], [
        row("P", "2022-12", inclusive_balance=1000, inclusive_borrowers=1, total_loans=5000),
        row("P", "2023-09", inclusive_balance=1060, inclusive_borrowers=1, total_loans=5000),
    ], [{"institution_id": "P", "year": 2023, "planned_increase": 100}])
    r = _at(compute_indicators(ds, policy), "P", "2023-09")
    assert r["plan_completion_pct"] == pytest.approx(60.0)  # behind 75% time progress
    assert r["status_plan"] == WATCH


def test_negative_growth_and_plan(policy):
    ds = make_dataset([bank("N")], [
        row("N", "2022-12", inclusive_balance=1000, inclusive_borrowers=10, total_loans=5000),
        row("N", "2023-12", inclusive_balance=950, inclusive_borrowers=10, total_loans=5100),
    ], [{"institution_id": "N", "year": 2023, "planned_increase": 100}])
    r = _at(compute_indicators(ds, policy), "N", "2023-12")
    assert r["inclusive_ytd_growth_pct"] == pytest.approx(-5.0)
    assert r["plan_completion_pct"] == pytest.approx(-50.0)
    assert r["status_plan"] == NOT_MET and r["status_growth_leg"] == NOT_MET


def test_differentiated_bank_judged_on_plan(policy):
    # growth 3% below all loans 8%, but the plan (50) is 60% done in June (time progress 50%)
    inst = [bank("D", category="村镇银行", differentiated_years=(2023,)),
            bank("D2", category="村镇银行", differentiated_years=(2022,))]
    months = []
    for iid in ("D", "D2"):
        months += [row(iid, "2022-12", inclusive_balance=1000, inclusive_borrowers=10, total_loans=5000),
                   row(iid, "2023-06", inclusive_balance=1030, inclusive_borrowers=10, total_loans=5400),
                   row(iid, "2023-12", inclusive_balance=1040, inclusive_borrowers=10, total_loans=5400)]
    plans = [{"institution_id": i, "year": 2023, "planned_increase": 50} for i in ("D", "D2")]
    ind = compute_indicators(make_dataset(inst, months, plans), policy)
    assert _at(ind, "D", "2023-06")["differentiated"]
    assert _at(ind, "D", "2023-06")["status_growth_leg"] == MET
    assert _at(ind, "D", "2023-12")["plan_completion_pct"] == pytest.approx(80.0)
    assert _at(ind, "D", "2023-12")["status_growth_leg"] == NOT_MET
    # D2 is differentiated only in 2022: in 2023 its growth leg is the ordinary comparison
    assert not _at(ind, "D2", "2023-06")["differentiated"]
    assert _at(ind, "D2", "2023-06")["status_growth_leg"] == NOT_MET


def test_rates(policy):
    ind = compute_indicators(_two_bank_dataset(), policy)
    r = _at(ind, "L1", "2023-06")
    assert r["ytd_new_loan_rate_pct"] == pytest.approx(5.8)  # 58 / 1000
    assert r["prior_year_rate_pct"] == pytest.approx(6.0)  # 120 / 2000
    assert r["rate_change_bp"] == pytest.approx(-20.0)
    assert r["month_new_loan_rate_pct"] == pytest.approx(11.4 / 200 * 100)  # (58-46.6)/(1000-800) = 5.7%
    assert r["status_rate_change"] == MET
    r2 = _at(ind, "L2", "2023-06")
    assert r2["rate_change_bp"] == pytest.approx(30.0)  # 6.3% vs 6.0%
    assert r2["status_rate_change"] == NOT_MET


def test_january_month_rate_is_the_ytd_rate(policy):
    ds = make_dataset([bank("J")], [
        row("J", "2023-01", inclusive_balance=1, inclusive_ytd_disbursed=100, inclusive_ytd_interest=7),
    ])
    assert _at(compute_indicators(ds, policy), "J", "2023-01")["month_new_loan_rate_pct"] == pytest.approx(7.0)


def test_high_rate_flag_against_category_peers(policy):
    # rates 5, 6, 7, 10: linear P75 = 7 + 0.25 * 3 = 7.75, median 6.5
    rates = {"A": 5.0, "B": 6.0, "C": 7.0, "D": 10.0}
    inst = [bank(i) for i in rates]
    months = []
    for i, rate in rates.items():
        months.append(row(i, "2022-12", inclusive_balance=1, inclusive_ytd_disbursed=100,
                          inclusive_ytd_interest=rate + (-0.5 if i == "C" else 0.5)))
        months.append(row(i, "2023-03", inclusive_balance=1, inclusive_ytd_disbursed=100, inclusive_ytd_interest=rate))
    ind = compute_indicators(make_dataset(inst, months), policy)
    d, c = _at(ind, "D", "2023-03"), _at(ind, "C", "2023-03")
    assert d["category_rate_median_pct"] == pytest.approx(6.5)
    assert d["category_rate_p75_pct"] == pytest.approx(7.75)
    assert d["high_rate"] and not c["high_rate"]
    assert d["rate_rank_in_category"] == 4 and d["rate_peer_count"] == 4
    assert d["rate_percentile_in_category"] == pytest.approx(100.0)
    assert _at(ind, "A", "2023-03")["rate_rank_in_category"] == 1
    assert d["status_high_rate"] == WATCH  # high but cut by 50 bp
    assert c["status_high_rate"] == MET


def test_high_rate_needs_enough_peers(policy):
    inst = [bank("A"), bank("B")]
    months = [row("A", "2023-03", inclusive_balance=1, inclusive_ytd_disbursed=100, inclusive_ytd_interest=5),
              row("B", "2023-03", inclusive_balance=1, inclusive_ytd_disbursed=100, inclusive_ytd_interest=15)]
    ind = compute_indicators(make_dataset(inst, months), policy)
    assert not _at(ind, "B", "2023-03")["high_rate"]
    assert _at(ind, "B", "2023-03")["status_high_rate"] == NA


def test_asset_quality(policy):
    ind = compute_indicators(_two_bank_dataset(), policy)
    r = _at(ind, "L1", "2023-06")
    assert r["inclusive_npl_ratio_pct"] == pytest.approx(3.0)  # 33 / 1100
    assert r["total_npl_ratio_pct"] == pytest.approx(100 / 5400 * 100)
    assert r["npl_gap_pp"] == pytest.approx(3.0 - 100 / 54)
    assert r["status_npl"] == MET
    r2 = _at(ind, "L2", "2023-06")  # 66 / 1050 = 6.2857% vs 1.8519%: gap 4.43 > 3
    assert r2["npl_gap_pp"] == pytest.approx(66 / 1050 * 100 - 100 / 54)
    assert r2["status_npl"] == NOT_MET


def test_structure_indicators(policy):
    r = _at(compute_indicators(_two_bank_dataset(), policy), "L1", "2023-06")
    assert r["credit_loan_share_pct"] == pytest.approx(22.0)  # 242 / 1100
    assert r["credit_loan_share_change_pp"] == pytest.approx(2.0)  # vs 200 / 1000
    assert r["first_loan_borrowers_yoy_change"] == -10  # 40 vs 50
    assert r["first_loan_borrowers_yoy_pct"] == pytest.approx(-20.0)
    assert r["renewal_share_pct"] == pytest.approx(15.0)  # 150 / 1000
    assert r["renewal_share_yoy_change_pp"] == pytest.approx(3.0)  # vs 120 / 1000
    assert r["mfg_midlong_ytd_growth_pct"] == pytest.approx(10.0)
    assert r["indiv_business_balance_change"] == pytest.approx(30.0)
    assert r["indiv_business_borrowers_change"] == -2
    assert r["status_indiv_business_borrowers_change"] == WATCH
    assert r["inclusive_share_pct"] == pytest.approx(1100 / 5400 * 100)
    assert r["inclusive_share_change_pp"] == pytest.approx(1100 / 5400 * 100 - 20.0)
    assert r["inclusive_balance_yoy_pct"] == pytest.approx(1100 / 950 * 100 - 100)


def test_missing_inputs_give_nan_not_zero(policy):
    r = _at(compute_indicators(_two_bank_dataset(), policy), "L2", "2023-06")
    assert math.isnan(r["credit_loan_share_pct"])
    assert math.isnan(r["first_loan_borrowers_yoy_change"])
    assert r["status_indiv_business_borrowers_change"] == NA


def test_insurer_indicators(policy):
    ins = bank("I", category="财产保险公司", entity_type="分支机构")
    ds = make_dataset([ins], [
        row("I", "2022-06", premium_ytd=100, policies_ytd=200, sum_insured_ytd=5000, claims_paid_ytd=30),
        row("I", "2023-06", premium_ytd=110, policies_ytd=250, sum_insured_ytd=4500, claims_paid_ytd=40),
    ])
    r = _at(compute_indicators(ds, policy), "I", "2023-06")
    assert r["premium_yoy_pct"] == pytest.approx(10.0)
    assert r["policies_yoy_pct"] == pytest.approx(25.0)
    assert r["sum_insured_yoy_pct"] == pytest.approx(-10.0)
    assert r["claims_paid_yoy_pct"] == pytest.approx(100 / 3)
    assert r["claims_to_premium_pct"] == pytest.approx(40 / 110 * 100)
    assert r["status_sum_insured_yoy_pct"] == WATCH
    assert r["status_two_increases"] == NA and r["status_npl"] == NA


def test_year_without_policy_gets_numbers_but_no_verdicts(policy):
    ds = make_dataset([bank("Y")], [
        row("Y", "2021-12", inclusive_balance=1000, inclusive_borrowers=1, total_loans=5000),
        row("Y", "2022-12", inclusive_balance=900, inclusive_borrowers=1, total_loans=5000),
    ])
    r = _at(compute_indicators(ds, policy), "Y", "2022-12")
    assert r["inclusive_ytd_growth_pct"] == pytest.approx(-10.0)
    assert r["status_growth_leg"] == NA


def test_citywide_figures_from_sums_not_averages(policy):
    ds = _two_bank_dataset()
    ds.institutions.loc[len(ds.institutions)] = {
        "institution_id": "BR", "name": "BR", "category": "大型商业银行", "entity_type": "分支机构",
        "county_code": "411302", "division": "大型银行监管科", "differentiated_years": ()}
    extra = make_dataset([bank("BR", category="大型商业银行", entity_type="分支机构")], [
        row("BR", "2022-12", inclusive_balance=4000, inclusive_borrowers=10, total_loans=50000),
        row("BR", "2023-06", inclusive_balance=4100, inclusive_borrowers=10, total_loans=51000)],
        [{"institution_id": "BR", "year": 2023, "planned_increase": 400}])
    import pandas as pd

    ds.monthly = pd.concat([ds.monthly, extra.monthly], ignore_index=True)
    ds.plans = pd.concat([ds.plans, extra.plans], ignore_index=True)
    city = citywide_figures(compute_indicators(ds, policy), policy)
    june = city.loc[pd.Timestamp("2023-06-30")]
    # legal banks: inclusive 2000 -> 2150 (+7.5%), all loans 10000 -> 10800 (+8%): overall 两增 missed
    assert june["legal_inclusive_growth_pct"] == pytest.approx(7.5)
    assert june["legal_total_loans_growth_pct"] == pytest.approx(8.0)
    assert not june["legal_two_increases_met"]
    assert june["legal_borrowers_change"] == 4  # 204 vs 200
    # plans: (100 + 50) / (200 + 50) = 60%, not the 75% average of 50% and 100%
    assert june["legal_plan_completion_pct"] == pytest.approx(60.0)
    assert june["branch_plan_completion_pct"] == pytest.approx(25.0)  # 100 / 400
    assert june["legal_count"] == 2 and june["branch_plan_count"] == 1


def test_onlending_against_prior_quarter_benchmark(policy):
    inst = [bank("R"), bank("PB", category="政策性银行", entity_type="分支机构")]
    months = [
        # Q1 flow: 300 at 18 -> 6.0%; Q2 flow: 700-300=400 at 40-18=22 -> 5.5%
        row("R", "2023-03", inclusive_balance=1, inclusive_ytd_disbursed=300, inclusive_ytd_interest=18),
        row("R", "2023-06", inclusive_balance=1, inclusive_ytd_disbursed=700, inclusive_ytd_interest=40),
        row("PB", "2023-06", inclusive_balance=1, inclusive_ytd_disbursed=10, inclusive_ytd_interest=0.3),
    ]
    ol = [{"institution_id": "PB", "quarter": "2023Q2", "onlending_amount": 1, "end_borrower_rate": 5.9},
          {"institution_id": "PB", "quarter": "2023Q3", "onlending_amount": 1, "end_borrower_rate": 5.6},
          {"institution_id": "PB", "quarter": "2023Q1", "onlending_amount": 1, "end_borrower_rate": 5.0}]
    ds = make_dataset(inst, months, onlending=ol)
    out = onlending_indicators(ds, compute_indicators(ds, policy), policy).set_index("quarter")
    assert out.loc["2023Q2", "benchmark_rate_pct"] == pytest.approx(6.0)
    assert out.loc["2023Q2", "rate_gap_bp"] == pytest.approx(-10.0)
    assert out.loc["2023Q2", "status_onlending"] == MET
    assert out.loc["2023Q3", "benchmark_rate_pct"] == pytest.approx(5.5)
    assert out.loc["2023Q3", "rate_gap_bp"] == pytest.approx(10.0)
    assert out.loc["2023Q3", "status_onlending"] == NOT_MET
    assert out.loc["2023Q1", "status_onlending"] == NA  # no 2022Q4 data: no benchmark
