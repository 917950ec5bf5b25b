"""The command line: exit codes, every problem listed, nothing written on bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        encoding="utf-8",
    )


def snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")}


def test_validate_ok(demo_csv_dir):
    result = run("validate", str(demo_csv_dir))
    assert result.returncode == 0, result.stderr
    assert "validation passed" in result.stdout


def test_validate_broken_workbook_lists_every_problem_and_writes_nothing(tmp_path, demo_csv_dir):
    data = tmp_path / "broken"
    shutil.copytree(demo_csv_dir, data)
    monthly = pd.read_csv(data / "月度监测.csv", dtype=object, keep_default_na=False)
    monthly.loc[0, "各项贷款余额"] = "n/a"
    monthly.loc[1, "普惠型小微企业贷款余额户数"] = "3.5"
    monthly.loc[2, "机构编码"] = "ZZZ"
    monthly.to_csv(data / "月度监测.csv", index=False)
    before = snapshot(tmp_path)
    result = run("validate", str(data), "--params", str(ROOT / "params"), cwd=tmp_path)
    assert result.returncode == 1
    for expected in (
        "第2行/row 2 列/column total_loans",
        "第3行/row 3 列/column inclusive_borrowers",
        "第4行/row 4 列/column institution_id",
        "not a number",
        "不是有效数值",
    ):
        assert expected in result.stderr
    assert snapshot(tmp_path) == before


def test_bad_params_exit_nonzero(tmp_path, demo_csv_dir):
    params = tmp_path / "params"
    params.mkdir()
    (params / "policy-2023.yaml").write_text("year: 2023\n", encoding="utf-8")
    result = run("validate", str(demo_csv_dir), "--params", str(params))
    assert result.returncode == 1
    assert "invalid parameter file" in result.stderr


def test_indicators_export(tmp_path, demo_csv_dir):
    out = tmp_path / "ind.xlsx"
    result = run("indicators", "--data", str(demo_csv_dir), "--period", "2023-06", "--out", str(out))
    assert result.returncode == 0, result.stderr
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    assert set(sheets) == {"机构指标", "全市三项通报指标", "转贷款"}
    assert len(sheets["机构指标"]) == 60
    assert "状态：两增" in sheets["机构指标"].columns
    assert not list(tmp_path.glob("*.part"))


def test_contract_doc_is_current():
    result = run("contract-doc", "--check")
    assert result.returncode == 0, "docs/data-contract.md is stale: run `make contract-doc`"


def test_formats_option_and_the_old_flags():
    import argparse

    from analysis.cli.main import _formats, build_parser

    def formats(*argv):
        return _formats(build_parser().parse_args(["run", "--period", "2023-12", *argv]))

    assert formats() == ("html", "pdf")
    assert formats("--formats", "pdf,html") == ("html", "pdf")  # registry order
    assert formats("--formats", "html,json") == ("html", "json")
    assert formats("--formats", "docx,html") == ("html", "docx")
    assert formats("--no-pdf") == ("html",)
    assert formats("--no-html") == ("pdf",)
    assert formats("--formats", "html,pdf,json", "--no-pdf") == ("html", "json")
    assert isinstance(build_parser().parse_args(["run", "--period", "2023-12"]), argparse.Namespace)


def test_unknown_format_is_a_clear_error(tmp_path):
    result = run("run", "--period", "2023-12", "--reports", str(tmp_path / "r"), "--formats", "html,odt")
    assert result.returncode == 1
    assert "未知输出格式 / unknown output format: odt" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists()


def test_every_user_error_is_one_analysis_error():
    from analysis.batch.cluster import ClusterError
    from analysis.cli import USER_ERRORS
    from analysis.content.fonts import MissingCJKFontError
    from analysis.core.errors import AnalysisError, DataValidationError, ParamsError, ReportInputError
    from analysis.core.runerrors import BatchError
    from analysis.outputs.registry import UnknownFormatError

    assert (AnalysisError,) == USER_ERRORS
    for error in (
        DataValidationError,
        ParamsError,
        ReportInputError,
        MissingCJKFontError,
        UnknownFormatError,
        BatchError,
        ClusterError,
    ):
        assert issubclass(error, AnalysisError), error


#: a machine without libharfbuzz-subset0, for a whole command: before anything runs, WeasyPrint's
#: handle on the library is None, exactly what it holds when its dlopen failed
HIDE_HARFBUZZ_SUBSET = "import weasyprint.text.ffi as ffi\nffi.harfbuzz_subset = None\n"


def test_run_refuses_slow_pdfs_before_any_work(tmp_path, demo_csv_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_HARFBUZZ_SUBSET)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    reports = tmp_path / "r"
    result = run("run", "--period", "2023-12", "--data", str(demo_csv_dir), "--reports", str(reports), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    for part in ("libharfbuzz-subset0", "make system-deps", "--allow-slow-pdf", "慢约十倍", "ten times slower"):
        assert part in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (reports / "2023-12").exists()  # stopped before validation, state and any report
