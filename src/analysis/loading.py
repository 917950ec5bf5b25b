"""Read the input tables from a data folder or a single workbook (.xlsx, .csv, .parquet).

Headers may be English column names or the Chinese labels of the data contract. Values are
read as they are (no type conversion here); :mod:`analysis.validation` converts and checks them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.contract import TABLES, Table, header_map
from analysis.errors import Issue

SUFFIXES = (".xlsx", ".csv", ".parquet")


@dataclass
class RawTable:
    """A table as read from its source, headers mapped to English names."""

    table: Table
    frame: pd.DataFrame
    source: str
    #: number added to a 0-based record position to give the row the analyst sees.
    row_offset: int
    #: required columns absent from the source (already reported once, not per row).
    missing_columns: frozenset[str] = frozenset()

    def row_number(self, position) -> int:
        return int(position) + self.row_offset


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_for_stem(stem: str) -> Table | None:
    for table in TABLES.values():
        if stem.strip() in table.names or stem.strip().lower() == table.name:
            return table
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    # Chinese Excel saves CSV as GBK; UTF-8 (with or without BOM) is tried first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=object, encoding=encoding, keep_default_na=False)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("csv", b"", 0, 1, f"{path} is neither UTF-8 nor GB18030")


def _read_frame(path: Path, sheet: str | None = None) -> tuple[pd.DataFrame, int]:
    if path.suffix == ".parquet":
        return pd.read_parquet(path), 1
    if path.suffix == ".csv":
        return _read_csv(path), 2
    return pd.read_excel(path, sheet_name=sheet or 0, dtype=object, engine="openpyxl"), 2


def _map_headers(frame: pd.DataFrame, table: Table, source: str, issues: list[Issue]) -> pd.DataFrame:
    mapping = header_map(table)
    renamed: dict[str, str] = {}
    seen: dict[str, str] = {}
    for original in frame.columns:
        name = mapping.get(str(original).strip())
        if name is None:
            continue  # extra columns (备注 etc.) are ignored
        if name in seen:
            issues.append(Issue(source, None, name, "duplicate_column", f"{seen[name]} / {original}"))
            continue
        seen[name] = str(original)
        renamed[original] = name
    out = frame[list(renamed)].rename(columns=renamed)
    for col in table.columns:
        if col.name not in out.columns:
            if col.required:
                issues.append(Issue(source, None, col.name, "missing_column", col.label_zh))
            out[col.name] = pd.NA
    return out[[c.name for c in table.columns]]


def _blank_to_na(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty strings and whitespace-only cells are empty cells."""
    out = frame.astype(object)
    for col in out.columns:
        values = out[col]
        is_blank = values.map(lambda v: isinstance(v, str) and v.strip() == "")
        if is_blank.any():
            out[col] = values.mask(is_blank, None)
    return out.where(out.notna(), None)


def discover(path: Path) -> dict[str, list[tuple[Path, str | None]]]:
    """Find each table's source(s): files in a folder, or sheets of one workbook."""
    found: dict[str, list[tuple[Path, str | None]]] = {}
    if path.is_dir():
        for file in sorted(path.iterdir()):
            if file.suffix not in SUFFIXES or file.name.startswith(("~$", ".")):
                continue
            table = _table_for_stem(file.stem)
            if table is not None:
                found.setdefault(table.name, []).append((file, None))
    elif path.suffix == ".xlsx":
        for sheet in pd.ExcelFile(path, engine="openpyxl").sheet_names:
            table = _table_for_stem(sheet)
            if table is not None:
                found.setdefault(table.name, []).append((path, sheet))
    return found


def read_tables(path: Path | str) -> tuple[dict[str, RawTable], dict[str, str], list[Issue]]:
    """Read every table under ``path``.

    Returns the raw tables, the SHA-256 of every file read (for provenance) and the problems
    met while reading (unreadable files, missing tables or columns).
    """
    path = Path(path)
    issues: list[Issue] = []
    tables: dict[str, RawTable] = {}
    hashes: dict[str, str] = {}
    if not path.exists():
        issues.append(Issue(str(path), None, None, "file_unreadable", "路径不存在 / path does not exist"))
        return tables, hashes, issues
    try:
        found = discover(path)
    except Exception as exc:  # a corrupt workbook
        issues.append(Issue(str(path), None, None, "file_unreadable", str(exc)))
        return tables, hashes, issues
    for name, table in TABLES.items():
        sources = found.get(name, [])
        if len(sources) > 1:
            listed = ", ".join(f"{p.name}[{s}]" if s else p.name for p, s in sources)
            issues.append(Issue(str(path), None, None, "ambiguous_table", f"{table.label_zh}: {listed}"))
            continue
        if not sources:
            if name in ("institutions", "monthly", "plans"):
                issues.append(Issue(str(path), None, None, "missing_table", f"{table.label_zh} ({name})"))
            continue
        file, sheet = sources[0]
        source = f"{file.name}[{sheet}]" if sheet else file.name
        try:
            frame, offset = _read_frame(file, sheet)
        except Exception as exc:
            issues.append(Issue(source, None, None, "file_unreadable", str(exc)))
            continue
        hashes[file.name] = file_sha256(file)
        before = len(issues)
        frame = _map_headers(frame.reset_index(drop=True), table, source, issues)
        missing = frozenset(i.column for i in issues[before:] if i.rule == "missing_column")
        tables[name] = RawTable(table, _blank_to_na(frame), source, offset, missing)
    return tables, hashes, issues
