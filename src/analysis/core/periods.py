"""Reporting periods (数据期): parsing the period an analyst types, and the time zone of the
office. A leaf module: batch, reports, exports and the command line all parse periods here."""

from __future__ import annotations

import re
from datetime import date, timedelta, timezone

import pandas as pd

from analysis.core.errors import ReportInputError

#: Beijing time, in which every report is dated.
CHINA_TZ = timezone(timedelta(hours=8))


_PERIOD = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2})(?:[ T]00:00:00)?)?")


def parse_period(text: str | date | pd.Timestamp) -> pd.Timestamp:
    """The month-end of ``2023-06``, ``2023-06-30`` or a timestamp; ReportInputError otherwise.

    A period is a month: a typed day must be that month's last (``2023-06-31`` is no date, and
    ``2023-06-15`` is not a month-end), so a typo is refused rather than read as some month."""
    if isinstance(text, (pd.Timestamp, date)):
        return pd.Timestamp(text).normalize() + pd.offsets.MonthEnd(0)
    raw = str(text).strip()
    match = _PERIOD.fullmatch(raw)
    hint = "应为月末，如 2023-06 或 2023-06-30 / use a month-end, e.g. 2023-06 or 2023-06-30"
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise ReportInputError(f"数据期无效 / invalid period: {raw!r}; {hint}")
    month_end = pd.Timestamp(int(match[1]), int(match[2]), 1) + pd.offsets.MonthEnd(0)
    if match[3] is not None and int(match[3]) != month_end.day:
        raise ReportInputError(
            f"数据期无效 / invalid period: {raw!r} — {month_end:%Y-%m}月末为 {month_end:%Y-%m-%d} / "
            f"the month ends on {month_end:%Y-%m-%d}; {hint}"
        )
    return month_end


__all__ = ["CHINA_TZ", "parse_period"]


def month_label(period: date | pd.Timestamp) -> str:
    """A month as reports and documents write it, unpadded: 2025年6月 (never 2025年06月)."""
    return f"{period.year}年{period.month}月"


def chinese_date(day: date | pd.Timestamp) -> str:
    """A day as reports and documents write it, unpadded: 2024年1月22日."""
    return f"{day.year}年{day.month}月{day.day}日"
