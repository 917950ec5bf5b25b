"""Notebook execution for the batch (笔记本执行引擎): papermill, with warm kernels.

Every report is executed by ``papermill.execute_notebook`` (the injected parameters cell stays).
Two additions:

- the papermill engine ``analysis`` (registered here) is papermill's nbclient engine that, when a
  notebook fails in any way — an error in a cell, a kernel that died, a cell that ran past the
  timeout — still writes the notebook as far as it got, so the failure can be read;
- :class:`WarmKernel` keeps one started kernel per batch worker and hands it to papermill
  (``km=``, which papermill passes to nbclient) with one connected client (``kc=``: a new
  client costs a kernel-info round trip and ZeroMQ's slow-joiner wait, about 0.2–0.5 s per
  report, twice with the reset). The kernel imports pandas, matplotlib and
  this package once (:mod:`analysis.batch.kernelreset`); before each notebook its
  namespace and settings are put back as a fresh kernel's would be. A kernel that died or timed
  out is shut down and a new one started for the next report, so only its own report fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.iorw import write_ipynb
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

ENGINE_NAME = "analysis"
KERNEL_NAME = "python3"


class KernelTimeoutError(TimeoutError):
    pass


class KernelStartupError(RuntimeError):
    """The kernel died while it was being started or prepared (its prelude or reset): said at
    once, instead of waiting out the start-up timeout for output that will never come."""


class KeepingEngine(NBClientEngine):
    """nbclient engine that writes the partial notebook to ``keep_path`` on any failure and closes
    the per-notebook client channels when the kernel is not its own."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        keep_path=None,
        kc=None,
        **kwargs,
    ):
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout or kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client = PapermillNotebookClient(nb_man, **final_kwargs)
        if kc is not None:
            client.kc = kc  # nbclient starts a client only when it has none
            kc.allow_stdin = False
        try:
            return client.execute()
        except BaseException:
            if keep_path:
                write_ipynb(nb_man.nb, str(keep_path))
            raise
        finally:
            if kc is not None:
                client.kc = None  # the warm kernel's client: it stays connected for the next report
            elif not client.owns_km and client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register(ENGINE_NAME, KeepingEngine)


def _run_sync(coroutine_function):
    from jupyter_core.utils import run_sync

    return run_sync(coroutine_function)


class WarmKernel:
    """One started kernel reused across notebooks; see the module docstring."""

    def __init__(
        self,
        cwd: Path | str,
        kernel_name: str = KERNEL_NAME,
        prelude: tuple[str, ...] | None = None,
        startup_timeout: float = 120.0,
        env: dict[str, str] | None = None,
        on_start: Callable[[int], None] | None = None,
    ):
        self.cwd = str(cwd)
        self.kernel_name = kernel_name
        self.prelude = prelude
        self.startup_timeout = startup_timeout
        self.env = env
        self.on_start = on_start  # told the pid of every kernel started (the pool kills it if the worker dies)
        self.km: Any = None
        self.kc: Any = None  # one connected client for the kernel's life
        self.starts = 0
        self.notebooks = 0

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def _died(self, during: str) -> KernelStartupError:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "exited"
        zh = {"start-up": "启动", "reset": "重置"}.get(during, during)
        return KernelStartupError(
            f"内核在{zh}时退出（{how}），未等待超时 / the kernel died during {during} ({how}); "
            f"not waiting for the {self.startup_timeout:g}s start-up timeout"
        )

    def _execute(self, code: str, timeout: float, during: str = "start-up") -> None:
        """Run ``code`` and wait for its reply, checking twice a second that the kernel is alive
        (``execute_interactive`` would wait the whole ``timeout`` for a kernel that has died)."""
        import queue

        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = _run_sync(self.kc.get_shell_msg)(timeout=0.5)
            except queue.Empty:
                if not self.alive():
                    raise self._died(during) from None
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"内核准备超时（{timeout:g} 秒）/ kernel preparation timed out after {timeout:g}s"
                    ) from None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        self._drain_iopub()
        content = reply["content"]
        if content["status"] != "ok":
            detail = f"{content.get('ename', '')}: {content.get('evalue', '')}".strip(": ") or str(content)
            raise RuntimeError(f"内核准备失败 / kernel preparation failed: {detail}")

    def _drain_iopub(self) -> None:
        """Read what the preparation printed, so no stale message reaches the next notebook."""
        import queue

        while True:
            try:
                _run_sync(self.kc.get_iopub_msg)(timeout=0.05)
            except queue.Empty:
                return

    def start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=self.kernel_name)
        kwargs: dict[str, Any] = {"cwd": self.cwd}
        if self.env is not None:
            kwargs["env"] = self.env
        _run_sync(self.km.start_kernel)(**kwargs)
        self.starts += 1
        if self.on_start is not None and self.pid:
            self.on_start(self.pid)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            _run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        except RuntimeError:  # jupyter_client: "Kernel died before replying to kernel_info"
            if not self.alive():
                raise self._died("start-up") from None
            raise
        modules = "" if self.prelude is None else repr(tuple(self.prelude))
        self._execute(
            f"__import__('analysis.batch.kernelreset').batch.kernelreset.prelude({modules})", self.startup_timeout
        )

    def alive(self) -> bool:
        return self.km is not None and bool(_run_sync(self.km.is_alive)())

    def ready(self) -> Any:
        """The kernel manager, started if needed and put back to a fresh state."""
        if not self.alive():
            self.shutdown()
            self.start()
        elif self.notebooks:
            try:
                self._execute(
                    "__import__('analysis.batch.kernelreset').batch.kernelreset.restore()",
                    self.startup_timeout,
                    "reset",
                )
            except Exception:  # noqa: BLE001 - a kernel that cannot be reset is replaced
                self.shutdown()
                self.start()
        self.notebooks += 1
        return self.km

    def shutdown(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001, S110 - closing a dead kernel's sockets
                pass
            self.kc = None
        if self.km is None:
            return
        try:
            _run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001, S110 - already dead
            pass
        try:
            _run_sync(self.km.cleanup_resources)()
        except Exception:  # noqa: BLE001, S110 - nothing left to clean
            pass
        self.km = None


def execute_notebook(
    notebook: Path | str,
    output: Path | str,
    parameters: dict,
    cwd: Path | str,
    timeout: float | None = None,
    kernel: WarmKernel | None = None,
) -> None:
    """Run one notebook with papermill into ``output``; on failure the partial notebook is at
    ``output`` too and the exception is raised. With ``kernel`` the warm kernel is used and, if
    the failure may have left it unusable (dead, timed out), shut down for a fresh one."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    extra: dict[str, Any] = {}
    if kernel is not None:
        extra["km"] = kernel.ready()
        extra["kc"] = kernel.kc
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            engine_name=ENGINE_NAME,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            execution_timeout=timeout,
            keep_path=str(output),
            **extra,
        )
    except PapermillExecutionError:
        raise  # an error in a cell: the kernel itself is fine
    except BaseException as exc:
        if kernel is not None:
            kernel.shutdown()
        from nbclient.exceptions import CellTimeoutError

        if isinstance(exc, CellTimeoutError):
            raise KernelTimeoutError(
                f"单元格执行超时（{timeout:g} 秒），内核已终止 / a cell ran past the "
                f"{timeout:g}s timeout; the kernel was stopped "
                f"(after {time.perf_counter() - started:.0f}s)"
            ) from exc
        raise


__all__ = ["ENGINE_NAME", "KernelStartupError", "KernelTimeoutError", "WarmKernel", "execute_notebook"]
