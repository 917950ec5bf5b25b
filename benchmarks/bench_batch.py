"""Benchmark (`make benchmark`): the loop a user would write against `analysis run`, one run.

(a) the naive loop: for each report, the `papermill` CLI, then `jupyter nbconvert --to html
    --no-input`, then the `weasyprint` CLI on that HTML — one after the other;
(b) `analysis run` with HTML + PDF on the same reports (`--force`, a fresh reports folder).

Both start from the same warm cache (validated state and fitted models, as `make demo` leaves
them), with one BLAS thread per process, and make the same reports: the city overview and
``--institutions`` institutions (default 8: 6 banks and 2 insurers). The ratio (a) ÷ (b) is
printed last. Every run is a subprocess tree; its peak memory is the sum of the resident memory
of the process and all its children (kernels, workers), sampled every 0.2 s with psutil.

Options:
  --province N           also a synthetic province (analysis.demo.province) of N/2 and N institutions
                         through `analysis run`: seconds per report and peak memory at both sizes
                         (cost should grow linearly: the time ratio near the report ratio)
  --baseline-commit REV  also (b) on a git worktree of REV (an older engine), same reports, same run
  --skip-loop            leave out (a) (with --baseline-commit: the two engines only)

    python benchmarks/bench_batch.py --data data/demo --period 2023-12 [--institutions 8]
        [--workers N] [--province 600] [--baseline-commit HEAD~10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads (nothing above imports it); subprocesses inherit it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's package, whatever the venv was installed from
BIN = Path(sys.executable).parent
NOTEBOOK_FILES = {
    "bank": "institution_report.ipynb",
    "insurer": "insurer_report.ipynb",
    "overview": "city_overview.ipynb",
}


@dataclass
class Timing:
    seconds: float = 0.0
    peak_bytes: int = 0
    steps: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, seconds: float, peak: int) -> None:
        self.seconds += seconds
        self.steps[step] = self.steps.get(step, 0.0) + seconds
        self.peak_bytes = max(self.peak_bytes, peak)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child that just ended
            total += p.memory_info().rss
    return total


def run_measured(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Run ``cmd``; its wall seconds and the peak summed RSS of it and its children. Exits on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, _tree_rss(ps))
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(
            f"failed ({proc.returncode}): {' '.join(cmd)}\n{out.decode(errors='replace')[-3000:]}"
            f"{err.decode(errors='replace')[-3000:]}"
        )
    return seconds, peak


def child_env(src: Path, cache: Path) -> dict[str, str]:
    """The environment of every run: this checkout's package first, its own warm cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH", "")])])
    env["ANALYSIS_CACHE_DIR"] = str(cache)
    return env


def warm_cache(src: Path, cwd: Path, data: Path, params: Path, period: str, env: dict[str, str]) -> None:
    """Validated state and fitted models in the cache, as `make demo` leaves them, computed by the
    checkout under test (its own code fingerprint), and a check that it is that checkout that runs."""
    code = (
        "import sys, analysis\n"
        "from pathlib import Path\n"
        f"assert Path(analysis.__path__[0]).resolve() == Path({str(src / 'analysis')!r}).resolve(), analysis.__path__\n"
        "from analysis.state import load_state\n"
        "from analysis.core.periods import parse_period\n"
        f"state = load_state({str(data)!r}, {str(params)!r})\n"
        "try:\n"
        "    from analysis.models import load_models\n"
        "except ImportError:\n"
        "    sys.exit(0)\n"
        f"if (Path({str(params)!r}) / 'models.yaml').exists():\n"
        f"    load_models(state, parse_period({period!r}))\n"
    )
    run_measured([sys.executable, "-c", code], cwd=cwd, env=env)


def pick_institutions(data: Path, params: Path, period: str, n: int) -> list[tuple[str, str]]:
    """(id, sector) of n institutions with figures for the period: three banks to one insurer."""
    from analysis.core.periods import parse_period
    from analysis.state import load_state

    ind = load_state(data, params).indicators
    rows = ind[ind["period"] == parse_period(period)]
    banks = rows.loc[rows["sector"] == "bank", "institution_id"].tolist()
    insurers = rows.loc[rows["sector"] == "insurer", "institution_id"].tolist()
    n_ins = min(len(insurers), max(1, n // 4)) if n > 1 else 0
    chosen = [(i, "bank") for i in banks[: n - n_ins]] + [(i, "insurer") for i in insurers[:n_ins]]
    return chosen


def naive_loop(
    reports: list[tuple[str, str]], out: Path, data: Path, params: Path, period: str, env: dict[str, str]
) -> Timing:
    """(a) what a user would write: three commands per report, one report after another."""
    timing = Timing()
    out.mkdir(parents=True)
    for key, sector in reports:
        nb_out = out / f"{key}.ipynb"
        extra = [] if key == "overview" else ["-p", "institution_id", key]
        timing.add(
            "papermill",
            *run_measured(
                [
                    str(BIN / "papermill"),
                    str(ROOT / "notebooks" / NOTEBOOK_FILES[sector]),
                    str(nb_out),
                    *extra,
                    "-p",
                    "period",
                    period,
                    "-p",
                    "data_dir",
                    str(data),
                    "-p",
                    "params_dir",
                    str(params),
                    "--cwd",
                    str(ROOT),
                    "--no-progress-bar",
                    "--log-level",
                    "ERROR",
                ],
                cwd=ROOT,
                env=env,
            ),
        )
        timing.add(
            "nbconvert",
            *run_measured(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb_out)], cwd=ROOT, env=env
            ),
        )
        timing.add(
            "weasyprint",
            *run_measured(
                [str(BIN / "weasyprint"), str(nb_out.with_suffix(".html")), str(nb_out.with_suffix(".pdf"))],
                cwd=ROOT,
                env=env,
            ),
        )
    return timing


def analysis_run(
    checkout: Path,
    reports_dir: Path,
    data: Path,
    params: Path,
    period: str,
    ids: list[str] | None,
    workers: int | None,
    env: dict[str, str],
) -> Timing:
    """(b) `analysis run` with HTML + PDF, from ``checkout`` (this one or a baseline worktree)."""
    cmd = [
        str(BIN / "analysis"),
        "run",
        "--period",
        period,
        "--data",
        str(data),
        "--params",
        str(params),
        "--reports",
        str(reports_dir),
        "--force",
        "--quiet",
    ]
    for iid in ids or []:
        cmd += ["--institution", iid]
    if workers:
        cmd += ["--workers", str(workers)]
    timing = Timing()
    timing.add("analysis run", *run_measured(cmd, cwd=checkout, env=env))
    return timing


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--params", type=Path, default=ROOT / "params")
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--institutions", type=int, default=8, help="institutions in (a) and (b) (default 8)")
    parser.add_argument("--workers", type=int, default=None, help="`analysis run --workers` (default: all cores)")
    parser.add_argument(
        "--province",
        type=int,
        default=0,
        metavar="N",
        help="also a synthetic province of N/2 and N institutions through the batch (e.g. 600)",
    )
    parser.add_argument(
        "--baseline-commit",
        default=None,
        metavar="REV",
        help="also time (b) on a git worktree of this commit, in the same run",
    )
    parser.add_argument(
        "--skip-loop",
        action="store_true",
        help="leave out (a): with --baseline-commit, only this engine against the older one",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the outputs here instead of a temporary folder")
    args = parser.parse_args()

    data, params = args.data.resolve(), args.params.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="bench-batch-")) if args.keep is None else args.keep.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    baseline_dir = scratch / "baseline-checkout"
    lines: list[str] = []
    try:
        if not data.exists():
            from analysis.demo.jurisdiction import write_demo_data

            data = write_demo_data(scratch / "demo-data")
        env = child_env(ROOT / "src", scratch / "cache")
        os.environ["ANALYSIS_CACHE_DIR"] = env["ANALYSIS_CACHE_DIR"]
        warm_cache(ROOT / "src", ROOT, data, params, args.period, env)
        chosen = pick_institutions(data, params, args.period, args.institutions)
        ids = [i for i, _ in chosen]
        reports = [("overview", "overview"), *chosen]
        n = len(reports)
        n_banks = sum(s == "bank" for _, s in chosen)
        print(
            f"reports: {n} = overview + {n_banks} banks + {len(chosen) - n_banks} insurers ({', '.join(ids)}); "
            f"period {args.period}; {os.cpu_count()} cores; workers: {args.workers or 'default'}",
            flush=True,
        )

        if args.province:
            sizes = sorted({max(1, args.province // 2), args.province})
            from analysis.demo.province import write_province_data

            rows = []
            for size in sizes:
                prov = write_province_data(scratch / f"province-{size}", size)
                t = analysis_run(
                    ROOT, scratch / f"province-{size}-reports", prov, params, args.period, None, args.workers, env
                )
                rows.append((size, t))
                print(f"  province {size}: {t.seconds:.1f} s", flush=True)
            lines.append("synthetic province through `analysis run` (HTML + PDF, models fitted, cold cache):")
            for size, t in rows:
                lines.append(
                    f"  {size:5d} institutions + overview: {t.seconds:8.1f} s  "
                    f"{t.seconds / (size + 1):6.2f} s/report  peak memory {_mb(t.peak_bytes)}"
                )
            if len(rows) == 2:
                (s1, t1), (s2, t2) = rows
                lines.append(
                    f"  growth: {(s2 + 1) / (s1 + 1):.2f}x the reports took {t2.seconds / t1.seconds:.2f}x "
                    f"the time and {t2.peak_bytes / max(t1.peak_bytes, 1):.2f}x the peak memory"
                )

        if args.baseline_commit:
            rev = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short=12", args.baseline_commit],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(baseline_dir), rev],
                check=True,
                capture_output=True,
            )
            init = baseline_dir / "src" / "analysis" / "__init__.py"
            if not init.exists():  # an old namespace package would be shadowed by the installed one
                init.write_text("")
            base_env = child_env(baseline_dir / "src", scratch / "cache-baseline")
            # an older engine reads its own parameter files and its own demo data (their formats
            # change between versions): the same period and institution ids, each engine's inputs
            base_params = baseline_dir / "params"
            base_data = scratch / "baseline-data"
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"from analysis.demo.jurisdiction import write_demo_data; write_demo_data({str(base_data)!r})",
                ],
                cwd=baseline_dir,
                env=base_env,
                check=True,
                capture_output=True,
            )
            warm_cache(baseline_dir / "src", baseline_dir, base_data, base_params, args.period, base_env)
            base = analysis_run(
                baseline_dir,
                scratch / "baseline-reports",
                base_data,
                base_params,
                args.period,
                ids,
                args.workers,
                base_env,
            )
            print(f"  baseline {rev}: {base.seconds:.1f} s", flush=True)

        loop = None
        if not args.skip_loop:
            loop = naive_loop(reports, scratch / "loop", data, params, args.period, env)
            print(f"  (a) naive loop: {loop.seconds:.1f} s", flush=True)
        batch = analysis_run(ROOT, scratch / "batch-reports", data, params, args.period, ids, args.workers, env)
        print(f"  (b) analysis run: {batch.seconds:.1f} s", flush=True)

        if loop is not None:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in loop.steps.items())
            lines.append(
                f"(a) naive loop, papermill + nbconvert + weasyprint CLIs: {loop.seconds:8.1f} s  "
                f"{loop.seconds / n:6.2f} s/report  peak {_mb(loop.peak_bytes)}  ({steps})"
            )
        if args.baseline_commit:
            lines.append(
                f"(b) analysis run at {rev} (baseline):       {base.seconds:8.1f} s  "
                f"{base.seconds / n:6.2f} s/report  peak {_mb(base.peak_bytes)}"
            )
            lines.append(f"    this engine against the baseline: {base.seconds / batch.seconds:.2f}x faster")
        lines.append(
            f"(b) analysis run, HTML + PDF:                             {batch.seconds:8.1f} s  "
            f"{batch.seconds / n:6.2f} s/report  peak {_mb(batch.peak_bytes)}"
        )
        if loop is not None:
            lines.append(f"speed-up (a) ÷ (b), {n} reports: {loop.seconds / batch.seconds:.2f}x")
        print("\n".join(lines))
    finally:
        if baseline_dir.exists():
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline_dir)],
                check=False,
                capture_output=True,
            )
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
