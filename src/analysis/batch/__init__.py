"""Batch runs (批量生成): one report notebook per institution plus the city overview, in parallel.

A run is three steps, each a function in a module of its own: :func:`plan` (``plan.py``: validate
the data, decide which reports are out of date), :func:`execute` (``run.py``: run them on an
:class:`Executor` — the local :class:`ProcessPool` of ``pool.py``, whose workers run
:func:`run_job` of ``worker.py`` on a warm kernel of ``engine.py``/``kernelreset.py``, or a Dask
cluster through ``cluster.py``) and :func:`record` (``record.py``: write each finished report into
the manifest the moment it lands). ``jobs.py`` holds the records they pass (job, result,
settings, summary). :func:`run_batch` does all three, holding the period lock.

Guarantees:

- every notebook is executed by papermill (:mod:`analysis.batch.engine`); each worker reuses one warm
  kernel whose namespace and settings are reset between reports; executed notebooks go to
  ``reports/<period>/notebooks/``, outputs (:data:`analysis.outputs.registry.EXPORTERS`) to ``reports/<period>/``;
- every file is written to a temporary name and moved into place; stale ``.part`` files of a
  killed run are removed at start; every output path is checked to stay inside the period folder;
- one report failing never stops the others: its executed notebook is kept under
  ``notebooks/failed/``; a worker or kernel that dies costs only its own report, which is retried
  once (:attr:`BatchRequest.retries`) and then failed with the reason; a report running past
  :attr:`BatchRequest.timeout` is stopped and fails alone;
- the manifest is saved after every report, so a killed run resumes where it stopped; when the
  data, params or code changed since the last run, the period's index and ``indicators.xlsx`` are
  withdrawn at start and the site lists only reports of the current generation;
- one run per period at a time (``reports/<period>/.lock``); a second run refuses, or waits up to
  :attr:`BatchRequest.lock_wait` seconds;
- the reports folder is checked to be writable (and to have room) before any work;
- a report whose notebook, parameters, input files, params and package code are unchanged is
  skipped unless ``force``.
"""

from analysis.batch.jobs import OVERVIEW_KEY, BatchSummary, Job, JobResult, WorkerSettings, inside
from analysis.batch.plan import (
    BatchPlan,
    BatchRequest,
    check_writable,
    clean_stale_parts,
    data_generation,
    default_workers,
    period_lock,
    plan,
    select_institutions,
)
from analysis.batch.pool import ClusterExecutor, Executor, ProcessPool, StopRun
from analysis.batch.record import record, record_period_files, start_generation, write_period_outputs
from analysis.batch.run import execute, format_summary, run, run_batch, run_documents, write_indicator_workbook
from analysis.batch.worker import run_job
from analysis.core.runerrors import BatchError

__all__ = [
    "OVERVIEW_KEY",
    "BatchError",
    "BatchPlan",
    "BatchRequest",
    "BatchSummary",
    "ClusterExecutor",
    "Executor",
    "Job",
    "JobResult",
    "ProcessPool",
    "StopRun",
    "WorkerSettings",
    "check_writable",
    "clean_stale_parts",
    "data_generation",
    "default_workers",
    "execute",
    "format_summary",
    "inside",
    "period_lock",
    "plan",
    "record",
    "record_period_files",
    "run",
    "run_batch",
    "run_documents",
    "run_job",
    "select_institutions",
    "start_generation",
    "write_period_outputs",
    "write_indicator_workbook",
]
