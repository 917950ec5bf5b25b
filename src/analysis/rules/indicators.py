"""The indicator engine (指标计算): every indicator of a policy year's notice, for every
institution and every month-end at once.

Pure functions over DataFrames. Comparisons with the start of the year use the prior December
(上年末); comparisons with the same period last year use the same month a year earlier.
Ratios are NaN, never zero, when their denominator is missing or not positive; a status is
``"n/a"`` when the rule does not apply or cannot be judged.

Status values: ``met`` (达标), ``not_met`` (未达标), ``watch`` (关注), ``n/a`` (不适用).
Every comparison of a figure with its standard goes through :mod:`analysis.core.compare` (figures equal
in the source data are equal in the verdict). Every ``n/a`` carries a machine-readable reason in
``na_reason_<rule>`` (codes in :data:`NA_REASONS`, Chinese text by :func:`na_reason_text`).

Choices where the notice leaves one (stated here and in the reports):

* **Zero start-of-year balance** (a bank that began inclusive lending this year): the growth rate
  is undefined (NaN, shown —), but growth from zero to a positive balance is not lower than any
  all-loan growth, so the growth leg of 两增 is met, flagged ``growth_leg_zero_base`` with the note
  :data:`ZERO_BASE_NOTE`.
* **No prior December** (a new institution, or one that did not report it): every figure that
  needs the start-of-year base is NaN and its verdict ``n/a`` with reason ``missing_base``; the
  rest is judged as usual.

Why this module is long: the indicators depend on one another in the notice's order (balances →
growth → 两增 → plan → rates → quality → structure → city-wide figures) and are computed in one
vectorised pass over all institutions and months; split, that order would be hidden across files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.core.columns import IDENTITY_COLUMNS, INDICATOR_COLUMNS, STATUS_COLUMNS
from analysis.core.compare import at_least, at_most, below, exceeds, is_zero, snap_zero
from analysis.core.contract import BANK_CATEGORIES, INSURER_CATEGORIES, LEGAL_ENTITY, MONTHLY
from analysis.core.dataset import Dataset
from analysis.core.indicator_defs import IndicatorParams
from analysis.core.policy import Policy
from analysis.core.status import MET, NA, NOT_MET, WATCH

_BASE_COLUMNS = [
    "inclusive_balance",
    "bill_discount_balance",
    "inclusive_borrowers",
    "total_loans",
    "credit_loan_balance",
    "mfg_midlong_balance",
    "indiv_business_balance",
    "indiv_business_borrowers",
    "above10m_balance",
    "guaranteed_balance",
    "scitech_balance",
    "inclusive_ytd_interest",
    "inclusive_ytd_disbursed",
]
_LAST_YEAR_COLUMNS = [
    "inclusive_balance",
    "bill_discount_balance",
    "first_loan_ytd_borrowers",
    "renewal_ytd_amount",
    "inclusive_ytd_disbursed",
    "premium_ytd",
    "policies_ytd",
    "sum_insured_ytd",
    "claims_paid_ytd",
]

#: the note shown beside a growth leg met from a zero start-of-year balance
ZERO_BASE_NOTE = "年初余额为零，当年新增视为增速不低于各项贷款增速"

#: why a verdict is 不适用 (n/a): the code in ``na_reason_<rule>`` -> the text shown beside 不适用
NA_REASONS: dict[str, str] = {
    "not_subject": "本机构不在该项考核范围内",
    "missing_base": "缺少上年末基数（新设机构或未报送上年12月数据）",
    "missing_last_year": "缺少上年同期数据（新设机构或未报送上年同期数据）",
    "no_plan": "未报送年度信贷计划",
    "zero_balance": "年初及本期余额均为零，无法比较增速",
    "too_few_peers": "同类机构家数不足，不作同业比较",
    "no_benchmark": "缺少上一季度当地同类机构基准利率",
    "no_policy": "该年度无考核规则参数",
    "not_in_policy": "该年度考核通知未设此项",
    "missing_data": "本期相关数据缺失",
}

#: indicators computed from the prior December (上年末) or the same month last year (上年同期);
#: a verdict on one of them without that reference row is n/a for ``missing_base`` /
#: ``missing_last_year``
FROM_BASE = {
    "inclusive_ytd_increase",
    "inclusive_ytd_growth_pct",
    "total_loans_ytd_growth_pct",
    "growth_margin_pp",
    "borrowers_change",
    "plan_completion_pct",
    "prior_year_rate_pct",
    "rate_change_bp",
    "credit_loan_share_change_pp",
    "mfg_midlong_ytd_growth_pct",
    "indiv_business_balance_change",
    "indiv_business_balance_growth_pct",
    "indiv_business_borrowers_change",
    "above10m_balance_change",
    "guaranteed_balance_change",
    "scitech_balance_change",
    "inclusive_share_change_pp",
}
FROM_LAST_YEAR = {
    "inclusive_balance_yoy_pct",
    "first_loan_borrowers_yoy_change",
    "first_loan_borrowers_yoy_pct",
    "renewal_share_yoy_change_pp",
    "premium_yoy_pct",
    "policies_yoy_pct",
    "sum_insured_yoy_pct",
    "claims_paid_yoy_pct",
}

#: columns the engine adds beside INDICATOR_COLUMNS (flags and notes; the growth leg's group (总体)
#: name, count and figures for an institution the year judges as one of a group)
EXTRA_COLUMNS = [
    "growth_leg_zero_base",
    "has_base",
    "has_last_year",
    "growth_group",
    "group_count",
    "group_inclusive_growth_pct",
    "group_total_loans_growth_pct",
    "group_growth_margin_pp",
    "group_borrowers_change",
    "group_increase_share_pct",
]


def na_reason_text(row: Mapping, rule: str) -> str:
    """The Chinese reason beside 不适用 for ``rule`` (growth_leg, plan, an indicator of a watch
    check, onlending …) of one indicator row; "" when the verdict is not n/a or has no reason."""
    code = row.get(f"na_reason_{rule}", "")
    if not isinstance(code, str):
        return ""
    return NA_REASONS.get(code, "")


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 100.0) -> pd.Series:
    """numerator ÷ denominator × scale; NaN where the denominator is missing or not positive."""
    den = denominator.where(denominator > 0)
    return numerator / den * scale


def _growth_pct(current: pd.Series, base: pd.Series) -> pd.Series:
    return _ratio(current - base, base)


def _as_policies(policies: Policy | Mapping[int, Policy]) -> dict[int, Policy]:
    if isinstance(policies, Policy):
        return {policies.year: policies}
    return dict(policies)


def build_panel(ds: Dataset, policies: Policy | Mapping[int, Policy]) -> pd.DataFrame:
    """Monthly rows joined with institution attributes, plans and the assessed inclusive balance."""
    policies = _as_policies(policies)
    inst = ds.institutions.set_index("institution_id")
    panel = ds.monthly.copy()
    for col in ("name", "category", "entity_type", "county_code", "division"):
        panel[col] = panel["institution_id"].map(inst[col])
    panel["sector"] = np.where(panel["category"].isin(INSURER_CATEGORIES), "insurer", "bank")
    panel["year"] = panel["period"].dt.year.astype(int)
    panel["month"] = panel["period"].dt.month.astype(int)
    panel["_mi"] = panel["year"] * 12 + panel["month"]
    # 差异化考核 years as (institution, year) pairs, joined rather than looked up row by row
    diff = inst["differentiated_years"].explode().dropna()
    diff = pd.DataFrame(
        {"institution_id": diff.index.to_numpy(), "year": diff.astype(int).to_numpy(), "differentiated": True}
    )
    panel = panel.merge(diff, on=["institution_id", "year"], how="left")
    panel["differentiated"] = panel["differentiated"].astype("boolean").fillna(False).astype(bool)
    include_bills = panel["year"].map(
        {y: p.two_increases.include_bills for y, p in policies.items() if p.two_increases is not None}
    )
    panel["_include_bills"] = include_bills.fillna(False).astype(bool)
    panel["inclusive_balance_assessed"] = _assessed(panel, "")
    plans = ds.plans[["institution_id", "year", "planned_increase"]]
    panel = panel.merge(plans, on=["institution_id", "year"], how="left")
    return panel


def _assessed(panel: pd.DataFrame, suffix: str) -> pd.Series:
    """Inclusive balance on the assessed basis of the row's own policy year (bills in or out).

    The start-of-year and last-year references use the evaluated year's basis, not their own.
    """
    bills = panel[f"bill_discount_balance{suffix}"].fillna(0.0)
    return panel[f"inclusive_balance{suffix}"] + np.where(panel["_include_bills"], bills, 0.0)


def _attach_references(panel: pd.DataFrame) -> pd.DataFrame:
    """Add ``*_base`` (prior December), ``*_ly`` (same month last year), ``*_prev`` (prior month)."""
    keys = ["institution_id", "_mi"]
    base = panel.loc[panel["month"] == 12, keys + _BASE_COLUMNS].copy()
    base = base.rename(columns={c: f"{c}_base" for c in _BASE_COLUMNS})
    base["_mi"] = base["_mi"] + 12  # December of year y-1 is the base of every month of year y
    base["year"] = (base["_mi"] - 1) // 12
    base["has_base"] = True
    panel = panel.merge(base.drop(columns="_mi"), on=["institution_id", "year"], how="left")
    panel["has_base"] = panel["has_base"].astype("boolean").fillna(False).astype(bool)

    last_year = panel[keys + _LAST_YEAR_COLUMNS].copy()
    last_year["_mi"] = last_year["_mi"] + 12
    last_year["has_last_year"] = True
    panel = panel.merge(last_year.rename(columns={c: f"{c}_ly" for c in _LAST_YEAR_COLUMNS}), on=keys, how="left")
    panel["has_last_year"] = panel["has_last_year"].astype("boolean").fillna(False).astype(bool)

    flows = ["inclusive_ytd_interest", "inclusive_ytd_disbursed"]
    prev = panel[keys + flows].copy()
    prev["_mi"] = prev["_mi"] + 1
    panel = panel.merge(prev.rename(columns={c: f"{c}_prev" for c in flows}), on=keys, how="left")
    january = panel["month"] == 1
    for col in flows:  # in January the year-to-date figure is the month's flow
        panel.loc[january, f"{col}_prev"] = 0.0
    panel["inclusive_balance_assessed_base"] = _assessed(panel, "_base")
    panel["inclusive_balance_assessed_ly"] = _assessed(panel, "_ly")
    return panel


def _status(
    applies: pd.Series, judged: pd.Series, met: pd.Series, failing: str = NOT_MET, watch: pd.Series | None = None
) -> np.ndarray:
    """n/a where the rule does not apply or cannot be judged; else met / watch / failing."""
    conditions = [~applies | ~judged, met]
    choices = [NA, MET]
    if watch is not None:
        conditions.append(watch)
        choices.append(WATCH)
    return np.select(conditions, choices, default=failing)


def _peer_rate_statistics(out: pd.DataFrame, subject: pd.Series) -> pd.DataFrame:
    """Per period and category: quartiles of the YTD rate, each bank's rank and percentile."""
    rate = out["ytd_new_loan_rate_pct"].where(subject)
    groups = rate.groupby([out["period"], out["category"]])
    out["category_rate_median_pct"] = groups.transform("median")
    quartiles = groups.quantile([0.25, 0.75]).unstack()
    keyed = pd.MultiIndex.from_arrays([out["period"], out["category"]])
    out["category_rate_p25_pct"] = quartiles[0.25].reindex(keyed).to_numpy()
    out["category_rate_p75_pct"] = quartiles[0.75].reindex(keyed).to_numpy()
    out["rate_peer_count"] = groups.transform("count")
    out["rate_rank_in_category"] = groups.rank(method="min", ascending=True)
    # percentile: share of peers with a rate at or below this bank's (100 = highest)
    out["rate_percentile_in_category"] = groups.rank(method="max", pct=True) * 100
    return out


def _na_reasons(
    p: pd.DataFrame,
    status: np.ndarray,
    applies: pd.Series,
    needs: str | None,
    extra: Sequence[tuple[pd.Series, str]] = (),
) -> np.ndarray:
    """The ``na_reason`` code of each row whose ``status`` is n/a ("" elsewhere).

    In order: not subject to the rule; the reference row the figure needs is missing (``needs``:
    'base' for the prior December, 'last_year' for the same month last year); the rule's own
    ``extra`` (condition, code) pairs; otherwise a missing input.
    """
    conditions = [status != NA, ~applies]
    codes = ["", "not_subject"]
    if needs == "base":
        conditions.append(~p["has_base"])
        codes.append("missing_base")
    elif needs == "last_year":
        conditions.append(~p["has_last_year"])
        codes.append("missing_last_year")
    for condition, code in extra:
        conditions.append(condition)
        codes.append(code)
    return np.select(conditions, codes, default="missing_data")


def _needs(indicator: str, written: Mapping[str, str | None] | None = None) -> str | None:
    if written and indicator in written:  # an indicator written in params: its kind says
        return written[indicator]
    if indicator in FROM_BASE:
        return "base"
    if indicator in FROM_LAST_YEAR:
        return "last_year"
    return None


def _absent(out: pd.DataFrame, rows: pd.Series, *rules: str) -> None:
    """Rules the year's notice does not have: n/a with the reason ``not_in_policy`` (the reports
    leave them out entirely; :meth:`Policy.in_force` says which)."""
    for rule in rules:
        out.loc[rows, f"status_{rule}"] = NA
        out.loc[rows, f"na_reason_{rule}"] = "not_in_policy"


#: the balances a group's (or the city's) quantity target sums: now and at the start of the year
SUMMED_FOR_GROUPS = [
    "inclusive_balance_assessed",
    "inclusive_balance_base",
    "total_loans",
    "total_loans_base",
    "inclusive_borrowers",
    "inclusive_borrowers_base",
]


def _group_figures(p: pd.DataFrame, members: pd.Series) -> pd.DataFrame:
    """Per period, the summed balances of a group judged as a whole (总体) and its growth figures,
    aligned to ``p``'s rows. A member enters the sums only where its current and start-of-year
    figures all exist (as for the city-wide figures)."""
    columns = [*SUMMED_FOR_GROUPS, "inclusive_ytd_increase"]
    counted = members & p[columns].notna().all(axis=1)
    sums = p.loc[counted, ["period", *columns]].groupby("period").sum()
    sums["count"] = counted[counted].groupby(p.loc[counted, "period"]).size()
    sums["inclusive_growth"] = _growth_pct(sums["inclusive_balance_assessed"], sums["inclusive_balance_base"])
    sums["total_growth"] = _growth_pct(sums["total_loans"], sums["total_loans_base"])
    sums["margin"] = snap_zero(sums["inclusive_growth"] - sums["total_growth"])
    sums["borrowers_change"] = sums["inclusive_borrowers"] - sums["inclusive_borrowers_base"]
    sums["zero_base"] = is_zero(sums["inclusive_balance_base"]) & exceeds(sums["inclusive_balance_assessed"], 0)
    return sums.reindex(p["period"]).set_axis(p.index)


def _apply_policy(
    out: pd.DataFrame, rows: pd.Series, policy: Policy, written: Mapping[str, str | None] | None = None
) -> None:
    """Write the verdicts of one policy year into ``out`` for the rows of that year.

    A rule the year's notice does not have (:meth:`Policy.in_force`) is n/a with the reason
    ``not_in_policy`` for every row. Every figure is compared with its standard through
    :mod:`analysis.core.compare`.
    """
    p = out.loc[rows]
    ti, plan, cost, quality = policy.two_increases, policy.plan, policy.cost, policy.quality
    december = p["month"] == 12

    # credit plan (信贷计划): completion against the year's plan, time progress before December
    if plan is not None:
        plan_subject = p["category"].isin(plan.categories)
        plan_judged = p["plan_completion_pct"].notna()
        plan_met = at_least(p["plan_completion_pct"], plan.completion_min_pct)
        if plan.time_progress_watch:
            on_track = at_least(p["plan_completion_pct"], p["time_progress_pct"] * plan.completion_min_pct / 100)
            plan_status = _status(plan_subject, plan_judged, plan_met | (~december & on_track), watch=~december)
        else:
            plan_status = _status(plan_subject, plan_judged, plan_met)
        plan_reason = _na_reasons(p, plan_status, plan_subject, "base", [(p["planned_increase"].isna(), "no_plan")])
        out.loc[rows, "status_plan"] = plan_status
        out.loc[rows, "na_reason_plan"] = plan_reason
    else:
        _absent(out, rows, "plan")

    if ti is not None:
        _apply_quantity_target(out, rows, policy)
    else:
        _absent(out, rows, "growth_leg", "borrowers_leg", "two_increases")

    # cost (利率): the rate rule (stable against the prior year) and the high-rate flag, each by year
    if cost is not None and cost.max_rate_change_bp is not None:
        cost_subject = p["category"].isin(cost.categories)
        rate_status = _status(
            cost_subject, p["rate_change_bp"].notna(), at_most(p["rate_change_bp"], cost.max_rate_change_bp)
        )
        out.loc[rows, "status_rate_change"] = rate_status
        out.loc[rows, "na_reason_rate_change"] = _na_reasons(p, rate_status, cost_subject, "base")
    else:
        _absent(out, rows, "rate_change")
    if cost is not None and cost.high_rate_percentile is not None:
        cost_subject = p["category"].isin(cost.categories)
        threshold = _category_percentile(out, rows, cost_subject, cost.high_rate_percentile)
        high = (
            cost_subject
            & at_least(p["rate_peer_count"], cost.high_rate_min_peers)
            & exceeds(p["ytd_new_loan_rate_pct"], threshold)
            & at_least((p["ytd_new_loan_rate_pct"] - p["category_rate_median_pct"]) * 100, cost.high_rate_min_excess_bp)
        )
        out.loc[rows, "high_rate"] = high
        # a high-rate bank that cut its rate is 关注; the cut is measured against the prior year
        cut = below(p["rate_change_bp"], 0)
        few_peers = below(p["rate_peer_count"], cost.high_rate_min_peers)
        high_status = np.select(
            [~cost_subject | p["ytd_new_loan_rate_pct"].isna() | few_peers, ~high, high & cut],
            [NA, MET, WATCH],
            default=NOT_MET,
        )
        out.loc[rows, "status_high_rate"] = high_status
        out.loc[rows, "na_reason_high_rate"] = _na_reasons(
            p, high_status, cost_subject, None, [(few_peers, "too_few_peers")]
        )
    else:
        _absent(out, rows, "high_rate")

    # asset quality (不良容忍度)
    if quality is not None:
        bank = p["sector"] == "bank"
        out.loc[rows, "npl_tolerance_pp"] = quality.npl_tolerance_pp
        npl_status = _status(bank, p["npl_gap_pp"].notna(), at_most(p["npl_gap_pp"], quality.npl_tolerance_pp))
        out.loc[rows, "status_npl"] = npl_status
        out.loc[rows, "na_reason_npl"] = _na_reasons(p, npl_status, bank, None)
    else:
        _absent(out, rows, "npl")

    # structure and coverage (关注类指标)
    for check in policy.watch_checks:
        applies = p["sector"].isin(check.sectors)
        if check.entity_types is not None:
            applies &= p["entity_type"].isin(check.entity_types)
        value = p[check.indicator]
        status = _status(applies, value.notna(), at_least(value, check.min), failing=WATCH)
        out.loc[rows, f"status_{check.indicator}"] = status
        needs = _needs(check.indicator, written)
        out.loc[rows, f"na_reason_{check.indicator}"] = _na_reasons(p, status, applies, needs)


def _apply_quantity_target(out: pd.DataFrame, rows: pd.Series, policy: Policy) -> None:
    """The quantity target (两增 in 2023; growth only in 2024 and 2025) for one policy year.

    Subjects are judged one by one, except the members of the year's group (总体), who all
    carry the verdict of the group's summed balances. Differentiated banks (差异化考核) judged
    one by one have their growth leg judged on plan completion. A zero start-of-year balance that
    grew meets the growth leg (see the module docstring). Without a borrower leg, the target is
    the growth leg alone.
    """
    p = out.loc[rows]
    ti = policy.two_increases
    assert ti is not None
    group = ti.group
    members = (
        p["category"].isin(group.categories) & p["entity_type"].isin(group.entity_types)
        if group is not None
        else pd.Series(False, index=p.index)
    )
    # judged one by one: entity_types × categories; the group's members are subjects too
    ti_subject = (p["entity_type"].isin(ti.entity_types) & p["category"].isin(ti.categories) & ~members) | members
    differentiated = p["differentiated"] & ti.differentiated_on_plan & ~members
    zero_base = p["growth_leg_zero_base"]
    growth_met = at_least(p["growth_margin_pp"], ti.growth_margin_min_pp) | zero_base
    growth_status = _status(ti_subject, p["growth_margin_pp"].notna() | zero_base, growth_met)
    growth_reason = _na_reasons(
        p,
        growth_status,
        ti_subject,
        "base",
        [(is_zero(p["inclusive_balance_base"]) & is_zero(p["inclusive_balance_assessed"]), "zero_balance")],
    )
    on_plan = ti_subject & differentiated
    growth_status = np.where(on_plan, out.loc[rows, "status_plan"], growth_status)
    growth_reason = np.where(on_plan, out.loc[rows, "na_reason_plan"], growth_reason)
    has_borrowers_leg = ti.borrowers_change_min is not None
    if has_borrowers_leg:
        borrowers_met = at_least(p["borrowers_change"], ti.borrowers_change_min)
        borrowers_status = _status(ti_subject, p["borrowers_change"].notna(), borrowers_met)
        borrowers_reason = _na_reasons(p, borrowers_status, ti_subject, "base")
    if group is not None and members.any():
        g = _group_figures(p, members)
        judged = g["margin"].notna() | g["zero_base"].fillna(False).astype(bool)
        met = at_least(g["margin"], ti.growth_margin_min_pp) | g["zero_base"].fillna(False).astype(bool)
        group_status = _status(members, judged, met)
        growth_status = np.where(members, group_status, growth_status)
        growth_reason = np.where(members, np.where(group_status == NA, "missing_data", ""), growth_reason)
        if has_borrowers_leg:
            group_borrowers = _status(
                members, g["borrowers_change"].notna(), at_least(g["borrowers_change"], ti.borrowers_change_min)
            )
            borrowers_status = np.where(members, group_borrowers, borrowers_status)
            borrowers_reason = np.where(members, np.where(group_borrowers == NA, "missing_data", ""), borrowers_reason)
        out.loc[rows, "growth_group"] = np.where(members, group.name, "")
        out.loc[rows, "group_count"] = g["count"].where(members)
        out.loc[rows, "group_inclusive_growth_pct"] = g["inclusive_growth"].where(members)
        out.loc[rows, "group_total_loans_growth_pct"] = g["total_growth"].where(members)
        out.loc[rows, "group_growth_margin_pp"] = g["margin"].where(members)
        out.loc[rows, "group_borrowers_change"] = g["borrowers_change"].where(members)
        # the member's share of the group's increase (its contribution to the group's result)
        out.loc[rows, "group_increase_share_pct"] = _ratio(
            p["inclusive_ytd_increase"], g["inclusive_ytd_increase"]
        ).where(members)
    out.loc[rows, "status_growth_leg"] = growth_status
    out.loc[rows, "na_reason_growth_leg"] = growth_reason
    if not has_borrowers_leg:
        _absent(out, rows, "borrowers_leg")
        out.loc[rows, "status_two_increases"] = growth_status
        out.loc[rows, "na_reason_two_increases"] = growth_reason
        return
    both = np.select(
        [
            (growth_status == NA) | (borrowers_status == NA),
            (growth_status == NOT_MET) | (borrowers_status == NOT_MET),
            (growth_status == WATCH) | (borrowers_status == WATCH),
        ],
        [NA, NOT_MET, WATCH],
        default=MET,
    )
    out.loc[rows, "status_borrowers_leg"] = borrowers_status
    out.loc[rows, "status_two_increases"] = both
    out.loc[rows, "na_reason_borrowers_leg"] = borrowers_reason
    out.loc[rows, "na_reason_two_increases"] = np.select(
        [both != NA, growth_status == NA], ["", growth_reason], default=borrowers_reason
    )


def _category_percentile(out: pd.DataFrame, rows: pd.Series, subject: pd.Series, percentile: float) -> pd.Series:
    p = out.loc[rows]
    rate = p["ytd_new_loan_rate_pct"].where(subject)
    quant = rate.groupby([p["period"], p["category"]]).quantile(percentile / 100)
    keyed = pd.MultiIndex.from_arrays([p["period"], p["category"]])
    return pd.Series(quant.reindex(keyed).to_numpy(), index=p.index)


def compute_indicators(
    ds: Dataset, policies: Policy | Mapping[int, Policy], written: IndicatorParams | None = None
) -> pd.DataFrame:
    """Every indicator and verdict for every institution and month-end in ``ds``.

    ``policies`` is one :class:`Policy` or a mapping year -> Policy; rows of a year with no
    policy get the numbers but ``n/a`` verdicts. ``written``: the indicators (and columns) of
    ``params/indicators.yaml``, computed after the built-in ones. One row per institution-month, sorted.
    """
    policies = _as_policies(policies)
    written = written or IndicatorParams()
    known = set(INDICATOR_COLUMNS) | {d.name for d in written.indicators}
    missing = sorted({c.indicator for p in policies.values() for c in p.watch_checks} - known)
    if missing:  # a caller that forgot params/indicators.yaml (the policy loader has checked the names)
        raise ValueError(f"watch checks on indicators written in params, not given: {missing}")
    panel = _attach_references(build_panel(ds, policies))
    out = panel

    # 两增 and growth
    out["inclusive_ytd_increase"] = out["inclusive_balance_assessed"] - out["inclusive_balance_assessed_base"]
    reported_base = out["inclusive_balance_base"]  # without bills, as reported (S71)
    out["inclusive_balance_base"] = out["inclusive_balance_assessed_base"]
    # growth from a zero start-of-year balance: undefined rate, growth leg met (module docstring)
    out["growth_leg_zero_base"] = is_zero(out["inclusive_balance_base"]) & exceeds(out["inclusive_balance_assessed"], 0)
    out["inclusive_ytd_growth_pct"] = _growth_pct(out["inclusive_balance_assessed"], out["inclusive_balance_base"])
    out["total_loans_ytd_growth_pct"] = _growth_pct(out["total_loans"], out["total_loans_base"])
    out["growth_margin_pp"] = out["inclusive_ytd_growth_pct"] - out["total_loans_ytd_growth_pct"]
    out["borrowers_change"] = out["inclusive_borrowers"] - out["inclusive_borrowers_base"]
    out["inclusive_balance_yoy_pct"] = _growth_pct(
        out["inclusive_balance_assessed"], out["inclusive_balance_assessed_ly"]
    )

    # plan
    out["plan_completion_pct"] = _ratio(out["inclusive_ytd_increase"], out["planned_increase"])
    out["time_progress_pct"] = out["month"] / 12 * 100

    # cost
    out["ytd_new_loan_rate_pct"] = _ratio(out["inclusive_ytd_interest"], out["inclusive_ytd_disbursed"])
    out["prior_year_rate_pct"] = _ratio(out["inclusive_ytd_interest_base"], out["inclusive_ytd_disbursed_base"])
    out["rate_change_bp"] = (out["ytd_new_loan_rate_pct"] - out["prior_year_rate_pct"]) * 100
    out["month_new_loan_rate_pct"] = _ratio(
        out["inclusive_ytd_interest"] - out["inclusive_ytd_interest_prev"],
        out["inclusive_ytd_disbursed"] - out["inclusive_ytd_disbursed_prev"],
    )
    costs = [p.cost.categories for p in policies.values() if p.cost is not None]
    cost_categories = set().union(*costs) if costs else set(BANK_CATEGORIES)
    out = _peer_rate_statistics(out, out["category"].isin(cost_categories))

    # Bills basis (票据口径), one rule for every ratio, the same in both periods compared:
    # * a ratio of the inclusive balance itself (growth, plan, year-on-year, share of all loans)
    #   uses the policy year's assessed basis (``include_bills``), the year's definition of
    #   普惠型小微企业贷款, at the start of the year as now (all loans include bills anyway);
    # * a ratio whose numerator is an S71 sub-figure of the inclusive balance (non-performing
    #   loans, credit loans) uses the reported balance without bills, now and at the start of the
    #   year: the numerator is reported on that basis only, and dividing it by a balance with bills
    #   would dilute it by loans it cannot contain.

    # quality
    out["inclusive_npl_ratio_pct"] = _ratio(out["inclusive_npl"], out["inclusive_balance"])
    out["total_npl_ratio_pct"] = _ratio(out["total_npl"], out["total_loans"])
    out["npl_gap_pp"] = out["inclusive_npl_ratio_pct"] - out["total_npl_ratio_pct"]

    # structure
    out["credit_loan_share_pct"] = _ratio(out["credit_loan_balance"], out["inclusive_balance"])
    credit_share_base = _ratio(out["credit_loan_balance_base"], reported_base)
    out["credit_loan_share_change_pp"] = out["credit_loan_share_pct"] - credit_share_base
    out["first_loan_borrowers_yoy_change"] = out["first_loan_ytd_borrowers"] - out["first_loan_ytd_borrowers_ly"]
    out["first_loan_borrowers_yoy_pct"] = _growth_pct(
        out["first_loan_ytd_borrowers"], out["first_loan_ytd_borrowers_ly"]
    )
    out["renewal_share_pct"] = _ratio(out["renewal_ytd_amount"], out["inclusive_ytd_disbursed"])
    renewal_share_ly = _ratio(out["renewal_ytd_amount_ly"], out["inclusive_ytd_disbursed_ly"])
    out["renewal_share_yoy_change_pp"] = out["renewal_share_pct"] - renewal_share_ly
    out["mfg_midlong_ytd_growth_pct"] = _growth_pct(out["mfg_midlong_balance"], out["mfg_midlong_balance_base"])
    out["indiv_business_balance_change"] = out["indiv_business_balance"] - out["indiv_business_balance_base"]
    out["indiv_business_balance_growth_pct"] = _growth_pct(
        out["indiv_business_balance"], out["indiv_business_balance_base"]
    )
    out["indiv_business_borrowers_change"] = out["indiv_business_borrowers"] - out["indiv_business_borrowers_base"]
    for name in ("above10m", "guaranteed", "scitech"):
        out[f"{name}_balance_change"] = out[f"{name}_balance"] - out[f"{name}_balance_base"]
    out["inclusive_share_pct"] = _ratio(out["inclusive_balance_assessed"], out["total_loans"])
    share_base = _ratio(out["inclusive_balance_base"], out["total_loans_base"])
    out["inclusive_share_change_pp"] = out["inclusive_share_pct"] - share_base

    # insurers
    for name in ("premium", "policies", "sum_insured", "claims_paid"):
        out[f"{name}_yoy_pct"] = _growth_pct(out[f"{name}_ytd"], out[f"{name}_ytd_ly"])
    out["claims_to_premium_pct"] = _ratio(out["claims_paid_ytd"], out["premium_ytd"])

    out = _written_indicators(out, written)

    # a computed figure that is zero at the comparison tolerance is exactly 0 (never -0.0 or
    # 5e-15): figures equal in the source data show and compare as equal
    for col in [*INDICATOR_COLUMNS, *(d.name for d in written.indicators)]:
        if col in out and out[col].dtype.kind == "f":
            out[col] = snap_zero(out[col])

    # verdicts, one policy year at a time
    out["high_rate"] = False
    out["npl_tolerance_pp"] = np.nan
    out["growth_group"] = ""
    for col in EXTRA_COLUMNS[4:]:
        out[col] = np.nan
    watch_names = sorted({c.indicator for p in policies.values() for c in p.watch_checks})
    rules = [*(c.removeprefix("status_") for c in STATUS_COLUMNS), *watch_names]
    for rule in rules:
        out[f"status_{rule}"] = NA
        out[f"na_reason_{rule}"] = "no_policy"
    for year, policy in policies.items():
        rows = out["year"] == year
        if rows.any():
            _apply_policy(out, rows, policy, {d.name: d.needs for d in written.indicators})

    data_columns = [c.name for c in MONTHLY.columns if c.name not in ("institution_id", "period")]
    data_columns += [c.name for c in written.columns if c.name in out]
    status_columns = [f"status_{rule}" for rule in rules]
    reason_columns = [f"na_reason_{rule}" for rule in rules]
    ordered = (
        IDENTITY_COLUMNS
        + data_columns
        + list(INDICATOR_COLUMNS)
        + [d.name for d in written.indicators]
        + ["npl_tolerance_pp"]
        + EXTRA_COLUMNS
        + status_columns
        + reason_columns
    )
    return out[ordered].sort_values(["institution_id", "period"]).reset_index(drop=True)


def _written_indicators(out: pd.DataFrame, written: IndicatorParams) -> pd.DataFrame:
    """The indicators of ``params/indicators.yaml`` (kinds in :mod:`analysis.core.indicator_defs`),
    over the monthly columns, with the same references as the built-in ones: the prior December
    for changes since the start of the year, the same month a year earlier for year-on-year. A
    declared column the data does not carry is empty, so its indicators are NaN (不适用)."""
    if not written.indicators:
        return out
    columns = sorted({c for d in written.indicators for c in d.columns})
    for col in columns:
        if col not in out:
            out[col] = np.nan
    december = out.loc[out["month"] == 12, ["institution_id", "year", *columns]]
    base = december.assign(year=december["year"] + 1).rename(columns={c: f"{c}@base" for c in columns})
    last_year = out[["institution_id", "_mi", *columns]].rename(columns={c: f"{c}@ly" for c in columns})
    last_year["_mi"] = last_year["_mi"] + 12
    ref = (
        out[["institution_id", "year", "_mi"]]
        .merge(base, on=["institution_id", "year"], how="left")
        .merge(last_year, on=["institution_id", "_mi"], how="left")
        .set_axis(out.index)
    )
    for d in written.indicators:
        value, base_value, ly_value = out[d.of], ref[f"{d.of}@base"], ref[f"{d.of}@ly"]
        if d.kind == "level":
            result = value
        elif d.kind == "change_ytd":
            result = value - base_value
        elif d.kind == "growth_ytd":
            result = _growth_pct(value, base_value)
        elif d.kind == "change_yoy":
            result = value - ly_value
        elif d.kind == "growth_yoy":
            result = _growth_pct(value, ly_value)
        else:
            assert d.per is not None
            scale = 100.0 if d.kind in ("share", "share_change_ytd") else d.scale
            result = _ratio(value, out[d.per], scale)
            if d.kind == "share_change_ytd":
                result = result - _ratio(base_value, ref[f"{d.per}@base"], scale)
        out[d.name] = result.astype(float)
    return out


def citywide_figures(indicators: pd.DataFrame, policies: Policy | Mapping[int, Policy]) -> pd.DataFrame:
    """The three city-wide figures the notice publishes, for every period, from summed balances.

    1. legal-entity banks' overall 两增 (辖内法人银行总体“两增”);
    2. legal-entity banks' overall plan completion (法人银行总体信贷计划完成率);
    3. branch banks' overall plan completion (分支银行总体信贷计划完成率).
    A bank enters a sum only where both its current and start-of-year figures exist.
    """
    policies = _as_policies(policies)
    frames = []
    for year, policy in policies.items():
        ind = indicators[indicators["year"] == year]
        if ind.empty:
            continue
        ti = policy.two_increases
        if ti is None:  # a year without a quantity target: no overall figure for it
            legal = pd.Series(False, index=ind.index)
        elif ti.group is not None:  # the year judges a group as a whole: its figure is the city's
            legal = ind["category"].isin(ti.group.categories) & ind["entity_type"].isin(ti.group.entity_types)
        else:
            legal = ind["entity_type"].isin(ti.entity_types) & ind["category"].isin(ti.categories)
        legal &= ind[SUMMED_FOR_GROUPS].notna().all(axis=1)
        with_plan = (
            ind["category"].isin(policy.plan.categories if policy.plan is not None else [])
            & ind["planned_increase"].notna()
            & ind["inclusive_ytd_increase"].notna()
        )
        legal_entity = ind["entity_type"] == LEGAL_ENTITY
        sums = (
            pd.DataFrame(
                {
                    "period": ind["period"],
                    "legal_inclusive_balance": ind["inclusive_balance_assessed"].where(legal),
                    "legal_inclusive_base": ind["inclusive_balance_base"].where(legal),
                    "legal_total_loans": ind["total_loans"].where(legal),
                    "legal_total_loans_base": ind["total_loans_base"].where(legal),
                    "legal_borrowers": ind["inclusive_borrowers"].where(legal),
                    "legal_borrowers_base": ind["inclusive_borrowers_base"].where(legal),
                    "legal_count": legal.astype(int),
                    "legal_plan_increase": ind["inclusive_ytd_increase"].where(with_plan & legal_entity),
                    "legal_planned_increase": ind["planned_increase"].where(with_plan & legal_entity),
                    "legal_plan_count": (with_plan & legal_entity).astype(int),
                    "branch_plan_increase": ind["inclusive_ytd_increase"].where(with_plan & ~legal_entity),
                    "branch_planned_increase": ind["planned_increase"].where(with_plan & ~legal_entity),
                    "branch_plan_count": (with_plan & ~legal_entity).astype(int),
                }
            )
            .groupby("period")
            .sum(min_count=1)
        )
        frames.append(sums)
    if not frames:
        return pd.DataFrame()
    city = pd.concat(frames).sort_index()
    for col in ("legal_count", "legal_plan_count", "branch_plan_count"):
        city[col] = city[col].fillna(0).astype(int)
    city["legal_inclusive_growth_pct"] = _growth_pct(city["legal_inclusive_balance"], city["legal_inclusive_base"])
    city["legal_total_loans_growth_pct"] = _growth_pct(city["legal_total_loans"], city["legal_total_loans_base"])
    city["legal_growth_margin_pp"] = snap_zero(
        city["legal_inclusive_growth_pct"] - city["legal_total_loans_growth_pct"]
    )
    city["legal_borrowers_change"] = city["legal_borrowers"] - city["legal_borrowers_base"]
    # the overall 两增 against the year's own minimums (a zero overall base that grew meets the
    # growth leg, as for one bank)
    # (a year without a borrower leg judges growth alone: its minimum is -inf here, never shown)
    targets = {y: p.two_increases for y, p in policies.items() if p.two_increases is not None}
    growth_min = city.index.year.map({y: t.growth_margin_min_pp for y, t in targets.items()})
    borrowers_min = city.index.year.map(
        {y: -np.inf if t.borrowers_change_min is None else t.borrowers_change_min for y, t in targets.items()}
    )
    zero_base = is_zero(city["legal_inclusive_base"]) & exceeds(city["legal_inclusive_balance"], 0)
    city["legal_two_increases_met"] = (
        at_least(city["legal_growth_margin_pp"], np.asarray(growth_min, dtype=float)) | zero_base
    ) & (
        np.isneginf(np.asarray(borrowers_min, dtype=float))
        | at_least(city["legal_borrowers_change"], np.asarray(borrowers_min, dtype=float))
    )
    city["legal_plan_completion_pct"] = _ratio(city["legal_plan_increase"], city["legal_planned_increase"])
    city["branch_plan_completion_pct"] = _ratio(city["branch_plan_increase"], city["branch_planned_increase"])
    return city


def onlending_indicators(
    ds: Dataset, indicators: pd.DataFrame, policies: Policy | Mapping[int, Policy]
) -> pd.DataFrame:
    """Policy-bank on-lending: end-borrower rate vs the prior quarter's local benchmark.

    The benchmark is the amount-weighted rate of inclusive loans newly disbursed during the
    prior quarter by local institutions of the policy's benchmark categories (quarterly flows
    from the year-to-date S71 figures).
    """
    policies = _as_policies(policies)
    ol = ds.onlending.copy()
    if ol.empty:
        return ol.assign(
            benchmark_quarter=pd.Series(dtype=object),
            benchmark_rate_pct=pd.Series(dtype=float),
            rate_gap_bp=pd.Series(dtype=float),
            status_onlending=pd.Series(dtype=object),
            na_reason_onlending=pd.Series(dtype=object),
        )
    q_end = indicators[indicators["month"].isin([3, 6, 9, 12])].copy()
    q_end["quarter"] = q_end["year"].astype(str) + "Q" + (q_end["month"] // 3).astype(str)
    # the quarter's flow: YTD at quarter end minus YTD three months earlier (0 in Q1)
    q_end["_mi"] = q_end["year"] * 12 + q_end["month"]
    earlier = indicators.assign(_mi=indicators["year"] * 12 + indicators["month"] + 3)[
        ["institution_id", "_mi", "inclusive_ytd_interest", "inclusive_ytd_disbursed"]
    ]
    q_end = q_end.merge(earlier, on=["institution_id", "_mi"], how="left", suffixes=("", "_earlier"))
    first_quarter = q_end["month"] == 3
    for col in ("inclusive_ytd_interest", "inclusive_ytd_disbursed"):
        q_end.loc[first_quarter, f"{col}_earlier"] = 0.0
        q_end[f"{col}_flow"] = q_end[col] - q_end[f"{col}_earlier"]
    # quarterly flows by category; each on-lending row sums the categories its year's policy names
    flows = q_end.groupby(["quarter", "category"])[["inclusive_ytd_interest_flow", "inclusive_ytd_disbursed_flow"]].sum(
        min_count=1
    )
    quarter = pd.PeriodIndex(ol["quarter"], freq="Q")
    ol["benchmark_quarter"] = (quarter - 1).astype(str)
    ol["benchmark_rate_pct"] = np.nan
    for year, policy in policies.items():
        rows = quarter.year == year
        if not rows.any():
            continue
        if policy.onlending is None:
            continue
        chosen = flows[flows.index.get_level_values("category").isin(policy.onlending.benchmark_categories)]
        by_quarter = chosen.groupby(level="quarter").sum(min_count=1)
        rate = _ratio(by_quarter["inclusive_ytd_interest_flow"], by_quarter["inclusive_ytd_disbursed_flow"])
        ol.loc[rows, "benchmark_rate_pct"] = ol.loc[rows, "benchmark_quarter"].map(rate)
    ol["rate_gap_bp"] = snap_zero((ol["end_borrower_rate"] - ol["benchmark_rate_pct"]) * 100)
    year_of = pd.Series(quarter.year, index=ol.index)
    has_policy = year_of.isin(list(policies))
    in_force = year_of.isin([y for y, p in policies.items() if p.onlending is not None])
    max_gap = year_of.map({y: p.onlending.max_gap_bp for y, p in policies.items() if p.onlending is not None})
    ol["status_onlending"] = _status(
        in_force, ol["benchmark_rate_pct"].notna(), at_most(ol["rate_gap_bp"], max_gap.astype(float))
    )
    ol["na_reason_onlending"] = np.select(
        [ol["status_onlending"] != NA, ~has_policy, ~in_force, ol["benchmark_rate_pct"].isna()],
        ["", "no_policy", "not_in_policy", "no_benchmark"],
        default="missing_data",
    )
    return ol.sort_values(["institution_id", "quarter"]).reset_index(drop=True)


def onlending_quarters_through(onlending: pd.DataFrame, period_end: pd.Timestamp) -> pd.DataFrame:
    """On-lending rows of ``period_end``'s year whose quarter has ended on or before ``period_end``.

    At 2023-06 that is 2023Q1 and 2023Q2; at 2023-05 only 2023Q1 (the second quarter's rate is
    not complete at the end of May); earlier years are never included.
    """
    if onlending.empty:
        return onlending.copy()
    quarter = pd.PeriodIndex(onlending["quarter"], freq="Q")
    quarter_end = quarter.end_time.normalize()
    keep = (quarter.year == period_end.year) & (quarter_end <= period_end.normalize())
    return onlending[keep].copy()
