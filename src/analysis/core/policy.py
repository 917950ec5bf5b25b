"""Policy-year parameters (params/policy-YYYY.yaml), validated on load.

A policy file holds every threshold and rule of one year's notice. The indicator engine takes
a :class:`Policy`; nothing in code names a year.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from analysis.core.contract import BANK_CATEGORIES, CATEGORIES, ENTITY_TYPES, MONTHLY
from analysis.core.errors import ParamsError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_categories(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories 未知机构类型: {unknown}; allowed: {list(CATEGORIES)}")
    return values


#: a list of institution categories (机构类型), checked against the data contract
CategoryList = Annotated[list[str], AfterValidator(_check_categories)]

Model = TypeVar("Model", bound=BaseModel)


def read_params(path: Path | str, model: type[Model]) -> Model:
    """Read a params YAML file into ``model``; any problem raises :class:`ParamsError` naming the
    file and every key at fault. Shared by the policy, scoring and model specification files."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsError(str(path), [str(exc)]) from None
    if not isinstance(raw, dict):
        raise ParamsError(str(path), ["top level must be a mapping / 顶层必须是键值映射"])
    try:
        result = model.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(
            str(path), [f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()]
        ) from None
    year = getattr(result, "year", None)
    match = re.search(r"(\d{4})", path.stem)
    if year is not None and match and int(match.group(1)) != year:
        raise ParamsError(str(path), [f"year: file name says {match.group(1)} but year is {year}"])
    return result


class TwoIncreasesRule(_Strict):
    entity_types: list[str]
    categories: CategoryList
    include_bills: bool = False
    growth_margin_min_pp: float = 0.0
    borrowers_change_min: float = 0.0
    differentiated_on_plan: bool = True
    clause: str

    @field_validator("entity_types")
    @classmethod
    def _entity_types(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if e not in ENTITY_TYPES]
        if bad:
            raise ValueError(f"unknown entity types 未知法人/分支类型: {bad}; allowed: {list(ENTITY_TYPES)}")
        return v


class PlanRule(_Strict):
    categories: CategoryList
    completion_min_pct: float = Field(100.0, gt=0)
    time_progress_watch: bool = True
    clause: str


class CostRule(_Strict):
    categories: CategoryList
    max_rate_change_bp: float = 0.0
    high_rate_percentile: float = Field(75, gt=0, lt=100)
    high_rate_min_excess_bp: float = Field(0.0, ge=0)
    high_rate_min_peers: int = Field(3, ge=2)
    clause: str


class OnLendingRule(_Strict):
    benchmark_categories: CategoryList
    #: end-borrower rate − benchmark rate (bp), at most (0: not higher than the benchmark)
    max_gap_bp: float = 0.0
    clause: str

    @field_validator("benchmark_categories")
    @classmethod
    def _banks_only(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in BANK_CATEGORIES]
        if bad:
            raise ValueError(f"benchmark categories must be banks 基准须为银行类别: {bad}")
        return v


class QualityRule(_Strict):
    npl_tolerance_pp: float = Field(ge=0, le=100)
    clause: str


class WatchCheck(_Strict):
    indicator: str
    label: str
    min: float
    clause: str
    sectors: list[Literal["bank", "insurer"]]
    entity_types: list[str] | None = None


class InfoIndicator(_Strict):
    """An indicator the reports show for information (no standard), with the clause it serves."""

    indicator: str
    clause: str
    sectors: list[Literal["bank", "insurer"]]


class Policy(_Strict):
    year: int = Field(ge=2000, le=2100)
    notice: str
    title: str
    issuing_office: str
    #: the jurisdiction the notice covers (辖区, e.g. 南阳市): the city overview's cover names
    #: "{jurisdiction}银行保险机构". Required in a policy file (checked by :func:`load_policy`).
    jurisdiction: str | None = None
    two_increases: TwoIncreasesRule
    plan: PlanRule
    cost: CostRule
    onlending: OnLendingRule
    quality: QualityRule
    watch_checks: list[WatchCheck] = []
    #: indicators shown for information only, each with its clause (依据条款)
    information: list[InfoIndicator] = []
    #: rule or watch-check indicator -> recommendation text (整改建议) used in the reports
    recommendations: dict[str, str] = {}

    def recommendation(self, key: str) -> str:
        return self.recommendations.get(key, "")

    def info_clause(self, indicator: str) -> str:
        """The clause of an information indicator ("" when the policy lists none)."""
        return next((i.clause for i in self.information if i.indicator == indicator), "")


CORE_RULES = ("growth_leg", "borrowers_leg", "plan", "rate_change", "high_rate", "npl", "onlending")


def load_policy(path: Path | str) -> Policy:
    """Load and validate one policy file; a bad file raises :class:`ParamsError`."""
    policy = read_params(path, Policy)
    # watch checks must name real indicator columns
    from analysis.core.columns import INDICATOR_COLUMNS

    problems = []
    if not policy.jurisdiction:
        problems.append("jurisdiction: required / 缺少辖区名称（如 南阳市）")
    unknown = [c.indicator for c in policy.watch_checks if c.indicator not in INDICATOR_COLUMNS]
    if unknown:
        problems.append(f"watch_checks: unknown indicators 未知指标: {unknown}")
    columns = set(INDICATOR_COLUMNS) | {c.name for c in MONTHLY.columns}
    unknown = [i.indicator for i in policy.information if i.indicator not in columns]
    if unknown:
        problems.append(f"information: unknown indicators 未知指标: {unknown}")
    if problems:
        raise ParamsError(str(path), problems)
    known = set(CORE_RULES) | {c.indicator for c in policy.watch_checks}
    stray = sorted(set(policy.recommendations) - known)
    if stray:
        raise ParamsError(str(path), [f"recommendations: unknown keys 未知条目: {stray}; allowed: {sorted(known)}"])
    return policy


def policy_path(params_dir: Path | str, year: int) -> Path:
    return Path(params_dir) / f"policy-{year}.yaml"


def load_policies(params_dir: Path | str) -> dict[int, Policy]:
    """Every policy year found in ``params_dir``, by year."""
    out: dict[int, Policy] = {}
    for path in sorted(Path(params_dir).glob("policy-*.yaml")):
        policy = load_policy(path)
        out[policy.year] = policy
    return out


def policy_for_year(params_dir: Path | str, year: int) -> Policy:
    path = policy_path(params_dir, year)
    if not path.exists():
        raise ParamsError(str(path), [f"no policy parameters for {year} / 缺少{year}年度考核参数文件"])
    return load_policy(path)
