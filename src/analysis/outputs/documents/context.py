"""What the documents say (文书内容): the 通报's and a letter's fields from the state, with numbers as
the reports show them (万元 with two decimals, percentages, 个百分点, 个基点) and dates in Chinese.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

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


def _detail(target_status: str, row: pd.Series, measure: str, label: str) -> str:
    if target_status == "status_two_increases":
        text = f"未达标项：{row['failed_leg']}；增速差 {pp(row['growth_margin_pp'])}"
        if "borrowers_change" in row.index:  # a year without a borrower leg lists no such column
            text += f"；户数较年初 {count(row['borrowers_change'], True)}"
        return text
    return f"{label.split('（')[0]} {_measure(measure, row[measure])}"


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


def bulletin_context(
    state, period: str, issued: date, settings: DocumentSettings, reply_by: date | None = None
) -> dict:
    """Every field of :data:`BULLETIN_FIELDS` for ``period``, from the state the overview reads."""
    from analysis.content import overview

    ctx = overview.city_context(period, state=state)
    policy, period_end = ctx.policy, ctx.period
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)
    city = state.citywide.loc[period_end] if period_end in state.citywide.index else pd.Series(dtype=object)
    met = city.get("legal_two_increases_met")
    figures = {
        "basis": "含票据贴现和转贴现"
        if policy.two_increases is not None and policy.two_increases.include_bills
        else "剔除票据贴现和转贴现",
        "time_progress": pct(period_end.month / 12 * 100) if period_end.month < 12 else "",
        "legal_two_increases": "—" if met is None or pd.isna(met) else ("完成" if bool(met) else "未完成"),
        "legal_count": count(city.get("legal_count"), unit=""),
        "legal_inclusive_growth": pct(city.get("legal_inclusive_growth_pct")),
        "legal_total_loans_growth": pct(city.get("legal_total_loans_growth_pct")),
        "legal_growth_margin": pp(city.get("legal_growth_margin_pp")),
        "legal_borrowers_change": count(city.get("legal_borrowers_change"), True),
        "legal_plan_completion": pct(city.get("legal_plan_completion_pct")),
        "legal_plan_increase": amount(city.get("legal_plan_increase")),
        "legal_planned_increase": amount(city.get("legal_planned_increase")),
        "legal_plan_count": count(city.get("legal_plan_count"), unit=""),
        "branch_plan_completion": pct(city.get("branch_plan_completion_pct")),
        "branch_plan_increase": amount(city.get("branch_plan_increase")),
        "branch_planned_increase": amount(city.get("branch_planned_increase")),
        "branch_plan_count": count(city.get("branch_plan_count"), unit=""),
    }
    groups = overview.group_summary(ctx.rows, "category")
    categories = []
    for g in groups.itertuples(index=False):
        values = dict(zip(groups.columns, g, strict=True))
        missed, behind = str(values["计划未达标/落后"]).split(" / ") if policy.plan is not None else ("", "")
        categories.append(
            {
                "category": str(values["机构类型"]),
                "count": str(int(values["机构数"])),
                "balance": _cell(values["普惠贷款余额（万元）"]),
                "growth": _cell(values["较年初增速（%）"]),
                "total_loans_growth": _cell(values["各项贷款增速（%）"]),
                "plan_completion": _cell(values["计划完成率（%）"]) if policy.plan is not None else "",
                "rate": _cell(values["累放加权利率（%）"]),
                "npl_ratio": _cell(values["普惠不良率（%）"]),
                "two_increases_missed": str(int(values["两增未达标"])) if policy.in_force("two_increases") else "",
                "plan_missed": missed,
                "plan_behind": behind,
                "rate_rise": str(int(values["利率上升"])) if policy.in_force("rate_change") else "",
                "npl_over": str(int(values["不良超容忍度"])) if policy.in_force("npl") else "",
            }
        )
    misses = []
    for i, target in enumerate(overview.target_lists(ctx), start=1):
        measure = next(c for c in target.columns if c not in ("institution_id", "name", "category", "division"))
        label = target.columns[measure] if target.status != "status_two_increases" else "未达标项"
        rows = [
            {
                "number": str(n),
                "id": str(r["institution_id"]),
                "name": str(r["name"]),
                "category": str(r["category"]),
                "division": str(r["division"]),
                "measure": str(r["failed_leg"])
                if target.status == "status_two_increases"
                else _measure(measure, r[measure]),
                "detail": _detail(target.status, r, measure, label),
            }
            for n, (_, r) in enumerate(target.rows.iterrows(), start=1)
        ]
        misses.append(
            {
                "number": chinese_number(i),
                "title": target.title,
                "count": str(len(rows)),
                "measure": label,
                "rows": rows,
                "behind": "、".join(target.behind),
                "behind_count": str(len(target.behind)),
            }
        )
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
        "categories": categories,
        "misses": misses,
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


def letter_context(ictx, issued: date, settings: DocumentSettings, reply_by: date | None = None) -> dict | None:
    """Every field of :data:`LETTER_FIELDS` for one institution, or None without a 未达标 verdict.

    Built from the institution's own verdicts (:func:`analysis.content.institution.verdicts`, the texts of its
    evaluation report: its own figures, peers only as ranks and category medians) and its own row.
    """
    from analysis.content.institution import describe_value, verdicts
    from analysis.core.contract import COUNTIES

    policy = ictx.policy
    headline = verdicts(ictx)
    if not any(v.status == NOT_MET for v in headline):
        return None
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)

    def item(number: int, key: str, label: str, text: str, clause: str) -> dict:
        return {
            "number": chinese_number(number),
            "key": key,
            "label": label,
            "text": text,
            "clause": clause,
            "citation": f"{policy.notice}{clause}",
            "recommendation": policy.recommendation(key),
        }

    shortfalls = [
        item(n, v.key, v.label, v.text, v.clause)
        for n, v in enumerate((v for v in headline if v.status == NOT_MET), start=1)
    ]
    watch = [
        item(n, v.key, v.label, v.text, v.clause)
        for n, v in enumerate((v for v in headline if v.status == WATCH), start=1)
    ]
    headline_keys = {v.key for v in headline}
    row = ictx.row
    for check in policy.watch_checks:
        if check.indicator in headline_keys or ictx.sector not in check.sectors:
            continue
        if row.get(f"status_{check.indicator}") == WATCH:
            watch.append(
                item(
                    len(watch) + 1,
                    check.indicator,
                    check.label,
                    describe_value(check.indicator, row[check.indicator]),
                    check.clause,
                )
            )
    figures = [
        {"label": FIGURE_LABELS.get(column) or INDICATOR_COLUMNS[column][0], "value": show(row[column])}
        for column, show in LETTER_FIGURES.get(ictx.sector, [])
        if column in row.index
        and not any(column in cols and not policy.in_force(rule) for rule, cols in RULE_FIGURES.items())
    ]
    inst = ictx.institution
    return {
        **_common(policy, ictx.period, issued, reply_by, settings, "letter"),
        "institution": {
            "id": ictx.institution_id,
            "name": ictx.name,
            "category": str(inst["category"]),
            "entity_type": str(inst["entity_type"]),
            "division": str(inst["division"]),
            "county": COUNTIES.get(str(inst["county_code"]), str(inst["county_code"])),
            "you": _you(str(inst["category"]), ictx.sector),
        },
        "shortfalls": shortfalls,
        "watch": watch,
        "figures": figures,
    }
