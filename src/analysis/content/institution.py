"""Content of the per-institution evaluation report (机构评价报告).

The notebook ``notebooks/institution_report.ipynb`` calls these functions and shows what they
return. Peers appear only as ranks, percentiles and category aggregates: nothing here puts
another institution's figures beside its name.

Why this module is long: it is one document — the bank's and insurer's report sections in
reading order (header, verdicts, indicators, peers, findings, appendix, provenance, score card,
loan checks), each one function over the same :class:`InstitutionContext` and the same number
formats. Split, the wording of one report would be spread over several files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.content import wording
from analysis.content.display import (
    COUNT_UNITS,
    HTML,
    bullet_list,
    esc,
    fmt_number,
    frame_table,
    status_badge,
    table,
)
from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.compare import fmt_signed, snap_zero
from analysis.core.contract import COUNTIES, MONTHLY
from analysis.core.errors import ReportInputError
from analysis.core.indicator_defs import label_unit as written_label_unit
from analysis.core.indicator_defs import load_indicator_params
from analysis.core.periods import CHINA_TZ, month_label, parse_period
from analysis.core.policy import Policy
from analysis.core.status import MET, NA, NOT_MET, WATCH
from analysis.rules.indicators import NA_REASONS, ZERO_BASE_NOTE, na_reason_text, onlending_quarters_through
from analysis.state import State, git_commit, load_state, package_version, project_root

#: category aggregates (medians, bands, ranks) are shown only with at least this many institutions
MIN_PEERS = 4


@dataclass
class InstitutionContext:
    state: State
    institution_id: str
    period: pd.Timestamp
    policy: Policy
    institution: pd.Series
    row: pd.Series
    history: pd.DataFrame

    @property
    def sector(self) -> str:
        return self.row["sector"]

    @property
    def name(self) -> str:
        return str(self.institution["name"])

    @property
    def year(self) -> int:
        return int(self.period.year)

    @property
    def peers(self) -> pd.DataFrame:
        """This period's rows of the same category (this institution included)."""
        ind = self.state.indicators
        return ind[(ind["period"] == self.period) & (ind["category"] == self.row["category"])]


NOTEBOOKS = {"bank": "notebooks/institution_report.ipynb", "insurer": "notebooks/insurer_report.ipynb"}


def institution_context(
    institution_id: str,
    period: str,
    data_dir: str | Path = "data/demo",
    params_dir: str | Path = "params",
    state: State | None = None,
    sector: str | None = None,
) -> InstitutionContext:
    """Everything one institution's report needs, for the month-end ``period``.

    ``sector`` ('bank' or 'insurer'), when given, is checked: a bank's report notebook refuses
    an insurer and names the right notebook.
    """
    state = state or load_state(data_dir, params_dir, loans=False)  # its own loan checks only, when asked
    load_indicator_params(state.params_dir)  # the names and units of the indicators written in params
    period_end = parse_period(period)
    inst = state.dataset.institutions.set_index("institution_id")
    if institution_id not in inst.index:
        raise ReportInputError(f"机构编码不在机构名录中 / unknown institution id: {institution_id!r}")
    history = state.indicators[state.indicators["institution_id"] == institution_id]
    current = history[history["period"] == period_end]
    if current.empty:
        raise ReportInputError(f"{institution_id} 无 {period_end:%Y-%m} 数据 / no data for this period")
    actual = current.iloc[0]["sector"]
    if sector is not None and actual != sector:
        raise ReportInputError(
            f"{institution_id} 属于{'保险' if actual == 'insurer' else '银行业'}机构，请使用 "
            f"{NOTEBOOKS[actual]} / wrong notebook for this institution: use {NOTEBOOKS[actual]}"
        )
    return InstitutionContext(
        state=state,
        institution_id=institution_id,
        period=period_end,
        policy=state.policy(period_end.year),
        institution=inst.loc[institution_id],
        row=current.iloc[0],
        history=history.reset_index(drop=True),
    )


# --- small formatting helpers -------------------------------------------------------------


def _fmt(v, digits: int, signed: bool, unit: str) -> str:
    """A figure for report text; zero at the comparison tolerance reads 0 (never "-0.00" or "+0")."""
    if isinstance(v, (float, np.floating)) and not np.isnan(v):
        if signed:
            return fmt_signed(v, digits, unit)
        v = snap_zero(float(v))
    return fmt_number(v, digits, signed=signed, unit=unit)


def _pct(v, signed=False) -> str:
    return _fmt(v, 2, signed, "%")


def _pp(v, signed=True) -> str:
    return _fmt(v, 2, signed, "个百分点")


def _bp(v) -> str:
    return _fmt(v, 0, True, "个基点")


def _amount(v, signed=False) -> str:
    return _fmt(v, 2, signed, "万元")


def _count(v, signed=False, unit="户") -> str:
    return _fmt(v, 0, signed, unit)


def _isnan(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


# --- figures said in words (running text: cards, findings): a sign is never printed ------------

#: the comparison a change or growth label ends its subject with, longest first
COMPARISONS = ("较上年同期", "较年初", "较上年", "同比")


def _compared(subject: str, other: str, value, unit: str = "个百分点", digits: int = 2) -> str:
    """Two figures compared in words: 普惠增速较各项贷款增速低8.00个百分点; at the tolerance 普惠增速与各项贷款增速相当."""
    said = wording.gap(value, unit, digits)
    if said == wording.MISSING:
        return f"{subject}与{other}之差无法计算"
    return f"{subject}与{other}相当" if said == "相当" else f"{subject}较{other}{said}"


def _gap_said(value, unit: str, digits: int) -> str:
    """A gap in words: 高270个基点 / 低100个基点; at the tolerance 两者相当."""
    said = wording.gap(value, unit, digits)
    return "两者相当" if said == "相当" else said


def _said(indicator: str, value, subject: bool = True) -> str:
    """An indicator's value in running text, its sign in words: "制造业小微企业中长期贷款较年初下降0.88%",
    "信用贷款占比较年初下降3.57个百分点", "首贷户数较上年同期减少5户". A change (label ending 变化) or
    growth (增速) says its direction; a level is its figure with its unit. ``subject=False`` leaves the
    indicator's name out and keeps its comparison: "同比增长12.00%"."""
    label, unit = _label_unit(indicator)
    unit = "个基点" if unit == "BP" else unit
    stem, phrase = "", ""
    if label.endswith("变化") and unit in ("个百分点", "个基点"):
        stem, phrase = label[: -len("变化")], wording.rise(value, unit, 0 if unit == "个基点" else 2)
    elif label.endswith("变化") and (unit == "万元" or unit in COUNT_UNITS):
        stem, phrase = label[: -len("变化")], wording.change(value, unit, 2 if unit == "万元" else 0)
    elif label.endswith("增速") and unit == "%":
        stem, phrase = label[: -len("增速")], wording.growth(value)
    if not stem:
        figure = describe_value(indicator, value)
        return f"{label} {figure}" if subject else f"本期 {figure}"
    if subject:
        return f"{stem}{phrase}"
    comparison = next((c for c in COMPARISONS if stem.endswith(c)), "")
    return f"{comparison}{phrase}"


# --- header ---------------------------------------------------------------------------------


def header(ctx: InstitutionContext) -> HTML:
    inst = ctx.institution
    county = COUNTIES.get(str(inst["county_code"]), str(inst["county_code"]))
    kind = "年末" if ctx.period.month == 12 else "年中" if ctx.period.month == 6 else "月度"
    meta = [
        ("机构名称", ctx.name),
        ("机构类型", inst["category"]),
        ("法人或分支", inst["entity_type"]),
        ("所在县区", f"{county}（{inst['county_code']}）"),
        ("监管科室", inst["division"]),
        ("数据期", f"{month_label(ctx.period)}末（{kind}评价）"),
        ("评价依据", f"{ctx.policy.notice}"),
    ]
    if ctx.row["differentiated"]:
        meta.append(("考核方式", f"{ctx.year}年实行差异化考核（以信贷计划完成情况替代增速考核）"))
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta)
    return HTML(
        f'<header class="report-header"><p class="office">{esc(ctx.policy.issuing_office)}</p>'
        f'<h1>{esc(ctx.name)}</h1><p class="subtitle">小微企业金融服务监管评价报告 · {month_label(ctx.period)}</p>'
        f'<table class="meta">{rows}</table></header>'
    )


# --- verdicts -------------------------------------------------------------------------------


@dataclass
class Verdict:
    key: str  # rule key: growth_leg, plan, ...
    label: str
    status: str
    text: str
    clause: str
    #: why the verdict is 不适用 (Chinese, from indicators.NA_REASONS); "" otherwise
    reason: str = ""


def growth_standard(policy: Policy) -> str:
    """The growth leg's standard in words, from the policy's minimum margin ("" without the rule)."""
    if policy.two_increases is None:
        return ""
    m = policy.two_increases.growth_margin_min_pp
    if m == 0:
        return "普惠增速不低于各项贷款增速"
    if m > 0:
        return f"普惠增速高于各项贷款增速不少于 {m:g} 个百分点"
    return f"普惠增速低于各项贷款增速不超过 {-m:g} 个百分点"


def borrowers_standard(policy: Policy) -> str:
    """The borrower leg's standard in words, from the policy's minimum change ("" without the leg)."""
    m = policy.two_increases.borrowers_change_min if policy.two_increases is not None else None
    if m is None:
        return ""
    if m == 0:
        return "不低于年初水平"
    if m > 0:
        return f"较年初增加不少于 {m:g} 户"
    return f"较年初减少不超过 {-m:g} 户"


def verdicts(ctx: InstitutionContext) -> list[Verdict]:
    """The headline verdicts of the notice for this institution and period."""
    r, p = ctx.row, ctx.policy
    if ctx.sector == "insurer":
        out = []
        for check in p.watch_checks:
            if "insurer" in check.sectors:
                out.append(
                    Verdict(
                        check.indicator,
                        check.label,
                        r[f"status_{check.indicator}"],
                        f"本期{_said(check.indicator, r[check.indicator], subject=False)}，"
                        f"要求不低于 {fmt_number(check.min, 0)}",
                        check.clause,
                        _reason(r, check.indicator),
                    )
                )
        out.append(
            Verdict(
                "claims",
                "小微企业保险赔付",
                NA,
                f"当年累计赔款 {_amount(r['claims_paid_ytd'])}，简单赔付率 {_pct(r['claims_to_premium_pct'])}",
                p.info_clause("claims_to_premium_pct"),
            )
        )
        return out
    out = []
    if p.in_force("growth_leg"):
        out.append(
            Verdict(
                "growth_leg",
                p.label("growth_leg"),
                r["status_growth_leg"],
                _growth_text(r, p),
                p.clause("growth_leg"),
                _reason(r, "growth_leg"),
            )
        )
    if p.in_force("borrowers_leg"):
        group = _group_name(r)
        own = (
            f"有贷款余额户数{_count(r['inclusive_borrowers'])}，较年初{wording.change(r['borrowers_change'], '户', 0)}"
        )
        text = (
            f"按{group}总体考核：{group}户数较年初{wording.change(r['group_borrowers_change'], '户', 0)}；本机构{own}"
            if group
            else own
        )
        out.append(
            Verdict(
                "borrowers_leg",
                p.label("borrowers_leg"),
                r["status_borrowers_leg"],
                f"{text}（标准：{borrowers_standard(p)}）",
                p.clause("borrowers_leg"),
                _reason(r, "borrowers_leg"),
            )
        )
    if p.in_force("plan"):
        out.append(
            Verdict(
                "plan",
                p.label("plan"),
                r["status_plan"],
                f"较年初{wording.change(r['inclusive_ytd_increase'])}，年度计划{_amount(r['planned_increase'])}，"
                f"{wording.completion(r['plan_completion_pct'])}（时序进度{_pct(r['time_progress_pct'])}）",
                p.clause("plan"),
                _reason(r, "plan"),
            )
        )
    if p.in_force("rate_change"):
        out.append(
            Verdict(
                "rate_change",
                p.label("rate_change"),
                r["status_rate_change"],
                f"当年累放加权平均利率{_pct(r['ytd_new_loan_rate_pct'])}，上年{_pct(r['prior_year_rate_pct'])}，"
                f"较上年{wording.rise(r['rate_change_bp'], '个基点', 0)}",
                p.clause("rate_change"),
                _reason(r, "rate_change"),
            )
        )
    if p.in_force("high_rate") and r["status_high_rate"] != NA:
        out.append(
            Verdict(
                "high_rate", p.label("high_rate"), r["status_high_rate"], _rate_position(ctx), p.clause("high_rate")
            )
        )
    if p.in_force("npl"):
        out.append(
            Verdict(
                "npl",
                p.label("npl"),
                r["status_npl"],
                f"普惠不良率{_pct(r['inclusive_npl_ratio_pct'])}，各项贷款不良率{_pct(r['total_npl_ratio_pct'])}，"
                f"{_compared('普惠不良率', '各项贷款不良率', r['npl_gap_pp'])}"
                f"（容忍度{wording.standard(r['npl_tolerance_pp'], '个百分点')}）",
                p.clause("npl"),
                _reason(r, "npl"),
            )
        )
    if p.in_force("onlending"):
        verdict = onlending_verdict(ctx)
        if verdict is not None:
            out.append(verdict)
    if p.financing is not None:  # the financing coordination mechanism's targets (融资协调工作机制)
        from analysis.content.financing import verdict_items

        for item in verdict_items(ctx):
            out.append(
                Verdict(
                    item["key"],
                    item["label"],
                    item["status"],
                    f"本年内办结时限届满的推荐企业中，{item['label']} {item['value']}（标准：{item['standard']}）",
                    p.financing.clause,
                )
            )
    # a rule this institution is not subject to is left out; one it is subject to but that cannot
    # be judged (no prior December, no plan ...) stays, with its reason beside 不适用; a rule the
    # year's notice does not have was never added
    return [
        v
        for v in out
        if not (v.status == NA and not v.reason and v.key in ("growth_leg", "borrowers_leg", "plan", "rate_change"))
    ]


def _onlending_quarter_text(q) -> str:
    return (
        f"{q.quarter} 终端平均利率{_pct(q.end_borrower_rate)}，{q.benchmark_quarter} 当地同类机构"
        f"{_pct(q.benchmark_rate_pct)}，{_gap_said(q.rate_gap_bp, '个基点', 0)}"
    )


def onlending_verdict(ctx: InstitutionContext) -> Verdict | None:
    """The headline on-lending verdict (转贷款) over every quarter of the year through the period,
    the quarters the indicator table lists: 未达标 when any quarter missed, naming each missed
    quarter with its figures; else 需关注 when any quarter is to watch; else 达标 when every quarter
    that could be judged met; 不适用 (with the latest quarter's reason) when none could be judged.
    None when the institution has no on-lending quarter this year."""
    p = ctx.policy
    quarters = list(onlending_rows(ctx).sort_values("quarter").itertuples())
    if not quarters:
        return None
    by_status: dict[str, list] = {}
    for q in quarters:
        by_status.setdefault(q.status_onlending, []).append(q)
    latest = quarters[-1]
    reason = ""
    if NOT_MET in by_status or WATCH in by_status:
        status = NOT_MET if NOT_MET in by_status else WATCH
        word = "未达标" if status == NOT_MET else "需关注"
        missed = by_status[status]
        text = "；".join(f"{_onlending_quarter_text(q)}，{word}" for q in missed)
        others = [q.quarter for q in quarters if q.status_onlending == MET]
        if others:
            text += f"；{'、'.join(others)} 达标"
    elif MET in by_status:
        status = MET
        met = by_status[MET]
        span = met[0].quarter if len(met) == 1 else f"{'、'.join(q.quarter for q in met)} 均"
        text = f"{span}达标；{_onlending_quarter_text(met[-1])}"
        unjudged = [q.quarter for q in quarters if q.status_onlending == NA]
        if unjudged:
            text += f"（{'、'.join(unjudged)} 不适用）"
    else:
        status = NA
        text = _onlending_quarter_text(latest)
        reason = NA_REASONS.get(getattr(latest, "na_reason_onlending", ""), "")
    return Verdict("onlending", p.label("onlending"), status, text, p.clause("onlending"), reason)


def _group_name(row: pd.Series) -> str:
    """The group (总体) whose summed balances judge this institution's growth leg, or ""."""
    name = row.get("growth_group", "")
    return name if isinstance(name, str) else ""


def _growth_text(r: pd.Series, p: Policy) -> str:
    """The growth leg's verdict text: the group's figures for a member of a group judged as a whole
    (with its own figure and its share of the group's increase, never another member's), the plan
    for a differentiated bank, else the bank's own growth against all loans."""
    group = _group_name(r)
    if group:
        return (
            f"按{group}总体考核：{group}（{_count(r['group_count'], unit='家')}）普惠型小微企业贷款较年初"
            f"{wording.growth(r['group_inclusive_growth_pct'])}，各项贷款较年初"
            f"{wording.growth(r['group_total_loans_growth_pct'])}，"
            f"{_compared('普惠增速', '各项贷款增速', r['group_growth_margin_pp'])}（标准：{growth_standard(p)}）；"
            f"本机构较年初{wording.growth(r['inclusive_ytd_growth_pct'])}{_group_share(r, group)}"
        )
    ti = p.two_increases
    if r["differentiated"] and ti is not None and ti.differentiated_on_plan:
        return (
            f"差异化考核：以信贷计划完成情况替代增速考核（{wording.completion(r['plan_completion_pct'])}；"
            f"普惠型小微企业贷款较年初{wording.growth(r['inclusive_ytd_growth_pct'])}，各项贷款较年初"
            f"{wording.growth(r['total_loans_ytd_growth_pct'])}）"
        )
    if bool(r.get("growth_leg_zero_base", False)):
        return (
            f"{ZERO_BASE_NOTE}：年初余额为零，较年初{wording.change(r['inclusive_ytd_increase'])}，"
            f"各项贷款较年初{wording.growth(r['total_loans_ytd_growth_pct'])}"
        )
    return (
        f"普惠型小微企业贷款较年初{wording.growth(r['inclusive_ytd_growth_pct'])}，各项贷款较年初"
        f"{wording.growth(r['total_loans_ytd_growth_pct'])}，"
        f"{_compared('普惠增速', '各项贷款增速', r['growth_margin_pp'])}（标准：{growth_standard(p)}）"
    )


def _group_share(r: pd.Series, group: str) -> str:
    """The share of the group's increase (，占<group>增量的40.00%), said only when both the group's and this bank's balance grew (a
    share of a fall, or of a rise the bank fell against, is no share)."""
    share = r.get("group_increase_share_pct")
    if _isnan(share) or snap_zero(float(share)) < 0 or wording.growth(r["inclusive_ytd_growth_pct"]).startswith("下降"):
        return ""
    if wording.growth(r["group_inclusive_growth_pct"]).startswith("下降"):
        return ""
    return f"，占{group}增量的{_pct(share)}"


def _reason(row: pd.Series, rule: str) -> str:
    """The reason beside 不适用, except for a rule the institution is not subject to."""
    if row.get(f"na_reason_{rule}", "") in ("", "not_subject"):
        return ""
    return na_reason_text(row, rule)


def _rate_position(ctx: InstitutionContext) -> str:
    r = ctx.row
    n = int(r["rate_peer_count"]) if not _isnan(r["rate_peer_count"]) else 0
    if n < MIN_PEERS:
        return f"同类机构不足 {MIN_PEERS} 家，不作同业比较"
    flag = "，属利率明显偏高机构" if r["high_rate"] else ""
    return (
        f"在同类 {n} 家机构中由低到高排第 {int(r['rate_rank_in_category'])} 位，"
        f"同类中位数 {_pct(r['category_rate_median_pct'])}{flag}"
    )


def verdict_panel(ctx: InstitutionContext) -> HTML:
    cards = []
    for v in verdicts(ctx):
        cards.append(
            f'<div class="verdict verdict-{v.status.replace("/", "")}"><div class="verdict-head">'
            f'<span class="verdict-label">{esc(v.label)}</span>{status_badge(v.status)}'
            + (f'<span class="na-reason">{esc(v.reason)}</span>' if v.reason else "")
            + "</div>"
            f'<div class="verdict-text">{esc(v.text)}</div><div class="clause">依据：{esc(ctx.policy.notice)}'
            f"{esc(v.clause)}</div></div>"
        )
    return HTML('<div class="verdicts">' + "".join(cards) + "</div>")


# --- full indicator table -------------------------------------------------------------------


def _label_unit(column: str) -> tuple[str, str]:
    if column in INDICATOR_COLUMNS:
        return INDICATOR_COLUMNS[column]
    for col in MONTHLY.columns:
        if col.name == column:
            return col.label_zh, col.unit
    return written_label_unit(column) or (column, "")


def _describe(indicator: str, value) -> str:
    label, unit = _label_unit(indicator)
    if unit == "%":
        return f"{label} {_pct(value, signed=indicator.endswith(('_yoy_pct', '_growth_pct')))}"
    if unit == "个百分点":
        return f"{label} {_pp(value)}"
    if unit in ("BP", "个基点"):
        return f"{label} {_bp(value)}"
    if unit == "万元":
        return f"{label} {_amount(value, signed=indicator.endswith('_change'))}"
    if unit in COUNT_UNITS:
        return f"{label} {_count(value, signed=indicator.endswith('_change'), unit=unit)}"
    return f"{label} {fmt_number(value)}"


def describe_value(indicator: str, value) -> str:
    """An indicator's value as the report writes it, with its unit ("-3.17%", "+842户")."""
    return _describe(indicator, value).split(" ", 1)[-1]


def indicator_rows(ctx: InstitutionContext) -> pd.DataFrame:
    """Every indicator of the notice for this institution: group, indicator, value, standard, status, clause."""
    r, p = ctx.row, ctx.policy
    rows: list[tuple] = []
    rules: list[str] = []  # the rule each row judges ("" for information), in ``frame.attrs["rules"]``

    def add(group, label, value, standard="", status="", clause="", rule=""):
        rows.append((group, label, value, standard, status, clause))
        rules.append(rule)

    def frame() -> pd.DataFrame:
        out = pd.DataFrame(rows, columns=["类别", "指标", "本期值", "标准", "状态", "依据条款"])
        out.attrs["rules"] = rules
        return out

    if ctx.sector == "insurer":
        add("小微保险", "保费收入（当年累计）", _amount(r["premium_ytd"]))
        add("小微保险", "保单件数（当年累计）", _count(r["policies_ytd"], unit="件"))
        add("小微保险", "保险金额（当年累计）", _amount(r["sum_insured_ytd"]))
        add("小微保险", "赔款支出（当年累计）", _amount(r["claims_paid_ytd"]))
        add("小微保险", "简单赔付率", _pct(r["claims_to_premium_pct"]))
        add("小微保险", "保单件数同比", _pct(r["policies_yoy_pct"], True))
        add("小微保险", "赔款支出同比", _pct(r["claims_paid_yoy_pct"], True))
        for c in p.watch_checks:
            if "insurer" in c.sectors:
                add(
                    "小微保险",
                    c.label,
                    _describe(c.indicator, r[c.indicator]).split(" ", 1)[-1],
                    f"≥ {fmt_number(c.min, 0)}",
                    r[f"status_{c.indicator}"],
                    c.clause,
                    c.indicator,
                )
        return frame()

    ti = p.two_increases
    if ti is not None:
        target = p.label("two_increases").strip("“”")
        add(
            target,
            "普惠型小微企业贷款余额（剔除票据）" if not ti.include_bills else "普惠型小微企业贷款余额",
            _amount(r["inclusive_balance_assessed"]),
        )
        add(target, "较年初增量", _amount(r["inclusive_ytd_increase"], True))
        growth_note = f"；{ZERO_BASE_NOTE}" if bool(r.get("growth_leg_zero_base", False)) else ""
        group = _group_name(r)
        if group:
            growth_note += (
                f"；按{group}总体考核（{group}增速差 {_pp(r['group_growth_margin_pp'])}，"
                f"本机构占{group}增量 {_pct(r['group_increase_share_pct'])}）"
            )
        add(
            target,
            "较年初增速 / 各项贷款增速",
            f"{_pct(r['inclusive_ytd_growth_pct'])} / {_pct(r['total_loans_ytd_growth_pct'])}",
            growth_standard(p) + growth_note + _why(r, "growth_leg"),
            r["status_growth_leg"],
            p.clause("growth_leg"),
            "growth_leg",
        )
        if p.in_force("borrowers_leg"):
            add(
                target,
                "有贷款余额户数较年初",
                _count(r["borrowers_change"], True),
                borrowers_standard(p) + _why(r, "borrowers_leg"),
                r["status_borrowers_leg"],
                p.clause("borrowers_leg"),
                "borrowers_leg",
            )
        else:  # shown for information: the year sets no borrower leg
            add(target, "有贷款余额户数较年初", _count(r["borrowers_change"], True))
    if p.plan is not None:
        add(
            "信贷计划",
            "年度计划新增 / 完成率",
            f"{_amount(r['planned_increase'])} / {_pct(r['plan_completion_pct'])}",
            f"≥ {fmt_number(p.plan.completion_min_pct, 0)}%（时序进度 {_pct(r['time_progress_pct'])}）"
            + _why(r, "plan"),
            r["status_plan"],
            p.clause("plan"),
            "plan",
        )
    cost = p.cost
    if cost is not None and cost.max_rate_change_bp is not None:
        add(
            "利率",
            "当年累放加权平均利率 / 上年",
            f"{_pct(r['ytd_new_loan_rate_pct'])} / {_pct(r['prior_year_rate_pct'])}",
            f"变化 ≤ {fmt_number(cost.max_rate_change_bp, 0)} 个基点（本期 {_bp(r['rate_change_bp'])}）"
            + _why(r, "rate_change"),
            r["status_rate_change"],
            p.clause("rate_change"),
            "rate_change",
        )
    else:  # for information: the year has no rule on the change of rates
        add(
            "利率",
            "当年累放加权平均利率 / 上年",
            f"{_pct(r['ytd_new_loan_rate_pct'])} / {_pct(r['prior_year_rate_pct'])}（变化 {_bp(r['rate_change_bp'])}）",
        )
    add("利率", "当月新发放贷款加权平均利率", _pct(r["month_new_loan_rate_pct"]))
    if cost is not None and cost.high_rate_percentile is not None:
        add(
            "利率",
            "同业位置",
            _rate_position(ctx),
            f"高于同类 P{cost.high_rate_percentile:.0f} 且高出中位数 ≥ "
            f"{cost.high_rate_min_excess_bp:.0f} 个基点为利率偏高",
            r["status_high_rate"],
            p.clause("high_rate"),
            "high_rate",
        )
    else:
        add("利率", "同业位置", _rate_position(ctx))
    if p.quality is not None:
        add(
            "资产质量",
            "普惠不良率 / 各项贷款不良率",
            f"{_pct(r['inclusive_npl_ratio_pct'])} / {_pct(r['total_npl_ratio_pct'])}",
            f"高出不超过{wording.standard(r['npl_tolerance_pp'], '个百分点')}（本期 {_pp(r['npl_gap_pp'], False)}）",
            r["status_npl"],
            p.clause("npl"),
            "npl",
        )
    else:
        add(
            "资产质量",
            "普惠不良率 / 各项贷款不良率",
            f"{_pct(r['inclusive_npl_ratio_pct'])} / {_pct(r['total_npl_ratio_pct'])}",
        )
    checked = set()
    for c in p.watch_checks:
        if "bank" not in c.sectors:
            continue
        applies = c.entity_types is None or r["entity_type"] in c.entity_types
        checked.add(c.indicator)
        add(
            "结构与覆盖",
            c.label,
            _describe(c.indicator, r[c.indicator]).split(" ", 1)[-1],
            (f"≥ {fmt_number(c.min, 0)}" + _why(r, c.indicator)) if applies else "",
            r[f"status_{c.indicator}"],
            c.clause,
            c.indicator,
        )
    for info in p.information:
        if "bank" in info.sectors and info.indicator not in checked:
            add(
                "结构与覆盖",
                _label_unit(info.indicator)[0],
                _describe(info.indicator, r[info.indicator]).split(" ", 1)[-1],
                "",
                "",
                info.clause,
            )
    if p.onlending is None:
        return frame()
    gap = p.onlending.max_gap_bp
    for q in onlending_rows(ctx).itertuples():
        reason = NA_REASONS.get(getattr(q, "na_reason_onlending", ""), "")
        add(
            "转贷款",
            f"{q.quarter} 终端平均利率",
            _pct(q.end_borrower_rate),
            f"≤ {q.benchmark_quarter} 当地同类机构 {_pct(q.benchmark_rate_pct)}"
            + (f" {fmt_signed(gap, 0)} 个基点" if gap else "")
            + (f"；不适用原因：{reason}" if q.status_onlending == NA and reason else ""),
            q.status_onlending,
            p.clause("onlending"),
            "onlending",
        )
    return frame()


def _why(row: pd.Series, rule: str) -> str:
    """ "；不适用原因：…" for a verdict that cannot be judged, "" otherwise."""
    reason = _reason(row, rule)
    return f"；不适用原因：{reason}" if reason and row.get(f"status_{rule}") == NA else ""


def indicator_table(ctx: InstitutionContext) -> HTML:
    frame = indicator_rows(ctx)
    return frame_table(frame, status_columns=["状态"], css_class="data indicators")


def onlending_rows(ctx: InstitutionContext) -> pd.DataFrame:
    """This year's on-lending quarters up to the report period (policy bank only)."""
    ol = ctx.state.onlending
    if ol.empty:
        return ol
    # quarters of the year ended by the report period: the same rule as the overview and indicators.xlsx
    return onlending_quarters_through(ol[ol["institution_id"] == ctx.institution_id], ctx.period)


# --- peers: ranks and percentiles only ------------------------------------------------------

PEER_MEASURES = [
    ("inclusive_ytd_growth_pct", "普惠型小微企业贷款较年初增速", False),
    ("plan_completion_pct", "信贷计划完成率", False),
    ("ytd_new_loan_rate_pct", "当年累放贷款加权平均利率", True),
    ("inclusive_npl_ratio_pct", "普惠型小微企业贷款不良率", True),
    ("credit_loan_share_pct", "信用贷款占比", False),
    ("premium_yoy_pct", "小微企业保险保费收入同比增速", False),
]


def peer_ranks(ctx: InstitutionContext) -> pd.DataFrame:
    """Rank (1 = best) and percentile of this institution among its category; no peer names or values.

    Categories with fewer than :data:`MIN_PEERS` institutions reporting a measure are not ranked.
    """
    peers = ctx.peers
    rows = []
    for column, label, lower_is_better in PEER_MEASURES:
        values = peers.set_index("institution_id")[column].dropna()
        if ctx.institution_id not in values.index:
            continue
        n = len(values)
        if n < MIN_PEERS:
            rows.append((label, f"同类机构不足 {MIN_PEERS} 家，不排名", "—", "—"))
            continue
        ranks = values.rank(ascending=lower_is_better, method="min")
        rank = int(ranks[ctx.institution_id])
        better_than = (
            (values > values[ctx.institution_id]).sum()
            if lower_is_better
            else (values < values[ctx.institution_id]).sum()
        )
        percentile = better_than / (n - 1) * 100 if n > 1 else 100.0
        median = values.median()
        rows.append(
            (label, f"第 {rank} / {n} 名", f"优于 {percentile:.0f}% 的同类机构", f"同类中位数 {fmt_number(median, 2)}%")
        )
    return pd.DataFrame(rows, columns=["指标", f"在{ctx.row['category']}中的排名", "百分位", "同类汇总"])


def peer_table(ctx: InstitutionContext) -> HTML:
    frame = peer_ranks(ctx)
    if frame.empty:
        return HTML('<p class="note">本期无可比同类数据。</p>')
    return frame_table(frame, css_class="data peers") + HTML(
        '<p class="note">排名按对小微企业服务更有利的方向排序（增速、完成率、信用贷款占比由高到低；利率、不良率由低到高）；'
        f"同业信息仅以排名、百分位和同类汇总值列示，同类机构不足 {MIN_PEERS} 家时不予列示。</p>"
    )


# --- findings and recommendations -----------------------------------------------------------


@dataclass
class Findings:
    issues: list[str]  # 主要问题 (not met, behind, needing attention)
    strengths: list[str]  # 主要成效 (targets met)
    recommendations: list[str]  # 监管建议


def findings(ctx: InstitutionContext) -> Findings:
    """Findings and recommendations generated from the verdicts, each citing the notice."""
    r, p = ctx.row, ctx.policy
    issues: list[str] = []
    strengths: list[str] = []
    recs: list[str] = []

    def cite(clause: str) -> str:
        return f"（{p.notice}{clause}）"

    def recommend(key: str) -> None:
        text = p.recommendation(key)
        if text and text not in recs:
            recs.append(text)

    headline = verdicts(ctx)
    for v in headline:
        if v.status == NOT_MET:
            issues.append(f"【未达标】{v.label}：{v.text}{cite(v.clause)}。")
            recommend(v.key)
        elif v.status == WATCH:
            lead = "进度落后" if v.key in ("plan", "growth_leg") else "需关注"
            issues.append(f"【{lead}】{v.label}：{v.text}{cite(v.clause)}。")
            recommend(v.key)
        elif v.status == MET:
            strengths.append(f"{v.label}：{v.text}。")
        elif v.status == NA and v.reason:
            issues.append(f"【无法评价】{v.label}：{v.reason}{cite(v.clause)}。")
    headline_keys = {v.key for v in headline}
    for c in p.watch_checks:
        if c.indicator in headline_keys or ctx.sector not in c.sectors:
            continue
        if r[f"status_{c.indicator}"] == WATCH:
            issues.append(f"【需关注】{_said(c.indicator, r[c.indicator])}，低于要求{cite(c.clause)}。")
            recommend(c.indicator)
    if not issues:
        issues.append("本期各项考核指标均达到要求，未发现需关注事项。")
    if not recs:
        recs.append("保持小微企业金融服务力度，巩固现有成效，持续提升服务质量。")
    return Findings(issues, strengths, recs)


def findings_section(ctx: InstitutionContext) -> HTML:
    f = findings(ctx)
    out = HTML("<h3>主要问题</h3>") + bullet_list(f.issues, "findings")
    if f.strengths:
        out += HTML("<h3>主要成效</h3>") + bullet_list(f.strengths, "strengths")
    return out + HTML("<h3>监管建议</h3>") + bullet_list(f.recommendations, "recommendations")


# --- appendix and provenance ----------------------------------------------------------------


#: months a table of the data appendix shows (the year in two halves)
APPENDIX_MONTHS = 6


def data_appendix(ctx: InstitutionContext) -> HTML:
    """This institution's own reported figures for the report year, month by month."""
    year_rows = ctx.history[(ctx.history["year"] == ctx.year) & (ctx.history["period"] <= ctx.period)]
    applicable = [
        c for c in MONTHLY.columns if c.name not in ("institution_id", "period") and year_rows[c.name].notna().any()
    ]
    frame = pd.DataFrame({"数据期": year_rows["period"].dt.strftime("%Y-%m")})
    for col in applicable:
        frame[f"{col.label_zh}（{col.unit}）"] = year_rows[col.name].to_numpy()
    transposed = frame.set_index("数据期").T.reset_index().rename(columns={"index": "项目"})
    months = list(transposed.columns[1:])
    # at most six months a table (1–6月, 7–12月): twelve columns of figures do not fit an A4 page
    # or a phone without breaking the figures or shrinking them past reading
    out = HTML("")
    for start in range(0, len(months), APPENDIX_MONTHS):
        out += frame_table(transposed[["项目", *months[start : start + APPENDIX_MONTHS]]], css_class="data appendix")
    return out


def s71_table_checks(ctx: InstitutionContext) -> HTML:
    """This bank's S71 table checks (表内校验, ``s71-checks.csv`` written by ``analysis import-s71``):
    written totals that differ from the sum of their parts and parts above their whole, each with
    the file and cell of the bank's own return. Only this institution's rows; never another bank's."""
    from analysis.inputs.s71 import CHECKS_FILE

    path = Path(ctx.state.data_dir) / CHECKS_FILE
    if not path.exists():
        return HTML(
            '<p class="note">数据目录中无 S71 表内校验结果（非由 analysis import-s71 导入），未进行表内校验。</p>'
        )
    text = {"institution_id": str, "cell": str, "file": str, "sheet": str, "location": str}
    checks = pd.read_csv(path, dtype=text, encoding="utf-8-sig", keep_default_na=False, na_values={"value": [""]})
    checks["period"] = pd.to_datetime(checks["period"])
    mine = checks[(checks["institution_id"] == ctx.institution_id) & (checks["period"].dt.year == ctx.year)]
    mine = mine[mine["period"] <= ctx.period]
    if mine.empty:
        return HTML(
            f'<p class="note">{ctx.year}年本机构S71报表表内关系（合计＝各项之和、其中项≤总项）校验未发现问题。</p>'
        )
    where = mine["file"].fillna("") + mine["sheet"].fillna("").map(lambda s: f"[{s}]" if s else "")
    frame = pd.DataFrame(
        {
            "数据期": mine["period"].dt.strftime("%Y-%m"),
            "校验关系": mine["check"],
            "单元格": mine["cell"],
            "报送值": mine["value"],
            "应为（各项之和/总项）": mine["expected"],
            "差额": mine["difference"],
            "文件": where,
            "位置": mine["location"],
        }
    )
    # the data-quality requirement of params/loans.yaml (reconcile), with the clause of the report's
    # policy year where its notice numbers one
    from analysis.inputs.loans import load_loan_rules, rule_clause

    rules = Path(ctx.state.params_dir) / "loans.yaml"
    basis = rule_clause(load_loan_rules(rules).raw["reconcile"], ctx.year) if rules.exists() else "统计数据质量"
    note = (
        f'<p class="note">共 {len(mine)} 条表内校验提示：报送的合计数与其组成项不符，或其中项大于总项'
        f"（依据：{esc(basis)}）。考核指标按报表报送值计算。</p>"
    )
    return HTML(note) + frame_table(frame.reset_index(drop=True), css_class="data s71-checks")


def input_file_digests(hashes: dict[str, str]) -> dict[str, str]:
    """The input files' SHA-256 for the office's own copy (the city overview), with the loan-level
    folder as one digest over all its files: its files are named by bank."""
    loans = {k: v for k, v in hashes.items() if k.startswith("data/loans/")}
    out = {k: v for k, v in hashes.items() if k not in loans}
    if loans:
        combined = hashlib.sha256("".join(f"{k}={v};" for k, v in sorted(loans.items())).encode()).hexdigest()
        out[f"data/loans/（{len(loans)} 个借据级文件 / loan-level files）"] = combined
    return out


#: hexadecimal digits of the data fingerprint a report shows
FINGERPRINT_LENGTH = 16


def data_fingerprint(hashes: dict[str, str]) -> str:
    """One fingerprint of every input (data and params) of a run (数据指纹): the SHA-256 of the
    sorted ``name=sha256;`` lines of the input files, its first :data:`FINGERPRINT_LENGTH` hex
    digits. A report an institution receives shows this alone; the office's overview lists the
    files and shows the same fingerprint beside them, so a report can be matched to its inputs."""
    lines = "".join(f"{name}={digest};" for name, digest in sorted(hashes.items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def shown_folder(path: Path | str, root: Path | str | None = None) -> str:
    """A folder as the office's overview names it: relative to the project folder when inside it
    (``data/demo``), else its name only — never a path of the machine that ran the report."""
    folder = Path(path)
    base = Path(root) if root is not None else project_root()
    try:
        resolved, base = folder.resolve(), base.resolve()
    except OSError:
        return folder.name
    if resolved.is_relative_to(base):
        return resolved.relative_to(base).as_posix()
    return resolved.name


#: the parameters a report an institution receives names (never a folder of the office's machine)
REPORT_PARAMETERS = {"institution_id": "机构 institution", "period": "数据期 period"}


def provenance(ctx, parameters: dict | None = None) -> HTML:
    """What made this report (报告来源信息): parameters, code version, data fingerprint, time.

    A report an institution receives (``ctx`` an :class:`InstitutionContext`) names its parameters
    (institution, period), the package version and git commit, and one fingerprint of the data
    (:func:`data_fingerprint`): no folder of the office's machine, no input file's name. The
    office's own copy (the city overview: ``ctx`` a city context or a state) also lists every
    input file with its SHA-256 and the parameters as given.
    """
    state = getattr(ctx, "state", ctx)
    parameters = parameters or {}
    generated = datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S %Z")
    code = [
        ("程序版本 package", f"analysis {package_version()}"),
        ("代码版本 git commit", git_commit()),
        ("数据指纹 data fingerprint", f"sha256:{data_fingerprint(state.hashes)}"),
        ("生成时间 generated", generated),
    ]
    if isinstance(ctx, InstitutionContext):
        given = {**parameters, "institution_id": ctx.institution_id, "period": f"{ctx.period:%Y-%m}"}
        named = [
            (label, f"{ctx.name}（{given[key]}）" if key == "institution_id" else str(given[key]))
            for key, label in REPORT_PARAMETERS.items()
        ]
        rows = named + code
        note = (
            '<p class="note">数据指纹为本次运行全部输入文件（报送数据与参数）SHA-256 的合成摘要，'
            "输入文件清单由监管部门留存。</p>"
        )
    else:
        shown = {k: shown_folder(v) if k.endswith("_dir") and v else v for k, v in parameters.items()}
        rows = [("参数 parameters", json.dumps(shown, ensure_ascii=False, default=str)), *code]
        rows += [(f"输入文件 {name}", f"sha256 {digest}") for name, digest in input_file_digests(state.hashes).items()]
        note = ""
    return (
        HTML('<section class="provenance"><h3>报告来源信息（Provenance）</h3>')
        + table(rows, ["项目", "内容"], css_class="data provenance-table")
        + HTML(note + "</section>")
    )


# --- supervisory evaluation score (监管评价) ---------------------------------------------------


def score_card_data(ctx: InstitutionContext):
    """(items, totals row, number of evaluated banks) for this bank, or None when not evaluated."""
    table, items, totals = ctx.state.scores(ctx.period)
    if table is None or ctx.row["category"] not in table.categories:
        return None
    mine = items[items["institution_id"] == ctx.institution_id]
    total = totals.set_index("institution_id").loc[ctx.institution_id]
    return table, mine, total, int(totals["complete"].sum())


def score_card(ctx: InstitutionContext) -> HTML:
    """The bank's score card (监管评价评分). A year without a scoring table says so and shows no
    score: :meth:`State.scores` never takes another year's table."""
    scoring_table, _, _ = ctx.state.scores(ctx.period)
    if scoring_table is None:
        from analysis.rules.scoring import NO_TABLE_REPORT_NOTE

        return HTML(f'<p class="note">{esc(NO_TABLE_REPORT_NOTE)}。</p>')
    data = score_card_data(ctx)
    if data is None:
        return HTML(f'<p class="note">本机构不在{esc(scoring_table.title)}的参评机构范围内，未计算评分。</p>')
    scoring_table, items, total, n_complete = data
    rows = [
        (r.area, r.item, r.kind, fmt_number(r.points, 2) if r.scored else "未评分", f"{r.min:g} ~ {r.max:g}", r.reason)
        for r in items.itertuples()
    ]
    html = table(rows, ["评价领域", "评分项目", "类型", "得分", "分值范围", "评分说明"], numeric_columns=[3])
    provisional = "" if ctx.period.month == 12 else "（按本期累计数据测算，年度评价以12月末数据为准）"
    if total["complete"]:
        summary = (
            f"总分 {fmt_number(total['total'], 2)} 分（定量 {fmt_number(total['quantitative'], 2)} 分，"
            f"定性 {fmt_number(total['qualitative'], 2)} 分），评价等级：{total['grade']}；"
            f"在全市 {n_complete} 家参评银行中排第 {int(total['rank'])} 名{provisional}。"
        )
    else:
        summary = (
            f"定性评分缺少 {len(total['missing'])} 项（{'、'.join(total['missing'])}），总分与等级待定；"
            f"已计得分 {fmt_number(total['total'], 2)} 分{provisional}。"
        )
    return (
        HTML(f'<p class="score-summary"><strong>{esc(summary)}</strong></p>')
        + html
        + HTML(
            f'<p class="note">评分表：{esc(scoring_table.title)}；'
            f"总分范围 {scoring_table.total.min:g} ~ {scoring_table.total.max:g} 分；等级："
            + esc("，".join(f"{g.grade} ≥ {g.min:g}" for g in scoring_table.grades))
            + "。</p>"
        )
    )


# --- loan-level checks (借据级核查): this institution's own findings only --------------------------

#: rows shown per check in a report; the full lists are in the loan findings workbook
LOAN_ROWS_SHOWN = 20


def rule_label(rules: dict, key: str) -> str:
    """The Chinese name of a loan-level rule (``params/loans.yaml``: a check's ``label``; the
    reconciliation by its ``basis``), never its English key in a report; an unknown key is named
    as such in both languages."""
    entry = rules.get("checks", {}).get(key) or rules.get(key)
    if isinstance(entry, dict):
        label = entry.get("label") or entry.get("basis")
        if label:
            return str(label)
    if key == "reconcile":
        return "S71报表与借据重算核对"
    return f"未命名核查规则 / unnamed rule {key}"


def loan_checks(ctx: InstitutionContext) -> HTML:
    """Reconciliation of this bank's S71 return with its loan-level data, and the supervisory checks
    (逾期未入不良, 多头/过度授信, 新设主体贷款, 无还本续贷占比), each citing the clause of the report's
    policy year (``params/loans.yaml``) — its own findings only; over-crediting shows the city-wide
    count of banks and total line, never another bank."""
    from analysis.inputs.loans import HEADERS_ZH, bank_findings, rule_clause

    findings = ctx.state.loan_findings_for(ctx.institution_id)
    if findings is None:
        return HTML('<p class="note">本期未提供借据级数据（数据目录下无 loans/ 文件夹），未进行借据核查。</p>')
    own = bank_findings(findings, ctx.institution_id, ctx.period)
    rec = own["reconciliation"]
    if rec.empty:
        return HTML(f'<p class="note">{month_label(ctx.period)}无本机构借据级数据，未进行借据核查。</p>')
    parts = []
    summary = own["summary"][["label", "clause", "findings", "amount"]].rename(columns=HEADERS_ZH)
    parts.append("<h3>核查汇总</h3>" + str(frame_table(summary, count_columns=[HEADERS_ZH["findings"]])))
    differing = rec[~rec["within_tolerance"]]
    parts.append(f"<h3>S71报表与借据重算核对（{len(rec)} 项，{len(differing)} 项超出容差）</h3>")
    if differing.empty:
        parts.append('<p class="note">S71 报送值与借据重算值在容差内一致。</p>')
    else:
        table = differing[["item", "reported", "recomputed", "difference", "tolerance", "unit"]]
        parts.append(str(frame_table(table.rename(columns=HEADERS_ZH))))
    checks = findings.rules.raw["checks"]
    for name in ("overdue_not_npl", "over_crediting", "new_borrower"):
        rows = own.get(name)
        if rows is None:
            continue
        label = checks[name]["label"]
        parts.append(f"<h3>{esc(label)}（{len(rows)} 笔）</h3>")
        if rows.empty:
            parts.append('<p class="note">未发现。</p>')
            continue
        shown = rows.drop(
            columns=["institution_id", "period", "rule", "clause", "bank_id", "data_date"], errors="ignore"
        ).head(LOAN_ROWS_SHOWN)
        parts.append(str(frame_table(shown.rename(columns=HEADERS_ZH))))
        if len(rows) > LOAN_ROWS_SHOWN:
            parts.append(f'<p class="note">仅列示前 {LOAN_ROWS_SHOWN} 笔，完整清单见 indicators.xlsx。</p>')
        parts.append(f'<p class="note">依据：{esc(rule_clause(checks[name], ctx.year))}</p>')
    coverage = own.get("coverage")
    if coverage is not None and not coverage.empty and (coverage["not_judged"] > 0).any():
        gaps = coverage[coverage["not_judged"] > 0][["rule", "judged", "not_judged", "reason"]]
        gaps = gaps.assign(rule=gaps["rule"].map(lambda key: rule_label(findings.rules.raw, key)))
        parts.append("<h3>核查覆盖面（未能判断的借据或授信）</h3>" + str(frame_table(gaps.rename(columns=HEADERS_ZH))))
    return HTML("".join(parts))
