"""Trivial job functions for tests/test_cluster.py: module-level so Dask workers import them by
reference. Each attempt appends a line to ``<log_dir>/<key>.log`` (with the worker's BLAS
setting), so a test can count how often a job ran and what environment it ran in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from analysis.batch import Job, JobResult


def make_job(key: str, action: str, log_dir: Path) -> Job:
    return Job(
        key=key,
        title=key,
        notebook="",
        parameters={"action": action, "log_dir": str(log_dir)},
        out_dir=str(log_dir),
        fingerprint=key,
    )


def failed(job: Job, error: str, seconds: float) -> JobResult:
    return JobResult(job.key, "failed", seconds, error)


def fake_report(job: Job, suffix: str = "") -> JobResult:
    """``ok``: succeed; ``raise``: raise; ``exit``: kill the worker process; ``hang``: wait on a
    child process (as a report waits on its kernel) that never ends."""
    action = job.parameters["action"]
    log = Path(job.parameters["log_dir"]) / f"{job.key}.log"
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()} OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}\n")
    if action == "raise":
        raise ValueError(f"planted failure in {job.key}")
    if action == "exit":
        os._exit(1)
    if action == "hang":
        subprocess.run([sys.executable, "-c", "import time; time.sleep(600)"], check=False)
        return JobResult(job.key, "failed", 0.0, "kernel died")
    time.sleep(0.2)
    return JobResult(job.key, "done", 0.2, suffix)
