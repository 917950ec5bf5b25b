"""Run a batch's jobs on Dask distributed (集群运行): ``analysis run --cluster ADDRESS``.

The same jobs the local batch runs (same ``Job`` objects, fingerprints and manifest) are handed
to a Dask scheduler instead of a process pool. ``address == "local"`` starts a ``LocalCluster``
of worker processes on this machine (one thread each); anything else (``tcp://host:8786``)
connects to a scheduler that a province started on its own machines.

Guarantees, as for the local batch:

- every job gives one result, handed to ``on_result`` as soon as it lands (the caller records
  it in the manifest and moves the progress bar);
- a job whose function raises is retried ``retries`` times, then becomes a failed result with
  the reason; the others go on;
- a worker that dies while running a job (segfault, OOM kill, ``os._exit``) costs only that job:
  the scheduler re-runs it once (on a fresh worker process) (``allowed-failures = retries``), then it fails
  with the reason (``KilledWorker``). Each worker runs one job at a time (one thread) and this
  process keeps only as many jobs in flight as there are worker threads, so no innocent job is
  failed for another job's crash. A job that had finished
  on that worker but whose result had not reached this process yet is run again (reports are
  written atomically, so a second run only costs time), never failed;
- ``timeout``: a job still running after that many seconds has the processes it started (its
  kernel) killed and fails with 超时 / timed out.

Workers may be on other machines, so nothing is shipped to them but the ``Job`` objects: the
data, params, notebooks, reports folder and the cached state (``ANALYSIS_CACHE_DIR``, under the
reports folder) must be on a **shared filesystem mounted at the same path on every machine**
(e.g. NFS), and every worker must run the same checkout of this project in the same venv.
:func:`check_workers` proves it before any job is submitted: on every worker it checks the
required paths exist, the writable folders accept a file, and the package code is the same as
here; otherwise the run is refused with a message naming the worker.

Dask is imported only inside these functions: ``import analysis.batch`` and a plain
``analysis run`` never load it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from analysis.core.errors import ReportInputError

#: one BLAS thread per process: several workers and their kernels share the cores
#: (benchmarks/README.md: two processes with default OpenBLAS threads ran 17x slower).
BLAS_ENV: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: seconds a timed-out job gets, after its processes are killed, to write its failed notebook
TIMEOUT_GRACE = 30.0

#: seconds to wait for a first worker when connecting to a scheduler
WAIT_FOR_WORKERS = 60.0

R = TypeVar("R")


class ClusterError(ReportInputError):
    """The cluster cannot run this batch (unreachable scheduler, no workers, a worker that does
    not see the shared folders). The message is in Chinese and English and names the worker."""


@dataclass
class WorkerCheck:
    """What one worker found when checking the shared folders (see :func:`check_workers`)."""

    worker: str
    host: str
    problems: list[str] = field(default_factory=list)
    code: str = ""


# --------------------------------------------------------------------------------------------
# runs on the workers (module-level so that they pickle by reference)


def _check_paths_on_worker(required: list[str], writable: list[str]) -> dict:
    """Executed on every worker by ``client.run``: which paths are missing or not writable."""
    problems: list[str] = []
    for path in required:
        if not os.path.exists(path):
            problems.append(f"路径不存在 / path does not exist: {path}")
    for folder in writable:
        probe = Path(folder) / f".cluster-check-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            problems.append(f"文件夹不可写 / folder not writable: {folder} ({exc.strerror or exc})")
    try:
        from analysis.state import code_fingerprint

        code = code_fingerprint()
    except Exception as exc:  # noqa: BLE001 - a worker without the package is a finding, not a crash
        code = ""
        problems.append(f"无法导入 analysis 包 / cannot import the analysis package: {type(exc).__name__}: {exc}")
    return {"host": socket.gethostname(), "problems": problems, "code": code}


def _prepare_worker(env: dict[str, str]) -> str:
    """Executed on every worker: the environment its kernels inherit (BLAS threads, cache dir),
    and one BLAS thread for the worker process itself."""
    os.environ.update(env)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # threadpoolctl is an optimisation only; the env vars do the main work
        return socket.gethostname()
    return socket.gethostname()


def _run_with_timeout(
    fn: Callable[..., R],
    job: Any,
    args: tuple,
    timeout: float | None,
    env: dict[str, str] | None = None,
    required: tuple[str, ...] = (),
) -> tuple[str, R | None]:
    """Executed on a worker for each job: ``("ok", result)`` or ``("timeout", result or None)``.

    ``env`` is set first (a worker restarted by its nanny after a crash, or one that joined after
    :func:`check_workers`, has not had it), and the ``required`` paths are checked again (a late
    worker was never checked). An exception raised by ``fn`` propagates (Dask retries it, then the
    client records it). On timeout the processes ``fn`` started since it began (its kernel) are
    killed, so that the notebook run stops and the worker is free for the next job; one job runs
    per worker process, so no other job's kernel is touched.
    """
    if env:
        os.environ.update(env)
    missing = [p for p in required if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(
            f"工作进程 {socket.gethostname()} 上路径不存在（共享文件夹未挂载？） / path missing on "
            f"worker {socket.gethostname()} (shared folder not mounted?): {', '.join(missing)}"
        )
    if timeout is None:
        return "ok", fn(job, *args)
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = fn(job, *args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the worker's task thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"job-{getattr(job, 'key', '?')}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not thread.is_alive():
        if "error" in outcome:
            raise outcome["error"]
        return "ok", outcome["result"]
    started = [p for p in me.children(recursive=True) if p.pid not in before]
    for proc in started:
        with contextlib.suppress(psutil.Error):  # already gone
            proc.kill()
    thread.join(TIMEOUT_GRACE)
    return "timeout", outcome.get("result")


# --------------------------------------------------------------------------------------------
# runs here


def _cluster_config(retries: int) -> dict:
    """Scheduler settings the guarantees rest on (set for a LocalCluster before it starts)."""
    return {
        "distributed.scheduler.allowed-failures": retries,
        # one task assigned per worker thread: a crashing job cannot take a queued one with it
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.nanny.pre-spawn-environ": dict(BLAS_ENV),
    }


def _tune_scheduler(dask_scheduler: Any, retries: int) -> dict:
    """Executed on a remote scheduler: the same settings as :func:`_cluster_config`."""
    previous = {
        "allowed_failures": dask_scheduler.allowed_failures,
        "worker_saturation": dask_scheduler.WORKER_SATURATION,
    }
    dask_scheduler.allowed_failures = retries
    dask_scheduler.WORKER_SATURATION = 1.0
    return previous


def _restore_scheduler(dask_scheduler: Any, previous: dict) -> None:
    dask_scheduler.allowed_failures = previous["allowed_failures"]
    dask_scheduler.WORKER_SATURATION = previous["worker_saturation"]


def check_workers(
    client: Any, required: Iterable[Path | str] = (), writable: Iterable[Path | str] = ()
) -> list[WorkerCheck]:
    """Run a tiny task on every worker: the ``required`` paths exist, the ``writable`` folders accept
    a file, and the worker's ``analysis`` code is the same as here. Raises :class:`ClusterError`
    naming every worker with a problem; returns the checks when all pass."""
    from analysis.state import code_fingerprint

    required_s = [str(Path(p)) for p in required]
    writable_s = [str(Path(p)) for p in writable]
    answers = client.run(_check_paths_on_worker, required_s, writable_s)
    if not answers:
        raise ClusterError("集群中没有可用的工作进程 / the cluster has no workers")
    here = code_fingerprint()
    checks = []
    for worker, answer in sorted(answers.items()):
        check = WorkerCheck(worker, answer["host"], list(answer["problems"]), answer["code"])
        if check.code and check.code != here:
            check.problems.append(
                "工作进程上的 analysis 代码与本机不同（请使用同一版本的项目与虚拟环境） / "
                "the worker runs different analysis code (use the same checkout and venv)"
            )
        checks.append(check)
    bad = [c for c in checks if c.problems]
    if bad:
        lines = [
            (
                "集群工作进程无法访问共享文件夹，未提交任何任务 / cluster workers cannot use the shared folders; "
                "nothing was submitted:"
            )
        ]
        for c in bad:
            lines += [f"  工作进程 / worker {c.worker} ({c.host}):"] + [f"    - {p}" for p in c.problems]
        lines.append(
            "数据、参数、笔记本和报告文件夹须位于共享文件系统（如 NFS），并在每台机器上挂载于同一路径 / "
            "data, params, notebooks and reports must be on a shared filesystem (e.g. NFS) mounted at the "
            "same path on every machine."
        )
        raise ClusterError("\n".join(lines))
    return checks


def _failure_text(exc: BaseException, retries: int) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (
            f"工作进程在运行该报告时退出，已重试 {retries} 次仍失败（可能是内存不足或崩溃） / the worker died while "
            f"running this report, {retries + 1} attempt(s) (out of memory or a crash?): KilledWorker"
        )
    ename = getattr(exc, "ename", None)
    text = f"{ename}: {getattr(exc, 'evalue', '')}".strip() if ename else f"{name}: {exc}"
    return f"{text} (已尝试 {retries + 1} 次 / after {retries + 1} attempt(s))"


def _timed_out(job: Any, result: Any, timeout: float, failure: Callable[[Any, str, float], R]) -> R:
    message = f"超时：运行超过 {timeout:g} 秒，已终止 / timed out after {timeout:g} s and was stopped"
    if result is not None and is_dataclass(result) and not isinstance(result, type) and hasattr(result, "error"):
        detail = getattr(result, "error", "")
        # keeps what fn reported (e.g. the failed notebook it kept), with the timeout first
        return cast(R, replace(result, status="failed", error=f"{message}; {detail}" if detail else message))
    return failure(job, message, timeout)


def default_local_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_on_cluster(
    jobs: Sequence[Any],
    fn: Callable[..., R],
    address: str,
    *,
    failure: Callable[[Any, str, float], R],
    args: tuple = (),
    on_result: Callable[[R], None] | None = None,
    retries: int = 1,
    timeout: float | None = None,
    workers: int | None = None,
    required: Iterable[Path | str] = (),
    writable: Iterable[Path | str] = (),
    env: Mapping[str, str] | None = None,
) -> list[R]:
    """Run ``fn(job, *args)`` for every job on a Dask cluster; one result per job, in job order.

    ``address``: ``"local"`` starts a ``LocalCluster`` of ``workers`` processes (default: the
    number of cores) with one thread each, closed at the end; otherwise the scheduler's address,
    e.g. ``tcp://10.0.0.5:8786``. ``failure(job, reason, seconds)`` builds the failed result of a
    job that raised, whose worker died twice, or that timed out (``fn`` itself turns a failing
    notebook into a failed result). ``required`` paths must exist and ``writable`` folders accept
    files on every worker (:func:`check_workers`), else :class:`ClusterError` before anything runs.
    ``env`` is set on every worker (added to :data:`BLAS_ENV`) so that the kernels inherit it.
    ``on_result`` is called in this process as each result lands.
    """
    import dask
    from distributed import Client, LocalCluster, as_completed

    jobs = list(jobs)
    worker_env = {**BLAS_ENV, **(env or {})}
    cluster = None
    previous: dict | None = None
    try:
        if address == "local":
            with dask.config.set(_cluster_config(retries)), warnings.catch_warnings():
                # the metrics server falls back to a free port when 8787 is taken: not worth a warning
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                cluster = LocalCluster(
                    n_workers=max(1, min(workers or default_local_workers(), len(jobs) or 1)),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    env=worker_env,
                    silence_logs=40,
                )
                client = Client(cluster)
            previous = client.run_on_scheduler(_tune_scheduler, retries=retries)
        else:
            try:
                client = Client(address, timeout="30s")
            except OSError as exc:
                raise ClusterError(
                    f"无法连接集群调度器 {address} / cannot reach the Dask scheduler at {address}: {exc}"
                ) from exc
            previous = client.run_on_scheduler(_tune_scheduler, retries=retries)
        try:
            if address != "local":
                try:
                    client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
                except TimeoutError as exc:
                    raise ClusterError(
                        f"调度器 {address} 在 {WAIT_FOR_WORKERS:g} 秒内没有工作进程加入 / no worker joined "
                        f"the scheduler at {address} within {WAIT_FOR_WORKERS:g} s"
                    ) from exc
            required_paths = tuple(str(Path(p)) for p in required)
            check_workers(client, required_paths, writable)
            client.run(_prepare_worker, worker_env)
            if not jobs:
                return []
            # At most one job per worker thread in flight: a job is submitted when a thread is free, so a
            # worker never holds queued jobs that its crash would charge (the scheduler assigns small task
            # groups to workers eagerly), and each result is fetched and released at once, so a worker
            # dying later does not make the scheduler recompute a finished report.
            run_id = uuid.uuid4().hex[:8]
            pending = iter(enumerate(jobs))
            index_of: dict[Any, int] = {}
            started: dict[Any, float] = {}
            finished = as_completed()

            def submit_next() -> bool:
                nxt = next(pending, None)
                if nxt is None:
                    return False
                index, job = nxt
                # pure=False: a re-run of the same job is a new task; the key names the job for the dashboard
                future = client.submit(
                    _run_with_timeout,
                    fn,
                    job,
                    tuple(args),
                    timeout,
                    worker_env,
                    required_paths,
                    retries=retries,
                    pure=False,
                    key=f"report-{getattr(job, 'key', index)}-{run_id}",
                )
                index_of[future.key] = index
                started[future.key] = time.perf_counter()
                finished.add(future)
                return True

            def fill() -> None:
                capacity = max(1, sum(client.nthreads().values()))
                while len(index_of) < capacity and submit_next():
                    pass

            fill()
            results: list[Any] = [None] * len(jobs)
            for future in finished:
                index = index_of.pop(future.key)
                job = jobs[index]
                try:
                    kind, value = future.result()
                    result = value if kind == "ok" else _timed_out(job, value, float(timeout or 0), failure)
                except Exception as exc:  # noqa: BLE001 - the job raised, or its worker died: this job fails alone
                    result = failure(job, _failure_text(exc, retries), time.perf_counter() - started[future.key])
                future.release()
                results[index] = result
                if on_result is not None:
                    on_result(result)
                fill()
            return results
        finally:
            if previous is not None:
                with contextlib.suppress(Exception):  # best effort on a shared scheduler
                    client.run_on_scheduler(_restore_scheduler, previous=previous)
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


__all__ = ["BLAS_ENV", "ClusterError", "WorkerCheck", "check_workers", "run_on_cluster"]
