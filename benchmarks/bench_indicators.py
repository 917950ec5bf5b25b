"""Benchmark: all indicators for all demo institutions and all months (target: under 1 s).

Run on demand (`make benchmark`); not part of the test suite.
    python benchmarks/bench_indicators.py --data data/demo [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from analysis.core.policy import load_policies
from analysis.inputs.validation import load_dataset
from analysis.rules.indicators import citywide_figures, compute_indicators, onlending_indicators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/demo"))
    parser.add_argument("--params", type=Path, default=Path("params"))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    t0 = time.perf_counter()
    ds = load_dataset(args.data, args.params)
    load_s = time.perf_counter() - t0
    policies = load_policies(args.params)

    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        ind = compute_indicators(ds, policies)
        citywide_figures(ind, policies)
        onlending_indicators(ds, ind, policies)
        timings.append(time.perf_counter() - start)
    n_inst, n_periods = ds.monthly["institution_id"].nunique(), ds.monthly["period"].nunique()
    print(f"data: {n_inst} institutions x {n_periods} months = {len(ind)} rows, {ind.shape[1]} columns")
    print(f"load + validate (Excel): {load_s:.3f} s")
    print(
        f"all indicators + city-wide + on-lending: median {statistics.median(timings):.3f} s, "
        f"min {min(timings):.3f} s over {args.repeat} runs (target < 1 s)"
    )


if __name__ == "__main__":
    main()
