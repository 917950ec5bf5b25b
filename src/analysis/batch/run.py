"""A whole run (运行): plan, execute on an executor with a progress bar, record, then the period's
summaries while still holding the lock; and the text summary the command line prints.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from analysis.batch.jobs import BatchSummary, JobResult
from analysis.batch.plan import (
    BatchPlan,
    BatchRequest,
    _reports_dir,
    _up_to_date,
    check_writable,
    clean_stale_parts,
    data_generation,
    default_workers,
    period_lock,
    plan,
    select_institutions,
)
from analysis.batch.pool import ClusterExecutor, Executor, OnResult, ProcessPool, StopRun
from analysis.batch.record import _entry, record, record_period_files, start_generation, write_period_outputs
from analysis.core.manifest import MANIFEST_NAME, Manifest
from analysis.core.periods import parse_period
from analysis.core.runerrors import BatchError
from analysis.outputs.registry import parse_formats
from analysis.state import State, load_state, project_root, resolve

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
        if batch.period_formats and not any(r.status == "aborted" for r in results):
            results += write_period_outputs(
                batch.state, batch.period, batch.out_dir, batch.period_formats, batch.generated, batch.manifest
            )
        # saved once more: the period files are recorded on the entries, and after a failed save the
        # failed reports' files are gone, so there may be room now
        if unsaved or unrecorded or batch.period_formats:
            try:
                batch.manifest.save(batch.manifest_path)
                unsaved.clear()
                unrecorded.clear()
            except OSError as exc:
                unsaved[:] = [f"{exc.strerror or exc} ({batch.manifest_path})"]
        results += _score_notes(batch.state, batch.period)
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


def run_documents(
    period: str,
    data_dir: Path | str = "data/demo",
    params_dir: Path | str = "params",
    reports_dir: Path | str = "reports",
    **options: Any,
):
    """``analysis docs``: the period's 通报 and letters on their own (``options``: ``issued``,
    ``reply_by``), under the period lock. Recorded in the manifest, so the site links them, when the
    period's reports were made from the same data; returns (PeriodDocuments, out_dir, recorded)."""
    from analysis.outputs.documents import check_templates, write_documents

    data_dir, params_dir = resolve(data_dir), resolve(params_dir)
    check_templates(params_dir)  # a bad template stops here, before the data are even read
    state = load_state(data_dir, params_dir)
    select_institutions(state, period)  # refuses a period without data
    reports = Path(reports_dir) if Path(reports_dir).is_absolute() else project_root() / reports_dir
    out_dir = reports / f"{parse_period(period):%Y-%m}"
    check_writable(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with period_lock(out_dir):
        written = write_documents(state, f"{parse_period(period):%Y-%m}", out_dir, params_dir, **options)
        manifest_path = out_dir / MANIFEST_NAME
        recorded = manifest_path.exists() and Manifest.load(manifest_path).generation == data_generation(state)
        if recorded:
            manifest = Manifest.load(manifest_path)
            record_period_files(manifest, "docx", written.files)
            manifest.save(manifest_path)
    return written, out_dir, recorded


def write_indicator_workbook(state: State, period: str, out_dir: Path) -> Path:
    from analysis.outputs.excel import write_indicator_workbook as write

    return write(state, parse_period(period), out_dir / "indicators.xlsx")


#: the run summary's line about score cards (监管评价)
SCORES_KEY = "监管评价 / score cards"


def _score_notes(state: State, period: str) -> list[JobResult]:
    """The summary's line about score cards: a year without a scoring table (params/scoring-YYYY.yaml)
    says that no score card is computed (:meth:`State.scores` takes the table of the period's year only,
    never another year's). A note, not a report: counted in none of the statuses."""
    from analysis.rules.scoring import no_table_note

    end = parse_period(period)
    if state.scores(end)[0] is not None:
        return []
    return [JobResult(SCORES_KEY, "note", warnings=[no_table_note(end.year, state.params_dir)])]


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
    lines += [f"  · {r.key}: {note}" for r in summary.results if r.status == "note" for note in r.warnings]
    for r in summary.results:
        for warning in r.warnings if r.status != "note" else ():
            lines.append(f"  ⚠ {r.key}: {warning}")
    for r in summary.failed:
        attempts = f"（共尝试 {r.attempts} 次 / {r.attempts} attempts）" if r.attempts > 1 else ""
        lines.append(f"  ✗ {r.key}: {r.error}{attempts}")
        if r.failed_notebook:
            lines.append(f"    已执行的笔记本 / executed notebook: {r.failed_notebook}")
    return "\n".join(lines)
