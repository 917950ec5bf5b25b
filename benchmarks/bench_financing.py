"""Benchmark: the financing coordination mechanism's checks and indicators on a province's lists
(issue 31, item 5): 10⁶ firm-and-bank rows of 推荐清单 and 银行反馈.

Generates the typed frames directly (as the loader hands them over: the cell conversion is the
contract's and is timed by the loading benchmarks), 2,000 banks over 150 counties, a year of lists,
with valid 统一社会信用代码, then times

(a) :func:`analysis.inputs.financing.check_financing` — check digits, the pairing of both tables,
    contradictions, date order, credit above need;
(b) :func:`analysis.rules.financing.financing_figures` — every figure per bank, county and city for
    the month and the year, verdicts, reasons ranked, every pair's status;
(c) the same flows and rates per bank and window in one DuckDB query over the pairs (the
    alternative measured for the choice of engine).

    .venv/bin/python benchmarks/bench_financing.py --rows 1000000

Goal: (a) + (b) in a few seconds on 2 cores. Results in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.core.errors import Issue
from analysis.core.financing import CREDIT_CODE_ALPHABET, CREDIT_CODE_WEIGHTS, DEFAULT_FINANCING_PARAMS
from analysis.core.policy import FinancingRule, Policy
from analysis.inputs.financing import check_financing
from analysis.rules.financing import financing_figures


class _Raw:
    """What check_financing needs of a RawTable: a source name and row numbers."""

    def __init__(self, source: str):
        self.source = source
        self.row_offset = 2

    def row_number(self, position) -> int:
        return int(position) + self.row_offset


def _codes(rng: np.random.Generator, n: int) -> np.ndarray:
    alphabet = np.array(list(CREDIT_CODE_ALPHABET))
    body = rng.integers(0, 31, size=(n, 17))
    body[:, 0], body[:, 1] = 9, 1
    check = (31 - (body * np.asarray(CREDIT_CODE_WEIGHTS)).sum(axis=1) % 31) % 31
    chars = alphabet[np.concatenate([body, check[:, None]], axis=1)]
    return np.array(["".join(r) for r in chars])


def frames(n: int, seed: int = 31) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    codes = _codes(rng, n)
    banks = np.array([f"B{i:04d}" for i in range(2000)])[rng.integers(0, 2000, n)]
    counties = np.array([f"41{i:04d}" for i in range(150)])[rng.integers(0, 150, n)]
    listed = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    need = np.round(rng.lognormal(4.6, 0.7, n), 2)
    lst = pd.DataFrame(
        {
            "firm_name": "企业",
            "credit_code": codes,
            "county_code": counties,
            "batch": "第1批",
            "list_date": listed,
            "institution_id": banks,
            "need_amount": need,
            "need_purpose": "流动资金",
            "from_visit": rng.random(n) < 0.7,
        }
    )
    contact = listed + pd.to_timedelta(rng.integers(1, 9, n), unit="D")
    decision = contact + pd.to_timedelta(rng.integers(2, 30, n), unit="D")
    granted = rng.random(n) < 0.7
    lent = granted & (rng.random(n) < 0.85)
    credit = np.where(granted, np.round(need * rng.uniform(0.5, 1.3, n), 2), np.nan)
    fb = pd.DataFrame(
        {
            "credit_code": codes,
            "institution_id": banks,
            "contact_date": contact,
            "credit_date": pd.Series(decision).where(granted),
            "credit_amount": credit,
            "loan_date": (pd.Series(decision) + pd.Timedelta(days=5)).where(lent),
            "loan_amount": np.where(lent, credit * 0.8, np.nan),
            "credit_loan": pd.Series(rng.random(n) < 0.33).where(lent),
            "no_repay_renewal": pd.Series(rng.random(n) < 0.1).where(lent),
            "first_loan": pd.Series(rng.random(n) < 0.2).where(lent),
            "refusal_date": pd.Series(decision).where(~granted),
            "refusal_reason": pd.Series(rng.choice(DEFAULT_FINANCING_PARAMS.refusal_reasons[:-1], n)).where(~granted),
            "refusal_note": None,
        }
    )
    return lst, fb


def duckdb_figures(pairs: pd.DataFrame, end: pd.Timestamp, days: int) -> pd.DataFrame:
    import duckdb

    start = pd.Timestamp(year=end.year, month=1, day=1)
    query = f"""
    SELECT institution_id,
      count(*) FILTER (WHERE list_date BETWEEN $start AND $end) AS pushed,
      count(*) FILTER (WHERE contact_date BETWEEN $start AND $end) AS contacted,
      count(*) FILTER (WHERE coalesce(credit_date, refusal_date) BETWEEN $start AND $end) AS decided,
      count(*) FILTER (WHERE credit_date BETWEEN $start AND $end) AS granted,
      sum(credit_amount) FILTER (WHERE credit_date BETWEEN $start AND $end) AS credit_amount,
      count(*) FILTER (WHERE loan_date BETWEEN $start AND $end) AS lent,
      sum(loan_amount) FILTER (WHERE loan_date BETWEEN $start AND $end) AS loan_amount,
      count(*) FILTER (WHERE list_date + INTERVAL {days} DAY BETWEEN $start AND $end) AS due,
      count(*) FILTER (WHERE list_date + INTERVAL {days} DAY BETWEEN $start AND $end
                       AND coalesce(credit_date, refusal_date) <= list_date + INTERVAL {days} DAY) AS in_time
    FROM pairs GROUP BY institution_id
    """
    con = duckdb.connect()
    con.register("pairs", pairs)
    return con.execute(query, {"start": start, "end": end}).df()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    policy = Policy(
        year=2025,
        notice="n",
        title="t",
        issuing_office="o",
        jurisdiction="某省",
        financing=FinancingRule(clause="c", contact_rate_min_pct=100.0, decided_within_min_pct=100.0),
    )
    for n in args.rows:
        lst, fb = frames(n)
        issues: list[Issue] = []
        started = time.perf_counter()
        tables = check_financing(_Raw("推荐清单.csv"), lst, _Raw("银行反馈.csv"), fb, DEFAULT_FINANCING_PARAMS, issues)
        checks = time.perf_counter() - started
        started = time.perf_counter()
        figures = financing_figures(tables, "2025-06", policy, DEFAULT_FINANCING_PARAMS)
        indicators = time.perf_counter() - started
        started = time.perf_counter()
        duck = duckdb_figures(tables.pairs, pd.Timestamp("2025-06-30"), 30)
        duck_seconds = time.perf_counter() - started
        ours = figures.summary[(figures.summary["level"] == "bank") & (figures.summary["window"] == "ytd")]
        assert int(duck["pushed"].sum()) == int(ours["pushed"].sum())
        assert int(duck["in_time"].sum()) == int(ours["due_decided_in_time"].sum())
        print(
            f"{n:>10,} rows: (a) checks {checks:5.2f} s, (b) indicators {indicators:5.2f} s "
            f"({len(figures.summary):,} scope rows, {int(figures.firms['overdue'].sum()):,} overdue), "
            f"(c) DuckDB flows per bank only {duck_seconds:5.2f} s; {len(issues)} issues"
        )


if __name__ == "__main__":
    main()
