"""Reporting periods (数据期): parsing the period an analyst types, and the time zone of the
office. A leaf module: batch, reports, exports and the command line all parse periods here."""

from __future__ import annotations

from datetime import timedelta, timezone

import pandas as pd

from analysis.core.errors import ReportInputError

#: Beijing time, in which every report is dated.
CHINA_TZ = timezone(timedelta(hours=8))


def parse_period(text: str | pd.Timestamp) -> pd.Timestamp:
    """The month-end of ``2023-06``, ``2023-06-30`` or a timestamp; ReportInputError otherwise."""
    try:
        stamp = pd.Timestamp(str(text)[:7] + "-01")
    except ValueError:
        raise ReportInputError(f"数据期无效 / invalid period: {text!r} (use 2023-06)") from None
    return stamp + pd.offsets.MonthEnd(0)


__all__ = ["CHINA_TZ", "parse_period"]
