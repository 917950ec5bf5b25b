"""How the office writes figures in running text (行文用语): a sign is said in words, never printed.

A regulator's letter does not write "较年初增长 -4.00%" or "差 -10.64个百分点": it writes
"较年初下降4.00%" and "低10.64个百分点". Every phrase here takes the signed figure and the pair of
words for its two directions, so a negative never lands inside a positive phrase, and a figure at
the comparison tolerance reads 持平 (level), never "+0.00". City totals are in 亿元 with two
decimals and percentages with two decimals, for the 通报 and the city overview alike (one rule:
:func:`yi`, :func:`percent`).

A leaf module: it imports only the comparison tolerance, so the reports and the documents can
both use it.
"""

from __future__ import annotations

import math

from analysis.core.compare import snap_zero

#: digits of a percentage and of 亿元 in text: the precision the notices and 通报 speak in
PERCENT_DIGITS = 2
YI_DIGITS = 2
#: what a missing figure reads as
MISSING = "—"

CHINESE_QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}


def _number(value) -> float | None:
    """The figure as a float snapped to zero at the tolerance, or None when missing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else snap_zero(number)


def _digits(value: float, digits: int) -> str:
    return f"{abs(value):,.{digits}f}"


def figure(value, digits: int = 2, unit: str = "") -> str:
    """An unsigned figure with thousands separators: 1,546,464.40万元; missing: —."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{'-' if number < 0 else ''}{_digits(number, digits)}{unit}"


def standard(value, unit: str = "", digits: int = 2) -> str:
    """A standard as a notice states it, without trailing zeros: 3 → 3个百分点, 2.5 → 2.5个百分点."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:.{digits}f}".rstrip("0").rstrip(".") + unit


def completion(value_pct) -> str:
    """A plan's completion in running text: 完成62.64%; when the balance fell, 完成率为负 (a negative
    share is not said as one)."""
    number = _number(value_pct)
    return "完成率为负" if number is not None and number < 0 else f"完成{percent(value_pct)}"


def percent(value) -> str:
    """A percentage as the 通报 and the overview print it: 109.38%."""
    return figure(value, PERCENT_DIGITS, "%")


def yi(value_wan) -> str:
    """An amount held in 万元, written in 亿元: 1,546,464.40 (万元) → 154.65亿元."""
    number = _number(value_wan)
    return MISSING if number is None else figure(number / 10_000, YI_DIGITS, "亿元")


def directed(value, up: str, down: str, digits: int = 2, unit: str = "", level: str = "持平") -> str:
    """A signed figure said in words: ``up`` or ``down`` before its size, ``level`` at zero.

    ``directed(-4, "增长", "下降", unit="%")`` → "下降4.00%"; missing → —."""
    number = _number(value)
    if number is None:
        return MISSING
    if number == 0 or _digits(number, digits).strip("0.,") == "":
        return level
    return f"{up if number > 0 else down}{_digits(number, digits)}{unit}"


def growth(value_pct) -> str:
    """A growth rate: 增长8.66% / 下降1.20% / 持平."""
    return directed(value_pct, "增长", "下降", PERCENT_DIGITS, "%")


def change(value, unit: str = "万元", digits: int = 2) -> str:
    """A change of an amount or a count: 增加3,758.47万元 / 减少120户 / 持平."""
    return directed(value, "增加", "减少", digits, unit)


def change_yi(value_wan) -> str:
    """A change of an amount held in 万元, in 亿元: 增加154.65亿元."""
    number = _number(value_wan)
    return MISSING if number is None else change(number / 10_000, "亿元", YI_DIGITS)


def gap(value, unit: str = "个百分点", digits: int = 2) -> str:
    """A difference between two figures: 高5.96个百分点 / 低10.64个百分点 / 持平."""
    return directed(value, "高", "低", digits, unit, level="相当")


def rise(value, unit: str = "个百分点", digits: int = 2) -> str:
    """A change of a share or a rate: 上升1.29个百分点 / 下降22个基点 / 持平."""
    return directed(value, "上升", "下降", digits, unit)


def quarter_name(quarter: str) -> str:
    """2023Q3 → 2023年第三季度 (an unknown form is returned as it is)."""
    text = str(quarter)
    if len(text) == 6 and text[4] == "Q" and text[:4].isdigit() and text[5] in "1234":
        return f"{text[:4]}年第{CHINESE_QUARTERS[int(text[5])]}季度"
    return text


def names(items, limit: int | None = None) -> str:
    """Institution names joined as Chinese text does (、), the first ``limit`` when given, with 等."""
    listed = [str(n) for n in items]
    if limit is not None and len(listed) > limit:
        return "、".join(listed[:limit]) + f"等{len(listed)}家"
    return "、".join(listed)
