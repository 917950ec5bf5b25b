"""Benchmark: `analysis run` against a plain sequential loop of `papermill` then `jupyter nbconvert`
commands over the same institutions (run on demand: `make benchmark`).

    python benchmarks/bench_batch.py --data data/demo --period 2023-12 [--limit 10] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.batch import NOTEBOOK_FILES, run_batch
from analysis.state import load_state, project_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/demo"))
    parser.add_argument("--params", type=Path, default=Path("params"))
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--limit", type=int, default=10, help="institutions to run (0 = all)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    root = project_root()
    state = load_state(args.data, args.params)
    rows = state.indicators[state.indicators["period"] == state.indicators["period"].max()]
    ids = rows["institution_id"].tolist()
    if args.limit:
        # a mix of banks and insurers, as in a real run
        banks = [i for i in ids if i.startswith("B")]
        insurers = [i for i in ids if i.startswith("I")]
        n_ins = max(1, args.limit // 4)
        ids = banks[: args.limit - n_ins] + insurers[:n_ins]
    bin_dir = Path(sys.executable).parent

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["ANALYSIS_CACHE_DIR"] = str(tmp / "cache")
        load_state(args.data, args.params)  # warm the cache, as `make demo` leaves it
        start = time.perf_counter()
        summary = run_batch(args.period, data_dir=args.data, params_dir=args.params, reports_dir=tmp / "batch",
                            institutions=ids, workers=args.workers, force=True, progress=False, formats=("html",))
        batch_s = time.perf_counter() - start
        assert not summary.failed, summary.failed

        # the PDF step on its own: WeasyPrint on each exported HTML, one process
        from analysis.pdf import report_pdf

        html_files = sorted((tmp / "batch" / args.period).glob("*.html"))
        start = time.perf_counter()
        for html in html_files:
            report_pdf(html.read_text(encoding="utf-8"), html.with_suffix(".pdf"), title="小微企业金融服务监管评价报告",
                       name=html.stem, period_label=args.period, office="南阳银保监分局", issued="—")
        pdf_s = time.perf_counter() - start

        start = time.perf_counter()
        full = run_batch(args.period, data_dir=args.data, params_dir=args.params, reports_dir=tmp / "full",
                         institutions=ids, workers=args.workers, force=True, progress=False)
        full_s = time.perf_counter() - start
        assert not full.failed, full.failed

        loop_dir = tmp / "loop"
        loop_dir.mkdir()
        sector = rows.set_index("institution_id")["sector"]
        jobs = [("overview", NOTEBOOK_FILES["overview"], [])]
        jobs += [(i, NOTEBOOK_FILES[sector[i]], ["-p", "institution_id", i]) for i in ids]
        start = time.perf_counter()
        for key, notebook, extra in jobs:
            out = loop_dir / f"{key}.ipynb"
            subprocess.run([str(bin_dir / "papermill"), str(root / "notebooks" / notebook), str(out), *extra,
                            "-p", "period", args.period, "-p", "data_dir", str(Path(args.data).resolve()),
                            "--cwd", str(root), "--no-progress-bar", "--log-level", "ERROR"],
                           check=True, capture_output=True)
            subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                           check=True, capture_output=True)
        loop_s = time.perf_counter() - start

    n = len(jobs)
    print(f"reports: {n} ({len(ids)} institutions + overview), workers: {args.workers or os.cpu_count()}")
    print(f"analysis run (parallel, HTML with the report template): {batch_s:7.1f} s  ({batch_s / n:.2f} s/report)")
    print(f"sequential papermill + jupyter nbconvert loop:          {loop_s:7.1f} s  ({loop_s / n:.2f} s/report)")
    print(f"speed-up: {loop_s / batch_s:.2f}x")
    print(f"PDF step alone (WeasyPrint, sequential): {pdf_s:7.1f} s  ({pdf_s / len(html_files):.2f} s/report)")
    print(f"analysis run with HTML + PDF (parallel):   {full_s:7.1f} s  ({full_s / n:.2f} s/report)")


if __name__ == "__main__":
    main()
