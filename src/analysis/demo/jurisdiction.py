"""A fictional Nanyang jurisdiction (示例数据) for demonstrations and tests.

Deterministic (fixed seed): 45 banks of every category the notice addresses and 15 insurers,
monthly from January to December of four years, written as the Excel workbooks analysts
receive. Every name carries "（示例）": none is a real institution.

The returns are as rough as real ones (:class:`Roughness`): the calendar of Chinese lending
(January surge, Spring-Festival dip, quarter-end and especially June and December pushes that
partly reverse the next month), a bank that filed a month late, a bank that misreported a month
and corrected it the month after, a merger that lifts one bank's books in one step, AR(1)
persistence in monthly rates, and renewal and structure shares that move month to month.
The first year is history only (it gives the later years their base), so the models can be
backtested on rolling origins across three assessed years.

A few institutions are given fixed outcomes in the last year (:data:`SCENARIOS`) so that every
rule of the notice is exercised; the others are healthy with margins wide enough that noise
cannot flip their verdicts. Tests and the README rely on these planted outcomes.

Why this module is long: one simulation of a fictional jurisdiction whose planted cases
(missed 两增, a rising rate, an NPL breach, a new bank) are stated together with the tables they
live in, so that the tests' expected outcomes can be read in one place.
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
YEARS = 4

#: Planted outcomes in the last demo year (2023), by institution id.
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
class Roughness:
    """How rough the demo returns are (示例数据的粗糙度). Every pattern and where it comes from.

    - ``growth_weights`` / ``disburse_weights``: each month's share of a year's balance increase and
      of its new lending. Approximate, rounded shape (not the published numbers) of the People's Bank of
      China's monthly 金融统计数据报告 (new RMB loans, 2020–2023): a January surge (开门红: January alone about a fifth of the year), a low
      February, then jumps at the quarter-end months March, June, September and December with thin
      months after each (April, July, October). Inclusive small-micro lending (普惠小微贷款, PBoC
      quarterly 金融机构贷款投向统计报告) follows the same calendar.
    - ``spring_festival``: month of 春节 by year (2020-01-25, 2021-02-12, 2022-02-01, 2023-01-22;
      public calendar). Lending and new borrowers dip in that month (``festival_dip`` of the month's
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
    spring_festival: tuple[tuple[int, int], ...] = ((2020, 1), (2021, 2), (2022, 2), (2023, 1))
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
    last_year = FIRST_YEAR + YEARS - 1
    frame.loc[frame["institution_id"].isin(["B035", "B036"]), "differentiated_years"] = f"{last_year - 1};{last_year}"
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


def _generate(
    rng: np.random.Generator, institutions: pd.DataFrame, rough: Roughness = ROUGHNESS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly figures and annual plans for every institution."""
    years = list(range(FIRST_YEAR, FIRST_YEAR + YEARS))
    last = years[-1]
    festival = dict(rough.spring_festival)
    growth_shape = np.array(rough.growth_weights)
    disburse_shape = np.array(rough.disburse_weights)
    push_by_month = np.zeros(12)
    push_by_month[[2, 5, 8, 11]] = rough.quarter_end_push
    rate_season = np.linspace(0.05, -0.05, 12)
    rate_season[[2, 5, 8, 11]] -= rough.quarter_end_rate_cut_bp / 100
    breaks = {b[0]: b[1:] for b in rough.breaks}
    monthly: list[dict] = []
    plans: list[dict] = []
    for inst in institutions.itertuples(index=False):
        scenario = SCENARIOS.get(inst.institution_id, "")
        periods = [pd.Timestamp(year=y, month=m, day=1) + pd.offsets.MonthEnd(0) for y in years for m in range(1, 13)]
        if inst.category in (PROPERTY_INSURER, LIFE_INSURER):
            monthly += _insurer_rows(rng, inst, scenario, years, periods)
            continue
        prof = _PROFILES[inst.category]
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
        first_rate = rng.uniform(0.07, 0.10)  # first-loan borrowers a year ÷ borrowers
        renewal_share = rng.uniform(0.10, 0.20)
        mfg_share, guar_share, sci_share = rng.uniform(0.05, 0.10), rng.uniform(0.02, 0.05), rng.uniform(0.03, 0.08)
        above10m = inclusive * prof.above10m_share * rng.uniform(0.8, 1.2)
        push = push_by_month * rng.uniform(0.5, 1.5)  # this bank's window-dressing, the same every year
        rate_dev = rng.normal(0, rough.rate_noise_bp / 100)  # persistent rate deviation (AR(1))
        rate_innovation = rough.rate_noise_bp / 100 * np.sqrt(1 - rough.rate_ar**2)
        brk = breaks.get(inst.institution_id)
        first_loans_prev_year = None
        for year in years:
            is_last = year == last
            g_total = rng.uniform(*prof.total_growth)
            g_incl = rng.uniform(*prof.inclusive_growth)
            g_borrowers = rng.uniform(0.05, 0.09)
            rate_change = rng.uniform(-0.40, -0.25) if year == years[1] else rng.uniform(-0.30, -0.10)
            plan_factor = rng.uniform(0.80, 0.92)  # plan ÷ planned-for increase: completion 109–125%
            if scenario == "growth_leg_missed" and year >= last - 1:
                g_total, g_incl = 0.11, 0.03
            if scenario == "borrowers_leg_missed" and is_last:
                g_borrowers = -0.06
            if scenario == "rate_up" and is_last:
                rate_change = 0.45
            if scenario == "high_rate" and year == years[0]:
                rate = 11.8
            if scenario == "plan_missed" and is_last:
                plan_factor = 1.65
            if scenario == "balance_falling" and year >= last - 1:
                g_incl, g_borrowers = -0.04, -0.03
            if scenario.startswith("differentiated") and year >= last - 1:
                g_total, g_incl = 0.10, 0.05
                plan_factor = 0.85 if scenario == "differentiated_plan_met" else 1.6
            rate += rate_change
            npl_incl = npl_total + npl_gap + (6.0 if scenario == "npl_breach" and is_last else 0.0)
            credit_step = rng.uniform(0.01, 0.03)
            indiv_growth = -0.08 if scenario == "indiv_business_falling" and is_last else rng.uniform(0.06, 0.12)
            first_loans = borrowers * first_rate * rng.uniform(1.02, 1.10)
            if scenario == "first_loan_falling" and is_last and first_loans_prev_year is not None:
                first_loans = first_loans_prev_year * 0.7
            first_loans_prev_year = first_loans

            fest = festival.get(year, 2)
            shape: dict[str, Any] = {"noise": rough.weight_noise, "festival_month": fest, "dip": rough.festival_dip}
            s_total = _cumulative_shape(rng, growth_shape, **shape)
            s_incl = _cumulative_shape(rng, growth_shape, **shape)
            s_borr = _cumulative_shape(rng, growth_shape, **shape)
            s_disb = _cumulative_shape(rng, disburse_shape, **shape)
            s_first = _cumulative_shape(rng, disburse_shape, noise=0.04, festival_month=fest, dip=rough.festival_dip)
            total_path = total * (1 + g_total * s_total)
            incl_path = inclusive * (1 + g_incl * s_incl)
            borr_path = borrowers * (1 + g_borrowers * s_borr)
            if brk is not None and _month_of(brk[0])[0] == year:  # merger / new product line: a step up
                step = np.arange(1, 13) >= _month_of(brk[0])[1]  # (later years inherit it through the carry)
                incl_path = incl_path * np.where(step, brk[1], 1.0)
                total_path = total_path * np.where(step, brk[2], 1.0)
                borr_path = borr_path * np.where(step, brk[3], 1.0)
            planned_growth = 0.08 if scenario == "balance_falling" else g_incl  # its plan still expects growth
            plans.append(
                {
                    "institution_id": inst.institution_id,
                    "year": year,
                    "planned_increase": round(inclusive * planned_growth * plan_factor, -2),
                }
            )
            annual_disbursed = incl_path.mean() * prof.turnover
            month_disbursed = np.diff(np.concatenate([[0.0], s_disb])) * annual_disbursed
            month_rate = np.empty(12)
            for m in range(12):
                rate_dev = rough.rate_ar * rate_dev + rng.normal(0, rate_innovation)
                month_rate[m] = rate + rate_dev + rate_season[m]
            ytd_disbursed = np.cumsum(month_disbursed)
            ytd_interest = np.cumsum(month_disbursed * month_rate / 100)
            ytd_borrowers_disbursed = np.round(np.cumsum(np.diff(np.concatenate([[0.0], s_disb])) * borrowers * 0.9))
            ytd_first = np.round(s_first * first_loans)
            renewal_month_share = renewal_share * rng.lognormal(0.0, rough.renewal_noise, 12)
            renewal_month_share[[fest - 1, min(fest, 11)]] *= 1.25  # loans fall due around the festival
            ytd_renewal = np.cumsum(month_disbursed * renewal_month_share)
            wobble = {
                k: 1 + np.cumsum(rng.normal(0, rough.structure_noise, 12))
                for k in ("credit", "mfg", "guar", "sci", "above10m")
            }
            pushed = 1 + push
            month = np.arange(1, 13)
            year_rows = []
            for m in range(12):
                share_progress = (m + 1) / 12
                inc = incl_path[m] * pushed[m]
                tot = total_path[m] * pushed[m]
                row = {
                    "institution_id": inst.institution_id,
                    "period": periods[(year - FIRST_YEAR) * 12 + m],
                    "inclusive_balance": round(inc, 2),
                    "inclusive_borrowers": round(borr_path[m]),
                    "inclusive_npl": round(inc * npl_incl / 100 * (1 + 0.02 * np.sin(month[m])), 2),
                    "inclusive_ytd_disbursed": round(ytd_disbursed[m], 2),
                    "inclusive_ytd_borrowers_disbursed": ytd_borrowers_disbursed[m],
                    "inclusive_ytd_interest": round(ytd_interest[m], 2),
                    "bill_discount_balance": round(inc * 0.08 * (1 + 0.1 * np.cos(month[m])), 2),
                    "total_loans": round(tot, 2),
                    "total_npl": round(tot * npl_total / 100, 2),
                    "credit_loan_balance": round(
                        inc
                        * (
                            credit_share
                            + (-credit_step if scenario == "first_loan_falling" and is_last else credit_step)
                            * share_progress
                        )
                        * wobble["credit"][m],
                        2,
                    ),
                    "first_loan_ytd_borrowers": ytd_first[m],
                    "first_loan_ytd_amount": round(ytd_first[m] * prof.avg_loan * 0.6, 2),
                    "renewal_ytd_amount": round(ytd_renewal[m], 2),
                    "mfg_midlong_balance": round(inc * mfg_share * (1 + 0.05 * share_progress) * wobble["mfg"][m], 2),
                    "indiv_business_balance": round(indiv_balance * (1 + indiv_growth * s_incl[m]), 2),
                    "indiv_business_borrowers": round(indiv_borrowers * (1 + indiv_growth * s_borr[m])),
                    "above10m_balance": round(above10m * (1 + 0.06 * s_total[m]) * wobble["above10m"][m], 2),
                    "guaranteed_balance": round(inc * guar_share * (1 + 0.1 * share_progress) * wobble["guar"][m], 2),
                    "scitech_balance": round(inc * sci_share * (1 + 0.1 * share_progress) * wobble["sci"][m], 2),
                }
                if inst.category == VILLAGE_BANK:
                    row["bill_discount_balance"] = 0.0  # village banks do no bill business
                year_rows.append(row)
            _file_like_a_bank(inst.institution_id, year, year_rows, rough)
            monthly += year_rows
            total, inclusive, borrowers = total_path[-1], incl_path[-1], borr_path[-1]
            credit_share += credit_step if not (scenario == "first_loan_falling" and is_last) else -credit_step
            indiv_balance *= 1 + indiv_growth
            indiv_borrowers *= 1 + indiv_growth
            renewal_share += rng.uniform(0.005, 0.015)
            mfg_share *= 1.05
            guar_share *= 1.1
            sci_share *= 1.1
            above10m *= 1.06
    return pd.DataFrame(monthly), pd.DataFrame(plans)


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


def _insurer_rows(rng, inst, scenario: str, years: list[int], periods: list[pd.Timestamp]) -> list[dict]:
    life = inst.category == LIFE_INSURER
    premium = rng.uniform(500, 5_000) if life else rng.uniform(2_000, 15_000)
    policies_per_premium = rng.uniform(2, 5) if life else rng.uniform(3, 8)  # 件 per 万元
    insured_per_premium = rng.uniform(30, 80) if life else rng.uniform(300, 800)
    loss_ratio = rng.uniform(0.15, 0.30) if life else rng.uniform(0.45, 0.65)
    shape = np.array([2.2, 1.0, 1.3, 0.9, 0.8, 1.0, 0.8, 0.8, 0.9, 0.8, 0.7, 0.8]) if life else _DISBURSE_SHAPE
    rows = []
    for year in years:
        growth = rng.uniform(0.06, 0.12)
        insured_growth = growth
        if scenario == "premium_falling" and year == years[-1]:
            growth = insured_growth = -0.12
        if scenario == "sum_insured_falling" and year == years[-1]:
            insured_growth = -0.15
        if year > years[0]:
            premium *= 1 + growth
            insured_per_premium *= (1 + insured_growth) / (1 + growth)
        s = _cumulative_shape(rng, shape, noise=0.1)
        s_claims = _cumulative_shape(rng, np.ones(12), noise=0.2)
        for m in range(12):
            rows.append(
                {
                    "institution_id": inst.institution_id,
                    "period": periods[(year - years[0]) * 12 + m],
                    "premium_ytd": round(premium * s[m], 2),
                    "policies_ytd": round(premium * s[m] * policies_per_premium),
                    "sum_insured_ytd": round(premium * s[m] * insured_per_premium, 2),
                    "claims_paid_ytd": round(premium * loss_ratio * s_claims[m], 2),
                }
            )
    return rows


def _onlending_frame(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
        for quarter in range(1, 5):
            rate = 5.6 - 0.25 * (year - FIRST_YEAR) + rng.normal(0, 0.08)
            if year == FIRST_YEAR + YEARS - 1 and quarter == 3:
                rate = 8.9  # planted: end borrowers paid more than local village and rural banks
            rows.append(
                {
                    "institution_id": "B001",
                    "quarter": f"{year}Q{quarter}",
                    "onlending_amount": round(rng.uniform(8_000, 20_000), 2),
                    "end_borrower_rate": round(rate, 2),
                }
            )
    return pd.DataFrame(rows)


def demo_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The demo tables with English column names, in memory."""
    rng = np.random.default_rng(seed)
    institutions = institutions_frame()
    monthly, plans = _generate(rng, institutions)
    columns = [c.name for c in MONTHLY.columns]
    monthly = monthly.reindex(columns=columns)
    return {"institutions": institutions, "monthly": monthly, "plans": plans, "onlending": _onlending_frame(rng)}


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


def qualitative_frame(institutions: pd.DataFrame, year: int, seed: int = SEED) -> pd.DataFrame:
    """Analyst-style qualitative scores for the banks under the scoring table (demo only).

    Point ranges follow params/scoring-<year>.yaml; the evidence texts are fictional.
    """
    from analysis.rules.scoring import load_scoring, scoring_path
    from analysis.state import project_root

    table = load_scoring(scoring_path(project_root() / "params", year))
    rng = np.random.default_rng(seed + year)
    rows = []
    banks = institutions[institutions["category"].isin(table.categories)]
    for inst in banks.itertuples(index=False):
        planted = SCENARIOS.get(inst.institution_id, "")
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


def write_demo_data(out_dir: Path | str, seed: int = SEED, fmt: str = "xlsx") -> Path:
    """Write the demo jurisdiction to ``out_dir`` atomically (a finished folder or nothing).

    ``fmt`` is ``xlsx`` (Chinese headers, as analysts receive them), ``csv`` or ``parquet``.
    """
    out_dir = Path(out_dir)
    tables = demo_tables(seed)
    specs = {"institutions": INSTITUTIONS, "monthly": MONTHLY, "plans": PLANS, "onlending": ONLENDING}
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
        last_year = FIRST_YEAR + YEARS - 1
        qualitative = qualitative_frame(tables["institutions"], last_year, seed)
        if fmt == "xlsx":
            _write_xlsx(qualitative, staging / f"定性评分-{last_year}.xlsx", "定性评分")
        else:
            qualitative.to_csv(staging / f"定性评分-{last_year}.csv", index=False, encoding="utf-8-sig")
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
