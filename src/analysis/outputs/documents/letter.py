"""A letter's fields (监管提示函内容): the institution's own shortfalls and 关注 items, each said once
under the rule that judged it, signs in words, with the year's recommendation (year-end wording at
December), and its own figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analysis.content import wording
from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.status import NOT_MET, WATCH
from analysis.outputs.documents.context import (
    _common,
    amount,
    bp,
    chinese_number,
    count,
    pct,
    pp,
)
from analysis.outputs.documents.templates import DocumentSettings

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


def shortfall_heading(key: str, label: str) -> str:
    """A shortfall's heading as a letter writes it: 信贷计划未完成 (not 信贷计划完成未达标), else …未达标."""
    if key == "plan":
        return "信贷计划未完成" + label.removeprefix(label.split("（")[0])  # keeps （差异化考核）
    return f"{label}未达标"


def letter_label(label: str) -> str:
    """A rule's name as a sentence carries it: “两增”·贷款增速 → “两增”中的贷款增速."""
    return label.replace("·", "中的")


def _growth_sentence(r: pd.Series, policy) -> str:
    from analysis.content.institution import growth_standard

    group = r.get("growth_group", "")
    if isinstance(group, str) and group:
        return (
            f"按{group}总体考核，{group}普惠型小微企业贷款较年初{wording.growth(r['group_inclusive_growth_pct'])}，"
            f"较各项贷款增速{wording.gap(r['group_growth_margin_pp'])}（考核标准：{growth_standard(policy)}）；"
            f"本机构较年初{wording.growth(r['inclusive_ytd_growth_pct'])}"
        )
    return (
        f"普惠型小微企业贷款较年初{wording.growth(r['inclusive_ytd_growth_pct'])}，各项贷款较年初"
        f"{wording.growth(r['total_loans_ytd_growth_pct'])}，普惠增速较各项贷款增速{wording.gap(r['growth_margin_pp'])}"
        f"（考核标准：{growth_standard(policy)}）"
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
    return f"{own}（考核标准：{borrowers_standard(policy)}）"


def _plan_sentence(r: pd.Series, period: pd.Timestamp) -> str:
    text = (
        f"普惠型小微企业贷款较年初{wording.change(r['inclusive_ytd_increase'])}，年度信贷计划"
        f"{amount(r['planned_increase'])}，{wording.completion(r['plan_completion_pct'])}"
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


def _financing(ictx, you: str) -> dict | None:
    """The letter's fields of the financing coordination mechanism (融资协调工作机制) for a bank below
    one of the year's targets, or None (:func:`analysis.content.financing.letter_fields`)."""
    from analysis.content.financing import letter_fields

    state = ictx.state
    if ictx.sector != "bank" or not state.has_financing():
        return None
    return letter_fields(state.financing(ictx.period), ictx.institution_id, you)


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
    inst = ictx.institution
    you = _you(str(inst["category"]), ictx.sector)
    financing = _financing(ictx, you)
    if not not_met and not high_rate and financing is None:
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
            "heading": shortfall_heading(key, label),
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
            f"{wording.standard(r['npl_tolerance_pp'], '个百分点')}的容忍度"
        ),
        "high_rate": lambda: _high_rate_sentence(r),
        "onlending": lambda: _onlending_sentence(ictx),
    }
    shortfalls: list[dict] = []
    for v in not_met:
        if v.key.startswith("financing_"):
            continue  # the mechanism's targets: one item below, with the firms overdue
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
    if financing is not None and policy.financing is not None:
        # the mechanism's targets: one shortfall, its overdue firms listed after the shortfalls
        shortfalls.append(
            {
                **item(
                    len(shortfalls) + 1,
                    "financing",
                    "小微企业融资协调工作机制" + "、".join(x["label"] for x in financing["shortfalls"]),
                    financing["text"].rstrip("。"),
                    policy.financing.clause,
                ),
                "recommendation": "".join(x["recommendation"] for x in financing["shortfalls"]),
            }
        )
    watch = [
        item(n, v.key, letter_label(v.label), _high_rate_sentence(r), v.clause)
        for n, v in enumerate(high_rate, start=1)
    ]
    for v in headline:  # behind time progress at mid-year (进度落后): the report's and the 通报's 关注 too
        if v.status == WATCH and v.key in ("plan", "growth_leg"):
            text = _plan_sentence(r, period) if v.key == "plan" else _growth_sentence(r, policy)
            watch.append(item(len(watch) + 1, v.key, letter_label(v.label), text, v.clause))
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
        "financing_overdue": [
            {"number": str(n), **firm} for n, firm in enumerate(financing["overdue"] if financing else [], start=1)
        ],
        "financing_overdue_count": financing["overdue_count"] if financing else "0",
        "watch": watch,
        "figures": figures,
    }
