"""Indicators of the financing coordination mechanism (融资协调工作机制): the 推荐—对接—授信—放款
pipeline per bank, per county and for the city, for the month and the year to date.

One call, :func:`financing_figures`, computes every figure of one period end from the checked pairs
(:class:`~analysis.core.dataset.FinancingTables`) with vectorised pandas: a boolean column per
measure and window, summed by one ``groupby`` per level. The measured choice against DuckDB is in
``benchmarks/README.md`` (10⁶ feedback rows: see ``benchmarks/bench_financing.py``).

Two kinds of figure, kept apart on purpose:

* **flows** (what happened in the window, as the national statistics count it: 新增授信, 新发放贷款):
  pairs pushed (推荐日期 in the window), contacted (对接日期), decided (授信 or 未授信 dated in the window),
  granted and their credit amount, lent and the loan amount, of which 信用贷款 (count, amount and share
  of the amount), 首贷户 and 无还本续贷; refusals by reason (ranked). Each event counts in the window
  it happened in, whenever the firm was pushed: the year's credit and loans reconcile with the banks'
  own 新增 statistics, and a firm pushed in December and decided in January counts in January. So a
  window's decisions may outnumber its pushes; ``decided_earlier`` says how many of them concern firms
  pushed before the window (上年 or 此前推送), and the reports say so beside every pipeline table;
* **service rates** (what the targets judge), on the firms *due*: those whose decision window
  (``decision_days`` from 推荐日期) ended in the window. 对接率 ``contact_rate_pct`` = due firms the bank had
  contacted by the period end (a decision counts as contact) ÷ due firms; 按时办结率
  ``decided_within_pct`` = due firms decided within the window ÷ due firms. A firm pushed in the last
  ``decision_days`` is still in progress (办理中) and judged when its window ends, so a bank is never
  judged on a firm it got last week.

**Overdue** (超期未办结) firms at the period end: pushed more than ``decision_days`` before it, with no
decision by it — whatever the window; the list each bank can act on. ``overdue_earlier`` counts those
whose window ended before the window's start (for the year: in an earlier year, so not among the
year's ``due`` firms): the reports split the overdue count by it.

Rows left out of the figures (:attr:`FinancingFigures.excluded`) are those listed (推荐日期) by the
period end; a row without a usable 推荐日期 (a feedback row whose code is on no list) is shown in
every period once a firm has been pushed.

Everything dated after the period end is ignored, so a past period is computed from later data as it
stood then. The window, the targets and ``since`` (firms pushed earlier are not judged) come from the
policy of the period's year (``financing:`` of ``policy-YYYY.yaml``); a year without that section uses
the window of ``params/financing.yaml`` and judges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core.compare import at_least
from analysis.core.dataset import FinancingTables
from analysis.core.financing import (
    CONTACTED,
    GRANTED,
    LENT,
    NO_FEEDBACK,
    NOT_CONTACTED,
    REFUSED,
    FinancingParams,
)
from analysis.core.policy import FinancingRule, Policy
from analysis.core.status import MET, NA, NOT_MET

#: the scopes figures are given for: each bank, each county (the 推荐清单's county), the city
LEVELS = ("bank", "county", "city")
#: the key of the city's row
CITY = "全市"
#: the windows: the period's month, the year to its end
WINDOWS = ("month", "ytd")

#: flow counts (户) and amounts (万元), with their Chinese labels (the reports' and workbooks' headers)
COUNT_MEASURES: dict[str, str] = {
    "pushed": "推送企业（户次）",
    "pushed_visited": "其中来自走访（户次）",
    "contacted": "对接（户次）",
    "decided": "作出授信决定（户次）",
    "decided_earlier": "其中此前推送企业（户次）",
    "granted": "授信（户次）",
    "refused": "未授信（户次）",
    "lent": "放款（户次）",
    "credit_loans": "其中信用贷款（户次）",
    "first_loans": "其中首贷户（户次）",
    "renewals": "其中无还本续贷（户次）",
    "due": "办结时限届满（户次）",
    "due_contacted": "其中已对接（户次）",
    "due_decided_in_time": "其中按时办结（户次）",
    "due_earlier": "其中此前推送企业（户次）",
    "overdue": "超期未办结（户次）",
    "overdue_earlier": "其中办结时限此前届满（户次）",
}
AMOUNT_MEASURES: dict[str, str] = {
    "credit_amount": "授信金额（万元）",
    "loan_amount": "放款金额（万元）",
    "credit_loan_amount": "其中信用贷款金额（万元）",
    "first_loan_amount": "其中首贷户放款金额（万元）",
    "renewal_amount": "其中无还本续贷金额（万元）",
}
RATE_MEASURES: dict[str, str] = {
    "contact_rate_pct": "对接率（%）",
    "decided_within_pct": "按时办结率（%）",
    "credit_loan_share_pct": "信用贷款占放款金额比重（%）",
}
#: every measure's label
MEASURE_LABELS: dict[str, str] = {**COUNT_MEASURES, **AMOUNT_MEASURES, **RATE_MEASURES}

#: the targets a policy may set: (verdict column, rate, the FinancingRule field of its minimum, label)
TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("status_contact", "contact_rate_pct", "contact_rate_min_pct", "推荐企业对接率"),
    ("status_decision", "decided_within_pct", "decided_within_min_pct", "推荐企业按时办结率"),
)

#: columns of :attr:`FinancingFigures.firms`
FIRM_COLUMNS = (
    "county_code",
    "institution_id",
    "credit_code",
    "firm_name",
    "batch",
    "list_date",
    "from_visit",
    "need_amount",
    "need_purpose",
    "deadline",
    "status",
    "contact_date",
    "decision_date",
    "credit_date",
    "credit_amount",
    "loan_date",
    "loan_amount",
    "credit_loan",
    "first_loan",
    "no_repay_renewal",
    "refusal_reason",
    "refusal_note",
    "overdue",
    "days_overdue",
)


@dataclass
class FinancingFigures:
    """Every figure of the mechanism at one period end (:func:`financing_figures`).

    ``summary``: one row per level (``bank`` / ``county`` / ``city``), key (institution_id, county
    code, :data:`CITY`) and window (``month`` / ``ytd``), with every measure of :data:`MEASURE_LABELS`.
    ``verdicts``: one row per bank with a judged target: ``status_contact``, ``status_decision``
    (met / not_met / n/a; the column is absent when the year sets no such target), on the
    year-to-date rates. ``reasons``: refusals in the window by level, key, window and reason,
    ranked (1 = most frequent). ``firms``: every pair pushed by the period end with its status then
    (:data:`~analysis.core.financing.STATUSES`), its window's end (``deadline``) and whether it is
    overdue. ``excluded``: the rows left out of the figures (the loader's) listed by the period end
    (module docstring), for the banks to correct. ``first_list``: the data's first 推荐日期 (None
    without any), for a period before the lists began.
    """

    period: pd.Timestamp
    decision_days: int
    rule: FinancingRule | None
    summary: pd.DataFrame
    verdicts: pd.DataFrame
    reasons: pd.DataFrame
    firms: pd.DataFrame
    excluded: pd.DataFrame
    targets: dict[str, float] = field(default_factory=dict)
    first_list: pd.Timestamp | None = None

    def has_lists(self) -> bool:
        """Whether any firm had been pushed by the period end (else the lists began later)."""
        return self.row("city", CITY, "ytd") is not None

    def row(self, level: str, key: str, window: str = "ytd") -> pd.Series | None:
        """The figures of one scope and window (None when it has none: no firm pushed to it)."""
        s = self.summary
        hit = s[(s["level"] == level) & (s["key"] == key) & (s["window"] == window)]
        return None if hit.empty else hit.iloc[0]

    def overdue(self, level: str | None = None, key: str | None = None) -> pd.DataFrame:
        """The overdue firms (超期未办结), oldest first; of one bank or county when given."""
        firms = self.firms[self.firms["overdue"]]
        if level == "bank":
            firms = firms[firms["institution_id"] == key]
        elif level == "county":
            firms = firms[firms["county_code"] == key]
        return firms.sort_values(["list_date", "institution_id", "credit_code"], kind="stable")


def decision_window(policy: Policy | None, params: FinancingParams) -> int:
    """Days from 推荐日期 to the decision: the policy year's, else ``params/financing.yaml``'s."""
    if policy is not None and policy.financing is not None:
        return policy.financing.decision_days
    return params.decision_days


def _empty_summary() -> pd.DataFrame:
    return pd.DataFrame(columns=["level", "key", "window", *MEASURE_LABELS])


def financing_figures(
    tables: FinancingTables, period: pd.Timestamp | str, policy: Policy | None, params: FinancingParams
) -> FinancingFigures:
    """Every figure of the mechanism at the month-end ``period`` (module docstring), judged by
    ``policy`` (the period's year; None or without ``financing:``: no verdicts)."""
    end = pd.Timestamp(period) + pd.offsets.MonthEnd(0)
    rule = policy.financing if policy is not None else None
    days = decision_window(policy, params)
    window = pd.Timedelta(days=days)
    p = tables.pairs
    first_list = _first_list(tables)
    p = p[p["list_date"] <= end]
    known = {c: p[c].where(p[c] <= end) for c in ("contact_date", "credit_date", "loan_date", "refusal_date")}
    decision = known["credit_date"].fillna(known["refusal_date"])
    contact = known["contact_date"].fillna(decision)  # a decision implies the firm was contacted
    deadline = p["list_date"] + window
    judged = (
        pd.Series(True, index=p.index)
        if rule is None or rule.since is None
        else p["list_date"] >= pd.Timestamp(rule.since)
    )
    lent = known["loan_date"].notna()
    flag = {c: p[c].fillna(False).astype(bool) for c in ("credit_loan", "first_loan", "no_repay_renewal", "from_visit")}
    overdue = (deadline < end) & decision.isna()

    def within(dates: pd.Series, start: pd.Timestamp) -> np.ndarray:
        return ((dates >= start) & (dates <= end)).to_numpy()

    columns: dict[str, np.ndarray] = {}
    starts = {"month": end.replace(day=1), "ytd": pd.Timestamp(year=end.year, month=1, day=1)}
    parts = []
    for name, start in starts.items():
        pushed = within(p["list_date"], start)
        earlier = (p["list_date"] < start).to_numpy()
        lent_in = within(known["loan_date"], start) & lent.to_numpy()
        granted_in = within(known["credit_date"], start)
        due = within(deadline, start) & judged.to_numpy()
        loan = p["loan_amount"].fillna(0).to_numpy()
        columns = {
            "pushed": pushed,
            "pushed_visited": pushed & flag["from_visit"].to_numpy(),
            "contacted": within(known["contact_date"], start),
            "decided": within(decision, start),
            "decided_earlier": within(decision, start) & earlier,
            "granted": granted_in,
            "refused": within(known["refusal_date"], start),
            "lent": lent_in,
            "credit_loans": lent_in & flag["credit_loan"].to_numpy(),
            "first_loans": lent_in & flag["first_loan"].to_numpy(),
            "renewals": lent_in & flag["no_repay_renewal"].to_numpy(),
            "due": due,
            "due_contacted": due & contact.notna().to_numpy(),
            "due_decided_in_time": due & (decision <= deadline).to_numpy(),
            "due_earlier": due & earlier,
            "overdue": overdue.to_numpy(),
            "overdue_earlier": overdue.to_numpy() & (deadline < start).to_numpy(),
        }
        frame = pd.DataFrame({k: v.astype(np.int64) for k, v in columns.items()}, index=p.index)
        frame["credit_amount"] = np.where(granted_in, p["credit_amount"].fillna(0).to_numpy(), 0.0)
        frame["loan_amount"] = np.where(lent_in, loan, 0.0)
        frame["credit_loan_amount"] = np.where(columns["credit_loans"], loan, 0.0)
        frame["first_loan_amount"] = np.where(columns["first_loans"], loan, 0.0)
        frame["renewal_amount"] = np.where(columns["renewals"], loan, 0.0)
        for level, keys in (("bank", p["institution_id"]), ("county", p["county_code"]), ("city", None)):
            if keys is None:
                sums = frame.sum().to_frame().T.assign(key=CITY)
            else:
                sums = frame.groupby(keys.to_numpy(), sort=True).sum()
                sums = sums.rename_axis("key").reset_index()
            parts.append(sums.assign(level=level, window=name))
    summary = pd.concat(parts, ignore_index=True) if parts and len(p) else _empty_summary()
    if len(summary):
        summary = _rates(summary)
        summary = summary[["level", "key", "window", *MEASURE_LABELS]]
    targets = {}
    if rule is not None:
        targets = {
            rate: getattr(rule, minimum) for _, rate, minimum, _ in TARGETS if getattr(rule, minimum) is not None
        }
    firms = _firms(p, known, decision, deadline, overdue, end)
    return FinancingFigures(
        period=end,
        decision_days=days,
        rule=rule,
        summary=summary.reset_index(drop=True),
        verdicts=_verdicts(summary, rule),
        reasons=_reasons(p, known["refusal_date"], starts, end),
        firms=firms,
        excluded=_excluded_by(tables.excluded, end, started=len(p) > 0),
        targets=targets,
        first_list=first_list,
    )


def _first_list(tables: FinancingTables) -> pd.Timestamp | None:
    """The data's first 推荐日期, of the usable pairs and the rows left out."""
    dates = [tables.pairs["list_date"]]
    if "list_date" in tables.excluded:
        dates.append(pd.to_datetime(tables.excluded["list_date"]))
    first = pd.concat(dates).min()
    return None if pd.isna(first) else pd.Timestamp(first)


def _excluded_by(excluded: pd.DataFrame, end: pd.Timestamp, started: bool) -> pd.DataFrame:
    """The rows left out that were listed by ``end``; the undated ones once a firm has been pushed."""
    if "list_date" not in excluded:
        return excluded.reset_index(drop=True)
    listed = pd.to_datetime(excluded["list_date"])
    keep = (listed <= end) | (listed.isna() & started)
    return excluded[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def _rates(summary: pd.DataFrame) -> pd.DataFrame:
    """The rates of each row: shares in % (NaN where the denominator is zero)."""
    out = summary.copy()
    for col in COUNT_MEASURES:
        out[col] = out[col].astype(np.int64)

    def share(part: str, whole: str) -> pd.Series:
        whole_values = out[whole].astype(float)
        return (out[part].astype(float) / whole_values.where(whole_values > 0)) * 100

    out["contact_rate_pct"] = share("due_contacted", "due")
    out["decided_within_pct"] = share("due_decided_in_time", "due")
    out["credit_loan_share_pct"] = share("credit_loan_amount", "loan_amount")
    return out


def _verdicts(summary: pd.DataFrame, rule: FinancingRule | None) -> pd.DataFrame:
    """Per bank, on the year-to-date rates: each target of ``rule`` met, not met, or n/a (no firm due)."""
    banks = summary[(summary["level"] == "bank") & (summary["window"] == "ytd")] if len(summary) else summary.iloc[0:0]
    out = pd.DataFrame({"institution_id": banks["key"].to_numpy()})
    if rule is None:
        return out
    for status, rate, minimum, _ in TARGETS:
        target = getattr(rule, minimum)
        if target is None:
            continue
        values = banks[rate].to_numpy(dtype=float)
        met = at_least(values, target)
        out[status] = np.where(np.isnan(values), NA, np.where(met, MET, NOT_MET))
        out[rate] = values
    return out


def _reasons(
    p: pd.DataFrame, refusal_date: pd.Series, starts: dict[str, pd.Timestamp], end: pd.Timestamp
) -> pd.DataFrame:
    """Refusals in each window by level, key and reason, ranked within each (1 = most frequent; ties
    share a rank, listed in the order of the closed list's text)."""
    parts = []
    for name, start in starts.items():
        sel = p[((refusal_date >= start) & (refusal_date <= end)).to_numpy()]
        for level, key in (("bank", sel["institution_id"]), ("county", sel["county_code"]), ("city", None)):
            keys = pd.Series(CITY, index=sel.index) if key is None else key
            counts = (
                pd.DataFrame({"key": keys, "reason": sel["refusal_reason"]})
                .value_counts()
                .rename("count")
                .reset_index()
            )
            parts.append(counts.assign(level=level, window=name))
    if not parts or all(x.empty for x in parts):
        return pd.DataFrame(columns=["level", "key", "window", "reason", "count", "rank"])
    out = pd.concat(parts, ignore_index=True)
    out["rank"] = out.groupby(["level", "key", "window"])["count"].rank(method="min", ascending=False).astype(int)
    out = out.sort_values(["level", "key", "window", "rank", "reason"], kind="stable").reset_index(drop=True)
    return out[["level", "key", "window", "reason", "count", "rank"]]


def _firms(
    p: pd.DataFrame,
    known: dict[str, pd.Series],
    decision: pd.Series,
    deadline: pd.Series,
    overdue: pd.Series,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Every pair pushed by ``end`` with its status at ``end`` (what the county workbook lists)."""
    status = np.select(
        [
            ~p["has_feedback"].to_numpy(dtype=bool),
            known["loan_date"].notna().to_numpy(),
            known["credit_date"].notna().to_numpy(),
            known["refusal_date"].notna().to_numpy(),
            known["contact_date"].notna().to_numpy(),
        ],
        [NO_FEEDBACK, LENT, GRANTED, REFUSED, CONTACTED],
        default=NOT_CONTACTED,
    )
    out = p.assign(
        deadline=deadline,
        status=status,
        contact_date=known["contact_date"],
        decision_date=decision,
        credit_date=known["credit_date"],
        loan_date=known["loan_date"],
        overdue=overdue.to_numpy(dtype=bool),
        days_overdue=np.where(overdue, (end - deadline).dt.days, 0),
    )
    # what the bank fed back about a later step is not yet known at ``end``
    out["credit_amount"] = out["credit_amount"].where(known["credit_date"].notna())
    for col in ("loan_amount", "credit_loan", "first_loan", "no_repay_renewal"):
        out[col] = out[col].where(known["loan_date"].notna())
    for col in ("refusal_reason", "refusal_note"):
        out[col] = out[col].where(known["refusal_date"].notna())
    return out[list(FIRM_COLUMNS)].reset_index(drop=True)


__all__ = [
    "AMOUNT_MEASURES",
    "CITY",
    "COUNT_MEASURES",
    "FIRM_COLUMNS",
    "FinancingFigures",
    "LEVELS",
    "MEASURE_LABELS",
    "RATE_MEASURES",
    "TARGETS",
    "WINDOWS",
    "decision_window",
    "financing_figures",
]
