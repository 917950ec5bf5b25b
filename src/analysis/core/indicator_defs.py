"""Indicators written in params (``params/indicators.yaml``): new input columns a later notice asks
for (涉农贷款, 中长期贷款, 小微企业法人贷款, 无还本续贷 …) and indicators over any column of the
monthly table, each one of a few kinds, with its label and unit. Policy years use them in watch
checks and information items like the built-in ones; the built-in indicators stay in code.

Read by the policy loader (which checks watch items against it), the indicator
engine and the reports. The kinds (:data:`KINDS`), each over a column ``of`` of the monthly table
(built-in or declared), with ``per`` the denominator where the kind needs one:

* ``level`` — the value at the month-end;
* ``change_ytd`` — change since the start of the year (上年末);
* ``growth_ytd`` — growth since the start of the year, in %;
* ``change_yoy`` — change on the same month of the prior year (上年同期);
* ``growth_yoy`` — growth on the same month of the prior year, in %;
* ``share`` — ``of`` as a % of ``per`` (e.g. 普惠型涉农贷款 in 涉农贷款);
* ``share_change_ytd`` — the change of that share since the start of the year, in 个百分点;
* ``ratio`` — ``of`` ÷ ``per`` (times ``scale``, default 1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from analysis.core.errors import ParamsError

INDICATORS_FILE = "indicators.yaml"

Kind = Literal["level", "change_ytd", "growth_ytd", "change_yoy", "growth_yoy", "share", "share_change_ytd", "ratio"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
#: kinds that divide by ``per``
NEEDS_DENOMINATOR = {"share", "share_change_ytd", "ratio"}
#: kinds that need the prior December (上年末) or the same month last year (上年同期)
FROM_BASE_KINDS = {"change_ytd", "growth_ytd", "share_change_ytd"}
FROM_LAST_YEAR_KINDS = {"change_yoy", "growth_yoy"}
#: the unit a kind's result is in, given the unit of its column (None: the column's own unit)
KIND_UNITS = {"growth_ytd": "%", "growth_yoy": "%", "share": "%", "share_change_ytd": "个百分点"}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _snake(v: str) -> str:
    if not _NAME.match(v):
        raise ValueError(f"name must be lower_snake_case English 须为小写英文: {v!r}")
    return v


#: a column's or an indicator's English name: lower_snake_case
Name = Annotated[str, AfterValidator(_snake)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclaredColumn(_Strict):
    """An input column beyond the built-in contract (新增报送字段), read from the monthly table by its
    Chinese ``header`` or English ``name`` and, where a form version's ``mapping`` (``params/s71``) names
    it, from that S71 cell."""

    name: Name
    header: str = Field(min_length=1)
    #: an amount (万元) or a count (户); its plausible ceiling is that of ``params/limits.yaml``
    kind: Literal["amount", "count"]
    unit: str = Field(min_length=1)
    description: str = ""

    def contract_column(self):
        """The column as the data contract states it: optional, banks only, never negative, with the
        jurisdiction's ceiling of its kind (``params/limits.yaml``)."""
        from analysis.core.contract import BANKS, DEFAULT_LIMITS, Column

        return Column(
            self.name,
            self.header,
            self.kind,
            (self.description or self.header) + " (declared in `params/indicators.yaml` / 参数中声明的字段)",
            unit=self.unit,
            required=False,
            applies_to=BANKS,
            max_value=DEFAULT_LIMITS.ceiling(self.kind),
            ceiling=self.kind,
        )


class IndicatorDef(_Strict):
    """One indicator written in params: ``kind`` over the column ``of`` (and ``per``)."""

    name: Name
    kind: Kind
    of: str
    per: str | None = None
    label: str = Field(min_length=1)
    #: the unit shown; defaults to the kind's (:data:`KIND_UNITS`) or the column's own
    unit: str | None = None
    scale: float = 1.0

    @model_validator(mode="after")
    def _denominator(self) -> IndicatorDef:
        if self.kind in NEEDS_DENOMINATOR and not self.per:
            raise ValueError(f"{self.name}: kind {self.kind} needs `per` (the denominator column) / 须指定分母列 per")
        if self.kind not in NEEDS_DENOMINATOR and self.per:
            raise ValueError(f"{self.name}: kind {self.kind} takes no `per` / 该类型无分母")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.of, self.per) if self.per else (self.of,)

    @property
    def needs(self) -> str | None:
        """'base' or 'last_year' when the indicator needs that reference row."""
        if self.kind in FROM_BASE_KINDS:
            return "base"
        if self.kind in FROM_LAST_YEAR_KINDS:
            return "last_year"
        return None


class IndicatorParams(_Strict):
    """``params/indicators.yaml``: the declared columns and the indicators over them."""

    columns: list[DeclaredColumn] = []
    indicators: list[IndicatorDef] = []

    def column(self, name: str) -> DeclaredColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def contract_columns(self) -> tuple:
        """The declared columns as contract columns (:func:`analysis.core.contract.monthly_with`)."""
        return tuple(c.contract_column() for c in self.columns)

    def unit_of(self, definition: IndicatorDef) -> str:
        """The unit of an indicator's value: its own, else its kind's, else its column's."""
        if definition.unit:
            return definition.unit
        if definition.kind in KIND_UNITS:
            return KIND_UNITS[definition.kind]
        if definition.kind == "ratio":
            return ""
        declared = self.column(definition.of)
        if declared is not None:
            return declared.unit
        from analysis.core.contract import MONTHLY

        return next((c.unit for c in MONTHLY.columns if c.name == definition.of), "")

    def labels(self) -> dict[str, tuple[str, str]]:
        """name -> (Chinese label, unit) of every declared column and indicator."""
        out = {c.name: (c.header, c.unit) for c in self.columns}
        out.update({d.name: (d.label, self.unit_of(d)) for d in self.indicators})
        return out


#: labels and units of the indicators and columns of the params last loaded (the reports look a
#: name up here after the built-in tables: :func:`label_unit`)
_REGISTERED: dict[str, tuple[str, str]] = {}


def load_indicator_params(params_dir: Path | str) -> IndicatorParams:
    """Read and check ``params/indicators.yaml`` (none: nothing declared). Names must not clash with
    the built-in columns and indicators; every ``of`` and ``per`` must be a monthly column, built-in
    or declared. A bad file raises :class:`ParamsError` naming the key."""
    from analysis.core.columns import INDICATOR_COLUMNS
    from analysis.core.contract import MONTHLY
    from analysis.core.paramfile import read_params

    path = Path(params_dir) / INDICATORS_FILE
    if not path.exists():
        return IndicatorParams()
    params = read_params(path, IndicatorParams)
    builtin_columns = {c.name for c in MONTHLY.columns}
    problems = []
    declared = [c.name for c in params.columns]
    names = declared + [d.name for d in params.indicators]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{name}: 名称重复 / defined twice")
    for name in names:
        if name in builtin_columns or name in INDICATOR_COLUMNS:
            problems.append(f"{name}: 与内置字段或指标同名 / clashes with a built-in column or indicator")
    headers = {c.label_zh for c in MONTHLY.columns}
    for c in params.columns:
        if c.header in headers:
            problems.append(f"columns.{c.name}.header: “{c.header}”已是内置字段的表头 / is a built-in header")
    monthly = builtin_columns | set(declared)
    for d in params.indicators:
        for col in d.columns:
            if col not in monthly:
                problems.append(
                    f"indicators.{d.name}: 未知字段 / unknown column {col!r} — 须为月度监测表字段或 columns 中声明的字段 / "
                    "must be a monthly column, built-in or declared under columns"
                )
    if problems:
        raise ParamsError(str(path), problems)
    _REGISTERED.clear()
    _REGISTERED.update(params.labels())
    return params


def label_unit(name: str) -> tuple[str, str] | None:
    """(label, unit) of an indicator or column written in params, or None."""
    return _REGISTERED.get(name)


def written_labels() -> dict[str, tuple[str, str]]:
    """name -> (label, unit) of every column and indicator written in the params last loaded."""
    return dict(_REGISTERED)


__all__ = [
    "INDICATORS_FILE",
    "KINDS",
    "DeclaredColumn",
    "IndicatorDef",
    "IndicatorParams",
    "label_unit",
    "load_indicator_params",
    "written_labels",
]
