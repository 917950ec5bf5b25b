"""Merging with the tidy monitoring table (合并): S71 figures beside the tidy table's, agreement where
both give one, the org map, and :func:`import_s71`, which writes the monthly table, its provenance and
the table-check findings only when there is no problem — replacing in the data folder only what an
import wrote before (:mod:`analysis.inputs.s71.folder`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.contract import MONTHLY, TABLES, Table, monthly_with
from analysis.core.errors import DataValidationError, Issue
from analysis.inputs.s71.check import _detail_rows, _plausibility, cells_to_monthly, check_cells, check_needed_cells
from analysis.inputs.s71.folder import OWN_NAMES, ImportManifest, plan_folder, write_folder
from analysis.inputs.s71.form import (
    CHECK_COLUMNS,
    complete_cells,
)
from analysis.inputs.s71.read import (
    UndecodableText,
    _id_text,
    _match_headers,
    _read_text_table,
    _to_float,
    parse_period,
    read_sources,
)
from analysis.inputs.s71.versions import (
    CHECKS_FILE,
    DETAIL_FILE,
    UNIT_TO_WAN,
    FormVersion,
    ImportSettings,
    form_for,
    load_form_versions,
    load_import_settings,
    params_root,
)

# --- merging with the tidy monitoring table ---------------------------------------------------


@dataclass
class ImportResult:
    """What :func:`import_s71` produced."""

    monthly: pd.DataFrame
    cells: pd.DataFrame
    provenance: pd.DataFrame
    out_dir: Path | None
    files: list[Path] = field(default_factory=list)
    source_hashes: dict[str, str] = field(default_factory=dict)
    #: table-check findings (表内校验, :data:`analysis.inputs.s71.form.CHECK_COLUMNS`), also in ``s71-checks.csv``
    checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHECK_COLUMNS))
    #: the rows of detail exports (one per loan or customer), also in ``s71-detail.csv``
    detail: pd.DataFrame | None = None
    #: files of the last import this one replaced or took out, kept in ``<out>/.s71-import-previous``
    kept: list[str] = field(default_factory=list)
    #: what became of the last import's files, in a sentence (empty when nothing was replaced)
    folder_note: str = ""

    def summary(self) -> str:
        s71 = self.provenance[self.provenance["source"] == "S71"]
        derived = int(self.cells["derived"].sum()) if "derived" in self.cells else 0
        return (
            f"S71 导入完成 / imported: {s71['institution_id'].nunique()} 家机构/institutions, "
            f"{s71[['institution_id', 'period']].drop_duplicates().shape[0]} 个机构月/institution-months, "
            f"{len(self.cells) - derived} 个报送单元格/cells written, {derived} 个推算合计/totals derived, "
            f"{len(self.checks)} 条表内校验提示/table-check findings → {self.out_dir}"
        ) + (f"\n{self.folder_note}" if self.folder_note else "")


def _read_org_map(tidy_dir: Path, settings: ImportSettings, issues: list[Issue]) -> dict[str, str]:
    from analysis.inputs.loading import size_problem

    spec = settings.org_map
    for path in sorted(tidy_dir.iterdir()) if tidy_dir.is_dir() else []:
        if path.stem not in spec["names"] or path.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
            continue
        problem = size_problem(path)  # a zip bomb is refused unopened
        if problem:
            issues.append(Issue(path.name, None, None, "file_too_large", problem))
            return {}
        try:
            frame = _read_text_table(path)
        except UndecodableText as exc:
            issues.append(Issue(path.name, exc.line, None, "encoding_error", str(exc)))
            return {}
        found = _match_headers(
            frame.columns, {"org_num": tuple(spec["org_num"]), "institution_id": tuple(spec["institution_id"])}
        )
        if len(found) < 2:
            issues.append(Issue(path.name, None, "ORG_NUM/机构编码", "missing_column"))
            return {}
        return {_id_text(o): _id_text(i) for o, i in zip(frame[found["org_num"]], frame[found["institution_id"]])}
    return {}


def monthly_table(params_dir: Path | str) -> Table:
    """The monitoring table the import writes: the contract's, with the columns declared in
    ``params/indicators.yaml`` (taken from the tidy table or, where a form version maps one, from S71)."""
    from analysis.core.indicator_defs import load_indicator_params

    return monthly_with(load_indicator_params(params_dir).contract_columns())


def _tidy_monthly(raw, table: Table = MONTHLY) -> pd.DataFrame:
    """The tidy monitoring table with typed key and numbers (full validation comes later)."""
    frame = raw.frame.copy()
    frame["source_row"] = [raw.row_number(i) for i in range(len(frame))]
    frame["institution_id"] = frame["institution_id"].map(_id_text)
    frame["period"] = frame["period"].map(lambda v: parse_period(v)[0])
    for col in table.columns:
        if col.kind in ("amount", "count"):
            frame[col.name] = frame[col.name].map(_to_float).astype(float)
    return frame


def merge_with_tidy(
    s71_monthly: pd.DataFrame,
    s71_provenance: pd.DataFrame,
    tidy,
    settings: ImportSettings,
    issues: list[Issue],
    table: Table = MONTHLY,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One monitoring table: S71 figures, plus tidy figures S71 does not carry; conflicts refused.
    ``table``: the monitoring table's columns (the contract's and those declared in params)."""
    names = [c.name for c in table.columns]
    key = ["institution_id", "period"]
    declared = [c.name for c in table.columns[len(MONTHLY.columns) :]]
    if tidy is None:
        merged = s71_monthly.reindex(columns=names)
        return merged.drop(columns=[c for c in declared if merged[c].isna().all()]), s71_provenance
    t = _tidy_monthly(tidy, table)
    t = t[t["institution_id"].ne("") & t["period"].notna()]
    s = s71_monthly.copy()
    both = s.merge(t, on=key, how="outer", suffixes=("", "_tidy"), indicator=True)
    kinds = {c.name: c.kind for c in table.columns}
    tol = settings.conflict_tolerance
    s71_cols = [c for c in names if c in s.columns and c not in key]
    prov_index = s71_provenance.set_index(["institution_id", "period", "column"]) if len(s71_provenance) else None
    for col in s71_cols:
        a, b = both[col], both[f"{col}_tidy"]
        limit = tol["amount"] if kinds[col] == "amount" else tol["count"]
        clash = a.notna() & b.notna() & ((a - b).abs() > limit + 1e-9)
        for row in both[clash].itertuples(index=False):
            where = prov_index.loc[(row.institution_id, row.period, col)] if prov_index is not None else None
            src = (
                f"{where['file']} {where['sheet']} {where['location']} ({where['item']})"
                if where is not None
                else "S71"
            )
            issues.append(
                Issue(
                    tidy.source,
                    int(row.source_row),
                    col,
                    "s71_conflicting_value",
                    f"{row.institution_id} {row.period.date()}: 月度监测/monitoring "
                    f"{getattr(row, col + '_tidy')} ≠ S71 {getattr(row, col)} ← {src}",
                )
            )
        both[col] = a.where(a.notna(), b)
    merged = both.reindex(columns=names)
    # provenance of the tidy figures (those S71 did not give)
    given = set(
        zip(
            s71_provenance.get("institution_id", []), s71_provenance.get("period", []), s71_provenance.get("column", [])
        )
    )
    tidy_rows = []
    for col in names:
        if col in key:
            continue
        tidy_value = both[f"{col}_tidy"] if col in s71_cols else both[col]
        sel = both[tidy_value.notna()]
        for inst, period, line, value in zip(
            sel["institution_id"], sel["period"], sel["source_row"], tidy_value[tidy_value.notna()]
        ):
            if (inst, period, col) in given:
                continue
            tidy_rows.append(
                {
                    "institution_id": inst,
                    "period": period,
                    "column": col,
                    "value": value,
                    "source": "月度监测/monitoring",
                    "form_version": None,
                    "item": "",
                    "item_as_written": "",
                    "file": tidy.source,
                    "sheet": "",
                    "location": f"第{int(line)}行/row {int(line)}",
                    "unit": table.column(col).unit,
                    "unit_basis": "contract/数据规范",
                    "factor_to_wan": 1.0,
                }
            )
    provenance = pd.concat([s71_provenance, pd.DataFrame(tidy_rows)], ignore_index=True)
    merged = merged.sort_values(key).reset_index(drop=True)
    merged = merged.drop(columns=[c for c in declared if merged[c].isna().all()])  # not in these returns
    return merged, provenance.sort_values(["institution_id", "period", "column"]).reset_index(drop=True)


def _write_outputs(
    staging: Path,
    monthly: pd.DataFrame,
    provenance: pd.DataFrame,
    cells: pd.DataFrame,
    tidy_dir: Path | None,
    tidy_monthly_file: str | None,
    fmt: str = "xlsx",
    checks: pd.DataFrame | None = None,
    detail: pd.DataFrame | None = None,
    table: Table = MONTHLY,
) -> list[Path]:
    written = []
    out = monthly.copy()
    out["period"] = out["period"].dt.strftime("%Y-%m-%d")
    out = out.rename(columns={c.name: c.label_zh for c in table.columns})
    path = staging / f"monthly.{fmt}"
    if fmt == "csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        from analysis.core.workbook import write_workbook  # text as text, never a formula

        write_workbook(path, {MONTHLY.label_zh: out})
    written.append(path)
    prov = provenance.copy()
    prov["period"] = pd.to_datetime(prov["period"]).dt.strftime("%Y-%m-%d")
    prov.to_csv(staging / "s71-provenance.csv", index=False, encoding="utf-8-sig")
    written.append(staging / "s71-provenance.csv")
    cell_out = cells[
        [
            "institution_id",
            "period",
            "cell",
            "value_wan",
            "org_num",
            "item",
            "version",
            "year",
            "derived",
            "unit",
            "file",
            "sheet",
            "location",
        ]
    ].copy()
    cell_out["period"] = cell_out["period"].dt.strftime("%Y-%m-%d")
    cell_out["item"] = cell_out["item"].replace("", "推算/derived")  # a total the return did not write
    if "formula" in cells:  # a derived cell's location in brief; the provenance keeps every part's place
        derived = cells["derived"].fillna(False).astype(bool).to_numpy()
        cell_out.loc[derived, "location"] = cells.loc[derived, "formula"].to_numpy()
    cell_out.to_csv(staging / "s71-cells.csv", index=False, encoding="utf-8-sig")
    written.append(staging / "s71-cells.csv")
    # the table checks (表内校验), read by the reports' data-quality section; written even when empty
    checks_out = (checks if checks is not None else pd.DataFrame(columns=CHECK_COLUMNS)).copy()
    checks_out["period"] = pd.to_datetime(checks_out["period"]).dt.strftime("%Y-%m-%d")
    checks_out.to_csv(staging / CHECKS_FILE, index=False, encoding="utf-8-sig")
    written.append(staging / CHECKS_FILE)
    if detail is not None and not detail.empty:  # per-loan rows of detail exports, for drill-down
        detail_out = detail.copy()
        detail_out["period"] = pd.to_datetime(detail_out["period"]).dt.strftime("%Y-%m-%d")
        detail_out.to_csv(staging / DETAIL_FILE, index=False, encoding="utf-8-sig")
        written.append(staging / DETAIL_FILE)
    for item in _tidy_copies(tidy_dir, tidy_monthly_file):  # the rest of the data folder, unchanged
        shutil.copy2(item, staging / item.name)
        written.append(staging / item.name)
    return written


def _tidy_copies(tidy_dir: Path | None, tidy_monthly_file: str | None) -> list[Path]:
    """The tidy folder's files an import copies into its data folder (all but the monitoring table)."""
    if tidy_dir is None or not tidy_dir.is_dir():
        return []
    return [
        item
        for item in sorted(tidy_dir.iterdir())
        if item.is_file() and item.name != tidy_monthly_file and not item.name.startswith((".", "~$"))
    ]


def _output_names(fmt: str, tidy_dir: Path | None, tidy_monthly_file: str | None) -> set[str]:
    """Every name an import may write into its data folder."""
    own = {n for n in OWN_NAMES if not n.startswith("monthly.")} | {f"monthly.{fmt}"}
    return own | {p.name for p in _tidy_copies(tidy_dir, tidy_monthly_file)}


def import_s71(
    sources: list[Path],
    tidy_dir: Path | None,
    out_dir: Path,
    unit: str | None = None,
    params_dir: Path | str | None = None,
    validate: bool = True,
    fmt: str = "xlsx",
) -> ImportResult:
    """Read S71 returns, merge them with the tidy tables, write a complete data folder to ``out_dir``.

    ``sources``: S71 files or folders (long format CSV/XLSX/Parquet, or form-layout workbooks).
    ``tidy_dir``: the tidy tables (机构名录, 信贷计划, 转贷款, and 月度监测 with the figures S71 does
    not carry); copied to ``out_dir`` with the monitoring table replaced by ``monthly.xlsx``.
    ``unit``: 元, 万元 or 亿元 when the returns' amounts are in that unit (else per
    ``params/s71/import.yaml`` and the forms' own unit lines).
    Writes ``monthly.xlsx`` (``fmt="csv"``: monthly.csv), ``s71-provenance.csv`` (which file and cell each figure came from) and
    ``s71-cells.csv``; with ``validate`` the folder must pass :func:`analysis.inputs.validation.load_dataset`.
    Raises DataValidationError (nothing written) listing every problem.

    ``out_dir`` is never replaced as a whole (:mod:`analysis.inputs.s71.folder`): a re-import replaces
    only the files the last import wrote (listed in ``<out_dir>/.s71-import.json``), keeps them in
    ``<out_dir>/.s71-import-previous`` and leaves everything else (``loans/``, an analyst's notes)
    alone; it is refused when one of them was edited since, when it would overwrite a file no import
    wrote, and when a folder holding anything is not an import's folder.
    """
    from analysis.inputs.loading import read_tables

    params_dir = Path(params_dir or params_root())
    versions = load_form_versions(params_dir)
    settings = load_import_settings(params_dir)
    table = monthly_table(params_dir)  # with the columns params/indicators.yaml declares
    issues: list[Issue] = []
    if unit is not None and unit not in UNIT_TO_WAN:
        issues.append(Issue("--unit", None, None, "s71_unknown_unit", repr(unit)))
        raise DataValidationError(issues)
    out_dir = Path(out_dir)
    tidy_dir = Path(tidy_dir) if tidy_dir else None
    if tidy_dir is not None and out_dir.resolve() == tidy_dir.resolve():
        raise ValueError("out_dir must differ from tidy_dir / 输出目录不能与整洁数据目录相同")
    tidy = None
    known_ids = None
    org_to_id: dict[str, str] = {}
    tidy_monthly_file = None
    if tidy_dir is not None:
        raw, _, read_issues = read_tables(tidy_dir, {**TABLES, "monthly": table})
        # columns S71 supplies may be absent from the tidy monitoring table
        issues += [
            i
            for i in read_issues
            if not (i.rule == "missing_column" and i.file == getattr(raw.get("monthly"), "source", None))
            and not (i.rule == "missing_table" and "monthly" in i.detail)
        ]
        tidy = raw.get("monthly")
        if tidy is not None:
            tidy_monthly_file = tidy.source.split("[")[0]
        if "institutions" in raw:
            known_ids = {_id_text(v) for v in raw["institutions"].frame["institution_id"] if _id_text(v)}
        org_to_id = _read_org_map(tidy_dir, settings, issues)
    plan = plan_folder(out_dir, _output_names(fmt, tidy_dir, tidy_monthly_file))
    issues += plan.issues  # refused with the data's own problems, so that one pass fixes all
    details: list[pd.DataFrame] = []
    cells, hashes = read_sources(sources, settings, versions, unit, issues, details)
    detail = _detail_rows(details, org_to_id, versions, settings)
    cells = check_cells(cells, versions, org_to_id, known_ids, settings, issues)
    checks = pd.DataFrame(columns=CHECK_COLUMNS)
    if not cells.empty:
        # totals the return leaves out are derived from their parts; those it writes are checked
        cells, checks = complete_cells(cells, {f.version: f.form for f in versions}, settings.amount_decimals)
        check_needed_cells(cells, versions, issues)
        _plausibility(cells, versions, issues)
    if issues:
        raise DataValidationError(issues)
    s71_monthly, provenance = cells_to_monthly(cells, versions)
    monthly, provenance = merge_with_tidy(s71_monthly, provenance, tidy, settings, issues, table)
    if issues:
        raise DataValidationError(issues)

    def write(folder: Path) -> list[Path]:
        return _write_outputs(
            folder, monthly, provenance, cells, tidy_dir, tidy_monthly_file, fmt, checks, detail, table
        )

    def check(folder: Path) -> None:
        if validate and tidy_dir is not None:
            from analysis.inputs.validation import load_dataset

            load_dataset(folder, params_dir)

    record = ImportManifest(files={}, sources=hashes, tidy=str(tidy_dir or ""))
    done = write_folder(plan, write, check, record)
    return ImportResult(
        monthly, cells, provenance, out_dir, done.files, hashes, checks, detail, done.kept, done.note(out_dir)
    )


def _form_of(versions: list[FormVersion], period: pd.Timestamp) -> FormVersion:
    form = form_for(versions, period)
    if form is None:
        raise ValueError(f"no S71 form version for {period:%Y-%m} / 该数据期无适用的S71报表版本")
    return form


def s71_cells(monthly: pd.DataFrame, versions: list[FormVersion]) -> pd.DataFrame:
    """The S71 cells (万元 / 户) that give back ``monthly`` through each period's mapping.

    A mapped column is one cell, or a cell minus others already set (``6.A0 - 6.A5``): the first
    term is solved for. Returns institution_id, period, cell, value.
    """
    frames = []
    for version in sorted({_form_of(versions, p).version for p in monthly["period"].unique()}):
        form = next(f for f in versions if f.version == version)
        rows = monthly[monthly["period"].map(lambda p, v=version: _form_of(versions, p).version == v)]
        values: dict[str, pd.Series] = {}
        # single cells first, then expressions solved for their first term
        for column, terms in sorted(form.mapping.items(), key=lambda kv: len(kv[1])):
            target = rows[column]
            if len(terms) == 1:
                values[terms[0][1]] = target
                continue
            (sign0, first), rest = terms[0], terms[1:]
            others = sum(s * values[c] for s, c in rest)
            values[first] = ((target - others) * sign0).round(2)
        for cell, series in values.items():
            frames.append(
                pd.DataFrame(
                    {
                        "institution_id": rows["institution_id"],
                        "period": rows["period"],
                        "cell": cell,
                        "value": series.to_numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
