"""End to end on Dask: a real report notebook executed by ``analysis.batch.run_job`` on a worker
of a LocalCluster, reading the state and models cached by this process through the shared
``ANALYSIS_CACHE_DIR``. Slow (a real kernel); `make test-fast` leaves it out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from analysis.batch import JobResult, plan_jobs, run_job
from analysis.cluster import run_on_cluster
from analysis.models import load_models
from analysis.periods import parse_period
from analysis.state import load_state

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_a_report_notebook_runs_on_a_cluster_worker(tmp_path, demo_csv_dir, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    params = ROOT / "params"
    state = load_state(demo_csv_dir, params)
    load_models(state, parse_period("2023-12"))  # fitted here once, as run_batch does; workers read the cache
    out = tmp_path / "reports" / "2023-12"
    jobs = plan_jobs(state, "2023-12", ["B017"], out, demo_csv_dir, params, ROOT / "notebooks", include_overview=False)
    results = run_on_cluster(
        jobs,
        run_job,
        "local",
        args=(str(ROOT), "页脚", ("html",)),
        workers=1,
        failure=lambda job, error, seconds: JobResult(job.key, "failed", seconds, error),
        required=[demo_csv_dir, params, ROOT / "notebooks"],
        writable=[out, cache],
        env={"ANALYSIS_CACHE_DIR": str(cache)},
    )
    assert [(r.key, r.status, r.error) for r in results] == [("B017", "done", "")]
    html = (out / "B017.html").read_text(encoding="utf-8")
    # the demo plants B017's growth leg of 两增 as missed (analysis.demo.SCENARIOS)
    card = re.search(
        r'<div class="verdict verdict-([a-z_]+)"><div class="verdict-head"><span class="verdict-label">'
        r"“两增”·贷款增速",
        html,
    )
    assert card and card.group(1) == "not_met"
    assert (out / "notebooks" / "B017.ipynb").exists()
