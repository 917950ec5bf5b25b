"""Content of the city overview (全市总览): for the regulator's own use, so institutions are named.

Group figures are computed from summed balances, never averaged ratios.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.content import wording
from analysis.content.city_lists import (  # noqa: F401  (re-exported: the overview's and the 通报's lists)
    BORROWERS_LEG,
    BOTH_LEGS,
    DIFFERENTIATED_NOTE,
    GROWTH_LEG,
    HIGH_RATE_WATCH_TITLE,
    TARGETS,
    TWO_INCREASES_MISS_COLUMNS,
    CityContext,
    TargetList,
    best_performers,
    city_rates,
    city_structure,
    high_rate_watch,
    judged_on_plan_only,
    onlending_misses,
    structure_change,
    structure_table,
    structure_value,
    target_lists,
    two_increases_misses,
)
from analysis.content.display import HTML, esc, fmt_number, frame_table, status_badge
from analysis.content.institution import provenance  # noqa: F401  (re-exported for the notebook)
from analysis.core.contract import CATEGORIES, COUNTIES, DIVISIONS, INSURER_CATEGORIES
from analysis.core.periods import (
    month_label,
    parse_period,  # noqa: F401  (re-exported for the notebook)
)
from analysis.core.status import NOT_MET, WATCH
from analysis.rules.indicators import onlending_quarters_through
from analysis.state import State, load_state


def city_context(period: str, data_dir="data/demo", params_dir="params", state: State | None = None) -> CityContext:
    state = state or load_state(data_dir, params_dir)
    from analysis.core.indicator_defs import load_indicator_params

    load_indicator_params(state.params_dir)  # the names and units of the indicators written in params
    period_end = parse_period(period)
    if (state.indicators["period"] == period_end).sum() == 0:
        from analysis.content.institution import ReportInputError

        raise ReportInputError(f"无 {period_end:%Y-%m} 数据 / no data for this period")
    return CityContext(state=state, period=period_end, policy=state.policy(period_end.year))


def header(ctx: CityContext) -> HTML:
    n_banks = len(ctx.banks)
    n_ins = len(ctx.rows) - n_banks
    return HTML(
        f'<header class="report-header"><p class="office">{esc(ctx.policy.issuing_office)}</p>'
        f"<h1>全市小微企业金融服务情况总览</h1>"
        f'<p class="subtitle">{month_label(ctx.period)}末 · 银行业机构 {n_banks} 家、保险机构 {n_ins} 家 · '
        f"依据 {esc(ctx.policy.notice)}</p></header>"
    )


def citywide_section(ctx: CityContext) -> HTML:
    """The three figures the notice publishes (重点通报三项指标)."""
    city = ctx.state.citywide
    if ctx.period not in city.index:
        return HTML('<p class="note">本期无可计算的全市指标（缺少年初数据或计划）。</p>')
    c = city.loc[ctx.period]
    policy = ctx.policy
    kpis = []
    if policy.two_increases is not None:  # the year's quantity target, for its group (总体) or legal banks
        borrowers = (
            f"；户数较年初{wording.change(c['legal_borrowers_change'], '户', 0)}"
            if policy.in_force("borrowers_leg")
            else ""
        )
        kpis.append(
            (
                f"辖内{quantity_group_name(policy)}总体{policy.label('two_increases')}",
                "完成" if bool(c["legal_two_increases_met"]) else "未完成",
                f"普惠贷款较年初{wording.growth(c['legal_inclusive_growth_pct'])}，各项贷款较年初"
                f"{wording.growth(c['legal_total_loans_growth_pct'])}{borrowers}（{int(c['legal_count'])} 家）",
            )
        )
    if policy.plan is None:
        return _kpi_cards(ctx, kpis)
    # city totals in 亿元 and percentages with two decimals: the 通报's rule (analysis.content.wording)
    kpis += [
        (
            "法人银行总体信贷计划完成率",
            wording.percent(c["legal_plan_completion_pct"]),
            f"较年初{wording.change_yi(c['legal_plan_increase'])} / 全年计划 {wording.yi(c['legal_planned_increase'])}"
            f"（{int(c['legal_plan_count'])} 家）",
        ),
        (
            "分支银行总体信贷计划完成率",
            wording.percent(c["branch_plan_completion_pct"]),
            f"较年初{wording.change_yi(c['branch_plan_increase'])} / 全年计划 {wording.yi(c['branch_planned_increase'])}"
            f"（{int(c['branch_plan_count'])} 家）",
        ),
    ]
    return _kpi_cards(ctx, kpis)


def quantity_group_name(policy) -> str:
    """Whose overall figure the quantity target publishes: the year's group (e.g. 地方法人银行)
    when it judges one as a whole (总体), else the legal-person banks (法人银行)."""
    ti = policy.two_increases
    return ti.group.name if ti is not None and ti.group is not None else "法人银行"


def _kpi_cards(ctx: CityContext, kpis: list[tuple[str, str, str]]) -> HTML:
    if not kpis:
        return HTML('<p class="note">该年度考核通知未设全市总体指标。</p>')
    cards = "".join(
        f'<div class="kpi"><div class="label">{esc(a)}</div><div class="value">{esc(b)}</div>'
        f'<div class="note">{esc(d)}</div></div>'
        for a, b, d in kpis
    )
    progress = f"时序进度 {ctx.period.month / 12 * 100:.0f}%。" if ctx.period.month < 12 else ""
    return HTML(
        f'<div class="kpis">{cards}</div><p class="note">{"三项" if len(kpis) == 3 else "各项"}指标均按机构余额、计划加总计算，'
        f"非各机构比率的简单平均。{progress}</p>"
    )


def group_summary(rows: pd.DataFrame, by: str, policy=None) -> pd.DataFrame:
    """Banks by category or division: summed balances, rates from sums, counts missing each target.

    With ``policy``, the count columns of rules the year does not have are left out."""
    banks = rows[rows["sector"] == "bank"].copy()
    order = CATEGORIES if by == "category" else DIVISIONS  # the notice's order, not the alphabet's
    banks[by] = pd.Categorical(banks[by], categories=[c for c in order if c in set(banks[by])], ordered=True)
    ti = policy.two_increases if policy is not None else None
    on_plan = judged_on_plan_only(banks, ti.differentiated_on_plan if ti is not None else True)
    banks["两增未达标"] = ((banks["status_two_increases"] == NOT_MET) & ~on_plan).astype(int)
    sums = banks.groupby(by, observed=True).agg(
        机构数=("institution_id", "count"),
        普惠贷款余额=("inclusive_balance_assessed", "sum"),
        年初余额=("inclusive_balance_base", "sum"),
        各项贷款=("total_loans", "sum"),
        各项贷款年初=("total_loans_base", "sum"),
        增量=("inclusive_ytd_increase", "sum"),
        计划=("planned_increase", lambda s: s.sum(min_count=1)),
        利息=("inclusive_ytd_interest", "sum"),
        累放=("inclusive_ytd_disbursed", "sum"),
        不良=("inclusive_npl", "sum"),
        两增未达标=("两增未达标", "sum"),
        计划未达标=("status_plan", lambda s: int((s == NOT_MET).sum())),
        计划落后=("status_plan", lambda s: int((s == WATCH).sum())),
        利率上升=("status_rate_change", lambda s: int((s == NOT_MET).sum())),
        不良超容忍度=("status_npl", lambda s: int((s == NOT_MET).sum())),
    )
    planned = banks[banks["planned_increase"].notna()].groupby(by, observed=True)["inclusive_ytd_increase"].sum()
    out = pd.DataFrame(
        {
            "机构数": sums["机构数"],
            "普惠贷款余额（万元）": sums["普惠贷款余额"],
            "较年初增速（%）": (sums["普惠贷款余额"] / sums["年初余额"] - 1) * 100,
            "各项贷款增速（%）": (sums["各项贷款"] / sums["各项贷款年初"] - 1) * 100,
            "计划完成率（%）": planned.reindex(sums.index) / sums["计划"] * 100,
            "累放加权利率（%）": sums["利息"] / sums["累放"] * 100,
            "普惠不良率（%）": sums["不良"] / sums["普惠贷款余额"] * 100,
            "两增未达标": sums["两增未达标"],
            "计划未达标/落后": sums["计划未达标"].astype(str) + " / " + sums["计划落后"].astype(str),
            "利率上升": sums["利率上升"],
            "不良超容忍度": sums["不良超容忍度"],
        }
    )
    if policy is not None:
        absent = {
            "两增未达标": "two_increases",
            "计划未达标/落后": "plan",
            "利率上升": "rate_change",
            "不良超容忍度": "npl",
        }
        out = out.drop(columns=[c for c, rule in absent.items() if not policy.in_force(rule)])
        if "plan" in absent.values() and policy.plan is None:
            out = out.drop(columns=["计划完成率（%）"])
        if policy.in_force("two_increases"):
            out = out.rename(columns={"两增未达标": f"{policy.label('two_increases').strip('“”')}未达标"})
    out = out.reset_index()
    out[by] = out[by].astype(str)
    return out.rename(columns={"category": "机构类型", "division": "监管科室"})


def by_group(ctx: CityContext, by: str) -> HTML:
    """Banks by category or supervising division: summed balances and counts of institutions missing targets."""
    frame = group_summary(ctx.rows, by, ctx.policy)
    for col in frame.columns:
        if col == "机构数" or col.endswith(("未达标", "利率上升", "不良超容忍度")):
            frame[col] = frame[col].astype(int).astype(str)
    return frame_table(frame, css_class="data groups")


def missing_targets(ctx: CityContext) -> HTML:
    """Institutions missing each target, with their division (for follow-up by the right team).

    The 两增 list names the failed leg and shows both legs' figures (growth gap, borrower change).
    """
    rows = ctx.rows
    parts = []
    for target in target_lists(ctx):
        parts.append(f"<h3>{esc(target.title)}（{len(target.rows)} 家）</h3>")
        if target.rows.empty:
            parts.append('<p class="note">无。</p>')
        else:
            parts.append(str(frame_table(target.rows.rename(columns=target.columns))))
            if target.status == "status_two_increases" and ctx.policy.in_force("borrowers_leg"):
                parts.append(
                    '<p class="note">“两增”须贷款增速不低于各项贷款增速、有贷款余额户数不低于年初，'
                    "两项同时达到方为达标；表中列示两项数值，“未达标项”为未达到的一项或两项。</p>"
                )
        if target.behind:
            parts.append(
                f'<p class="note">另有 {len(target.behind)} 家机构计划完成进度落后于时序进度：'
                + "、".join(esc(n) for n in target.behind)
                + "。</p>"
            )
    high = high_rate_watch(ctx)
    if not high.empty:  # 关注: far above its peers' and cut, to keep cutting (the 通报 lists them too)
        shown = high[
            ["institution_id", "name", "category", "division", "ytd_new_loan_rate_pct", "category_rate_median_pct"]
        ]
        parts.append(f"<h3>{esc(HIGH_RATE_WATCH_TITLE)}（{len(high)} 家）</h3>")
        parts.append(
            str(
                frame_table(
                    shown.rename(
                        columns={
                            "institution_id": "机构编码",
                            "name": "机构名称",
                            "category": "机构类型",
                            "division": "监管科室",
                            "ytd_new_loan_rate_pct": "累放加权利率（%）",
                            "category_rate_median_pct": "同类中位数（%）",
                        }
                    )
                )
            )
        )
    watch_cols = [
        c
        for c in rows.columns
        if c.startswith("status_") and c.removeprefix("status_") in {w.indicator for w in ctx.policy.watch_checks}
    ]
    counts = {c: int((rows[c] == WATCH).sum()) for c in watch_cols}
    labels = {w.indicator: w.label for w in ctx.policy.watch_checks}
    items = "".join(f"<li>{esc(labels[c.removeprefix('status_')])}：{n} 家</li>" for c, n in counts.items() if n)
    if items:
        parts.append(f"<h3>结构指标需关注</h3><ul>{items}</ul>")
    return HTML("".join(parts))


def county_growth(ctx: CityContext) -> pd.DataFrame:
    banks = ctx.banks
    g = banks.groupby("county_code").agg(
        bal=("inclusive_balance_assessed", "sum"),
        base=("inclusive_balance_base", "sum"),
        n=("institution_id", "count"),
        borrowers=("inclusive_borrowers", "sum"),
        borrowers_base=("inclusive_borrowers_base", "sum"),
    )
    out = pd.DataFrame(
        {
            "县区": [COUNTIES.get(c, c) for c in g.index],
            "机构数": g["n"].astype(int).astype(str),
            "普惠贷款余额（万元）": g["bal"],
            "较年初增量（万元）": g["bal"] - g["base"],
            "较年初增速（%）": (g["bal"] / g["base"] - 1) * 100,
            "户数较年初（户）": g["borrowers"] - g["borrowers_base"],
        },
        index=g.index,
    )
    return out.sort_values("较年初增速（%）", ascending=False).reset_index(drop=True)


def county_table(ctx: CityContext) -> HTML:
    frame = county_growth(ctx)
    html = frame_table(frame, css_class="data counties")
    return html + HTML('<p class="note">按机构注册所在县区归集；市区分支机构的业务可能覆盖多个县区。</p>')


def county_chart(ctx: CityContext) -> Figure:
    frame = county_growth(ctx)
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    growth = frame["较年初增速（%）"]
    city = (ctx.banks["inclusive_balance_assessed"].sum() / ctx.banks["inclusive_balance_base"].sum() - 1) * 100
    colors = ["#1f4e9a" if v >= city else "#c0392b" for v in growth]
    ax.bar(frame["县区"], growth, color=colors, width=0.6)
    ax.axhline(city, color="#8a8f98", ls="--", lw=1.2, label=f"全市 {city:.1f}%")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title("各县区普惠型小微企业贷款较年初增速（银行业机构合计）")
    ax.legend(fontsize=8)
    return fig


def rate_chart(ctx: CityContext) -> Figure:
    """Amount-weighted new-loan rate by category, month by month (category aggregates)."""
    ind = ctx.state.indicators
    banks = ind[(ind["sector"] == "bank") & (ind["period"] <= ctx.period)]
    flows = (
        banks.assign(interest=banks["inclusive_ytd_interest"], amount=banks["inclusive_ytd_disbursed"])
        .groupby(["period", "category"])[["interest", "amount"]]
        .sum()
    )
    rate = (flows["interest"] / flows["amount"] * 100).rename("rate").reset_index()
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    # one line per category in the theme's colours, as seaborn's lineplot(hue="category") draws
    # them (one value per month and category, nothing to aggregate) without importing seaborn and
    # scipy into the kernel for one chart (about 1.5 s)
    for category, line in rate.groupby("category", sort=False):
        line = line.sort_values("period")
        ax.plot(line["period"], line["rate"], lw=1.6, label=category)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
    ax.set_xlabel("")
    ax.set_ylabel("当年累放加权平均利率")
    ax.legend(fontsize=7, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.12), title=None)
    ax.set_title("分机构类型新发放普惠型小微企业贷款加权平均利率（当年累计口径）")
    return fig


def insurance_table(ctx: CityContext) -> HTML:
    ins = ctx.rows[ctx.rows["category"].isin(INSURER_CATEGORIES)]
    if ins.empty:
        return HTML('<p class="note">本期无保险机构数据。</p>')
    frame = ins[
        [
            "name",
            "category",
            "premium_ytd",
            "premium_yoy_pct",
            "sum_insured_yoy_pct",
            "claims_to_premium_pct",
            "status_premium_yoy_pct",
        ]
    ].rename(
        columns={
            "name": "机构名称",
            "category": "类型",
            "premium_ytd": "保费收入（万元）",
            "premium_yoy_pct": "保费同比（%）",
            "sum_insured_yoy_pct": "保额同比（%）",
            "claims_to_premium_pct": "简单赔付率（%）",
            "status_premium_yoy_pct": "保费增长",
        }
    )
    return frame_table(frame.sort_values(["类型", "保费同比（%）"]), status_columns=["保费增长"])


def onlending_table(ctx: CityContext) -> HTML:
    ol = ctx.state.onlending
    if ol.empty:
        return HTML('<p class="note">无转贷款数据。</p>')
    mine = onlending_quarters_through(ol, ctx.period)
    if mine.empty:
        return HTML('<p class="note">本年度截至本期无已结束季度的转贷款数据。</p>')
    names = ctx.state.dataset.institutions.set_index("institution_id")["name"]
    rows = [
        (
            names.get(r.institution_id, r.institution_id),
            r.quarter,
            fmt_number(r.end_borrower_rate),
            f"{r.benchmark_quarter} {fmt_number(r.benchmark_rate_pct)}",
            fmt_number(r.rate_gap_bp, 0, True),
            status_badge(r.status_onlending),
        )
        for r in mine.itertuples()
    ]
    from analysis.content.display import table

    return table(
        rows,
        ["机构", "季度", "终端平均利率（%）", "上季度当地同类机构利率（%）", "差（BP）", "状态"],
        raw_columns=[5],
        numeric_columns=[2, 4],
    )


def _scores(ctx: CityContext):
    return ctx.state.scores(ctx.period)


def _no_score_table() -> HTML:
    """A year without a scoring table: the note every score section of the overview shows (never
    another year's table; no file name of the office's)."""
    from analysis.rules.scoring import NO_TABLE_REPORT_NOTE

    return HTML(f'<p class="note">{esc(NO_TABLE_REPORT_NOTE)}。</p>')


def score_ranking(ctx: CityContext) -> HTML:
    """Every evaluated bank by total score (监管评价排名), with grade and any missing items."""
    table, _, totals = _scores(ctx)
    if table is None:  # never another year's table (State.scores takes the period's year only)
        return _no_score_table()
    t = totals.sort_values(["complete", "total"], ascending=[False, False])
    rows = [
        (
            "—" if r.rank != r.rank else int(r.rank),
            r.institution_id,
            r.name,
            r.category,
            r.division,
            fmt_number(r.quantitative, 2),
            fmt_number(r.qualitative, 2),
            fmt_number(r.total, 2),
            r.grade,
            "、".join(r.missing) if r.missing else "",
        )
        for r in t.itertuples()
    ]
    from analysis.content.display import table as html_table

    note = "" if ctx.period.month == 12 else '<p class="note">按本期累计数据测算，年度评价以12月末数据为准。</p>'
    return HTML(note) + html_table(
        rows,
        [
            "排名",
            "机构编码",
            "机构名称",
            "机构类型",
            "监管科室",
            "定量得分",
            "定性得分",
            "总分",
            "等级",
            "缺少的定性评分",
        ],
        numeric_columns=[5, 6, 7],
    )


def grade_distribution(ctx: CityContext, by: str) -> HTML:
    """How many banks of each category (or division) fall in each grade."""
    table, _, totals = _scores(ctx)
    if table is None:
        return _no_score_table()
    grades = [g.grade for g in table.grades] + (["待定"] if (~totals["complete"]).any() else [])
    counts = pd.crosstab(totals[by], pd.Categorical(totals["grade"], categories=grades)).reindex(
        columns=grades, fill_value=0
    )
    order = CATEGORIES if by == "category" else DIVISIONS
    counts = counts.reindex([c for c in order if c in counts.index])
    counts["平均分"] = totals.groupby(by)["total"].mean().reindex(counts.index)
    frame = counts.reset_index().rename(columns={"category": "机构类型", "division": "监管科室", "row_0": ""})
    frame.columns = [str(c) for c in frame.columns]
    for g in grades:
        frame[g] = frame[g].astype(int).astype(str)
    return frame_table(frame)


def counts_by_status(ctx: CityContext) -> pd.DataFrame:
    """How many banks are met / not met / watch / n/a on each headline status (for tests and the site)."""
    cols = [
        c
        for c in ("status_two_increases", "status_plan", "status_rate_change", "status_npl")
        if ctx.policy.in_force(c.removeprefix("status_"))
    ]
    return ctx.rows[cols].apply(lambda s: s.value_counts()).fillna(0).astype(int)


__all__ = [
    "CityContext",
    "city_context",
    "header",
    "citywide_section",
    "by_group",
    "missing_targets",
    "county_table",
    "county_chart",
    "rate_chart",
    "insurance_table",
    "onlending_table",
    "provenance",
    "counts_by_status",
    "score_ranking",
    "grade_distribution",
    "two_increases_misses",
    "target_lists",
    "TargetList",
    "group_summary",
    "county_growth",
]


def loan_checks(ctx: CityContext) -> HTML:
    """Loan-level checks of every bank (借据级核查，全市): findings by bank and rule, with the
    city-wide over-crediting customers — this is where the office sees across banks."""
    from analysis.inputs.loans import overview_findings

    findings = ctx.state.loans
    if findings is None:
        return HTML('<p class="note">本期未提供借据级数据（数据目录下无 loans/ 文件夹），未进行借据核查。</p>')
    table = overview_findings(findings, ctx.period)
    if table.empty:
        return HTML(f'<p class="note">{month_label(ctx.period)}无借据级数据。</p>')
    names = ctx.state.dataset.institutions.set_index("institution_id")["name"]
    counts = table.pivot_table(index="institution_id", columns="label", values="findings", aggfunc="sum", fill_value=0)
    counts = counts[(counts > 0).any(axis=1)].astype(int)
    parts = []
    if counts.empty:
        parts.append('<p class="note">各机构均未发现问题。</p>')
    else:
        counts.insert(0, "机构名称", names.reindex(counts.index).to_numpy())
        counts = counts.reset_index().rename(columns={"institution_id": "机构编码"})
        parts.append(f"<h3>有核查发现的机构（{len(counts)} 家）</h3>" + str(frame_table(counts)))
    shared = findings.checks.get("over_crediting")
    if shared is not None and not shared.empty:
        mine = shared[shared["period"] == ctx.period]
        # one customer across banks is one 证件号码 (each bank numbers its customers its own way)
        key = "id_number" if "id_number" in mine.columns else "customer_id"
        per_customer = mine.groupby(key).agg(
            授信银行数=("institution_id", "nunique"), 涉及机构=("institution_id", lambda s: "、".join(sorted(s)))
        )
        per_customer = per_customer.reset_index().rename(
            columns={"id_number": "证件号码", "customer_id": "客户统一编号"}
        )
        parts.append(f"<h3>多头或过度授信客户（{len(per_customer)} 户）</h3>" + str(frame_table(per_customer)))
    clauses = "；".join(sorted({str(c) for c in table["clause"].dropna()}))
    parts.append(f'<p class="note">依据：{esc(clauses)}。各机构报告只列示本机构的发现。</p>')
    return HTML("".join(parts))
