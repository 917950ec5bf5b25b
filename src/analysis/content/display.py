"""Small HTML building blocks for the reports; every value from the data is escaped."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from html import escape

import pandas as pd

from analysis.core.status import MET, NA, NOT_MET, STATUS_LABELS, WATCH

STATUS_ICONS = {MET: "✓", NOT_MET: "✗", WATCH: "!", NA: "—"}


class HTML:
    """An HTML fragment that Jupyter displays (``_repr_html_``) and tests can read (``str``)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __add__(self, other: HTML) -> HTML:
        return HTML(self.html + str(other))


def esc(value) -> str:
    return escape("" if value is None else str(value), quote=True)


#: units of counted things (户 borrowers, 件 policies, 家 institutions, 名 rank): whole numbers
COUNT_UNITS = ("户", "件", "家", "名")


def is_count_label(label) -> bool:
    """A header or row label whose unit, in full-width or ASCII brackets, is a count: '户数较年初（户）'."""
    text = str(label).strip()
    return any(text.endswith((f"（{u}）", f"({u})")) for u in COUNT_UNITS)


def fmt_number(value, digits: int = 2, signed: bool = False, unit: str = "") -> str:
    """Chinese-report number formatting: thousands separators, NaN as '—'.

    Counts (``unit`` one of :data:`COUNT_UNITS`) are whole numbers whatever ``digits`` says;
    a value that rounds to zero is shown without a minus sign.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if unit in COUNT_UNITS:
        digits = 0
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.00 -> 0.00
    sign = "+" if signed and value > 0 and text.strip("0.,") else ""
    return f"{sign}{text}{unit}"


def status_badge(status: str) -> str:
    """A coloured status label; an empty status (an information-only row) shows nothing."""
    if not status:
        return ""
    status = status if status in STATUS_LABELS else NA
    return (
        f'<span class="status status-{status.replace("/", "")}">{STATUS_ICONS[status]} {STATUS_LABELS[status]}</span>'
    )


#: units a figure may carry in a report cell ("596,000.00万元", "+842户", "-3.17个百分点")
FIGURE_UNITS = re.compile(r"万元|亿元|元|户|件|家|名|个百分点|个基点|百分点|基点|分|倍")
#: CJK ideographs and full-width forms: text that wraps between characters
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: longest figure, date or code kept on one line; anything longer is text and may wrap
FIGURE_MAX_LENGTH = 40
#: longest label (a category, a grade, a county) kept on one line: "股份制商业银行"
LABEL_MAX_LENGTH = 7


def is_figure_text(text: str) -> bool:
    """True for a cell that is a figure, a date or a code — "1,929,291.42", "2023-01", "B017",
    "8.90% / 6.20%", "+842户", "—" — and so is never broken across lines (数字、日期、编码不断行).
    Text (a name, a label, a sentence: anything with Chinese characters beside its units, or
    longer than :data:`FIGURE_MAX_LENGTH`) is not: it wraps."""
    text = str(text).strip()
    if not text or len(text) > FIGURE_MAX_LENGTH:
        return False
    return not _CJK.search(FIGURE_UNITS.sub("", text))


def cell_class(content: str, numeric: bool) -> str:
    """The class of a table cell: ``num`` for a numeric column (right-aligned, one line); ``fig``
    for a figure, date or code in a text column (one line); ``figs`` for figures separated by
    spaces ("8.90% / 6.20%": a line may end at a space, never inside a figure); ``label`` for a
    short label ("股份制商业银行", "一级": one line, never squeezed a character or two a line);
    ``text`` for text (wraps, anywhere if it must)."""
    if numeric:
        return "num"
    if not is_figure_text(content):
        text = content.strip()
        return "label" if 0 < len(text) <= LABEL_MAX_LENGTH and not any(c.isspace() for c in text) else "text"
    return "figs" if any(c.isspace() for c in content.strip()) else "fig"


def table(
    rows: Iterable[Sequence],
    headers: Sequence[str],
    *,
    raw_columns: Sequence[int] = (),
    numeric_columns: Sequence[int] = (),
    css_class: str = "data",
) -> HTML:
    """An HTML table; cells are escaped except the columns listed in ``raw_columns`` (badges).

    Every cell carries its kind (:func:`cell_class`): figures, dates and codes stay whole, text
    wraps; the table sits in a ``table-wrap`` block that scrolls sideways on a narrow screen
    instead of squeezing its columns.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i in raw_columns:  # a badge: kept whole by its own class
                cells.append(f'<td class="badge">{cell}</td>')
                continue
            content = esc(cell)
            cells.append(f'<td class="{cell_class(str(cell), i in numeric_columns)}">{content}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return HTML(
        f'<div class="table-wrap"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def frame_table(
    frame: pd.DataFrame,
    *,
    digits: int = 2,
    status_columns: Sequence[str] = (),
    count_columns: Sequence[str] = (),
    css_class: str = "data",
) -> HTML:
    """A DataFrame as an escaped HTML table with numbers formatted and statuses as badges.

    Counts are whole numbers: columns of integer dtype, columns named in ``count_columns``, columns
    whose header carries a count unit ('户数较年初（户）'), and — for transposed tables such as a
    data appendix — rows whose first cell is such a label.
    """
    rows = []
    numeric = [
        i
        for i, c in enumerate(frame.columns)
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    counts = {
        i
        for i in numeric
        if pd.api.types.is_integer_dtype(frame.iloc[:, i])
        or frame.columns[i] in count_columns
        or is_count_label(frame.columns[i])
    }
    raw = [i for i, c in enumerate(frame.columns) if c in status_columns]
    for values in frame.itertuples(index=False):
        row = []
        count_row = len(values) > 0 and 0 not in numeric and isinstance(values[0], str) and is_count_label(values[0])
        for i, v in enumerate(values):
            if i in raw:
                row.append(status_badge(v))
            elif i in numeric:
                row.append(fmt_number(v, 0 if (i in counts or count_row) else digits))
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
