"""The validated input tables (:class:`Dataset`): a leaf module, the type that loading and
validation produce and every rule module consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.core.errors import Issue


@dataclass
class Dataset:
    """Validated, typed input tables.

    ``monthly.period`` is a month-end ``datetime64``; amounts, counts and rates are floats
    (empty cells are NaN); ``institutions.differentiated_years`` holds tuples of ints.
    ``warnings`` are the problems that did not stop the data being used (数据校验提示, e.g. a
    new institution without its prior December: its start-of-year indicators are 不适用);
    :func:`analysis.core.errors.format_warnings` prints them.
    """

    institutions: pd.DataFrame
    monthly: pd.DataFrame
    plans: pd.DataFrame
    onlending: pd.DataFrame
    source: str = ""
    file_hashes: dict[str, str] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)


__all__ = ["Dataset"]
