"""A run of a 2024 period, end to end, judged by the 2024 notice alone: no output an institution or
the office receives — HTML, PDF text, the Word drafts, the indicator workbook — cites the 2023
notice, its document number or clause numbers, or a rule the 2024 notice does not have (the borrower
leg of 两增, the rate rule). The demo spans the years (2020 to mid-2025); each period is judged by its
own year's rules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: what a 2024 output must never say
FORBIDDEN = ("宛银保监", "〔2023〕", "第（", "两增", "户数不低于", "利率较上年上升", "新发放贷款利率较上年")
#: a large bank's branch (judged each in 2024), legal banks of the local group, the policy bank, an insurer
INSTITUTIONS = ["B002", "B017", "B018", "B001", "I003"]


def _text(path: Path) -> str:
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if path.suffix in (".docx", ".xlsx"):  # every XML part: body, headers, footers, shared strings, sheets
        with zipfile.ZipFile(path) as book:
            return "".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml"))
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_2024_run_cites_only_the_2024_notice_and_its_rules(demo_csv_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "analysis.cli", "run", "--period", "2024-12", "--data", str(demo_csv_dir)]
    command += ["--reports", str(reports), "--formats", "html,pdf,docx", "--workers", "2", "--quiet"]
    for iid in INSTITUTIONS:
        command += ["--institution", iid]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    out = reports / "2024-12"
    outputs = [
        *(out / f"{iid}.{ext}" for iid in INSTITUTIONS for ext in ("html", "pdf")),
        out / "overview.html",
        out / "overview.pdf",
        out / "通报-2024-12.docx",
        *(out / "提示函").glob("*.docx"),
        out / "indicators.xlsx",
        out / "index.html",
    ]
    said = []
    for path in outputs:
        assert path.exists(), path
        text = _text(path)
        said += [f"{path.name}: {word}" for word in FORBIDDEN if word in text]
    assert not said, said
    # and the 2024 notice is what they cite
    assert "金办发〔2024〕26号" in _text(out / "B002.html") and "金办发〔2024〕26号" in _text(out / "通报-2024-12.docx")
