"""One bank's notebook run top to bottom in a fresh kernel, as JupyterLab runs it, against the floor
an analyst cannot avoid: a fresh kernel that imports pandas, seaborn and statsmodels.

Three cases for the bank notebook: ``warm`` (the all-bank models cache written by the batch, as
after ``make demo``), ``cold-models`` (the state cache only: no models cache) and ``cold`` (no
cache at all). Each case starts from its own empty cache folder; rounds alternate the cases so a
busy machine slows them alike. Prints the median seconds and the ratio to the floor.

    python benchmarks/bench_interactive.py --data data/demo --institution B017 --period 2023-12
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]


def floor_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import pandas\nimport seaborn\nimport statsmodels.api")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def run(notebook: Path, out: Path, cache: Path, parameters: dict | None = None) -> float:
    os.environ["ANALYSIS_CACHE_DIR"] = str(cache)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=parameters or {},
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
    )
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--params", default=str(ROOT / "params"))
    ap.add_argument("--institution", default="B017")
    ap.add_argument("--period", default="2023-12")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data = str(Path(args.data).resolve())
    params = {
        "institution_id": args.institution,
        "period": args.period,
        "data_dir": data,
        "params_dir": str(Path(args.params).resolve()),
    }
    work = Path(tempfile.mkdtemp(prefix="bench-interactive-"))
    floor = floor_notebook(work / "floor.ipynb")
    bank = ROOT / "notebooks" / "institution_report.ipynb"

    # the caches the cases start from: the state alone, and the state with every bank's models
    state_only, full = work / "state-only", work / "full"
    for folder in (state_only, full):
        folder.mkdir(mode=0o700)
    os.environ["ANALYSIS_CACHE_DIR"] = str(full)
    from analysis.core.periods import parse_period
    from analysis.models import load_models
    from analysis.state import load_state

    state = load_state(data, params["params_dir"])
    load_models(state, parse_period(args.period))  # what `analysis run` leaves behind
    for file in full.glob("state-*"):
        shutil.copy2(file, state_only / file.name)

    times: dict[str, list[float]] = {"floor": [], "warm": [], "cold-models": [], "cold": []}
    for k in range(args.rounds):
        for case in times:
            cache = work / f"{case}-{k}"
            if case == "warm":
                shutil.copytree(full, cache)
            elif case == "cold-models":
                shutil.copytree(state_only, cache)
            else:
                cache.mkdir(mode=0o700)
            os.chmod(cache, 0o700)
            nb = floor if case == "floor" else bank
            times[case].append(run(nb, work / f"{case}-{k}.ipynb", cache, None if case == "floor" else params))
            print(f"round {k + 1} {case:12s} {times[case][-1]:6.1f} s", flush=True)
    base = statistics.median(times["floor"])
    print(f"floor (fresh kernel + pandas, seaborn, statsmodels): {base:.1f} s")
    for case in ("warm", "cold-models", "cold"):
        t = statistics.median(times[case])
        print(f"{args.institution} {args.period} {case:12s} {t:6.1f} s  = {t / base:.2f} x floor")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
