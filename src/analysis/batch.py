"""Batch runs (批量生成): one report notebook per institution plus the city overview, in parallel.

- executed notebooks go to ``reports/<period>/notebooks/``, HTML to ``reports/<period>/``;
- every file is written to a temporary name and moved into place, so a finished report is
  never replaced by a half-written one;
- one institution failing never stops the others: its executed notebook is kept under
  ``notebooks/failed/`` for diagnosis and the run exits non-zero at the end;
- a report whose notebook, parameters, input files, params and package code are unchanged
  is skipped unless ``force``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analysis.contract import COUNTIES, DIVISIONS
from analysis.files import atomic_write_text
from analysis.errors import ReportInputError
from analysis.periods import CHINA_TZ, parse_period
from analysis.state import State, code_fingerprint, load_state, project_root, resolve

OVERVIEW_KEY = "overview"
NOTEBOOK_FILES = {"bank": "institution_report.ipynb", "insurer": "insurer_report.ipynb",
                  OVERVIEW_KEY: "city_overview.ipynb"}
HEADLINE_STATUSES = {"two_increases": "status_two_increases", "plan": "status_plan",
                     "rate": "status_rate_change", "npl": "status_npl"}


@dataclass
class Job:
    key: str
    title: str
    notebook: str
    parameters: dict
    html_path: str
    notebook_path: str
    fingerprint: str
    meta: dict = field(default_factory=dict)
    pdf_path: str = ""
    cover: dict = field(default_factory=dict)


@dataclass
class JobResult:
    key: str
    status: str  # done | skipped | failed
    seconds: float = 0.0
    error: str = ""
    failed_notebook: str = ""


@dataclass
class BatchSummary:
    period: str
    out_dir: Path
    results: list[JobResult]
    seconds: float

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "failed"]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fingerprint(notebook: Path, parameters: dict, state: State) -> str:
    payload = {"notebook": _sha256_file(notebook), "parameters": parameters, "inputs": state.hashes,
               "code": code_fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def select_institutions(state: State, period: str, institutions: list[str] | None = None,
                        division: str | None = None) -> list[str]:
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


def plan_jobs(state: State, period: str, institution_ids: list[str], out_dir: Path, data_dir: Path,
              params_dir: Path, notebooks_dir: Path, include_overview: bool = True) -> list[Job]:
    period_end = parse_period(period)
    ind = state.indicators
    rows = ind[(ind["period"] == period_end)].set_index("institution_id")
    common = {"period": f"{period_end:%Y-%m}", "data_dir": str(data_dir), "params_dir": str(params_dir)}
    jobs = []
    for iid in institution_ids:
        r = rows.loc[iid]
        notebook = notebooks_dir / NOTEBOOK_FILES[r["sector"]]
        parameters = {"institution_id": iid, **common}
        jobs.append(Job(
            key=iid, title=str(r["name"]), notebook=str(notebook), parameters=parameters,
            html_path=str(out_dir / f"{iid}.html"), notebook_path=str(out_dir / "notebooks" / f"{iid}.ipynb"),
            fingerprint=_fingerprint(notebook, parameters, state),
            meta={"name": r["name"], "category": r["category"], "entity_type": r["entity_type"],
                  "division": r["division"], "county_code": r["county_code"],
                  "county": COUNTIES.get(str(r["county_code"]), str(r["county_code"])), "sector": r["sector"],
                  "verdicts": {k: r[c] for k, c in HEADLINE_STATUSES.items()}}))
    if include_overview:
        notebook = notebooks_dir / NOTEBOOK_FILES[OVERVIEW_KEY]
        jobs.insert(0, Job(
            key=OVERVIEW_KEY, title="全市小微企业金融服务情况总览", notebook=str(notebook), parameters=common,
            html_path=str(out_dir / "overview.html"), notebook_path=str(out_dir / "notebooks" / "overview.ipynb"),
            fingerprint=_fingerprint(notebook, common, state), meta={"name": "全市总览"}))
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


def run_job(job: Job, cwd: str, footer: str, formats: tuple[str, ...] = ("html", "pdf")) -> JobResult:
    """Execute one notebook and export its HTML and/or PDF (runs in a worker process)."""
    import nbformat
    import papermill

    from analysis.render import notebook_to_html

    _quiet_kernels()
    start = time.perf_counter()
    html_path, nb_path = Path(job.html_path), Path(job.notebook_path)
    nb_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = nb_path.with_name(f".{nb_path.stem}.{os.getpid()}.part.ipynb")
    try:
        papermill.execute_notebook(job.notebook, str(tmp_nb), parameters=job.parameters, kernel_name="python3",
                                   cwd=cwd, progress_bar=False, log_output=False,
                                   request_save_on_cell_execute=False)
        html = notebook_to_html(nbformat.read(str(tmp_nb), as_version=4), title=job.title, footer=footer)
        if "pdf" in formats and job.pdf_path:
            from analysis.pdf import report_pdf

            report_pdf(html, job.pdf_path, **job.cover)
        if "html" in formats:
            atomic_write_text(html_path, html)
        os.replace(tmp_nb, nb_path)
        return JobResult(job.key, "done", time.perf_counter() - start)
    except Exception as exc:  # one institution's failure is reported, never raised
        failed = nb_path.parent / "failed" / nb_path.name
        if tmp_nb.exists():
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_nb, failed)
        # an older report must not pass for this run's result
        for stale in (html_path, nb_path, Path(job.pdf_path) if job.pdf_path else None):
            if stale is not None and stale.exists():
                stale.unlink()
        return JobResult(job.key, "failed", time.perf_counter() - start, _error_text(exc),
                         str(failed) if failed.exists() else "")
    finally:
        if tmp_nb.exists():
            tmp_nb.unlink()


def _load_manifest(path: Path) -> dict:
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pass
    return {"jobs": {}}


def _up_to_date(job: Job, manifest: dict, formats: tuple[str, ...]) -> bool:
    entry = manifest.get("jobs", {}).get(job.key)
    outputs = [Path(job.html_path)] * ("html" in formats) + [Path(job.pdf_path)] * ("pdf" in formats)
    return bool(entry and entry.get("status") == "done" and entry.get("fingerprint") == job.fingerprint
                and all(p.exists() for p in outputs))


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_batch(period: str, *, data_dir: Path | str = "data/demo", params_dir: Path | str = "params",
              reports_dir: Path | str = "reports", institutions: list[str] | None = None,
              division: str | None = None, workers: int | None = None, force: bool = False,
              notebooks_dir: Path | str | None = None, progress: bool = True,
              include_overview: bool = True, formats: tuple[str, ...] = ("html", "pdf"),
              after_jobs=None) -> BatchSummary:
    """Run the reports of ``period``; see the module docstring for the guarantees."""
    started = time.perf_counter()
    data_dir, params_dir = resolve(data_dir), resolve(params_dir)
    root = project_root()
    reports_dir = Path(reports_dir) if Path(reports_dir).is_absolute() else root / reports_dir
    notebooks_dir = resolve(notebooks_dir) if notebooks_dir else root / "notebooks"
    os.environ.setdefault("ANALYSIS_CACHE_DIR", str(reports_dir / ".cache"))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # kernels run side by side: one BLAS thread each
    state = load_state(data_dir, params_dir)  # validates: bad input stops here, before any report is written
    period_end = parse_period(period)
    state.policy(period_end.year)
    ids = select_institutions(state, period, institutions, division)
    if (Path(params_dir) / "models.yaml").exists():
        from analysis.models import load_models

        load_models(state, period_end)  # fitted once here; every notebook reads the cached results
    out_dir = reports_dir / f"{period_end:%Y-%m}"
    jobs = plan_jobs(state, period, ids, out_dir, data_dir, params_dir, notebooks_dir, include_overview)
    _attach_scores(state, period_end, jobs)
    manifest_path = out_dir / "manifest.json"
    manifest = _load_manifest(manifest_path)
    generated = datetime.now(CHINA_TZ)
    policy = state.policy(period_end.year)
    for job in jobs:
        job.pdf_path = str(Path(job.html_path).with_suffix(".pdf"))
        job.cover = {"title": "全市小微企业金融服务情况总览" if job.key == OVERVIEW_KEY else "小微企业金融服务监管评价报告",
                     "name": "南阳市银行保险机构" if job.key == OVERVIEW_KEY else job.title,
                     "period_label": f"{period_end:%Y年%m月}", "office": policy.issuing_office,
                     "issued": f"{generated:%Y年%m月%d日}", "notice": policy.notice}
    todo = [j for j in jobs if force or not _up_to_date(j, manifest, formats)]
    results = [JobResult(j.key, "skipped") for j in jobs if j not in todo]
    footer = (f"{state.policy(period_end.year).issuing_office} · 小微企业金融服务监管评价 · {period_end:%Y年%m月} · "
              f"生成于 {generated:%Y-%m-%d %H:%M}")

    if todo:
        from tqdm import tqdm

        workers = max(1, min(workers or default_workers(), len(todo)))
        titles = {j.key: j.title for j in todo}
        bar = tqdm(total=len(todo), desc=f"生成报告 {period_end:%Y-%m}", unit="份", disable=not progress,
                   file=sys.stderr, dynamic_ncols=True)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_job, job, str(root), footer, formats): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker itself died
                    result = JobResult(job.key, "failed", 0.0, _error_text(exc))
                results.append(result)
                mark = "✗" if result.status == "failed" else "✓"
                bar.set_postfix_str(f"{mark} {titles[job.key]} ({result.seconds:.1f}s)")
                bar.update(1)
        bar.close()

    by_key = {r.key: r for r in results}
    manifest["period"] = f"{period_end:%Y-%m}"
    if period_end in state.citywide.index:
        city = state.citywide.loc[period_end]
        manifest["citywide"] = {k: (None if v != v else (bool(v) if k.endswith("_met") else float(v)))
                                for k, v in city.items()}
    manifest["updated"] = generated.isoformat(timespec="seconds")
    manifest.setdefault("jobs", {})
    for job in jobs:
        result = by_key[job.key]
        if result.status == "skipped":
            continue
        entry = {**job.meta, "title": job.title,
                 "html": Path(job.html_path).name if "html" in formats else "",
                 "pdf": Path(job.pdf_path).name if "pdf" in formats else "",
                 "notebook": f"notebooks/{Path(job.notebook_path).name}", "fingerprint": job.fingerprint,
                 "status": result.status, "seconds": round(result.seconds, 2),
                 "generated": generated.isoformat(timespec="seconds")}
        if result.status == "failed":
            entry.update(error=result.error, failed_notebook=result.failed_notebook, fingerprint="")
        manifest["jobs"][job.key] = entry
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
    summary = BatchSummary(f"{period_end:%Y-%m}", out_dir, results, time.perf_counter() - started)
    if after_jobs is not None:
        after_jobs(state, summary)
    return summary


def write_indicator_workbook(state: State, period: str, out_dir: Path) -> Path:
    from analysis.export import write_indicator_workbook as write

    return write(state, parse_period(period), out_dir / "indicators.xlsx")


def format_summary(summary: BatchSummary) -> str:
    lines = [f"{summary.period}: 完成 {summary.count('done')} 份，未变化跳过 {summary.count('skipped')} 份，"
             f"失败 {summary.count('failed')} 份 / done {summary.count('done')}, skipped {summary.count('skipped')}, "
             f"failed {summary.count('failed')} — {summary.seconds:.1f}s → {summary.out_dir}"]
    for r in summary.failed:
        lines.append(f"  ✗ {r.key}: {r.error}")
        if r.failed_notebook:
            lines.append(f"    已执行的笔记本 / executed notebook: {r.failed_notebook}")
    return "\n".join(lines)


__all__ = ["Job", "JobResult", "BatchSummary", "run_batch", "format_summary", "select_institutions"]
