"""End to end on Dask: a real report notebook executed by ``analysis.batch.run_job`` on a worker
of a LocalCluster, reading the state and models cached by this process through the shared
``ANALYSIS_CACHE_DIR``. Slow (a real kernel); `make test-fast` leaves it out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from analysis.batch import run_batch

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_a_report_notebook_runs_on_a_cluster_worker(tmp_path, demo_csv_dir, monkeypatch):
    """``analysis run --cluster local``: the batch's own jobs, manifest and outputs, on Dask workers."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    summary = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=tmp_path / "reports",
        institutions=["B017"],
        include_overview=False,
        formats=("html",),
        workers=1,
        cluster="local",
        progress=False,
    )
    assert [(r.key, r.status, r.error) for r in summary.results] == [("B017", "done", "")]
    out = tmp_path / "reports" / "2023-12"
    html = (out / "B017.html").read_text(encoding="utf-8")
    # the demo plants B017's growth leg of 两增 as missed (analysis.demo.jurisdiction.SCENARIOS)
    card = re.search(
        r'<div class="verdict verdict-([a-z_]+)"><div class="verdict-head"><span class="verdict-label">'
        r"“两增”·贷款增速",
        html,
    )
    assert card and card.group(1) == "not_met"
    assert (out / "notebooks" / "B017.ipynb").exists()
