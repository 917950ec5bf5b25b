"""Reading S71 returns (读取): the marts' cell-code long files (CSV or Excel, detail exports summed per
cell with their rows kept) and the form-layout sheets, into one table of cells with their location.
"""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.errors import Issue
from analysis.inputs.loading import UndecodableText, _decode_csv, size_problem
from analysis.inputs.s71.form import (
    column_of,
    parse_item,
)
from analysis.inputs.s71.versions import (
    _DATE_LINE,
    _HEADER_BAND,
    _HEADER_LETTER,
    _ORG_LINE,
    _UNIT_LINE,
    UNIT_TO_WAN,
    FormVersion,
    ImportSettings,
    form_for,
)

# --- reading cells ----------------------------------------------------------------------------

#: columns of the cell table every reader produces
CELL_COLUMNS = ["org_num", "period", "item", "cell", "value", "unit", "unit_basis", "file", "sheet", "location"]


def normalise_item(code: str) -> str | None:
    """``6.A5`` for ``6.A5``, ``6..A5``, ``S71_I_6..A5.2021``; ``1.1.D`` for ``S71_I_1.1.D.2018`` (no
    band: the ≤3000万 total); None when not a cell code. The year is read by :func:`parse_item`."""
    item = parse_item(code)
    return None if item is None else item.code


def parse_period(value) -> tuple[pd.Timestamp | None, str | None]:
    """Month-end of a data date (20230630, 2023-06-30, 2023-06, 2023年6月30日); else the rule broken."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, "invalid_period"
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        stamp = pd.Timestamp(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d+\.0", text):
            text = text[:-2]
        digits = re.findall(r"\d+", text)
        try:
            if len(digits) == 1 and len(digits[0]) == 8:
                stamp = pd.Timestamp(year=int(digits[0][:4]), month=int(digits[0][4:6]), day=int(digits[0][6:]))
            elif len(digits) == 1 and len(digits[0]) == 6:
                stamp = pd.Timestamp(year=int(digits[0][:4]), month=int(digits[0][4:]), day=1) + pd.offsets.MonthEnd(0)
            elif len(digits) == 3:
                stamp = pd.Timestamp(year=int(digits[0]), month=int(digits[1]), day=int(digits[2]))
            elif len(digits) == 2:
                stamp = pd.Timestamp(year=int(digits[0]), month=int(digits[1]), day=1) + pd.offsets.MonthEnd(0)
            else:
                return None, "invalid_period"
        except ValueError:
            return None, "invalid_period"
    if not stamp.is_month_end:
        return None, "period_not_month_end"
    return stamp.normalize(), None


def _to_float(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return None if np.isnan(float(value)) else float(value)
    text = str(value).replace(",", "").replace("，", "").strip()
    if text in ("", "-", "—", "--"):
        return None
    try:
        return float(text)
    except ValueError:
        return np.nan


#: why a GBK export is refused (Chinese, English)
_GBK_THEN_UTF8 = (
    "文件为GBK编码，但其中有UTF-8内容（疑似混入UTF-8行，按GBK读会成乱码）",
    "the file is GBK but holds UTF-8 text (UTF-8 rows mixed in? read as GBK they would be garbled)",
)
#: what Chinese text is made of: CJK ideographs, their punctuation (and “”…—), full-width forms
_CJK = re.compile(r"[\u2000-\u206f\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def _utf8_chinese_line(raw: bytes) -> tuple[int, int] | None:
    """The first line of ``raw`` that is Chinese text in UTF-8: (line counted from 1, byte offset of
    its first non-ASCII byte in the file); None when there is none.

    GBK text read as UTF-8 is almost never valid, and when it is (a short run of bytes that happens
    to fit), it gives letters of other scripts, not Chinese: a Chinese character in UTF-8 is three
    bytes, lead E2–EF, each followed by two bytes 80–BF. So a line whose every non-ASCII character
    reads as Chinese in UTF-8 was written in UTF-8.
    """
    start = 0
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.isascii():
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            wide = [c for c in text if ord(c) > 0x7F]
            if wide and all(_CJK.match(c) for c in wide):
                return number, start + next(i for i, b in enumerate(line) if b > 0x7F)
        start += len(line) + 1
    return None


def decode_export(raw: bytes) -> str:
    """The text of a CSV export: UTF-8 (with or without byte-order mark) or GBK (read as GB18030, what
    Chinese Excel and the marts save as GBK), one encoding throughout.

    Refused (:class:`~analysis.inputs.loading.UndecodableText`, naming the line, the byte in the line
    and the byte offset in the file): UTF-8 that goes on in another encoding; GBK with UTF-8 lines in
    it (GB18030 may decode them without an error, as other characters); neither.
    """
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start + bom
    if not bom and raw[:first_bad].isascii():  # the file starts in GBK
        found = _utf8_chinese_line(raw)
        if found is not None:
            line, offset = found
            in_line = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
            sample = raw[offset : offset + 6]
            raise UndecodableText(
                line,
                f"{_GBK_THEN_UTF8[0]}：第{line}行第{in_line}字节（文件第{offset}字节起）为UTF-8 {sample!r} / "
                f"{_GBK_THEN_UTF8[1]}: line {line}, byte {in_line} of the line (byte offset {offset} in the "
                f"file) is UTF-8: {sample!r}",
            )
    return _decode_csv(raw)  # UTF-8 then another encoding, or neither: refused naming the line


def _read_text_table(path: Path) -> pd.DataFrame:
    """A long-format table as text. Raises UndecodableText for a CSV file of mixed encodings."""
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path).astype(object)
    if path.suffix.lower() == ".csv":
        text = decode_export(path.read_bytes())
        return pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False)
    return pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")


def _match_headers(columns, wanted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    norm = {re.sub(r"\s+", "", str(c)).upper(): c for c in columns}
    found = {}
    for key, spellings in wanted.items():
        for spelling in spellings:
            hit = norm.get(re.sub(r"\s+", "", spelling).upper())
            if hit is not None:
                found[key] = hit
                break
    return found


def read_long(
    path: Path,
    settings: ImportSettings,
    versions: list[FormVersion],
    unit: str | None,
    issues: list[Issue],
    frame: pd.DataFrame | None = None,
    details: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Cells of a long-format return (CSV, XLSX or Parquet).

    A detail export (:meth:`ImportSettings.is_detail`: one row per loan or customer) is summed per
    cell; its rows, with their detail columns, are appended to ``details`` for drill-down.
    """
    name = path.name
    if frame is None:
        try:
            frame = _read_text_table(path)
        except UndecodableText as exc:  # two encodings in one file: the first line that breaks it
            issues.append(Issue(name, exc.line, None, "encoding_error", str(exc)))
            return pd.DataFrame(columns=CELL_COLUMNS)
        except Exception as exc:  # noqa: BLE001 — corrupt or not a table at all
            issues.append(Issue(name, None, None, "file_unreadable", str(exc)[:200]))
            return pd.DataFrame(columns=CELL_COLUMNS)
    header_row = 1 if path.suffix.lower() in (".csv", ".xlsx") else 0
    found = _match_headers(frame.columns, settings.long_headers)
    missing = [k for k in settings.long_headers if k not in found]
    if missing:
        for key in missing:
            issues.append(
                Issue(
                    name,
                    None,
                    "/".join(settings.long_headers[key][:2]),
                    "missing_column",
                    f"表头/headers found: {', '.join(map(str, frame.columns[:8]))}",
                )
            )
        return pd.DataFrame(columns=CELL_COLUMNS)
    is_detail = settings.is_detail(path, frame.columns)
    detail_columns = [c for c in frame.columns if c not in found.values() and is_detail]
    data = frame.rename(columns={v: k for k, v in found.items()})[list(settings.long_headers) + detail_columns]
    line = np.arange(len(data)) + header_row + 1
    codes = {c.upper() for f in versions for c in f.report_codes}
    is_s71 = data["rep_num"].map(lambda v: str(v).strip().upper() in codes)
    if not is_s71.any():
        issues.append(
            Issue(
                name,
                None,
                found["rep_num"],
                "s71_wrong_report",
                f"报表编号/report numbers: {sorted(set(map(str, data['rep_num'])))[:5]}",
            )
        )
        return pd.DataFrame(columns=CELL_COLUMNS)
    data, line = data[is_s71.to_numpy()], line[is_s71.to_numpy()]
    declared = unit or settings.default_unit["long"]
    basis = "declared/声明" if unit else "default/默认"
    rows, kept = [], []
    periods: dict = {}  # one parse per distinct data date and item code (a return repeats them)
    cells_of: dict = {}
    for i, ((date, org, item, value), ln) in enumerate(
        zip(data[["data_date", "org_num", "item_num", "value"]].itertuples(index=False, name=None), line)
    ):
        if date not in periods:
            periods[date] = parse_period(date)
        period, rule = periods[date]
        if rule:
            issues.append(Issue(name, int(ln), found["data_date"], rule, f"值/value: {date!r}"))
            continue
        org_text = _id_text(org)
        if not org_text:
            issues.append(Issue(name, int(ln), found["org_num"], "empty_id"))
            continue
        if item not in cells_of:
            cells_of[item] = normalise_item(item)
        cell = cells_of[item]
        number = _to_float(value)
        if number is not None and np.isnan(number):
            issues.append(Issue(name, int(ln), found["value"], "not_a_number", f"{item}: {value!r}"))
            continue
        rows.append(
            (org_text, period, str(item).strip(), cell, number, declared, basis, name, "", f"第{ln}行/row {ln}")
        )
        kept.append(i)
    cells = pd.DataFrame(rows, columns=CELL_COLUMNS)
    if not is_detail or cells.empty:
        return cells
    lines = cells.assign(line=line[kept])
    for col in detail_columns:
        lines[str(col)] = data[col].iloc[kept].to_numpy()
    _refuse_repeated_detail(lines, settings, versions, issues)
    if details is not None:
        details.append(lines)
    return _sum_detail(lines)


def _refuse_repeated_detail(
    lines: pd.DataFrame, settings: ImportSettings, versions: list[FormVersion], issues: list[Issue]
) -> None:
    """The same loan (amount cell) or customer (count cell) twice for one cell would be summed twice."""
    kinds = {k: kind for k, (_, kind) in versions[0].columns.items()}
    is_count = lines["cell"].map(lambda c: c is not None and kinds.get(column_of(c) or "") == "count")
    for kind_mask, column in (
        (~is_count, settings.detail.get("loan_column")),
        (is_count, settings.detail.get("customer_column")),
    ):
        if not column or column not in lines.columns:
            continue
        part = lines[kind_mask & lines[column].map(lambda v: _id_text(v) != "")]
        key = ["org_num", "period", "cell", column]
        repeated = part[part.duplicated(key, keep=False)]
        first = repeated.drop_duplicates(key).set_index(key)["line"]
        for row in repeated[repeated.duplicated(key, keep="first")].itertuples(index=False):
            ref = getattr(row, column)
            issues.append(
                Issue(
                    row.file,
                    int(row.line),
                    f"{row.item} ({column})",
                    "s71_detail_duplicate",
                    f"{row.org_num} {row.period.date()} {row.cell} {column}={ref}；"
                    f"另见/also 第{first.loc[(row.org_num, row.period, row.cell, ref)]}行/row",
                )
            )


def _sum_detail(lines: pd.DataFrame) -> pd.DataFrame:
    """One cell per (institution, month, item) of a detail export, its value the sum of its rows."""
    grouped = lines.groupby(["org_num", "period", "item"], sort=False, dropna=False)
    out = grouped.agg(
        cell=("cell", "first"),
        value=("value", lambda v: v.sum(min_count=1)),
        unit=("unit", "first"),
        unit_basis=("unit_basis", "first"),
        file=("file", "first"),
        sheet=("sheet", "first"),
        first_line=("line", "min"),
        n=("line", "size"),
    ).reset_index()
    out["location"] = [
        f"第{a}行/row {a}" + (f" 等{n}行明细/and {n - 1} more detail rows" if n > 1 else " 明细/detail")
        for a, n in zip(out["first_line"], out["n"])
    ]
    return out[CELL_COLUMNS]


def _id_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sheet_grid(ws) -> list[list]:
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    for merged in ws.merged_cells.ranges:  # a merged header's text belongs to every cell under it
        top = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top
    return grid


def read_form_sheet(
    ws, file_name: str, settings: ImportSettings, versions: list[FormVersion], unit: str | None, issues: list[Issue]
) -> pd.DataFrame:
    """Cells of one form-layout sheet (one institution, one month)."""
    from openpyxl.utils import get_column_letter

    where = f"{file_name}[{ws.title}]"
    grid = _sheet_grid(ws)
    letters_all = {k for f in versions for k in f.columns}
    header = None
    for r, row in enumerate(grid[:30]):
        letters = {
            m["letter"]
            for v in row
            if isinstance(v, str) and (m := _HEADER_LETTER.match(v)) and m["letter"] in letters_all
        }
        if len(letters) >= 3:
            header = r
            break
    title_text = " ".join(str(v) for row in grid[: header if header is not None else 10] for v in row if v)
    org = _ORG_LINE.search(title_text)
    date = _DATE_LINE.search(title_text)
    if header is None or org is None or date is None or header + 1 >= len(grid):
        missing = [
            n
            for n, ok in (
                ("表头/header A–F", header is not None),
                ("机构编码", org is not None),
                ("数据日期", date is not None),
            )
            if not ok
        ]
        issues.append(Issue(where, None, None, "s71_layout", "未找到/not found: " + "、".join(missing)))
        return pd.DataFrame(columns=CELL_COLUMNS)
    period, rule = parse_period(date["date"])
    if rule:
        issues.append(Issue(where, None, "数据日期", rule, date["date"]))
        return pd.DataFrame(columns=CELL_COLUMNS)
    form = form_for(versions, period)
    found_unit = _UNIT_LINE.search(title_text)
    if found_unit:
        stated = found_unit["unit"]
        stated = next((u for u in sorted(UNIT_TO_WAN, key=len, reverse=True) if stated.startswith(u)), stated)
        if stated not in UNIT_TO_WAN:
            issues.append(Issue(where, None, "单位", "s71_unknown_unit", found_unit.group(0)))
            return pd.DataFrame(columns=CELL_COLUMNS)
        if unit and unit != stated:
            issues.append(
                Issue(where, None, "单位", "s71_unit_conflict", f"表内/in form: {stated}; 声明/declared: {unit}")
            )
            return pd.DataFrame(columns=CELL_COLUMNS)
        declared, basis = stated, f"form title/表内：{found_unit.group(0)}"
    else:
        declared = unit or settings.default_unit["form"]
        basis = "declared/声明" if unit else "default/默认"
    band_labels = {}
    for f in versions if form is None else [form]:
        band_labels.update({label: band for band, label in f.bands.items()})
    top, second = grid[header], grid[header + 1]
    columns: dict[int, tuple[str, str]] = {}
    item_col = None
    for c, (v1, v2) in enumerate(zip(top, second)):
        if isinstance(v1, str) and ("编号" in v1 or "序号" in v1) and item_col is None:
            item_col = c
        m1 = _HEADER_LETTER.match(v1) if isinstance(v1, str) else None
        if not m1 or m1["letter"] not in letters_all:
            continue
        band = None
        if isinstance(v2, (int, float)) and not isinstance(v2, bool):
            band = str(int(v2))
        elif isinstance(v2, str):
            m2 = _HEADER_BAND.match(v2)
            band = m2["band"] if m2 else band_labels.get(v2.strip())
        if band is None:
            issues.append(
                Issue(
                    where,
                    header + 2,
                    get_column_letter(c + 1),
                    "s71_layout",
                    f"分档表头无法识别/band header not recognised: {v2!r}",
                )
            )
            continue
        columns[c] = (m1["letter"], band)
    item_col = 0 if item_col is None else item_col
    rows = []
    for r in range(header + 2, len(grid)):
        raw_item = grid[r][item_col]
        if raw_item is None or str(raw_item).strip() == "":
            continue
        item = str(raw_item).strip()
        if isinstance(raw_item, float) and raw_item.is_integer():
            item = str(int(raw_item))
        if not re.fullmatch(r"\d+(?:\.(?:\d+|[a-z]))*", item):
            continue  # notes under the form (填报说明, 负责人 …)
        for c, (letter, band) in columns.items():
            value = grid[r][c]
            number = _to_float(value)
            ref = f"{get_column_letter(c + 1)}{r + 1}"
            code = f"{item}.{letter}{band}"
            if number is None:
                continue
            if np.isnan(number):
                issues.append(Issue(where, r + 1, ref, "not_a_number", f"{code}: {value!r}"))
                continue
            rows.append(
                (org["org"], period, code, code, number, declared, basis, file_name, ws.title, f"单元格/cell {ref}")
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _is_long_workbook(path: Path, settings: ImportSettings) -> bool:
    head = pd.read_excel(path, sheet_name=0, nrows=0, engine="openpyxl")
    found = _match_headers(head.columns, settings.long_headers)
    return "item_num" in found and "value" in found


def read_sources(
    sources: list[Path],
    settings: ImportSettings,
    versions: list[FormVersion],
    unit: str | None,
    issues: list[Issue],
    details: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Cells of every S71 file under ``sources`` (files or folders); and SHA-256 per file. The rows
    of detail exports are appended to ``details``."""
    from openpyxl import load_workbook

    from analysis.inputs.loading import file_sha256

    files: list[Path] = []
    for source in sources:
        source = Path(source)
        if source.is_dir():
            files += sorted(
                p
                for p in source.rglob("*")
                if p.suffix.lower() in (".csv", ".xlsx", ".parquet") and not p.name.startswith(("~$", "."))
            )
        elif source.exists():
            files.append(source)
        else:
            issues.append(Issue(str(source), None, None, "file_unreadable", "路径不存在 / path does not exist"))
    frames, hashes = [], {}
    for path in files:
        hashes[path.name] = file_sha256(path)
        problem = size_problem(path) if path.suffix.lower() in (".xlsx", ".parquet") else None
        if problem:  # a zip bomb, or too many cells: refused before it is opened, as validate does
            issues.append(Issue(path.name, None, None, "file_too_large", problem))
            continue
        if path.suffix.lower() != ".xlsx":
            frames.append(read_long(path, settings, versions, unit, issues, details=details))
            continue
        try:
            if _is_long_workbook(path, settings):
                frames.append(read_long(path, settings, versions, unit, issues, details=details))
                continue
            workbook = load_workbook(path, data_only=True)
        except Exception as exc:  # noqa: BLE001 — a corrupt workbook
            issues.append(Issue(path.name, None, None, "file_unreadable", str(exc)[:200]))
            continue
        for ws in workbook.worksheets:
            frames.append(read_form_sheet(ws, path.name, settings, versions, unit, issues))
    frames = [f for f in frames if not f.empty]
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CELL_COLUMNS)
    return cells, hashes
