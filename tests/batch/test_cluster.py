"""analysis.batch.cluster: the batch's jobs on a Dask LocalCluster of 2 worker processes.

The jobs are the trivial functions of tests/batch/cluster_jobs.py, so these tests check the cluster
plumbing, not the notebooks. Most tests share one "remote" cluster started with Dask's default
settings (as a province's scheduler would be) and connect to it by address; one test lets
``run_on_cluster`` start its own ``LocalCluster`` (``address="local"``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from analysis.batch.cluster import ClusterError, run_on_cluster
from tests.batch.cluster_jobs import failed, fake_report, make_job


@pytest.fixture(scope="module")
def scheduler():
    """A scheduler and 2 worker processes with Dask's defaults (allowed-failures 3, worker
    saturation 1.1) and 4 BLAS threads in the workers' environment: run_on_cluster must fix all three."""
    from distributed import LocalCluster

    warnings.filterwarnings("ignore", message="Port .* is already in use")
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
        env={"OPENBLAS_NUM_THREADS": "4"},
    )
    yield cluster.scheduler_address
    cluster.close()


def _attempts(log_dir: Path, key: str) -> list[str]:
    log = log_dir / f"{key}.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_every_job_gives_one_result_and_a_crash_or_an_error_fails_alone(tmp_path, scheduler):
    actions = {"B001": "ok", "B002": "raise", "B003": "ok", "B004": "exit", "B005": "ok", "I001": "ok"}
    jobs = [make_job(k, a, tmp_path) for k, a in actions.items()]
    landed = []
    results = run_on_cluster(
        jobs,
        fake_report,
        scheduler,
        failure=failed,
        args=("-x",),
        on_result=landed.append,
        retries=1,
        required=[tmp_path],
        writable=[tmp_path],
    )

    assert [r.key for r in results] == list(actions)  # job order, one result each
    assert sorted(r.key for r in landed) == sorted(actions)  # every result handed over as it landed
    by_key = {r.key: r for r in results}
    for key in ("B001", "B003", "B005", "I001"):
        assert by_key[key].status == "done" and by_key[key].error == "-x"  # args reached fn
        # once, or twice when its result was still on a worker that the crashing job then killed
        assert 1 <= len(_attempts(tmp_path, key)) <= 2
    # the raising job: retried once, then failed with its own message
    assert by_key["B002"].status == "failed"
    assert "ValueError: planted failure in B002" in by_key["B002"].error
    assert len(_attempts(tmp_path, "B002")) == 2
    # the job that kills its worker: run twice (two different worker processes), then failed
    assert by_key["B004"].status == "failed"
    assert "KilledWorker" in by_key["B004"].error and "工作进程" in by_key["B004"].error
    pids = [line.split()[0] for line in _attempts(tmp_path, "B004")]
    assert len(pids) == 2 and pids[0] != pids[1]
    # one BLAS thread on every worker (kernels inherit it)
    lines = [line for key in actions for line in _attempts(tmp_path, key)]
    assert lines and all(line.endswith("OPENBLAS_NUM_THREADS=1") for line in lines)


def test_a_job_past_the_timeout_is_stopped_and_fails_alone(tmp_path, scheduler):
    jobs = [make_job("B010", "hang", tmp_path), make_job("B011", "ok", tmp_path)]
    results = run_on_cluster(jobs, fake_report, scheduler, failure=failed, timeout=3)
    by_key = {r.key: r for r in results}
    assert by_key["B011"].status == "done"
    assert by_key["B010"].status == "failed"
    assert "timed out after 3 s" in by_key["B010"].error and "超时" in by_key["B010"].error
    assert len(_attempts(tmp_path, "B010")) == 1  # a hung report is not retried


def test_workers_that_cannot_see_the_shared_folders_are_refused_before_any_job(tmp_path, scheduler):
    missing = tmp_path / "nfs" / "data"
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    jobs = [make_job("B001", "ok", tmp_path), make_job("B002", "ok", tmp_path)]
    with pytest.raises(ClusterError) as info:
        run_on_cluster(
            jobs,
            fake_report,
            scheduler,
            failure=failed,
            required=[tmp_path, missing],
            writable=[not_a_folder / "reports"],
        )
    message = str(info.value)
    assert f"路径不存在 / path does not exist: {missing}" in message
    assert f"folder not writable: {not_a_folder / 'reports'}" in message
    assert message.count("工作进程 / worker tcp://") == 2  # both workers named
    assert "共享文件系统" in message and "shared filesystem" in message
    assert _attempts(tmp_path, "B001") == _attempts(tmp_path, "B002") == []  # nothing ran


def test_local_starts_its_own_cluster_of_worker_processes(tmp_path):
    jobs = [make_job("B001", "ok", tmp_path), make_job("B002", "raise", tmp_path), make_job("B003", "ok", tmp_path)]
    results = run_on_cluster(jobs, fake_report, "local", failure=failed, workers=2, retries=0)
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert "after 1 attempt(s)" in results[1].error and len(_attempts(tmp_path, "B002")) == 1  # retries=0
    lines = [line for key in ("B001", "B003") for line in _attempts(tmp_path, key)]
    assert all(line.endswith("OPENBLAS_NUM_THREADS=1") for line in lines)
    assert str(os.getpid()) not in {line.split()[0] for line in lines}  # ran in worker processes, not here


def test_the_default_path_does_not_import_dask():
    code = (
        "import sys, analysis.batch, analysis.batch.cluster, analysis.cli\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
