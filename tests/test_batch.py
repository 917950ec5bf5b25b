"""End to end: the batch runs notebooks with papermill, exports HTML, isolates failures, skips
up-to-date reports. Slow (real kernels); marked so `make test-fast` can leave it out."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.batch import format_summary, run_batch

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))


def verdict_status(html: str, label: str) -> str:
    """The status shown on the verdict card whose label is ``label``."""
    match = re.search(r'<div class="verdict verdict-([a-z_]+)"><div class="verdict-head"><span class="verdict-label">'
                      + re.escape(label), html)
    assert match, f"no verdict card {label}"
    return match.group(1)


def test_batch_writes_html_with_the_engine_verdicts(tmp_path, demo_csv_dir, cache):
    reports = tmp_path / "reports"
    summary = run_batch("2023-12", data_dir=demo_csv_dir, params_dir=ROOT / "params", reports_dir=reports,
                        institutions=["B017", "B030", "I003"], workers=2, progress=False)
    assert not summary.failed, format_summary(summary)
    out = reports / "2023-12"
    for name in ("B017.html", "B030.html", "I003.html", "overview.html", "notebooks/B017.ipynb",
                 "notebooks/overview.ipynb", "manifest.json"):
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
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"]["B017"]["verdicts"]["two_increases"] == "not_met"
    assert not list(out.rglob("*.part*"))

    again = run_batch("2023-12", data_dir=demo_csv_dir, params_dir=ROOT / "params", reports_dir=reports,
                      institutions=["B017", "B030", "I003"], workers=2, progress=False)
    assert again.count("skipped") == 4 and again.count("done") == 0
    forced = run_batch("2023-12", data_dir=demo_csv_dir, params_dir=ROOT / "params", reports_dir=reports,
                       institutions=["B017"], workers=1, progress=False, force=True)
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
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        'if "故障" in ctx.name:\n    raise ValueError("该机构数据触发报告错误")'))
    nbformat.write(nb, notebooks / "institution_report.ipynb")

    reports = tmp_path / "reports"
    summary = run_batch("2023-12", data_dir=data, params_dir=ROOT / "params", reports_dir=reports,
                        institutions=["B010", "B012", "B011"], workers=2, progress=False,
                        notebooks_dir=notebooks)
    out = reports / "2023-12"
    assert [r.key for r in summary.failed] == ["B012"]
    assert "ValueError" in summary.failed[0].error
    assert (out / "B010.html").exists() and (out / "B011.html").exists() and (out / "overview.html").exists()
    assert not (out / "B012.html").exists()
    failed_nb = Path(summary.failed[0].failed_notebook)
    assert failed_nb.exists() and failed_nb.parent.name == "failed"
    text = format_summary(summary)
    assert "B012" in text and str(failed_nb) in text
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"]["B012"]["status"] == "failed"


def test_cli_run_refuses_bad_data_and_writes_nothing(tmp_path, demo_csv_dir):
    data = tmp_path / "data"
    shutil.copytree(demo_csv_dir, data)
    monthly = pd.read_csv(data / "月度监测.csv", dtype=str, keep_default_na=False)
    monthly.loc[0, "各项贷款余额"] = "-1"
    monthly.to_csv(data / "月度监测.csv", index=False, encoding="utf-8-sig")
    reports = tmp_path / "reports"
    result = subprocess.run([sys.executable, "-m", "analysis.cli", "run", "--period", "2023-12", "--data", str(data),
                             "--params", str(ROOT / "params"), "--reports", str(reports), "--quiet"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "negative" in result.stderr
    assert not reports.exists()


def test_cli_run_unknown_division(tmp_path, demo_csv_dir):
    result = subprocess.run([sys.executable, "-m", "analysis.cli", "run", "--period", "2023-12", "--data",
                             str(demo_csv_dir), "--reports", str(tmp_path / "r"), "--division", "稽查科"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "监管科室" in result.stderr
