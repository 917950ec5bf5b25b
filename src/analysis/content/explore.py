"""Questions an analyst asks between report runs (探索分析), answered as DataFrames.

The report notebooks answer one question per institution; `notebooks/explore.ipynb` is the place
to think across them. Every function here takes the validated :class:`~analysis.state.State`
(``load_state(data_dir, params_dir)``) and returns a plain DataFrame with Chinese labels where a
person reads them:

- :func:`indicator_panel` — one indicator for every institution and month (机构 × 月份);
- :func:`county_view` — one county's institutions at one period (县区视图);
- :func:`what_if` — re-decide the verdicts with one or more policy thresholds changed
  (阈值假设分析), and list every verdict that would change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.core.columns import INDICATOR_COLUMNS, STATUS_COLUMNS
from analysis.core.contract import COUNTIES
from analysis.core.errors import ParamsError, ReportInputError
from analysis.core.periods import month_label, parse_period
from analysis.core.policy import Policy
from analysis.core.status import STATUS_LABELS
from analysis.rules.indicators import compute_indicators
from analysis.state import State


def _label(column: str) -> str:
    if column in INDICATOR_COLUMNS:
        label, unit = INDICATOR_COLUMNS[column]
        return f"{label}（{unit}）" if unit else label
    return STATUS_COLUMNS.get(column, column)


def indicator_panel(
    state: State, indicator: str, *, sector: str | None = "bank", category: str | None = None, year: int | None = None
) -> pd.DataFrame:
    """One indicator across institutions (rows: 机构编码, 机构名称, 机构类型) and month-ends (columns).

    ``sector`` is ``"bank"``, ``"insurer"`` or None for both; ``category`` narrows to one 机构类型;
    ``year`` to one year's months. Status columns (``status_plan`` …) come out as 达标/未达标 text.
    """
    ind = state.indicators
    if indicator not in ind.columns:
        known = ", ".join(sorted(set(INDICATOR_COLUMNS) | set(STATUS_COLUMNS)))
        raise ReportInputError(f"未知指标 / unknown indicator {indicator!r}; one of: {known}")
    rows = ind
    if sector is not None:
        rows = rows[rows["sector"] == sector]
    if category is not None:
        rows = rows[rows["category"] == category]
    if year is not None:
        rows = rows[rows["year"] == year]
    values = rows[indicator]
    if indicator.startswith("status_"):
        values = values.map(STATUS_LABELS)
    panel = (
        rows.assign(_value=values, _month=rows["period"].dt.strftime("%Y-%m"), category=rows["category"].astype(str))
        .set_index(["institution_id", "name", "category", "_month"])["_value"]
        .unstack("_month")
    )
    panel.index.names = ["机构编码", "机构名称", "机构类型"]
    panel.columns.name = _label(indicator)
    return panel


def county_view(
    state: State,
    county: str,
    period: str | pd.Timestamp,
    columns: tuple[str, ...] = (
        "inclusive_balance_assessed",
        "inclusive_ytd_growth_pct",
        "growth_margin_pp",
        "borrowers_change",
        "plan_completion_pct",
        "ytd_new_loan_rate_pct",
        "inclusive_npl_ratio_pct",
        "status_two_increases",
        "status_plan",
    ),
) -> pd.DataFrame:
    """The banks of one county (GB/T 2260 code such as ``411381`` or its name such as ``邓州市``)
    at ``period``, one row each, with Chinese column headers."""
    codes = {name: code for code, name in COUNTIES.items()}
    code = codes.get(county, county)
    if code not in COUNTIES:
        raise ReportInputError(f"县区不存在 / unknown county {county!r}; one of: {'、'.join(COUNTIES.values())}")
    period_end = parse_period(period)
    ind = state.indicators
    rows = ind[(ind["county_code"] == code) & (ind["period"] == period_end) & (ind["sector"] == "bank")]
    out = rows.set_index(["institution_id", "name", "category"])[list(columns)].copy()
    for col in columns:
        if col.startswith("status_"):
            out[col] = out[col].map(STATUS_LABELS)
    out.index.names = ["机构编码", "机构名称", "机构类型"]
    out.columns = [_label(c) for c in columns]
    out.attrs["title"] = f"{COUNTIES[code]} {month_label(period_end)}"
    return out


def with_changes(policy: Policy, changes: Mapping[str, Any]) -> Policy:
    """A copy of ``policy`` with dotted keys replaced (``{"plan.completion_min_pct": 95}``),
    validated like a params file; an unknown key or a bad value raises ParamsError."""
    data = policy.model_dump()
    for key, value in changes.items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node, dict) or part not in node:
                raise ParamsError(f"what-if {key}", [f"未知参数 / unknown policy key {key!r}"])
            node = node[part]
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ParamsError(f"what-if {key}", [f"未知参数 / unknown policy key {key!r}"])
        node[parts[-1]] = value
    try:
        return Policy.model_validate(data)
    except ValueError as exc:
        raise ParamsError("what-if", [str(exc)]) from None


def what_if(
    state: State, year: int, changes: Mapping[str, Any], period: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Verdicts that change when the year's policy thresholds change (阈值假设分析).

    Recomputes every indicator of ``year`` under the changed policy (the files in params/ stay as
    they are) and lists each institution, period and verdict whose status differs, before → after.
    ``period`` narrows to one month-end.
    """
    base = state.policy(year)
    changed = with_changes(base, changes)
    from analysis.core.indicator_defs import load_indicator_params

    written = load_indicator_params(state.params_dir)
    after = compute_indicators(state.dataset, {**state.policies, year: changed}, written)
    before = state.indicators
    keys = ["institution_id", "period"]
    status_cols = [c for c in before.columns if c.startswith("status_") and c in after.columns]
    mask_b = before["year"] == year
    mask_a = after["year"] == year
    if period is not None:
        period_end = parse_period(period)
        mask_b &= before["period"] == period_end
        mask_a &= after["period"] == period_end
    b = before.loc[mask_b, [*keys, "name", *status_cols]].melt(
        id_vars=[*keys, "name"], var_name="verdict", value_name="before"
    )
    a = after.loc[mask_a, [*keys, *status_cols]].melt(id_vars=keys, var_name="verdict", value_name="after")
    both = b.merge(a, on=[*keys, "verdict"])
    diff = both[both["before"] != both["after"]].copy()
    diff["verdict"] = diff["verdict"].map(_label)
    diff["before"] = diff["before"].map(STATUS_LABELS)
    diff["after"] = diff["after"].map(STATUS_LABELS)
    diff["period"] = diff["period"].dt.strftime("%Y-%m")
    diff = diff.rename(
        columns={
            "institution_id": "机构编码",
            "name": "机构名称",
            "period": "数据期",
            "verdict": "评价项目",
            "before": "现行参数",
            "after": "假设参数",
        }
    )
    return diff.sort_values(["数据期", "机构编码", "评价项目"]).reset_index(drop=True)


__all__ = ["indicator_panel", "county_view", "what_if", "with_changes"]
