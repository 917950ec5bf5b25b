"""Benchmark: loan-level recompute + reconcile + checks on a province-sized EAST delivery (10^7 receipts).

Generates about 100 banks' EAST 5.0 tables (IE_002_203/201 customers, IE_005_504/503 receipts,
IE_005_501 contracts, IE_007_701 lines) as Parquet, one folder per bank written bank by bank (the
generator never holds the province), with the 报送机构编码对照 beside them. Then, in the same run, with
the same DuckDB threads and memory limit, it times

(a) the floor: one bare DuckDB pass any recomputation must make — the receipts read with their
    customer and contract columns joined, balance, amount and amount × rate summed by bank and customer;
(b) ``analysis loans`` end to end: :func:`analysis.inputs.loans.analyse_loans` (read and check the
    EAST files, recompute every S71 cell, reconcile, every check, coverage) and the findings
    workbooks as the command writes them, the city's and each bank's own in parallel (printed apart
    too: their cost follows the number of findings, not of receipts);

and prints both for every size side by side, the ratio (b) / (a) last. Peak resident memory is
sampled. The files are read once, untimed, before (a), so that both passes read from the page cache.

    .venv/bin/python benchmarks/bench_loans.py --rows 1000000 10000000 --threads 2 --memory-limit 3GB

Goal (issue 21): (b) ≤ 3 × (a), under 60 s and under 4 GiB on 2 cores for 10^7 receipts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

import duckdb
import numpy as np
import pandas as pd
import psutil

BANKS = 100


#: firms that borrow from several banks of the province (多头授信): this share of every bank's
#: customers, each firm at 2–5 banks (the cross-bank rule then matches and counts them by 证件号码)
SHARED_SHARE = 0.10
SHARED_BANKS = {2: 0.70, 3: 0.20, 4: 0.07, 5: 0.03}


def shared_firms(rng: np.random.Generator, customers: int, banks: int) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The firms held by several banks, and the rows of them each bank holds (drawn at random)."""
    at = rng.choice(list(SHARED_BANKS), int(customers * SHARED_SHARE / 2.43), p=list(SHARED_BANKS.values()))
    rank = rng.random((len(at), banks)).argsort(axis=1).argsort(axis=1)  # each bank's place in a firm's draw
    firms = pd.DataFrame(
        {
            "customer_id": pd.Series(np.arange(len(at))).map("9141P{:012d}".format),
            "customer_type": "企业",
            "enterprise_size": rng.choice(["小型", "微型"], len(at), p=[0.4, 0.6]),
            "founding_date": np.datetime64("2023-12-31") - rng.integers(100, 7000, len(at)).astype("timedelta64[D]"),
        }
    )
    return firms, [np.flatnonzero(rank[:, b] < at) for b in range(banks)]  # a firm is at its first `at` banks


def generate(folder: Path, rows: int, banks: int = BANKS, seed: int = 1) -> None:
    """Receipts (``rows``), customers (rows ÷ 2, a tenth of them firms also at other banks) and one
    line per customer at each bank, bank by bank, as EAST Parquet."""
    from analysis.demo.loans import demo_licence, east_tables, write_east

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data_date = np.datetime64("2023-12-31")
    year_start = np.datetime64("2023-01-01")
    firms, held = shared_firms(rng, rows // 2, banks)
    org = []
    for b in range(banks):
        bank_id = f"B{b + 1:03d}"
        org.append((demo_licence(bank_id), bank_id))
        n_rec = rows // banks + (1 if b < rows % banks else 0)
        k = max(n_rec // 2, 1)
        shared = firms.iloc[held[b]]
        own = max(k - len(shared), 1)
        kind = rng.choice(["企业", "个体工商户", "小微企业主"], own, p=[0.5, 0.4, 0.1])
        customers = pd.concat(
            [
                pd.DataFrame(
                    {
                        "customer_id": pd.Series(np.arange(own)).map(("9141" + bank_id + "{:09d}").format),
                        "customer_type": kind,
                        "enterprise_size": np.where(
                            kind == "企业", rng.choice(["小型", "微型"], own, p=[0.4, 0.6]), None
                        ),
                        "founding_date": data_date - rng.integers(100, 7000, own).astype("timedelta64[D]"),
                    }
                ),
                shared,
            ],
            ignore_index=True,
        ).assign(region="411302", industry=lambda f: rng.choice(list("ACEFGHI"), len(f)), first_credit_month="2015-01")
        k, cust = len(customers), customers["customer_id"]
        lines = pd.DataFrame(
            {
                "customer_id": cust,
                "line_amount": np.round(rng.lognormal(13.5, 1.2, k), -3),
                "line_start": np.datetime64("2019-01-01"),
                "line_end": np.datetime64("2026-12-31"),
            }
        )
        cid = rng.integers(0, k, n_rec)
        amount = np.round(rng.lognormal(12.5, 1.0, n_rec), 2)
        disbursed = np.where(
            rng.random(n_rec) < 0.5,
            year_start + rng.integers(0, 365, n_rec).astype("timedelta64[D]"),
            year_start - rng.integers(1, 1000, n_rec).astype("timedelta64[D]"),
        ).astype("datetime64[D]")
        npl = rng.random(n_rec) < 0.03
        receipt_ids = pd.Series(np.arange(n_rec)).map(("JJ" + bank_id + "{:09d}").format)
        receipts = pd.DataFrame(
            {
                "data_date": data_date,
                "receipt_id": receipt_ids,
                "customer_id": cust.to_numpy()[cid],
                "contract_id": "HT" + receipt_ids.str[2:],
                "subject": np.where(rng.random(n_rec) < 0.05, "130101", "130301"),
                "amount": amount,
                "balance": np.round(amount * rng.uniform(0, 1, n_rec), 2),
                "five_class": np.where(npl, "次级", np.where(rng.random(n_rec) < 0.05, "关注", "正常")),
                "disbursement_date": disbursed,
                "maturity_date": (disbursed + rng.integers(90, 1100, n_rec).astype("timedelta64[D]")),
                "rate": np.round(rng.normal(5.5, 1.0, n_rec), 4),
                "purpose_area": "411302",
                "purpose_industry": "C",
                "disbursement_type": rng.choice(
                    ["新增", "借新还旧", "重组", "无还本续贷"], n_rec, p=[0.8, 0.08, 0.02, 0.10]
                ),
                "overdue_days": np.where(
                    npl, rng.integers(91, 600, n_rec), np.where(rng.random(n_rec) < 0.002, 120, 0)
                ),
                "guarantee_type": rng.choice(["信用", "抵押", "保证", "质押"], n_rec),
            }
        )
        write_east(folder / bank_id, east_tables(bank_id, receipts, customers, lines, rng), ("code", "parquet"))
    pd.DataFrame(org, columns=["ORG_NUM", "机构编码"]).to_csv(
        folder / "报送机构编码对照.csv", index=False, encoding="utf-8-sig"
    )


FLOOR_SQL = """
SELECT r.JRXKZH, r.KHTYBH,
       sum(CAST(r.DKYE AS DOUBLE)) AS balance, sum(CAST(r.DKJE AS DOUBLE)) AS amount,
       sum(CAST(r.DKJE AS DOUBLE) * CAST(r.SJLL AS DOUBLE)) AS amount_rate, count(DISTINCT c.KHTYBH),
       count(k.DBLX)
FROM read_parquet('{f}/*/IE_005_50[34].parquet', union_by_name = true) r
JOIN read_parquet('{f}/*/IE_002_20[13].parquet', union_by_name = true) c USING (JRXKZH, KHTYBH)
LEFT JOIN read_parquet('{f}/*/IE_005_501.parquet') k ON k.JRXKZH = r.JRXKZH AND k.XDHTH = r.XDHTH
GROUP BY ALL
"""


def floor(folder: Path, threads: int, memory_limit: str, temp_dir: Path) -> int:
    """(a): the one pass every recomputation makes; returns the number of (bank, customer) groups."""
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}; SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{temp_dir}'; SET preserve_insertion_order = false")
    try:
        return con.execute(f"SELECT count(*) FROM ({FLOOR_SQL.format(f=folder)})").fetchone()[0]
    finally:
        con.close()


class PeakMemory:
    """Peak resident memory of this process (DuckDB runs in-process) and its children, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            rss = proc.memory_info().rss
            for child in proc.children(recursive=True):  # the processes writing the banks' workbooks
                try:
                    rss += child.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    from analysis.inputs.loans import (
        CITY_TABLES,
        analyse_loans,
        bank_folder,
        write_bank_workbooks,
        write_findings_xlsx,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--keep", type=Path, help="generate into (and keep, reuse) <keep>/<rows>")
    args = parser.parse_args()
    reported = pd.DataFrame(
        {
            "institution_id": pd.Series(dtype=str),
            "period": pd.Series(dtype="datetime64[ns]"),
            "cell": pd.Series(dtype=str),
            "value_wan": pd.Series(dtype=float),
        }
    )
    results = []
    for rows in args.rows:
        folder = (args.keep or Path(tempfile.mkdtemp(prefix="bench-loans-"))) / str(rows)
        try:
            if not (folder / "报送机构编码对照.csv").exists():
                t = time.perf_counter()
                generate(folder, rows)
                size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 2**20
                print(f"generated {rows:,} receipts ({BANKS} banks) in {time.perf_counter() - t:.1f} s, {size:.0f} MiB")
            tmp = folder / "duckdb-tmp"
            # both passes read from the page cache: the files are read once, untimed, first (a run
            # on files just copied in would otherwise charge the disk to whichever pass came first)
            for path in folder.rglob("*.parquet"):
                with path.open("rb") as f:
                    while f.read(1 << 24):
                        pass
            with PeakMemory() as floor_mem:
                t = time.perf_counter()
                groups = floor(folder, args.threads, args.memory_limit, tmp)
                floor_s = time.perf_counter() - t
            print(f"rows={rows:,} (a) floor {floor_s:.1f} s ({groups:,} bank × customer groups)")
            with PeakMemory() as mem:
                t = time.perf_counter()
                findings = analyse_loans(
                    folder,
                    reported,
                    threads=args.threads,
                    memory_limit=args.memory_limit,
                    temp_dir=tmp,
                    progress=lambda phase, s, e: print(f"    {phase:<26} {s:7.1f} s  (elapsed {e:6.1f} s)", flush=True),
                )
                analysed_s = time.perf_counter() - t
                # what `analysis loans` writes: the city workbook and each bank's own, in parallel
                write_findings_xlsx(findings, folder / "findings.xlsx", tables=CITY_TABLES)
                write_bank_workbooks(findings, bank_folder(folder / "findings.xlsx"), workers=args.threads)
                loans_s = time.perf_counter() - t
            oc = findings.checks["over_crediting"]
            print(
                f"rows={rows:,} (b) analysis loans {loans_s:.1f} s = checks {analysed_s:.1f} s + findings workbooks "
                f"{loans_s - analysed_s:.1f} s; cells {len(findings.recomputed):,}; "
                + ", ".join(f"{k} {len(v):,}" for k, v in findings.checks.items())
                + f" (of which at ≥ {findings.rules.raw['checks']['over_crediting']['min_banks']} banks: {int(oc['many_banks'].sum()):,})"
            )
            results.append((rows, floor_s, analysed_s, loans_s, max(floor_mem.peak, mem.peak), loans_s / floor_s))
        finally:
            if not args.keep:
                shutil.rmtree(folder.parent, ignore_errors=True)
    print(f"threads={args.threads} memory_limit={args.memory_limit}")
    print(
        f"{'receipts':>12} {'(a) floor s':>12} {'checks s':>9} {'(b) loans s':>12} {'peak GiB':>9} "
        f"{'checks/(a)':>10} {'(b)/(a)':>8}"
    )
    for rows, floor_s, analysed_s, loans_s, peak, ratio in results:
        print(
            f"{rows:>12,} {floor_s:>12.1f} {analysed_s:>9.1f} {loans_s:>12.1f} {peak / 2**30:>9.2f} "
            f"{analysed_s / floor_s:>10.2f} {ratio:>8.2f}"
        )


if __name__ == "__main__":
    main()
