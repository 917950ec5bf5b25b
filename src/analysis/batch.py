"""Batch runs (批量生成): one report notebook per institution plus the city overview, in parallel.

A run is three steps, each a function: :func:`plan` (validate the data, lock the period folder,
decide which reports are out of date), :func:`execute` (run them on an :class:`Executor`: the
local :class:`ProcessPool` here, a cluster elsewhere) and :func:`record` (write each finished
report into the manifest the moment it lands). :func:`run_batch` does all three.

Guarantees:

- every notebook is executed by papermill (:mod:`analysis.engine`); each worker reuses one warm
  kernel whose namespace and settings are reset between reports; executed notebooks go to
  ``reports/<period>/notebooks/``, outputs (:data:`analysis.outputs.EXPORTERS`) to ``reports/<period>/``;
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

from __future__ import annotations

import errno
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import wait as wait_for
from pathlib import Path
from typing import Any, Literal, Protocol

from analysis.contract import COUNTIES, DIVISIONS
from analysis.errors import ReportInputError
from analysis.manifest import MANIFEST_NAME, Manifest, ManifestEntry, ReportMeta
from analysis.outputs import DEFAULT_FORMATS, EXPORTERS, parse_formats
from analysis.periods import CHINA_TZ, parse_period
from analysis.runerrors import BatchError
from analysis.state import State, code_fingerprint, load_state, project_root, resolve

OVERVIEW_KEY = "overview"
NOTEBOOK_FILES = {
    "bank": "institution_report.ipynb",
    "insurer": "insurer_report.ipynb",
    OVERVIEW_KEY: "city_overview.ipynb",
}
HEADLINE_STATUSES = {
    "two_increases": "status_two_increases",
    "plan": "status_plan",
    "rate": "status_rate_change",
    "npl": "status_npl",
}
#: indicator columns shown as an institution's headline figures (manifest meta, JSON summary)
HEADLINE_FIGURES = (
    "inclusive_balance_assessed",
    "inclusive_ytd_growth_pct",
    "growth_margin_pp",
    "borrowers_change",
    "plan_completion_pct",
    "rate_change_bp",
    "inclusive_npl_ratio_pct",
    "premium_yoy_pct",
)
LOCK_NAME = ".lock"
#: files removed when a new generation of data starts: they would show the old data
PERIOD_SUMMARIES = ("index.html", "indicators.xlsx")
#: a report past its timeout gets this much longer (for the kernel to be stopped) before its worker is killed
KILL_GRACE_SECONDS = 30.0
DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}
#: a job result's status -> its manifest entry's (aborted: the run stopped before it began)
ENTRY_STATUS: dict[str, Literal["done", "failed", "not_started"]] = {
    "done": "done",
    "failed": "failed",
    "aborted": "not_started",
}


# ---------------------------------------------------------------- jobs and results


@dataclass
class Job:
    key: str
    title: str
    notebook: str
    parameters: dict
    out_dir: str
    fingerprint: str
    meta: dict = field(default_factory=dict)
    cover: dict = field(default_factory=dict)

    @property
    def notebook_path(self) -> Path:
        return inside(Path(self.out_dir) / "notebooks", Path(self.out_dir) / "notebooks" / f"{self.key}.ipynb")

    @property
    def failed_notebook_path(self) -> Path:
        folder = Path(self.out_dir) / "notebooks" / "failed"
        return inside(folder, folder / f"{self.key}.ipynb")

    def output_path(self, fmt: str) -> Path:
        return inside(Path(self.out_dir), Path(self.out_dir) / EXPORTERS[fmt].filename(self.key))


@dataclass
class JobResult:
    key: str
    status: str  # done | skipped | failed | aborted (not run: the run stopped)
    seconds: float = 0.0
    error: str = ""
    failed_notebook: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    attempts: int = 1
    retryable: bool = False  # the kernel died: worth one more attempt
    fatal: bool = False  # the folder is full or read-only: stop the run


@dataclass
class WorkerSettings:
    """What every job of a run shares (sent to workers with each job)."""

    cwd: str
    footer: str
    period: str
    formats: tuple[str, ...] = DEFAULT_FORMATS
    timeout: float | None = None
    warm_kernels: bool = True


@dataclass
class BatchSummary:
    period: str
    out_dir: Path
    results: list[JobResult]
    seconds: float
    #: why the manifest could not be saved at the end (empty when it was)
    manifest_error: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status in ("failed", "aborted")]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


def inside(folder: Path, path: Path) -> Path:
    """``path`` if, once resolved, it is a file directly in ``folder``; refuses anything else (an id
    such as ``../../x`` must never write or delete outside the period folder, nor ``a/b`` make a
    subfolder)."""
    resolved, root = path.resolve(), folder.resolve()
    if not resolved.is_relative_to(root) or resolved.parent != root:
        raise ReportInputError(
            f"输出路径超出数据期文件夹 / output path outside the period folder: {path} "
            f"(folder {folder}); 机构编码不得含路径字符 / ids must not contain path characters"
        )
    return path


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

    from analysis.engine import execute_notebook
    from analysis.outputs import RenderedReport

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
        )
        for fmt, target in targets.items():
            EXPORTERS[fmt].write(report, target)
        os.replace(tmp_nb, nb_path)
        return JobResult(
            job.key, "done", time.perf_counter() - start, outputs={fmt: target.name for fmt, target in targets.items()}
        )
    except Exception as exc:  # noqa: BLE001 - one institution's failure is reported, never raised
        from nbclient.exceptions import DeadKernelError

        from analysis.engine import KernelStartupError

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
            for stale in (nb_path, *(job.output_path(fmt) for fmt in EXPORTERS)):
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


# ---------------------------------------------------------------- executors

OnResult = Callable[[JobResult], None]


class StopRun(Exception):
    """Raised by an ``on_result`` that cannot go on recording (the manifest cannot be saved: the
    disk is full): the executor starts no further report, lets the running ones finish and hands
    their results to ``on_result`` too."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class Executor(Protocol):
    """Runs jobs and calls ``on_result`` in the calling process as each one finishes (in any order).
    :class:`ProcessPool` runs them on this machine; a cluster executor (``--cluster``) plugs in here."""

    def run(self, jobs: list[Job], settings: WorkerSettings, on_result: OnResult) -> None: ...


def _worker_main(conn, task: str) -> None:
    """A worker process: one warm kernel, jobs one at a time until told to stop."""
    import importlib

    _quiet_kernels()
    module, name = task.split(":")
    function = getattr(importlib.import_module(module), name)
    kernel = None

    def warm_kernel(cwd: str):
        from analysis.engine import WarmKernel

        return WarmKernel(cwd, on_start=lambda pid: conn.send(("kernel", pid)))

    conn.send(("ready", os.getpid()))
    try:
        while True:
            message = conn.recv()
            if message is None:
                break
            if isinstance(message, str):  # prestart: the kernel starts while the parent still plans
                kernel = warm_kernel(message)
                kernel.start()
                continue
            job, settings = message
            if settings.warm_kernels and kernel is None:
                kernel = warm_kernel(settings.cwd)
            conn.send(("result", function(job, settings, kernel if settings.warm_kernels else None)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        if kernel is not None:
            kernel.shutdown()


def _signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


@dataclass
class _Worker:
    process: Any
    conn: Any
    job: Job | None = None
    ready: bool = False
    attempt: int = 0
    started: float = 0.0
    kernel_pid: int | None = None

    def kill(self) -> None:
        for pid in (self.kernel_pid, self.process.pid):
            if pid:
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        self.process.join(5)
        self.conn.close()


class ProcessPool:
    """Worker processes of this machine (spawned, one warm kernel each). Unlike a
    ``ProcessPoolExecutor``, a worker that dies (a segfault, an OOM kill) costs only the report it
    was running: that report is retried once on a new worker, then failed with the reason."""

    def __init__(
        self,
        workers: int,
        retries: int = 1,
        task: str = "analysis.batch:run_job",
        kill_grace: float = KILL_GRACE_SECONDS,
    ):
        self.workers = max(1, workers)
        self.retries = retries
        self.task = task  # "module:function" called as function(job, settings, kernel) in the worker
        self.kill_grace = kill_grace
        self._started: list[_Worker] = []

    def prestart(self, cwd: str) -> None:
        """Spawn the workers now and have each start its kernel in ``cwd`` (the project root), so
        the kernels' start-up (a few seconds of imports) overlaps the parent's validation,
        state and models. :meth:`run` uses them; :meth:`close` stops them if the run ends first."""
        for _ in range(self.workers - len(self._started)):
            worker = self._spawn()
            worker.conn.send(cwd)
            self._started.append(worker)

    def close(self) -> None:
        """Stop prestarted workers that no run took (the plan failed, or nothing was to do)."""
        workers, self._started = self._started, []
        self._stop(workers)

    @staticmethod
    def _stop(workers: list[_Worker]) -> None:
        for worker in workers:
            with suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(30)
            if worker.process.is_alive():
                worker.kill()

    def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_worker_main, args=(child, self.task), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def run(self, jobs: list[Job], settings: WorkerSettings, on_result: OnResult) -> None:
        queue: deque[tuple[Job, int]] = deque((job, 1) for job in jobs)
        jobs_by_key = {job.key: job for job in jobs}
        wanted = min(self.workers, len(queue))
        pool, spare = self._started[:wanted], self._started[wanted:]
        self._started = []
        self._stop(spare)
        pool += [self._spawn() for _ in range(wanted - len(pool))]
        stop_reason = ""
        startup_deaths = 0

        def finish(worker: _Worker, result: JobResult) -> None:
            nonlocal stop_reason
            result.attempts = worker.attempt
            worker.job = None
            if result.status == "failed" and result.retryable and result.attempts <= self.retries:
                queue.appendleft((jobs_by_key[result.key], result.attempts + 1))
                return
            if result.fatal and not stop_reason:
                stop_reason = result.error
            try:
                on_result(result)
            except StopRun as stop:
                stop_reason = stop_reason or stop.reason

        try:
            while queue or any(w.job for w in pool):
                if stop_reason:
                    while queue:
                        job, _ = queue.popleft()
                        on_result(JobResult(job.key, "aborted", error=f"未运行 / not run: {stop_reason}"))
                for worker in pool:
                    if worker.ready and worker.job is None and queue:
                        worker.job, worker.attempt = queue.popleft()
                        worker.started = time.monotonic()
                        worker.conn.send((worker.job, settings))
                wait_for([w.conn for w in pool] + [w.process.sentinel for w in pool], timeout=1.0)
                for index, worker in enumerate(pool):
                    dead = False
                    messages = []
                    try:  # only the pipe: an error recording a result is not a dead worker
                        while worker.conn.poll():
                            messages.append(worker.conn.recv())
                    except (EOFError, OSError):
                        dead = True
                    for kind, payload in messages:
                        if kind == "ready":
                            worker.ready = True
                        elif kind == "kernel":
                            worker.kernel_pid = payload
                        elif worker.job is not None:
                            finish(worker, payload)
                    dead = dead or not worker.process.is_alive()
                    if worker.job is None:
                        if dead:  # died between reports or while starting: replace it
                            worker.kill()
                            startup_deaths += 1
                            if startup_deaths > 3 * self.workers:
                                raise BatchError(
                                    f"工作进程无法启动 / worker processes keep dying on start "
                                    f"({_signal_name(worker.process.exitcode)})"
                                )
                            pool[index] = self._spawn()
                        continue
                    elapsed = time.monotonic() - worker.started
                    overdue = settings.timeout is not None and elapsed > settings.timeout + self.kill_grace
                    if dead or overdue:
                        job = worker.job
                        worker.kill()
                        pool[index] = self._spawn()
                        if overdue and not dead:
                            reason = (
                                f"报告超时（{settings.timeout:g} 秒），工作进程已终止 / the report ran past "
                                f"its {settings.timeout:g}s timeout; its worker was stopped"
                            )
                            finish(worker, JobResult(job.key, "failed", elapsed, reason))
                        else:
                            code = _signal_name(worker.process.exitcode)
                            reason = f"工作进程意外退出（{code}）/ the worker process died ({code})"
                            finish(worker, JobResult(job.key, "failed", elapsed, reason, retryable=True))
        finally:
            self._stop(pool)


class ClusterExecutor:
    """Jobs on Dask distributed (``analysis run --cluster ADDRESS``; ``local`` starts a LocalCluster):
    :func:`analysis.cluster.run_on_cluster` with the same jobs, settings and ``on_result``. Workers
    start a fresh kernel per report (warm kernels are per local worker process)."""

    def __init__(self, address: str, workers: int | None = None, retries: int = 1):
        self.address, self.workers, self.retries = address, workers, retries

    def run(self, jobs: list[Job], settings: WorkerSettings, on_result: OnResult) -> None:
        try:
            from analysis.cluster import run_on_cluster
        except ImportError as exc:
            raise BatchError(f"集群运行不可用 / running on a cluster is not available: {exc}") from exc
        cold = WorkerSettings(**{**vars(settings), "warm_kernels": False})
        required = {settings.cwd, *(j.notebook for j in jobs)}
        for job in jobs:
            required |= {job.parameters[k] for k in ("data_dir", "params_dir") if k in job.parameters}
        env = {k: os.environ[k] for k in ("ANALYSIS_CACHE_DIR",) if k in os.environ}
        run_on_cluster(
            jobs,
            run_job,
            self.address,
            args=(cold,),
            on_result=on_result,
            retries=self.retries,
            timeout=settings.timeout,
            workers=self.workers,
            required=sorted(required),
            writable=sorted({j.out_dir for j in jobs}),
            env=env,
            failure=lambda job, reason, seconds: JobResult(job.key, "failed", seconds, reason),
        )


# ---------------------------------------------------------------- plan


@dataclass
class BatchRequest:
    """Everything a run is asked to do (``analysis run``'s options)."""

    period: str
    data_dir: Path | str = "data/demo"
    params_dir: Path | str = "params"
    reports_dir: Path | str = "reports"
    institutions: list[str] | None = None
    division: str | None = None
    workers: int | None = None
    force: bool = False
    notebooks_dir: Path | str | None = None
    progress: bool = True
    include_overview: bool = True
    formats: tuple[str, ...] = DEFAULT_FORMATS
    #: seconds one report may take (each cell, and the report as a whole); None: no limit
    timeout: float | None = 900.0
    retries: int = 1
    warm_kernels: bool = True
    #: seconds to wait for another run of the same period to finish; 0: refuse at once
    lock_wait: float = 0.0
    #: refuse to start with less free space than this in the reports folder
    min_free_mb: float = 100.0
    executor: Executor | None = None
    #: a Dask scheduler address, or "local" (used when no ``executor`` is given)
    cluster: str | None = None
    #: called with (state, summary) after the jobs, still holding the period lock
    after_jobs: Callable[[State, BatchSummary], None] | None = None


@dataclass
class BatchPlan:
    request: BatchRequest
    state: State
    period: str
    out_dir: Path
    jobs: list[Job]
    todo: list[Job]
    manifest: Manifest
    manifest_path: Path
    settings: WorkerSettings
    generated: datetime
    started: float


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fingerprint(notebook: Path, parameters: dict, state: State) -> str:
    payload = {
        "notebook": _sha256_file(notebook),
        "parameters": parameters,
        "inputs": state.hashes,
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def data_generation(state: State) -> str:
    """Hash of the input data, params and package code: reports of one generation agree."""
    payload = json.dumps({"inputs": state.hashes, "code": code_fingerprint()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def select_institutions(
    state: State, period: str, institutions: list[str] | None = None, division: str | None = None
) -> list[str]:
    """Institutions with figures for the period, filtered by id list and/or division."""
    period_end = parse_period(period)
    ind = state.indicators
    present = ind.loc[ind["period"] == period_end, ["institution_id", "division"]]
    if present.empty:
        raise ReportInputError(f"无 {period_end:%Y-%m} 数据 / no data for period {period_end:%Y-%m}")
    if institutions:
        unknown = sorted(set(institutions) - set(present["institution_id"]))
        if unknown:
            raise ReportInputError(f"机构编码不存在或该期无数据 / unknown id or no data this period: {unknown}")
        present = present[present["institution_id"].isin(institutions)]
    if division:
        if division not in DIVISIONS:
            raise ReportInputError(f"监管科室无效 / unknown division {division!r}; one of: {'、'.join(DIVISIONS)}")
        present = present[present["division"] == division]
    return present["institution_id"].tolist()


def _plain(value: Any) -> Any:
    """A JSON-able number: NaN → None, numpy scalars → Python."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plan_jobs(
    state: State,
    period: str,
    institution_ids: list[str],
    out_dir: Path,
    data_dir: Path,
    params_dir: Path,
    notebooks_dir: Path,
    include_overview: bool = True,
) -> list[Job]:
    period_end = parse_period(period)
    ind = state.indicators
    rows = ind[(ind["period"] == period_end)].set_index("institution_id")
    common = {"period": f"{period_end:%Y-%m}", "data_dir": str(data_dir), "params_dir": str(params_dir)}
    jobs = []
    for iid in institution_ids:
        r = rows.loc[iid]
        notebook = notebooks_dir / NOTEBOOK_FILES[r["sector"]]
        parameters = {"institution_id": iid, **common}
        meta = ReportMeta(
            name=str(r["name"]),
            category=str(r["category"]),
            entity_type=str(r["entity_type"]),
            division=str(r["division"]),
            county_code=str(r["county_code"]),
            county=COUNTIES.get(str(r["county_code"]), str(r["county_code"])),
            sector=str(r["sector"]),
            verdicts={k: str(r[c]) for k, c in HEADLINE_STATUSES.items()},
            figures={c: _plain(r[c]) for c in HEADLINE_FIGURES if c in r.index},
        )
        jobs.append(
            Job(
                key=iid,
                title=str(r["name"]),
                notebook=str(notebook),
                parameters=parameters,
                out_dir=str(out_dir),
                fingerprint=_fingerprint(notebook, parameters, state),
                meta=meta.model_dump(),
            )
        )
    if include_overview:
        notebook = notebooks_dir / NOTEBOOK_FILES[OVERVIEW_KEY]
        jobs.insert(
            0,
            Job(
                key=OVERVIEW_KEY,
                title="全市小微企业金融服务情况总览",
                notebook=str(notebook),
                parameters=common,
                out_dir=str(out_dir),
                fingerprint=_fingerprint(notebook, common, state),
                meta=ReportMeta(name="全市总览").model_dump(),
            ),
        )
    unsafe = []
    for job in jobs:  # every path checked before anything is written
        try:
            job.notebook_path, job.failed_notebook_path, [job.output_path(f) for f in EXPORTERS]
        except ReportInputError:
            unsafe.append(job.key)
    if unsafe:
        raise ReportInputError(
            f"机构编码会使报告写到数据期文件夹之外，已拒绝 / ids that would write outside the "
            f"period folder, refused: {unsafe}"
        )
    return jobs


def _attach_scores(state: State, period_end, jobs: list[Job]) -> None:
    """Total score and grade (监管评价) of each evaluated bank, for the site index."""
    table, _, totals = state.scores(period_end)
    if table is None:
        return
    totals = totals.set_index("institution_id")
    for job in jobs:
        if job.key in totals.index:
            job.meta["score"] = round(float(totals.at[job.key, "total"]), 2)
            job.meta["grade"] = str(totals.at[job.key, "grade"])


def _up_to_date(job: Job, manifest: Manifest, formats: tuple[str, ...]) -> bool:
    entry = manifest.entries.get(job.key)
    return bool(
        entry
        and entry.status == "done"
        and entry.fingerprint == job.fingerprint
        and all(fmt in entry.outputs and (Path(job.out_dir) / entry.outputs[fmt]).exists() for fmt in formats)
    )


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def check_writable(folder: Path, min_free_mb: float = 0.0) -> None:
    """Refuse, before any work, a reports folder that cannot be written or has no room.
    Creates nothing: the nearest existing parent is probed with a temporary file."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    problem = ""
    if not probe.is_dir():
        problem = f"{probe} 不是文件夹 / is not a folder"
    else:
        try:
            with tempfile.NamedTemporaryFile(dir=probe, prefix=".write-test-"):
                pass
            free_mb = shutil.disk_usage(probe).free / 2**20
            if free_mb < min_free_mb:
                problem = (
                    f"剩余空间不足：{free_mb:.0f} MB，至少需要 {min_free_mb:.0f} MB / only {free_mb:.0f} MB free, "
                    f"{min_free_mb:.0f} MB needed"
                )
        except OSError as exc:
            problem = f"{exc.strerror or exc} ({probe})"
    if problem:
        raise BatchError(f"报告文件夹不可写 / the reports folder cannot be written: {folder} — {problem}")


@contextmanager
def period_lock(out_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Exclusive lock on ``out_dir/.lock`` for one run; a second run refuses (or waits ``wait`` s)."""
    import fcntl

    path = out_dir / LOCK_NAME
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole run, closed in finally
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BatchError(
                        f"该数据期正由另一次运行生成，请稍后再试 / another run is writing the reports of this "
                        f"period ({path}); try again when it has finished"
                    ) from None
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def clean_stale_parts(out_dir: Path) -> list[Path]:
    """Remove temporary files a killed run left behind (``.*.part*``)."""
    removed = []
    for path in out_dir.rglob(".*.part*"):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def plan(request: BatchRequest) -> BatchPlan:
    """Validate, resolve paths, decide the jobs (does not lock: :func:`run` locks around it)."""
    started = time.perf_counter()
    formats = parse_formats(request.formats)
    data_dir, params_dir = resolve(request.data_dir), resolve(request.params_dir)
    root = project_root()
    notebooks_dir = resolve(request.notebooks_dir) if request.notebooks_dir else root / "notebooks"
    from analysis.fonts import require_cjk_fonts

    require_cjk_fonts(pdf="pdf" in formats)  # stops before any work, with the install hint (WeasyPrint would crash)
    state = load_state(data_dir, params_dir)  # validates: bad input stops here, before any report is written
    period_end = parse_period(request.period)
    policy = state.policy(period_end.year)
    ids = select_institutions(state, request.period, request.institutions, request.division)
    if (Path(params_dir) / "models.yaml").exists():
        from analysis.models import load_models

        load_models(state, period_end)  # fitted once here; every notebook reads the cached results
    out_dir = _reports_dir(request) / f"{period_end:%Y-%m}"
    jobs = plan_jobs(state, request.period, ids, out_dir, data_dir, params_dir, notebooks_dir, request.include_overview)
    _attach_scores(state, period_end, jobs)
    generated = datetime.now(CHINA_TZ)
    for job in jobs:
        job.cover = {
            "title": "全市小微企业金融服务情况总览" if job.key == OVERVIEW_KEY else "小微企业金融服务监管评价报告",
            "name": f"{policy.jurisdiction}银行保险机构" if job.key == OVERVIEW_KEY else job.title,
            "period_label": f"{period_end:%Y年%m月}",
            "office": policy.issuing_office,
            "issued": f"{generated:%Y年%m月%d日}",
            "notice": policy.notice,
        }
    if period_end in state.citywide.index:
        figures = {k: _plain(v) for k, v in state.citywide.loc[period_end].items()}
        for job in jobs:
            if job.key == OVERVIEW_KEY:
                job.meta["figures"] = figures
    manifest_path = out_dir / MANIFEST_NAME
    manifest = Manifest.load(manifest_path)
    todo = [j for j in jobs if request.force or not _up_to_date(j, manifest, formats)]
    footer = (
        f"{policy.issuing_office} · 小微企业金融服务监管评价 · {period_end:%Y年%m月} · "
        f"生成于 {generated:%Y-%m-%d %H:%M}"
    )
    settings = WorkerSettings(
        cwd=str(root),
        footer=footer,
        period=f"{period_end:%Y-%m}",
        formats=formats,
        timeout=request.timeout,
        warm_kernels=request.warm_kernels,
    )
    return BatchPlan(
        request,
        state,
        f"{period_end:%Y-%m}",
        out_dir,
        jobs,
        todo,
        manifest,
        manifest_path,
        settings,
        generated,
        started,
    )


def _reports_dir(request: BatchRequest) -> Path:
    reports_dir = Path(request.reports_dir)
    return reports_dir if reports_dir.is_absolute() else project_root() / reports_dir


# ---------------------------------------------------------------- record


def start_generation(batch: BatchPlan) -> None:
    """Stamp the manifest with this run's generation; if the data changed, withdraw the period's
    index and workbook first, so the site never shows old and new reports side by side."""
    manifest = batch.manifest
    generation = data_generation(batch.state)
    if manifest.generation != generation:
        for name in PERIOD_SUMMARIES:
            (batch.out_dir / name).unlink(missing_ok=True)
    manifest.generation = generation
    manifest.period = batch.period
    manifest.updated = batch.generated.isoformat(timespec="seconds")
    if batch.period in {f"{p:%Y-%m}" for p in batch.state.citywide.index}:
        period_end = parse_period(batch.period)
        manifest.citywide = {k: _plain(v) for k, v in batch.state.citywide.loc[period_end].items()}
    manifest.save(batch.manifest_path)


def record(batch: BatchPlan, job: Job, result: JobResult) -> None:
    """Write one finished report into the manifest, atomically, the moment it lands."""
    if result.status not in ("done", "failed", "aborted"):
        return
    batch.manifest.record(_entry(batch, job, result))
    batch.manifest.save(batch.manifest_path)


def _entry(batch: BatchPlan, job: Job, result: JobResult) -> ManifestEntry:
    return ManifestEntry(
        key=job.key,
        title=job.title,
        status=ENTRY_STATUS[result.status],
        outputs=result.outputs,
        notebook=f"notebooks/{job.key}.ipynb" if result.status == "done" else "",
        fingerprint=job.fingerprint if result.status == "done" else "",
        generation=batch.manifest.generation,
        seconds=round(result.seconds, 2),
        attempts=result.attempts,
        generated=datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
        error=result.error,
        failed_notebook=result.failed_notebook,
        meta=ReportMeta.model_validate(job.meta),
    )


# ---------------------------------------------------------------- execute


def execute(batch: BatchPlan, executor: Executor, on_result: OnResult) -> None:
    if batch.todo:
        executor.run(batch.todo, batch.settings, on_result)


def run(request: BatchRequest) -> BatchSummary:
    """Plan, execute and record one run; see the module docstring for the guarantees."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # kernels run side by side: one BLAS thread each
    parse_formats(request.formats)
    reports_dir = _reports_dir(request)
    check_writable(reports_dir, request.min_free_mb)
    pool = None
    if request.executor is None and not request.cluster and request.warm_kernels:
        # the workers and their kernels start while this process validates and loads the state
        count = request.workers or default_workers()
        if request.institutions:
            count = min(count, len(request.institutions) + int(request.include_overview))
        pool = ProcessPool(count, retries=request.retries)
        pool.prestart(str(project_root()))
    try:
        return _run(request, pool)
    finally:
        if pool is not None:
            pool.close()


def _run(request: BatchRequest, pool: ProcessPool | None) -> BatchSummary:
    batch = plan(request)
    batch.out_dir.mkdir(parents=True, exist_ok=True)
    with period_lock(batch.out_dir, request.lock_wait):
        clean_stale_parts(batch.out_dir)
        batch.manifest = Manifest.load(batch.manifest_path)  # re-read under the lock
        batch.todo = [
            j for j in batch.jobs if request.force or not _up_to_date(j, batch.manifest, batch.settings.formats)
        ]
        start_generation(batch)
        todo_keys = {j.key for j in batch.todo}
        results = [JobResult(j.key, "skipped") for j in batch.jobs if j.key not in todo_keys]
        by_key = {j.key: j for j in batch.jobs}
        bar = None
        if batch.todo:
            from tqdm import tqdm

            bar = tqdm(
                total=len(batch.todo),
                desc=f"生成报告 {batch.period}",
                unit="份",
                disable=not request.progress,
                file=sys.stderr,
                dynamic_ncols=True,
            )

        unsaved: list[str] = []  # why the manifest could not be saved, once
        unrecorded: list[str] = []  # reports whose result the manifest on disk does not hold

        def on_result(result: JobResult) -> None:
            results.append(result)  # in the summary whatever happens to the manifest
            if bar is not None:
                mark = "✓" if result.status == "done" else "✗"
                bar.set_postfix_str(f"{mark} {by_key[result.key].title} ({result.seconds:.1f}s)")
                bar.update(1)
            try:
                record(batch, by_key[result.key], result)  # in memory first, then saved
            except OSError as exc:
                first = not unsaved
                unsaved[:] = [f"{exc.strerror or exc} ({batch.manifest_path})"]
                unrecorded.append(result.key)
                if first:
                    raise StopRun(f"运行清单无法保存 / the manifest cannot be saved: {unsaved[0]}") from exc

        workers = max(1, min(request.workers or default_workers(), len(batch.todo) or 1))
        executor = request.executor or (
            ClusterExecutor(request.cluster, request.workers, request.retries)
            if request.cluster
            else pool or ProcessPool(workers, retries=request.retries)
        )
        try:
            execute(batch, executor, on_result)
        except StopRun as stop:  # an executor that does not handle it: nothing more is started
            stop_reason = stop.reason
        else:
            stop_reason = ""
        finally:
            if bar is not None:
                bar.close()
        landed = {r.key for r in results}
        reason = stop_reason or (f"运行清单无法保存 / the manifest cannot be saved: {unsaved[0]}" if unsaved else "")
        for job in batch.todo:  # every report is accounted for: done, failed, or not started
            if job.key not in landed:
                result = JobResult(job.key, "aborted", error=f"未运行 / not run: {reason or 'the run stopped'}")
                results.append(result)
                batch.manifest.record(_entry(batch, job, result))
                unrecorded.append(job.key)
        if unsaved or unrecorded:  # one more try: the failed reports' files are gone, there may be room now
            try:
                batch.manifest.save(batch.manifest_path)
                unsaved.clear()
                unrecorded.clear()
            except OSError as exc:
                unsaved[:] = [f"{exc.strerror or exc} ({batch.manifest_path})"]
        summary = BatchSummary(
            batch.period,
            batch.out_dir,
            results,
            time.perf_counter() - batch.started,
            manifest_error=[f"{unsaved[0]}: {', '.join(unrecorded)}"] if unsaved else [],
        )
        aborted = [r for r in results if r.status == "aborted"]
        if request.after_jobs is not None and not aborted:
            request.after_jobs(batch.state, summary)
    if aborted:
        raise BatchError(f"运行已中止 / the run stopped: {aborted[0].error}\n" + format_summary(summary))
    return summary


def run_batch(period: str, **options: Any) -> BatchSummary:
    """``run(BatchRequest(period, **options))``: the reports of ``period``."""
    return run(BatchRequest(period, **options))


def write_indicator_workbook(state: State, period: str, out_dir: Path) -> Path:
    from analysis.export import write_indicator_workbook as write

    return write(state, parse_period(period), out_dir / "indicators.xlsx")


def format_summary(summary: BatchSummary) -> str:
    lines = [
        (
            f"{summary.period}: 完成 {summary.count('done')} 份，未变化跳过 {summary.count('skipped')} 份，"
            f"失败 {summary.count('failed')} 份，未运行 {summary.count('aborted')} 份 / done {summary.count('done')}, "
            f"skipped {summary.count('skipped')}, failed {summary.count('failed')}, "
            f"not started {summary.count('aborted')} — {summary.seconds:.1f}s → {summary.out_dir}"
        )
    ]
    if summary.manifest_error:
        lines.append(
            f"  ! 运行清单未能保存，以下结果未记入 / the manifest could not be saved, these results are not in it: "
            f"{summary.manifest_error[0]}"
        )
    for r in summary.failed:
        attempts = f"（共尝试 {r.attempts} 次 / {r.attempts} attempts）" if r.attempts > 1 else ""
        lines.append(f"  ✗ {r.key}: {r.error}{attempts}")
        if r.failed_notebook:
            lines.append(f"    已执行的笔记本 / executed notebook: {r.failed_notebook}")
    return "\n".join(lines)


__all__ = [
    "BatchError",
    "BatchPlan",
    "BatchRequest",
    "BatchSummary",
    "Executor",
    "Job",
    "JobResult",
    "ProcessPool",
    "WorkerSettings",
    "check_writable",
    "execute",
    "format_summary",
    "inside",
    "period_lock",
    "plan",
    "record",
    "run",
    "run_batch",
    "select_institutions",
]
