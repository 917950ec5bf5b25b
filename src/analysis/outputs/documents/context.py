"""What the documents say (文书内容), the parts both share: numbers as the reports show them (万元 with
two decimals, percentages, 个百分点, 个基点), dates in Chinese and the letterhead fields of the period's
policy year. The 通报's fields are :mod:`~analysis.outputs.documents.bulletin`'s, a letter's
:mod:`~analysis.outputs.documents.letter`'s; running text says signs in words
(:mod:`analysis.content.wording`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.content.display import fmt_number
from analysis.core.compare import fmt_signed, snap_zero
from analysis.core.periods import chinese_date, month_label
from analysis.outputs.documents.templates import DocumentSettings

# ---------------------------------------------------------------- numbers as the reports show them


def _fmt(value, digits: int = 2, signed: bool = False, unit: str = "") -> str:
    """As :func:`analysis.content.institution` writes figures: a zero at the tolerance reads 0, NaN reads —."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not pd.isna(value):
        if signed:
            return fmt_signed(value, digits, unit)
        value = snap_zero(float(value))
    return fmt_number(value, digits, signed=signed, unit=unit)


def pct(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "%")


def pp(value) -> str:
    return _fmt(value, 2, True, "个百分点")


def bp(value) -> str:
    return _fmt(value, 0, True, "个基点")


def amount(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "万元")


def count(value, signed: bool = False, unit: str = "户") -> str:
    return _fmt(value, 0, signed, unit)


def _cell(value, digits: int = 2) -> str:
    """A table cell: the unit is in the header; counts whole."""
    return _fmt(value, digits)


CHINESE_NUMBERS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (list numbering in official documents)."""
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else CHINESE_NUMBERS[tens - 1]}十{CHINESE_NUMBERS[ones - 1] if ones else ''}"


def period_name(period: pd.Timestamp) -> str:
    """2023-06 → 2023年上半年, 2023-09 → 2023年前三季度, 2023-12 → 2023年, 2023-05 → 2023年1—5月."""
    spans = {3: "一季度", 6: "上半年", 9: "前三季度", 12: ""}
    span = spans.get(period.month, f"1—{period.month}月")
    return f"{period.year}年{span}"


#: what a document shows for a setting the office has not filled in (联系人, 联系电话): a line to write on
BLANK = "＿＿＿＿＿＿"


def _common(
    policy, period: pd.Timestamp, issued: date, reply_by: date, settings: DocumentSettings, document: str
) -> dict:
    """The fields both documents share: the notice, the period, and the letterhead of the period's
    policy year (``documents.yaml``: issuer, 发文机关标志, 发文字号 prefix, 抄送, 联系人) for
    ``document`` (``bulletin`` or ``letter``)."""
    year = settings.years.get(period.year)
    issuer = (year.issuer if year else "") or policy.issuing_office
    mark = (year.bulletin_mark if document == "bulletin" else year.letter_mark) if year else ""
    prefix = (year.bulletin_number_prefix if document == "bulletin" else year.letter_number_prefix) if year else ""
    return {
        "office": policy.issuing_office,
        "notice": policy.notice,
        "notice_title": policy.title,
        "jurisdiction": policy.jurisdiction or "",
        "period": f"{period:%Y-%m}",
        "period_end": f"{month_label(period)}末",
        "period_name": period_name(period),
        "year": period.year,
        "year_end": period.month == 12,
        "issued": chinese_date(issued),
        "issue_year": issued.year,
        "reply_deadline": chinese_date(reply_by),
        "reply_days": settings.reply_days,
        "issuer": issuer,
        "issuer_mark": mark or (f"{issuer}文件" if document == "bulletin" else issuer),
        # the number is the office's to assign (文书编号): the draft leaves two full-width spaces
        "doc_number": f"{prefix}〔{issued.year}〕\u3000\u3000号" if prefix else "",
        "printed": f"{chinese_date(issued)}印发",
        "copy_to": "，".join(year.copy_to) if year else "",
        "contact_name": settings.contact.name or BLANK,
        "contact_phone": settings.contact.phone or BLANK,
    }
