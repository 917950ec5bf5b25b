"""Export the indicator table of one period as an Excel workbook with Chinese headers.

Three sheets: 机构指标 (every institution's indicators and verdicts), 全市三项通报指标 (the three
city-wide figures) and 转贷款 (policy-bank on-lending, the quarters of the period's year that have
ended by the period). Headers, statuses and yes/no values are Chinese; counts (户, 件, 家, 名) carry
the whole-number format ``#,##0``, amounts and rates ``#,##0.00`` (the stored value keeps its full
precision).

Text from the data is written as text, never as a formula, by the project's one Excel writer
(:mod:`analysis.core.workbook`): a name such as ``=HYPERLINK("http://…")`` is a string cell with Excel's
quote-prefix flag, unchanged, so names match the source data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.content.display import COUNT_UNITS
from analysis.core.columns import INDICATOR_COLUMNS, STATUS_COLUMNS
from analysis.core.contract import MONTHLY, ONLENDING
from analysis.core.errors import ReportInputError
from analysis.core.status import STATUS_LABELS
from analysis.core.workbook import COUNT_FORMAT, DECIMAL_FORMAT, YES_NO, Book, add_sheet, new_book
from analysis.rules.indicators import NA_REASONS, onlending_quarters_through

IDENTITY_LABELS = {
    "institution_id": "机构编码",
    "name": "机构名称",
    "category": "机构类型",
    "entity_type": "法人或分支",
    "county_code": "县区代码",
    "division": "监管科室",
    "sector": "行业",
    "period": "数据期",
    "year": "年度",
    "month": "月份",
    "npl_tolerance_pp": "不良容忍度（个百分点）",
}

CITYWIDE_LABELS = {
    "legal_count": "法人银行家数",
    "legal_inclusive_balance": "法人银行普惠型小微企业贷款余额（万元）",
    "legal_inclusive_base": "法人银行普惠型小微企业贷款年初余额（万元）",
    "legal_inclusive_growth_pct": "法人银行普惠型小微企业贷款较年初增速（%）",
    "legal_total_loans": "法人银行各项贷款余额（万元）",
    "legal_total_loans_base": "法人银行各项贷款年初余额（万元）",
    "legal_total_loans_growth_pct": "法人银行各项贷款较年初增速（%）",
    "legal_growth_margin_pp": "增速差（个百分点）",
    "legal_borrowers": "法人银行普惠型小微企业贷款户数（户）",
    "legal_borrowers_base": "法人银行年初户数（户）",
    "legal_borrowers_change": "户数较年初变化（户）",
    "legal_two_increases_met": "法人银行总体“两增”是否完成",
    "legal_plan_count": "法人银行（有计划）家数",
    "legal_plan_increase": "法人银行普惠型小微企业贷款较年初增量（万元）",
    "legal_planned_increase": "法人银行信贷计划合计（万元）",
    "legal_plan_completion_pct": "法人银行总体信贷计划完成率（%）",
    "branch_plan_count": "分支银行（有计划）家数",
    "branch_plan_increase": "分支银行普惠型小微企业贷款较年初增量（万元）",
    "branch_planned_increase": "分支银行信贷计划合计（万元）",
    "branch_plan_completion_pct": "分支银行总体信贷计划完成率（%）",
}
#: the verdicts a policy year may have or lack (status_<rule> and na_reason_<rule> columns)
STATUS_RULES = ("growth_leg", "borrowers_leg", "two_increases", "plan", "rate_change", "high_rate", "npl")


def citywide_labels(policy) -> dict[str, str]:
    """The city-wide columns of ``policy``'s year, in its words: the quantity target's group (法人银行,
    or the year's group such as 地方法人银行) and label, without the figures of rules it lacks."""
    from analysis.content.overview import quantity_group_name

    out = dict(CITYWIDE_LABELS)
    if policy.two_increases is None:
        out = {k: v for k, v in out.items() if k.startswith(("legal_plan", "branch_plan"))}
    else:
        group = quantity_group_name(policy)
        for key, label in CITYWIDE_LABELS.items():
            if key.startswith("legal_") and not key.startswith("legal_plan"):
                out[key] = label.replace("法人银行", group)
        out["legal_two_increases_met"] = f"{group}总体{policy.label('two_increases')}是否完成"
        if not policy.in_force("borrowers_leg"):
            out = {k: v for k, v in out.items() if not k.startswith("legal_borrowers")}
    if policy.plan is None:
        out = {k: v for k, v in out.items() if "plan" not in k}
    return out


#: units of the city-wide figures: the bracketed unit of the label, 家 for the institution counts
CITYWIDE_UNITS = {k: (m.group(1) if (m := re.search(r"（(.+)）$", v)) else "") for k, v in CITYWIDE_LABELS.items()}
CITYWIDE_UNITS.update({"legal_count": "家", "legal_plan_count": "家", "branch_plan_count": "家"})

#: the on-lending sheet: contract columns by their contract label, computed columns described
ONLENDING_LABELS = {
    "institution_id": ONLENDING.column("institution_id").label_zh,
    "name": "机构名称",
    "quarter": ONLENDING.column("quarter").label_zh,
    "onlending_amount": f"{ONLENDING.column('onlending_amount').label_zh}（万元）",
    "end_borrower_rate": f"{ONLENDING.column('end_borrower_rate').label_zh}（%）",
    "benchmark_quarter": "基准季度（上季度）",
    "benchmark_rate_pct": "上季度当地同类机构新发放普惠型小微企业贷款加权平均利率（%）",
    "rate_gap_bp": "终端平均利率与基准之差（BP）",
    "status_onlending": "状态：终端利率不高于基准",
    "na_reason_onlending": "不适用原因",
}
ONLENDING_UNITS = {"onlending_amount": "万元", "end_borrower_rate": "%", "benchmark_rate_pct": "%", "rate_gap_bp": "BP"}
ONLENDING_NOTE = "本表列示数据期所在年度、截至数据期已结束的季度（季末不晚于数据期）。"


#: the engine's flags beside the indicators (see analysis.rules.indicators.EXTRA_COLUMNS)
EXTRA_LABELS = {
    "growth_leg_zero_base": "年初余额为零，增速视同达标",
    "has_base": "有上年末基数",
    "has_last_year": "有上年同期数据",
    "npl_tolerance_pp": "不良率容忍度（个百分点）",
}


def column_labels() -> dict[str, str]:
    """English column name -> Chinese header, for every column of the indicator table."""
    labels = dict(IDENTITY_LABELS)
    labels.update({c.name: f"{c.label_zh}（{c.unit}）" if c.unit else c.label_zh for c in MONTHLY.columns})
    labels.update({k: f"{zh}（{unit}）" if unit else zh for k, (zh, unit) in INDICATOR_COLUMNS.items()})
    labels.update({k: f"{zh}（{unit}）" if unit else zh for k, (zh, unit) in _written().items()})
    labels.update({k: f"状态：{v}" for k, v in STATUS_COLUMNS.items()})
    return labels


def _written() -> dict[str, tuple[str, str]]:
    """Labels and units of the columns and indicators written in params (params/indicators.yaml)."""
    from analysis.core.indicator_defs import written_labels

    return written_labels()


def column_units() -> dict[str, str]:
    """English column name -> unit (万元, 户, %, …) for the numeric columns of the indicator table."""
    units = {"npl_tolerance_pp": "个百分点"}
    units.update({c.name: c.unit for c in MONTHLY.columns if c.unit})
    units.update({k: unit for k, (_, unit) in INDICATOR_COLUMNS.items() if unit})
    units.update({k: unit for k, (_, unit) in _written().items() if unit})
    return units


def export_indicators(
    data: Path | str, period: str, out: Path | str | None = None, params_dir: Path | str = "params"
) -> Path:
    """Validate, compute and write the indicator workbook of ``period`` (default reports/<period>/)."""
    from analysis.core.periods import parse_period
    from analysis.state import load_state

    period_end = parse_period(period)
    state = load_state(data, params_dir)
    out = Path(out) if out else Path("reports") / f"{period_end:%Y-%m}" / "indicators.xlsx"
    return write_indicator_workbook(state, period_end, out)


def _write_sheet(
    book: Book,
    title: str,
    frame: pd.DataFrame,
    labels: Mapping[str, str],
    units: Mapping[str, str],
    header_notes: Mapping[str, str] | None = None,
) -> None:
    """One sheet: Chinese headers, numbers as numbers in the unit's format, text as text."""
    formats = {name: COUNT_FORMAT if units[name] in COUNT_UNITS else DECIMAL_FORMAT for name in frame if name in units}
    add_sheet(book, title, frame, labels, formats, header_notes, booleans=YES_NO)


def write_indicator_workbook(state, period_end: pd.Timestamp, out: Path | str) -> Path:
    """Sheets: every institution's indicators (Chinese headers), the three city-wide figures, and
    the on-lending quarters of the period's year ended by the period (see :func:`onlending_quarters_through`)."""
    ind = state.indicators
    selected = ind[ind["period"] == period_end]
    if selected.empty:
        raise ReportInputError(f"无 {period_end:%Y-%m} 数据 / no data for period {period_end:%Y-%m}")
    labels = column_labels()
    for watch in (c for c in selected.columns if c.startswith("status_") and c not in labels):
        name = watch.removeprefix("status_")
        labels[watch] = "状态：" + (INDICATOR_COLUMNS.get(name) or _written().get(name) or (watch, ""))[0]
    labels.update(EXTRA_LABELS)
    table = selected.copy()
    policy = state.policy(period_end.year) if period_end.year in state.policies else None
    city_labels = dict(CITYWIDE_LABELS)
    if policy is not None:  # the year's rules only, in the year's words
        absent = [r for r in STATUS_RULES if not policy.in_force(r)]
        table = table.drop(columns=[f"{k}_{r}" for r in absent for k in ("status", "na_reason") if f"{k}_{r}" in table])
        from analysis.core.policy import DEFAULT_LABELS

        renamed = [r for r in STATUS_RULES if r not in absent and policy.label(r) != DEFAULT_LABELS[r]]
        labels.update({f"status_{r}": f"状态：{policy.label(r)}" for r in renamed})
        city_labels = citywide_labels(policy)
    status_cols = [c for c in table.columns if c.startswith("status_")]
    table[status_cols] = table[status_cols].replace(STATUS_LABELS)
    for reason in (c for c in table.columns if c.startswith("na_reason_")):
        rule = reason.removeprefix("na_reason_")
        verdict = labels.get(f"status_{rule}", rule).removeprefix("状态：")
        labels[reason] = f"不适用原因：{verdict}"
        table[reason] = table[reason].map(lambda code: NA_REASONS.get(code, "") if isinstance(code, str) else "")
    table["period"] = table["period"].dt.strftime("%Y-%m")

    city = state.citywide
    city = city.loc[[period_end]] if period_end in city.index else city.iloc[0:0]
    city = city.reset_index()
    city["period"] = pd.to_datetime(city["period"]).dt.strftime("%Y-%m")
    city = city[
        ["period"]
        + [c for c in city_labels if c in city]
        + [c for c in city.columns if c != "period" and c not in CITYWIDE_LABELS]
    ]

    onlending = onlending_quarters_through(state.onlending, period_end)
    names = state.dataset.institutions.set_index("institution_id")["name"]
    onlending.insert(1, "name", onlending["institution_id"].map(names))
    if "status_onlending" in onlending:
        onlending["status_onlending"] = onlending["status_onlending"].replace(STATUS_LABELS)
    if "na_reason_onlending" in onlending:
        onlending["na_reason_onlending"] = onlending["na_reason_onlending"].map(
            lambda code: NA_REASONS.get(code, "") if isinstance(code, str) else ""
        )
    onlending = onlending[
        [c for c in ONLENDING_LABELS if c in onlending] + [c for c in onlending.columns if c not in ONLENDING_LABELS]
    ]

    with new_book(out) as book:
        _write_sheet(book, "机构指标", table, labels, column_units())
        _write_sheet(book, "全市三项通报指标", city, {"period": "数据期", **city_labels}, CITYWIDE_UNITS)
        _write_sheet(
            book, "转贷款", onlending, ONLENDING_LABELS, ONLENDING_UNITS, header_notes={"quarter": ONLENDING_NOTE}
        )
        if getattr(state, "loans", None) is not None:  # loan-level reconciliation and checks (借据核查), all banks
            from analysis.inputs.loans import findings_sheets

            for sheet, frame in findings_sheets(state.loans, period_end).items():
                frame = frame.copy()
                for col in frame.columns:
                    if pd.api.types.is_datetime64_any_dtype(frame[col]):
                        frame[col] = frame[col].dt.strftime("%Y-%m-%d")
                _write_sheet(book, sheet, frame, {c: c for c in frame.columns}, {})
    return Path(out)
