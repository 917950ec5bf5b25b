"""Benchmark: loan-level recompute + reconcile + checks on a province-sized table (10^7 receipts).

Generates EAST-shaped receipts, customers and credit lines as Parquet, written in chunks (the
generator never holds the whole table), then times :func:`analysis.inputs.loans.analyse_loans` with
DuckDB limited to the given threads and memory, sampling the process's peak resident memory.

    .venv/bin/python benchmarks/bench_loans.py --rows 10000000 --threads 2 --memory-limit 3GB

Goal (issue 10): under 60 s and under 4 GiB on 2 cores for 10^7 receipts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000


def generate(folder: Path, rows: int, banks: int = 100, seed: int = 1) -> None:
    """Receipts (``rows``), customers (rows ÷ 2) and one line per customer, in Parquet chunks."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_cust = max(rows // 2, 1)
    data_date = np.datetime64("2023-12-31")
    year_start = np.datetime64("2023-01-01")
    writers: dict[str, pq.ParquetWriter] = {}

    def write(name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if name not in writers:
            writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema)
        writers[name].write_table(table)

    for start in range(0, n_cust, CHUNK):
        k = min(CHUNK, n_cust - start)
        ids = np.arange(start, start + k)
        bank = ids % banks
        cust = pd.Series(ids).map("{:012d}".format).radd("9141")
        kind = rng.choice(["企业", "个体工商户", "小微企业主"], k, p=[0.5, 0.4, 0.1])
        write(
            "customers",
            pd.DataFrame(
                {
                    "bank_id": pd.Series(bank).map("B{:03d}".format),
                    "customer_id": cust,
                    "customer_type": kind,
                    "enterprise_size": np.where(
                        kind == "企业", rng.choice(["小型", "微型", "中型"], k, p=[0.4, 0.5, 0.1]), None
                    ),
                    "region": "411302",
                    "industry": rng.choice(list("ACEFGHI"), k),
                    "founding_date": data_date - rng.integers(100, 7000, k).astype("timedelta64[D]"),
                    "first_credit_month": "2015-01",
                    "equity_transfer_date": np.where(
                        rng.random(k) < 0.01, data_date - np.timedelta64(90, "D"), np.datetime64("NaT")
                    ).astype("datetime64[D]"),
                }
            ),
        )
        write(
            "credit_lines",
            pd.DataFrame(
                {
                    "bank_id": pd.Series(bank).map("B{:03d}".format),
                    "customer_id": cust,
                    "line_amount": np.round(rng.lognormal(13.5, 1.2, k), -3),
                    "line_start": np.datetime64("2019-01-01"),
                    "line_end": np.datetime64("2026-12-31"),
                }
            ),
        )
    for start in range(0, rows, CHUNK):
        k = min(CHUNK, rows - start)
        cid = rng.integers(0, n_cust, k)
        amount = np.round(rng.lognormal(12.5, 1.0, k), 2)
        disbursed = np.where(
            rng.random(k) < 0.5,
            year_start + rng.integers(0, 365, k).astype("timedelta64[D]"),
            year_start - rng.integers(1, 1000, k).astype("timedelta64[D]"),
        )
        npl = rng.random(k) < 0.03
        write(
            "receipts",
            pd.DataFrame(
                {
                    "data_date": data_date,
                    "bank_id": pd.Series(cid % banks).map("B{:03d}".format),
                    "receipt_id": pd.Series(np.arange(start, start + k)).map("JJ{:011d}".format),
                    "customer_id": pd.Series(cid).map("{:012d}".format).radd("9141"),
                    "contract_id": "HT",
                    "subject": np.where(rng.random(k) < 0.05, "130101", "130301"),
                    "amount": amount,
                    "balance": np.round(amount * rng.uniform(0, 1, k), 2),
                    "five_class": np.where(npl, "次级", np.where(rng.random(k) < 0.05, "关注", "正常")),
                    "disbursement_date": disbursed.astype("datetime64[D]"),
                    "maturity_date": (disbursed + rng.integers(90, 1100, k).astype("timedelta64[D]")).astype(
                        "datetime64[D]"
                    ),
                    "rate": np.round(rng.normal(5.5, 1.0, k), 4),
                    "purpose_area": "411302",
                    "purpose_industry": "C",
                    "disbursement_type": rng.choice(
                        ["新增", "借新还旧", "重组", "无还本续贷"], k, p=[0.8, 0.08, 0.02, 0.10]
                    ),
                    "overdue_days": np.where(npl, rng.integers(91, 600, k), np.where(rng.random(k) < 0.002, 120, 0)),
                    "guarantee_type": rng.choice(["信用", "抵押", "保证", "质押"], k),
                }
            ),
        )
    for writer in writers.values():
        writer.close()


class PeakMemory:
    """Peak resident memory of this process (DuckDB runs in-process), sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    from analysis.inputs.loans import analyse_loans

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-loans-"))
    try:
        if not (folder / "receipts.parquet").exists():
            t = time.perf_counter()
            generate(folder, args.rows)
            print(
                f"generated {args.rows:,} receipts in {time.perf_counter() - t:.1f} s "
                f"({sum(p.stat().st_size for p in folder.glob('*.parquet')) / 2**20:.0f} MiB Parquet)"
            )
        reported = pd.DataFrame(
            {
                "institution_id": pd.Series(dtype=str),
                "period": pd.Series(dtype="datetime64[ns]"),
                "cell": pd.Series(dtype=str),
                "value_wan": pd.Series(dtype=float),
            }
        )
        base = psutil.Process().memory_info().rss
        with PeakMemory() as mem:
            t = time.perf_counter()
            findings = analyse_loans(
                folder, reported, threads=args.threads, memory_limit=args.memory_limit, temp_dir=folder / "duckdb-tmp"
            )
            total = time.perf_counter() - t
        print(f"rows={args.rows:,} threads={args.threads} memory_limit={args.memory_limit}")
        for step, seconds in findings.timings.items():
            print(f"  {step:<10} {seconds:7.1f} s")
        print(f"  total      {total:7.1f} s   peak RSS {mem.peak / 2**30:.2f} GiB (at start {base / 2**30:.2f} GiB)")
        print(
            f"  cells {len(findings.recomputed):,}; findings: "
            + ", ".join(f"{k} {len(v):,}" for k, v in findings.checks.items())
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
