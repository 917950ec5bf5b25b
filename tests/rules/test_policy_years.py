"""The rules of each policy year applied to that year's data, side by side: the 2024 notice drops the
borrower leg of 两增 and the rate rule, and judges local legal-person banks as a group (总体). Every
expected value below is worked out by hand from the rows written here; the policies are the shipped
``params/policy-2023.yaml`` and ``params/policy-2024.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.core.indicator_defs import load_indicator_params
from analysis.core.policy import load_policies
from analysis.rules.indicators import MET, NA, NOT_MET, citywide_figures, compute_indicators
from tests.conftest import make_dataset

ROOT = Path(__file__).resolve().parents[2]


def bank(iid, category, entity_type="法人机构"):
    return {"institution_id": iid, "name": iid, "category": category, "entity_type": entity_type}


def row(iid, period, balance, total, borrowers, interest):
    """One month-end: inclusive balance, all loans, borrowers, YTD interest on 1,000 disbursed."""
    return {
        "institution_id": iid,
        "period": period,
        "inclusive_balance": balance,
        "total_loans": total,
        "inclusive_borrowers": borrowers,
        "inclusive_ytd_disbursed": 1000.0,
        "inclusive_ytd_interest": interest,
        "total_npl": 0.0,
        "inclusive_npl": 0.0,
    }


#: L1 (农商, legal): +10 % against all loans' +8 % both years, borrowers −5 each year; rate 6.0 % →
#: 6.2 % → 6.5 %. L2 (村镇, legal): +2 % against +5 % both years. A (大型, branch): 2024 +4 % against
#: +5 %. C (城商 branch): in neither year's subjects.
INSTITUTIONS = [
    bank("L1", "农村商业银行"),
    bank("L2", "村镇银行"),
    bank("A", "大型商业银行", "分支机构"),
    bank("C", "城市商业银行", "分支机构"),
]
MONTHLY = [
    row("L1", "2022-12", 1000, 5000, 100, 60),
    row("L1", "2023-12", 1100, 5400, 95, 62),
    row("L1", "2024-12", 1210, 5832, 90, 65),
    row("L2", "2022-12", 200, 1000, 50, 60),
    row("L2", "2023-12", 204, 1050, 50, 60),
    row("L2", "2024-12", 208.08, 1102.5, 50, 60),
    row("A", "2022-12", 480, 1900, 40, 50),
    row("A", "2023-12", 500, 2000, 40, 50),
    row("A", "2024-12", 520, 2100, 40, 50),
    row("C", "2023-12", 300, 1000, 30, 50),
    row("C", "2024-12", 300, 1100, 30, 50),
]


@pytest.fixture(scope="module")
def indicators():
    """L1 (农商, legal): +10 % against all loans' +8 % both years, borrowers −5 each year; rate
    6.0 % → 6.2 % → 6.5 %. L2 (村镇, legal): +2 % against +5 % both years. A (大型, branch): 2024
    +4 % against +5 %. C (城商 branch): in neither year's subjects."""
    ds = make_dataset(INSTITUTIONS, MONTHLY)
    policies = load_policies(ROOT / "params")
    ind = compute_indicators(ds, policies, load_indicator_params(ROOT / "params"))
    ind = ind.set_index(["institution_id", "year"])
    return ind, policies


def test_a_bank_that_grows_but_loses_borrowers_misses_2023_and_meets_2024(indicators):
    ind, _ = indicators
    # 2023: growth 10 − 8 = +2 pp (met), borrowers 95 − 100 = −5 (not met) → 两增 未达标
    y23 = ind.loc[("L1", 2023)]
    assert (y23["status_growth_leg"], y23["status_borrowers_leg"], y23["status_two_increases"]) == (
        MET,
        NOT_MET,
        NOT_MET,
    )
    # 2024: no borrower leg at all (n/a because the notice has none), the target is growth alone
    y24 = ind.loc[("L1", 2024)]
    assert y24["status_borrowers_leg"] == NA and y24["na_reason_borrowers_leg"] == "not_in_policy"
    assert y24["borrowers_change"] == -5  # the figure is still computed, for information
    assert y24["status_two_increases"] == MET


def test_a_local_legal_bank_that_misses_growth_is_met_when_its_group_meets(indicators):
    ind, _ = indicators
    # 2023, judged alone: 2 % against 5 % → 未达标
    assert ind.loc[("L2", 2023), "status_growth_leg"] == NOT_MET
    # 2024, 地方法人银行 as a group (L1 + L2): balances 1,304 → 1,418.08 (+8.7485 %), all loans
    # 6,450 → 6,934.5 (+7.5116 %): margin +1.2369 pp → met, and both members carry it
    for iid in ("L1", "L2"):
        r = ind.loc[(iid, 2024)]
        assert r["growth_group"] == "地方法人银行"
        assert r["status_growth_leg"] == MET and r["status_two_increases"] == MET
        assert r["group_count"] == 2
        assert r["group_inclusive_growth_pct"] == pytest.approx(114.08 / 1304 * 100)
        assert r["group_total_loans_growth_pct"] == pytest.approx(484.5 / 6450 * 100)
        assert r["group_growth_margin_pp"] == pytest.approx(114.08 / 1304 * 100 - 484.5 / 6450 * 100)
    # L2's own margin stays its own (2 − 5 = −3 pp) and its share of the group's increase is 4.08 / 114.08
    assert ind.loc[("L2", 2024), "growth_margin_pp"] == pytest.approx(-3.0)
    assert ind.loc[("L2", 2024), "group_increase_share_pct"] == pytest.approx(4.08 / 114.08 * 100)


def test_large_banks_are_judged_each_and_city_branches_of_other_banks_not_at_all(indicators):
    ind, _ = indicators
    # A: 2023 only legal banks were subjects; 2024 large-bank branches each: 4 % against 5 % → 未达标
    assert ind.loc[("A", 2023), "status_growth_leg"] == NA
    assert ind.loc[("A", 2023), "na_reason_growth_leg"] == "not_subject"
    assert ind.loc[("A", 2024), "status_growth_leg"] == NOT_MET
    assert ind.loc[("A", 2024), "growth_group"] == ""
    # C: a city commercial bank's branch is neither judged each nor a member of the local legal group
    assert ind.loc[("C", 2024), "status_growth_leg"] == NA
    assert ind.loc[("C", 2024), "na_reason_growth_leg"] == "not_subject"


def test_a_rate_rise_is_a_2023_shortfall_and_nothing_in_2024(indicators):
    ind, _ = indicators
    # 2023: 6.2 % against 6.0 % → +20 bp > 0 → 未达标; 2024: 6.5 % against 6.2 % (+30 bp), no rule
    assert ind.loc[("L1", 2023), "rate_change_bp"] == pytest.approx(20)
    assert ind.loc[("L1", 2023), "status_rate_change"] == NOT_MET
    assert ind.loc[("L1", 2024), "rate_change_bp"] == pytest.approx(30)
    assert ind.loc[("L1", 2024), "status_rate_change"] == NA
    assert ind.loc[("L1", 2024), "na_reason_rate_change"] == "not_in_policy"
    assert ind.loc[("L1", 2024), "status_high_rate"] == NA


def test_the_city_figure_of_2024_is_the_groups(indicators):
    ind, policies = indicators
    city = citywide_figures(ind.reset_index(), policies)
    c23 = city.loc["2023-12-31"]
    # 2023, legal banks L1 + L2: 1,200 → 1,304 (+8.6667 %), 6,000 → 6,450 (+7.5 %), borrowers 150 → 145
    assert c23["legal_count"] == 2 and c23["legal_inclusive_growth_pct"] == pytest.approx(104 / 12)
    assert not c23["legal_two_increases_met"]  # the borrower leg fell by 5
    c24 = city.loc["2024-12-31"]
    assert c24["legal_count"] == 2
    assert c24["legal_growth_margin_pp"] == pytest.approx(114.08 / 1304 * 100 - 484.5 / 6450 * 100)
    assert c24["legal_borrowers_change"] == -5  # shown nowhere in 2024, and not part of the verdict
    assert bool(c24["legal_two_increases_met"])


def test_2023_has_every_rule_and_2024_says_which_it_lacks():
    policies = load_policies(ROOT / "params")
    p23, p24 = policies[2023], policies[2024]
    rules = ("two_increases", "growth_leg", "borrowers_leg", "plan", "rate_change", "high_rate", "npl", "onlending")
    assert all(p23.in_force(k) for k in rules)
    assert [k for k in rules if not p24.in_force(k)] == ["borrowers_leg", "rate_change", "high_rate"]
    assert p23.label("two_increases") == "“两增”" and p24.label("two_increases") == "普惠型小微企业贷款增速"
    assert p24.clause("rate_change") == "" and p24.recommendation("rate_change") == ""
    assert "第（" not in p24.clause("growth_leg")  # 2024 is not cited by 2023's clause numbers


# ---------------------------------------------------------------- what the reports and documents say


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    from analysis.state import state_from_dataset

    institutions = [i for i in INSTITUTIONS if i["institution_id"] != "C"]  # C adds nothing to the reports
    monthly = [r for r in MONTHLY if r["institution_id"] != "C"]
    plans = [
        {"institution_id": iid, "year": year, "planned_increase": planned}
        for iid, year, planned in [("L1", 2023, 100), ("L1", 2024, 100), ("L2", 2023, 4), ("L2", 2024, 4)]
        + [("A", 2023, 20), ("A", 2024, 20)]
    ]
    ds = make_dataset(institutions, monthly, plans)
    folder = tmp_path_factory.mktemp("years")
    return state_from_dataset(ds, load_policies(ROOT / "params"), folder, ROOT / "params")


def _context(state, iid, period):
    from analysis.content.institution import institution_context

    return institution_context(iid, period, state=state)


def test_the_2024_report_has_no_borrower_leg_no_rate_rule_and_cites_the_2024_notice(state):
    from analysis.content.institution import findings, indicator_rows, verdicts

    ctx = _context(state, "L1", "2024-12")
    keys = [v.key for v in verdicts(ctx)]
    assert "borrowers_leg" not in keys and "rate_change" not in keys and "high_rate" not in keys
    growth = next(v for v in verdicts(ctx) if v.key == "growth_leg")
    assert growth.label == "普惠型小微企业贷款增速" and growth.status == MET
    assert growth.clause == "关于“保量”的要求"
    # its own figure and its share of the group's increase (110 / 114.08 = 96.42 %), no other member
    assert "按地方法人银行总体考核" in growth.text and "96.42%" in growth.text
    assert "L2" not in growth.text and "4.08" not in growth.text
    f = findings(ctx)
    text = "".join(f.issues + f.strengths + f.recommendations)
    assert "户数" not in text and "两增" not in text and "利率" not in text
    assert "第（" not in text  # no 2023 clause number
    table = indicator_rows(ctx)
    judged = table[table["状态"] != ""]
    assert not judged["指标"].str.contains("有贷款余额户数").any()  # shown for information only, without a verdict
    assert not judged["依据条款"].str.contains("第（").any()


def test_the_2023_report_of_the_same_bank_keeps_2023_rules(state):
    from analysis.content.institution import verdicts

    v = {x.key: x for x in verdicts(_context(state, "L1", "2023-12"))}
    assert v["borrowers_leg"].status == NOT_MET and v["borrowers_leg"].label == "“两增”·贷款户数"
    assert v["rate_change"].status == NOT_MET and v["growth_leg"].clause == "第（一）条及脚注1"


def test_the_2024_overview_lists_and_defines_only_2024_targets(state):
    from analysis.content import overview

    ctx = overview.city_context("2024-12", state=state)
    lists = overview.target_lists(ctx)
    assert [t.title for t in lists] == [
        "普惠型小微企业贷款增速未达标",
        "信贷计划未完成",
        "不良率超出容忍度",
        "转贷款终端利率未达标",  # kept from 2023 in policy-2024.yaml; no on-lending bank here: an empty list
    ]
    assert lists[-1].rows.empty
    assert list(lists[0].rows["institution_id"]) == ["A"]  # 4 % against 5 %, judged each
    assert "borrowers_change" not in lists[0].rows
    city = str(overview.citywide_section(ctx))
    assert "辖内地方法人银行总体普惠型小微企业贷款增速" in city and "户数" not in city
    html = str(overview.missing_targets(ctx)) + str(overview.by_group(ctx, "category"))
    assert "户数" not in html and "两增" not in html and "利率上升" not in html


def test_the_2024_letter_charges_only_2024_rules(state):
    from datetime import date

    from analysis.outputs.documents.letter import letter_context
    from analysis.outputs.documents.templates import DocumentSettings

    letter = letter_context(_context(state, "A", "2024-12"), date(2025, 1, 20), DocumentSettings())
    assert letter is not None
    assert [s["key"] for s in letter["shortfalls"]] == ["growth_leg"]
    assert letter["shortfalls"][0]["citation"] == "金办发〔2024〕26号关于“保量”的要求"
    assert letter["notice"] == "金办发〔2024〕26号"
    # L1 meets every 2024 rule through its group: no letter, although 2023 gave it two shortfalls
    assert letter_context(_context(state, "L1", "2024-12"), date(2025, 1, 20), DocumentSettings()) is None
