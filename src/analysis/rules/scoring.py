"""Supervisory evaluation score (监管评价) from a configurable scoring table (params/scoring-YYYY.yaml).

Quantitative items are computed, vectorised over all banks, by the rules in :data:`RULES` from
the indicator engine's columns; qualitative items come from the analysts' workbook (定性评分).
Every item carries its points and the reason in Chinese. A bank with qualitative entries missing
gets its quantitative points and a clearly marked incomplete total, never a silent zero.

Why this module is long: the score card's registry of scoring rules, one short function each,
beside the typed scoring table they read; a new rule is added here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.compare import (
    at_least,
    at_most,
    below,
    exceeds,
    fmt_signed,
    is_zero,
    snap_zero,
)
from analysis.core.contract import EVIDENCE_MAX_LENGTH
from analysis.core.errors import Issue
from analysis.core.policy import CategoryList, read_params
from analysis.rules.indicators import FROM_BASE, NA_REASONS, ZERO_BASE_NOTE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: Literal["quantitative", "qualitative"]
    rule: str | None = None
    min: float
    max: float
    params: dict = {}

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.min > self.max:
            raise ValueError(f"item {self.id}: min {self.min} > max {self.max}")
        if self.kind == "quantitative":
            if self.rule not in RULES:
                raise ValueError(f"item {self.id}: unknown rule {self.rule!r}; rules: {sorted(RULES)}")
            for key in ("indicator",):
                if key in self.params and self.params[key] not in KNOWN_COLUMNS:
                    raise ValueError(f"item {self.id}: unknown indicator {self.params[key]!r}")
            for cond in self.params.get("conditions", []):
                if cond.get("indicator") not in KNOWN_COLUMNS:
                    raise ValueError(f"item {self.id}: unknown indicator {cond.get('indicator')!r}")
        elif self.rule is not None:
            raise ValueError(f"item {self.id}: qualitative items take no rule")
        return self


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
        if quant <= qual:
            raise ValueError(
                f"quantitative items ({quant:g}) must outweigh qualitative ones ({qual:g}) / 定量指标分值应高于定性指标"
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


def load_scoring(path: Path | str) -> ScoringTable:
    """Load and validate a scoring table; a bad file raises :class:`ParamsError`."""
    return read_params(path, ScoringTable)


def scoring_path(params_dir: Path | str, year: int) -> Path:
    return Path(params_dir) / f"scoring-{year}.yaml"


# --- rules -----------------------------------------------------------------------------------
# Each rule maps (frame of banks, item) -> (points, reason), vectorised. ``frame`` holds the
# period's indicator row of each bank plus ``prev_*`` columns from the prior year's December.

RuleResult = tuple[pd.Series, pd.Series]


def _f(v, digits=2) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{snap_zero(v):,.{digits}f}"


def _pts(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.2f}"


def _missing(df: pd.DataFrame, what: str) -> pd.Series:
    """Why a figure is missing: the start-of-year base (新设机构) or the figure itself."""
    has_base = df["has_base"].astype(bool) if "has_base" in df else pd.Series(True, index=df.index)
    return pd.Series(np.where(has_base, f"缺少{what}数据", NA_REASONS["missing_base"]), index=df.index)


def _rule_loan_growth(df: pd.DataFrame, item: Item) -> RuleResult:
    """Item 1. Points and reasons come from the same branch of one condition list, so a reason
    always names the condition that decided the points."""
    p = item.params
    margin, g_inc, g_tot = df["growth_margin_pp"], df["inclusive_ytd_growth_pct"], df["total_loans_ytd_growth_pct"]
    margin_min = p.get("growth_margin_min_pp", 0.0)
    zero_base = df["growth_leg_zero_base"].astype(bool) if "growth_leg_zero_base" in df else margin.isna() & False
    plan_done = at_least(df["plan_completion_pct"], p.get("plan_completion_min_pct", 100))
    ratio = (g_inc / g_tot.where(exceeds(g_tot, 0))).clip(lower=0, upper=1)
    diff = df["differentiated"].astype(bool)
    grew = exceeds(df["inclusive_ytd_increase"], 0)
    plan_ratio = (df["inclusive_ytd_increase"] / df["planned_increase"].where(exceeds(df["planned_increase"], 0))).clip(
        0, 1
    )
    growth_ok = at_least(margin, margin_min) | zero_base
    missed_twice = below(margin, margin_min) & below(df["prev_growth_margin_pp"], margin_min)
    fell_twice = below(g_inc, 0) & below(df["prev_inclusive_ytd_growth_pct"], 0)
    full, pen3, pen4 = item.max, p.get("penalty_missed_twice", -3), p.get("penalty_fell_twice", -4)
    conditions = [
        diff & plan_done,
        diff & plan_ratio.isna(),
        diff & grew,
        diff,
        fell_twice,
        missed_twice,
        growth_ok,
        plan_done & ratio.notna(),
        below(margin, margin_min) & plan_done,
        below(margin, margin_min),
    ]
    points = np.select(
        conditions,
        [full, 0.0, full * plan_ratio.fillna(0), 0.0, pen4, pen3, full, full * ratio.fillna(0), 0.0, 0.0],
        default=0.0,
    )
    branch = np.select(conditions, list(range(len(conditions))), default=-1)
    missing = _missing(df, "增速")
    reasons = []
    for i, r in enumerate(df.itertuples()):
        growth = f"普惠型小微企业贷款较年初增速 {_f(r.inclusive_ytd_growth_pct)}%"
        total = f"各项贷款增速 {_f(r.total_loans_ytd_growth_pct)}%"
        plan = f"信贷计划完成率 {_f(r.plan_completion_pct)}%"
        pts = _pts(points[i])
        b = int(branch[i])
        if b == 0:
            text = f"差异化考核：{plan}，完成计划，得满分 {pts} 分"
        elif b == 1:
            text = f"差异化考核：{plan}，缺少信贷计划或年初基数，得 0 分"
        elif b == 2:
            text = f"差异化考核：{plan}，余额有增长，按增量÷计划得 {pts} 分"
        elif b == 3:
            text = f"差异化考核：{plan}，余额未增长，得 0 分"
        elif b == 4:
            text = f"{growth}，连续两年余额下降，扣 {_pts(-pen4)} 分"
        elif b == 5:
            text = f"{growth} 低于{total}，连续两年未达到增速目标，扣 {_pts(-pen3)} 分"
        elif b == 6 and zero_base.iloc[i]:
            text = f"{ZERO_BASE_NOTE}（较年初增加 {_f(r.inclusive_ytd_increase)} 万元），得满分 {pts} 分"
        elif b == 6:
            word = "等于" if is_zero(margin.iloc[i] - margin_min) else "高于"
            required = f"（要求高出 {margin_min:g} 个百分点）" if margin_min else ""
            text = f"{growth} {word}{total}{required}，得满分 {pts} 分"
        elif b == 7:
            text = (
                f"{growth} 低于{total}，但完成信贷计划（{_f(r.plan_completion_pct)}%），"
                f"按增速之比 {_f(ratio.iloc[i], 3)} 得 {pts} 分"
            )
        elif b == 8:
            text = (
                f"{growth} 低于{total}，虽完成信贷计划（{_f(r.plan_completion_pct)}%），"
                f"但各项贷款增速不为正，无法按增速之比计分，得 0 分"
            )
        elif b == 9:
            text = f"{growth} 低于{total}，且未完成信贷计划（{_f(r.plan_completion_pct)}%），得 0 分"
        else:
            text = f"{missing.iloc[i]}，无法计算增速，得 0 分"
        reasons.append(text)
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _rule_borrowers(df: pd.DataFrame, item: Item) -> RuleResult:
    change, prev = df["borrowers_change"], df["prev_borrowers_change"]
    met, fell = at_least(change, 0), below(change, 0)
    twice = fell & below(prev, 0)
    points = np.select([met, twice], [item.max, item.min], default=0.0)
    moved = change.map(lambda v: "与年初持平" if is_zero(v) else f"较年初增加 {_f(v, 0)} 户")
    reasons = np.select(
        [met, twice, fell],
        [
            "有贷款余额户数" + moved + "，不低于年初水平，得满分 " + _pts(item.max) + " 分",
            "有贷款余额户数较年初减少 "
            + (-change).map(lambda v: _f(v, 0))
            + " 户，且连续两年下降，扣 "
            + _pts(-item.min)
            + " 分",
            "有贷款余额户数较年初减少 " + (-change).map(lambda v: _f(v, 0)) + " 户，得 0 分",
        ],
        default=_missing(df, "户数") + "，得 0 分",
    )
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _rule_rate_change(df: pd.DataFrame, item: Item) -> RuleResult:
    band = item.params.get("band_bp", 20)
    change = df["rate_change_bp"]
    high_not_cut = df["high_rate"].astype(bool) & at_least(change, 0)
    stable, within = at_most(change, 0), at_most(change, band)
    points = np.select([high_not_cut, stable, within], [item.min, item.max, item.max / 2], default=0.0)
    text = (
        "当年累放加权平均利率 "
        + df["ytd_new_loan_rate_pct"].map(_f)
        + "%，较上年 "
        + change.map(lambda v: fmt_signed(v, 0))
        + " 个基点"
    )
    reasons = np.select(
        [high_not_cut, stable, within, exceeds(change, band)],
        [
            text + "，利率明显高于同类机构且未压降，扣 " + _pts(-item.min) + " 分",
            text + "，总体平稳，得满分 " + _pts(item.max) + " 分",
            text + f"，上升不超过 {band:g} 个基点，得 " + _pts(item.max / 2) + " 分",
            text + f"，上升超过 {band:g} 个基点，得 0 分",
        ],
        default=_missing(df, "利率") + "，得 0 分",
    )
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _rule_npl_tolerance(df: pd.DataFrame, item: Item) -> RuleResult:
    severe = item.params.get("severe_excess_pp", 3)
    gap, tol = df["npl_gap_pp"], df["npl_tolerance_pp"]
    within, severe_excess = at_most(gap, tol), exceeds(gap, tol + severe)
    points = np.select([within, severe_excess], [item.max, item.min], default=0.0)
    text = (
        "普惠不良率 "
        + df["inclusive_npl_ratio_pct"].map(_f)
        + "%，高于各项贷款不良率 "
        + gap.map(_f)
        + " 个百分点（容忍度 "
        + tol.map(lambda v: _f(v, 1))
        + "）"
    )
    reasons = np.select(
        [within, severe_excess, exceeds(gap, tol)],
        [
            text + "，在容忍度内，得满分 " + _pts(item.max) + " 分",
            text + f"，超出容忍度 {severe:g} 个百分点以上，扣 " + _pts(-item.min) + " 分",
            text + "，超出容忍度，得 0 分",
        ],
        default="缺少不良数据，得 0 分",
    )
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _label(column: str) -> tuple[str, str]:
    from analysis.core.contract import MONTHLY

    if column in INDICATOR_COLUMNS:
        return INDICATOR_COLUMNS[column]
    col = next(c for c in MONTHLY.columns if c.name == column)
    return col.label_zh, col.unit


def _rule_threshold(df: pd.DataFrame, item: Item) -> RuleResult:
    column, minimum = item.params["indicator"], item.params.get("min", 0)
    label, unit = _label(column)
    value = df[column]
    met = at_least(value, minimum)
    points = np.where(met, item.max, 0.0)
    shown = value.map(lambda v: fmt_signed(v, 2)) + unit
    reasons = np.select(
        [met, below(value, minimum)],
        [
            f"{label} " + shown + f"，不低于 {minimum:g}，得满分 {_pts(item.max)} 分",
            f"{label} " + shown + f"，低于 {minimum:g}，得 0 分",
        ],
        default=(_missing(df, label) if column in FROM_BASE else f"缺少{label}数据") + "，得 0 分",
    )
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _rule_pro_rata_yoy(df: pd.DataFrame, item: Item) -> RuleResult:
    column = item.params["indicator"]
    label, unit = _label(column)
    now, last = df[column], df[f"ly_{column}"]
    ratio = (now / last.where(exceeds(last, 0))).clip(0, 1)
    kept = at_least(now, last)
    points = np.select([kept, ratio.notna()], [item.max, item.max * ratio.fillna(0)], default=0.0)
    text = f"{label} " + now.map(lambda v: _f(v, 0)) + unit + "，上年同期 " + last.map(lambda v: _f(v, 0)) + unit
    reasons = np.select(
        [kept, ratio.notna()],
        [
            text + f"，不低于上年，得满分 {_pts(item.max)} 分",
            text + "，低于上年，按比例得 " + pd.Series(points, index=df.index).map(_pts) + " 分",
        ],
        default=f"缺少{label}数据，得 0 分",
    )
    return pd.Series(points, index=df.index), pd.Series(reasons, index=df.index)


def _rule_bonus(df: pd.DataFrame, item: Item) -> RuleResult:
    total = pd.Series(0.0, index=df.index)
    met_labels = pd.Series("", index=df.index)
    for cond in item.params.get("conditions", []):
        met = at_least(df[cond["indicator"]], cond.get("min", 0))
        total += np.where(met, cond["points"], 0.0)
        met_labels = met_labels.where(~met, met_labels + np.where(met_labels == "", "", "、") + cond["label"])
    points = total.clip(upper=item.max)
    reasons = np.where(met_labels == "", "加分条件均未满足，得 0 分", met_labels + "，加 " + points.map(_pts) + " 分")
    return points, pd.Series(reasons, index=df.index)


RULES: dict[str, Callable[[pd.DataFrame, Item], RuleResult]] = {
    "loan_growth": _rule_loan_growth,
    "borrowers": _rule_borrowers,
    "rate_change": _rule_rate_change,
    "npl_tolerance": _rule_npl_tolerance,
    "threshold": _rule_threshold,
    "pro_rata_yoy": _rule_pro_rata_yoy,
    "bonus": _rule_bonus,
}
KNOWN_COLUMNS = set(INDICATOR_COLUMNS) | {
    "first_loan_ytd_borrowers",
    "first_loan_ytd_amount",
    "inclusive_balance",
    "inclusive_borrowers",
    "credit_loan_balance",
    "indiv_business_balance",
    "indiv_business_borrowers",
    "renewal_ytd_amount",
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
    ly = indicators.loc[indicators["period"] == ly_period, ["institution_id", *sorted(KNOWN_COLUMNS - {"high_rate"})]]
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
                points, reasons = RULES[str(item.rule)](df, item)
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
