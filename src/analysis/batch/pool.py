"""Executors (执行器): the local pool of worker processes, each with one warm kernel and one job at a
time (a dead or hung worker costs only its own report, retried once), and the Dask cluster's caller.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from typing import Any, Protocol

from analysis.batch.jobs import KILL_GRACE_SECONDS, Job, JobResult, WorkerSettings
from analysis.batch.worker import _quiet_kernels, run_job
from analysis.core.runerrors import BatchError

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
        from analysis.batch.engine import WarmKernel

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
    :func:`analysis.batch.cluster.run_on_cluster` with the same jobs, settings and ``on_result``. Workers
    start a fresh kernel per report (warm kernels are per local worker process)."""

    def __init__(self, address: str, workers: int | None = None, retries: int = 1):
        self.address, self.workers, self.retries = address, workers, retries

    def run(self, jobs: list[Job], settings: WorkerSettings, on_result: OnResult) -> None:
        try:
            from analysis.batch.cluster import run_on_cluster
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
