"""What the documents say (文书内容): the 通报's and a letter's fields from the state, with numbers as
the reports show them (万元 with two decimals, percentages, 个百分点, 个基点) and dates in Chinese.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analysis.content import wording
from analysis.content.display import fmt_number
from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.compare import fmt_signed, snap_zero
from analysis.core.status import NOT_MET, WATCH
from analysis.outputs.documents.templates import DocumentSettings

# ---------------------------------------------------------------- numbers as the reports show them


def _fmt(value, digits: int = 2, signed: bool = False, unit: str = "") -> str:
    """As :func:`analysis.content.institution` writes figures: a zero at the tolerance reads 0, NaN reads —."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not pd.isna(value):
        if signed:
            return fmt_signed(value, digits, unit)
        value = snap_zero(float(value))
    return fmt_number(value, digits, signed=signed, unit=unit)


def pct(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "%")


def pp(value) -> str:
    return _fmt(value, 2, True, "个百分点")


def bp(value) -> str:
    return _fmt(value, 0, True, "个基点")


def amount(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "万元")


def count(value, signed: bool = False, unit: str = "户") -> str:
    return _fmt(value, 0, signed, unit)


def _cell(value, digits: int = 2) -> str:
    """A table cell: the unit is in the header; counts whole."""
    return _fmt(value, digits)


CHINESE_NUMBERS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (list numbering in official documents)."""
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else CHINESE_NUMBERS[tens - 1]}十{CHINESE_NUMBERS[ones - 1] if ones else ''}"


def period_name(period: pd.Timestamp) -> str:
    """2023-06 → 2023年上半年, 2023-09 → 2023年前三季度, 2023-12 → 2023年, 2023-05 → 2023年1—5月."""
    spans = {3: "一季度", 6: "上半年", 9: "前三季度", 12: ""}
    span = spans.get(period.month, f"1—{period.month}月")
    return f"{period.year}年{span}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


#: what a document shows for a setting the office has not filled in (联系人, 联系电话): a line to write on
BLANK = "＿＿＿＿＿＿"


def _common(
    policy, period: pd.Timestamp, issued: date, reply_by: date, settings: DocumentSettings, document: str
) -> dict:
    """The fields both documents share: the notice, the period, and the letterhead of the period's
    policy year (``documents.yaml``: issuer, 发文机关标志, 发文字号 prefix, 抄送, 联系人) for
    ``document`` (``bulletin`` or ``letter``)."""
    year = settings.years.get(period.year)
    issuer = (year.issuer if year else "") or policy.issuing_office
    mark = (year.bulletin_mark if document == "bulletin" else year.letter_mark) if year else ""
    prefix = (year.bulletin_number_prefix if document == "bulletin" else year.letter_number_prefix) if year else ""
    return {
        "office": policy.issuing_office,
        "notice": policy.notice,
        "notice_title": policy.title,
        "jurisdiction": policy.jurisdiction or "",
        "period": f"{period:%Y-%m}",
        "period_end": f"{period.year}年{period.month}月末",
        "period_name": period_name(period),
        "year": period.year,
        "year_end": period.month == 12,
        "issued": chinese_date(issued),
        "issue_year": issued.year,
        "reply_deadline": chinese_date(reply_by),
        "reply_days": settings.reply_days,
        "issuer": issuer,
        "issuer_mark": mark or (f"{issuer}文件" if document == "bulletin" else issuer),
        # the number is the office's to assign (文书编号): the draft leaves two full-width spaces
        "doc_number": f"{prefix}〔{issued.year}〕\u3000\u3000号" if prefix else "",
        "printed": f"{chinese_date(issued)}印发",
        "copy_to": "，".join(year.copy_to) if year else "",
        "contact_name": settings.contact.name or BLANK,
        "contact_phone": settings.contact.phone or BLANK,
    }


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
        text = f"较年初{wording.change(row['inclusive_ytd_increase'])}，年度计划{plan_completion_phrase(row['plan_completion_pct'])}"
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


def _highlights(ctx, best: dict[str, list[str]]) -> list[dict]:
    """成效: what went well, with the best performers named (as real 通报 do)."""
    from analysis.content import overview

    policy, banks, out = ctx.policy, ctx.banks, []
    if policy.in_force("two_increases"):
        judged = banks[banks["status_two_increases"].isin(["met", NOT_MET])]
        met = int((judged["status_two_increases"] == "met").sum())
        text = f"{len(judged)}家参与考核的银行业机构中，{met}家实现{policy.label('two_increases')}目标"
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


def _watch_lists(ctx) -> list[dict]:
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
            "number": chinese_number(1),
            "title": "利率明显高于同类机构，需继续加大压降力度",
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
                "balance": _cell(values["普惠贷款余额（万元）"]),
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
    for i, target in enumerate(overview.target_lists(ctx), start=1):
        rows = [
            {
                "number": str(n),
                "id": str(r["institution_id"]),
                "name": str(r["name"]),
                "category": str(r["category"]),
                "division": str(r["division"]),
                "measure": _miss_measure(target, r),
                "detail": _miss_detail(target, r),
            }
            for n, (_, r) in enumerate(target.rows.iterrows(), start=1)
        ]
        measure = "未达标项" if target.status == "status_two_increases" else target.columns[_measure_column(target)]
        misses.append(
            {
                "number": chinese_number(i),
                "title": target.title,
                "count": str(len(rows)),
                "measure": measure,
                "rows": rows,
                "behind": wording.names(target.behind),
                "behind_count": str(len(target.behind)),
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
            "balance": _cell(r["普惠贷款余额（万元）"]),
            "increase": _cell(r["较年初增量（万元）"]),
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
        "watch": _watch_lists(ctx),
        "insurers": insurers,
        "insurer_rows": insurer_rows,
        "counties": counties,
    }


# ---------------------------------------------------------------- a letter

#: the institution's own figures a letter lists, by sector (indicator column, how it is shown)
LETTER_FIGURES = {
    "bank": [
        ("inclusive_balance_assessed", amount),
        ("inclusive_ytd_growth_pct", pct),
        ("total_loans_ytd_growth_pct", pct),
        ("growth_margin_pp", pp),
        ("inclusive_borrowers", count),
        ("borrowers_change", lambda v: count(v, True)),
        ("inclusive_ytd_increase", lambda v: amount(v, True)),
        ("planned_increase", amount),
        ("plan_completion_pct", pct),
        ("ytd_new_loan_rate_pct", pct),
        ("prior_year_rate_pct", pct),
        ("rate_change_bp", bp),
        ("inclusive_npl_ratio_pct", pct),
        ("total_npl_ratio_pct", pct),
    ],
    "insurer": [
        ("premium_ytd", amount),
        ("premium_yoy_pct", lambda v: pct(v, True)),
        ("sum_insured_yoy_pct", lambda v: pct(v, True)),
        ("claims_to_premium_pct", pct),
    ],
}


#: the letter's figures that belong to one rule: left out in a year whose notice lacks it
RULE_FIGURES = {
    "borrowers_leg": ("inclusive_borrowers", "borrowers_change"),
    "plan": ("planned_increase", "plan_completion_pct"),
    "rate_change": ("prior_year_rate_pct", "rate_change_bp"),
    "npl": ("inclusive_npl_ratio_pct", "total_npl_ratio_pct"),
}


#: labels of reported figures that are not indicators (columns.INDICATOR_COLUMNS names the rest)
FIGURE_LABELS = {
    "inclusive_borrowers": "普惠型小微企业有贷款余额户数",
    "premium_ytd": "小微企业保险保费收入（当年累计）",
}


def _you(category: str, sector: str) -> str:
    if sector == "insurer":
        return "你公司"
    return "你社" if "信用社" in category else "你行"


def letter_label(label: str) -> str:
    """A rule's name as a sentence carries it: “两增”·贷款增速 → “两增”中的贷款增速."""
    return label.replace("·", "中的")


def _growth_sentence(r: pd.Series, policy) -> str:
    from analysis.content.institution import growth_standard

    group = r.get("growth_group", "")
    if isinstance(group, str) and group:
        return (
            f"按{group}总体考核，{group}普惠型小微企业贷款较年初{wording.growth(r['group_inclusive_growth_pct'])}，"
            f"较各项贷款增速{wording.gap(r['group_growth_margin_pp'])}，未达到“{growth_standard(policy)}”的要求；"
            f"本机构较年初{wording.growth(r['inclusive_ytd_growth_pct'])}"
        )
    return (
        f"普惠型小微企业贷款较年初{wording.growth(r['inclusive_ytd_growth_pct'])}，各项贷款较年初"
        f"{wording.growth(r['total_loans_ytd_growth_pct'])}，普惠增速较各项贷款增速{wording.gap(r['growth_margin_pp'])}，"
        f"未达到“{growth_standard(policy)}”的要求"
    )


def _borrowers_sentence(r: pd.Series, policy) -> str:
    from analysis.content.institution import borrowers_standard

    own = (
        f"普惠型小微企业有贷款余额户数{count(r['inclusive_borrowers'])}，较年初"
        f"{wording.change(r['borrowers_change'], '户', 0)}"
    )
    group = r.get("growth_group", "")
    if isinstance(group, str) and group:
        own = f"按{group}总体考核，{group}户数较年初{wording.change(r['group_borrowers_change'], '户', 0)}；本机构{own}"
    return f"{own}，未达到“{borrowers_standard(policy)}”的要求"


def plan_completion_phrase(completion_pct) -> str:
    """完成…的62.64% — or, when the balance fell, 完成率为负 (a negative share is not said as one)."""
    value = pd.to_numeric(completion_pct, errors="coerce")
    return "完成率为负" if pd.notna(value) and value < 0 else f"完成{wording.percent(value)}"


def _plan_sentence(r: pd.Series, period: pd.Timestamp) -> str:
    text = (
        f"普惠型小微企业贷款较年初{wording.change(r['inclusive_ytd_increase'])}，年度信贷计划"
        f"{amount(r['planned_increase'])}，{plan_completion_phrase(r['plan_completion_pct'])}"
    )
    if period.month == 12:
        return f"{text}，全年计划未完成"
    return f"{text}，低于时序进度（{wording.percent(r['time_progress_pct'])}）"


def _onlending_sentence(ictx) -> str:
    from analysis.content.institution import onlending_rows

    quarters = onlending_rows(ictx)
    missed = quarters[quarters["status_onlending"] == NOT_MET] if not quarters.empty else quarters
    return "；".join(
        f"{wording.quarter_name(q.quarter)}通过转贷款发放的小微企业贷款终端平均利率{wording.percent(q.end_borrower_rate)}，"
        f"较{wording.quarter_name(q.benchmark_quarter)}当地同类机构同类贷款平均利率（{wording.percent(q.benchmark_rate_pct)}）"
        f"{wording.gap(q.rate_gap_bp, '个基点', 0)}"
        for q in missed.itertuples()
    )


def _high_rate_sentence(r: pd.Series) -> str:
    return (
        f"当年新发放普惠型小微企业贷款加权平均利率{wording.percent(r['ytd_new_loan_rate_pct'])}，较同类机构中位数"
        f"（{wording.percent(r['category_rate_median_pct'])}）"
        f"{wording.gap((r['ytd_new_loan_rate_pct'] - r['category_rate_median_pct']) * 100, '个基点', 0)}，在同类"
        f"{int(r['rate_peer_count'])}家机构中由低到高排第{int(r['rate_rank_in_category'])}位，属利率明显偏高的机构；"
        f"较上年{wording.rise(r['rate_change_bp'], '个基点', 0)}"
    )


def indicator_phrase(indicator: str, label: str, value) -> str:
    """A watch item's figure said in words after its name: 信用贷款占比较年初变化 −1.29 → 信用贷款占比较年初
    下降1.29个百分点; 小微企业保险保费收入同比增速 −5 → …同比下降5.00%."""
    from analysis.content.institution import _label_unit

    unit = _label_unit(indicator)[1]
    digits = 0 if unit in ("户", "件", "个基点", "BP") else 2
    unit = "个基点" if unit == "BP" else unit
    if label.endswith("增速"):
        return f"{label.removesuffix('增速')}{wording.growth(value)}"
    if label.endswith("变化"):
        stem = label.removesuffix("变化")
        said = (
            wording.rise(value, unit, digits)
            if unit in ("个百分点", "个基点", "%")
            else wording.change(value, unit, digits)
        )
        return f"{stem}{said}"
    return f"{label}{wording.figure(value, digits, unit)}"


def letter_context(ictx, issued: date, settings: DocumentSettings, reply_by: date | None = None) -> dict | None:
    """Every field of :data:`LETTER_FIELDS` for one institution, or None when it has nothing to be
    told: no 未达标 verdict and no flag the notice names (a rate markedly above its peers').

    Built from the institution's own verdicts (:func:`analysis.content.institution.verdicts`, those
    of its evaluation report) and its own row, every sign said in words; each shortfall once, under
    the rule that judged it: a bank under 差异化考核 has its growth leg judged by its plan, so the
    plan's shortfall is said once, as 差异化考核, and its recommendation is the plan's."""
    from analysis.content.institution import verdicts

    policy, r, period = ictx.policy, ictx.row, ictx.period
    year_end = period.month == 12
    headline = verdicts(ictx)
    not_met = [v for v in headline if v.status == NOT_MET]
    high_rate = [v for v in headline if v.key == "high_rate" and v.status == WATCH]
    if not not_met and not high_rate:
        return None
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)
    ti = policy.two_increases
    on_plan = bool(r.get("differentiated")) and ti is not None and ti.differentiated_on_plan
    plan_missed = any(v.key == "plan" for v in not_met)

    def item(number: int, key: str, label: str, text: str, clause: str) -> dict:
        return {
            "number": chinese_number(number),
            "key": key,
            "label": label,
            "text": text,
            "clause": clause,
            "citation": f"{policy.notice}{clause}",
            "recommendation": policy.recommendation(key, year_end),
        }

    sentences = {
        "growth_leg": lambda: _growth_sentence(r, policy),
        "borrowers_leg": lambda: _borrowers_sentence(r, policy),
        "plan": lambda: _plan_sentence(r, period),
        "rate_change": lambda: (
            f"当年新发放普惠型小微企业贷款加权平均利率{wording.percent(r['ytd_new_loan_rate_pct'])}，较上年"
            f"（{wording.percent(r['prior_year_rate_pct'])}）{wording.rise(r['rate_change_bp'], '个基点', 0)}"
        ),
        "npl": lambda: (
            f"普惠型小微企业贷款不良率{wording.percent(r['inclusive_npl_ratio_pct'])}，较各项贷款不良率"
            f"（{wording.percent(r['total_npl_ratio_pct'])}）{wording.gap(r['npl_gap_pp'])}，超出"
            f"{wording.figure(r['npl_tolerance_pp'], 1, '个百分点')}的容忍度"
        ),
        "high_rate": lambda: _high_rate_sentence(r),
        "onlending": lambda: _onlending_sentence(ictx),
    }
    shortfalls = []
    for v in not_met:
        key, label, clause = v.key, letter_label(v.label), v.clause
        if key == "growth_leg" and on_plan:
            if plan_missed:
                continue  # the same figure as the plan's shortfall: said once, there
            key, label = "plan", f"{letter_label(policy.label('plan'))}（差异化考核）"
            text = _plan_sentence(r, period)
        elif key == "plan" and on_plan and any(x.key == "growth_leg" for x in not_met):
            label = f"{letter_label(v.label)}（差异化考核）"
            text = _plan_sentence(r, period)
        elif key in sentences:
            text = sentences[key]() or v.text
        else:
            text = indicator_phrase(key, v.label, r.get(key))
        shortfalls.append(item(len(shortfalls) + 1, key, label, text, clause))
    watch = [
        item(n, v.key, letter_label(v.label), _high_rate_sentence(r), v.clause)
        for n, v in enumerate(high_rate, start=1)
    ]
    headline_keys = {v.key for v in headline}
    for check in policy.watch_checks:
        if check.indicator in headline_keys or ictx.sector not in check.sectors:
            continue
        if r.get(f"status_{check.indicator}") == WATCH:
            watch.append(
                item(
                    len(watch) + 1,
                    check.indicator,
                    check.label,
                    indicator_phrase(check.indicator, check.label, r[check.indicator]),
                    check.clause,
                )
            )
    figures = [
        {"label": FIGURE_LABELS.get(column) or INDICATOR_COLUMNS[column][0], "value": show(r[column])}
        for column, show in LETTER_FIGURES.get(ictx.sector, [])
        if column in r.index
        and not any(column in cols and not policy.in_force(rule) for rule, cols in RULE_FIGURES.items())
    ]
    inst = ictx.institution
    you = _you(str(inst["category"]), ictx.sector)
    from analysis.core.contract import COUNTIES

    return {
        **_common(policy, period, issued, reply_by, settings, "letter"),
        "institution": {
            "id": ictx.institution_id,
            "name": ictx.name,
            "category": str(inst["category"]),
            "entity_type": str(inst["entity_type"]),
            "division": str(inst["division"]),
            "county": COUNTIES.get(str(inst["county_code"]), str(inst["county_code"])),
            "you": you,
        },
        "differentiated": (
            f"{you}适用差异化考核，{policy.label('two_increases')}中的贷款增速以信贷计划完成率考核，"
            "下文信贷计划一项即为该项考核结果。"
            if on_plan and any(v.key in ("growth_leg", "plan") for v in not_met)
            else ""
        ),
        "shortfalls": shortfalls,
        "watch": watch,
        "figures": figures,
    }
