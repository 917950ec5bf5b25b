"""The validated input tables (:class:`Dataset`): a leaf module, the type that loading and
validation produce and every rule module consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Dataset:
    """Validated, typed input tables.

    ``monthly.period`` is a month-end ``datetime64``; amounts, counts and rates are floats
    (empty cells are NaN); ``institutions.differentiated_years`` holds tuples of ints.
    """

    institutions: pd.DataFrame
    monthly: pd.DataFrame
    plans: pd.DataFrame
    onlending: pd.DataFrame
    source: str = ""
    file_hashes: dict[str, str] = field(default_factory=dict)


__all__ = ["Dataset"]
