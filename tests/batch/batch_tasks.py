"""Stand-in report tasks for the process pool tests (imported by spawned workers): they behave by
the job's key instead of running a notebook."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from analysis.batch import JobResult


def fake_report(job, settings, kernel=None):
    marker = Path(job.out_dir) / f"{job.key}.tried"
    if job.key.startswith("die-once") and not marker.exists():
        marker.write_text("1")
        os.kill(os.getpid(), signal.SIGKILL)
    if job.key.startswith("die-always"):
        os.kill(os.getpid(), signal.SIGKILL)
    if job.key.startswith("hang"):
        time.sleep(600)
    if job.key.startswith("disk-full"):
        return JobResult(job.key, "failed", error="OSError: [Errno 28] No space left on device", fatal=True)
    (Path(job.out_dir) / f"{job.key}.html").write_text(str(os.getpid()))
    return JobResult(job.key, "done", outputs={"html": f"{job.key}.html"})
