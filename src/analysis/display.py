"""Small HTML building blocks for the reports; every value from the data is escaped."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

import pandas as pd

from analysis.status import MET, NA, NOT_MET, STATUS_LABELS, WATCH

STATUS_ICONS = {MET: "✓", NOT_MET: "✗", WATCH: "!", NA: "—"}


class HTML:
    """An HTML fragment that Jupyter displays (``_repr_html_``) and tests can read (``str``)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __add__(self, other: "HTML") -> "HTML":
        return HTML(self.html + str(other))


def esc(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def fmt_number(value, digits: int = 2, signed: bool = False, unit: str = "") -> str:
    """Chinese-report number formatting: thousands separators, NaN as '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value:,.{digits}f}{unit}"


def status_badge(status: str) -> str:
    """A coloured status label; an empty status (an information-only row) shows nothing."""
    if not status:
        return ""
    status = status if status in STATUS_LABELS else NA
    return (f'<span class="status status-{status.replace("/", "")}">{STATUS_ICONS[status]} '
            f"{STATUS_LABELS[status]}</span>")


def table(rows: Iterable[Sequence], headers: Sequence[str], *, raw_columns: Sequence[int] = (),
          numeric_columns: Sequence[int] = (), css_class: str = "data") -> HTML:
    """An HTML table; cells are escaped except the columns listed in ``raw_columns`` (badges)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            content = str(cell) if i in raw_columns else esc(cell)
            cls = ' class="num"' if i in numeric_columns else ""
            cells.append(f"<td{cls}>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return HTML(f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def frame_table(frame: pd.DataFrame, *, digits: int = 2, status_columns: Sequence[str] = (),
                css_class: str = "data") -> HTML:
    """A DataFrame as an escaped HTML table with numbers formatted and statuses as badges."""
    rows = []
    numeric = [i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    raw = [i for i, c in enumerate(frame.columns) if c in status_columns]
    for values in frame.itertuples(index=False):
        row = []
        for i, v in enumerate(values):
            if i in raw:
                row.append(status_badge(v))
            elif i in numeric:
                row.append(fmt_number(v, digits))
            elif isinstance(v, pd.Timestamp):
                row.append(f"{v:%Y-%m}")
            else:
                row.append("—" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
        rows.append(row)
    return table(rows, list(frame.columns), raw_columns=raw, numeric_columns=numeric, css_class=css_class)


def heading(text: str, level: int = 2) -> HTML:
    return HTML(f"<h{level}>{esc(text)}</h{level}>")


def paragraph(text: str, css_class: str = "") -> HTML:
    cls = f' class="{css_class}"' if css_class else ""
    return HTML(f"<p{cls}>{esc(text)}</p>")


def bullet_list(items: Iterable[str], css_class: str = "") -> HTML:
    cls = f' class="{css_class}"' if css_class else ""
    return HTML(f"<ul{cls}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")
