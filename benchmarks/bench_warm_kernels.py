"""Per-report seconds of the batch with a fresh kernel per report (papermill's default, today's
engine) against one warm kernel per worker, on the same institutions, HTML only, one run.

    python benchmarks/bench_warm_kernels.py --data data/demo --period 2023-12 --n 6
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from analysis.batch import BatchRequest, run
from analysis.state import load_state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/demo")
    parser.add_argument("--params", default="params")
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    state = load_state(args.data, args.params)
    ind = state.indicators
    ids = sorted(ind.loc[ind["sector"] == "bank", "institution_id"].unique())[: args.n]
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ANALYSIS_CACHE_DIR", str(Path(tmp) / "cache"))
        # warm the state and model caches once so neither variant pays for them
        run(
            BatchRequest(
                args.period,
                data_dir=args.data,
                params_dir=args.params,
                reports_dir=Path(tmp) / "w",
                institutions=ids[:1],
                include_overview=False,
                formats=("html",),
                progress=False,
            )
        )
        for label, warm in (("fresh kernel per report", False), ("warm kernel per worker", True)):
            start = time.perf_counter()
            summary = run(
                BatchRequest(
                    args.period,
                    data_dir=args.data,
                    params_dir=args.params,
                    reports_dir=Path(tmp) / label.split()[0],
                    institutions=ids,
                    include_overview=False,
                    formats=("html",),
                    progress=False,
                    workers=args.workers,
                    warm_kernels=warm,
                    force=True,
                )
            )
            assert not summary.failed, summary.failed
            times[label] = (time.perf_counter() - start) / len(ids)
            print(f"{label}: {times[label]:.2f} s/report ({len(ids)} reports, {args.workers} worker(s))", flush=True)
    fresh, warm = times["fresh kernel per report"], times["warm kernel per worker"]
    print(f"ratio fresh/warm: {fresh / warm:.2f}x")


if __name__ == "__main__":
    main()
