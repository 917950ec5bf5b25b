"""Convert raw tables to typed frames and check every rule of the data contract.

All problems are collected (vectorised, column by column) and raised together as one
:class:`~analysis.core.errors.DataValidationError`; a dataset is returned only when there are none.

Why this module is long: one function per rule of the contract, applied in one pass that
collects every problem with its location; the rules are read and changed together with the
contract they enforce.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.contract import (
    CATEGORIES,
    DEFAULT_LIMITS,
    ID_PATTERN,
    LIMITS_FILE,
    PLAN_TO_BALANCE_RANGE,
    PLAUSIBLE_YEARS,
    POLICY_BANK,
    REQUIRED_TABLES,
    TABLES,
    UNIT_BAND,
    UNIT_PEER_RATIO,
    Column,
    Limits,
    monthly_with,
)
from analysis.core.dataset import Dataset, FinancingTables
from analysis.core.errors import WARNING_RULES, DataValidationError, Issue, ParamsError
from analysis.core.financing import FinancingParams, load_financing_params
from analysis.core.indicator_defs import load_indicator_params
from analysis.core.paramfile import read_params
from analysis.core.policy import Policy, load_policies, policy_path
from analysis.inputs.loading import RawTable, read_tables

# --- cell conversion --------------------------------------------------------------------

_YM = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})|(\d{2}))\s*月?\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_SERIAL = re.compile(r"^\s*(\d{5})(?:\.0*)?\s*$")
#: C0 and C1 control characters and DEL (Excel refuses most of them; none belongs in a name).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial 1 = 1900-01-01, after Excel's 1900 leap-year bug
_SERIAL_RANGE = (
    (pd.Timestamp(year=PLAUSIBLE_YEARS[0], month=1, day=1) - _EXCEL_EPOCH).days,
    (pd.Timestamp(year=PLAUSIBLE_YEARS[1], month=12, day=31) - _EXCEL_EPOCH).days,
)


def _excel_serial(value) -> pd.Timestamp | None:
    """The date of an Excel serial day number (44227 = 2021-01-31) in the plausible years."""
    if isinstance(value, str):
        match = _SERIAL.match(value)
        number = float(match.group(1)) if match else None
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
    else:
        return None
    if number is None or not np.isfinite(number) or not number.is_integer():
        return None
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        return None
    return _EXCEL_EPOCH + pd.Timedelta(days=int(number))


def _parse_period(value) -> tuple[pd.Timestamp | None, str | None]:
    """Month-end timestamp, or the rule broken. Accepts 2023-06, 202306, 2023年6月, dates and
    Excel serial day numbers (44227 = 2021-01-31, as a date cell exported without its format)."""
    serial = _excel_serial(value)
    if serial is not None:
        value = serial
    elif isinstance(value, str):
        match = _YM.match(value)
        if match:
            year = int(match.group(1))
            month = int(match.group(2) or match.group(3))
            if not 1 <= month <= 12:
                return None, "invalid_period"
            return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0), None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None, "invalid_period"
    if pd.isna(stamp):
        return None, "invalid_period"
    # Excel stores a typed year-month (2023-06) as the 1st of the month: accept it as well.
    if not (stamp.is_month_end or stamp.day == 1) or stamp != stamp.normalize():
        return None, "period_not_month_end"
    return stamp.normalize() + pd.offsets.MonthEnd(0), None


_DAY_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:0{1,2}:00(?::00)?)?\s*$")
_DAY_DIGITS = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def _parse_day(value) -> pd.Timestamp | None:
    """A calendar day (日期): 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, 20250305, a date cell or an
    Excel serial day number; None when it is none of them (or a day that does not exist)."""
    serial = _excel_serial(value)
    if serial is not None:
        return serial
    if isinstance(value, str):
        match = _DAY_TEXT.match(value) or _DAY_DIGITS.match(value)
        if not match:
            return None
        try:
            return pd.Timestamp(year=int(match.group(1)), month=int(match.group(2)), day=int(match.group(3)))
        except ValueError:
            return None
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            return None
        if pd.isna(stamp) or stamp != stamp.normalize() or not PLAUSIBLE_YEARS[0] <= stamp.year <= PLAUSIBLE_YEARS[1]:
            return None
        return stamp
    return None


def _parse_days(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(days as datetime64, True where a filled cell is not a day). Each distinct value is parsed
    once: a list of 10⁶ rows holds a few hundred distinct dates."""
    present = values.notna()
    distinct = pd.unique(values[present].to_numpy(dtype=object))
    parsed = {v: _parse_day(v) for v in distinct}
    days = pd.to_datetime(values.map(parsed, na_action="ignore"))
    return days, present & days.isna()


#: what a yes/no cell (是否) may hold
_FLAGS = {
    "是": True,
    "否": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "√": True,
    "×": False,
}


def _parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(True/False/None, True where a filled cell is not a yes or no)."""

    def flag(v):
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            return bool(v)
        return _FLAGS.get(str(v).strip().lower())

    present = values.notna()
    distinct = pd.unique(values[present].to_numpy(dtype=object))
    parsed = {v: flag(v) for v in distinct}
    flags = values.map(parsed, na_action="ignore").astype(object)
    return flags.where(flags.notna(), None), present & flags.isna()


def _credit_codes(values: pd.Series) -> pd.Series:
    """统一社会信用代码 as text: full-width characters folded (ＡＢ１ → AB1), blanks removed, upper case."""
    import unicodedata

    def clean(v):
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _as_text(v) or "")).upper() or None

    distinct = pd.unique(values[values.notna()].to_numpy(dtype=object))
    return values.map({v: clean(v) for v in distinct}, na_action="ignore")


def _parse_years(value) -> tuple[tuple[int, ...] | None, bool]:
    if value is None:
        return (), True
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        parts = [str(int(value))]
    else:
        parts = [p for p in re.split(r"[;,，、；\s]+", str(value).strip()) if p]
    years = []
    for part in parts:
        if not re.fullmatch(r"\d{4}", part):
            return None, False
        years.append(int(part))
    return tuple(sorted(years)), True


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # 411302 read from Excel as a number
    return str(value).strip()


def _to_number(values: pd.Series) -> pd.Series:
    def clean(v):
        if isinstance(v, str):
            return v.replace(",", "").replace("，", "").strip()
        return v

    return pd.to_numeric(values.map(clean), errors="coerce").astype(float)


def _control_characters(raw: RawTable, col: Column, values: pd.Series, issues: list[Issue]) -> pd.Series:
    """Cells holding a control character (after the surrounding blanks an analyst cannot see are
    stripped), each reported once with the character's position; True where found."""
    text = values.astype(str).str.strip()
    found = values.notna() & text.str.contains(_CONTROL, regex=True)
    for pos in np.flatnonzero(found.to_numpy()):
        cell = text.iloc[pos]
        at = _CONTROL.search(cell)
        issues.append(
            Issue(
                raw.source,
                raw.row_number(pos),
                col.name,
                "control_character",
                f"第{at.start() + 1}个字符/character {at.start() + 1} {at.group()!r}: {cell!r}",  # type: ignore[union-attr]
            )
        )
    return found


#: a value longer than this is shown by its start and its length in a problem's detail
SHOWN_CHARACTERS = 40


def shown_value(value) -> str:
    """A cell value as a problem shows it: its repr, or the start of a long text and its length."""
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}…（共{len(value):,}字符 / {len(value):,} characters）"
    return repr(value)


def _too_long(raw: RawTable, col: Column, values: pd.Series, issues: list[Issue]) -> pd.Series:
    """Text cells longer than the column's limit (text_too_long), each reported once with its
    length; True where found."""
    limit = col.length_limit
    if limit is None:
        return pd.Series(False, index=values.index)
    lengths = values.map(lambda v: len(str(v).strip()) if v is not None else 0)
    found = lengths > limit
    for pos in np.flatnonzero(found.to_numpy()):
        issues.append(
            Issue(
                raw.source,
                raw.row_number(pos),
                col.name,
                "text_too_long",
                f"{lengths.iloc[pos]:,} 个字符，上限 {limit:,} / {lengths.iloc[pos]:,} characters, limit {limit:,}: "
                f"{shown_value(str(values.iloc[pos]).strip())}",
            )
        )
    return found


def _convert_column(raw: RawTable, col: Column, issues: list[Issue]) -> pd.Series:
    values = raw.frame[col.name]
    if col.name in raw.missing_columns:
        values = pd.Series(None, index=raw.frame.index, dtype=object)
    control = _control_characters(raw, col, values, issues)
    values = values.mask(control, None)  # reported once: not checked again as a number, choice…
    long = _too_long(raw, col, values, issues)
    values = values.mask(long, None)
    control |= long
    present = values.notna()

    def report(mask: pd.Series, rule: str, shown: pd.Series | None = None) -> None:
        shown = values if shown is None else shown
        for pos in np.flatnonzero(mask.to_numpy()):
            issues.append(
                Issue(raw.source, raw.row_number(pos), col.name, rule, f"值/value: {shown_value(shown.iloc[pos])}")
            )

    if col.kind in ("amount", "count", "rate"):
        numbers = _to_number(values)
        bad = present & numbers.isna()
        report(bad, "not_a_number")
        infinite = pd.Series(np.isinf(numbers.to_numpy()), index=numbers.index)
        report(infinite, "not_finite", shown=numbers)
        numbers = numbers.mask(infinite)  # reported once, never computed with
        ok = numbers.notna()
        if not col.allow_negative:
            report(ok & (numbers < 0), "negative")
        if col.kind == "count":
            report(ok & (numbers >= 0) & (numbers != np.round(numbers)), "not_whole_number")
        if col.max_value is not None and col.kind == "rate":  # amount and count ceilings: _check_ceilings
            report(ok & (numbers > col.max_value), "out_of_range")
        return numbers
    if col.kind == "year":
        numbers = _to_number(values)
        bad = present & ~(numbers.between(*PLAUSIBLE_YEARS) & (numbers == np.round(numbers)))
        report(bad, "invalid_year")
        return numbers.where(~bad).astype("Int64")
    if col.kind == "years":
        parsed = values.map(_parse_years)
        bad = ~parsed.map(lambda p: p[1])
        report(bad, "invalid_year")
        return parsed.map(lambda p: p[0] if p[1] else ())
    if col.kind == "period":
        parsed = values.map(lambda v: _parse_period(v) if v is not None else (None, None))
        rules = parsed.map(lambda p: p[1])
        for rule in ("invalid_period", "period_not_month_end"):
            report(rules == rule, rule)
        return pd.to_datetime(parsed.map(lambda p: p[0]))
    if col.kind == "date":
        days, bad = _parse_days(values)
        report(bad, "invalid_date")
        return days
    if col.kind == "flag":
        flags, bad = _parse_flags(values)
        report(bad, "invalid_flag")
        return flags
    if col.kind == "credit_code":
        return _credit_codes(values)  # an empty code: required_empty (_convert); its check digit: inputs.financing
    if col.kind == "quarter":
        text = values.map(_as_text)
        matches = text.map(lambda v: _QUARTER.match(v) if v else None)
        report(present & matches.isna(), "invalid_quarter")
        return matches.map(lambda m: f"{m.group(1)}Q{m.group(2)}" if m else None)
    text = values.map(_as_text).replace("", None)
    if col.kind == "id":
        report(text.isna() & ~control & (col.name not in raw.missing_columns), "empty_id")
    if col.choices is not None:
        report(text.notna() & ~text.isin(col.choices), "invalid_choice")
    return text


def _convert(raw: RawTable, issues: list[Issue], categories: pd.Series | None = None) -> pd.DataFrame:
    """Typed frame for one table; ``categories`` maps institution id to category."""
    frame = pd.DataFrame(index=raw.frame.index)
    for col in raw.table.columns:
        frame[col.name] = _convert_column(raw, col, issues)
    row_category = None
    if categories is not None and "institution_id" in frame:
        row_category = frame["institution_id"].map(categories)
    for col in raw.table.columns:
        if col.name in raw.missing_columns or col.kind == "id":
            continue
        empty = raw.frame[col.name].isna()
        if col.applies_to is None:
            if col.required:
                _report_rows(raw, empty, col.name, "required_empty", issues)
            continue
        if row_category is None:
            continue
        known = row_category.notna()
        applies = row_category.isin(col.applies_to)
        if col.required:
            _report_rows(raw, known & applies & empty, col.name, "required_empty", issues, detail=row_category)
        _report_rows(raw, known & ~applies & ~empty, col.name, "not_applicable_filled", issues, detail=row_category)
    return frame


def _report_rows(
    raw: RawTable,
    mask: pd.Series,
    column: str | None,
    rule: str,
    issues: list[Issue],
    detail: pd.Series | str | None = None,
) -> None:
    for pos in np.flatnonzero(mask.to_numpy()):
        text = detail.iloc[pos] if isinstance(detail, pd.Series) else (detail or "")
        issues.append(Issue(raw.source, raw.row_number(pos), column, rule, str(text)))


def _check_duplicates(raw: RawTable, frame: pd.DataFrame, issues: list[Issue]) -> None:
    key = list(raw.table.key)
    complete = frame[key].notna().all(axis=1)
    dup = frame.duplicated(key, keep="first") & complete
    if not dup.any():
        return
    first_row = frame[complete].reset_index().groupby(key, sort=False)["index"].first()
    for pos in np.flatnonzero(dup.to_numpy()):
        values = tuple(frame.iloc[pos][k] for k in key)
        first = first_row.loc[values if len(key) > 1 else values[0]]
        shown = ", ".join(str(v.date()) if isinstance(v, pd.Timestamp) else str(v) for v in values)
        issues.append(
            Issue(
                raw.source,
                raw.row_number(pos),
                ",".join(key),
                "duplicate_key",
                f"{shown}；与第{raw.row_number(first)}行重复 / same as row {raw.row_number(first)}",
            )
        )


def _check_id_pattern(raw: RawTable, frame: pd.DataFrame, issues: list[Issue]) -> None:
    """Institution ids become file names: only the contract's pattern is accepted."""
    ids = frame["institution_id"]
    bad = ids.notna() & ~ids.astype(str).str.fullmatch(ID_PATTERN)
    _report_rows(raw, bad, "institution_id", "invalid_id", issues, detail=ids.map(repr))


def _check_known_ids(raw: RawTable, frame: pd.DataFrame, known: pd.Index, issues: list[Issue]) -> None:
    """Rows of an id missing from the institutions table: reported once per id, on its first row,
    with the number of rows."""
    ids = frame["institution_id"]
    unknown = ids.notna() & ~ids.isin(known)
    if not unknown.any():
        return
    positions = pd.Series(np.arange(len(frame)), index=frame.index)[unknown]
    by_id = positions.groupby(ids[unknown], sort=False).agg(["first", "size"])
    for inst, (first, size) in by_id.iterrows():
        more = f"（共{size}行 / {size} rows）" if size > 1 else ""
        issues.append(
            Issue(raw.source, raw.row_number(first), "institution_id", "unknown_institution", f"{inst}{more}")
        )


def _unit_detail(value: float, reference: float, ratio: float, what_zh: str, what_en: str) -> str:
    unit = "亿元" if ratio < 1 else "元"
    times = f"1/{1 / ratio:,.0f}" if ratio < 1 else f"{ratio:,.0f} 倍"
    times_en = f"1/{1 / ratio:,.0f} of" if ratio < 1 else f"{ratio:,.0f} times"
    return (
        f"值/value {value:,.2f} 约为{what_zh}（{reference:,.2f}）的{times}：数值疑似以{unit}填报，请按万元填报 / "
        f"{times_en} {what_en} ({reference:,.2f}): probably given in {unit}, report it in 万元"
    )


def _check_units(raw: RawTable, monthly: pd.DataFrame, issues: list[Issue]) -> pd.DataFrame:
    """Figures given in 亿元 or 元 instead of 万元 (implausible_unit), on the ``unit_check`` columns.

    Two comparisons, both against the factor of 10^4 that separates the units, so that real
    movements (a bank doubling, a 3× jump) never come near: a month against the institution's own
    typical level (median of its months) of the same column, and an institution's typical level
    against the median level of every institution reporting the column (a whole bank in 元).
    Returns the monthly frame with the refused cells emptied, for the cross-field rules (so that
    an inclusive balance in 亿元 is not also reported as smaller than its NPL).
    """
    checked = monthly.copy()
    usable = monthly["institution_id"].notna() & monthly["period"].notna()
    low, high = UNIT_BAND
    for col in (c for c in raw.table.columns if c.unit_check):
        values = monthly[col.name].where(usable & (monthly[col.name] > 0))
        by_inst = values.groupby(monthly["institution_id"])
        level = by_inst.transform("median")
        levels = by_inst.median().dropna()
        whole = pd.Index([])
        if len(levels) >= 3:
            city = float(levels.median())
            whole = levels.index[levels >= UNIT_PEER_RATIO * city]
            first = (
                pd.Series(np.arange(len(monthly)), index=monthly.index)[values.notna()]
                .groupby(monthly["institution_id"])
                .first()
            )
            for inst in whole:
                issues.append(
                    Issue(
                        raw.source,
                        raw.row_number(first[inst]),
                        col.name,
                        "implausible_unit",
                        f"{inst}: "
                        + _unit_detail(
                            levels[inst],
                            city,
                            levels[inst] / city,
                            "全市各机构本列中位数",
                            "the median of all institutions",
                        ),
                    )
                )
        ratio = values / level
        odd = ((ratio >= low) & (ratio <= high)) | ((ratio >= 1 / high) & (ratio <= 1 / low))
        odd &= ~monthly["institution_id"].isin(whole)
        for pos in np.flatnonzero(odd.to_numpy()):
            issues.append(
                Issue(
                    raw.source,
                    raw.row_number(pos),
                    col.name,
                    "implausible_unit",
                    _unit_detail(
                        values.iloc[pos],
                        level.iloc[pos],
                        ratio.iloc[pos],
                        "本机构本列各月中位数",
                        "the institution's median month",
                    ),
                )
            )
        checked.loc[odd | monthly["institution_id"].isin(whole), col.name] = np.nan
    return checked


def _check_plan_units(plans_raw: RawTable, plans: pd.DataFrame, monthly: pd.DataFrame, issues: list[Issue]) -> set[int]:
    """A planned increase against the institution's typical inclusive balance of the plan year:
    far below 1/10,000 or above 1,000 times, one of the two is in the wrong unit. Returns the
    positions of the plans refused."""
    m = monthly[monthly["institution_id"].notna() & monthly["period"].notna() & (monthly["inclusive_balance"] > 0)]
    if m.empty or plans.empty:
        return set()
    level = m.groupby([m["institution_id"], m["period"].dt.year.rename("year")])["inclusive_balance"].median()
    keyed = plans.assign(position=np.arange(len(plans)), year=plans["year"].astype("float"))
    keyed = keyed[keyed["planned_increase"] > 0].join(
        level.rename("balance_level")
        .rename_axis(["institution_id", "year"])
        .reset_index()
        .astype({"year": float})
        .set_index(["institution_id", "year"]),
        on=["institution_id", "year"],
    )
    ratio = keyed["planned_increase"] / keyed["balance_level"]
    lowest, highest = PLAN_TO_BALANCE_RANGE
    refused = keyed[(ratio < lowest) | (ratio > highest)]
    for row in refused.itertuples():
        small = row.planned_increase < row.balance_level
        cause = (
            "普惠余额疑似以元填报，或计划以亿元填报 / the balance is probably in 元, or the plan in 亿元"
            if small
            else "计划疑似以元填报，或普惠余额以亿元填报 / the plan is probably in 元, or the balance in 亿元"
        )
        issues.append(
            Issue(
                plans_raw.source,
                plans_raw.row_number(row.position),
                "planned_increase",
                "implausible_unit",
                f"{row.institution_id} {int(row.year)}: 计划新增额/planned increase {row.planned_increase:,.2f}，"
                f"当年普惠型小微企业贷款余额中位数/median inclusive balance {row.balance_level:,.2f}：{cause}",
            )
        )
    return set(refused["position"].astype(int))


def _check_ceilings(
    raw: RawTable,
    frame: pd.DataFrame,
    skip: pd.Series,
    issues: list[Issue],
    limits: Limits = DEFAULT_LIMITS,
    limits_file: str = f"params/{LIMITS_FILE}",
) -> pd.DataFrame:
    """Amounts and counts above their column's plausible ceiling (out_of_range, with the ceiling and
    the key of ``limits_file`` that sets it), except on the rows ``skip`` names: a row already
    refused for its unit (a figure in 元 is 10^4 times too large in every amount column: the unit is
    the root cause, said once). Returns the frame with the refused cells emptied, for the
    cross-field rules."""
    checked = frame.copy()
    for col in raw.table.columns:
        if col.ceiling is None:
            continue
        ceiling = limits.ceiling(col.ceiling)
        values = frame[col.name]
        size = values.abs() if col.allow_negative else values
        above = (size > ceiling) & ~skip
        for pos in np.flatnonzero(above.to_numpy()):
            issues.append(
                Issue(
                    raw.source,
                    raw.row_number(pos),
                    col.name,
                    "out_of_range",
                    f"值/value: {values.iloc[pos]:g}，上限/ceiling {ceiling:,.0f} {col.unit}"
                    f"（{limits_file} 的 ceilings.{col.ceiling}，{limits.jurisdiction}；如确为真实数据，请提高此值 / "
                    f"ceilings.{col.ceiling} of {limits_file}, {limits.jurisdiction}: if the figure is real, raise it）",
                )
            )
        checked.loc[above, col.name] = np.nan
    return checked


def _years(years: list[int]) -> str:
    return "、".join(str(y) for y in years) or "无 / none"


def _check_policy_years(
    raw: RawTable, monthly: pd.DataFrame, policies: dict[int, Policy], params_dir: Path | str, issues: list[Issue]
) -> None:
    """Data years whose rows get no verdicts because params has no policy for them (no_policy_year),
    a warning on each such year's first row.

    A year is evaluated when it has a policy. The years of data before the first evaluated year are
    the base (上年12月) and the history (trends, models) of the evaluated years: they need none and
    are not warned. A later year without one (data for 2026, no policy-2026.yaml; a gap between
    two policy years), and every year when none of the data's years has a policy, is warned."""
    dated = monthly["period"].notna().to_numpy()
    if not dated.any():
        return
    years = monthly["period"].dt.year[dated].astype(int)
    positions = pd.Series(np.flatnonzero(dated), index=years.index)
    first_row, rows = positions.groupby(years).first(), years.value_counts()
    data_years = sorted(first_row.index)
    evaluated = [y for y in data_years if y in policies]
    history = [y for y in data_years if evaluated and y < evaluated[0]]
    context = (
        f"考核年度 {_years(evaluated)}，仅作基期与历史 {_years(history)}，有考核规则参数的年度 {_years(sorted(policies))} / "
        f"evaluated: {_years(evaluated)}; base and history only: {_years(history)}; "
        f"years with a policy: {_years(sorted(policies))}"
    )
    for year in data_years:
        if year in policies or year in history:
            continue
        path = policy_path(params_dir, year)
        issues.append(
            Issue(
                raw.source,
                raw.row_number(first_row[year]),
                "period",
                "no_policy_year",
                f"数据含{year}年（{rows[year]:,}行），但无 {path}：该年度指标不作考核判断 / data for {year} "
                f"({rows[year]:,} rows) but no {path}: its rows get no verdicts — {context}",
            )
        )


def _check_monthly_rules(raw: RawTable, monthly: pd.DataFrame, issues: list[Issue]) -> None:
    m = monthly
    # part > whole: (part, whole, rule)
    for part, whole, rule in (
        ("inclusive_npl", "inclusive_balance", "npl_exceeds_balance"),
        ("total_npl", "total_loans", "npl_exceeds_balance"),
        ("inclusive_balance", "total_loans", "inclusive_exceeds_total"),
    ):
        _report_rows(
            raw, m[part] > m[whole], part, rule, issues, detail=m[part].astype(str) + " > " + m[whole].astype(str)
        )
    rate = m["inclusive_ytd_interest"] / m["inclusive_ytd_disbursed"] * 100
    bad_rate = (m["inclusive_ytd_disbursed"] > 0) & ((rate < 0) | (rate > 36))
    _report_rows(
        raw,
        bad_rate,
        "inclusive_ytd_interest",
        "implied_rate_out_of_range",
        issues,
        detail=rate.round(2).astype(str) + "%",
    )

    # year-to-date columns never fall within a year
    usable = m["institution_id"].notna() & m["period"].notna()
    ordered = m[usable].assign(_year=m["period"].dt.year).sort_values(["institution_id", "period"])
    ytd_cols = [c.name for c in raw.table.columns if c.year_to_date]
    previous = ordered.groupby(["institution_id", "_year"], sort=False)[ytd_cols].shift(1)
    fell = ordered[ytd_cols] < previous  # NaN compares False
    for col in ytd_cols:
        mask = pd.Series(False, index=m.index)
        mask.loc[fell.index[fell[col].to_numpy()]] = True
        _report_rows(
            raw,
            mask,
            col,
            "ytd_decreased",
            issues,
            detail=previous[col]
            .reindex(m.index)
            .astype(str)
            .radd("上月/previous ")
            .str.cat(m[col].astype(str), sep=" → "),
        )


def _check_bases_and_plans(
    raw_monthly: RawTable,
    monthly: pd.DataFrame,
    institutions: pd.DataFrame,
    plans: pd.DataFrame,
    plans_source: str,
    policies: dict[int, Policy],
    issues: list[Issue],
) -> None:
    """Plans of the banks evaluated on one, and the prior December of every evaluated year.

    A missing prior December (a new institution, or one reporting from mid-year) is a warning
    (:data:`~analysis.core.errors.WARNING_RULES`): the institution is evaluated on what can be, its
    start-of-year indicators are 不适用.
    """
    m = monthly[monthly["institution_id"].isin(institutions.index) & monthly["period"].notna()]
    if m.empty:
        return
    years = m["period"].dt.year
    first_year = int(years.min())
    inst_years = m.assign(year=years).reset_index().groupby(["institution_id", "year"])["index"].min()
    # every evaluated year (all but the first year of the data) needs the prior December as base
    decembers = set(
        zip(m.loc[m["period"].dt.month == 12, "institution_id"], m.loc[m["period"].dt.month == 12, "period"].dt.year)
    )
    for (inst, year), first_pos in inst_years.items():
        if year > first_year and (inst, year - 1) not in decembers:
            issues.append(
                Issue(
                    raw_monthly.source,
                    raw_monthly.row_number(first_pos),
                    "period",
                    "missing_base_december",
                    f"{inst}: {year - 1}-12（{year}年较年初指标不适用 / start-of-year indicators of {year} are n/a）",
                )
            )
    # every bank evaluated on a plan (per that year's policy) has one
    have_plan = set(zip(plans["institution_id"], plans["year"].astype("float")))
    for inst, year in inst_years.index:
        policy = policies.get(int(year))
        if policy is None:
            continue
        if (
            policy.plan is not None
            and institutions.at[inst, "category"] in policy.plan.categories
            and (inst, float(year)) not in have_plan
        ):
            issues.append(
                Issue(
                    plans_source,
                    None,
                    "planned_increase",
                    "missing_plan",
                    f"{inst} {institutions.at[inst, 'name']}: {year}",
                )
            )


def validate_tables(
    raw: dict[str, RawTable],
    policies: dict[int, Policy] | None = None,
    source: str = "",
    file_hashes: dict[str, str] | None = None,
    issues: list[Issue] | None = None,
    *,
    limits: Limits | None = None,
    params_dir: Path | str | None = None,
    financing_params: FinancingParams | None = None,
    today: date | None = None,
) -> Dataset:
    """Check every rule; return the typed dataset or raise with every problem found.

    Every table present is checked even when another is missing or unreadable. A problem is
    reported at its root, once: the rows of an institution whose category is invalid are not
    checked for applicability, rows of an id missing from the institutions table are counted on
    one line, a figure refused for its unit is not also compared with other columns. Warnings
    (:data:`~analysis.core.errors.WARNING_RULES`) do not stop the dataset; they are kept in
    ``Dataset.warnings``. ``limits``: the jurisdiction's ceilings (default: a city's), read from
    ``params_dir``, which the refusals name; data years without a policy are warned when
    ``policies`` are given (None: the data are checked against the contract alone).
    ``financing_params``: ``params/financing.yaml`` (default: its shipped reasons and factor);
    ``today``: the day after which no date of the financing tables may lie (default: today).
    """
    issues = list(issues or [])
    check_years = policies is not None
    policies = policies or {}
    limits = limits or DEFAULT_LIMITS
    params = Path(params_dir) if params_dir is not None else Path("params")
    limits_file = str(params / LIMITS_FILE)
    for name in REQUIRED_TABLES:
        if name not in raw and not any(
            i.rule
            in (
                "missing_table",
                "empty_table",
                "header_not_found",
                "file_unreadable",
                "file_too_large",
                "ambiguous_table",
            )
            for i in issues
        ):
            issues.append(Issue(source, None, None, "missing_table", name))
    institutions = pd.DataFrame(columns=["institution_id", "category"])
    if "institutions" in raw:
        institutions = _convert(raw["institutions"], issues)
        _check_id_pattern(raw["institutions"], institutions, issues)
        _check_duplicates(raw["institutions"], institutions, issues)
    inst = (
        institutions.dropna(subset=["institution_id"])
        .drop_duplicates("institution_id")
        .set_index("institution_id", drop=False)
    )
    # only valid categories: an institution with a bad category (reported once, above) has its rows
    # checked for everything but applicability
    categories = inst["category"].where(inst["category"].isin(CATEGORIES)) if "institutions" in raw else None

    frames: dict[str, pd.DataFrame] = {}
    for name in ("monthly", "plans", "onlending"):
        if name not in raw:
            continue
        frame = _convert(raw[name], issues, categories)
        _check_duplicates(raw[name], frame, issues)
        if "institutions" in raw:
            _check_known_ids(raw[name], frame, inst.index, issues)
        frames[name] = frame
    if "monthly" in frames:
        monthly = frames["monthly"]
        checked = _check_units(raw["monthly"], monthly, issues)
        unit_rows = (monthly.notna() & checked.isna()).any(axis=1)
        checked = _check_ceilings(raw["monthly"], checked, unit_rows, issues, limits, limits_file)
        _check_monthly_rules(raw["monthly"], checked, issues)
        if check_years:
            _check_policy_years(raw["monthly"], monthly, policies, params, issues)
        if "plans" in frames:
            refused = _check_plan_units(raw["plans"], frames["plans"], checked, issues)
            skip = pd.Series(np.isin(np.arange(len(frames["plans"])), list(refused)), index=frames["plans"].index)
            _check_ceilings(raw["plans"], frames["plans"], skip, issues, limits, limits_file)
    elif "plans" in frames:
        no_skip = pd.Series(False, index=frames["plans"].index)
        _check_ceilings(raw["plans"], frames["plans"], no_skip, issues, limits, limits_file)
    if "onlending" in frames:
        ol = frames["onlending"]
        _check_ceilings(raw["onlending"], ol, pd.Series(False, index=ol.index), issues, limits, limits_file)
    if "onlending" in frames and categories is not None:
        ol = frames["onlending"]
        not_policy = ol["institution_id"].map(categories).notna() & (
            ol["institution_id"].map(categories) != POLICY_BANK
        )
        _report_rows(
            raw["onlending"],
            not_policy,
            "institution_id",
            "onlending_not_policy_bank",
            issues,
            detail=ol["institution_id"],
        )
    if "plans" in frames:  # a shrinking plan is possible but rare: a warning, located
        plans = frames["plans"]
        _report_rows(
            raw["plans"],
            plans["planned_increase"] < 0,
            "planned_increase",
            "negative_plan",
            issues,
            detail=plans["institution_id"].astype(str)
            + " "
            + plans["year"].astype(str)
            + ": "
            + plans["planned_increase"].map(lambda v: f"{v:,.2f} 万元"),
        )
    if "monthly" in frames and "plans" in frames and "institutions" in raw:
        _check_bases_and_plans(
            raw["monthly"], frames["monthly"], inst, frames["plans"], raw["plans"].source, policies, issues
        )
    financing = _validate_financing(
        raw, inst.index if "institutions" in raw else None, issues, limits, limits_file, financing_params, today
    )
    warnings = [i for i in issues if i.rule in WARNING_RULES]
    errors = [i for i in issues if i.rule not in WARNING_RULES]
    if errors:
        raise DataValidationError(errors, warnings)

    onlending = frames.get("onlending")
    if onlending is None:
        from analysis.core.contract import ONLENDING

        onlending = pd.DataFrame(
            {c.name: pd.Series(dtype=float if c.kind in ("amount", "rate") else object) for c in ONLENDING.columns}
        )
    monthly = frames["monthly"].sort_values(["institution_id", "period"]).reset_index(drop=True)
    plans = frames["plans"].astype({"year": int})
    return Dataset(
        institutions=institutions.reset_index(drop=True),
        monthly=monthly,
        plans=plans.reset_index(drop=True),
        onlending=onlending.reset_index(drop=True),
        source=source,
        file_hashes=dict(file_hashes or {}),
        warnings=warnings,
        financing=financing,
    )


def _validate_financing(
    raw: dict[str, RawTable],
    known: pd.Index | None,
    issues: list[Issue],
    limits: Limits,
    limits_file: str,
    params: FinancingParams | None,
    today: date | None,
) -> FinancingTables | None:
    """推荐清单 and 银行反馈 (optional): the contract's cell rules, then the checks across both tables
    (:func:`analysis.inputs.financing.check_financing`). None when the folder has no 推荐清单 (feedback
    alone is not read, with a warning: it cannot be checked against its list)."""
    from analysis.core.financing import DEFAULT_FINANCING_PARAMS
    from analysis.inputs.financing import check_financing

    raw_list, raw_feedback = raw.get("financing_list"), raw.get("financing_feedback")
    if raw_list is None:
        if raw_feedback is not None:
            issues.append(Issue(raw_feedback.source, None, None, "financing_tables_unpaired", raw_feedback.source))
        return None
    frames = {}
    for part in (raw_list, raw_feedback):
        if part is None:
            continue
        frame = _convert(part, issues)
        _check_id_pattern(part, frame, issues)
        _check_duplicates(part, frame, issues)
        if known is not None:
            _check_known_ids(part, frame, known, issues)
        frames[part.table.name] = _check_ceilings(
            part, frame, pd.Series(False, index=frame.index), issues, limits, limits_file
        )
    return check_financing(
        raw_list,
        frames["financing_list"],
        raw_feedback,
        frames.get("financing_feedback"),
        params or DEFAULT_FINANCING_PARAMS,
        issues,
        today=today,
    )


def require_params_dir(params_dir: Path | str) -> None:
    """Refuse a params folder that does not exist or holds no policy file (policy-YYYY.yaml):
    every verdict would be 不适用 without a word (a run from a folder without ``params/``).
    Raises :class:`ParamsError` naming the folder."""
    folder = Path(params_dir).absolute()
    hint = (
        "请在工作簿目录（含 params/ 的目录）运行，或用 --params 指定参数目录 / "
        "run from the workbook's folder (the one holding params/), or name the folder with --params"
    )
    if not folder.is_dir():
        raise ParamsError(
            str(folder),
            [
                f"参数目录不存在，所有考核结论将为不适用 / the params folder does not exist: every verdict would be n/a; {hint}"
            ],
        )
    if not any(folder.glob("policy-*.yaml")):
        raise ParamsError(
            str(folder),
            [
                "参数目录中没有考核规则参数文件（policy-YYYY.yaml），所有考核结论将为不适用 / the params folder holds "
                f"no policy file (policy-YYYY.yaml): every verdict would be n/a; {hint}"
            ],
        )


def load_limits(params_dir: Path | str) -> Limits:
    """The jurisdiction's plausible ceilings, ``params/limits.yaml`` (validated; a bad file raises
    :class:`ParamsError` naming it and the key); a city's defaults when the folder holds none."""
    path = Path(params_dir) / LIMITS_FILE
    return read_params(path, Limits) if path.is_file() else DEFAULT_LIMITS


def load_dataset(path: Path | str, params_dir: Path | str | None = "params") -> Dataset:
    """Read and validate the tables under ``path`` (a folder or one .xlsx workbook).

    The policy files in ``params_dir`` say which banks each year must hold a credit plan and which
    years get verdicts, and ``limits.yaml`` there sets the plausible ceilings; a folder that does
    not exist or holds no policy file is refused (:func:`require_params_dir`). ``params_dir=None``
    checks the data against the contract alone (a city's ceilings, no policy years). Raises
    :class:`DataValidationError` listing every problem of every table found (a missing table does
    not hide the others' problems); warnings are in ``Dataset.warnings``.
    """
    policies, limits, tables, financing_params = None, None, None, None
    if params_dir is not None:
        require_params_dir(params_dir)
        policies, limits = load_policies(params_dir), load_limits(params_dir)
        financing_params = load_financing_params(params_dir)
        declared = load_indicator_params(params_dir).contract_columns()
        if declared:  # the monthly columns a later notice asks for, declared in params/indicators.yaml
            tables = {**TABLES, "monthly": monthly_with(declared)}
    raw, hashes, issues = read_tables(path, tables)
    return validate_tables(
        raw,
        policies,
        source=str(path),
        file_hashes=hashes,
        issues=issues,
        limits=limits,
        params_dir=params_dir,
        financing_params=financing_params,
    )
