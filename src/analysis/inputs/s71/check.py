"""Checking and converting cells (校验与换算): every cell against its form version (year suffix, known
code, band), totals derived where a mart leaves them out and checked where written (表内校验), units to
万元, cells to the monthly figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.errors import RULES, Issue
from analysis.inputs.s71.form import (
    check_issues,
    column_of,
    derivation_hint,
    locate,
    parse_item,
)
from analysis.inputs.s71.versions import UNIT_TO_WAN, FormVersion, ImportSettings, form_for

# --- checking and converting cells ------------------------------------------------------------


def _issue_at(row, rule: str, column: str | None, detail: str) -> Issue:
    return locate(row.file, row.sheet, row.location, column, detail, rule)


def _once_per(cells: pd.DataFrame, by: list[str]) -> list[tuple[Any, int]]:
    """The first cell of each group (in reading order) and the group's size: one message for what
    is one problem (an unknown bank's whole return is one problem, not one per row)."""
    sizes = cells.groupby(by, sort=False, dropna=False).size()
    firsts = cells.drop_duplicates(by)
    return [(row, int(sizes.loc[tuple(getattr(row, k) for k in by)])) for row in firsts.itertuples(index=False)]


def _how_many(n: int) -> str:
    return f"；该文件中共 {n:,} 行/单元格，所列为第一处 / {n:,} rows (cells) in this file, the first one given"


def _unknown_reason(
    item: str, cell: str | None, year: int | None, form: FormVersion, versions: list[FormVersion]
) -> str:
    """Why an item is not a cell of ``form``: a wrong year suffix, a cell of another version, or none."""
    base = f"{item}（{form.version} 版/uses form-{form.version}）"
    if cell is None:
        return base + "：不是S71单元格编码 / not an S71 cell code"
    known = form.form.cells.get(cell)
    if known is not None and year is not None and year != known.year:
        return (
            base + f"：该版本 {cell} 为 {known.year} 年单元格，后缀 .{year} 不符 / "
            f"in form-{form.version} {cell} is a {known.year} cell, not .{year}"
        )
    elsewhere = [f.version for f in versions if cell in f.form.cells and f.version != form.version]
    if elsewhere:
        return (
            base
            + f"：{cell} 仅见于 form-{'/'.join(map(str, elsewhere))} / only in form-{'/'.join(map(str, elsewhere))}"
        )
    return base


def check_cells(
    cells: pd.DataFrame,
    versions: list[FormVersion],
    org_to_id: dict[str, str],
    known_ids: set[str] | None,
    settings: ImportSettings,
    issues: list[Issue],
) -> pd.DataFrame:
    """Resolve institutions and versions, refuse unknown/duplicate cells, convert units.

    The form version is the one in force at the data date; a cell is known when its code is a cell
    of that version and, when the code carries a year (``S71_I_1.4.A1.2018``), the cell has that
    year. Returns the cells with ``institution_id``, ``version``, ``year`` (the cell's year in the
    form) and ``value_wan`` (amounts in 万元, counts in 户) added.
    """
    if cells.empty:
        return cells.assign(institution_id=[], version=[], year=[], value_wan=[])
    cells = cells.copy()
    cells["institution_id"] = cells["org_num"].map(lambda o: org_to_id.get(o, o))
    periods = {p: form_for(versions, p) for p in cells["period"].unique()}
    versions_of = {p: (f.version if f is not None else None) for p, f in periods.items()}
    cells["version"] = cells["period"].map(versions_of)
    by_version = {f.version: f for f in versions}
    parsed = {item: parse_item(item) for item in cells["item"].unique()}
    suffix = cells["item"].map(lambda i: getattr(parsed[i], "year", None))  # float: NaN where none
    year_of = {(f.version, c): d.year for f in versions for c, d in f.form.cells.items()}
    unknown_inst = (
        (~cells["institution_id"].isin(known_ids)) if known_ids is not None else pd.Series(False, index=cells.index)
    )
    no_version = ~unknown_inst & cells["version"].isna()
    form_year = pd.Series([year_of.get((v, c)) for v, c in zip(cells["version"], cells["cell"])], index=cells.index)
    known = form_year.notna() & (suffix.isna() | (suffix == form_year))
    unknown_item = ~unknown_inst & ~no_version & ~known
    bad_unit = ~unknown_inst & ~no_version & ~unknown_item & ~cells["unit"].isin(list(UNIT_TO_WAN))
    for row, n in _once_per(cells[unknown_inst], ["file", "org_num"]):
        detail = f"{row.org_num} → {row.institution_id}" + (_how_many(n) if n > 1 else "")
        issues.append(_issue_at(row, "unknown_institution", "ORG_NUM", detail))
    for row, n in _once_per(cells[no_version], ["file", "period"]):
        issues.append(
            _issue_at(row, "s71_no_form_version", row.item, str(row.period.date()) + (_how_many(n) if n > 1 else ""))
        )
    for row, year in zip(cells[unknown_item].itertuples(index=False), suffix[unknown_item]):
        year = None if pd.isna(year) else int(year)  # the suffix as written: .2021, never .2021.0
        reason = _unknown_reason(row.item, row.cell, year, by_version[row.version], versions)
        issues.append(_issue_at(row, "s71_unknown_item", row.item, f"{row.period.date()} {reason}"))
    for row in cells[bad_unit].itertuples(index=False):
        issues.append(_issue_at(row, "s71_unknown_unit", row.item, str(row.unit)))
    keep = ~(unknown_inst | no_version | unknown_item | bad_unit).to_numpy()
    cells = cells[keep].reset_index(drop=True)
    cells["year"] = pd.Series(form_year[keep].to_numpy(), dtype="Int64")
    if cells.empty:
        return cells.assign(value_wan=pd.Series(dtype=float))
    key = ["institution_id", "period", "cell"]
    dup = cells.duplicated(key, keep="first")
    if dup.any():
        first = cells[~dup].set_index(key)["location"]
        for row in cells[dup].itertuples(index=False):
            other = first.loc[(row.institution_id, row.period, row.cell)]
            issues.append(
                _issue_at(
                    row,
                    "s71_duplicate_cell",
                    row.item,
                    f"{row.institution_id} {row.period.date()} {row.cell}；另见/also {other}",
                )
            )
        cells = cells[~dup].reset_index(drop=True)
    kind_of = {(f.version, c): d.kind for f in versions for c, d in f.form.cells.items()}
    kinds = pd.Series([kind_of[(v, c)] for v, c in zip(cells["version"], cells["cell"])], index=cells.index)
    factor = cells["unit"].map(UNIT_TO_WAN)
    is_amount = (kinds == "amount").to_numpy()
    value = cells["value"].astype(float)
    cells["value_wan"] = np.where(is_amount, (value * factor).round(settings.amount_decimals), value)
    for row in cells[~is_amount & (value != np.round(value))].itertuples(index=False):
        issues.append(_issue_at(row, "not_whole_number", row.item, f"{row.cell}: {row.value}"))
    _refuse_negative(cells, by_version, issues)
    return cells


def _refuse_negative(cells: pd.DataFrame, by_version: dict[int, FormVersion], issues: list[Issue]) -> None:
    """A negative cell, unless its column may be negative in the form (``signed: true`` in
    ``params/s71/form.yaml``: a change since the start of the year; S71_I has none — its columns are
    balances, borrowers and year-to-date sums)."""
    letter = cells["cell"].map(column_of)
    signed = pd.Series(
        [c in by_version[v].signed_columns for v, c in zip(cells["version"], letter)], index=cells.index, dtype=bool
    )
    negative = (cells["value"].astype(float) < 0) & ~signed
    for row, col in zip(cells[negative].itertuples(index=False), letter[negative]):
        label, kind = by_version[row.version].columns[col]
        unit = row.unit if kind == "amount" else "户"
        value = f"{row.value:,.2f}" if kind == "amount" else f"{row.value:,.0f}"
        issues.append(
            _issue_at(
                row,
                "s71_negative_cell",
                row.item,
                f"{row.institution_id} {row.period.date()} {row.cell}（{label}）= {value} {unit}",
            )
        )


def _detail_rows(
    details: list[pd.DataFrame], org_to_id: dict[str, str], versions: list[FormVersion], settings: ImportSettings
) -> pd.DataFrame | None:
    """The detail exports' rows for drill-down: institution, month, cell, value in 万元/户, where."""
    if not details:
        return None
    rows = pd.concat(details, ignore_index=True)
    kinds = {k: kind for k, (_, kind) in versions[0].columns.items()}
    is_amount = rows["cell"].map(lambda c: c is not None and kinds.get(column_of(c) or "") == "amount")
    factor = rows["unit"].map(UNIT_TO_WAN).fillna(1.0)
    value = rows["value"].astype(float)
    rows["value_wan"] = np.where(is_amount, (value * factor).round(settings.amount_decimals), value)
    rows.insert(0, "institution_id", rows["org_num"].map(lambda o: org_to_id.get(o, o)))
    names = settings.detail.get("columns", {}) or {}
    rows = rows.rename(columns={c: f"{c} {names[c]}" for c in rows.columns if c in names})
    rows = rows.rename(columns={"line": "row"}).drop(columns=["sheet", "location", "unit_basis"])
    return rows


def check_needed_cells(cells: pd.DataFrame, versions: list[FormVersion], issues: list[Issue]) -> None:
    """Every cell the version's mapping needs, written or derived, for every institution-month present."""
    by_version = {f.version: f for f in versions}
    present = cells.groupby(["institution_id", "period"])["cell"].agg(set)
    first_row = cells.drop_duplicates(["institution_id", "period"]).set_index(["institution_id", "period"])
    for (inst, period), have in present.items():
        form = by_version[first_row.at[(inst, period), "version"]]
        row = first_row.loc[(inst, period)]
        for cell in form.needed_cells:
            if cell not in have:
                hint = derivation_hint(form.form, cell, have)
                issues.append(
                    locate(
                        row["file"],
                        row["sheet"],
                        "",
                        cell,
                        f"{inst} {period.date()}: {cell}" + (f"（无法推算/cannot derive: {hint}）" if hint else ""),
                        "s71_missing_cell",
                    )
                )


def _plausibility(cells: pd.DataFrame, versions: list[FormVersion], issues: list[Issue]) -> None:
    """Average balance per borrower must be possible under single credit ≤1000万 in the stated unit."""
    for form in versions:
        rules = form.plausibility
        mine = cells[cells["version"] == form.version]
        bal = mine[mine["cell"] == rules["balance"]].set_index(["institution_id", "period"])
        borr = mine[mine["cell"] == rules["borrowers"]].set_index(["institution_id", "period"])["value_wan"]
        bal = bal.join(borr.rename("borrowers"), how="inner")
        bal = bal[(bal["borrowers"] > 0) & (bal["value_wan"] > 0)]
        avg = bal["value_wan"] / bal["borrowers"]
        low, high = float(rules["min_avg_per_borrower"]), float(rules["max_avg_per_borrower"])
        for (inst, period), row in bal[(avg < low) | (avg > high)].iterrows():
            a = row["value_wan"] / row["borrowers"]
            declared = row["unit"]
            likely = [
                u for u, f in UNIT_TO_WAN.items() if u != declared and low <= a / UNIT_TO_WAN[declared] * f <= high
            ]
            cause = (
                f"可能单位为{likely[0]} / likely in {likely[0]}"
                if likely
                else "各单位下均不合理，请核对余额与户数 / implausible in every unit: check balance and borrowers"
            )
            issues.append(
                _issue_at(
                    row,
                    "s71_unit_implausible",
                    rules["balance"],
                    f"{inst} {period.date()}: 按{declared}（{row['unit_basis']}）户均余额 "
                    f"{a:,.4f} 万元，合理范围 {low}–{high} 万元 / average per borrower outside "
                    f"{low}–{high} 万元; {cause}",
                )
            )


def cells_to_monthly(cells: pd.DataFrame, versions: list[FormVersion]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monitoring-table columns from S71 cells, and the provenance of every figure."""
    key = ["institution_id", "period"]
    records, provenance = [], []
    for form in versions:
        mine = cells[cells["version"] == form.version]
        if mine.empty:
            continue
        wide = mine.pivot(index=key, columns="cell", values="value_wan")
        meta = mine.set_index(key + ["cell"])
        out = pd.DataFrame(index=wide.index)
        for column, terms in form.mapping.items():
            total = sum(sign * wide[cell] for sign, cell in terms)
            kind = form.column_kind(terms[0][1])
            out[column] = total.round(2) if kind == "amount" else total
            first = meta.xs(terms[0][1], level="cell")
            where = first["location"]
            written = first["item"].astype(str).replace("", "推算/derived")
            for _, cell in terms[1:]:
                other = meta.xs(cell, level="cell")
                where = where + "; " + other["location"].reindex(where.index).fillna("")
                other_item = other["item"].astype(str).replace("", "推算/derived")
                written = written + "; " + other_item.reindex(written.index).fillna("")
            item = " ".join(("-" if s < 0 else ("+" if i else "")) + c for i, (s, c) in enumerate(terms)).strip()
            prov = pd.DataFrame(
                {
                    "value": out[column],
                    "column": column,
                    "source": "S71",
                    "form_version": form.version,
                    "item": item,
                    "item_as_written": written,
                    "file": first["file"],
                    "sheet": first["sheet"],
                    "location": where,
                    "unit": first["unit"] if kind == "amount" else "户",
                    "unit_basis": first["unit_basis"],
                    "factor_to_wan": first["unit"].map(UNIT_TO_WAN) if kind == "amount" else 1.0,
                }
            )
            provenance.append(prov[out[column].notna()].reset_index())
        records.append(out.reset_index())
    monthly = pd.concat(records, ignore_index=True) if records else pd.DataFrame(columns=key)
    prov_cols = [
        "institution_id",
        "period",
        "column",
        "value",
        "source",
        "form_version",
        "item",
        "item_as_written",
        "file",
        "sheet",
        "location",
        "unit",
        "unit_basis",
        "factor_to_wan",
    ]
    prov = pd.concat(provenance, ignore_index=True)[prov_cols] if provenance else pd.DataFrame(columns=prov_cols)
    return monthly, prov


def format_check_findings(checks: pd.DataFrame, checks_file: Path | str) -> str:
    """What ``analysis import-s71`` prints for the table checks, saying what really becomes of them:
    the data are imported, the indicators use the figures as the bank wrote them (a written total is
    not replaced by the sum of its parts, nor marked 不适用), and each finding goes to ``checks_file``
    and to the bank's own report (section "S71 报表表内校验"). Empty when there is none."""
    if checks.empty:
        return ""
    issues = check_issues(checks)
    lines = [
        f"表内校验提示：共 {len(issues)} 条。数据已导入，指标按报表报送值计算（报送的合计数照常使用，"
        f"不以各项之和替代，也不标为不适用）；各条已写入 {checks_file}，并列入该机构评价报告的“S71 报表表内校验”"
        f"部分，由该机构核实更正 / table checks: {len(issues)} finding(s). The data are imported and the "
        "indicators are computed from the figures as written (a written total is used as it stands, neither "
        f"replaced by the sum of its parts nor marked n/a); each finding is in {checks_file} and in the "
        "bank's own report (section “S71 报表表内校验”) for the bank to verify and correct"
    ]
    for rule, n in pd.Series([i.rule for i in issues]).value_counts(sort=False).items():
        zh, en = RULES[str(rule)]
        lines.append(f"  {n:>5} × [{rule}] {zh} / {en}")
    lines.append("")
    lines += ["提示/finding " + i.format() for i in issues]
    return "\n".join(lines)
