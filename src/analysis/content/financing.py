"""What the reports and documents say of the financing coordination mechanism (融资协调工作机制).

Every function takes the period's figures, :meth:`analysis.state.State.financing` (a
:class:`~analysis.rules.financing.FinancingFigures`, or None when the data have no 推荐清单: each then
returns an empty fragment, an empty dict or None, so the reports say nothing of the mechanism):

* :func:`bank_section` — a bank's own pipeline for its report: its figures for the month and the
  year, its verdicts, the firms overdue for a decision (a list it can act on), its refusals by reason
  and its rows left out of the figures (to correct and resend). No other bank is named.
* :func:`city_section` — the office's overview: the city, each county and each bank (names allowed).
* :func:`bulletin_fields` — the fields of a 通报 section (strings, lists of dicts of strings) for a
  docxtpl template.
* :func:`letter_fields` — the paragraph of a 监管提示函 for a bank below a target (None when none).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.content.display import HTML, fmt_number, frame_table, heading, paragraph
from analysis.core.contract import COUNTIES
from analysis.core.periods import month_label
from analysis.core.status import NOT_MET
from analysis.rules.financing import CITY, MEASURE_LABELS, TARGETS, FinancingFigures

#: the unit of every count of the mechanism: a firm pushed to two banks is two 户次
COUNT = "户次"

#: rows of a pipeline table: (measure, unit)
PIPELINE_ROWS: tuple[tuple[str, str], ...] = (
    ("pushed", COUNT),
    ("pushed_visited", COUNT),
    ("contacted", COUNT),
    ("decided", COUNT),
    ("decided_earlier", COUNT),
    ("granted", COUNT),
    ("credit_amount", "万元"),
    ("refused", COUNT),
    ("lent", COUNT),
    ("loan_amount", "万元"),
    ("credit_loans", COUNT),
    ("credit_loan_amount", "万元"),
    ("credit_loan_share_pct", "%"),
    ("first_loans", COUNT),
    ("renewals", COUNT),
    ("renewal_amount", "万元"),
    ("due", COUNT),
    ("due_earlier", COUNT),
    ("contact_rate_pct", "%"),
    ("decided_within_pct", "%"),
    ("overdue", COUNT),
    ("overdue_earlier", COUNT),
)

#: where a row left out of the figures came from, as the bank reads it (its own feedback, or the list)
EXCLUDED_TABLES = {"推荐清单": "推荐清单", "银行反馈": "本机构反馈"}

#: what a bank sees of a row of its own left out of the figures (the detail of feedback_not_pushed
#: names the banks the firm was pushed to: never shown to another bank)
EXCLUDED_REASONS = {
    "invalid_credit_code": "统一社会信用代码无效",
    "dates_out_of_order": "日期顺序错误",
    "feedback_not_pushed": "该企业未推送至本机构",
    "feedback_inconsistent": "反馈内容自相矛盾",
    "credit_above_need": "授信金额远超融资需求",
}


def _value(value: Any, unit: str) -> str:
    if unit == "%":
        return fmt_number(value, 2, unit="%")
    if unit == "万元":
        return fmt_number(value, 2)
    return fmt_number(value, 0)


def _date(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _county(code: Any) -> str:
    return COUNTIES.get(str(code), str(code))


def not_yet(figures: FinancingFigures) -> str:
    """What a report says for a period before the first 推荐清单 (no firm pushed by its end)."""
    since = (
        f"（融资协调工作机制推荐清单自{month_label(figures.first_list)}起报送）"
        if figures.first_list is not None
        else ""
    )
    return f"本期尚无推荐清单{since}。"


def _carried_over(figures: FinancingFigures) -> bool:
    """Whether the lists began before the period's year (the year's flows then include those firms)."""
    first = figures.first_list
    return first is not None and first < pd.Timestamp(year=figures.period.year, month=1, day=1)


def flow_note(figures: FinancingFigures) -> str:
    """The note beside every pipeline table: how its flows and rates are counted."""
    return (
        "推送按推荐日期计入；对接、作出授信决定、授信、放款按发生日期计入，含此前（上年）推送的企业，"
        "故可多于同期推送户次（“其中此前推送企业”列明）。办结时限届满、对接率、按时办结率按办结时限"
        f"（推荐日期后{figures.decision_days}天）届满日计入；超期未办结为截至{month_label(figures.period)}末"
        "尚未作出授信决定的全部企业。单位户次：一户企业推送至两家机构计两户次。"
    )


def _pipeline_table(figures: FinancingFigures, level: str, key: str) -> HTML:
    month, ytd = figures.row(level, key, "month"), figures.row(level, key, "ytd")
    rows = []
    for measure, unit in PIPELINE_ROWS:
        label = MEASURE_LABELS[measure]
        rows.append(
            [
                label,
                _value(month[measure], unit) if month is not None else "—",
                _value(ytd[measure], unit) if ytd is not None else "—",
            ]
        )
    frame = pd.DataFrame(rows, columns=["指标", month_label(figures.period), f"{figures.period:%Y年}累计"])
    return frame_table(frame, css_class="data financing-pipeline") + paragraph(flow_note(figures), "note")


def _standard(figures: FinancingFigures, rate: str) -> str:
    return f"不低于{fmt_number(figures.targets[rate], 2, unit='%')}"


def _verdict_rows(figures: FinancingFigures, institution_id: str) -> list[dict[str, str]]:
    """The bank's verdicts: label, standard, value, status."""
    v = figures.verdicts
    mine = v[v["institution_id"] == institution_id]
    out = []
    for status, rate, _minimum, label in TARGETS:
        if rate not in figures.targets or status not in v or mine.empty:
            continue
        out.append(
            {
                "target": status,
                "label": label,
                "rate": rate,
                "standard": _standard(figures, rate),
                "value": fmt_number(mine[rate].iloc[0], 2, unit="%"),
                "status": str(mine[status].iloc[0]),
            }
        )
    return out


def _overdue_frame(firms: pd.DataFrame, with_bank: bool = False) -> pd.DataFrame:
    columns = {
        "firm_name": "企业名称",
        "credit_code": "统一社会信用代码",
        "county_code": "县区",
        "batch": "推荐批次",
        "list_date": "推荐日期",
        "deadline": "办结时限",
        "days_overdue": "超期天数",
        "status": "当前状态",
    }
    if with_bank:
        columns = {"institution_id": "机构编码", **columns}
    out = firms[list(columns)].copy()
    out["county_code"] = out["county_code"].map(_county)
    for col in ("list_date", "deadline"):
        out[col] = out[col].map(_date)
    out["days_overdue"] = out["days_overdue"].astype(int).astype(str)
    return out.rename(columns=columns).reset_index(drop=True)


def bank_section(
    figures: FinancingFigures | None, institution_id: str, title: str | None = "融资协调工作机制：推荐清单企业对接情况"
) -> HTML:
    """The bank's own pipeline (本机构推荐清单企业对接情况) for its report; empty without the tables.

    Its figures for the month and the year to date, its verdicts where the year sets targets, the
    firms overdue for a decision (超期未办结: a list it can act on), its refusals by reason and its rows
    left out of the figures. Only its own rows: no other bank is named."""
    if figures is None:
        return HTML("")
    out = heading(title, 2) if title else HTML("")
    if not figures.has_lists():
        return out + paragraph(not_yet(figures), "note")
    ytd = figures.row("bank", institution_id, "ytd")
    if ytd is None:
        return out + paragraph(f"截至{month_label(figures.period)}末，推荐清单未向本机构推送企业。", "note")
    out += paragraph(_pipeline_sentence(figures, ytd, "推荐清单向本机构"))
    out += _pipeline_table(figures, "bank", institution_id)
    verdicts = _verdict_rows(figures, institution_id)
    if verdicts:
        clause = figures.rule.clause if figures.rule is not None else ""
        frame = pd.DataFrame(
            {
                "考核项目": [v["label"] for v in verdicts],
                "标准": [v["standard"] for v in verdicts],
                "本机构": [v["value"] for v in verdicts],
                "结论": [v["status"] for v in verdicts],
            }
        )
        out += heading("目标达成情况", 3) + frame_table(frame, status_columns=["结论"])
        if clause:
            out += paragraph(f"依据：{clause}。按本年内办结时限届满的推荐企业计算。", "note")
    overdue = figures.overdue("bank", institution_id)
    out += heading(f"超期未办结企业（{len(overdue)}户次）", 3)
    if overdue.empty:
        out += paragraph(
            f"截至{month_label(figures.period)}末，无推送超过{figures.decision_days}天仍未作出授信决定的企业。"
        )
    else:
        earlier = int(ytd["overdue_earlier"])
        out += paragraph(
            f"以下企业推送已超过{figures.decision_days}天，截至{month_label(figures.period)}末仍未作出授信决定"
            + (f"（其中{earlier}户次办结时限在上年届满，未计入本年考核）" if earlier else "")
            + "，请逐户办结并反馈：",
        )
        out += frame_table(_overdue_frame(overdue), css_class="data financing-overdue")
    reasons = figures.reasons
    mine = reasons[(reasons["level"] == "bank") & (reasons["key"] == institution_id) & (reasons["window"] == "ytd")]
    if not mine.empty:
        frame = pd.DataFrame({"排序": mine["rank"], "未授信原因": mine["reason"], "户次": mine["count"]})
        out += heading("未授信原因（本年累计）", 3) + frame_table(frame.reset_index(drop=True), count_columns=["户次"])
    excluded = figures.excluded[figures.excluded["institution_id"] == institution_id]
    if not excluded.empty:
        out += _excluded_for_bank(excluded)
    return out


def _excluded_for_bank(excluded: pd.DataFrame) -> HTML:
    """A bank's own rows left out, identified as it knows them (推荐批次, 推荐日期, 企业名称, 统一社会信用代码
    and the problem): never the office's file name or row number."""
    batch = excluded["batch"] if "batch" in excluded else pd.Series(None, index=excluded.index)
    listed = excluded["list_date"] if "list_date" in excluded else pd.Series(pd.NaT, index=excluded.index)
    frame = pd.DataFrame(
        {
            "所在表": excluded["table"].map(EXCLUDED_TABLES).fillna(excluded["table"]),
            "推荐批次": batch.where(batch.notna(), "—"),
            "推荐日期": listed.map(_date),
            "企业名称": excluded["firm_name"].fillna("—"),
            "统一社会信用代码": excluded["credit_code"].fillna("—"),
            "问题": excluded["rule"].map(EXCLUDED_REASONS),
        }
    )
    out = heading(f"未计入统计的清单及反馈行（{len(excluded)}行）", 3)
    out += paragraph("以下企业的数据因所列问题未计入上述指标，请核实更正后重新报送：", "note")
    return out + frame_table(frame.reset_index(drop=True), css_class="data financing-excluded")


def _pipeline_sentence(figures: FinancingFigures, ytd: pd.Series, who: str) -> str:
    """The year's pipeline in one sentence (``who``: 推荐清单向本机构 / 全市推荐清单), saying how its
    flows are counted (by the day they happened, firms pushed last year included)."""

    def n(measure: str) -> str:
        return _value(ytd[measure], COUNT)

    carried = _carried_over(figures)
    visited = f"（其中来自走访{n('pushed_visited')}户次）" if who.startswith("全市") else ""
    counted = "对接、办结、授信、放款按发生日期计入，含上年推送企业：" if carried else ""
    earlier = f"（其中上年推送{n('decided_earlier')}户次）" if carried and int(ytd["decided_earlier"]) else ""
    due_earlier = f"（含上年推送{n('due_earlier')}户次）" if int(ytd["due_earlier"]) else ""
    overdue_earlier = (
        f"（其中办结时限在上年届满、未计入本年考核{n('overdue_earlier')}户次）" if int(ytd["overdue_earlier"]) else ""
    )
    return (
        f"{figures.period:%Y年}以来，{who}推送企业{n('pushed')}户次{visited}；{counted}"
        f"对接{n('contacted')}户次，作出授信决定{n('decided')}户次{earlier}，"
        f"授信{n('granted')}户次、金额{fmt_number(ytd['credit_amount'])}万元，放款{n('lent')}户次、"
        f"金额{fmt_number(ytd['loan_amount'])}万元，其中信用贷款占{_value(ytd['credit_loan_share_pct'], '%')}，"
        f"首贷户{n('first_loans')}户次，无还本续贷{n('renewals')}户次。"
        f"办结时限为推荐之日起{figures.decision_days}天；办结时限在本年内届满的{n('due')}户次{due_earlier}中，"
        f"对接率{_value(ytd['contact_rate_pct'], '%')}，按时办结率{_value(ytd['decided_within_pct'], '%')}；"
        f"截至{month_label(figures.period)}末超期未办结{n('overdue')}户次{overdue_earlier}。"
    )


def _scope_frame(figures: FinancingFigures, level: str, names: dict[str, str]) -> pd.DataFrame:
    """A county's or bank's row of the overview: the month's pushes and the year's flows (户次, 万元;
    the units in the table's heading, so the headers stay short enough for A4 portrait)."""
    s = figures.summary
    ytd = s[(s["level"] == level) & (s["window"] == "ytd")].set_index("key")
    month = s[(s["level"] == level) & (s["window"] == "month")].set_index("key")
    frame = pd.DataFrame(
        {
            "名称": [names.get(k, k) for k in ytd.index],
            "本月推送": month["pushed"].reindex(ytd.index).fillna(0).astype(int).to_numpy(),
            "本月走访推送": month["pushed_visited"].reindex(ytd.index).fillna(0).astype(int).to_numpy(),
            "累计推送": ytd["pushed"].astype(int).to_numpy(),
            "累计授信": ytd["granted"].astype(int).to_numpy(),
            "授信金额": ytd["credit_amount"].astype(float).to_numpy(),
            "累计放款": ytd["lent"].astype(int).to_numpy(),
            "放款金额": ytd["loan_amount"].astype(float).to_numpy(),
            "对接率": ytd["contact_rate_pct"].astype(float).to_numpy(),
            "按时办结率": ytd["decided_within_pct"].astype(float).to_numpy(),
            "超期未办结": ytd["overdue"].astype(int).to_numpy(),
        },
        index=ytd.index,
    )
    return frame


#: the units of the overview's county and bank tables, said once in their heading
SCOPE_UNITS = "（单位：户次、万元、%；授信、放款按发生日期计入）"


def _bank_targets_frame(figures: FinancingFigures, names: dict[str, str]) -> pd.DataFrame:
    """Each bank's rates on the firms due in the year and its verdicts (the overview's second bank
    table): 机构编码, 名称, 时限届满, 对接率, 对接结论, 按时办结率, 办结结论, 超期未办结."""
    s = figures.summary
    ytd = s[(s["level"] == "bank") & (s["window"] == "ytd")].set_index("key")
    frame = pd.DataFrame(
        {
            "机构编码": ytd.index.to_numpy(),
            "名称": [names.get(k, k) for k in ytd.index],
            "时限届满": ytd["due"].astype(int).to_numpy(),
            "对接率": ytd["contact_rate_pct"].astype(float).to_numpy(),
        },
        index=ytd.index,
    )
    verdicts = figures.verdicts.set_index("institution_id")
    short = {"status_contact": "对接结论", "status_decision": "办结结论"}
    for status, rate, _minimum, _label in TARGETS:
        if rate == "decided_within_pct":
            frame["按时办结率"] = ytd[rate].astype(float).to_numpy()
        if rate in figures.targets and status in verdicts:
            frame[short[status]] = verdicts[status].reindex(frame.index).fillna("").to_numpy()
    frame["超期未办结"] = ytd["overdue"].astype(int).to_numpy()
    return frame.reset_index(drop=True)


def city_section(
    figures: FinancingFigures | None, institutions: pd.DataFrame, title: str | None = "融资协调工作机制推进情况"
) -> HTML:
    """The office's view (全市融资协调工作机制推进情况): the city, each county and each bank, with names
    and verdicts; empty without the tables. ``institutions``: the dataset's institutions table.

    The banks come in two tables that fit A4 portrait: their flows (推送、授信、放款) and their rates
    and verdicts on the firms due in the year."""
    if figures is None:
        return HTML("")
    out = heading(title, 2) if title else HTML("")
    if not figures.has_lists():
        return out + paragraph(not_yet(figures), "note")
    out += paragraph(bulletin_fields(figures, institutions)["summary"])
    out += _pipeline_table(figures, "city", CITY)
    counties = _scope_frame(figures, "county", dict(COUNTIES)).reset_index(drop=True)
    out += heading("分县区" + SCOPE_UNITS, 3) + frame_table(counties, count_columns=["本月推送", "累计推送"])
    names = dict(zip(institutions["institution_id"], institutions["name"]))
    banks = _scope_frame(figures, "bank", names).drop(columns=["本月走访推送", "对接率", "按时办结率", "超期未办结"])
    banks.insert(0, "机构编码", banks.index)
    out += heading("分机构推送与授信" + SCOPE_UNITS, 3) + frame_table(banks.reset_index(drop=True))
    targets = _bank_targets_frame(figures, names)
    status_columns = [c for c in targets.columns if c.endswith("结论")]
    out += heading("分机构对接率与按时办结率（本年内办结时限届满企业，户次、%）", 3)
    out += frame_table(targets, status_columns=status_columns)
    if figures.targets:
        standards = "；".join(
            f"{label}{_standard(figures, rate)}"
            for _status, rate, _minimum, label in TARGETS
            if rate in figures.targets
        )
        out += paragraph(f"考核标准：{standards}。", "note")
    reasons = figures.reasons
    city_reasons = reasons[(reasons["level"] == "city") & (reasons["window"] == "ytd")]
    if not city_reasons.empty:
        frame = pd.DataFrame(
            {"排序": city_reasons["rank"], "未授信原因": city_reasons["reason"], "户次": city_reasons["count"]}
        )
        out += heading("未授信原因排序（本年累计）", 3) + frame_table(
            frame.reset_index(drop=True), count_columns=["户次"]
        )
    excluded = figures.excluded
    if not excluded.empty:
        counts = excluded.groupby(["institution_id", "rule"]).size().rename("行数").reset_index()
        counts["问题"] = counts.pop("rule").map(EXCLUDED_REASONS)
        counts = counts.rename(columns={"institution_id": "机构编码"})
        out += heading(f"未计入统计的行（{len(excluded)}行，已退回机构更正）", 3)
        out += frame_table(counts[["机构编码", "问题", "行数"]], count_columns=["行数"])
    return out


def bulletin_fields(figures: FinancingFigures | None, institutions: pd.DataFrame) -> dict[str, Any]:
    """The fields of the 通报's section on the mechanism, every value a string (lists of dicts of
    strings): ``summary`` (one paragraph, saying how the flows are counted), ``period_end``,
    ``decision_days``, ``clause``, ``city`` (``pushed, pushed_visited, contacted, decided,
    decided_earlier, granted, credit_amount, refused, lent, loan_amount, credit_loans,
    credit_loan_share, first_loans, renewals, renewal_amount, due, due_earlier, contact_rate,
    decided_within, overdue, overdue_earlier``), ``counties[]`` (``code, county`` and the same keys),
    ``banks_below[]`` (``number, id, name, target, standard, value``), ``reasons[]`` (``rank, reason,
    count``) and ``has_targets`` ("是" or ""). Empty dict without the tables or before the first list."""
    if figures is None:
        return {}
    city = figures.row("city", CITY, "ytd")
    if city is None:
        return {}

    def fields(row: pd.Series) -> dict[str, str]:
        return {
            "pushed": _value(row["pushed"], COUNT),
            "pushed_visited": _value(row["pushed_visited"], COUNT),
            "visited": _value(row["pushed_visited"], COUNT),
            "contacted": _value(row["contacted"], COUNT),
            "decided": _value(row["decided"], COUNT),
            "decided_earlier": _value(row["decided_earlier"], COUNT),
            "granted": _value(row["granted"], COUNT),
            "credit_amount": _value(row["credit_amount"], "万元"),
            "refused": _value(row["refused"], COUNT),
            "lent": _value(row["lent"], COUNT),
            "loan_amount": _value(row["loan_amount"], "万元"),
            "credit_loans": _value(row["credit_loans"], COUNT),
            "credit_loan_share": _value(row["credit_loan_share_pct"], "%"),
            "first_loans": _value(row["first_loans"], COUNT),
            "renewals": _value(row["renewals"], COUNT),
            "renewal_amount": _value(row["renewal_amount"], "万元"),
            "due": _value(row["due"], COUNT),
            "due_earlier": _value(row["due_earlier"], COUNT),
            "contact_rate": _value(row["contact_rate_pct"], "%"),
            "decided_within": _value(row["decided_within_pct"], "%"),
            "overdue": _value(row["overdue"], COUNT),
            "overdue_earlier": _value(row["overdue_earlier"], COUNT),
        }

    s = figures.summary
    counties = []
    for r in s[(s["level"] == "county") & (s["window"] == "ytd")].itertuples(index=False):
        row = pd.Series(r._asdict())
        counties.append({"code": str(row["key"]), "county": _county(row["key"]), **fields(row)})
    names = dict(zip(institutions["institution_id"], institutions["name"]))
    below: list[dict[str, str]] = []
    v = figures.verdicts
    for status, rate, _minimum, label in TARGETS:
        if rate not in figures.targets or status not in v:
            continue
        for r in v[v[status] == NOT_MET].itertuples(index=False):
            inst = str(r.institution_id)
            below.append(
                {
                    "number": str(len(below) + 1),
                    "id": inst,
                    "name": str(names.get(inst, inst)),
                    "target": label,
                    "standard": _standard(figures, rate),
                    "value": fmt_number(getattr(r, rate), 2, unit="%"),
                }
            )
    reasons = figures.reasons
    city_reasons = reasons[(reasons["level"] == "city") & (reasons["window"] == "ytd")]
    return {
        "summary": _pipeline_sentence(figures, city, "全市推荐清单"),
        "period_end": f"{month_label(figures.period)}末",
        "decision_days": str(figures.decision_days),
        "clause": figures.rule.clause if figures.rule is not None else "",
        "has_targets": "是" if figures.targets else "",
        "city": fields(city),
        "counties": counties,
        "banks_below": below,
        "reasons": [
            {"rank": str(r.rank), "reason": str(r.reason), "count": str(r.count)}
            for r in city_reasons.itertuples(index=False)
        ],
    }


def letter_fields(figures: FinancingFigures | None, institution_id: str, you: str = "你行") -> dict[str, Any] | None:
    """The 监管提示函's paragraph on the mechanism for a bank below at least one target, else None.

    ``text`` (the paragraph, addressing the bank as ``you``), ``clause``, ``shortfalls[]`` (``label,
    standard, value, recommendation``), ``overdue_count`` and ``overdue[]`` (``name, code, list_date,
    days``: its own overdue firms, oldest first, at most 20), every value a string. Only the bank's own
    figures. The text says which of the firms due this year were pushed last year and which overdue
    firms' windows ended last year (not judged this year), so its counts add up."""
    if figures is None:
        return None
    missed = [v for v in _verdict_rows(figures, institution_id) if v["status"] == NOT_MET]
    if not missed:
        return None
    rule = figures.rule
    advice = {
        "contact_rate_pct": rule.recommendations.contact if rule is not None else "",
        "decided_within_pct": rule.recommendations.decision if rule is not None else "",
    }
    ytd = figures.row("bank", institution_id, "ytd")
    assert ytd is not None  # a bank with a verdict has figures
    overdue = figures.overdue("bank", institution_id)
    due_earlier = int(ytd["due_earlier"])
    overdue_earlier = int(ytd["overdue_earlier"])
    parts = "；".join(f"{v['label']}{v['value']}，低于{v['standard'].removeprefix('不低于')}的要求" for v in missed)
    text = (
        f"{figures.period:%Y年}以来，推荐清单向{you}推送企业{int(ytd['pushed'])}户次；办结时限（{figures.decision_days}天）"
        f"在本年内届满{int(ytd['due'])}户次"
        + (f"（含上年推送{due_earlier}户次）" if due_earlier else "")
        + f"，{parts}。"
        + (
            f"截至{month_label(figures.period)}末，{you}仍有{len(overdue)}户次推送企业超期未作出授信决定"
            + (f"（其中办结时限在上年届满、未计入本年考核{overdue_earlier}户次）" if overdue_earlier else "")
            + "。"
            if len(overdue)
            else ""
        )
    )
    return {
        "text": text,
        "clause": rule.clause if rule is not None else "",
        "shortfalls": [
            {"label": v["label"], "standard": v["standard"], "value": v["value"], "recommendation": advice[v["rate"]]}
            for v in missed
        ],
        "overdue_count": str(len(overdue)),
        "overdue": [
            {
                "name": str(r.firm_name),
                "code": str(r.credit_code),
                "list_date": _date(r.list_date),
                "days": str(int(r.days_overdue)),
            }
            for r in overdue.head(20).itertuples(index=False)
        ],
    }


__all__ = ["bank_section", "bulletin_fields", "city_section", "flow_note", "letter_fields", "not_yet"]


#: what a report says when the data have no 推荐清单 (before the mechanism, or not yet delivered)
NO_LISTS = "本期数据中无推荐清单，不涉及融资协调工作机制推进情况。"


def report_section(ctx) -> HTML:
    """The bank report's section (its notebook's heading numbers it): :func:`bank_section` of the
    report's period, or a note when the data have no 推荐清单. ``ctx``: an institution's context."""
    if not ctx.state.has_financing():
        return paragraph(NO_LISTS, "note")
    return bank_section(ctx.state.financing(ctx.period), ctx.institution_id, title=None)


def overview_section(ctx) -> HTML:
    """The city overview's section: :func:`city_section` of the period, or a note without 推荐清单.
    ``ctx``: the overview's context."""
    if not ctx.state.has_financing():
        return paragraph(NO_LISTS, "note")
    return city_section(ctx.state.financing(ctx.period), ctx.state.dataset.institutions, title=None)


def verdict_items(ctx) -> list[dict[str, str]]:
    """A bank's verdicts on the year's mechanism targets for its report's headline cards and
    findings (key ``financing_contact`` / ``financing_decision``, label, standard, value, status);
    none without 推荐清单, for a year without targets, or a bank the lists never reached."""
    if ctx.sector != "bank" or not ctx.state.has_financing():
        return []
    figures = ctx.state.financing(ctx.period)
    if figures is None:
        return []
    return [
        {**row, "key": "financing_" + row["target"].removeprefix("status_")}
        for row in _verdict_rows(figures, ctx.institution_id)
    ]
