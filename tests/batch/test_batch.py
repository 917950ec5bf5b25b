"""End to end: the batch runs notebooks with papermill, exports HTML, isolates failures, skips
up-to-date reports. Slow (real kernels); marked so `make test-fast` can leave it out."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.batch import (
    Job,
    ProcessPool,
    WorkerSettings,
    format_summary,
    inside,
    period_lock,
    run_batch,
    run_job,
)
from analysis.core.manifest import Manifest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))


def verdict_status(html: str, label: str) -> str:
    """The status shown on the verdict card whose label is ``label``."""
    match = re.search(
        r'<div class="verdict verdict-([a-z_]+)"><div class="verdict-head"><span class="verdict-label">'
        + re.escape(label),
        html,
    )
    assert match, f"no verdict card {label}"
    return match.group(1)


def test_batch_writes_html_with_the_engine_verdicts(tmp_path, demo_csv_dir, cache):
    reports = tmp_path / "reports"
    out = reports / "2023-12"
    (out / "notebooks").mkdir(parents=True)
    stale = [out / ".B017.html.x1y2.html.part", out / "notebooks" / ".B030.4242.part.ipynb"]  # a killed run's
    for path in stale:
        path.write_text("half a file")
    summary = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=["B017", "B030", "I003"],
        workers=2,
        progress=False,
    )
    assert not summary.failed, format_summary(summary)
    for name in (
        "B017.html",
        "B030.html",
        "I003.html",
        "overview.html",
        "notebooks/B017.ipynb",
        "notebooks/overview.ipynb",
        "manifest.json",
    ):
        assert (out / name).exists(), name
    b017 = (out / "B017.html").read_text(encoding="utf-8")
    assert verdict_status(b017, "“两增”·贷款增速") == "not_met"
    assert verdict_status(b017, "“两增”·贷款户数") == "met"
    b030 = (out / "B030.html").read_text(encoding="utf-8")
    assert verdict_status(b030, "资产质量（不良容忍度）") == "not_met"
    i003 = (out / "I003.html").read_text(encoding="utf-8")
    assert verdict_status(i003, "小微企业保险保费收入同比增速") == "watch"
    # self-contained, no code, no parameters, provenance at the end
    assert "<script" not in b017 and "http://" not in b017 and "https://" not in b017
    assert "institution_id = " not in b017 and "report.header(ctx)" not in b017
    assert b017.count('src="data:image/png;base64,') == 8  # 6 indicator charts + forecast + rate trend
    assert 'alt="2023年普惠型小微企业贷款余额与信贷计划进度"' in b017
    assert "报告来源信息" in b017 and "sha256" in b017
    assert '<html lang="zh-CN">' in b017
    # no other institution is named in an institution's report
    names = pd.read_csv(demo_csv_dir / "机构名录.csv")["机构名称"]
    assert not [n for n in names if n != "宛城农村商业银行（示例）" and n in b017]
    manifest = Manifest.load(out / "manifest.json")
    assert manifest.entries["B017"].meta.verdicts["two_increases"] == "not_met"
    assert manifest.entries["B017"].outputs == {"html": "B017.html", "pdf": "B017.pdf"}
    assert not list(out.rglob("*.part*"))

    again = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=["B017", "B030", "I003"],
        workers=2,
        progress=False,
    )
    assert again.count("skipped") == 4 and again.count("done") == 0
    forced = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=["B017"],
        workers=1,
        progress=False,
        force=True,
    )
    assert forced.count("done") == 2  # B017 and the overview


def test_one_failure_never_stops_the_others(tmp_path, demo_csv_dir, cache):
    data = tmp_path / "data"
    shutil.copytree(demo_csv_dir, data)
    inst = pd.read_csv(data / "机构名录.csv", dtype=str, keep_default_na=False)
    inst.loc[inst["机构编码"] == "B012", "机构名称"] = "恒信银行南阳分行（故障示例）"
    inst.to_csv(data / "机构名录.csv", index=False, encoding="utf-8-sig")
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = nbformat.read(notebooks / "institution_report.ipynb", as_version=4)
    nb.cells.insert(
        3, nbformat.v4.new_code_cell('if "故障" in ctx.name:\n    raise ValueError("该机构数据触发报告错误")')
    )
    nbformat.write(nb, notebooks / "institution_report.ipynb")

    reports = tmp_path / "reports"
    summary = run_batch(
        "2023-12",
        data_dir=data,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=["B010", "B012", "B011"],
        workers=2,
        progress=False,
        notebooks_dir=notebooks,
    )
    out = reports / "2023-12"
    assert [r.key for r in summary.failed] == ["B012"]
    assert "ValueError" in summary.failed[0].error
    assert (out / "B010.html").exists() and (out / "B011.html").exists() and (out / "overview.html").exists()
    assert not (out / "B012.html").exists()
    failed_nb = Path(summary.failed[0].failed_notebook)
    assert failed_nb.exists() and failed_nb.parent.name == "failed"
    text = format_summary(summary)
    assert "B012" in text and str(failed_nb) in text
    manifest = Manifest.load(out / "manifest.json")
    assert manifest.entries["B012"].status == "failed"


def _run_args(data, reports, *extra: str, params: bool = True) -> list[str]:
    """``python -m analysis.cli run --period 2023-12 --data … --reports …`` and ``extra``."""
    args = [sys.executable, "-m", "analysis.cli", "run", "--period", "2023-12", "--data", str(data)]
    if params:
        args += ["--params", str(ROOT / "params")]
    return [*args, "--reports", str(reports), *extra]


def _cli_run(data, reports, *extra: str, params: bool = True) -> subprocess.CompletedProcess:
    """The run command as an analyst types it, in a new process; its exit status and output."""
    return subprocess.run(
        _run_args(data, reports, *extra, params=params), capture_output=True, text=True, cwd=ROOT, check=False
    )


def _bad_data(tmp_path, demo_csv_dir) -> Path:
    """A copy of the demo data with a negative loan balance (refused by validation)."""
    data = tmp_path / "data"
    shutil.copytree(demo_csv_dir, data)
    monthly = pd.read_csv(data / "月度监测.csv", dtype=str, keep_default_na=False)
    monthly.loc[0, "各项贷款余额"] = "-1"
    monthly.to_csv(data / "月度监测.csv", index=False, encoding="utf-8-sig")
    return data


def test_cli_run_refuses_bad_data_and_writes_nothing(tmp_path, demo_csv_dir):
    data = _bad_data(tmp_path, demo_csv_dir)
    reports = tmp_path / "reports"
    result = _cli_run(data, reports, "--quiet")
    assert result.returncode == 1
    assert "negative" in result.stderr
    assert not reports.exists()


def test_cli_run_unknown_division(tmp_path, demo_csv_dir):
    result = _cli_run(demo_csv_dir, tmp_path / "r", "--division", "稽查科", params=False)
    assert result.returncode == 1 and "监管科室" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- faults (issue 11)


def _fake_jobs(out: Path, *keys: str) -> list[Job]:
    return [Job(key=k, title=k, notebook="", parameters={}, out_dir=str(out), fingerprint="") for k in keys]


def _settings(tmp_path, timeout=None) -> WorkerSettings:
    return WorkerSettings(
        cwd=str(tmp_path), footer="", period="2023-12", formats=("html",), timeout=timeout, warm_kernels=False
    )


def test_a_dying_worker_costs_only_its_own_report_retried_once(tmp_path):
    results = {}
    pool = ProcessPool(2, retries=1, task="tests.batch.batch_tasks:fake_report")
    jobs = _fake_jobs(tmp_path, "ok-1", "die-always", "ok-2", "die-once", "ok-3", "ok-4")
    pool.run(jobs, _settings(tmp_path), lambda r: results.setdefault(r.key, r))
    assert sorted(results) == sorted(j.key for j in jobs)
    assert [k for k, r in results.items() if r.status == "done"] == [k for k in results if k != "die-always"]
    dead = results["die-always"]
    assert dead.status == "failed" and dead.attempts == 2 and "SIGKILL" in dead.error
    assert results["die-once"].status == "done" and results["die-once"].attempts == 2


def test_a_report_past_its_timeout_is_stopped_alone(tmp_path):
    import time

    results = {}
    pool = ProcessPool(2, task="tests.batch.batch_tasks:fake_report", kill_grace=0.5)
    started = time.perf_counter()
    pool.run(
        _fake_jobs(tmp_path, "hang", "ok-1", "ok-2"),
        _settings(tmp_path, timeout=1.0),
        lambda r: results.setdefault(r.key, r),
    )
    assert time.perf_counter() - started < 60
    assert results["hang"].status == "failed" and "timeout" in results["hang"].error
    assert results["ok-1"].status == results["ok-2"].status == "done"


def test_a_full_disk_stops_the_run(tmp_path):
    results = []
    pool = ProcessPool(1, task="tests.batch.batch_tasks:fake_report")
    pool.run(_fake_jobs(tmp_path, "disk-full", "ok-1", "ok-2"), _settings(tmp_path), results.append)
    assert [r.status for r in results] == ["failed", "aborted", "aborted"]
    assert "No space left" in results[1].error


def test_worker_killed_mid_report_end_to_end(tmp_path, demo_csv_dir, cache):
    """A kernel cell kills its worker (as an OOM kill would): today's ProcessPoolExecutor then
    fails every pending report with BrokenProcessPool."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = nbformat.read(notebooks / "institution_report.ipynb", as_version=4)
    nb.cells.insert(
        3,
        nbformat.v4.new_code_cell(
            'if institution_id == "B012":\n    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)'
        ),
    )
    nbformat.write(nb, notebooks / "institution_report.ipynb")
    summary = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=tmp_path / "r",
        institutions=["B010", "B012", "B011"],
        workers=1,
        progress=False,
        notebooks_dir=notebooks,
        include_overview=False,
        formats=("html",),
    )
    by_key = {r.key: r for r in summary.results}
    assert by_key["B010"].status == "done" and by_key["B011"].status == "done"
    assert by_key["B012"].status == "failed" and by_key["B012"].attempts == 2
    assert "SIGKILL" in by_key["B012"].error
    assert "B012" in format_summary(summary) and "2 attempts" in format_summary(summary)


def test_resume_after_a_kill_skips_finished_reports(tmp_path, demo_csv_dir, cache):
    import os
    import signal
    import time

    reports = tmp_path / "reports"
    manifest_path = reports / "2023-12" / "manifest.json"
    cmd = _run_args(
        demo_csv_dir,
        reports,
        "--quiet",
        "--workers",
        "1",
        "--formats",
        "html",
        "--institution",
        "B010",
        "--institution",
        "B011",
    )
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if any(e.status == "done" for e in Manifest.load(manifest_path).entries.values()):
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, as a power cut or `kill -9` would
    proc.wait()
    landed = {k for k, e in Manifest.load(manifest_path).entries.items() if e.status == "done"}
    assert 1 <= len(landed) < 3, landed
    again = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=["B010", "B011"],
        workers=1,
        progress=False,
        formats=("html",),
    )
    assert {r.key for r in again.results if r.status == "skipped"} == landed
    assert again.count("done") == 3 - len(landed) and not again.failed
    assert not list((reports / "2023-12").rglob("*.part*"))


def test_a_second_run_of_the_same_period_refuses(tmp_path, demo_csv_dir):
    out = tmp_path / "reports" / "2023-12"
    out.mkdir(parents=True)
    with period_lock(out):
        result = _cli_run(demo_csv_dir, tmp_path / "reports", "--quiet", "--institution", "B017", "--formats", "html")
    assert result.returncode == 1
    assert "another run is writing the reports of this period" in result.stderr and "另一次运行" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "B017.html").exists() and not (out / "manifest.json").exists()


@pytest.mark.parametrize("where", ["/proc/analysis-reports", "file"])
def test_unwritable_reports_folder_is_refused_before_any_work(tmp_path, demo_csv_dir, where):
    import time

    if where == "file":  # a path through a file: no folder can be made there, even by root
        (tmp_path / "file").write_text("x")
        where = str(tmp_path / "file" / "reports")
    started = time.perf_counter()
    result = _cli_run(demo_csv_dir, where, "--quiet")
    assert result.returncode == 1
    assert "the reports folder cannot be written" in result.stderr and "报告文件夹不可写" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.perf_counter() - started < 60


def test_a_full_reports_folder_is_refused(tmp_path):
    from analysis.batch import check_writable
    from analysis.core.runerrors import BatchError

    with pytest.raises(BatchError, match="MB free"):
        check_writable(tmp_path / "reports", min_free_mb=1e12)
    assert not (tmp_path / "reports").exists()


def test_ids_never_write_or_delete_outside_the_period_folder(tmp_path):
    out = tmp_path / "reports" / "2023-12"
    out.mkdir(parents=True)
    victim = tmp_path / "escaped.html"
    victim.write_text("someone else's file")
    for key in ("../../escaped", "a/b", "..", "/etc/passwd"):
        with pytest.raises(ValueError, match="outside the period folder"):
            inside(out, out / f"{key}.html") if key != ".." else inside(out, out / key)
    job = Job(
        key="../../escaped",
        title="x",
        notebook=str(tmp_path / "missing.ipynb"),
        parameters={},
        out_dir=str(out),
        fingerprint="",
    )
    result = run_job(job, _settings(tmp_path))
    assert result.status == "failed" and "outside the period folder" in result.error
    assert victim.read_text() == "someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["escaped.html", "reports"]


def test_new_data_withdraws_the_period_index_and_workbook(tmp_path):
    """Reports of new data replace old ones one by one: the old index and indicators.xlsx go first."""
    from datetime import datetime
    from types import SimpleNamespace

    from analysis.batch import data_generation, start_generation
    from analysis.core.manifest import ManifestEntry
    from analysis.core.periods import CHINA_TZ

    out = tmp_path / "2023-12"
    out.mkdir()
    for name in ("index.html", "indicators.xlsx", "B1.html"):
        (out / name).write_text("old", encoding="utf-8")
    Manifest(
        period="2023-12",
        generation="old-data",
        entries={"B1": ManifestEntry(key="B1", status="done", generation="old-data")},
    ).save(out / "manifest.json")
    state = SimpleNamespace(hashes={"data/月度监测.csv": "new"}, citywide=pd.DataFrame(), policies={})

    def batch():
        return SimpleNamespace(
            manifest=Manifest.load(out / "manifest.json"),
            state=state,
            out_dir=out,
            period="2023-12",
            generated=datetime.now(CHINA_TZ),
            manifest_path=out / "manifest.json",
        )

    start_generation(batch())
    assert not (out / "index.html").exists() and not (out / "indicators.xlsx").exists()
    assert (out / "B1.html").exists()  # no longer listed (old generation), rewritten when its turn comes
    manifest = Manifest.load(out / "manifest.json")
    assert manifest.generation == data_generation(state) != "old-data" and manifest.current() == {}
    (out / "index.html").write_text("new", encoding="utf-8")
    start_generation(batch())  # the same data again (a resumed run): nothing is withdrawn
    assert (out / "index.html").exists()


def _live_children() -> list:
    """This process's running descendants, multiprocessing's own resource tracker left out."""
    import psutil

    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(child.cmdline()):
                children.append(child)
        except psutil.NoSuchProcess:
            continue
    return children


def test_workers_started_ahead_are_stopped_when_the_plan_fails(tmp_path, demo_csv_dir):
    """The workers and their kernels start while the run validates the data; bad data stops the
    run there, and no worker or kernel process is left running."""

    from analysis.core.errors import AnalysisError

    data = _bad_data(tmp_path, demo_csv_dir)
    before = {p.pid for p in _live_children()}
    with pytest.raises(AnalysisError):
        run_batch("2023-12", data_dir=data, params_dir=ROOT / "params", reports_dir=tmp_path / "r", progress=False)
    left = [p for p in _live_children() if p.pid not in before]
    assert not left, [p.cmdline() for p in left]


def test_prestarted_pool_runs_jobs_on_its_workers_and_stops_the_spare_one(tmp_path):
    """``prestart`` spawns the workers (each starting its kernel) before the jobs are known; ``run``
    gives the jobs to those workers (no new spawn), stops the spare one, and leaves no kernel."""

    pool = ProcessPool(2, task="tests.batch.batch_tasks:fake_report")
    pool.prestart(str(tmp_path))
    prestarted = {w.process.pid for w in pool._started}
    assert len(prestarted) == 2
    spawned: list[int] = []
    original = pool._spawn
    pool._spawn = lambda: spawned.append(1) or original()  # type: ignore[method-assign]
    results = []
    pool.run(_fake_jobs(tmp_path, "ok-1"), _settings(tmp_path), results.append)
    assert [(r.key, r.status) for r in results] == [("ok-1", "done")]
    assert int((tmp_path / "ok-1.html").read_text()) in prestarted
    assert spawned == []
    assert not _live_children(), [c.cmdline() for c in _live_children()]


def test_allow_slow_pdf_goes_on_with_one_warning_line(tmp_path, demo_csv_dir, cache, monkeypatch, capsys):
    """Without HarfBuzz-subset a run stops (tests/test_cli.py); with ``allow_slow_pdf`` it makes
    the PDFs and says so once, on one line."""
    import analysis.outputs.pdf

    monkeypatch.setattr(analysis.outputs.pdf, "harfbuzz_subset_loaded", lambda: False)
    summary = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=tmp_path / "reports",
        institutions=["I003"],
        formats=("pdf",),
        workers=2,
        progress=False,
        allow_slow_pdf=True,
    )
    assert not summary.failed, format_summary(summary)
    assert (tmp_path / "reports" / "2023-12" / "I003.pdf").exists()
    lines = [line for line in capsys.readouterr().err.splitlines() if "HarfBuzz-subset" in line]
    assert len(lines) == 1 and "libharfbuzz-subset0" in lines[0] and "--allow-slow-pdf" in lines[0], lines
