"""The validated input tables (:class:`Dataset`): a leaf module, the type that loading and
validation produce and every rule module consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.core.errors import Issue


@dataclass
class FinancingTables:
    """The financing coordination mechanism's tables (融资协调工作机制: 推荐清单 and 银行反馈), checked.

    ``pairs``: one row per firm and bank pushed (the list's columns, the bank's feedback beside them,
    ``has_feedback``; ``list_row`` and ``feedback_row`` are the rows the analyst sees in each file).
    ``excluded``: the rows left out of the figures (a bad check digit, dates out of order, feedback on
    a firm never pushed to the bank, a contradictory row, credit far above the need), one row each
    with ``table``, ``source``, ``row``, ``institution_id``, ``credit_code``, ``firm_name``,
    ``county_code``, ``rule`` and ``detail``: the list sent back to the bank to correct.
    """

    pairs: pd.DataFrame
    excluded: pd.DataFrame
    list_source: str = ""
    feedback_source: str = ""


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
    #: 推荐清单 and 银行反馈 when the data folder has them (optional tables), else None
    financing: FinancingTables | None = None


__all__ = ["Dataset", "FinancingTables"]
