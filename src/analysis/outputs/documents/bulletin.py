"""The 通报's fields (通报内容): the city's figures, 成效 with the best performers named, the structure
figures, the insurers, the lists of institutions missing each target (each once, under the rule that
judged it) and the 关注 lists, every sign said in words, city totals in 亿元.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analysis.content import wording
from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.status import NOT_MET, WATCH
from analysis.outputs.documents.context import (
    _cell,
    _common,
    _fmt,
    amount,
    bp,
    chinese_number,
    count,
    pct,
    pp,
)
from analysis.outputs.documents.templates import DocumentSettings

# ---------------------------------------------------------------- the 通报


def _miss_detail(target, row: pd.Series) -> str:
    """A 通报 list row's 情况说明, every sign said in words."""
    if target.status == "status_two_increases":
        text = f"未达标项：{row['failed_leg']}；普惠增速较各项贷款增速{wording.gap(row['growth_margin_pp'])}"
        if "borrowers_change" in row.index:  # a year without a borrower leg lists no such column
            text += f"；户数较年初{wording.change(row['borrowers_change'], '户', 0)}"
        return text
    if target.status == "status_onlending":
        return (
            f"{wording.quarter_name(row['quarter'])}终端平均利率{wording.percent(row['end_borrower_rate'])}，较上季度当地"
            f"同类机构（{wording.percent(row['benchmark_rate_pct'])}）{wording.gap(row['rate_gap_bp'], '个基点', 0)}"
        )
    if target.status == "status_plan":
        text = f"较年初{wording.change(row['inclusive_ytd_increase'])}，年度计划{wording.completion(row['plan_completion_pct'])}"
        return f"{text}（{row['assessment']}）" if row.get("assessment") else text
    if target.status == "status_rate_change":
        return f"新发放贷款加权平均利率较上年{wording.rise(row['rate_change_bp'], '个基点', 0)}"
    if target.status == "status_npl":
        return f"普惠不良率较各项贷款不良率{wording.gap(row['npl_gap_pp'])}"
    if target.status == "status_high_rate":
        return f"当年累放加权平均利率{wording.percent(row['ytd_new_loan_rate_pct'])}，明显高于同类机构且未压降"
    return ""


def _measure(column: str, value) -> str:
    unit = INDICATOR_COLUMNS.get(column, ("", ""))[1]
    if unit == "BP":
        return bp(value)
    if unit == "个百分点":
        return pp(value)
    if unit == "%":
        return pct(value)
    if unit == "万元":
        return amount(value)
    return _fmt(value)


def _miss_measure(target, row: pd.Series) -> str:
    if target.status == "status_two_increases":
        return str(row["failed_leg"])
    if target.status == "status_onlending":
        return f"{wording.quarter_name(row['quarter'])} {bp(row['rate_gap_bp'])}"
    return _measure(_measure_column(target), row[_measure_column(target)])


def _measure_column(target) -> str:
    """The column a list is judged on: its last figure column (the plan's completion rate, after its increase)."""
    figures = [c for c in target.columns if c not in ("institution_id", "name", "category", "division", "assessment")]
    return figures[-1]


def _yi_cell(value_wan) -> str:
    """A table cell of a city, category or county total, held in 万元, shown in 亿元 (the header says so)."""
    return wording.figure(pd.to_numeric(value_wan, errors="coerce") / 10_000, wording.YI_DIGITS)


def _behind_rows(ctx) -> list[dict]:
    """The banks whose plan completion is behind time progress (进度落后), lowest first, as list rows."""
    behind = ctx.rows[ctx.rows["status_plan"] == WATCH].sort_values("plan_completion_pct")
    return [
        _listed(
            n,
            r,
            pct(r["plan_completion_pct"]),
            f"年度计划{wording.completion(r['plan_completion_pct'])}，"
            f"低于时序进度（{wording.percent(r['time_progress_pct'])}）",
        )
        for n, (_, r) in enumerate(behind.iterrows(), start=1)
    ]


def _listed(n: int, r: pd.Series, measure: str, detail: str) -> dict:
    """One bank of a 通报 list (``misses[].rows``): its number, id, name, category, division, figure, detail."""
    return {
        "number": str(n),
        "id": str(r["institution_id"]),
        "name": str(r["name"]),
        "category": str(r["category"]),
        "division": str(r["division"]),
        "measure": measure,
        "detail": detail,
    }


def _highlights(ctx, best: dict[str, list[str]]) -> list[dict]:
    """成效: what went well, with the best performers named (as real 通报 do)."""
    from analysis.content import overview

    policy, banks, out = ctx.policy, ctx.banks, []
    if policy.in_force("two_increases"):
        judged = banks[banks["status_two_increases"].isin(["met", NOT_MET])]
        met = int((judged["status_two_increases"] == "met").sum())
        text = f"{len(judged)}家参与考核的银行业机构中，{met}家实现{policy.label('two_increases')}目标"
        ti = policy.two_increases
        on_plan = int(overview.judged_on_plan_only(judged, ti.differentiated_on_plan if ti else True).sum())
        if on_plan:  # missed, but listed under the plan: say so, or the counts do not add up
            text += f"（未实现的机构中{on_plan}家适用差异化考核，以信贷计划完成率考核，列入信贷计划未完成名单）"
        if best.get("growth"):
            text += f"，普惠型小微企业贷款较年初增速居前的有{wording.names(best['growth'])}"
        out.append({"text": text + "。"})
    if policy.plan is not None:
        planned = banks[banks["status_plan"].isin(["met", NOT_MET, WATCH])]
        done = int((planned["status_plan"] == "met").sum())
        what = "完成全年信贷计划" if ctx.period.month == 12 else "信贷计划完成进度不低于时序进度"
        text = f"{len(planned)}家有信贷计划的银行业机构中，{done}家{what}"
        if best.get("plan"):
            text += f"，完成率居前的有{wording.names(best['plan'])}"
        out.append({"text": text + "。"})
    now, before = overview.city_rates(ctx)
    if not pd.isna(now):
        text = f"全市银行业机构当年新发放普惠型小微企业贷款加权平均利率{wording.percent(now)}"
        if not pd.isna(before):
            text += f"，较上年{wording.rise((now - before) * 100, '个基点', 0)}"
        if best.get("rate"):
            text += f"；利率降幅居前的有{wording.names(best['rate'])}"
        out.append({"text": text + "。"})
    return out


def _insurers(ctx) -> tuple[dict, list[dict]]:
    """The insurer section (小微企业保险): city sums and each insurer's figures and status."""
    ins = ctx.rows[ctx.rows["sector"] == "insurer"]
    ind = ctx.state.indicators
    last_year = ctx.period - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)
    ly = ind[(ind["period"] == last_year) & ind["institution_id"].isin(ins["institution_id"])]

    def yoy(column: str) -> str:
        before = ly[column].sum() if not ly.empty else 0.0
        return wording.growth((ins[column].sum() / before - 1) * 100) if before else wording.MISSING

    statuses = [c for c in ("status_premium_yoy_pct", "status_sum_insured_yoy_pct") if c in ins.columns]
    below = ins[ins[statuses].isin([NOT_MET, WATCH]).any(axis=1)] if statuses else ins.iloc[0:0]
    premium = ins["premium_ytd"].sum()
    summary = {
        "count": str(len(ins)),
        "premium": wording.figure(premium, 2, "万元"),
        "premium_growth": yoy("premium_ytd"),
        "sum_insured_growth": yoy("sum_insured_ytd"),
        "claims_ratio": wording.percent(ins["claims_paid_ytd"].sum() / premium * 100) if premium else wording.MISSING,
        "below_count": str(len(below)),
        "below": wording.names(below["name"]),
    }
    rows = [
        {
            "number": str(n),
            "name": str(r["name"]),
            "category": str(r["category"]),
            "premium": _cell(r["premium_ytd"]),
            "premium_growth": _cell(r["premium_yoy_pct"]),
            "sum_insured_growth": _cell(r["sum_insured_yoy_pct"]),
            "status": "需关注" if r["institution_id"] in set(below["institution_id"]) else "—",
        }
        for n, (_, r) in enumerate(ins.sort_values(["category", "premium_yoy_pct"]).iterrows(), start=1)
    ]
    return summary, rows


def _watch_lists(ctx, first: int = 1) -> list[dict]:
    """关注 lists the notice names: banks whose rates are markedly above their peers' (个别利率较高的
    银行机构) that have cut them, to keep cutting."""
    from analysis.content import overview

    high = overview.high_rate_watch(ctx)
    if high.empty:
        return []
    rows = [
        {
            "number": str(n),
            "name": str(r["name"]),
            "category": str(r["category"]),
            "detail": f"当年累放加权平均利率{wording.percent(r['ytd_new_loan_rate_pct'])}，较同类机构中位数"
            f"{wording.gap((r['ytd_new_loan_rate_pct'] - r['category_rate_median_pct']) * 100, '个基点', 0)}，"
            f"较上年{wording.rise(r['rate_change_bp'], '个基点', 0)}",
        }
        for n, (_, r) in enumerate(high.iterrows(), start=1)
    ]
    return [
        {
            "number": chinese_number(first),
            "title": overview.HIGH_RATE_WATCH_TITLE,
            "count": str(len(rows)),
            "rows": rows,
        }
    ]


def bulletin_context(
    state, period: str, issued: date, settings: DocumentSettings, reply_by: date | None = None
) -> dict:
    """Every field of :data:`BULLETIN_FIELDS` for ``period``, from the state the overview reads.

    Signs are said in words in running text (:mod:`analysis.content.wording`), city totals in 亿元
    and percentages with two decimals as the overview prints them; each institution is listed once
    under the rule that judged it (a bank under 差异化考核 under the plan, not also under 两增)."""
    from analysis.content import overview

    ctx = overview.city_context(period, state=state)
    policy, period_end = ctx.policy, ctx.period
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)
    city = state.citywide.loc[period_end] if period_end in state.citywide.index else pd.Series(dtype=object)
    met = city.get("legal_two_increases_met")
    banks = ctx.banks
    balance, base = banks["inclusive_balance_assessed"].sum(), banks["inclusive_balance_base"].sum()
    figures = {
        "basis": "含票据贴现和转贴现"
        if policy.two_increases is not None and policy.two_increases.include_bills
        else "剔除票据贴现和转贴现",
        "time_progress": pct(period_end.month / 12 * 100) if period_end.month < 12 else "",
        "city_balance": wording.yi(balance),
        "city_change": f"较年初{wording.change_yi(balance - base)}" if base else wording.MISSING,
        "city_growth": wording.growth((balance / base - 1) * 100) if base else wording.MISSING,
        "legal_two_increases": "—" if met is None or pd.isna(met) else ("完成" if bool(met) else "未完成"),
        "legal_count": count(city.get("legal_count"), unit=""),
        "legal_inclusive_growth": wording.growth(city.get("legal_inclusive_growth_pct")),
        "legal_total_loans_growth": wording.growth(city.get("legal_total_loans_growth_pct")),
        "legal_growth_margin": wording.gap(city.get("legal_growth_margin_pp")),
        "legal_borrowers_change": wording.change(city.get("legal_borrowers_change"), "户", 0),
        "legal_plan_completion": wording.percent(city.get("legal_plan_completion_pct")),
        "legal_plan_increase": wording.yi(city.get("legal_plan_increase")),
        "legal_planned_increase": wording.yi(city.get("legal_planned_increase")),
        "legal_plan_count": count(city.get("legal_plan_count"), unit=""),
        "branch_plan_completion": wording.percent(city.get("branch_plan_completion_pct")),
        "branch_plan_increase": wording.yi(city.get("branch_plan_increase")),
        "branch_planned_increase": wording.yi(city.get("branch_planned_increase")),
        "branch_plan_count": count(city.get("branch_plan_count"), unit=""),
    }
    groups = overview.group_summary(ctx.rows, "category", policy)
    quantity_missed = next((c for c in groups.columns if c.endswith("未达标") and c != "计划未达标"), None)
    categories = []
    for g in groups.itertuples(index=False):
        values = dict(zip(groups.columns, g, strict=True))
        missed, behind = str(values["计划未达标/落后"]).split(" / ") if "计划未达标/落后" in values else ("", "")
        categories.append(
            {
                "category": str(values["机构类型"]),
                "count": str(int(values["机构数"])),
                "balance": _yi_cell(values["普惠贷款余额（万元）"]),
                "growth": _cell(values["较年初增速（%）"]),
                "total_loans_growth": _cell(values["各项贷款增速（%）"]),
                "plan_completion": _cell(values["计划完成率（%）"]) if "计划完成率（%）" in values else "",
                "rate": _cell(values["累放加权利率（%）"]),
                "npl_ratio": _cell(values["普惠不良率（%）"]),
                "two_increases_missed": str(int(values[quantity_missed])) if quantity_missed else "",
                "plan_missed": missed,
                "plan_behind": behind,
                "rate_rise": str(int(values["利率上升"])) if "利率上升" in values else "",
                "npl_over": str(int(values["不良超容忍度"])) if "不良超容忍度" in values else "",
            }
        )
    misses = []
    # a 通报 lists what went wrong: a target nobody missed gets no heading (the overview says 无)
    shown = [t for t in overview.target_lists(ctx) if not t.rows.empty or t.behind]
    for i, target in enumerate(shown, start=1):
        rows = [
            _listed(n, r, _miss_measure(target, r), _miss_detail(target, r))
            for n, (_, r) in enumerate(target.rows.iterrows(), start=1)
        ]
        measure = "未达标项" if target.status == "status_two_increases" else target.columns[_measure_column(target)]
        title, lagging = target.title, list(target.behind)
        if not rows and lagging:  # mid-year, nobody has missed the plan yet: the list is of those behind
            title, rows, lagging = "信贷计划完成进度落后于时序进度", _behind_rows(ctx), []
        misses.append(
            {
                "number": chinese_number(i),
                "title": title,
                "count": str(len(rows)),
                "measure": measure,
                "rows": rows,
                "behind": wording.names(lagging),
                "behind_count": str(len(lagging)),
            }
        )
    structure = [
        {"label": str(r["label"]), "value": overview.structure_value(r), "change": overview.structure_change(r)}
        for _, r in overview.city_structure(ctx).iterrows()
    ]
    insurers, insurer_rows = _insurers(ctx)
    counties = [
        {
            "county": str(r["县区"]),
            "count": str(r["机构数"]),
            "balance": _yi_cell(r["普惠贷款余额（万元）"]),
            "increase": _yi_cell(r["较年初增量（万元）"]),
            "growth": _cell(r["较年初增速（%）"]),
            "borrowers_change": _fmt(r["户数较年初（户）"], 0, True),
        }
        for _, r in overview.county_growth(ctx).iterrows()
    ]
    return {
        **_common(policy, period_end, issued, reply_by, settings, "bulletin"),
        "n_banks": len(ctx.banks),
        "n_insurers": len(ctx.rows) - len(ctx.banks),
        "clauses": {
            "two_increases": policy.clause("two_increases"),
            "plan": policy.clause("plan"),
            "cost": policy.cost.clause if policy.cost is not None else "",
            "quality": policy.clause("npl"),
        },
        "figures": figures,
        "highlights": _highlights(ctx, overview.best_performers(ctx)),
        "structure": structure,
        "categories": categories,
        "misses": misses,
        "watch": _watch_lists(ctx, first=len(misses) + 1),
        "insurers": insurers,
        "insurer_rows": insurer_rows,
        "counties": counties,
        "financing": financing_fields(state, period_end),
    }


def financing_fields(state, period_end: pd.Timestamp) -> dict:
    """The 通报's section on the financing coordination mechanism (融资协调工作机制), or {} when the
    data folder has no 推荐清单 or the period none of its firms (:mod:`analysis.content.financing`)."""
    from analysis.content.financing import bulletin_fields

    if not state.has_financing():
        return {}
    fields = bulletin_fields(state.financing(period_end), state.dataset.institutions)
    if fields:
        fields["reasons_text"] = "、".join(f"{r['reason']}（{r['count']}户次）" for r in fields.get("reasons", [])[:3])
    return fields
