"""What the city's documents list (全市名单与结构): the institutions missing each target (each once,
under the rule that judged it), the 关注 lists, the city-wide structure figures and the good
performers — shared by the city overview (:mod:`analysis.content.overview`) and the 通报
(:mod:`analysis.outputs.documents`), so the two always list the same institutions.

Group figures are computed from summed balances, never averaged ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from analysis.content import wording
from analysis.content.display import HTML, frame_table
from analysis.core.status import NOT_MET, WATCH
from analysis.rules.indicators import onlending_quarters_through

if TYPE_CHECKING:
    from analysis.core.policy import Policy
    from analysis.state import State


@dataclass
class CityContext:
    state: State
    period: pd.Timestamp
    policy: Policy

    @property
    def rows(self) -> pd.DataFrame:
        ind = self.state.indicators
        return ind[ind["period"] == self.period]

    @property
    def banks(self) -> pd.DataFrame:
        return self.rows[self.rows["sector"] == "bank"]


#: the lists of institutions missing a target: verdict column, title, measure; the quantity
#: target's title is made from the year's label (“两增”未达标, 普惠型小微企业贷款增速未达标)
TARGETS = [
    ("status_two_increases", "“两增”未达标", "growth_margin_pp", "增速差（个百分点）"),
    ("status_plan", "信贷计划未完成", "plan_completion_pct", "计划完成率（%）"),
    ("status_rate_change", "新发放贷款利率较上年上升", "rate_change_bp", "利率变化（BP）"),
    ("status_high_rate", "利率明显高于同类且未压降", "ytd_new_loan_rate_pct", "累放加权利率（%）"),
    ("status_npl", "不良率超出容忍度", "npl_gap_pp", "不良率差（个百分点）"),
]


#: which leg of 两增 failed, as the reader sees it
GROWTH_LEG, BORROWERS_LEG, BOTH_LEGS = "贷款增速", "贷款户数", "两项"
TWO_INCREASES_MISS_COLUMNS = {
    "institution_id": "机构编码",
    "name": "机构名称",
    "category": "机构类型",
    "division": "监管科室",
    "failed_leg": "未达标项",
    "growth_margin_pp": "增速差（个百分点）",
    "borrowers_change": "户数较年初（户）",
}


def judged_on_plan_only(rows: pd.DataFrame, differentiated_on_plan: bool = True) -> pd.Series:
    """Banks under differentiated assessment (差异化考核) whose only 未达标 leg of the quantity target
    is the growth leg judged on plan completion: that is the plan's shortfall, charged once, under
    the plan (the lists, the counts and the letters say it there, as 差异化考核)."""
    if not differentiated_on_plan or "differentiated" not in rows:
        return pd.Series(False, index=rows.index)
    borrowers_missed = (
        rows["status_borrowers_leg"] == NOT_MET
        if "status_borrowers_leg" in rows
        else pd.Series(False, index=rows.index)
    )
    return (
        rows["differentiated"].fillna(False).astype(bool)
        & (rows["status_growth_leg"] == NOT_MET)
        & ~borrowers_missed
        & (rows.get("status_plan", pd.Series("", index=rows.index)) == NOT_MET)
    )


def two_increases_misses(
    rows: pd.DataFrame, differentiated_on_plan: bool = True, borrowers_leg: bool = True
) -> pd.DataFrame:
    """Rows missing 两增, with the leg that failed and both legs' figures.

    ``failed_leg``: 贷款增速 (growth leg), 贷款户数 (borrowers leg) or 两项 (both); a bank under
    differentiated assessment (差异化考核) has its growth leg judged on plan completion, which
    the label says. Both figures are kept whichever leg failed, so a bank listed with a positive
    growth gap visibly missed on borrowers. Ordered by leg, then growth gap. ``differentiated_on_plan``
    is the policy's ``two_increases.differentiated_on_plan``; without a ``borrowers_leg`` (2024 on)
    the growth leg is the target and no borrower column is shown.
    """
    failing = rows[(rows["status_two_increases"] == NOT_MET) & ~judged_on_plan_only(rows, differentiated_on_plan)]
    growth_failed = failing["status_growth_leg"] == NOT_MET
    borrowers_failed = failing["status_borrowers_leg"] == NOT_MET
    on_plan = failing["differentiated"].fillna(False).astype(bool) & differentiated_on_plan
    leg = pd.Series(GROWTH_LEG, index=failing.index).where(
        growth_failed & ~borrowers_failed,
        pd.Series(BORROWERS_LEG, index=failing.index).where(~growth_failed, BOTH_LEGS),
    )
    # a differentiated bank whose borrowers also fell: its growth leg is the plan's list, said there
    leg = leg.where(~(on_plan & borrowers_failed), f"{BORROWERS_LEG}（{GROWTH_LEG}按差异化考核见信贷计划）")
    out = failing.assign(failed_leg=leg, _order=(growth_failed.astype(int) + 2 * borrowers_failed.astype(int)))
    out = out.sort_values(["_order", "growth_margin_pp"])
    columns = [c for c in TWO_INCREASES_MISS_COLUMNS if borrowers_leg or c != "borrowers_change"]
    return out[columns].reset_index(drop=True)


@dataclass(frozen=True)
class TargetList:
    """Institutions missing one target, in the order the overview lists them (the 通报 lists the
    same rows: :mod:`analysis.outputs.documents`)."""

    status: str  # the verdict column, e.g. status_plan
    title: str  # “两增”未达标 ...
    rows: pd.DataFrame  # English columns, those of ``columns``, in the overview's order
    columns: dict[str, str]  # column -> Chinese header, in the order shown
    behind: list[str]  # plan only, before December: names of institutions behind time progress


def target_lists(ctx: CityContext) -> list[TargetList]:
    """For every target of :data:`TARGETS`, the institutions that missed it (未达标).

    The 两增 list names the failed leg and carries both legs' figures (:func:`two_increases_misses`);
    the others carry the target's measure, lowest first.
    """
    rows, policy = ctx.rows, ctx.policy
    out = []
    for status, title, measure, measure_label in TARGETS:
        if not policy.in_force(status.removeprefix("status_")):
            continue  # the year's notice has no such target: no list, not an empty one
        behind = rows[rows[status] == WATCH] if status == "status_plan" and ctx.period.month < 12 else rows.iloc[0:0]
        if status == "status_two_increases":
            ti = policy.two_increases
            assert ti is not None
            legs = policy.in_force("borrowers_leg")
            table = two_increases_misses(rows, ti.differentiated_on_plan, legs)
            columns = {c: h for c, h in TWO_INCREASES_MISS_COLUMNS.items() if c in table.columns}
            title = f"{policy.label('two_increases')}未达标"
        else:
            columns = {
                "institution_id": "机构编码",
                "name": "机构名称",
                "category": "机构类型",
                "division": "监管科室",
                measure: measure_label,
            }
            table = rows[rows[status] == NOT_MET].sort_values(measure)
            if status == "status_plan" and policy.two_increases is not None:
                # a differentiated bank's plan is also its quantity target: said here, once
                on_plan = judged_on_plan_only(table, policy.two_increases.differentiated_on_plan)
                table = table.assign(assessment=on_plan.map({True: DIFFERENTIATED_NOTE, False: ""}))
                columns["assessment"] = "说明"
            if status == "status_plan":
                columns = {
                    **{c: h for c, h in columns.items() if c != measure},
                    "inclusive_ytd_increase": "较年初增量（万元）",
                    measure: measure_label,
                    **({"assessment": "说明"} if "assessment" in columns else {}),
                }
            table = table[list(columns)].reset_index(drop=True)
        out.append(TargetList(status, title, table, columns, [str(n) for n in behind["name"]]))
    if policy.in_force("onlending"):
        out.append(onlending_misses(ctx))
    return out


#: the plan list's note on a bank under differentiated assessment (差异化考核)
DIFFERENTIATED_NOTE = "差异化考核：以信贷计划完成率替代增速考核"

ONLENDING_MISS_COLUMNS = {
    "institution_id": "机构编码",
    "name": "机构名称",
    "category": "机构类型",
    "division": "监管科室",
    "quarter": "季度",
    "end_borrower_rate": "终端平均利率（%）",
    "benchmark_rate_pct": "上季度当地同类机构利率（%）",
    "rate_gap_bp": "差（BP）",
}


def onlending_misses(ctx: CityContext) -> TargetList:
    """On-lending (转贷款) quarters of the year through the period whose end-borrower rate is above
    the benchmark (未达标), one row per bank and quarter: the same quarters the overview's
    on-lending table and each bank's report judge."""
    ol = ctx.state.onlending
    mine = onlending_quarters_through(ol, ctx.period) if not ol.empty else pd.DataFrame()
    if mine.empty:
        table = pd.DataFrame(columns=list(ONLENDING_MISS_COLUMNS))
    else:
        info = ctx.rows.set_index("institution_id")[["name", "category", "division"]]
        missed = mine[mine["status_onlending"] == NOT_MET].join(info, on="institution_id")
        table = missed.sort_values(["institution_id", "quarter"])[list(ONLENDING_MISS_COLUMNS)]
    return TargetList(
        "status_onlending",
        f"{ctx.policy.label('onlending')}未达标",
        table.reset_index(drop=True),
        dict(ONLENDING_MISS_COLUMNS),
        [],
    )


# ---------------------------------------------------------------- city structure, good performers, 关注


def _bank_rows(ctx: CityContext, period: pd.Timestamp) -> pd.DataFrame:
    """The bank rows of ``period`` for the banks of the context's period (the same banks compared)."""
    ind = ctx.state.indicators
    rows = ind[(ind["period"] == period) & (ind["sector"] == "bank")]
    return rows[rows["institution_id"].isin(ctx.banks["institution_id"])]


def _ratio_pct(frame: pd.DataFrame, num: str, den: str) -> float:
    d = frame[den].sum() if not frame.empty else 0.0
    return float(frame[num].sum() / d * 100) if d else float("nan")


#: the city-wide structure figures (结构指标, summed over the banks): watch indicator → label, the
#: figure of a frame of bank rows, the comparison period ("base": prior December, "ly": same month
#: last year), and how the change is said: "pp" (上升/下降 个百分点), "growth" (增长/下降 %),
#: "count" (增加/减少 户), "yi" (增加/减少 亿元)
STRUCTURE = {
    "inclusive_share_change_pp": (
        "普惠型小微企业贷款占各项贷款比重", lambda f: _ratio_pct(f, "inclusive_balance_assessed", "total_loans"), "base", "pp"
    ),
    "credit_loan_share_change_pp": (
        "普惠型小微企业信用贷款占比", lambda f: _ratio_pct(f, "credit_loan_balance", "inclusive_balance"), "base", "pp"
    ),
    "first_loan_borrowers_yoy_change": ("首贷户数（当年累计）", lambda f: float(f["first_loan_ytd_borrowers"].sum()), "ly", "count"),
    "renewal_share_yoy_change_pp": (
        "续贷占累放比重", lambda f: _ratio_pct(f, "renewal_ytd_amount", "inclusive_ytd_disbursed"), "ly", "pp"
    ),
    "mfg_midlong_ytd_growth_pct": ("制造业小微企业中长期贷款余额", lambda f: float(f["mfg_midlong_balance"].sum()), "base", "growth"),
    "indiv_business_balance_change": ("个体工商户贷款余额", lambda f: float(f["indiv_business_balance"].sum()), "base", "yi"),
    "indiv_business_borrowers_change": ("个体工商户贷款户数", lambda f: float(f["indiv_business_borrowers"].sum()), "base", "count"),
}  # fmt: skip


def city_structure(ctx: CityContext) -> pd.DataFrame:
    """The city-wide structure figures of the year's watch items for banks (summed balances of the
    same banks, never averaged ratios): indicator, label, value, the comparison's value, the change
    (in the unit the change is said in), how it is said, and how many banks need watching on it."""
    prior_december = pd.Timestamp(year=ctx.period.year - 1, month=12, day=31)
    last_year = ctx.period - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)
    frames = {"now": ctx.banks, "base": _bank_rows(ctx, prior_december), "ly": _bank_rows(ctx, last_year)}
    rows = []
    for check in ctx.policy.watch_checks:
        if check.indicator not in STRUCTURE or "bank" not in check.sectors:
            continue
        label, figure, against, kind = STRUCTURE[check.indicator]
        now = figure(frames["now"])
        then = figure(frames[against]) if not frames[against].empty else float("nan")
        delta = (now / then - 1) * 100 if kind == "growth" and then else now - then
        watched = int((ctx.banks.get(f"status_{check.indicator}", pd.Series(dtype=object)) == WATCH).sum())
        rows.append(
            {
                "indicator": check.indicator,
                "label": label,
                "value": now,
                "compared": then,
                "change": delta,
                "kind": kind,
                "against": "较年初" if against == "base" else "较上年同期",
                "watched": watched,
            }
        )
    return pd.DataFrame(
        rows, columns=["indicator", "label", "value", "compared", "change", "kind", "against", "watched"]
    )


def structure_value(row) -> str:
    """A city structure figure as written: a share in %, a count in 户, an amount in 亿元."""
    if row["kind"] == "pp":
        return wording.percent(row["value"])
    if row["kind"] == "count":
        return wording.figure(row["value"], 0, "户")
    return wording.yi(row["value"])


def structure_change(row) -> str:
    """Its change said in words: 较年初上升0.52个百分点, 较上年同期减少120户, 较年初增长8.10%."""
    kind, value = row["kind"], row["change"]
    said = {
        "pp": lambda: wording.rise(value),
        "count": lambda: wording.change(value, "户", 0),
        "growth": lambda: wording.growth(value),
        "yi": lambda: wording.change_yi(value),
    }[kind]()
    return said if said == wording.MISSING else f"{row['against']}{said}"


def structure_table(ctx: CityContext) -> HTML:
    """The city-wide structure figures and how many banks need watching on each."""
    frame = city_structure(ctx)
    if frame.empty:
        return HTML("")
    shown = pd.DataFrame(
        {
            "指标（全市银行业机构合计）": frame["label"],
            "本期": [structure_value(r) for _, r in frame.iterrows()],
            "变化": [structure_change(r) for _, r in frame.iterrows()],
            "需关注机构（家）": frame["watched"].astype(int).astype(str),
        }
    )
    return frame_table(shown, css_class="data structure")


#: how many institutions the 通报 names among the best on a measure
BEST_SHOWN = 5


def best_performers(ctx: CityContext) -> dict[str, list[str]]:
    """The institutions the 通报 names as doing well (成效), best first, by measure: the fastest
    growth among banks meeting the quantity target, the highest plan completion among those
    completing it (ahead of time progress before December), the largest rate cuts."""
    banks = ctx.banks
    out: dict[str, list[str]] = {}
    if ctx.policy.in_force("growth_leg"):
        ok = banks[(banks["status_growth_leg"] == "met") & ~banks["growth_leg_zero_base"].fillna(False).astype(bool)]
        out["growth"] = ok.nlargest(BEST_SHOWN, "inclusive_ytd_growth_pct")["name"].astype(str).tolist()
    if ctx.policy.plan is not None:
        ok = banks[banks["status_plan"] == "met"]
        out["plan"] = ok.nlargest(BEST_SHOWN, "plan_completion_pct")["name"].astype(str).tolist()
    if ctx.policy.in_force("rate_change"):
        cut = banks[banks["rate_change_bp"] < 0]
        out["rate"] = cut.nsmallest(BEST_SHOWN, "rate_change_bp")["name"].astype(str).tolist()
    return out


def city_rates(ctx: CityContext) -> tuple[float, float]:
    """The banks' amount-weighted new-loan rate of the year to date and of the prior full year (%)."""
    now = _ratio_pct(ctx.banks, "inclusive_ytd_interest", "inclusive_ytd_disbursed")
    prior = _bank_rows(ctx, pd.Timestamp(year=ctx.period.year - 1, month=12, day=31))
    before = _ratio_pct(prior, "inclusive_ytd_interest", "inclusive_ytd_disbursed") if not prior.empty else float("nan")
    return now, before


#: the 关注 list of banks far above their peers' rates that have cut them (overview and 通报)
HIGH_RATE_WATCH_TITLE = "利率明显高于同类机构，需继续加大压降力度"


def high_rate_watch(ctx: CityContext) -> pd.DataFrame:
    """Banks whose rate is markedly above their category's (the notice's 个别利率较高的银行机构)
    and that have cut it (关注: to keep cutting); those that have not are 未达标 (:func:`target_lists`)."""
    if not ctx.policy.in_force("high_rate"):
        return ctx.banks.iloc[0:0]
    return ctx.banks[ctx.banks["status_high_rate"] == WATCH].sort_values("ytd_new_loan_rate_pct", ascending=False)
