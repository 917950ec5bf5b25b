"""Benchmark (`make benchmark`): a full period through `analysis run` against its floor, one run.

(b) `analysis run` of every report of the period (all institutions + the city overview, HTML +
    PDF, `--force`, a fresh reports folder, from a warm cache as `make demo` leaves it): wall seconds.
floor: the CPU time of the work no engine can avoid, measured in this one process, report after
    report, on the notebooks (b) executed:
    - the report's charts: every code cell whose value is a figure, re-run here in an IPython shell
      (its display formatter draws and encodes the PNG, as the kernel's does);
    - the nbconvert HTML export of the executed notebook (``analysis.outputs.html``);
    - the WeasyPrint PDF of that HTML with its cover (``analysis.outputs.pdf.report_pdf``);
    summed over the reports and divided by the cores (b) used.

Also printed: the notebooks' other cells (context, tables, text: real work, but not counted in the
floor), the in-process plan (validation from the cache, fingerprints), (b)'s CPU seconds over its
whole process tree (``getrusage(RUSAGE_CHILDREN)``: unlike its wall time, not moved by other load
on the machine) and what is left of them: kernel start and reset, papermill, nbformat, the worker
pipes. The ratio (b) ÷ floor, wall time over the floor, is the **last line** (target ≤ 1.5).

    python benchmarks/bench_floor.py --data data/demo --period 2023-12 [--workers N] [--limit N]

``--limit N`` takes the overview and the first N institutions (a quick look; the figure for the
README is the full period).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import ROOT, _mb, analysis_run, child_env, warm_cache  # noqa: E402  (sets BLAS threads, src path)


def cell_seconds(notebook) -> tuple[float, float, int]:
    """Re-run ``notebook``'s code cells here: CPU seconds of the chart cells, of the other cells, and
    the number of charts. Fails loudly if a cell fails (the floor must be of a working report)."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    charts = other = 0.0
    n_charts = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        start = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            result = shell.run_cell(cell.source, store_history=False)
        seconds = time.process_time() - start
        result.raise_error()
        if isinstance(result.result, Figure):
            charts += seconds
            n_charts += 1
        else:
            other += seconds
    return charts, other, n_charts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--params", type=Path, default=ROOT / "params")
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--workers", type=int, default=None, help="`analysis run --workers` (default: all cores)")
    parser.add_argument("--limit", type=int, default=None, help="only the overview and the first N institutions")
    args = parser.parse_args()

    import nbformat

    from analysis.batch import BatchRequest, default_workers, plan
    from analysis.outputs.html import notebook_to_html
    from analysis.outputs.pdf import report_pdf

    scratch = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    try:
        env = child_env(ROOT / "src", scratch / "cache")
        os.environ["ANALYSIS_CACHE_DIR"] = env["ANALYSIS_CACHE_DIR"]
        warm_cache(ROOT / "src", ROOT, args.data, args.params, args.period, env)

        start = time.process_time()
        request = BatchRequest(args.period, data_dir=args.data, params_dir=args.params, reports_dir=scratch / "plan")
        planned = plan(request)
        plan_cpu = time.process_time() - start
        jobs = planned.jobs
        if args.limit is not None:
            jobs = [j for j in jobs if j.key == "overview"] + [j for j in jobs if j.key != "overview"][: args.limit]
        ids = None if args.limit is None else [j.key for j in jobs if j.key != "overview"]
        cores = args.workers or default_workers()
        print(
            f"{len(jobs)} reports of {args.period} (overview + {len(jobs) - 1} institutions), HTML + PDF; "
            f"{os.cpu_count()} cores, {cores} workers",
            flush=True,
        )

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        batch = analysis_run(ROOT, scratch / "reports", args.data, args.params, args.period, ids, args.workers, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of the whole process tree (workers, kernels: every descendant is waited for by its parent)
        batch_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"  (b) analysis run: {batch.seconds:.1f} s wall, {batch_cpu:.1f} CPU s, peak {_mb(batch.peak_bytes)}",
            flush=True,
        )

        out = scratch / "reports" / f"{planned.out_dir.name}"
        charts = html = pdf = other = 0.0
        n_charts = 0
        for i, job in enumerate(jobs, 1):
            notebook = nbformat.read(str(out / "notebooks" / f"{job.key}.ipynb"), as_version=4)
            with contextlib.chdir(ROOT):  # the notebooks' paths are relative to the project folder
                c, o, n = cell_seconds(notebook)
            charts, other, n_charts = charts + c, other + o, n_charts + n
            start = time.process_time()
            text = notebook_to_html(notebook, title=job.title, footer=planned.settings.footer)
            html += time.process_time() - start
            start = time.process_time()
            report_pdf(text, scratch / "floor.pdf", **job.cover)
            pdf += time.process_time() - start
            if i % 10 == 0 or i == len(jobs):
                print(f"  floor measured for {i}/{len(jobs)} reports", flush=True)

        n = len(jobs)
        floor_cpu = charts + html + pdf
        floor = floor_cpu / cores
        core_seconds = batch.seconds * cores
        rest = batch_cpu - floor_cpu - other - plan_cpu
        print(
            f"\nwhere (b)'s {batch_cpu:.1f} CPU seconds go ({core_seconds:.1f} core-seconds of wall time: "
            f"{cores} cores × {batch.seconds:.1f} s; the difference is idle or taken by other processes):"
        )
        print(f"  charts ({n_charts}, drawn and encoded)   {charts:8.1f} CPU s  {charts / n:5.2f} per report  floor")
        print(f"  HTML export (nbconvert)          {html:8.1f} CPU s  {html / n:5.2f} per report  floor")
        print(f"  PDF (WeasyPrint)                 {pdf:8.1f} CPU s  {pdf / n:5.2f} per report  floor")
        print(f"  other notebook cells             {other:8.1f} CPU s  {other / n:5.2f} per report  (not in the floor)")
        print(f"  plan (state from cache, jobs)    {plan_cpu:8.1f} CPU s")
        print(
            f"  the rest: kernel start and reset, papermill, nbformat, pipes {rest:8.1f} CPU s  {rest / n:5.2f} per report"
        )
        print(f"floor = {floor_cpu:.1f} CPU s ÷ {cores} cores = {floor:.1f} s")
        print(f"batch CPU ÷ floor CPU (not moved by other load on the machine): {batch_cpu / floor_cpu:.2f}x")
        print(f"batch ÷ floor, {n} reports: {batch.seconds:.1f} s ÷ {floor:.1f} s = {batch.seconds / floor:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
