"""Planning a run (计划): what was asked (:class:`BatchRequest`), the checks before any work (CJK fonts,
HarfBuzz-subset, a writable reports folder), validation and state, the jobs and their fingerprints,
which are out of date, and the period lock.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from analysis.batch.jobs import (
    HEADLINE_FIGURES,
    HEADLINE_STATUSES,
    LOCK_NAME,
    NOTEBOOK_FILES,
    OVERVIEW_KEY,
    BatchSummary,
    Job,
    WorkerSettings,
)
from analysis.batch.pool import Executor
from analysis.core.contract import COUNTIES, DIVISIONS
from analysis.core.errors import ReportInputError
from analysis.core.manifest import MANIFEST_NAME, Manifest, ReportMeta
from analysis.core.periods import CHINA_TZ, chinese_date, month_label, parse_period
from analysis.core.runerrors import BatchError
from analysis.outputs.registry import DEFAULT_FORMATS, EXPORTERS, parse_formats, period_formats, report_formats
from analysis.state import State, code_fingerprint, load_state, project_root, resolve

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
    #: make PDFs even when WeasyPrint cannot load HarfBuzz-subset (ten times slower), with one warning
    allow_slow_pdf: bool = False
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
    #: formats written once for the period after the reports (the 通报 and letters: ``docx``)
    period_formats: tuple[str, ...] = ()


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
            job.notebook_path, job.failed_notebook_path, [job.output_path(f) for f in report_formats(EXPORTERS)]
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


def require_policy_year(params_dir: Path, year: int) -> None:
    """Refuse, before any work, a period whose year has no policy file (a typo such as 2031-12)."""
    from analysis.core.policy import policy_path

    path = policy_path(params_dir, year)
    if path.is_file():
        return
    years = sorted(p.stem.removeprefix("policy-") for p in Path(params_dir).glob("policy-*.yaml"))
    raise ReportInputError(
        f"{year}年无考核规则参数文件 / no policy file for {year}: {path} 不存在 / does not exist; "
        f"已有年度 / years with a policy: {'、'.join(years) or '无 / none'}"
        + ("" if Path(params_dir).is_dir() else f"（参数目录不存在 / the params folder {params_dir} does not exist）")
    )


def cover_issue_date(params_dir: Path | str, period_end: date) -> date:
    """The 印发日期 on the reports' covers: the date the Word drafts carry, from the period by
    ``documents.yaml``'s ``issue_date`` rule (2023-12 → 2024-01-22), never the machine's clock, so a
    run for a past period dates its covers as the office would have then."""
    from analysis.outputs.documents.templates import load_settings

    end = period_end.date() if isinstance(period_end, datetime) else period_end
    return load_settings(params_dir).issue_date.date_for(end)


def cover(job: Job, policy, period_end: date, issued: date) -> dict[str, str]:
    """What the PDF cover of ``job`` prints (:func:`analysis.outputs.pdf.cover_html`'s arguments)."""
    overview = job.key == OVERVIEW_KEY
    return {
        "title": "全市小微企业金融服务情况总览" if overview else "小微企业金融服务监管评价报告",
        "name": f"{policy.jurisdiction}银行保险机构" if overview else job.title,
        "period_label": month_label(period_end),
        "office": policy.issuing_office,
        "issued": chinese_date(issued),
        "notice": policy.notice,
    }


def plan(request: BatchRequest) -> BatchPlan:
    """Validate, resolve paths, decide the jobs (does not lock: :func:`run` locks around it)."""
    started = time.perf_counter()
    formats = parse_formats(request.formats)
    data_dir, params_dir = resolve(request.data_dir), resolve(request.params_dir)
    require_policy_year(params_dir, parse_period(request.period).year)  # a bad period stops before any work
    root = project_root()
    notebooks_dir = resolve(request.notebooks_dir) if request.notebooks_dir else root / "notebooks"
    from analysis.content.fonts import require_cjk_fonts

    require_cjk_fonts(pdf="pdf" in formats)  # stops before any work, with the install hint (WeasyPrint would crash)
    for fmt in formats:
        # e.g. a document template naming an unknown field: the templates of the run's year
        EXPORTERS[fmt].check_params(params_dir, request.period)
    per_period, formats = period_formats(formats), report_formats(formats)
    if "pdf" in formats:
        from analysis.outputs.pdf import require_harfbuzz_subset

        # stops before any work when PDFs would take ten times as long, unless --allow-slow-pdf
        slow_pdf = require_harfbuzz_subset(request.allow_slow_pdf)
        if slow_pdf:
            print(slow_pdf, file=sys.stderr)
    from analysis.inputs.loans import print_progress

    # validates: bad input stops here, before any report is written; the loan checks' phases go to
    # the batch's log (standard error) when they are computed, not when the state is cached
    state = load_state(data_dir, params_dir, progress=print_progress)
    period_end = parse_period(request.period)
    policy = state.policy(period_end.year)
    ids = select_institutions(state, request.period, request.institutions, request.division)
    if (Path(params_dir) / "models.yaml").exists():
        from analysis.models import load_models

        load_models(state, period_end)  # fitted once here; every notebook reads the cached results
    out_dir = _reports_dir(request) / f"{period_end:%Y-%m}"
    jobs = plan_jobs(state, request.period, ids, out_dir, data_dir, params_dir, notebooks_dir, request.include_overview)
    _attach_scores(state, period_end, jobs)
    generated = datetime.now(CHINA_TZ)  # the footer's 生成于 and the manifest's time, never the cover's date
    issued = cover_issue_date(params_dir, period_end)
    for job in jobs:
        job.cover = cover(job, policy, period_end, issued)
    if period_end in state.citywide.index:
        figures = {k: _plain(v) for k, v in state.citywide.loc[period_end].items()}
        for job in jobs:
            if job.key == OVERVIEW_KEY:
                job.meta["figures"] = figures
    manifest_path = out_dir / MANIFEST_NAME
    manifest = Manifest.load(manifest_path)
    todo = [j for j in jobs if request.force or not _up_to_date(j, manifest, formats)]
    footer = (
        f"{policy.issuing_office} · 小微企业金融服务监管评价 · {month_label(period_end)} · "
        f"生成于 {generated:%Y-%m-%d %H:%M}"
    )
    settings = WorkerSettings(
        cwd=str(root),
        footer=footer,
        period=f"{period_end:%Y-%m}",
        formats=formats,
        timeout=request.timeout,
        warm_kernels=request.warm_kernels,
        allow_slow_pdf=request.allow_slow_pdf,
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
        per_period,
    )


def _reports_dir(request: BatchRequest) -> Path:
    reports_dir = Path(request.reports_dir)
    return reports_dir if reports_dir.is_absolute() else project_root() / reports_dir
