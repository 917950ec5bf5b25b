"""One report in a worker process (单份报告): execute the notebook with papermill on the worker's warm
kernel, write every requested output atomically, and turn any failure into a result, never a raise.
"""

from __future__ import annotations

import os
import time
from typing import Any

from analysis.batch.jobs import DISK_ERRNOS, Job, JobResult, WorkerSettings
from analysis.core.errors import ReportInputError
from analysis.outputs.registry import EXPORTERS, report_formats

# ---------------------------------------------------------------- one report (in a worker)


def _error_text(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:
        return f"{ename}: {getattr(exc, 'evalue', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _quiet_kernels() -> None:
    """Kernels inherit the worker's stderr: send their start-up and shutdown chatter to /dev/null.
    Errors are not lost: they are in the executed notebook and the job result."""
    if os.environ.get("ANALYSIS_KERNEL_STDERR") == "1":
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def run_job(job: Job, settings: WorkerSettings, kernel: Any = None) -> JobResult:
    """Execute one notebook with papermill and write each requested output (runs in a worker)."""
    import nbformat

    from analysis.batch.engine import execute_notebook
    from analysis.outputs.registry import RenderedReport

    start = time.perf_counter()
    try:
        nb_path = job.notebook_path
        targets = {fmt: job.output_path(fmt) for fmt in settings.formats}
    except ReportInputError as exc:
        return JobResult(job.key, "failed", 0.0, str(exc))
    nb_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = nb_path.with_name(f".{nb_path.stem}.{os.getpid()}.part.ipynb")
    try:
        execute_notebook(job.notebook, tmp_nb, job.parameters, settings.cwd, settings.timeout, kernel)
        report = RenderedReport(
            key=job.key,
            title=job.title,
            notebook=nbformat.read(str(tmp_nb), as_version=4),
            footer=settings.footer,
            cover=job.cover,
            meta=job.meta,
            period=settings.period,
            slow_pdf_reported=settings.allow_slow_pdf,
        )
        for fmt, target in targets.items():
            EXPORTERS[fmt].write(report, target)
        os.replace(tmp_nb, nb_path)
        return JobResult(
            job.key,
            "done",
            time.perf_counter() - start,
            outputs={fmt: target.name for fmt, target in targets.items()},
            warnings=report.warnings,
        )
    except Exception as exc:  # noqa: BLE001 - one institution's failure is reported, never raised
        from nbclient.exceptions import DeadKernelError

        from analysis.batch.engine import KernelStartupError

        failed = job.failed_notebook_path
        kept = ""
        fatal = isinstance(exc, OSError) and exc.errno in DISK_ERRNOS
        try:
            # a notebook cut short by a full disk is empty or truncated: nothing to read, not kept
            if tmp_nb.exists() and not fatal and tmp_nb.stat().st_size > 0:
                failed.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_nb, failed)
                kept = str(failed)
            # an older report must not pass for this run's result
            for stale in (nb_path, *(job.output_path(fmt) for fmt in report_formats(EXPORTERS))):
                if stale.exists():
                    stale.unlink()
        except OSError:
            pass
        return JobResult(
            job.key,
            "failed",
            time.perf_counter() - start,
            _error_text(exc),
            kept,
            retryable=isinstance(exc, (DeadKernelError, KernelStartupError)),
            fatal=fatal,
        )
    finally:
        if tmp_nb.exists():
            tmp_nb.unlink()
