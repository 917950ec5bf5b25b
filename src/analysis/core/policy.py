"""Policy-year parameters (params/policy-YYYY.yaml), validated on load.

A policy file holds every threshold and rule of one year's notice. The indicator engine takes
a :class:`Policy`; nothing in code names a year.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from analysis.core.contract import BANK_CATEGORIES, CATEGORIES, ENTITY_TYPES, MONTHLY
from analysis.core.errors import ParamsError
from analysis.core.paramfile import read_params


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_categories(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories 未知机构类型: {unknown}; allowed: {list(CATEGORIES)}")
    return values


#: a list of institution categories (机构类型), checked against the data contract
CategoryList = Annotated[list[str], AfterValidator(_check_categories)]


def _check_entity_types(v: list[str]) -> list[str]:
    bad = [e for e in v if e not in ENTITY_TYPES]
    if bad:
        raise ValueError(f"unknown entity types 未知法人/分支类型: {bad}; allowed: {list(ENTITY_TYPES)}")
    return v


#: a list of entity types (法人机构 / 分支机构), checked against the data contract
EntityTypeList = Annotated[list[str], AfterValidator(_check_entity_types)]


class GroupJudgement(_Strict):
    """Institutions judged as a group (总体): their summed balances give one verdict, which each
    member's report shows beside its own figure and its share of the group's increase. The 2024
    notice judges local legal-person banks so (地方法人银行总体), large and joint-stock banks each."""

    #: the group's name in the reports and the 通报, e.g. 地方法人银行
    name: str = Field(min_length=1)
    categories: CategoryList
    entity_types: EntityTypeList = ["法人机构"]


class TwoIncreasesRule(_Strict):
    """The quantity target (clause 一 of 2023: 两增). Its legs are present or absent by year: the
    growth leg always (a year without any quantity target leaves the whole section out), the
    borrower leg only when ``borrowers_change_min`` is given (2024 and 2025 set no borrower leg)."""

    #: the institutions judged one by one: these entity types × these categories (may be empty
    #: when every subject is in the group)
    entity_types: EntityTypeList
    categories: CategoryList
    include_bills: bool = False
    growth_margin_min_pp: float = 0.0
    #: the borrower leg (户数不低于年初): borrowers − start-of-year borrowers must be ≥ this (户);
    #: left out (or null): the year has no borrower leg, and no report, list or letter names one
    borrowers_change_min: float | None = None
    differentiated_on_plan: bool = True
    #: institutions judged as one group (总体), in addition to those judged one by one
    group: GroupJudgement | None = None
    clause: str


class PlanRule(_Strict):
    categories: CategoryList
    completion_min_pct: float = Field(100.0, gt=0)
    time_progress_watch: bool = True
    clause: str


class CostRule(_Strict):
    """Price (利率). Two rules, each present or absent by year: the rate rule (YTD weighted rate
    at most ``max_rate_change_bp`` above the prior year's; 2023) and the high-rate flag (a bank
    well above its peers, 个别利率较高的银行机构). Leave a key out for a year without that rule."""

    categories: CategoryList
    #: the rate rule: YTD weighted rate − prior full-year rate (bp), at most; null/absent: no such rule
    max_rate_change_bp: float | None = None
    #: the high-rate flag: above this percentile of the category's rates; null/absent: no flag
    high_rate_percentile: float | None = Field(None, gt=0, lt=100)
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


class FinancingRecommendations(_Strict):
    """The letter's recommendation (整改建议) for each financing target missed."""

    contact: str = ""
    decision: str = ""


class FinancingRule(_Strict):
    """The financing coordination mechanism's targets (融资协调工作机制) of one year, judged per bank.

    ``decision_days`` is the window from a firm's 推荐日期 to the bank's credit decision (授信 or 未授信,
    办结时限). Each target is present or absent (null/left out: the figure is shown, not judged):
    the share of the firms whose window ended in the period that the bank contacted (对接率), and the
    share it decided within the window (按时办结率). Firms pushed before ``since`` are not judged."""

    decision_days: int = Field(30, ge=1, le=366)
    contact_rate_min_pct: float | None = Field(None, ge=0, le=100)
    decided_within_min_pct: float | None = Field(None, ge=0, le=100)
    since: date | None = None
    clause: str
    recommendations: FinancingRecommendations = FinancingRecommendations()


class Policy(_Strict):
    year: int = Field(ge=2000, le=2100)
    notice: str
    title: str
    issuing_office: str
    #: the jurisdiction the notice covers (辖区, e.g. 南阳市): the city overview's cover names
    #: "{jurisdiction}银行保险机构". Required in a policy file (checked by :func:`load_policy`).
    jurisdiction: str | None = None
    #: each rule section may be left out of a year: that year has no such rule (see :meth:`in_force`)
    two_increases: TwoIncreasesRule | None = None
    plan: PlanRule | None = None
    cost: CostRule | None = None
    onlending: OnLendingRule | None = None
    quality: QualityRule | None = None
    #: the financing coordination mechanism's targets (融资协调工作机制); absent: no targets that year
    financing: FinancingRule | None = None
    #: the reports' name of a rule (规则名称), by key of :data:`CORE_RULES` (or ``two_increases``);
    #: a key left out takes the 2023 wording (:data:`DEFAULT_LABELS`)
    labels: dict[str, str] = {}
    watch_checks: list[WatchCheck] = []
    #: indicators shown for information only, each with its clause (依据条款)
    information: list[InfoIndicator] = []
    #: rule or watch-check indicator -> recommendation text (整改建议) used in the reports
    recommendations: dict[str, str] = {}
    #: the same at a year-end period, where the year's wording differs (a plan can no longer be
    #: "completed for the year": its shortfall is to be explained and made up the next year)
    recommendations_year_end: dict[str, str] = {}

    def recommendation(self, key: str, year_end: bool = False) -> str:
        """The recommendation (整改建议) for ``key``, in the year-end wording at a December period
        when the year gives one; "" for a rule the year does not have."""
        if key in RULE_KEYS and not self.in_force(key):
            return ""
        if key.startswith("financing_"):  # the mechanism's targets: financing.recommendations
            what = key.removeprefix("financing_")
            return getattr(self.financing.recommendations, what, "") if self.financing is not None else ""
        if year_end and key in self.recommendations_year_end:
            return self.recommendations_year_end[key]
        return self.recommendations.get(key, "")

    def in_force(self, key: str) -> bool:
        """Whether the year's notice has the rule ``key`` (one of :data:`RULE_KEYS`); an absent
        rule is absent everywhere: verdicts, lists, the early warning, scores and documents."""
        ti, cost = self.two_increases, self.cost
        present = {
            "two_increases": ti is not None,
            "growth_leg": ti is not None,
            "borrowers_leg": ti is not None and ti.borrowers_change_min is not None,
            "plan": self.plan is not None,
            "rate_change": cost is not None and cost.max_rate_change_bp is not None,
            "high_rate": cost is not None and cost.high_rate_percentile is not None,
            "npl": self.quality is not None,
            "onlending": self.onlending is not None,
        }
        if key not in present:
            raise KeyError(f"unknown rule 未知规则: {key!r}; one of {RULE_KEYS}")
        return present[key]

    def label(self, key: str) -> str:
        """The rule's name in the reports (params ``labels``, else the 2023 wording)."""
        if key in ("two_increases", "growth_leg") and key not in self.labels and not self.in_force("borrowers_leg"):
            return DEFAULT_LABELS["growth_only"]  # without a borrower leg the target is not "两增"
        return self.labels.get(key) or DEFAULT_LABELS[key]

    def clause(self, key: str) -> str:
        """The notice's clause of rule ``key`` ("" when the year has no such rule)."""
        section = {
            "two_increases": self.two_increases,
            "growth_leg": self.two_increases,
            "borrowers_leg": self.two_increases,
            "plan": self.plan,
            "rate_change": self.cost,
            "high_rate": self.cost,
            "npl": self.quality,
            "onlending": self.onlending,
        }[key]
        return section.clause if section is not None and self.in_force(key) else ""

    def info_clause(self, indicator: str) -> str:
        """The clause of an information indicator ("" when the policy lists none)."""
        return next((i.clause for i in self.information if i.indicator == indicator), "")


CORE_RULES = ("growth_leg", "borrowers_leg", "plan", "rate_change", "high_rate", "npl", "onlending")
#: the core rules and the combined quantity target (两增) that :meth:`Policy.in_force` answers for
RULE_KEYS = ("two_increases", *CORE_RULES)

#: the reports' names of the rules where a policy file gives none (the 2023 notice's wording)
DEFAULT_LABELS = {
    "two_increases": "“两增”",
    "growth_only": "普惠型小微企业贷款增速",
    "growth_leg": "“两增”·贷款增速",
    "borrowers_leg": "“两增”·贷款户数",
    "plan": "信贷计划完成",
    "rate_change": "新发放贷款利率",
    "high_rate": "利率同业比较",
    "npl": "资产质量（不良容忍度）",
    "onlending": "转贷款终端利率",
}


def load_policy(path: Path | str) -> Policy:
    """Load and validate one policy file; a bad file raises :class:`ParamsError`."""
    policy = read_params(path, Policy)
    # watch checks must name real indicator columns: built in, or written in params/indicators.yaml
    from analysis.core.columns import INDICATOR_COLUMNS
    from analysis.core.indicator_defs import INDICATORS_FILE, load_indicator_params

    written = load_indicator_params(Path(path).parent)
    indicators = set(INDICATOR_COLUMNS) | {d.name for d in written.indicators}
    problems = []
    if not policy.jurisdiction:
        problems.append("jurisdiction: required / 缺少辖区名称（如 南阳市）")
    unknown = [c.indicator for c in policy.watch_checks if c.indicator not in indicators]
    if unknown:
        problems.append(
            f"watch_checks: unknown indicators 未知指标: {unknown} — 新指标须先在 {INDICATORS_FILE} 中定义 / "
            f"a new indicator is first written in {INDICATORS_FILE}"
        )
    columns = indicators | {c.name for c in MONTHLY.columns} | {c.name for c in written.columns}
    unknown = [i.indicator for i in policy.information if i.indicator not in columns]
    if unknown:
        problems.append(f"information: unknown indicators 未知指标: {unknown}")
    if problems:
        raise ParamsError(str(path), problems)
    ti = policy.two_increases
    if ti is not None and ti.differentiated_on_plan and policy.plan is None:
        problems.append(
            "two_increases.differentiated_on_plan: 差异化考核以信贷计划完成率替代增速，但该年度无 plan 规则 / "
            "judges differentiated banks on the plan, but the year has no plan section: add one or set it false"
        )
    stray_labels = sorted(set(policy.labels) - set(RULE_KEYS))
    if stray_labels:
        problems.append(f"labels: unknown keys 未知规则: {stray_labels}; allowed: {list(RULE_KEYS)}")
    if problems:
        raise ParamsError(str(path), problems)
    known = set(CORE_RULES) | {c.indicator for c in policy.watch_checks}
    for field in ("recommendations", "recommendations_year_end"):
        stray = sorted(set(getattr(policy, field)) - known)
        if stray:
            raise ParamsError(str(path), [f"{field}: unknown keys 未知条目: {stray}; allowed: {sorted(known)}"])
    absent = [
        f"{field}.{k}"
        for field in ("recommendations", "recommendations_year_end")
        for k in getattr(policy, field)
        if k in CORE_RULES and not policy.in_force(k)
    ]
    if absent:
        raise ParamsError(
            str(path),
            [f"{k}: 该年度无此规则，请删除此条 / the year has no such rule: remove the entry" for k in absent],
        )
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
