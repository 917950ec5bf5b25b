"""The one Excel writer (工作簿写出): every workbook the project writes goes through it.

``indicators.xlsx`` (:mod:`analysis.outputs.excel`), the ``analysis loans`` findings workbook
(:mod:`analysis.inputs.loans`), the monitoring table ``analysis import-s71`` writes (:mod:`analysis.inputs.s71`)
and the demo's workbooks (:mod:`analysis.demo.jurisdiction`, :mod:`analysis.demo.s71`) are written cell by
cell here, never by ``DataFrame.to_excel``: pandas' writer hands a string beginning with ``=`` to
openpyxl, which stores it as a live formula (``=HYPERLINK("http://…")`` in a receipt id becomes a
link in the analyst's Excel).

Text is stored as text: a string cell (``data_type = "s"``) and, when it starts with one of
``= + - @``, tab or carriage return — the characters OWASP's CSV-injection guidance lists — Excel's
quote-prefix flag as well, the workbook form of typing a leading ``'``: Excel shows it as text and
keeps it text if the cell is edited. The text itself is unchanged, so it matches the source data.
Numbers stay numbers (a negative figure is not text), dates are date cells, booleans stay booleans
(是/否 in ``indicators.xlsx``). The project writes no formulas at all; ``tests/test_hostile.py`` opens every workbook it writes and
fails on any ``<f>`` element.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core.files import atomic_path

#: first characters that make a spreadsheet treat text as a formula (OWASP CSV injection)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
YES_NO = {True: "是", False: "否"}


def plain(value: Any, booleans: Mapping[bool, str] | None = None) -> Any:
    """A cell value: None for missing, Python scalars for NumPy ones, booleans as they are or as
    the text ``booleans`` gives them (是/否)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool) and booleans is not None:
        return booleans[value]
    return value


def set_text(cell: Any, text: str) -> None:
    """Store ``text`` as a string cell, never a formula (see the module docstring)."""
    cell.value = text
    cell.data_type = "s"  # openpyxl makes any string starting with '=' a formula
    if text.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def set_value(
    cell: Any, value: Any, number_format: str | None = None, booleans: Mapping[bool, str] | None = None
) -> None:
    """One cell: text as text, numbers as numbers (whole in a count format), dates as dates,
    booleans as booleans (or as ``booleans`` says)."""
    value = plain(value, booleans)
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = value
    elif isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, (int, float)):
        if number_format == COUNT_FORMAT and float(value).is_integer():
            value = int(value)
        cell.value = value
        if number_format:
            cell.number_format = number_format
    elif isinstance(value, (dt.datetime, dt.date)):
        cell.value = value
        cell.number_format = number_format or DATE_FORMAT
    else:
        set_text(cell, str(value))


def add_sheet(
    book: Any,
    title: str,
    frame: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
    header_notes: Mapping[str, str] | None = None,
    freeze: str | None = None,
    booleans: Mapping[bool, str] | None = None,
) -> Any:
    """Append one sheet: a bold header row (``labels`` renames columns), then one row per record,
    every cell through :func:`set_value`. Returns the worksheet for layout touches."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    labels, number_formats = labels or {}, number_formats or {}
    sheet = book.create_sheet(title)
    columns = list(frame.columns)
    for j, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=j)
        set_text(cell, str(labels.get(name, name)))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if header_notes and name in header_notes:
            cell.comment = Comment(header_notes[name], "analysis")
        sheet.column_dimensions[get_column_letter(j)].width = 14 if j > 2 else 18
    formats = [number_formats.get(name) for name in columns]
    for i, values in enumerate(frame.itertuples(index=False), start=2):
        for j, (raw, number_format) in enumerate(zip(values, formats), start=1):
            if plain(raw) is not None:
                set_value(sheet.cell(row=i, column=j), raw, number_format, booleans)
    sheet.freeze_panes = freeze if freeze is not None else ("C2" if len(columns) > 2 else "A2")
    return sheet


def new_book() -> Any:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def save(book: Any, path: Path | str) -> Path:
    """Save atomically: the finished workbook or nothing (:func:`analysis.core.files.atomic_path`)."""
    with atomic_path(path) as tmp:
        book.save(tmp)
    return Path(path)


def write_workbook(path: Path | str, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Every frame of ``sheets`` (sheet name → frame, headers as they are) to one workbook at
    ``path``, written atomically."""
    book = new_book()
    for title, frame in sheets.items():
        add_sheet(book, title, frame)
    return save(book, path)


__all__ = [
    "COUNT_FORMAT",
    "DATE_FORMAT",
    "DECIMAL_FORMAT",
    "FORMULA_TRIGGERS",
    "add_sheet",
    "new_book",
    "plain",
    "save",
    "set_text",
    "set_value",
    "write_workbook",
]
