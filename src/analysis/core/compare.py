"""How every verdict and score threshold compares a figure with its standard (比较规则): one rule,
one place. A leaf module: it imports nothing of the package.

The rule: **figures equal in the source data are equal in the verdict.** The engine works in
binary floating point, so two figures that are equal in the reported 万元 can differ in the last
bits once they pass through a ratio: 100.00→106.00 against 1000.00→1060.00 gives a growth margin
of −5e-15 pp, an unchanged rate gives +9e-14 bp. Every comparison therefore allows
:data:`TOLERANCE` in the compared unit (pp, %, bp, 户 or 万元):

* the floating-point noise of a computed figure is about 1e-16 of its size, i.e. below 1e-12 for
  any figure up to 10^4 (growth rates, shares and rates are percentages; bp are 100 × pp);
* one reporting unit moves a figure by far more: amounts are 万元 with two decimals, so 0.01 万元
  on a balance as large as 10^8 万元 (1万亿元, beyond any Nanyang institution) moves a growth rate,
  a share or a completion rate by 1e-8 pp and a rate by 1e-6 bp; counts move by 1 户.

``TOLERANCE = 1e-9`` sits three orders of magnitude above the noise and an order below the
smallest real difference, so a tie is a tie and one reporting unit either side is not.

:func:`at_least` (不低于), :func:`at_most` (不高于), :func:`exceeds` (高于) and :func:`below`
(低于) accept scalars, NumPy arrays or pandas Series (vectorised, index kept). A missing value
(NaN) satisfies none of them: callers decide separately whether a rule can be judged.
:func:`snap_zero` turns a figure that is zero at the tolerance into exactly ``0.0`` (also
``-0.0``), and :func:`fmt_signed` writes a signed figure that never reads "−0.00" or "+0".
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import pandas as pd

#: allowed difference, in the compared unit, between two figures that are equal in the source data
TOLERANCE = 1e-9

Value = TypeVar("Value", float, np.ndarray, pd.Series)


def at_least(value, minimum, tolerance: float = TOLERANCE):
    """``value`` ≥ ``minimum`` (不低于) up to the tolerance; False where either is NaN."""
    return value >= minimum - tolerance


def at_most(value, maximum, tolerance: float = TOLERANCE):
    """``value`` ≤ ``maximum`` (不高于/不超过) up to the tolerance; False where either is NaN."""
    return value <= maximum + tolerance


def exceeds(value, limit, tolerance: float = TOLERANCE):
    """``value`` > ``limit`` (高于/超过) by more than the tolerance; False where either is NaN."""
    return value > limit + tolerance


def below(value, limit, tolerance: float = TOLERANCE):
    """``value`` < ``limit`` (低于) by more than the tolerance; False where either is NaN."""
    return value < limit - tolerance


def is_zero(value, tolerance: float = TOLERANCE):
    """``value`` equals zero at the tolerance; False for NaN."""
    return abs(value) <= tolerance


def snap_zero(value: Value, tolerance: float = TOLERANCE) -> Value:
    """``value`` with every figure that is zero at the tolerance replaced by exactly ``0.0``.

    NaN stays NaN; ``-0.0`` becomes ``0.0``. Works on scalars, arrays and Series.
    """
    if isinstance(value, pd.Series):
        return value.mask(value.abs() <= tolerance, 0.0)
    if isinstance(value, np.ndarray):
        return np.where(np.abs(value) <= tolerance, 0.0, value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return value
    return 0.0 if abs(value) <= tolerance else value


def fmt_signed(value, digits: int = 2, unit: str = "") -> str:
    """A signed figure for report text: "+1.25", "-0.40", "0.00" for a zero at the tolerance
    (never "−0.00" or "+0"), "—" for a missing value.

    A non-zero figure that would round to zero at ``digits`` gets up to four more decimals, so a
    real change of +0.3 bp reads "+0.3", not "+0".
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(snap_zero(float(value)))
    if value == 0.0:
        return f"{0.0:,.{digits}f}{unit}"
    shown = digits
    while round(abs(value), shown) == 0 and shown < digits + 4:
        shown += 1
    return f"{value:+,.{shown}f}{unit}"


__all__ = ["TOLERANCE", "at_least", "at_most", "below", "exceeds", "fmt_signed", "is_zero", "snap_zero"]
