"""The pipeline indicators of the financing coordination mechanism (融资协调工作机制) on six hand-made
pairs; every expected figure is counted by hand in the comments (period end 2025-06-30, window 30 days).

    pair  firm bank county list        contact     decision        loan (amount)   feedback
    1     A    B017 411302 2025-05-06  05-08       credit 05-20 100 05-25 (80) credit loan, 首贷
    2     A    B018 411302 2025-05-06  05-10       refused 05-30 (已获他行融资)
    3     B    B017 411302 2025-05-20  05-22       credit 06-25 50  06-28 (50) 无还本续贷
    4     C    B018 411303 2025-06-03  06-05       —
    5     D    B017 411303 2025-06-25  —           —                                no feedback
    6     E    B030 411321 2025-04-01  —           —                                no feedback

Deadlines (list + 30 days): 1, 2 → 06-05; 3 → 06-19; 4 → 07-03; 5 → 07-25; 6 → 05-01.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.core.dataset import FinancingTables
from analysis.core.financing import DEFAULT_FINANCING_PARAMS
from analysis.core.policy import FinancingRule, Policy
from analysis.inputs.financing import EXCLUDED_COLUMNS
from analysis.rules.financing import CITY, financing_figures

T = pd.Timestamp
NaT = pd.NaT


def pairs() -> pd.DataFrame:
    # fmt: off
    rows = [
        ("A", "B017", "411302", "2025-05-06", "2025-05-08", "2025-05-20", 100.0, "2025-05-25", 80.0, True, True, False, NaT, None, True, True),  # noqa: E501
        ("A", "B018", "411302", "2025-05-06", "2025-05-10", NaT, np.nan, NaT, np.nan, None, None, None, "2025-05-30", "已获他行融资", True, True),  # noqa: E501
        ("B", "B017", "411302", "2025-05-20", "2025-05-22", "2025-06-25", 50.0, "2025-06-28", 50.0, False, False, True, NaT, None, True, False),  # noqa: E501
        ("C", "B018", "411303", "2025-06-03", "2025-06-05", NaT, np.nan, NaT, np.nan, None, None, None, NaT, None, True, True),  # noqa: E501
        ("D", "B017", "411303", "2025-06-25", NaT, NaT, np.nan, NaT, np.nan, None, None, None, NaT, None, False, True),  # noqa: E501
        ("E", "B030", "411321", "2025-04-01", NaT, NaT, np.nan, NaT, np.nan, None, None, None, NaT, None, False, False),  # noqa: E501
    ]
    # fmt: on
    frame = pd.DataFrame(
        rows,
        columns=[
            "credit_code",
            "institution_id",
            "county_code",
            "list_date",
            "contact_date",
            "credit_date",
            "credit_amount",
            "loan_date",
            "loan_amount",
            "credit_loan",
            "first_loan",
            "no_repay_renewal",
            "refusal_date",
            "refusal_reason",
            "has_feedback",
            "from_visit",
        ],
    )  # fmt: skip
    for col in ("list_date", "contact_date", "credit_date", "loan_date", "refusal_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["firm_name"] = "企业" + frame["credit_code"]
    frame["batch"] = "第1批"
    frame["need_amount"] = 100.0
    frame["need_purpose"] = "流动资金"
    frame["refusal_note"] = None
    return frame


def tables() -> FinancingTables:
    return FinancingTables(pairs=pairs(), excluded=pd.DataFrame(columns=list(EXCLUDED_COLUMNS)))


def policy(**rule) -> Policy:
    financing = FinancingRule(clause="关于融资协调的要求", **rule) if rule else None
    return Policy(year=2025, notice="n", title="t", issuing_office="o", jurisdiction="南阳市", financing=financing)


TARGETS = {"decision_days": 30, "contact_rate_min_pct": 100.0, "decided_within_min_pct": 100.0}


@pytest.fixture
def figures():
    return financing_figures(tables(), "2025-06", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)


def test_bank_year_to_date_by_hand(figures):
    b = figures.row("bank", "B017", "ytd")
    # pushed 1, 3, 5; from a visit 1, 5; contacted 1 (05-08), 3 (05-22); decided and granted 1, 3;
    # lent 1, 3: 80 + 50 = 130; credit 100 + 50 = 150; credit loan 1 (80): 80 / 130 = 61.538…%
    assert (b["pushed"], b["pushed_visited"], b["contacted"], b["decided"], b["granted"], b["lent"]) == (
        3,
        2,
        2,
        2,
        2,
        2,
    )
    assert (b["credit_amount"], b["loan_amount"], b["credit_loan_amount"]) == (150.0, 130.0, 80.0)
    assert b["credit_loan_share_pct"] == pytest.approx(80 / 130 * 100)
    assert (b["first_loans"], b["renewals"], b["renewal_amount"]) == (1, 1, 50.0)
    # due: 1 (06-05) and 3 (06-19); 5's window ends 07-25. Both contacted; 1 decided on 05-20 ≤ 06-05,
    # 3 on 06-25 > 06-19: 50 %
    assert (b["due"], b["due_contacted"], b["due_decided_in_time"]) == (2, 2, 1)
    assert (b["contact_rate_pct"], b["decided_within_pct"], b["overdue"]) == (100.0, 50.0, 0)


def test_month_and_city_by_hand(figures):
    m = figures.row("bank", "B017", "month")
    # June: pushed 5; nothing contacted (3's contact is in May); 3 decided, granted and lent (50);
    # deadlines in June: 1 and 3
    assert (m["pushed"], m["contacted"], m["decided"], m["lent"], m["loan_amount"], m["due"]) == (1, 0, 1, 1, 50.0, 2)
    assert m["credit_loan_share_pct"] == 0.0
    c = figures.row("city", CITY, "ytd")
    # 6 pushed (4 from a visit: 1, 2, 4, 5); contacted 1, 2, 3, 4; decided 1, 2, 3; refused 2
    # due: 1, 2, 3, 6; contacted among them 1, 2, 3 = 75 %; in time 1, 2 = 50 %; overdue: 6
    assert (c["pushed"], c["pushed_visited"], c["contacted"], c["decided"], c["refused"]) == (6, 4, 4, 3, 1)
    assert (c["due"], c["contact_rate_pct"], c["decided_within_pct"], c["overdue"]) == (4, 75.0, 50.0, 1)
    county = figures.row("county", "411321", "ytd")
    assert (county["pushed"], county["pushed_visited"], county["overdue"]) == (1, 0, 1)
    assert figures.row("county", "411303", "ytd")["due"] == 0  # 4 and 5 still in their window
    assert np.isnan(figures.row("county", "411303", "ytd")["contact_rate_pct"])


def test_verdicts_overdue_and_reasons_by_hand(figures):
    v = figures.verdicts.set_index("institution_id")
    assert v.loc["B017", "status_contact"] == "met" and v.loc["B017", "status_decision"] == "not_met"
    assert v.loc["B018", "status_contact"] == "met" and v.loc["B018", "status_decision"] == "met"
    assert v.loc["B030", "status_contact"] == "not_met" and v.loc["B030", "status_decision"] == "not_met"
    overdue = figures.overdue("bank", "B030")
    # pushed 04-01, window ended 05-01, 60 days before 06-30 (30 in May + 30 in June)
    assert list(overdue["credit_code"]) == ["E"] and list(overdue["days_overdue"]) == [60]
    assert list(overdue["status"]) == ["未反馈"]
    assert figures.overdue("bank", "B017").empty
    r = figures.reasons
    assert r[(r["level"] == "city") & (r["window"] == "ytd")][["reason", "count", "rank"]].values.tolist() == [
        ["已获他行融资", 1, 1]
    ]
    status = figures.firms.set_index(["credit_code", "institution_id"])["status"]
    assert status[("A", "B017")] == "已放款" and status[("A", "B018")] == "未授信" and status[("C", "B018")] == "已对接"
    assert status[("D", "B017")] == "未反馈"


def test_a_past_period_ignores_later_events():
    f = financing_figures(tables(), "2025-05", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)
    b = f.row("bank", "B017", "ytd")
    # at 05-31: pushed 1, 3; 1 granted and lent; 3's credit of 06-25 not yet known; nothing due (06-05)
    assert (b["pushed"], b["granted"], b["lent"], b["loan_amount"], b["due"]) == (2, 1, 1, 80.0, 0)
    assert f.verdicts.set_index("institution_id").loc["B017", "status_decision"] == "n/a"
    status = f.firms.set_index(["credit_code", "institution_id"])["status"]
    assert status[("B", "B017")] == "已对接"
    # E: window ended 05-01, 30 days overdue at 05-31
    assert list(f.overdue("bank", "B030")["days_overdue"]) == [30]


def test_a_year_without_targets_judges_nothing_and_uses_the_params_window():
    f = financing_figures(tables(), "2025-06", policy(), DEFAULT_FINANCING_PARAMS)
    assert f.targets == {} and list(f.verdicts.columns) == ["institution_id"]
    assert f.decision_days == DEFAULT_FINANCING_PARAMS.decision_days


def test_a_longer_window_and_since():
    # 45 days: deadlines 1, 2 → 06-20; 3 → 07-04; 6 → 05-16. B017 due: 1 only, decided in time: 100 %
    f = financing_figures(tables(), "2025-06", policy(**{**TARGETS, "decision_days": 45}), DEFAULT_FINANCING_PARAMS)
    assert f.row("bank", "B017", "ytd")["decided_within_pct"] == 100.0
    # since 2025-05-01: E (pushed 04-01) is not judged, though still overdue
    g = financing_figures(tables(), "2025-06", policy(**TARGETS, since=date(2025, 5, 1)), DEFAULT_FINANCING_PARAMS)
    assert g.row("bank", "B030", "ytd")["due"] == 0 and g.row("bank", "B030", "ytd")["overdue"] == 1
    assert g.verdicts.set_index("institution_id").loc["B030", "status_contact"] == "n/a"


def _carried() -> FinancingTables:
    """The six pairs and three pushed in 2024 (hand-made, period 2025-06, window 30 days):

    pair  firm bank county list        contact     decision              deadline
    7     F    B017 411302 2024-12-10  2024-12-12  credit 2025-01-15 (60)  2025-01-09
    8     G    B030 411321 2024-11-01  —           —                       2024-12-01
    9     H    B018 411302 2024-12-20  2025-01-05  refused 2025-01-12      2025-01-19
    """
    extra = pairs().iloc[[0, 5, 1]].copy()
    extra["credit_code"] = ["F", "G", "H"]
    extra["institution_id"] = ["B017", "B030", "B018"]
    extra["county_code"] = ["411302", "411321", "411302"]
    extra["list_date"] = pd.to_datetime(["2024-12-10", "2024-11-01", "2024-12-20"])
    extra["contact_date"] = pd.to_datetime(["2024-12-12", None, "2025-01-05"])
    extra["credit_date"] = pd.to_datetime(["2025-01-15", None, None])
    extra["credit_amount"] = [60.0, np.nan, np.nan]
    extra["loan_date"] = pd.NaT
    extra["loan_amount"] = np.nan
    extra["refusal_date"] = pd.to_datetime([None, None, "2025-01-12"])
    extra["firm_name"] = "企业" + extra["credit_code"]
    return FinancingTables(
        pairs=pd.concat([pairs(), extra], ignore_index=True), excluded=pd.DataFrame(columns=list(EXCLUDED_COLUMNS))
    )


def test_events_count_when_they_happen_and_say_what_was_pushed_last_year():
    f = financing_figures(_carried(), "2025-06", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)
    c = f.row("city", CITY, "ytd")
    # pushed in 2025: 1–6 (F, G, H were pushed in 2024); contacted in 2025: 1, 2, 3, 4 and H (01-05);
    # decided in 2025: 1, 2, 3, F (01-15), H (01-12) = 5, of which F and H were pushed earlier: 2
    assert (c["pushed"], c["contacted"], c["decided"], c["decided_earlier"]) == (6, 5, 5, 2)
    # due in 2025: 1, 2, 3, 6 and F (01-09), H (01-19) = 6, of which F and H pushed earlier: 2;
    # G's window ended 2024-12-01: not due this year, yet overdue (no decision), its window before 2025
    assert (c["due"], c["due_earlier"], c["overdue"], c["overdue_earlier"]) == (6, 2, 2, 1)
    # in time: 1 (05-20 ≤ 06-05), 2 (05-30 ≤ 06-05), H (01-12 ≤ 01-19); F 01-15 > 01-09; 3 late; 6 none
    assert c["due_decided_in_time"] == 3
    b030 = f.row("bank", "B030", "ytd")
    assert (b030["overdue"], b030["overdue_earlier"], b030["due"]) == (2, 1, 1)
    assert f.first_list == T("2024-11-01") and f.has_lists()


def test_a_period_before_the_first_list_has_no_pipeline():
    f = financing_figures(tables(), "2024-12", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)
    assert not f.has_lists() and f.first_list == T("2025-04-01")  # E, the earliest of the six
    assert f.firms.empty and f.row("city", CITY, "ytd") is None


def test_rows_left_out_show_from_the_period_they_were_listed():
    excluded = pd.DataFrame(
        {
            "table": ["推荐清单", "银行反馈", "银行反馈"],
            "source": ["推荐清单.xlsx", "银行反馈.xlsx", "银行反馈.xlsx"],
            "row": [2, 3, 4],
            "institution_id": ["B017", "B018", "B099"],
            "credit_code": ["X1", "A", "Z9"],
            "firm_name": ["企业X1", "企业A", None],
            "county_code": ["411302", "411302", None],
            "batch": ["第1批", "第1批", None],
            "list_date": pd.to_datetime(["2025-05-06", "2025-07-02", None]),
            "rule": ["invalid_credit_code", "date_order", "feedback_not_pushed"],
            "detail": ["", "", ""],
        }
    )
    t = FinancingTables(pairs=pairs(), excluded=excluded)
    june = financing_figures(t, "2025-06", policy(**TARGETS), DEFAULT_FINANCING_PARAMS).excluded
    # listed 05-06: shown; listed 07-02: after the period; undated (a code on no list): shown once lists began
    assert sorted(june["credit_code"]) == ["X1", "Z9"]
    july = financing_figures(t, "2025-07", policy(**TARGETS), DEFAULT_FINANCING_PARAMS).excluded
    assert sorted(july["credit_code"]) == ["A", "X1", "Z9"]
    before = financing_figures(t, "2024-12", policy(**TARGETS), DEFAULT_FINANCING_PARAMS).excluded
    assert before.empty  # no firm pushed yet: nothing to chase
