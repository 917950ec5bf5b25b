"""A fictional Nanyang jurisdiction (示例数据) for demonstrations and tests.

Deterministic (fixed seed): 45 banks of every category the notices address and 15 insurers,
monthly from January 2020 to the latest period :data:`LAST_PERIOD` (June 2025), written as the
Excel workbooks analysts receive. Every name carries "（示例）": none is a real institution.

The returns are as rough as real ones (:class:`Roughness`): the calendar of Chinese lending
(January surge, Spring-Festival dip, quarter-end and especially June and December pushes that
partly reverse the next month), a bank that filed a month late, a bank that misreported a month
and corrected it the month after, a merger that lifts one bank's books in one step, AR(1)
persistence in monthly rates, and renewal and structure shares that move month to month.
The first year is history only (it gives the later years their base), so the models can be
backtested on rolling origins across the assessed years.

Three policy years are assessed, each under its own notice (params/policy-YYYY.yaml): 2023 (两增,
the rate rule), 2024 and 2025 (growth only; large and joint-stock branches judged each, local
legal-person banks as a group). A few institutions are given fixed outcomes in each
(:data:`PLANTED`: :data:`SCENARIOS` for 2023, :data:`SCENARIOS_2024`, :data:`SCENARIOS_2025`)
so that every rule is exercised and the years' rules are told apart; the others are healthy
with margins wide enough that noise cannot flip their verdicts. Tests and the README rely on
these planted outcomes.

Two random streams keep the years apart. 2020–2023 (:data:`FIRST_STREAM_YEARS`) are drawn from
the one generator seeded with ``seed``, in the order they always were: every figure of those years
is the one the demo had before it spanned later years. Each later year, each institution, draws
from a generator of its own (``[seed, year, number]``), and the columns a later notice asks for
(:data:`DECLARED_COLUMNS`, declared in params/indicators.yaml) from one per institution
(``[seed, 1, number]``), so that adding them changed no other figure.

Why this module is long: one simulation of a fictional jurisdiction whose planted cases
(missed 两增, a rising rate, an NPL breach, a group judged as a whole) are stated together with
the tables they live in, so that the tests' expected outcomes can be read in one place.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.contract import (
    BRANCH,
    CITY_COMMERCIAL_BANK,
    COUNTIES,
    INSTITUTIONS,
    JOINT_STOCK_BANK,
    LARGE_BANK,
    LEGAL_ENTITY,
    LIFE_INSURER,
    MONTHLY,
    ONLENDING,
    PLANS,
    POLICY_BANK,
    PROPERTY_INSURER,
    RURAL_COMMERCIAL_BANK,
    RURAL_CREDIT_COOP,
    VILLAGE_BANK,
    Table,
)
from analysis.core.files import replace_folder

SEED = 20230508  # the notice's print date
FIRST_YEAR = 2020
#: the latest month-end the demo writes (最新数据期): 2024 in full, 2025 January to June
LAST_PERIOD = "2025-06"
LAST_YEAR, LAST_MONTH = (int(part) for part in LAST_PERIOD.split("-"))
#: every year the demo writes (the first one history only; the last one to :data:`LAST_MONTH`)
YEARS: tuple[int, ...] = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
#: the year of :data:`SCENARIOS`; it and the years before it are the first random stream's
SCENARIO_YEAR = 2023
FIRST_STREAM_YEARS: tuple[int, ...] = tuple(range(FIRST_YEAR, SCENARIO_YEAR + 1))
#: the stream tag of the declared columns' generator ([seed, tag, number]); later years use the year
_DECLARED_STREAM = 1

#: Planted outcomes in 2023 (the 2023 notice's rules), by institution id. Some of them shape the
#: bank's earlier years too (B017 and B034 two years running, B033 high-rate from the start).
SCENARIOS: dict[str, str] = {
    "B002": "plan_missed",  # large-bank branch: completes ~60% of its plan
    "B008": "plan_missed",  # joint-stock branch
    "B009": "first_loan_falling",  # first-loan borrowers 30% below last year, credit share falls
    "B017": "growth_leg_missed",  # legal: inclusive growth far below all-loan growth (2022 too)
    "B018": "borrowers_leg_missed",  # legal: borrowers fall below the start of the year
    "B019": "rate_up",  # new-loan rate ~45 bp above the prior year
    "B020": "plan_missed",  # legal: 两增 met but plan missed
    "B021": "first_loan_falling",
    "B030": "npl_breach",  # credit cooperative: inclusive NPL far above all loans
    "B033": "high_rate",  # village bank: rate ~350 bp above its peers, cutting slowly
    "B034": "balance_falling",  # inclusive balance falls in 2022 and 2023
    "B035": "differentiated_plan_met",  # differentiated: growth below all loans but plan completed
    "B036": "differentiated_plan_missed",
    "B040": "indiv_business_falling",  # individual-business loans and borrowers fall
    "I003": "premium_falling",
    "I010": "sum_insured_falling",
}

#: Planted outcomes in 2024, for the rules of params/policy-2024.yaml (growth only, large and
#: joint-stock branches each, local legal-person banks as a group 地方法人银行总体), by institution id.
SCENARIOS_2024: dict[str, str] = {
    "B004": "growth_leg_missed",  # large-bank branch, judged on its own: inclusive growth below all loans
    "B017": "growth_missed_in_group",  # legal: own growth below all loans (third year), the group meets it
    "B018": "borrowers_falling",  # legal: growth met, borrowers fall again (2023: 未达标; 2024: 达标)
    "B019": "rate_up",  # the rate rises again (~30 bp): the 2024 notice has no rate rule
}

#: Planted outcomes at the latest period, 2025-06 (the rules of params/policy-2025.yaml), by institution id.
SCENARIOS_2025: dict[str, str] = {
    "B004": "growth_leg_missed",  # behind all-loan growth at mid-year again
    "B017": "growth_missed_in_group",  # behind at mid-year; the group is not
    "B020": "plan_behind",  # completion below the year's time progress (时序进度, 50% in June)
    "B023": "agri_falling",  # 涉农贷款 below the start of the year (a watch item of the 2025 notice)
}

#: Every year's planted outcomes (the years a notice assesses).
PLANTED: dict[int, dict[str, str]] = {SCENARIO_YEAR: SCENARIOS, 2024: SCENARIOS_2024, 2025: SCENARIOS_2025}

#: The monthly columns of params/indicators.yaml the demo writes (banks only), beyond the contract's.
DECLARED_COLUMNS: tuple[str, ...] = (
    "agri_balance",
    "inclusive_agri_balance",
    "sme_legal_person_balance",
    "inclusive_midlong_balance",
    "no_repay_renewal_balance",
)

_SHORT = {code: name.removesuffix("区").removesuffix("县").removesuffix("市") for code, name in COUNTIES.items()}
_CITY = ("411303", "411302")  # branches sit in the two urban districts


@dataclass(frozen=True)
class _Profile:
    total_loans: tuple[float, float]  # 万元, range at the start
    inclusive_share: tuple[float, float]
    avg_loan: float  # 万元 per borrower
    rate: float  # % a year, 2021
    total_growth: tuple[float, float]
    inclusive_growth: tuple[float, float]
    npl_total: tuple[float, float]  # %
    credit_share: float
    indiv_share: float
    above10m_share: float
    turnover: float


_PROFILES = {
    POLICY_BANK: _Profile(
        (2_500_000, 3_000_000), (0.010, 0.015), 300, 3.9, (0.06, 0.08), (0.10, 0.14), (0.3, 0.6), 0.05, 0.0, 0.40, 0.6
    ),
    LARGE_BANK: _Profile(
        (1_500_000, 4_000_000), (0.10, 0.15), 80, 4.6, (0.06, 0.09), (0.16, 0.24), (0.9, 1.6), 0.32, 0.20, 0.35, 1.0
    ),
    JOINT_STOCK_BANK: _Profile(
        (300_000, 800_000), (0.08, 0.12), 100, 5.4, (0.05, 0.08), (0.15, 0.22), (1.2, 1.9), 0.25, 0.15, 0.40, 1.0
    ),
    CITY_COMMERCIAL_BANK: _Profile(
        (400_000, 1_500_000), (0.15, 0.20), 60, 6.0, (0.06, 0.09), (0.13, 0.18), (1.5, 2.2), 0.20, 0.25, 0.20, 1.1
    ),
    RURAL_COMMERCIAL_BANK: _Profile(
        (800_000, 2_500_000), (0.25, 0.35), 25, 6.9, (0.06, 0.09), (0.12, 0.16), (2.0, 3.0), 0.15, 0.40, 0.05, 1.2
    ),
    RURAL_CREDIT_COOP: _Profile(
        (300_000, 600_000), (0.25, 0.35), 20, 7.3, (0.05, 0.08), (0.11, 0.15), (2.5, 3.2), 0.12, 0.45, 0.03, 1.2
    ),
    VILLAGE_BANK: _Profile(
        (50_000, 200_000), (0.40, 0.60), 15, 8.0, (0.05, 0.08), (0.12, 0.17), (2.2, 3.2), 0.10, 0.50, 0.0, 1.3
    ),
}


@dataclass(frozen=True)
class _DeclaredProfile:
    """Ranges of the declared columns' shares at the start, by category (PBoC 涉农贷款统计: rural
    banks lend mostly to 涉农 borrowers, joint-stock banks least; 普惠型涉农 is the part of it to
    farm households and small firms with credit up to 1000万 — farm households' business loans are
    no 普惠型小微企业贷款, so in a rural bank it may exceed the inclusive balance)."""

    agri_share: tuple[float, float]  # 涉农贷款 ÷ all loans
    inclusive_agri_share: tuple[float, float]  # 普惠型涉农贷款 ÷ 涉农贷款
    legal_person_share: tuple[float, float]  # 小微企业法人贷款 ÷ (inclusive less individual businesses;
    #                                          the rest are loans to 小微企业主)
    midlong_above_mfg: tuple[float, float]  # 中长期 share of inclusive loans above the manufacturing one
    no_repay_share: tuple[float, float]  # 无还本续贷 balance ÷ inclusive loans


_DECLARED_PROFILES = {
    POLICY_BANK: _DeclaredProfile((0.60, 0.80), (0.005, 0.012), (0.85, 0.95), (0.35, 0.50), (0.002, 0.010)),
    LARGE_BANK: _DeclaredProfile((0.15, 0.28), (0.12, 0.22), (0.80, 0.88), (0.18, 0.30), (0.030, 0.060)),
    JOINT_STOCK_BANK: _DeclaredProfile((0.05, 0.12), (0.08, 0.15), (0.80, 0.88), (0.10, 0.22), (0.020, 0.050)),
    CITY_COMMERCIAL_BANK: _DeclaredProfile((0.15, 0.30), (0.15, 0.25), (0.80, 0.88), (0.12, 0.25), (0.020, 0.050)),
    RURAL_COMMERCIAL_BANK: _DeclaredProfile((0.55, 0.75), (0.35, 0.50), (0.78, 0.86), (0.08, 0.20), (0.020, 0.050)),
    RURAL_CREDIT_COOP: _DeclaredProfile((0.65, 0.85), (0.40, 0.55), (0.78, 0.86), (0.06, 0.16), (0.020, 0.040)),
    VILLAGE_BANK: _DeclaredProfile((0.65, 0.85), (0.45, 0.65), (0.75, 0.85), (0.05, 0.12), (0.010, 0.040)),
}


@dataclass(frozen=True)
class Roughness:
    """How rough the demo returns are (示例数据的粗糙度). Every pattern and where it comes from.

    - ``growth_weights`` / ``disburse_weights``: each month's share of a year's balance increase and
      of its new lending. Approximate, rounded shape (not the published numbers) of the People's Bank of
      China's monthly 金融统计数据报告 (new RMB loans, 2020–2023): a January surge (开门红: January alone about a fifth of the year), a low
      February, then jumps at the quarter-end months March, June, September and December with thin
      months after each (April, July, October). Inclusive small-micro lending (普惠小微贷款, PBoC
      quarterly 金融机构贷款投向统计报告) follows the same calendar.
    - ``spring_festival``: month of 春节 by year (2020-01-25, 2021-02-12, 2022-02-01, 2023-01-22,
      2024-02-10, 2025-01-29; public calendar). Lending and new borrowers dip in that month (``festival_dip`` of the month's
      weight) and the lost part is made up the month after: the festival moves the January/February
      split between years, as in the PBoC monthly figures.
    - ``quarter_end_push``: 冲时点 — balances stand higher at quarter-ends than the month after, by
      this share of the balance (June and December, the half-year and year-end assessment dates, the
      most); the push reverses the next month. Same share every year for a bank, so year-on-year
      comparisons of December figures are untouched. (Regulators' repeated warnings against
      "冲时点", e.g. the CBIRC's 2018 rules on deposit and loan window-dressing, record the practice.)
    - ``late_filers``: (bank, month) — a bank that filed a month late: the month's return repeats the
      previous month (balances carried forward, year-to-date flows unchanged) and the next month
      catches up. The office's archive keeps the return as filed; the dataset stays complete and valid.
    - ``revisions``: (bank, month, factor) — a month's inclusive balance misreported by ``factor``
      (a large-enterprise loan counted as small-micro), corrected from the next month on; the archive
      keeps the figure as first filed.
    - ``breaks``: (bank, month, inclusive factor, total factor, borrowers factor) — a merger or a new
      product line: from that month on, balances and borrowers are higher by these factors.
    - ``rate_ar``, ``rate_noise_bp``: month-to-month rate deviations persist (AR(1)); quarter-end
      months priced lower by ``quarter_end_rate_cut_bp`` (volume pushed with cheap loans).
    - ``renewal_noise``, ``structure_noise``: monthly variation of the renewal share of new lending
      (more renewals around the festival, when loans fall due) and of the structure items.
    - ``weight_noise``: each bank-year's monthly weights vary by this lognormal spread.
    """

    growth_weights: tuple[float, ...] = (3.0, 1.0, 1.9, 0.45, 0.75, 1.6, 0.25, 0.7, 1.2, 0.4, 0.6, 1.0)
    disburse_weights: tuple[float, ...] = (1.8, 0.8, 1.45, 0.8, 0.85, 1.35, 0.75, 0.8, 1.1, 0.7, 0.8, 1.15)
    spring_festival: tuple[tuple[int, int], ...] = ((2020, 1), (2021, 2), (2022, 2), (2023, 1), (2024, 2), (2025, 1))
    festival_dip: float = 0.75
    quarter_end_push: tuple[float, float, float, float] = (0.004, 0.010, 0.004, 0.006)  # Mar, Jun, Sep, Dec
    late_filers: tuple[tuple[str, str], ...] = (("B012", "2022-05"), ("B027", "2023-04"), ("B041", "2021-08"))
    revisions: tuple[tuple[str, str, float], ...] = (("B015", "2022-10", 1.05), ("B038", "2023-02", 0.94))
    breaks: tuple[tuple[str, str, float, float, float], ...] = (("B026", "2022-07", 1.12, 1.06, 1.10),)
    rate_ar: float = 0.5
    rate_noise_bp: float = 8.0
    quarter_end_rate_cut_bp: float = 6.0
    renewal_noise: float = 0.15
    structure_noise: float = 0.02
    weight_noise: float = 0.3


ROUGHNESS = Roughness()

# Insurers keep their own calendar (life insurers' 开门红 is stronger): weights of premium by month.
_DISBURSE_SHAPE = np.array(Roughness().disburse_weights)


def institutions_frame() -> pd.DataFrame:
    """The fictional institutions: id, name, category, entity type, county, division."""
    rows: list[tuple] = []

    def add(category, name, entity, county, division, differentiated=""):
        rows.append(
            (
                f"B{len([r for r in rows if r[0].startswith('B')]) + 1:03d}",
                name,
                category,
                entity,
                county,
                division,
                differentiated,
            )
        )

    add(POLICY_BANK, "宛农发展银行南阳市分行（示例）", BRANCH, "411303", "大型银行监管科")
    for i, brand in enumerate(["华中工商", "中原农业", "宛中", "宛州建设", "伏牛交通", "白河邮政储蓄"]):
        add(LARGE_BANK, f"{brand}银行南阳分行（示例）", BRANCH, _CITY[i % 2], "大型银行监管科")
    for i, brand in enumerate(["星河", "海岳", "锦程", "恒信", "鸿远", "嘉禾"]):
        add(JOINT_STOCK_BANK, f"{brand}银行南阳分行（示例）", BRANCH, _CITY[i % 2], "中小商业银行监管科")
    add(CITY_COMMERCIAL_BANK, "宛都银行（示例）", LEGAL_ENTITY, "411303", "城市商业银行监管科")
    add(CITY_COMMERCIAL_BANK, "中州城商银行南阳分行（示例）", BRANCH, "411302", "城市商业银行监管科")
    add(CITY_COMMERCIAL_BANK, "洛川银行南阳分行（示例）", BRANCH, "411303", "城市商业银行监管科")
    for code in COUNTIES:
        add(RURAL_COMMERCIAL_BANK, f"{_SHORT[code]}农村商业银行（示例）", LEGAL_ENTITY, code, "农村银行机构监管科")
    for code in ("411321", "411326", "411330"):
        add(RURAL_CREDIT_COOP, f"{_SHORT[code]}县农村信用合作联社（示例）", LEGAL_ENTITY, code, "农村银行机构监管科")
    for code in COUNTIES:
        add(VILLAGE_BANK, f"{_SHORT[code]}丰源村镇银行（示例）", LEGAL_ENTITY, code, "农村银行机构监管科")
    banks = len(rows)
    property_brands = ["宛安", "中原信达", "伏牛", "鼎诚", "汇泰", "瑞丰", "永安达", "兴宛"]
    life_brands = ["康宁", "福佑", "长青", "安康", "和泰", "宛寿", "中原颐年"]
    for i, brand in enumerate(property_brands + life_brands):
        category = PROPERTY_INSURER if i < len(property_brands) else LIFE_INSURER
        kind = "财产保险" if category == PROPERTY_INSURER else "人寿保险"
        division = "财产险科" if category == PROPERTY_INSURER else "人身险科"
        rows.append(
            (
                f"I{i + 1:03d}",
                f"{brand}{kind}股份有限公司南阳中心支公司（示例）",
                category,
                BRANCH,
                _CITY[i % 2],
                division,
                "",
            )
        )
    frame = pd.DataFrame(rows, columns=[c.name for c in INSTITUTIONS.columns])
    assert len(frame) - banks == 15
    differentiated = f"{SCENARIO_YEAR - 1};{SCENARIO_YEAR}"  # the years of their planted outcomes
    frame.loc[frame["institution_id"].isin(["B035", "B036"]), "differentiated_years"] = differentiated
    return frame


def _cumulative_shape(
    rng: np.random.Generator,
    shape: np.ndarray,
    noise: float = 0.15,
    festival_month: int | None = None,
    dip: float = 1.0,
) -> np.ndarray:
    """Cumulative share of a year's flow reached at each month-end (ends at exactly 1)."""
    weights = np.asarray(shape, dtype=float) * rng.lognormal(0.0, noise, 12)
    if festival_month is not None and festival_month < 12:
        lost = weights[festival_month - 1] * (1 - dip)
        weights[festival_month - 1] -= lost
        weights[festival_month] += lost  # made up the month after the festival
    return np.cumsum(weights) / weights.sum()


def _month_of(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def _month_end(year: int, month: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)


def _stream(seed: int, *keys: int) -> np.random.Generator:
    """A generator of its own for one later year of one institution (or the declared columns),
    independent of the first stream's draws: ``[seed, *keys]``."""
    return np.random.default_rng([seed, *keys])


def _months_of(year: int) -> int:
    """Months the demo writes of ``year``: 12, or up to :data:`LAST_MONTH` in the last year."""
    return LAST_MONTH if year == LAST_YEAR else 12


@dataclass(frozen=True)
class _Calendar:
    """The monthly shapes every bank-year shares (from :class:`Roughness`)."""

    festival: dict[int, int]
    growth_shape: np.ndarray
    disburse_shape: np.ndarray
    push_by_month: np.ndarray
    rate_season: np.ndarray
    rate_innovation: float
    breaks: dict[str, tuple[str, float, float, float]]

    @classmethod
    def of(cls, rough: Roughness) -> _Calendar:
        push_by_month = np.zeros(12)
        push_by_month[[2, 5, 8, 11]] = rough.quarter_end_push
        rate_season = np.linspace(0.05, -0.05, 12)
        rate_season[[2, 5, 8, 11]] -= rough.quarter_end_rate_cut_bp / 100
        return cls(
            festival=dict(rough.spring_festival),
            growth_shape=np.array(rough.growth_weights),
            disburse_shape=np.array(rough.disburse_weights),
            push_by_month=push_by_month,
            rate_season=rate_season,
            rate_innovation=rough.rate_noise_bp / 100 * np.sqrt(1 - rough.rate_ar**2),
            breaks={b[0]: b[1:] for b in rough.breaks},
        )


@dataclass
class _Bank:
    """One bank's figures carried from one year to the next (start-of-year levels, shares, rate)."""

    total: float
    inclusive: float
    borrowers: float
    npl_total: float
    npl_gap: float
    rate: float
    credit_share: float
    indiv_balance: float
    indiv_borrowers: float
    first_rate: float  # first-loan borrowers a year ÷ borrowers
    renewal_share: float
    mfg_share: float
    guar_share: float
    sci_share: float
    above10m: float
    push: np.ndarray  # this bank's window-dressing, the same every year
    rate_dev: float  # persistent rate deviation (AR(1))
    first_loans_prev_year: float | None = None

    @classmethod
    def draw(cls, rng: np.random.Generator, prof: _Profile, cal: _Calendar, rough: Roughness) -> _Bank:
        total = rng.uniform(*prof.total_loans)
        inclusive = total * rng.uniform(*prof.inclusive_share)
        borrowers = inclusive / prof.avg_loan * rng.uniform(0.85, 1.15)
        npl_total = rng.uniform(*prof.npl_total)
        npl_gap = rng.uniform(0.2, 1.2)
        rate = prof.rate + rng.normal(0, 0.2)
        credit_share = prof.credit_share * rng.uniform(0.8, 1.2)
        indiv_balance = inclusive * prof.indiv_share * rng.uniform(0.8, 1.2)
        # individual businesses are a part of the inclusive borrowers (S71 row 3.1 within row 6): at most half
        indiv_borrowers = min(indiv_balance / (prof.avg_loan * 0.4), 0.5 * borrowers)
        first_rate = rng.uniform(0.07, 0.10)
        renewal_share = rng.uniform(0.10, 0.20)
        mfg_share, guar_share, sci_share = rng.uniform(0.05, 0.10), rng.uniform(0.02, 0.05), rng.uniform(0.03, 0.08)
        above10m = inclusive * prof.above10m_share * rng.uniform(0.8, 1.2)
        push = cal.push_by_month * rng.uniform(0.5, 1.5)
        rate_dev = rng.normal(0, rough.rate_noise_bp / 100)
        return cls(
            total=total,
            inclusive=inclusive,
            borrowers=borrowers,
            npl_total=npl_total,
            npl_gap=npl_gap,
            rate=rate,
            credit_share=credit_share,
            indiv_balance=indiv_balance,
            indiv_borrowers=indiv_borrowers,
            first_rate=first_rate,
            renewal_share=renewal_share,
            mfg_share=mfg_share,
            guar_share=guar_share,
            sci_share=sci_share,
            above10m=above10m,
            push=push,
            rate_dev=rate_dev,
        )


@dataclass
class _Declared:
    """One bank's declared columns (:data:`DECLARED_COLUMNS`) carried from one year to the next."""

    agri: float  # 涉农贷款 at the start of the year, 万元
    inclusive_agri_share: float
    legal_person_share: float
    midlong_above_mfg: float
    no_repay_share: float

    @classmethod
    def draw(cls, drng: np.random.Generator, category: str, bank: _Bank) -> _Declared:
        d = _DECLARED_PROFILES[category]
        return cls(
            agri=bank.total * drng.uniform(*d.agri_share),
            inclusive_agri_share=drng.uniform(*d.inclusive_agri_share),
            legal_person_share=drng.uniform(*d.legal_person_share),
            midlong_above_mfg=drng.uniform(*d.midlong_above_mfg),
            no_repay_share=drng.uniform(*d.no_repay_share),
        )


def _generate(
    rng: np.random.Generator, institutions: pd.DataFrame, rough: Roughness = ROUGHNESS, seed: int = SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly figures and annual plans for every institution: the first stream's years from
    ``rng``, each later year from its own generator (module docstring). The rows of the first
    stream's years come first, in the order they always had (by institution, then month), the later
    years' after them — as an archive grows."""
    cal = _Calendar.of(rough)
    monthly: dict[bool, list[dict]] = {False: [], True: []}  # keyed by "a later year"
    plans: dict[bool, list[dict]] = {False: [], True: []}
    for number, inst in enumerate(institutions.itertuples(index=False), start=1):
        iid = inst.institution_id
        if inst.category in (PROPERTY_INSURER, LIFE_INSURER):
            insurer = _Insurer.draw(rng, inst.category)
            for year in YEARS:
                later = year not in FIRST_STREAM_YEARS
                monthly[later] += _insurer_year(_stream(seed, year, number) if later else rng, insurer, iid, year)
            continue
        prof = _PROFILES[inst.category]
        bank = _Bank.draw(rng, prof, cal, rough)
        drng = _stream(seed, _DECLARED_STREAM, number)
        declared = _Declared.draw(drng, inst.category, bank)
        for year in YEARS:
            later = year not in FIRST_STREAM_YEARS
            year_rng = _stream(seed, year, number) if later else rng
            rows, plan = _bank_year(year_rng, drng, bank, declared, inst, year, cal, rough)
            monthly[later] += rows[: _months_of(year)]
            plans[later].append(plan)
    return pd.DataFrame(monthly[False] + monthly[True]), pd.DataFrame(plans[False] + plans[True])


def _bank_year(
    rng: np.random.Generator,
    drng: np.random.Generator,
    bank: _Bank,
    declared: _Declared,
    inst: Any,
    year: int,
    cal: _Calendar,
    rough: Roughness,
) -> tuple[list[dict], dict]:
    """One bank's twelve month-ends of ``year`` and its plan; carries ``bank`` and ``declared`` to
    the next year. ``rng`` draws every figure of the contract's columns, ``drng`` the declared ones."""
    iid = inst.institution_id
    prof = _PROFILES[inst.category]
    scenario = SCENARIOS.get(iid, "")  # the 2023 outcome, which shapes some earlier years too
    later = PLANTED.get(year, {}).get(iid, "") if year > SCENARIO_YEAR else ""
    is_last = year == SCENARIO_YEAR
    running = SCENARIO_YEAR - 1 <= year <= SCENARIO_YEAR  # the cases planted two years running
    g_total = rng.uniform(*prof.total_growth)
    g_incl = rng.uniform(*prof.inclusive_growth)
    g_borrowers = rng.uniform(0.05, 0.09)
    rate_change = rng.uniform(-0.40, -0.25) if year == FIRST_YEAR + 1 else rng.uniform(-0.30, -0.10)
    plan_factor = rng.uniform(0.80, 0.92)  # plan ÷ planned-for increase: completion 109–125%
    if scenario == "growth_leg_missed" and running:
        g_total, g_incl = 0.11, 0.03
    if scenario == "borrowers_leg_missed" and is_last:
        g_borrowers = -0.06
    if scenario == "rate_up" and is_last:
        rate_change = 0.45
    if scenario == "high_rate" and year == FIRST_YEAR:
        bank.rate = 11.8
    if scenario == "plan_missed" and is_last:
        plan_factor = 1.65
    if scenario == "balance_falling" and running:
        g_incl, g_borrowers = -0.04, -0.03
    if scenario.startswith("differentiated") and running:
        g_total, g_incl = 0.10, 0.05
        plan_factor = 0.85 if scenario == "differentiated_plan_met" else 1.6
    # the later years' planted outcomes (SCENARIOS_2024, SCENARIOS_2025)
    if later in ("growth_leg_missed", "growth_missed_in_group"):
        g_total, g_incl = 0.10, 0.02
    if later == "borrowers_falling":
        g_total, g_incl, g_borrowers = 0.07, 0.14, -0.05
    if later == "rate_up":
        rate_change = 0.30
    if later == "plan_behind":
        plan_factor = 2.2  # completion ~30% by June against a time progress of 50%
    bank.rate += rate_change
    npl_incl = bank.npl_total + bank.npl_gap + (6.0 if scenario == "npl_breach" and is_last else 0.0)
    # from 2024 the notices ask for more 信用贷款 and 续贷: the shares rise faster
    credit_step = rng.uniform(0.02, 0.04) if year > SCENARIO_YEAR else rng.uniform(0.01, 0.03)
    indiv_growth = -0.08 if scenario == "indiv_business_falling" and is_last else rng.uniform(0.06, 0.12)
    first_loans = bank.borrowers * bank.first_rate * rng.uniform(1.02, 1.10)
    if scenario == "first_loan_falling" and is_last and bank.first_loans_prev_year is not None:
        first_loans = bank.first_loans_prev_year * 0.7
    bank.first_loans_prev_year = first_loans
    credit_falls = scenario == "first_loan_falling" and is_last

    fest = cal.festival.get(year, 2)
    shape: dict[str, Any] = {"noise": rough.weight_noise, "festival_month": fest, "dip": rough.festival_dip}
    s_total = _cumulative_shape(rng, cal.growth_shape, **shape)
    s_incl = _cumulative_shape(rng, cal.growth_shape, **shape)
    s_borr = _cumulative_shape(rng, cal.growth_shape, **shape)
    s_disb = _cumulative_shape(rng, cal.disburse_shape, **shape)
    s_first = _cumulative_shape(rng, cal.disburse_shape, noise=0.04, festival_month=fest, dip=rough.festival_dip)
    total_path = bank.total * (1 + g_total * s_total)
    incl_path = bank.inclusive * (1 + g_incl * s_incl)
    borr_path = bank.borrowers * (1 + g_borrowers * s_borr)
    brk = cal.breaks.get(iid)
    if brk is not None and _month_of(brk[0])[0] == year:  # merger / new product line: a step up
        step = np.arange(1, 13) >= _month_of(brk[0])[1]  # (later years inherit it through the carry)
        incl_path = incl_path * np.where(step, brk[1], 1.0)
        total_path = total_path * np.where(step, brk[2], 1.0)
        borr_path = borr_path * np.where(step, brk[3], 1.0)
    # B034's plan still expects growth in the years of its falling balance (and the years before)
    planned_growth = 0.08 if scenario == "balance_falling" and year <= SCENARIO_YEAR else g_incl
    plan = {
        "institution_id": iid,
        "year": year,
        "planned_increase": round(bank.inclusive * planned_growth * plan_factor, -2),
    }
    annual_disbursed = incl_path.mean() * prof.turnover
    month_disbursed = np.diff(np.concatenate([[0.0], s_disb])) * annual_disbursed
    month_rate = np.empty(12)
    for m in range(12):
        bank.rate_dev = rough.rate_ar * bank.rate_dev + rng.normal(0, cal.rate_innovation)
        month_rate[m] = bank.rate + bank.rate_dev + cal.rate_season[m]
    ytd_disbursed = np.cumsum(month_disbursed)
    ytd_interest = np.cumsum(month_disbursed * month_rate / 100)
    ytd_borrowers_disbursed = np.round(np.cumsum(np.diff(np.concatenate([[0.0], s_disb])) * bank.borrowers * 0.9))
    ytd_first = np.round(s_first * first_loans)
    renewal_month_share = bank.renewal_share * rng.lognormal(0.0, rough.renewal_noise, 12)
    renewal_month_share[[fest - 1, min(fest, 11)]] *= 1.25  # loans fall due around the festival
    ytd_renewal = np.cumsum(month_disbursed * renewal_month_share)
    wobble = {
        k: 1 + np.cumsum(rng.normal(0, rough.structure_noise, 12)) for k in ("credit", "mfg", "guar", "sci", "above10m")
    }
    declared_year = _declared_year(drng, declared, year, later, bank.total, g_total, rough)
    pushed = 1 + bank.push
    month = np.arange(1, 13)
    rows = []
    for m in range(12):
        share_progress = (m + 1) / 12
        inc = incl_path[m] * pushed[m]
        tot = total_path[m] * pushed[m]
        indiv = bank.indiv_balance * (1 + indiv_growth * s_incl[m])
        credit_share = bank.credit_share + (-credit_step if credit_falls else credit_step) * share_progress
        row = {
            "institution_id": iid,
            "period": _month_end(year, m + 1),
            "inclusive_balance": round(inc, 2),
            "inclusive_borrowers": round(borr_path[m]),
            "inclusive_npl": round(inc * npl_incl / 100 * (1 + 0.02 * np.sin(month[m])), 2),
            "inclusive_ytd_disbursed": round(ytd_disbursed[m], 2),
            "inclusive_ytd_borrowers_disbursed": ytd_borrowers_disbursed[m],
            "inclusive_ytd_interest": round(ytd_interest[m], 2),
            "bill_discount_balance": round(inc * 0.08 * (1 + 0.1 * np.cos(month[m])), 2),
            "total_loans": round(tot, 2),
            "total_npl": round(tot * bank.npl_total / 100, 2),
            "credit_loan_balance": round(inc * credit_share * wobble["credit"][m], 2),
            "first_loan_ytd_borrowers": ytd_first[m],
            "first_loan_ytd_amount": round(ytd_first[m] * prof.avg_loan * 0.6, 2),
            "renewal_ytd_amount": round(ytd_renewal[m], 2),
            "mfg_midlong_balance": round(inc * bank.mfg_share * (1 + 0.05 * share_progress) * wobble["mfg"][m], 2),
            "indiv_business_balance": round(indiv, 2),
            "indiv_business_borrowers": round(bank.indiv_borrowers * (1 + indiv_growth * s_borr[m])),
            "above10m_balance": round(bank.above10m * (1 + 0.06 * s_total[m]) * wobble["above10m"][m], 2),
            "guaranteed_balance": round(inc * bank.guar_share * (1 + 0.1 * share_progress) * wobble["guar"][m], 2),
            "scitech_balance": round(inc * bank.sci_share * (1 + 0.1 * share_progress) * wobble["sci"][m], 2),
        }
        row.update(declared_year.month(m, inc, indiv, bank.mfg_share, s_total[m], pushed[m]))
        if inst.category == VILLAGE_BANK:
            row["bill_discount_balance"] = 0.0  # village banks do no bill business
        rows.append(row)
    _file_like_a_bank(iid, year, rows, rough)
    bank.total, bank.inclusive, bank.borrowers = total_path[-1], incl_path[-1], borr_path[-1]
    bank.credit_share += -credit_step if credit_falls else credit_step
    bank.indiv_balance *= 1 + indiv_growth
    bank.indiv_borrowers *= 1 + indiv_growth
    bank.renewal_share += rng.uniform(0.01, 0.03) if year > SCENARIO_YEAR else rng.uniform(0.005, 0.015)
    bank.mfg_share *= 1.05
    bank.guar_share *= 1.1
    bank.sci_share *= 1.1
    bank.above10m *= 1.06
    declared_year.carry()
    return rows, plan


@dataclass
class _DeclaredYear:
    """The declared columns of one bank-year (:func:`_declared_year`)."""

    declared: _Declared
    agri_growth: float
    inclusive_agri_step: float
    midlong_step: float
    no_repay_step: float
    wobble: dict[str, np.ndarray]

    def month(self, m: int, inclusive: float, indiv: float, mfg_share: float, s_total: float, pushed: float) -> dict:
        """The declared columns at month-end ``m`` (0-based) from the month's inclusive balance (pushed),
        individual-business balance, the manufacturing share and all loans' cumulative shape."""
        d, progress, w = self.declared, (m + 1) / 12, self.wobble
        agri = d.agri * (1 + self.agri_growth * s_total) * pushed  # all loans' calendar and push
        midlong_share = mfg_share * (1 + 0.05 * progress) + d.midlong_above_mfg + self.midlong_step * progress
        return {
            "agri_balance": round(agri, 2),
            "inclusive_agri_balance": round(
                agri * (d.inclusive_agri_share + self.inclusive_agri_step * progress) * w["agri"][m], 2
            ),
            "sme_legal_person_balance": round((inclusive - indiv) * d.legal_person_share * w["legal"][m], 2),
            "inclusive_midlong_balance": round(inclusive * midlong_share * w["midlong"][m], 2),
            "no_repay_renewal_balance": round(
                inclusive * (d.no_repay_share + self.no_repay_step * progress) * w["no_repay"][m], 2
            ),
        }

    def carry(self) -> None:
        """The year-end levels and shares become the next year's start."""
        d = self.declared
        d.agri *= 1 + self.agri_growth
        d.inclusive_agri_share += self.inclusive_agri_step
        d.midlong_above_mfg += self.midlong_step
        d.no_repay_share += self.no_repay_step


def _declared_year(
    drng: np.random.Generator,
    declared: _Declared,
    year: int,
    later: str,
    total: float,
    g_total: float,
    rough: Roughness,
) -> _DeclaredYear:
    """The year's draws of the declared columns. 涉农贷款 follows all loans' calendar and grows a
    little faster than they do (at least 2%, at most to 95% of all loans); from 2024 the notices
    push 普惠型涉农, 中长期 and 无还本续贷 (larger steps of their shares). ``later``: the year's
    planted outcome (``agri_falling``: 涉农贷款 −12% over the year)."""
    pushed_year = year > SCENARIO_YEAR
    agri_growth = max(g_total + drng.normal(0.01, 0.02), 0.02)
    agri_growth = min(agri_growth, 0.95 * total * (1 + g_total) / declared.agri - 1)
    if later == "agri_falling":
        agri_growth = -0.12
    return _DeclaredYear(
        declared=declared,
        agri_growth=agri_growth,
        inclusive_agri_step=drng.uniform(0.01, 0.02) if pushed_year else drng.uniform(0.002, 0.010),
        midlong_step=drng.uniform(0.01, 0.03) if pushed_year else drng.uniform(0.005, 0.015),
        no_repay_step=drng.uniform(0.003, 0.008) if pushed_year else drng.uniform(0.001, 0.004),
        wobble={
            k: 1 + np.cumsum(drng.normal(0, rough.structure_noise / 2, 12))
            for k in ("agri", "legal", "midlong", "no_repay")
        },
    )


def _file_like_a_bank(institution_id: str, year: int, rows: list[dict], rough: Roughness) -> None:
    """Late filing (the month repeats the one before) and misreported months (corrected the month
    after), in place on one bank-year's rows."""
    for iid, month_text in rough.late_filers:
        y, m = _month_of(month_text)
        if iid == institution_id and y == year and 1 < m < 12:
            previous = rows[m - 2]
            rows[m - 1].update({k: v for k, v in previous.items() if k not in ("institution_id", "period")})
    for iid, month_text, factor in rough.revisions:
        y, m = _month_of(month_text)
        if iid == institution_id and y == year and m < 12:
            rows[m - 1]["inclusive_balance"] = round(rows[m - 1]["inclusive_balance"] * factor, 2)


@dataclass
class _Insurer:
    """One insurer's figures carried from one year to the next."""

    premium: float  # 万元 a year
    policies_per_premium: float  # 件 per 万元
    insured_per_premium: float
    loss_ratio: float
    shape: np.ndarray  # premium by month (life insurers' 开门红 is stronger)

    @classmethod
    def draw(cls, rng: np.random.Generator, category: str) -> _Insurer:
        life = category == LIFE_INSURER
        premium = rng.uniform(500, 5_000) if life else rng.uniform(2_000, 15_000)
        policies_per_premium = rng.uniform(2, 5) if life else rng.uniform(3, 8)
        insured_per_premium = rng.uniform(30, 80) if life else rng.uniform(300, 800)
        loss_ratio = rng.uniform(0.15, 0.30) if life else rng.uniform(0.45, 0.65)
        shape = np.array([2.2, 1.0, 1.3, 0.9, 0.8, 1.0, 0.8, 0.8, 0.9, 0.8, 0.7, 0.8]) if life else _DISBURSE_SHAPE
        return cls(premium, policies_per_premium, insured_per_premium, loss_ratio, shape)


def _insurer_year(rng: np.random.Generator, ins: _Insurer, institution_id: str, year: int) -> list[dict]:
    """One insurer's month-ends of ``year`` (to :data:`LAST_MONTH` in the last year)."""
    planted = PLANTED.get(year, {}).get(institution_id, "")
    growth = rng.uniform(0.06, 0.12)
    insured_growth = growth
    if planted == "premium_falling":
        growth = insured_growth = -0.12
    if planted == "sum_insured_falling":
        insured_growth = -0.15
    if year > FIRST_YEAR:
        ins.premium *= 1 + growth
        ins.insured_per_premium *= (1 + insured_growth) / (1 + growth)
    s = _cumulative_shape(rng, ins.shape, noise=0.1)
    s_claims = _cumulative_shape(rng, np.ones(12), noise=0.2)
    return [
        {
            "institution_id": institution_id,
            "period": _month_end(year, m + 1),
            "premium_ytd": round(ins.premium * s[m], 2),
            "policies_ytd": round(ins.premium * s[m] * ins.policies_per_premium),
            "sum_insured_ytd": round(ins.premium * s[m] * ins.insured_per_premium, 2),
            "claims_paid_ytd": round(ins.premium * ins.loss_ratio * s_claims[m], 2),
        }
        for m in range(_months_of(year))
    ]


def _onlending_frame(rng: np.random.Generator, seed: int = SEED) -> pd.DataFrame:
    """The policy bank's on-lending by quarter: the first stream's years from ``rng``, each later
    year from its own generator; quarters to the one :data:`LAST_MONTH` ends."""
    rows = []
    for year in YEARS:
        year_rng = rng if year in FIRST_STREAM_YEARS else _stream(seed, year, 0)
        for quarter in range(1, _months_of(year) // 3 + 1):
            rate = 5.6 - 0.25 * (year - FIRST_YEAR) + year_rng.normal(0, 0.08)
            if year == SCENARIO_YEAR and quarter == 3:
                rate = 8.9  # planted: end borrowers paid more than local village and rural banks
            rows.append(
                {
                    "institution_id": "B001",
                    "quarter": f"{year}Q{quarter}",
                    "onlending_amount": round(year_rng.uniform(8_000, 20_000), 2),
                    "end_borrower_rate": round(rate, 2),
                }
            )
    return pd.DataFrame(rows)


def demo_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The demo tables with English column names, in memory; the monthly table carries the
    contract's columns and then :data:`DECLARED_COLUMNS`."""
    rng = np.random.default_rng(seed)
    institutions = institutions_frame()
    monthly, plans = _generate(rng, institutions, seed=seed)
    columns = [c.name for c in MONTHLY.columns] + list(DECLARED_COLUMNS)
    monthly = monthly.reindex(columns=columns)
    return {"institutions": institutions, "monthly": monthly, "plans": plans, "onlending": _onlending_frame(rng, seed)}


_EVIDENCE = {
    "specialised_units": (
        "已设立普惠金融事业部，县域网点配备小微专营团队",
        "普惠金融专营机构建设基本到位",
        "专营机构未覆盖全部县域网点",
    ),
    "incentives": ("普惠条线考核权重不低于15%，未设存款、利润指标", "考核体系基本符合要求", "仍对小微条线考核利润指标"),
    "due_diligence_exemption": ("尽职免责细则已落地并有免责案例", "制定了尽职免责办法", "尽职免责制度未细化"),
    "ftp": ("小微贷款FTP优惠50BP", "FTP优惠25BP", "未实施FTP优惠"),
    "fee_reduction": ("全面落实减费让利，收费公示规范", "收费公示基本规范", "检查发现违规收费问题"),
    "renewal_policy": ("流动资金贷款产品均具备续贷功能", "主要产品具备续贷功能", "续贷产品覆盖不足"),
    "data_quality": ("报送及时准确，无差错", "个别月份报送延迟", "数据质量检查发现差错"),
    "products": ("推出个体工商户专属信用贷产品", "优化既有产品", "产品创新不足"),
    "digital": ("线上信用贷款占比显著提升", "线上化产品稳步推进", "线上化程度较低"),
    "customer_tiering": ("建立小微客户分层服务体系", "客户分层初步建立", "未开展客户分层"),
    "inspection_findings": ("本年度检查未发现问题", "检查发现一般性问题，已整改", "检查发现较多问题，整改不到位"),
}


def qualitative_frame(
    institutions: pd.DataFrame, year: int, seed: int = SEED, params_dir: Path | str | None = None
) -> pd.DataFrame:
    """Analyst-style qualitative scores for the banks under the scoring table (demo only).

    Point ranges follow params/scoring-<year>.yaml; the evidence texts are fictional. Banks with an
    outcome planted that year (:data:`PLANTED`) score lower.
    """
    from analysis.rules.scoring import load_scoring, scoring_path

    table = load_scoring(scoring_path(_params(params_dir), year))
    rng = np.random.default_rng(seed + year)
    rows = []
    banks = institutions[institutions["category"].isin(table.categories)]
    for inst in banks.itertuples(index=False):
        planted = PLANTED.get(year, {}).get(inst.institution_id, "")
        quality = rng.uniform(0.55, 0.95) - (0.25 if planted else 0.0)
        for item in (i for i in table.items if i.kind == "qualitative"):
            if item.max > 0:
                share = float(np.clip(quality + rng.normal(0, 0.08), 0, 1))
                score = round(item.min + share * (item.max - item.min))
                level = 0 if share > 0.75 else 1 if share > 0.45 else 2
            else:  # deductions: most banks none, planted banks some
                score = (
                    -int(rng.integers(3, 10)) if planted else (-int(rng.integers(0, 3)) if rng.random() < 0.3 else 0)
                )
                level = 0 if score == 0 else 1 if score > -5 else 2
            rows.append(
                {
                    "机构编码": inst.institution_id,
                    "年度": year,
                    "评分项目编码": item.id,
                    "评分项目": item.name,
                    "得分": score,
                    "评分依据": _EVIDENCE.get(item.id, ("—",) * 3)[level],
                }
            )
    return pd.DataFrame(rows)


def _to_chinese(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    return frame.rename(columns={c.name: c.label_zh for c in table.columns})


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    """Through the project's one Excel writer (:mod:`analysis.core.workbook`): text as text."""
    from analysis.core.workbook import DECIMAL_FORMAT, add_sheet, new_book

    formats = {c: DECIMAL_FORMAT for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    widths = {col: max(10, min(40, len(str(col)) * 2 + 2)) for col in frame.columns}
    with new_book(path) as book:
        add_sheet(
            book, sheet, frame, number_formats=formats, freeze="C2" if frame.shape[1] > 4 else "A2", widths=widths
        )


def _params(params_dir: Path | str | None) -> Path:
    from analysis.state import project_root

    return Path(params_dir) if params_dir is not None else project_root() / "params"


def scored_years(params_dir: Path | str | None = None) -> list[int]:
    """The demo years that have a scoring table (params/scoring-<year>.yaml): those, and only those,
    get a qualitative scoring workbook (定性评分-<year>)."""
    from analysis.rules.scoring import scoring_path

    return [year for year in YEARS if scoring_path(_params(params_dir), year).exists()]


def monthly_table(params_dir: Path | str | None = None) -> Table:
    """The monitoring table's columns as the demo writes them: the contract's and those of
    params/indicators.yaml (Chinese headers of the declared columns from there)."""
    from analysis.core.contract import monthly_with
    from analysis.core.indicator_defs import load_indicator_params

    return monthly_with(load_indicator_params(_params(params_dir)).contract_columns())


def write_demo_data(
    out_dir: Path | str, seed: int = SEED, fmt: str = "xlsx", params_dir: Path | str | None = None
) -> Path:
    """Write the demo jurisdiction to ``out_dir`` atomically (a finished folder or nothing).

    ``fmt`` is ``xlsx`` (Chinese headers, as analysts receive them), ``csv`` or ``parquet``.
    ``params_dir`` (default the project's params/): the declared columns' headers and the years
    with a scoring table.
    """
    out_dir = Path(out_dir)
    tables = demo_tables(seed)
    specs = {"institutions": INSTITUTIONS, "monthly": monthly_table(params_dir), "plans": PLANS, "onlending": ONLENDING}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name, frame in tables.items():
            table = specs[name]
            if fmt == "xlsx":
                _write_xlsx(_to_chinese(frame, table), staging / f"{table.label_zh}.xlsx", table.label_zh)
            elif fmt == "csv":
                _to_chinese(frame, table).to_csv(staging / f"{table.label_zh}.csv", index=False, encoding="utf-8-sig")
            elif fmt == "parquet":
                frame.to_parquet(staging / f"{name}.parquet", index=False)
            else:
                raise ValueError(f"unknown format {fmt!r}; use xlsx, csv or parquet")
        for year in scored_years(params_dir):
            qualitative = qualitative_frame(tables["institutions"], year, seed, params_dir)
            if fmt == "xlsx":
                _write_xlsx(qualitative, staging / f"定性评分-{year}.xlsx", "定性评分")
            else:
                qualitative.to_csv(staging / f"定性评分-{year}.csv", index=False, encoding="utf-8-sig")
        (staging / "README.txt").write_text(
            "示例数据：虚构的南阳辖区银行保险机构，仅供演示与测试，非真实机构数据。\n"
            "Fictional demo data generated by `analysis demo-data`; not real institutions.\n",
            encoding="utf-8",
        )
        replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
