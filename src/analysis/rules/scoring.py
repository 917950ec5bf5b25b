"""Supervisory evaluation score (监管评价) from a configurable scoring table (params/scoring-YYYY.yaml).

Quantitative items are computed, vectorised over all banks, by the rules in :data:`RULES` from
the indicator engine's columns; qualitative items come from the analysts' workbook (定性评分).
Every item carries its points and the reason in Chinese. A bank with qualitative entries missing
gets its quantitative points and a clearly marked incomplete total, never a silent zero.

The method is data: every standard, penalty and sentence of a rule comes from the item's
``params`` in the YAML (its numbers, its ``penalties`` — condition, points and wording — and its
``reasons``, one template per outcome with placeholders such as ``{value}{unit}``), checked on
load; the code says only how a rule decides. A rule needing a rule of the year's notice (the
borrower leg, the rate rule …) is refused when that year's policy has no such rule.

Why this module is long: the score card's registry of scoring rules, one short function and one
typed params model each, beside the typed scoring table they read; a new rule is a function, its
params model and one line in :data:`RULES`, here and nowhere else.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.compare import at_least, at_most, below, exceeds, fmt_signed, is_zero, snap_zero
from analysis.core.contract import EVIDENCE_MAX_LENGTH, MONTHLY
from analysis.core.errors import Issue, ParamsError
from analysis.core.indicator_defs import label_unit as written_label_unit
from analysis.core.indicator_defs import load_indicator_params
from analysis.core.policy import CategoryList, Policy, load_policy, policy_path, read_params


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: indicator flags (True/False), not figures: no item scores them
_FLAGS = {"differentiated", "high_rate"}

#: built-in columns an item may score: every indicator figure (analysis.core.columns) and every
#: monthly figure of the data contract (amounts, counts, rates); the columns and indicators written
#: in params/indicators.yaml come on top (:func:`scorable`)
SCORABLE_COLUMNS: frozenset[str] = frozenset(
    {c for c in INDICATOR_COLUMNS if c not in _FLAGS}
    | {c.name for c in MONTHLY.columns if c.kind in ("amount", "count", "rate")}
)


def scorable(column: str) -> bool:
    """An item may score ``column``: built in, or written in the params' indicators.yaml (as loaded)."""
    return column in SCORABLE_COLUMNS or written_label_unit(column) is not None


def _check_indicator(column: str) -> str:
    if not scorable(column):
        raise ValueError(
            f"unknown indicator 未知指标 {column!r}: an indicator column (analysis/core/columns.py), a monthly "
            "figure of the data contract, or one written in params/indicators.yaml / 须为指标列、月度数据列或 "
            "indicators.yaml 中定义的指标"
        )
    return column


# --- reason templates ---------------------------------------------------------------------------
# A reason is a template in the YAML: text with placeholders in braces, e.g.
# "{label} {value}{unit}，不低于 {standard}，得满分 {points} 分". Each rule lists the placeholders it
# fills (figures already formatted); any other placeholder, a format spec or a lone brace is refused
# on load, naming the item and the key.

#: placeholders every rule fills: the outcome's points, the deduction (−points) and the item's range
COMMON_PLACEHOLDERS = frozenset({"points", "deduction", "max", "min"})


def _placeholders(template: str) -> list[str]:
    """The placeholders of ``template``; refuses format specs, conversions and attribute access."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{template!r}: {exc} (a literal brace is written {{{{ or }}}})") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(
                f"{template!r}: placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} — only plain names such as {{value}} / 占位符只能是名称"
            )
        names.append(name)
    return names


def _check_template(where: str, template: str, allowed: frozenset[str]) -> None:
    unknown = sorted(set(_placeholders(template)) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown placeholder 未知占位符 {', '.join('{' + u + '}' for u in unknown)}; "
            f"allowed 可用: {', '.join('{' + a + '}' for a in sorted(allowed))}"
        )


class Penalty(_Strict):
    """A deduction (扣分) of a rule: the condition (``when``, one of the rule's :attr:`RuleParams.PENALTIES`),
    its points and its wording. Penalties are tried in the order written, at the rule's penalty step."""

    when: str
    points: float
    reason: str
    #: the margin of a condition that takes one (``severe_excess``: beyond the tolerance by more than this, pp)
    excess_pp: float | None = Field(None, ge=0)


class ValueFormat(_Strict):
    """How ``{value}`` (and ``{last_year}``) are written: decimals, and a sign (+1.25, never −0.00)."""

    digits: int = Field(2, ge=0, le=6)
    signed: bool = False

    def __call__(self, values: pd.Series) -> pd.Series:
        return values.map(lambda v: fmt_signed(v, self.digits) if self.signed else _f(v, self.digits))


class RuleParams(_Strict):
    """The ``params`` of an item of one rule. Subclasses declare their fields, ``reasons`` (a model
    of templates), the placeholders they fill, the penalty conditions they know and the rules of the
    year's notice they need."""

    #: placeholders the rule fills, beyond :data:`COMMON_PLACEHOLDERS`
    PLACEHOLDERS: ClassVar[frozenset[str]] = frozenset()
    #: penalty conditions: ``when`` → (what it means, the policy rule it needs or None, takes ``excess_pp``)
    PENALTIES: ClassVar[dict[str, tuple[str, str | None, bool]]] = {}
    #: rules of the year's notice (analysis.core.policy.RULE_KEYS) the rule needs
    NEEDS: ClassVar[tuple[str, ...]] = ()

    penalties: list[Penalty] = []

    @model_validator(mode="after")
    def _templates(self) -> RuleParams:
        allowed = COMMON_PLACEHOLDERS | self.PLACEHOLDERS
        for i, penalty in enumerate(self.penalties):
            if penalty.when not in self.PENALTIES:
                known = ", ".join(self.PENALTIES) or "none 无"
                raise ValueError(f"penalties.{i}.when: unknown condition 未知扣分条件 {penalty.when!r}; known: {known}")
            takes_margin = self.PENALTIES[penalty.when][2]
            if takes_margin != (penalty.excess_pp is not None):
                raise ValueError(
                    f"penalties.{i} ({penalty.when}): excess_pp is "
                    + ("required 必填" if takes_margin else "not taken 不适用")
                )
            _check_template(f"penalties.{i}.reason", penalty.reason, allowed | {"excess_pp"})
        reasons = getattr(self, "reasons", None)
        if isinstance(reasons, BaseModel):
            for key, template in reasons.model_dump().items():
                if template is not None:
                    _check_template(f"reasons.{key}", template, allowed)
        return self

    def needs(self) -> list[str]:
        """The rules of the year's notice this item needs (checked against the year's policy on load)."""
        extra = [self.PENALTIES[p.when][1] for p in self.penalties]
        return list(dict.fromkeys([*self.NEEDS, *(k for k in extra if k)]))

    def point_problems(self, item: Item) -> list[str]:
        """Points the params give outside the item's range (min…max)."""
        return [
            f"penalties.{i}: points {p.points:g} outside the item's range {item.min:g}…{item.max:g} / 扣分超出分值范围"
            for i, p in enumerate(self.penalties)
            if not item.min <= p.points <= item.max
        ]


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: Literal["quantitative", "qualitative"]
    rule: str | None = None
    min: float
    max: float
    params: dict = {}
    _spec: RuleParams | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.min > self.max:
            raise ValueError(f"item {self.id}: min {self.min} > max {self.max}")
        if self.kind == "qualitative":
            if self.rule is not None or self.params:
                raise ValueError(f"item {self.id}: qualitative items take no rule or params / 定性评分项不设规则与参数")
            return self
        if self.rule not in RULES:
            raise ValueError(f"item {self.id}: unknown rule {self.rule!r}; rules: {sorted(RULES)}")
        try:
            spec = RULES[self.rule].params.model_validate(self.params)
        except ValidationError as exc:
            found = "; ".join(
                f"params.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}".replace("params.:", "params:")
                for err in exc.errors()
            )
            raise ValueError(f"item {self.id} (rule {self.rule}): {found}") from None
        problems = spec.point_problems(self)
        if problems:
            raise ValueError(f"item {self.id} (rule {self.rule}): " + "; ".join(problems))
        self._spec = spec
        return self

    @property
    def spec(self) -> RuleParams:
        """The item's params, validated by its rule's model (quantitative items only)."""
        if self._spec is None:
            raise ValueError(f"item {self.id}: qualitative items have no rule params")
        return self._spec


class Area(_Strict):
    id: str
    name: str
    items: list[Item]


class Grade(_Strict):
    grade: str
    min: float


class Bounds(_Strict):
    min: float
    max: float


class ScoringTable(_Strict):
    year: int
    title: str
    categories: CategoryList
    total: Bounds
    #: the 2020 method's rule that quantitative items carry more points than qualitative ones
    quantitative_outweighs_qualitative: bool
    grades: list[Grade]
    areas: list[Area]

    @model_validator(mode="after")
    def _consistent(self) -> ScoringTable:
        items = self.items
        ids = [i.id for i in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate item ids 评分项编码重复: {dupes}")
        top, bottom = sum(i.max for i in items), sum(i.min for i in items)
        if (top, bottom) != (self.total.max, self.total.min):
            raise ValueError(
                f"items add up to {bottom:g}…{top:g}, but total is {self.total.min:g}…{self.total.max:g}"
                f" / 各项分值之和与总分范围不一致"
            )
        quant = sum(i.max for i in items if i.kind == "quantitative")
        qual = sum(i.max for i in items if i.kind == "qualitative")
        if self.quantitative_outweighs_qualitative and quant <= qual:
            raise ValueError(
                f"quantitative items ({quant:g}) must outweigh qualitative ones ({qual:g}) "
                f"(quantitative_outweighs_qualitative: true) / 定量指标分值应高于定性指标"
            )
        for i, g in enumerate(self.grades):
            if g.min > self.total.max:
                raise ValueError(
                    f"grades.{i} ({g.grade}): min {g.min:g} is above the table's highest total {self.total.max:g}, "
                    f"so no bank could reach it / 评级档次 {g.grade} 的最低分 {g.min:g} 高于总分上限 {self.total.max:g}"
                )
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True) or not self.grades or self.grades[-1].min > self.total.min:
            raise ValueError(
                "grades must run from the highest minimum down to the total minimum / 评级档次应由高到低且覆盖最低分"
            )
        return self

    @property
    def items(self) -> list[Item]:
        return [i for a in self.areas for i in a.items]

    def area_of(self, item_id: str) -> Area:
        return next(a for a in self.areas if any(i.id == item_id for i in a.items))

    def grade(self, total: float) -> str:
        for g in self.grades:
            if at_least(total, g.min):
                return g.grade
        return self.grades[-1].grade


def policy_problems(table: ScoringTable, policy: Policy) -> list[str]:
    """Items whose rule needs a rule the year's notice does not have (:meth:`Policy.in_force`),
    each naming the item, its rule and the missing policy rule."""
    problems = []
    for a, area in enumerate(table.areas):
        for i, item in enumerate(area.items):
            if item.kind != "quantitative":
                continue
            for key in item.spec.needs():
                if not policy.in_force(key):
                    problems.append(
                        f"areas.{a}.items.{i} ({item.id} {item.name}): 评分规则 {item.rule} 需要考核规则"
                        f"「{policy.label(key)}」（{key}），{policy.year}年度考核通知（{policy.notice}）未设此项 / "
                        f"rule {item.rule} needs the policy rule {key!r}, which the {policy.year} policy does not "
                        f"have: remove the item or score an indicator with a generic rule (threshold, banded, pro_rata)"
                    )
    return problems


def load_scoring(path: Path | str, policy: Policy | None = None) -> ScoringTable:
    """Load and validate a scoring table; a bad file raises :class:`ParamsError`.

    The table is checked against its year's policy — ``policy``, or else the policy file of that
    year beside it (params/policy-YYYY.yaml) when there is one: an item whose rule needs a rule
    the year's notice does not have is refused, naming the item and the rule. Items may score the
    indicators written in the same folder's indicators.yaml."""
    load_indicator_params(Path(path).parent)  # the indicators written in params, for the items' check
    table = read_params(path, ScoringTable)
    if policy is None:
        beside = policy_path(Path(path).parent, table.year)
        policy = load_policy(beside) if beside.exists() else None
    if policy is not None:
        if policy.year != table.year:
            raise ParamsError(str(path), [f"year: the table is for {table.year}, the policy for {policy.year}"])
        problems = policy_problems(table, policy)
        if problems:
            raise ParamsError(str(path), problems)
    return table


def scoring_path(params_dir: Path | str, year: int) -> Path:
    return Path(params_dir) / f"scoring-{year}.yaml"


#: what a report (a bank's, the city overview) says for a year without a scoring table: no file name
#: of the office's (the run's summary names the file: :func:`no_table_note`)
NO_TABLE_REPORT_NOTE = "本年度未制定监管评价评分表，未计算评分"


def no_table_note(year: int, params_dir: Path | str, english: bool = True) -> str:
    """What the run's summary says for a year without a scoring table: no score card (never one from
    another year's table), naming the file to add. Reports say :data:`NO_TABLE_REPORT_NOTE`."""
    where = f"{Path(params_dir).name}/{scoring_path(params_dir, year).name}"
    zh = f"该年度无监管评价评分表（{where}），未计算评分"
    return f"{zh} / no scoring table for {year}: no score card computed" if english else zh


# --- rules -----------------------------------------------------------------------------------
# Each rule maps (frame of banks, item) -> (points, reason), vectorised. ``frame`` holds the
# period's indicator row of each bank plus ``prev_*`` columns from the prior year's December and
# ``ly_*`` columns from the same period of last year. A rule lists its outcomes in order as
# :class:`Outcome`; the first that holds for a bank gives its points and its reason's template.

RuleResult = tuple[pd.Series, pd.Series]


def _f(v, digits=2) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{snap_zero(v):,.{digits}f}"


def _pts(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.2f}"


def _g(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


@dataclass
class Outcome:
    """One outcome of a rule: where it holds, the points, the reason's template and any fixed
    placeholders of its own (a penalty's ``excess_pp``, a band's ``bound``)."""

    holds: Any  # boolean Series (or True: every bank left)
    points: Any  # number or Series
    template: str
    extra: Mapping[str, str] | None = None


def _decide(df: pd.DataFrame, outcomes: list[Outcome], fields: dict[str, pd.Series], item: Item) -> RuleResult:
    """Points and reasons of the first outcome that holds for each bank (no outcome: 0 points, no reason)."""
    index = df.index
    conditions = [
        np.ones(len(index), dtype=bool) if o.holds is True else np.asarray(o.holds, dtype=bool) for o in outcomes
    ]
    chosen = np.select(conditions, list(range(len(outcomes))), default=-1)
    points = pd.Series(
        np.select(conditions, [np.broadcast_to(np.asarray(o.points, dtype=float), len(index)) for o in outcomes], 0.0),
        index=index,
    )
    values = {
        **fields,
        "points": points.map(_pts),
        "deduction": (-points).map(_pts),
        "max": pd.Series(_pts(item.max), index=index),
        "min": pd.Series(_pts(item.min), index=index),
    }
    reasons = pd.Series("", index=index, dtype=object)
    for n, outcome in enumerate(outcomes):
        rows = chosen == n
        if not rows.any():
            continue
        names = _placeholders(outcome.template)
        own = dict(outcome.extra or {})
        if not names:  # no placeholder: one text (format() still turns {{ into {)
            reasons[rows] = outcome.template.format()
            continue
        columns = [[own[name]] * int(rows.sum()) if name in own else values[name][rows].tolist() for name in names]
        reasons[rows] = [outcome.template.format(**dict(zip(names, row))) for row in zip(*columns)]
    return points, pd.Series(reasons.tolist(), index=index)  # text dtype inferred, as for any other column


def _missing(df: pd.DataFrame, reasons: Any) -> list[Outcome]:
    """The last outcomes, for a figure that cannot be judged (0 points): ``missing_base`` when the
    bank has no start-of-year base (新设机构; written for figures measured from the start of the
    year), ``missing_last_year`` when it has no row of the same period last year (for year-on-year
    figures), else ``missing``."""
    out = []
    for key, flag in (("missing_base", "has_base"), ("missing_last_year", "has_last_year")):
        template = getattr(reasons, key, None)
        if template is not None and flag in df:
            out.append(Outcome(~df[flag].astype(bool), 0.0, template))
    out.append(Outcome(True, 0.0, reasons.missing))
    return out


# loan_growth: item 1 of the 2020 method ----------------------------------------------------------


class LoanGrowthReasons(_Strict):
    differentiated_plan_met: str
    differentiated_no_plan: str
    differentiated_pro_rata: str
    differentiated_not_grown: str
    zero_base: str
    growth_equal: str
    growth_above: str
    pro_rata: str
    total_not_positive: str
    missed: str
    missing_base: str
    missing: str


class LoanGrowthParams(RuleParams):
    """Full marks when inclusive growth ≥ all-loan growth (+ ``growth_margin_min_pp``); else, with the
    plan completed (≥ ``plan_completion_min_pct``), points × inclusive growth ÷ all-loan growth; else 0.
    Differentiated banks (差异化考核): full marks for a completed plan, pro rata to increase ÷ plan when
    the balance grew, 0 when it did not. Penalties come after the differentiated outcomes."""

    PLACEHOLDERS = frozenset(
        {"inclusive_growth", "total_growth", "plan_completion", "increase", "ratio", "margin", "margin_min"}
    )
    PENALTIES = {
        "fell_twice": ("普惠型小微企业贷款余额本年和上年均下降 / the balance fell this year and last", None, False),
        "missed_twice": ("本年和上年增速均低于各项贷款增速 / growth below all loans this year and last", None, False),
    }
    NEEDS = ("growth_leg",)

    growth_margin_min_pp: float
    plan_completion_min_pct: float = Field(gt=0)
    reasons: LoanGrowthReasons


def _rule_loan_growth(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, LoanGrowthParams)
    r = p.reasons
    margin, g_inc, g_tot = (df["growth_margin_pp"], df["inclusive_ytd_growth_pct"], df["total_loans_ytd_growth_pct"])
    margin_min = p.growth_margin_min_pp
    zero_base = df["growth_leg_zero_base"].astype(bool) if "growth_leg_zero_base" in df else margin.isna() & False
    plan_done = at_least(df["plan_completion_pct"], p.plan_completion_min_pct)
    ratio = (g_inc / g_tot.where(exceeds(g_tot, 0))).clip(lower=0, upper=1)
    diff = df["differentiated"].astype(bool)
    grew = exceeds(df["inclusive_ytd_increase"], 0)
    planned = df["planned_increase"]
    plan_ratio = (df["inclusive_ytd_increase"] / planned.where(exceeds(planned, 0))).clip(0, 1)
    growth_ok = at_least(margin, margin_min) | zero_base
    short = below(margin, margin_min)
    conditions = {
        "fell_twice": below(g_inc, 0) & below(df["prev_inclusive_ytd_growth_pct"], 0),
        "missed_twice": short & below(df["prev_growth_margin_pp"], margin_min),
    }
    full = item.max
    outcomes = [
        Outcome(diff & plan_done, full, r.differentiated_plan_met),
        Outcome(diff & plan_ratio.isna(), 0.0, r.differentiated_no_plan),
        Outcome(diff & grew, full * plan_ratio.fillna(0), r.differentiated_pro_rata),
        Outcome(diff, 0.0, r.differentiated_not_grown),
        *(Outcome(conditions[x.when], x.points, x.reason) for x in p.penalties),
        Outcome(zero_base, full, r.zero_base),
        Outcome(growth_ok & is_zero(margin - margin_min), full, r.growth_equal),
        Outcome(growth_ok, full, r.growth_above),
        Outcome(plan_done & ratio.notna(), full * ratio.fillna(0), r.pro_rata),
        Outcome(short & plan_done, 0.0, r.total_not_positive),
        Outcome(short, 0.0, r.missed),
        *_missing(df, r),
    ]
    fields = {
        "inclusive_growth": g_inc.map(_f),
        "total_growth": g_tot.map(_f),
        "plan_completion": df["plan_completion_pct"].map(_f),
        "increase": df["inclusive_ytd_increase"].map(_f),
        "ratio": ratio.map(lambda v: _f(v, 3)),
        "margin": margin.map(lambda v: fmt_signed(v, 2)),
        "margin_min": pd.Series(_g(margin_min), index=df.index),
    }
    return _decide(df, outcomes, fields, item)


# borrowers: 有贷款余额户数 ----------------------------------------------------------------------


class BorrowersReasons(_Strict):
    unchanged: str
    increased: str
    fell: str
    missing_base: str
    missing: str


class BorrowersParams(RuleParams):
    """Full marks when borrowers − start-of-year borrowers ≥ ``min_change`` (户); 0 below; penalties
    between the two."""

    PLACEHOLDERS = frozenset({"change", "decrease", "min_change"})
    PENALTIES = {
        "fell_twice": ("户数本年和上年均低于年初 / below the start of the year this year and last", None, False)
    }
    NEEDS = ("borrowers_leg",)

    min_change: float
    reasons: BorrowersReasons


def _rule_borrowers(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, BorrowersParams)
    change, prev = df["borrowers_change"], df["prev_borrowers_change"]
    met, fell = at_least(change, p.min_change), below(change, p.min_change)
    conditions = {"fell_twice": fell & below(prev, p.min_change)}
    outcomes = [
        Outcome(met & is_zero(change), item.max, p.reasons.unchanged),
        Outcome(met, item.max, p.reasons.increased),
        *(Outcome(conditions[x.when], x.points, x.reason) for x in p.penalties),
        Outcome(fell, 0.0, p.reasons.fell),
        *_missing(df, p.reasons),
    ]
    fields = {
        "change": change.map(lambda v: _f(v, 0)),
        "decrease": (-change).map(lambda v: _f(v, 0)),
        "min_change": pd.Series(_g(p.min_change), index=df.index),
    }
    return _decide(df, outcomes, fields, item)


# rate_change: 新发放贷款利率 ---------------------------------------------------------------------


class RateChangeReasons(_Strict):
    stable: str
    within_band: str
    above_band: str
    missing_base: str
    missing: str


class RateChangeParams(RuleParams):
    """Full marks when the YTD rate rose at most ``full_marks_max_bp`` on last year; ``band_points``
    when it rose at most ``band_bp``; 0 above. Penalties come first."""

    PLACEHOLDERS = frozenset({"rate", "change", "band_bp", "full_marks_max_bp"})
    PENALTIES = {
        "high_rate_not_cut": (
            "利率明显高于同类机构且未压降（较上年不降）/ a high-rate bank whose rate did not fall",
            "high_rate",
            False,
        )
    }
    NEEDS = ("rate_change",)

    full_marks_max_bp: float
    band_bp: float
    band_points: float
    reasons: RateChangeReasons

    @model_validator(mode="after")
    def _band(self) -> RateChangeParams:
        if self.band_bp < self.full_marks_max_bp:
            raise ValueError(f"band_bp {self.band_bp:g} is below full_marks_max_bp {self.full_marks_max_bp:g}")
        return self

    def point_problems(self, item: Item) -> list[str]:
        problems = super().point_problems(item)
        if not item.min <= self.band_points <= item.max:
            problems.append(f"band_points {self.band_points:g} outside the item's range {item.min:g}…{item.max:g}")
        return problems


def _rule_rate_change(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, RateChangeParams)
    change = df["rate_change_bp"]
    conditions = {"high_rate_not_cut": df["high_rate"].fillna(False).astype(bool) & at_least(change, 0)}
    outcomes = [
        *(Outcome(conditions[x.when], x.points, x.reason) for x in p.penalties),
        Outcome(at_most(change, p.full_marks_max_bp), item.max, p.reasons.stable),
        Outcome(at_most(change, p.band_bp), p.band_points, p.reasons.within_band),
        Outcome(exceeds(change, p.band_bp), 0.0, p.reasons.above_band),
        *_missing(df, p.reasons),
    ]
    fields = {
        "rate": df["ytd_new_loan_rate_pct"].map(_f),
        "change": change.map(lambda v: fmt_signed(v, 0)),
        "band_bp": pd.Series(_g(p.band_bp), index=df.index),
        "full_marks_max_bp": pd.Series(_g(p.full_marks_max_bp), index=df.index),
    }
    return _decide(df, outcomes, fields, item)


# npl_tolerance: 不良容忍度 -------------------------------------------------------------------------


class NplReasons(_Strict):
    within: str
    beyond: str
    missing: str


class NplToleranceParams(RuleParams):
    """Full marks when the NPL gap is within the year's tolerance; 0 beyond; penalties between."""

    PLACEHOLDERS = frozenset({"npl_ratio", "gap", "tolerance"})
    PENALTIES = {
        "severe_excess": ("超出容忍度 excess_pp 个百分点以上 / beyond the tolerance by more than excess_pp", None, True)
    }
    NEEDS = ("npl",)

    reasons: NplReasons


def _rule_npl_tolerance(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, NplToleranceParams)
    gap, tol = df["npl_gap_pp"], df["npl_tolerance_pp"]
    outcomes = [
        Outcome(at_most(gap, tol), item.max, p.reasons.within),
        *(
            Outcome(exceeds(gap, tol + float(x.excess_pp or 0)), x.points, x.reason, {"excess_pp": _g(x.excess_pp)})
            for x in p.penalties
        ),
        Outcome(exceeds(gap, tol), 0.0, p.reasons.beyond),
        Outcome(True, 0.0, p.reasons.missing),
    ]
    fields = {
        "npl_ratio": df["inclusive_npl_ratio_pct"].map(_f),
        "gap": gap.map(_f),
        "tolerance": tol.map(lambda v: _f(v, 1)),
    }
    return _decide(df, outcomes, fields, item)


# generic rules on any indicator ----------------------------------------------------------------


def _label(column: str) -> tuple[str, str]:
    if column in INDICATOR_COLUMNS:
        return INDICATOR_COLUMNS[column]
    col = next((c for c in MONTHLY.columns if c.name == column), None)
    if col is not None:
        return col.label_zh, col.unit
    return written_label_unit(column) or (column, "")


class GenericReasons(_Strict):
    """The missing-figure templates every generic rule takes: ``missing``, and optionally
    ``missing_base`` (the bank has no start-of-year base: write it for a figure measured from the
    start of the year) and ``missing_last_year`` (no row of the same period last year)."""

    missing: str
    missing_base: str | None = None
    missing_last_year: str | None = None


class IndicatorParams(RuleParams):
    """An item on one indicator: ``{label}``, ``{value}`` (written as ``value_format``) and ``{unit}``."""

    PLACEHOLDERS = frozenset({"label", "value", "unit"})

    indicator: str
    value_format: ValueFormat = ValueFormat(digits=2, signed=False)

    @field_validator("indicator")
    @classmethod
    def _known(cls, v: str) -> str:
        return _check_indicator(v)

    def figure_fields(self, df: pd.DataFrame) -> dict[str, pd.Series]:
        label, unit = _label(self.indicator)
        return {
            "label": pd.Series(label, index=df.index),
            "unit": pd.Series(unit, index=df.index),
            "value": self.value_format(df[self.indicator]),
        }


class ThresholdReasons(GenericReasons):
    met: str
    not_met: str


class ThresholdParams(IndicatorParams):
    """Full marks when the indicator is ≥ ``min`` (不低于) — or ≤ ``max`` (不高于) — else 0."""

    PLACEHOLDERS = IndicatorParams.PLACEHOLDERS | {"standard"}

    min: float | None = None
    max: float | None = None
    reasons: ThresholdReasons

    @model_validator(mode="after")
    def _one_standard(self) -> ThresholdParams:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min (不低于) and max (不高于)")
        return self


def _rule_threshold(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, ThresholdParams)
    value = df[p.indicator]
    if p.min is not None:
        met, missed, standard = at_least(value, p.min), below(value, p.min), p.min
    else:
        limit = float(p.max or 0.0)  # exactly one of min and max is given (checked on load)
        met, missed, standard = at_most(value, limit), exceeds(value, limit), limit
    outcomes = [
        Outcome(met, item.max, p.reasons.met),
        Outcome(missed, 0.0, p.reasons.not_met),
        *_missing(df, p.reasons),
    ]
    fields = {**p.figure_fields(df), "standard": pd.Series(_g(standard), index=df.index)}
    return _decide(df, outcomes, fields, item)


class Band(_Strict):
    """One band of a ``banded`` item: from ``min`` up (bands written highest first) or up to ``max``
    (lowest first); the last band has neither and takes every other value."""

    min: float | None = None
    max: float | None = None
    points: float
    reason: str | None = None


class BandedReasons(GenericReasons):
    #: the reason of a band that has none of its own
    band: str | None = None


class BandedParams(IndicatorParams):
    """Points by bands of the indicator's value: the first band the value reaches gives its points."""

    PLACEHOLDERS = IndicatorParams.PLACEHOLDERS | {"bound"}

    bands: list[Band] = Field(min_length=2)
    reasons: BandedReasons

    @model_validator(mode="after")
    def _bands(self) -> BandedParams:
        *bounded, last = self.bands
        if last.min is not None or last.max is not None:
            raise ValueError(f"bands.{len(bounded)}: the last band takes every other value: no min or max")
        kinds = {("min" if b.min is not None else "") + ("max" if b.max is not None else "") for b in bounded}
        if kinds not in ({"min"}, {"max"}):
            raise ValueError(
                "bands: every band but the last has min (highest first) or every one has max (lowest first)"
            )
        bounds = [float(b.min if b.min is not None else b.max or 0.0) for b in bounded]
        ordered = sorted(bounds, reverse=kinds == {"min"})
        if bounds != ordered or len(set(bounds)) != len(bounds):
            raise ValueError(
                "bands: "
                + ("min must fall from band to band" if kinds == {"min"} else "max must rise from band to band")
            )
        allowed = COMMON_PLACEHOLDERS | self.PLACEHOLDERS
        for i, band in enumerate(self.bands):
            if band.reason is None and self.reasons.band is None:
                raise ValueError(f"bands.{i}: no reason (give the band a reason or the item reasons.band)")
            if band.reason is not None:
                _check_template(f"bands.{i}.reason", band.reason, allowed)
        return self

    def point_problems(self, item: Item) -> list[str]:
        return super().point_problems(item) + [
            f"bands.{i}: points {b.points:g} outside the item's range {item.min:g}…{item.max:g} / 分值超出范围"
            for i, b in enumerate(self.bands)
            if not item.min <= b.points <= item.max
        ]


def _rule_banded(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, BandedParams)
    value = df[p.indicator]
    outcomes = []
    for band in p.bands:
        if band.min is not None:
            holds, bound = at_least(value, band.min), _g(band.min)
        elif band.max is not None:
            holds, bound = at_most(value, band.max), _g(band.max)
        else:
            holds, bound = value.notna(), ""
        outcomes.append(Outcome(holds, band.points, str(band.reason or p.reasons.band), {"bound": bound}))
    outcomes += _missing(df, p.reasons)
    return _decide(df, outcomes, p.figure_fields(df), item)


class ProRataReasons(GenericReasons):
    full: str
    partial: str
    zero: str


class ProRataParams(IndicatorParams):
    """Points rising in a straight line from 0 at ``zero_at`` to full marks at ``full_at`` (either
    direction: a lower-is-better figure has ``full_at`` below ``zero_at``)."""

    PLACEHOLDERS = IndicatorParams.PLACEHOLDERS | {"zero_at", "full_at", "ratio"}

    zero_at: float
    full_at: float
    reasons: ProRataReasons

    @model_validator(mode="after")
    def _span(self) -> ProRataParams:
        if self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self


def _rule_pro_rata(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, ProRataParams)
    value = df[p.indicator]
    rising = p.full_at > p.zero_at
    full = at_least(value, p.full_at) if rising else at_most(value, p.full_at)
    zero = at_most(value, p.zero_at) if rising else at_least(value, p.zero_at)
    ratio = ((value - p.zero_at) / (p.full_at - p.zero_at)).clip(0, 1)
    outcomes = [
        Outcome(full, item.max, p.reasons.full),
        Outcome(zero, 0.0, p.reasons.zero),
        Outcome(value.notna(), item.max * ratio.fillna(0), p.reasons.partial),
        *_missing(df, p.reasons),
    ]
    fields = {
        **p.figure_fields(df),
        "zero_at": pd.Series(_g(p.zero_at), index=df.index),
        "full_at": pd.Series(_g(p.full_at), index=df.index),
        "ratio": ratio.map(lambda v: _f(v, 3)),
    }
    return _decide(df, outcomes, fields, item)


class ProRataYoyReasons(GenericReasons):
    kept: str
    partial: str


class ProRataYoyParams(IndicatorParams):
    """Full marks when the indicator did not fall on the same period of last year; else points ×
    this year ÷ last year."""

    PLACEHOLDERS = IndicatorParams.PLACEHOLDERS | {"last_year"}

    reasons: ProRataYoyReasons


def _rule_pro_rata_yoy(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, ProRataYoyParams)
    now, last = df[p.indicator], df[f"ly_{p.indicator}"]
    ratio = (now / last.where(exceeds(last, 0))).clip(0, 1)
    outcomes = [
        Outcome(at_least(now, last), item.max, p.reasons.kept),
        Outcome(ratio.notna(), item.max * ratio.fillna(0), p.reasons.partial),
        *_missing(df, p.reasons),
    ]
    return _decide(df, outcomes, {**p.figure_fields(df), "last_year": p.value_format(last)}, item)


class BonusCondition(_Strict):
    indicator: str
    min: float
    points: float = Field(gt=0)
    label: str

    @field_validator("indicator")
    @classmethod
    def _known(cls, v: str) -> str:
        return _check_indicator(v)


class BonusReasons(_Strict):
    none_met: str
    met: str


class BonusParams(RuleParams):
    """The points of each condition met (indicator ≥ min), capped at the item's max; ``{met}`` lists
    the labels of the conditions met."""

    PLACEHOLDERS = frozenset({"met"})

    conditions: list[BonusCondition] = Field(min_length=1)
    reasons: BonusReasons


def _rule_bonus(df: pd.DataFrame, item: Item) -> RuleResult:
    p = item.spec
    assert isinstance(p, BonusParams)
    total = pd.Series(0.0, index=df.index)
    met_labels = pd.Series("", index=df.index)
    for cond in p.conditions:
        met = at_least(df[cond.indicator], cond.min)
        total += np.where(met, cond.points, 0.0)
        met_labels = met_labels.where(~met, met_labels + np.where(met_labels == "", "", "、") + cond.label)
    outcomes = [
        Outcome(met_labels == "", 0.0, p.reasons.none_met),
        Outcome(True, total.clip(upper=item.max), p.reasons.met),
    ]
    return _decide(df, outcomes, {"met": met_labels}, item)


@dataclass(frozen=True)
class Rule:
    """A scoring rule: how it scores (vectorised over the banks) and the params model its items take."""

    score: Callable[[pd.DataFrame, Item], RuleResult]
    params: type[RuleParams]


#: the scoring rules an item may name (``rule:``): a new rule is a function, its params model and a line here
RULES: dict[str, Rule] = {
    "loan_growth": Rule(_rule_loan_growth, LoanGrowthParams),
    "borrowers": Rule(_rule_borrowers, BorrowersParams),
    "rate_change": Rule(_rule_rate_change, RateChangeParams),
    "npl_tolerance": Rule(_rule_npl_tolerance, NplToleranceParams),
    "threshold": Rule(_rule_threshold, ThresholdParams),
    "banded": Rule(_rule_banded, BandedParams),
    "pro_rata": Rule(_rule_pro_rata, ProRataParams),
    "pro_rata_yoy": Rule(_rule_pro_rata_yoy, ProRataYoyParams),
    "bonus": Rule(_rule_bonus, BonusParams),
}


# --- qualitative workbook ---------------------------------------------------------------------

QUALITATIVE_COLUMNS = {
    "institution_id": "机构编码",
    "year": "年度",
    "item_id": "评分项目编码",
    "score": "得分",
    "evidence": "评分依据",
}


def _blank(value) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def read_qualitative(path: Path | str, table: ScoringTable, known_ids: set[str]) -> tuple[pd.DataFrame, list[Issue]]:
    """Read and check the analysts' qualitative scores; every problem is returned as an Issue."""
    path = Path(path)
    source = path.name
    issues: list[Issue] = []
    from analysis.inputs.loading import size_problem

    problem = size_problem(path)
    if problem:
        return pd.DataFrame(columns=list(QUALITATIVE_COLUMNS)), [Issue(source, None, None, "file_too_large", problem)]
    try:
        raw = (
            pd.read_excel(path, dtype=object, engine="openpyxl")  # the engine it has always read with
            if path.suffix == ".xlsx"
            else pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig")
        )
    except Exception as exc:
        return pd.DataFrame(columns=list(QUALITATIVE_COLUMNS)), [Issue(source, None, None, "file_unreadable", str(exc))]
    rename = {zh: en for en, zh in QUALITATIVE_COLUMNS.items()}
    raw = raw.rename(columns=lambda c: rename.get(str(c).strip(), str(c).strip()))
    missing = [c for c in QUALITATIVE_COLUMNS if c not in raw.columns]
    if missing:
        return pd.DataFrame(columns=list(QUALITATIVE_COLUMNS)), [
            Issue(source, None, c, "missing_column", QUALITATIVE_COLUMNS[c]) for c in missing
        ]
    raw = pd.DataFrame(
        {c: [None if _blank(v) else v for v in raw[c].tolist()] for c in QUALITATIVE_COLUMNS}, dtype=object
    )
    items = {i.id: i for i in table.items if i.kind == "qualitative"}
    rows = []
    for pos, r in enumerate(raw.itertuples(index=False)):
        row_no = pos + 2
        iid = None if r.institution_id is None else str(r.institution_id).strip()
        item_id = None if r.item_id is None else str(r.item_id).strip()
        year = pd.to_numeric(r.year, errors="coerce")
        score = pd.to_numeric(str(r.score).strip() if r.score is not None else None, errors="coerce")
        if iid not in known_ids:
            issues.append(Issue(source, row_no, "institution_id", "unknown_institution", str(iid)))
            continue
        if item_id not in items:
            issues.append(
                Issue(
                    source,
                    row_no,
                    "item_id",
                    "invalid_choice",
                    f"{item_id}；定性评分项 / qualitative items: {', '.join(items)}",
                )
            )
            continue
        if pd.isna(year) or int(year) != year:
            issues.append(Issue(source, row_no, "year", "invalid_year", str(r.year)))
            continue
        if pd.isna(score):
            issues.append(
                Issue(
                    source, row_no, "score", "not_a_number" if r.score is not None else "required_empty", str(r.score)
                )
            )
            continue
        item = items[item_id]
        if not item.min <= score <= item.max:
            issues.append(
                Issue(
                    source,
                    row_no,
                    "score",
                    "out_of_range",
                    f"{score:g} 不在 {item.min:g}…{item.max:g} / not within {item.min:g}…{item.max:g}",
                )
            )
            continue
        if r.evidence is None or not str(r.evidence).strip():
            issues.append(
                Issue(source, row_no, "evidence", "required_empty", "评分依据不能为空 / evidence is required")
            )
            continue
        evidence = str(r.evidence).strip()
        if len(evidence) > EVIDENCE_MAX_LENGTH:
            issues.append(
                Issue(
                    source,
                    row_no,
                    "evidence",
                    "text_too_long",
                    f"{len(evidence):,} 个字符，上限 {EVIDENCE_MAX_LENGTH:,} / {len(evidence):,} characters, "
                    f"limit {EVIDENCE_MAX_LENGTH:,}: {evidence[:40]!r}…",
                )
            )
            continue
        rows.append(
            {
                "institution_id": iid,
                "year": int(year),
                "item_id": item_id,
                "score": float(score),
                "evidence": str(r.evidence).strip(),
                "source_row": row_no,
            }
        )
    frame = pd.DataFrame(rows, columns=[*QUALITATIVE_COLUMNS, "source_row"])
    dup = frame.duplicated(["institution_id", "year", "item_id"], keep="first")
    for r in frame[dup].itertuples():
        issues.append(Issue(source, r.source_row, "item_id", "duplicate_key", f"{r.institution_id} {r.item_id}"))
    return frame[~dup].drop(columns="source_row"), issues


def find_qualitative(data_dir: Path, year: int) -> Path | None:
    """The qualitative workbook of ``year`` in the data folder, if any (定性评分-2023.xlsx)."""
    folder = data_dir if data_dir.is_dir() else data_dir.parent
    for stem in (f"定性评分-{year}", f"qualitative-{year}", "定性评分", "qualitative"):
        for suffix in (".xlsx", ".csv"):
            if (folder / f"{stem}{suffix}").exists():
                return folder / f"{stem}{suffix}"
    return None


#: a qualitative workbook's stem for one year (定性评分-2023, qualitative-2023), as :func:`find_qualitative` looks for it
_DATED_QUALITATIVE = re.compile(r"(?:定性评分|qualitative)-(\d{4})")


def qualitative_without_scoring(data_dir: Path, params_dir: Path, table_years: set[int]) -> list[Issue]:
    """Qualitative workbooks of the data folder that no scoring table reads (qualitative_without_scoring,
    warnings): one of a year without ``params/scoring-YYYY.yaml`` (定性评分-2024.xlsx, no
    scoring-2024.yaml), and an undated one (定性评分.xlsx) when params holds no scoring table at all.
    Each names the file and the scoring table it lacks."""
    folder = data_dir if data_dir.is_dir() else data_dir.parent
    issues = []
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        if file.suffix not in (".xlsx", ".csv") or file.name.startswith(("~$", ".")) or not file.is_file():
            continue
        match = _DATED_QUALITATIVE.fullmatch(file.stem)
        if match:
            year = int(match.group(1))
            if year in table_years:
                continue
            missing = str(scoring_path(params_dir, year))
        elif file.stem in ("定性评分", "qualitative") and not table_years:
            missing = str(Path(params_dir) / "scoring-YYYY.yaml")
        else:
            continue
        issues.append(
            Issue(
                file.name,
                None,
                None,
                "qualitative_without_scoring",
                f"无评分表 {missing}：该文件未读取，其定性评分不计入监管评价 / no scoring table {missing}: the file "
                "is not read, its qualitative scores count towards no evaluation",
            )
        )
    return issues


# --- score cards ------------------------------------------------------------------------------


def score_frame(indicators: pd.DataFrame, period: pd.Timestamp, categories: list[str]) -> pd.DataFrame:
    """One row per evaluated bank: the period's indicators, prior-year December and same-period values."""
    cur = indicators[(indicators["period"] == period) & indicators["category"].isin(categories)]
    prev_dec = pd.Timestamp(year=period.year - 1, month=12, day=31)
    prev = indicators.loc[
        indicators["period"] == prev_dec,
        ["institution_id", "growth_margin_pp", "inclusive_ytd_growth_pct", "borrowers_change"],
    ]
    prev = prev.rename(columns=lambda c: c if c == "institution_id" else f"prev_{c}")
    ly_period = period - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)
    ly_columns = sorted(c for c in indicators.columns if scorable(c))
    ly = indicators.loc[indicators["period"] == ly_period, ["institution_id", *ly_columns]]
    ly = ly.rename(columns=lambda c: c if c == "institution_id" else f"ly_{c}")
    return (
        cur.merge(prev, on="institution_id", how="left")
        .merge(ly, on="institution_id", how="left")
        .set_index("institution_id", drop=False)
    )


def score_cards(
    indicators: pd.DataFrame, table: ScoringTable, period: pd.Timestamp, qualitative: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item points (long) and totals (one row per bank) for ``period``.

    Items: institution_id, area, item_id, item, kind, points, min, max, reason, scored.
    Totals: institution_id, name, category, division, quantitative, qualitative, total, complete,
    missing (qualitative items not yet scored), grade (only when complete), rank.
    """
    df = score_frame(indicators, period, table.categories)
    parts = []
    for area in table.areas:
        for item in area.items:
            if item.kind == "quantitative":
                points, reasons = RULES[str(item.rule)].score(df, item)
                scored = pd.Series(True, index=df.index)
            else:
                q = qualitative if qualitative is not None else pd.DataFrame(columns=list(QUALITATIVE_COLUMNS))
                q = q[(q["item_id"] == item.id) & (q["year"] == period.year)].set_index("institution_id")
                points = q["score"].reindex(df.index)
                reasons = ("分析员评分：" + q["evidence"]).reindex(df.index).fillna("尚未评分（定性评分表中缺少此项）")
                scored = points.notna()
            parts.append(
                pd.DataFrame(
                    {
                        "institution_id": df["institution_id"],
                        "area": area.name,
                        "item_id": item.id,
                        "item": item.name,
                        "kind": "定量" if item.kind == "quantitative" else "定性",
                        "points": points.astype(float).round(2),
                        "min": item.min,
                        "max": item.max,
                        "reason": reasons,
                        "scored": scored,
                    }
                )
            )
    items = pd.concat(parts, ignore_index=True)
    grouped = items.groupby(["institution_id", "kind"], sort=False)["points"].sum().unstack(fill_value=0.0)
    missing = items[~items["scored"]].groupby("institution_id")["item"].agg(list)
    totals = pd.DataFrame(
        {
            "institution_id": df["institution_id"],
            "name": df["name"],
            "category": df["category"],
            "division": df["division"],
            "quantitative": grouped.get("定量", 0.0).reindex(df.index).fillna(0.0),
            "qualitative": grouped.get("定性", 0.0).reindex(df.index).fillna(0.0),
        }
    )
    totals["total"] = totals["quantitative"] + totals["qualitative"]
    totals["missing"] = missing.reindex(df.index).apply(lambda v: v if isinstance(v, list) else [])
    totals["complete"] = totals["missing"].map(len) == 0
    totals["grade"] = [table.grade(t) if c else "待定" for t, c in zip(totals["total"], totals["complete"])]
    totals["rank"] = totals["total"].where(totals["complete"]).rank(ascending=False, method="min")
    return items, totals.reset_index(drop=True)


def qualitative_issues_report(issues: list[Issue]) -> str:
    from analysis.core.errors import format_report

    return format_report(issues)
