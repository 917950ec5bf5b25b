"""Export the indicator table of one period as an Excel workbook with Chinese headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.contract import MONTHLY
from analysis.files import atomic_path
from analysis.columns import INDICATOR_COLUMNS, STATUS_COLUMNS
from analysis.status import STATUS_LABELS

IDENTITY_LABELS = {
    "institution_id": "机构编码", "name": "机构名称", "category": "机构类型", "entity_type": "法人或分支",
    "county_code": "县区代码", "division": "监管科室", "sector": "行业", "period": "数据期",
    "year": "年度", "month": "月份", "npl_tolerance_pp": "不良容忍度（个百分点）",
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


def column_labels() -> dict[str, str]:
    """English column name -> Chinese header, for every column of the indicator table."""
    labels = dict(IDENTITY_LABELS)
    labels.update({c.name: f"{c.label_zh}（{c.unit}）" if c.unit else c.label_zh for c in MONTHLY.columns})
    labels.update({k: f"{zh}（{unit}）" if unit else zh for k, (zh, unit) in INDICATOR_COLUMNS.items()})
    labels.update({k: f"状态：{v}" for k, v in STATUS_COLUMNS.items()})
    return labels


def export_indicators(data: Path | str, period: str, out: Path | str | None = None,
                      params_dir: Path | str = "params") -> Path:
    """Validate, compute and write the indicator workbook of ``period`` (default reports/<period>/)."""
    from analysis.periods import parse_period
    from analysis.state import load_state

    period_end = parse_period(period)
    state = load_state(data, params_dir)
    out = Path(out) if out else Path("reports") / f"{period_end:%Y-%m}" / "indicators.xlsx"
    return write_indicator_workbook(state, period_end, out)


def write_indicator_workbook(state, period_end: pd.Timestamp, out: Path | str) -> Path:
    """Sheets: every institution's indicators (Chinese headers), the three city-wide figures, on-lending."""
    ind = state.indicators
    selected = ind[ind["period"] == period_end]
    if selected.empty:
        raise ValueError(f"no data for period {period_end:%Y-%m} / 无该期数据")
    labels = column_labels()
    for watch in (c for c in selected.columns if c.startswith("status_") and c not in labels):
        labels[watch] = "状态：" + INDICATOR_COLUMNS.get(watch.removeprefix("status_"), (watch, ""))[0]
    table = selected.copy()
    status_cols = [c for c in table.columns if c.startswith("status_")]
    table[status_cols] = table[status_cols].replace(STATUS_LABELS)
    table["period"] = table["period"].dt.strftime("%Y-%m")
    city = state.citywide
    city = city.loc[[period_end]] if period_end in city.index else city.iloc[0:0]
    with atomic_path(out) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            table.rename(columns=labels).to_excel(writer, sheet_name="机构指标", index=False)
            city.reset_index().rename(columns={"period": "数据期", **CITYWIDE_LABELS}).to_excel(
                writer, sheet_name="全市三项通报指标", index=False)
            state.onlending.to_excel(writer, sheet_name="转贷款", index=False)
    return Path(out)
