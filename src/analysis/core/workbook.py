"""The one Excel writer (工作簿写出): every workbook the project writes goes through it.

``indicators.xlsx`` (:mod:`analysis.outputs.excel`), the ``analysis loans`` findings workbooks
(:mod:`analysis.inputs.loans`), the monitoring table ``analysis import-s71`` writes (:mod:`analysis.inputs.s71`)
and the demo's workbooks (:mod:`analysis.demo.jurisdiction`, :mod:`analysis.demo.s71`) are written here with
XlsxWriter, never by ``DataFrame.to_excel``: pandas' writers hand a string beginning with ``=`` to the
engine as a formula (``=HYPERLINK("http://…")`` in a receipt id becomes a link in the analyst's Excel).

Text is stored as text: a string cell and, when it starts with one of ``= + - @``, tab or carriage
return — the characters OWASP's CSV-injection guidance lists — Excel's quote-prefix flag as well, the
workbook form of typing a leading ``'``: Excel shows it as text and keeps it text if the cell is edited.
The text itself is unchanged, so it matches the source data. Numbers stay numbers (a negative figure is
not text), dates are date cells (``yyyy-mm-dd``), booleans stay booleans (是/否 in ``indicators.xlsx``).
The project writes no formulas at all; ``tests/test_hostile.py`` opens every workbook it writes and fails
on any ``<f>`` element.

Every cell goes through :meth:`Book.write_text` or a typed writer chosen once per column
(:func:`add_sheet`): XlsxWriter's own conversions (strings to numbers, formulas or links) are off, and a
frame is written column-typed in row order in XlsxWriter's ``constant_memory`` mode (one row in memory,
about 2.5x the cells/s of cell-by-cell openpyxl: ``benchmarks/bench_workbook.py``). The edges:

- missing (None, NaN, NaT, ``pd.NA``) and non-finite numbers (±inf) are empty cells;
- control characters XML cannot hold (U+0000–U+001F but tab and newline) are stored with Excel's
  ``_xHHHH_`` escape, which Excel and python-calamine read back as the character (openpyxl shows the
  escape itself); a literal ``_xHHHH_`` in the text is escaped in turn, so it comes back unchanged;
- XlsxWriter writes a string that starts with ``<r>`` and ends with ``</r>`` into the sheet XML
  unescaped, as rich text it made itself: such a cell would let data plant elements (``<f>`` included)
  in the sheet. :meth:`Book.write_text` writes these as rich text of plain fragments instead, which are
  escaped (the characters shown are the text; one limit: a control character in such a text comes back
  as its ``_xHHHH_`` escape);
- Excel holds at most :data:`MAX_CELL_CHARS` characters (UTF-16 units) in a cell: a longer text is cut
  and ends with :data:`TRUNCATED`, so the cut is seen;
- dates before 1900-03-01, which Excel's calendar cannot show, are ``yyyy-mm-dd`` text; a
  timezone-aware date is refused (Excel has no time zones);
- a frame longer than a sheet (:data:`MAX_ROWS` rows, the header included) goes on in further sheets
  ``<title>（续1）``, ``<title>（续2）`` …, each with the header row.

The workbook appears at its path only when it is complete (:func:`analysis.core.files.atomic_path`):
:func:`new_book` is a context manager that writes to a temporary file and moves it into place on a
clean exit.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.files import atomic_path

#: first characters that make a spreadsheet treat text as a formula (OWASP CSV injection)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
YES_NO = {True: "是", False: "否"}

#: Excel's rows per sheet, the header row included; a longer frame continues on further sheets
MAX_ROWS = 1_048_576
#: Excel's characters per cell (UTF-16 code units)
MAX_CELL_CHARS = 32_767
#: Excel's characters per sheet name
MAX_SHEET_NAME = 31
#: the end of a text cut to :data:`MAX_CELL_CHARS`
TRUNCATED = "…（已截断）"
#: XlsxWriter options: nothing is converted behind the writer's back
OPTIONS = {
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": False,
}

_EXCEL_EPOCH = np.datetime64("1899-12-30", "us")
_FIRST_EXCEL_DATE = pd.Timestamp("1900-03-01")  # before it, Excel's serials count a day that never was
_DAY = np.timedelta64(1, "D")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str) -> str:
    """``text`` within Excel's :data:`MAX_CELL_CHARS` per cell: unchanged if it fits, else cut to
    end with :data:`TRUNCATED`."""
    if len(text) <= MAX_CELL_CHARS // 2 or _utf16_len(text) <= MAX_CELL_CHARS:
        return text
    keep = MAX_CELL_CHARS - _utf16_len(TRUNCATED)
    cut = text.encode("utf-16-le")[: 2 * keep].decode("utf-16-le", errors="ignore")  # never half a pair
    return cut + TRUNCATED


def plain(value: Any, booleans: Mapping[bool, str] | None = None) -> Any:
    """A cell value: None for missing or non-finite, Python scalars for NumPy ones, booleans as they
    are or as the text ``booleans`` gives them (是/否)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool) and booleans is not None:
        return booleans[value]
    return value


class Book:
    """A workbook being written (an XlsxWriter workbook), with each cell format made once."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._formats: dict[tuple, Any] = {}

    def format(self, **properties: Any) -> Any:
        """The XlsxWriter format with ``properties`` (None for none), made once per workbook."""
        if not properties:
            return None
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(properties)
        return self._formats[key]

    def add_worksheet(self, name: str) -> Any:
        return self.workbook.add_worksheet(name)

    def write_text(self, sheet: Any, row: int, col: int, text: str, **properties: Any) -> None:
        """Store ``text`` as a string cell, never a formula (see the module docstring); ``row`` and
        ``col`` count from 0, ``properties`` are XlsxWriter format properties (bold, …)."""
        text = fit_text(text)
        if text.startswith(FORMULA_TRIGGERS):
            properties["quote_prefix"] = True
        cell_format = self.format(**properties)
        if text.startswith("<r>") and text.endswith("</r>"):
            # XlsxWriter would write it as raw rich-text XML: plain fragments are escaped instead
            fragments = [text[:1], text[1:2], text[2:]]
            args = (*fragments, cell_format) if cell_format is not None else fragments
            sheet.write_rich_string(row, col, *args)
        else:
            sheet.write_string(row, col, text, cell_format)

    def write_value(
        self,
        sheet: Any,
        row: int,
        col: int,
        value: Any,
        number_format: str | None = None,
        booleans: Mapping[bool, str] | None = None,
    ) -> None:
        """One cell of any type: text as text, numbers as numbers, dates as dates, booleans as
        booleans (or as ``booleans`` says); missing and non-finite values leave the cell empty."""
        value = plain(value, booleans)
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, str):
            self.write_text(sheet, row, col, value)
        elif isinstance(value, (int, float)):
            sheet.write_number(row, col, value, self.format(num_format=number_format) if number_format else None)
        elif isinstance(value, (dt.datetime, dt.date)):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                raise ValueError(
                    f"Excel 不支持带时区的日期 / Excel has no time zones: {value!r} ({sheet.name}, row {row + 1})"
                )
            stamp = pd.Timestamp(value)
            if stamp < _FIRST_EXCEL_DATE:
                self.write_text(sheet, row, col, stamp.strftime("%Y-%m-%d"))
            else:
                serial = (stamp.to_datetime64().astype("datetime64[us]") - _EXCEL_EPOCH) / _DAY
                sheet.write_number(row, col, float(serial), self.format(num_format=number_format or DATE_FORMAT))
        else:
            self.write_text(sheet, row, col, str(value))


@contextmanager
def new_book(path: Path | str, *, constant_memory: bool = True) -> Iterator[Book]:
    """A workbook to fill, saved to ``path`` atomically when the block ends without an error (the
    finished workbook or nothing, :func:`analysis.core.files.atomic_path`).

    ``constant_memory`` (the default) keeps one row in memory: every sheet must be written row by
    row, top to bottom, as :func:`add_sheet` does. A layout that writes out of order (merged header
    cells) passes ``constant_memory=False``.
    """
    import xlsxwriter

    with atomic_path(path) as tmp, tempfile.TemporaryDirectory(prefix="analysis-xlsx-") as scratch:
        options = {**OPTIONS, "constant_memory": constant_memory, "tmpdir": scratch}
        book = Book(xlsxwriter.Workbook(str(tmp), options))
        yield book
        book.workbook.close()


def sheet_names(title: str, parts: int) -> list[str]:
    """The sheet names of a frame in ``parts`` sheets: ``title``, ``title（续1）``, … each within
    Excel's :data:`MAX_SHEET_NAME` characters (the title is shortened before the suffix)."""
    if len(title) > MAX_SHEET_NAME:
        raise ValueError(
            f"工作表名称超过 {MAX_SHEET_NAME} 个字符 / sheet name longer than {MAX_SHEET_NAME} characters: {title}"
        )
    names = [title]
    for k in range(1, parts):
        suffix = f"（续{k}）"
        names.append(title[: MAX_SHEET_NAME - len(suffix)] + suffix)
    return names


def _column(
    book: Book, frame_title: str, name: Any, series: pd.Series, number_format: str | None, booleans
) -> tuple[list, str, Any]:
    """The values of one column (None where the cell stays empty), the kind of writer for its cells
    (number, boolean, text or value: any type, one by one) chosen once from the column's dtype, and
    what that writer takes besides the value (a cell format, or the value writer's options)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = series.astype(object).where(series.notna(), None).tolist()
        if booleans is not None:
            return [None if v is None else booleans[bool(v)] for v in values], "text", book.format(quote_prefix=True)
        return values, "boolean", None
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        floats = series.to_numpy(dtype=float, na_value=np.nan)
        whole = pd.api.types.is_integer_dtype(dtype)  # whole numbers stay whole (Python ints)
        out = series.to_numpy(dtype=object, copy=True) if whole else floats.astype(object)
        out[~np.isfinite(floats)] = None
        return out.tolist(), "number", book.format(num_format=number_format) if number_format else None
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"Excel 不支持带时区的日期 / Excel has no time zones: sheet {frame_title}, column {name} ({dtype})"
        )
    if pd.api.types.is_datetime64_dtype(dtype):
        stamps = series.to_numpy().astype("datetime64[us]")
        missing = np.isnat(stamps)
        if (~missing & (stamps < _FIRST_EXCEL_DATE.to_datetime64())).any():  # rare: Excel cannot show them
            return series.astype(object).tolist(), "value", (number_format, None)
        serial = ((stamps - _EXCEL_EPOCH) / _DAY).astype(object)
        serial[missing] = None
        return serial.tolist(), "number", book.format(num_format=number_format or DATE_FORMAT)
    objects = series.to_numpy(dtype=object, na_value=None)
    if pd.api.types.infer_dtype(objects, skipna=True) in ("string", "empty"):
        return objects.tolist(), "text", book.format(quote_prefix=True)
    return [plain(v) for v in objects.tolist()], "value", (number_format, booleans)


def _writers(book: Book, sheet: Any) -> dict[str, Callable[[int, int, Any, Any], Any]]:
    """The cell writers of ``sheet`` by kind (see :func:`_column`): each takes row, column, value
    and the column's extra."""

    def text(row: int, col: int, value: str, quoted: Any) -> None:
        if len(value) > MAX_CELL_CHARS // 2 or value.startswith("<r>"):
            book.write_text(sheet, row, col, value)  # maybe too long, maybe rich-text XML
        else:
            sheet.write_string(row, col, value, quoted if value.startswith(FORMULA_TRIGGERS) else None)

    def value(row: int, col: int, value: Any, options: tuple) -> None:
        book.write_value(sheet, row, col, value, *options)

    return {"number": sheet.write_number, "boolean": sheet.write_boolean, "text": text, "value": value}


def add_sheet(
    book: Book,
    title: str,
    frame: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
    header_notes: Mapping[str, str] | None = None,
    freeze: str | None = None,
    booleans: Mapping[bool, str] | None = None,
    widths: Mapping[str, float] | None = None,
) -> list[Any]:
    """Append one sheet (more if the frame is longer than :data:`MAX_ROWS`): a bold header row
    (``labels`` renames columns, ``header_notes`` adds a comment to a header), then one row per record,
    each column through one typed writer (module docstring). Columns are 18 wide for the first two, 14
    after, or as ``widths`` says. Returns the worksheets written."""
    labels, number_formats, widths = labels or {}, number_formats or {}, widths or {}
    columns = list(frame.columns)
    prepared = [
        _column(book, title, name, frame.iloc[:, j], number_formats.get(name), booleans)
        for j, name in enumerate(columns)
    ]
    per_sheet = MAX_ROWS - 1
    starts = list(range(0, len(frame), per_sheet)) or [0]
    sheets = []
    for part, first in zip(sheet_names(title, len(starts)), starts):
        sheet = book.add_worksheet(part)
        sheets.append(sheet)
        for j, name in enumerate(columns):
            sheet.set_column(j, j, widths.get(name, 14 if j >= 2 else 18))
            book.write_text(sheet, 0, j, str(labels.get(name, name)), bold=True, text_wrap=True, valign="top")
            if header_notes and name in header_notes:
                sheet.write_comment(0, j, header_notes[name], {"author": "analysis"})
        writers = _writers(book, sheet)
        cells = [(j, values, writers[kind], extra) for j, (values, kind, extra) in enumerate(prepared)]
        for i in range(first, min(first + per_sheet, len(frame))):
            row = i - first + 1
            for j, values, write, extra in cells:
                value = values[i]
                if value is not None:
                    write(row, j, value, extra)
        sheet.freeze_panes(freeze if freeze is not None else ("C2" if len(columns) > 2 else "A2"))
    return sheets


def write_workbook(path: Path | str, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Every frame of ``sheets`` (sheet name → frame, headers as they are) to one workbook at
    ``path``, written atomically."""
    with new_book(path) as book:
        for title, frame in sheets.items():
            add_sheet(book, title, frame)
    return Path(path)


__all__ = [
    "COUNT_FORMAT",
    "DATE_FORMAT",
    "DECIMAL_FORMAT",
    "FORMULA_TRIGGERS",
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "MAX_SHEET_NAME",
    "TRUNCATED",
    "YES_NO",
    "Book",
    "add_sheet",
    "fit_text",
    "new_book",
    "plain",
    "sheet_names",
    "write_workbook",
]
