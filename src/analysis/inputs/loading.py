"""Read the input tables from a data folder or a single workbook (.xlsx, .csv, .parquet).

Headers may be English column names or the Chinese labels of the data contract. The header row
is looked for in the first :data:`~analysis.core.contract.HEADER_SEARCH_ROWS` rows, so title rows above
it are skipped, and a two-level merged header (a group label merged over its columns, the column
labels below) is read by combining the levels. Values are read as they are (no type conversion
here); :mod:`analysis.inputs.validation` converts and checks them.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.core.contract import (
    HEADER_SEARCH_ROWS,
    MAX_CELLS,
    MAX_UNPACKED_MB,
    REQUIRED_TABLES,
    TABLES,
    Table,
    header_map,
)
from analysis.core.errors import Issue
from analysis.inputs.formulas import formula_issues

SUFFIXES = (".xlsx", ".csv", ".parquet")
#: reads the institutions' workbooks: calamine (Rust, python-calamine) gives the same cells as
#: openpyxl about ten times faster (monthly.xlsx of the demo: 0.10 s against 1.24 s); openpyxl
#: still writes the workbooks and reads the S71 exports cell by cell (merged cells, formats)
EXCEL_ENGINE = "calamine"


class NotARegularFile(ValueError):
    """The reason a table name in the data folder that is not a regular file (a link to
    ``/dev/zero``, a pipe, a folder, or a link that leads nowhere) is refused unopened: reading it
    could block or never end."""

    def __init__(self, path: Path):
        self.path = path
        target = os.path.realpath(path)
        super().__init__(
            f"不是普通文件（链接到 {target}）/ not a regular file (it leads to {target})"
            if path.is_symlink()
            else "不是普通文件 / not a regular file"
        )


def links_leaving(folder: Path) -> list[tuple[Path, Path]]:
    """Tables of ``folder`` whose real path (symlinks followed) is outside it: (link, target).

    Warned, not refused (outside_link): the office shares one table between period folders by a
    link, and a linked table is read and checked like any other, so nothing unchecked gets in;
    what a link can do is bring in a file from elsewhere unseen, so the warning names it and where
    it leads, and the provenance hash is the target's content."""
    root = folder.resolve()
    out = []
    for file in sorted(folder.iterdir()):
        if file.suffix in SUFFIXES and not file.name.startswith(("~$", ".")) and file.is_file():
            real = file.resolve()
            if not real.is_relative_to(root):
                out.append((file, real))
    return out


class InputTooLarge(ValueError):
    """A file over the contract's size limits (:func:`size_problem`)."""


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


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _declared_cells(book: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """Cells in a worksheet's declared range (``<dimension ref="A1:Y2881"/>``, near the top of the
    sheet: only its first 4 KB are unpacked); 0 when the writer left it out."""
    with book.open(member) as handle:
        head = handle.read(4096)
    match = _DIMENSION.search(head)
    if not match or not match.group(3):
        return 0
    rows = int(match.group(4)) - int(match.group(2)) + 1
    columns = _column_number(match.group(3)) - _column_number(match.group(1)) + 1
    return max(rows, 0) * max(columns, 0)


def size_problem(path: Path) -> str | None:
    """Why ``path`` is refused before it is parsed (file_too_large), or None.

    An ``.xlsx`` file: the unpacked size its zip directory declares (every member) against
    :data:`~analysis.core.contract.MAX_UNPACKED_MB`, then the cells its sheets declare against
    :data:`~analysis.core.contract.MAX_CELLS`; a ``.parquet`` file: rows × columns from its footer. A
    file that is not a readable archive is left to the reader, which says so.
    """
    limit_bytes = MAX_UNPACKED_MB * 2**20
    if path.suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as book:
                members = book.infolist()
                unpacked = sum(m.file_size for m in members)
                if unpacked > limit_bytes:
                    return (
                        f"解压后 {unpacked / 2**20:,.0f} MB（文件 {path.stat().st_size / 2**20:,.1f} MB），"
                        f"上限 {MAX_UNPACKED_MB:,} MB / unpacks to {unpacked / 2**20:,.0f} MB "
                        f"(file {path.stat().st_size / 2**20:,.1f} MB), limit {MAX_UNPACKED_MB:,} MB"
                    )
                sheets = [m for m in members if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")]
                cells = sum(_declared_cells(book, m) for m in sheets)
        except (zipfile.BadZipFile, OSError, EOFError):
            return None
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
        except Exception:  # noqa: BLE001 - not a readable Parquet file: the reader says so
            return None
        cells = meta.num_rows * meta.num_columns
    else:
        return None
    if cells > MAX_CELLS:
        return f"共 {cells:,} 个单元格，上限 {MAX_CELLS:,} / {cells:,} cells, limit {MAX_CELLS:,}"
    return None


def _table_for_stem(stem: str) -> Table | None:
    for table in TABLES.values():
        if stem.strip() in table.names or stem.strip().lower() == table.name:
            return table
    return None


#: what may follow a table's name in a file named like it: anything but a letter or a Chinese
#: character (a separator, a digit, a bracket: monthly-2024, 月度监测（2）, monthly.old, monthly 副本)
_LOOKALIKE_TAIL = re.compile(r"[\W\d_]")


def _table_like_stem(stem: str) -> Table | None:
    """The table a file or sheet is named like without its accepted name (``monthly-2024``,
    ``月度监测2024``, ``monthly (1)``): a table's name followed by something that does not start with
    a letter or a Chinese character (``机构编码对照`` is not the table 机构). None otherwise, and for
    an accepted name (:func:`_table_for_stem`)."""
    text = stem.strip()
    if _table_for_stem(text) is not None:
        return None
    for table in TABLES.values():
        for name in sorted(table.names, key=len, reverse=True):  # 转贷款利率 before 转贷款
            head = text[: len(name)]
            if (head == name or head.lower() == name.lower()) and _LOOKALIKE_TAIL.match(text[len(name) :]):
                return table
    return None


def _column_letter(position: int) -> str:
    """Excel's name of a 0-based column position (0 → A, 26 → AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class UndecodableText(ValueError):
    """A CSV file that is neither UTF-8 nor GBK, or mixes them; ``line`` is the first bad line."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


#: why a CSV file cannot be decoded (Chinese, English)
_BOM_BUT_NOT_UTF8 = (
    "文件以UTF-8标记开头，但含有非UTF-8内容（疑似混入GBK行）",
    "the file starts with a UTF-8 byte-order mark but holds text that is not UTF-8 (GBK rows mixed in?)",
)
_UTF8_THEN_OTHER = (
    "文件前部为UTF-8，后部不是（疑似混入GBK行）",
    "the file starts in UTF-8 and goes on in another encoding (GBK rows mixed in?)",
)
_NEITHER = ("文件既不是UTF-8也不是GBK", "the file is neither UTF-8 nor GBK")


def _undecodable(raw: bytes, exc: UnicodeDecodeError, why: tuple[str, str]) -> UndecodableText:
    """Where ``exc`` stopped: the line (counted from 1, as an editor shows it), the byte offset
    in the file and in the line, and the bytes."""
    line = raw.count(b"\n", 0, exc.start) + 1
    in_line = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    found = raw[exc.start : exc.start + 4]
    return UndecodableText(
        line,
        f"{why[0]}：第{line}行第{in_line}字节（文件第{exc.start}字节起）不是{exc.encoding} {found!r} / "
        f"{why[1]}: line {line}, byte {in_line} of the line (byte offset {exc.start} in the file) "
        f"is not {exc.encoding}: {found!r}",
    )


def _decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (what Chinese Excel saves as GBK). A file
    that declares UTF-8 with a BOM, or whose first non-ASCII text is UTF-8, must be UTF-8 to the
    end: decoding it as GB18030 instead would read its Chinese as other characters. Refusals name
    the first line that cannot be decoded."""
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        exc.start += bom  # an offset in the file, BOM included
        if bom:
            raise _undecodable(raw, exc, _BOM_BUT_NOT_UTF8) from None
        if not raw[: exc.start].isascii():
            raise _undecodable(raw, exc, _UTF8_THEN_OTHER) from None
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _undecodable(raw, exc, _NEITHER) from None


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell of a CSV file as text, without taking any row as the header (rows may differ
    in length: title rows above the header are shorter)."""
    text = _decode_csv(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)


def _read_grid(path: Path, sheet: str | None = None) -> tuple[pd.DataFrame, list[object] | None]:
    """(cells, headers): a parquet file has its headers; a sheet or CSV is read as a grid of cells
    (positional columns, no header) for :func:`find_header` to find the header in."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        headers = list(frame.columns)
        frame.columns = range(len(headers))
        return frame, headers
    if path.suffix == ".csv":
        return _read_csv(path), None
    return pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=object, engine=EXCEL_ENGINE), None


def _label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def find_header(
    grid: pd.DataFrame, table: Table, max_rows: int = HEADER_SEARCH_ROWS
) -> tuple[int, int, list[str | None]] | None:
    """Locate the header in the first ``max_rows`` rows of ``grid``.

    Returns (first header row, number of header rows (1 or 2), one label per column), or None
    when no row holds a single known header. Every row is tried as a one-row header and, with
    the row below it, as a two-row header whose upper labels are carried across their merged
    cells: a column's label is its lower cell, its upper cell, or both joined (普惠型小微企业贷款
    over 余额 gives 普惠型小微企业贷款余额), whichever is a known header. The reading that
    recognises the most columns wins; a one-row header wins ties.
    """
    known = header_map(table)

    def count(labels: list[str | None]) -> int:
        return len({known[x] for x in labels if x in known})

    rows = [[_label(v) for v in grid.iloc[r]] for r in range(min(max_rows, len(grid)))]
    best: tuple[int, int, int, list[str | None]] | None = None  # (matches, -levels, -row, labels)
    for r, upper in enumerate(rows):
        single = upper
        candidates = [(1, single)]
        if r + 1 < len(grid):
            lower = [_label(v) for v in grid.iloc[r + 1]]
            carried, last = [], None
            for value in upper:  # a merged cell's label sits in its first column only
                last = value if value is not None else last
                carried.append(last)
            combined = []
            for up, own, low in zip(carried, upper, lower):
                options = [low, own, up + low if up and low else None]
                combined.append(next((o for o in options if o in known), own or low))
            # a two-row reading counts only where the upper row adds to the lower row alone (which
            # is tried as a one-row header in its turn, within the rows searched)
            if count(combined) > count(lower):
                candidates.append((2, combined))
        for levels, labels in candidates:
            matches = count(labels)
            key = (matches, -levels, -r, labels)
            if matches and (best is None or key[:3] > best[:3]):
                best = key
    if best is None:
        return None
    return -best[2], -best[1], best[3]


def _unknown_column(source: str, header_row: int | None, position: int, original: str | None) -> Issue:
    """A column the contract does not know (or with values under no header), ignored: located by
    the header row and the column's letter (a Parquet file: its name only)."""
    letter = _column_letter(position)
    where = f"第{letter}列 / column {letter}；" if header_row is not None else ""
    if original is None:
        where = f"第{letter}列无表头但有数据 / column {letter} has values but no header；"
    return Issue(
        source,
        header_row,
        "（无表头 / no header）" if original is None else original,
        "unknown_column",
        f"{where}规范的列见 docs/data-contract.md，其他列暂不能读取；如为其中某列的另一种写法，请改用规范表头 / "
        "the contract's columns are listed in docs/data-contract.md and no other can be read yet; if it is "
        "one of them spelt otherwise, use the contract's header",
    )


def _has_values(values: pd.Series) -> bool:
    return bool(values.map(lambda v: _label(v) is not None).any())


def _map_headers(
    frame: pd.DataFrame,
    labels: list[object],
    table: Table,
    source: str,
    issues: list[Issue],
    header_row: int | None = None,
) -> pd.DataFrame:
    """The contract's columns of ``frame`` under their English names. Every other column is ignored
    with a warning (unknown_column) — a header the contract does not know, or values under no
    header — at ``header_row`` (the header's last row as Excel counts it; None for Parquet)."""
    mapping = header_map(table)
    renamed: dict[object, str] = {}
    seen: dict[str, str] = {}
    for index, (position, original) in enumerate(zip(frame.columns, labels)):
        label = _label(original)
        name = mapping.get(label) if label is not None else None
        if name is None:  # said, never dropped in silence: 备注, a new 涉农贷款余额 column, a typo
            if label is not None or _has_values(frame[position]):
                issues.append(_unknown_column(source, header_row, index, label))
            continue
        if name in seen:
            issues.append(Issue(source, None, name, "duplicate_column", f"{seen[name]} / {original}"))
            continue
        seen[name] = str(original)
        renamed[position] = name
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


Sources = dict[str, list[tuple[Path, str | None]]]


def discover_all(path: Path) -> tuple[Sources, Sources]:
    """Each table's sources — files in a folder, or sheets of one workbook — under an accepted name,
    and those only named like it (:func:`_table_like_stem`: ``monthly-2024.xlsx``), which are never
    read: one table, one file."""
    found: Sources = {}
    lookalikes: Sources = {}
    names: list[tuple[str, tuple[Path, str | None]]] = []
    if path.is_dir():
        for file in sorted(path.iterdir()):
            if file.suffix in SUFFIXES and not file.name.startswith(("~$", ".")):
                names.append((file.stem, (file, None)))
    elif path.suffix == ".xlsx":
        problem = size_problem(path)
        if problem:
            raise InputTooLarge(problem)
        names = [(sheet, (path, sheet)) for sheet in pd.ExcelFile(path, engine=EXCEL_ENGINE).sheet_names]
    for name, source in names:
        table = _table_for_stem(name)
        if table is not None:
            found.setdefault(table.name, []).append(source)
        elif (like := _table_like_stem(name)) is not None:
            lookalikes.setdefault(like.name, []).append(source)
    return found, lookalikes


def discover(path: Path) -> Sources:
    """Find each table's source(s) under an accepted name: files in a folder, or sheets of one workbook."""
    return discover_all(path)[0]


def _shown(source: tuple[Path, str | None]) -> str:
    file, sheet = source
    return f"{file.name}[{sheet}]" if sheet else file.name


def _accepted_names(table: Table, file: Path, sheet: str | None) -> str:
    """The names a misnamed file or sheet may take (monthly.xlsx 或 月度监测.xlsx)."""
    suffix = "" if sheet else file.suffix
    return " / ".join(f"{n}{suffix}" for n in (table.name, table.label_zh))


def read_tables(
    path: Path | str, contract: dict[str, Table] | None = None
) -> tuple[dict[str, RawTable], dict[str, str], list[Issue]]:
    """Read every table under ``path`` (``contract``: the contract's tables, or with the monthly columns
    declared in params — :func:`analysis.core.contract.monthly_with`).

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
        found, lookalikes = discover_all(path)
    except InputTooLarge as exc:
        issues.append(Issue(str(path), None, None, "file_too_large", str(exc)))
        return tables, hashes, issues
    except Exception as exc:  # a corrupt workbook
        issues.append(Issue(str(path), None, None, "file_unreadable", str(exc)))
        return tables, hashes, issues
    if path.is_dir():
        for link, target in links_leaving(path):
            issues.append(
                Issue(
                    link.name,
                    None,
                    None,
                    "outside_link",
                    f"链接到数据文件夹之外 / a link out of the data folder: {link.name} → {target}",
                )
            )
    for name, table in (contract or TABLES).items():
        sources = found.get(name, [])
        similar = lookalikes.get(name, [])
        if len(sources) > 1 or (sources and similar):
            listed = ", ".join(_shown(s) for s in sources + similar)
            issues.append(
                Issue(
                    str(path),
                    None,
                    None,
                    "ambiguous_table",
                    f"{table.label_zh}（{name}）: {listed} — 一张表只读一个文件：请合并为一个文件，或将其余文件移出"
                    f"数据文件夹 / one table, one file: merge them into one, or move the others out of the data folder",
                )
            )
            continue
        for file, sheet in similar:  # alone: not read, and said so (a required table is then missing)
            issues.append(
                Issue(
                    _shown((file, sheet)),
                    None,
                    None,
                    "misnamed_table_file",
                    f"名称像{table.label_zh}表（{name}），未读取；如是该表，请改名为 {_accepted_names(table, file, sheet)} / "
                    f"named like table {name}, not read; if it is that table, rename it "
                    f"{_accepted_names(table, file, sheet)}",
                )
            )
        if not sources:
            if name in REQUIRED_TABLES:
                issues.append(Issue(str(path), None, None, "missing_table", f"{table.label_zh} ({name})"))
            continue
        file, sheet = sources[0]
        source = f"{file.name}[{sheet}]" if sheet else file.name
        if not file.is_file():  # a link to a device, a pipe or a folder, or a dangling one: never opened
            issues.append(Issue(source, None, None, "file_unreadable", str(NotARegularFile(file))))
            continue
        problem = size_problem(file) if sheet is None else None  # one workbook: checked by discover
        if problem:
            issues.append(Issue(source, None, None, "file_too_large", problem))
            continue
        if table.no_formulas and file.suffix == ".xlsx":
            # refused (an error), but read on so that one pass lists every other problem too
            issues += formula_issues(source, file, sheet)
        try:
            grid, headers = _read_grid(file, sheet)
        except UndecodableText as exc:
            issues.append(Issue(source, exc.line, None, "encoding_error", str(exc)))
            continue
        except Exception as exc:
            issues.append(Issue(source, None, None, "file_unreadable", str(exc)))
            continue
        hashes[file.name] = file_sha256(file)
        if headers is None:
            found_header = find_header(grid, table)
            if found_header is None:
                expected = "、".join(c.label_zh for c in table.columns[:3])
                issues.append(
                    Issue(
                        source,
                        None,
                        None,
                        "header_not_found",
                        f"前{HEADER_SEARCH_ROWS}行中未找到{table.label_zh}的表头（如 {expected}…）/ "
                        f"no header of table {name} in the first {HEADER_SEARCH_ROWS} rows",
                    )
                )
                continue
            header_row, levels, headers = found_header  # type: ignore[assignment]
            grid = grid.iloc[header_row + levels :]
            offset = header_row + levels + 1  # Excel rows count from 1
        else:
            header_row, levels, offset = None, 0, 1
        before = len(issues)
        frame = _map_headers(
            grid.reset_index(drop=True),
            headers,  # type: ignore[arg-type]
            table,
            source,
            issues,
            None if header_row is None else header_row + levels,  # the header's last row, counted from 1
        )
        missing = frozenset(str(i.column) for i in issues[before:] if i.rule == "missing_column")
        frame = _blank_to_na(frame)
        filled = frame.notna().any(axis=1).to_numpy()
        frame = frame.iloc[: len(filled) - int(filled[::-1].argmax()) if filled.any() else 0]  # trailing blank rows
        if frame.empty:
            if name in REQUIRED_TABLES:
                issues.append(Issue(source, None, None, "empty_table", f"{table.label_zh} ({name})"))
            continue
        tables[name] = RawTable(table, frame, source, offset, missing)
    return tables, hashes, issues
