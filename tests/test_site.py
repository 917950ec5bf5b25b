"""The published site: static index per period, escaping, period switcher, links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.site import build_site, periods, render_index

pytestmark = pytest.mark.slow


def _manifest(folder: Path, period: str, jobs: dict) -> None:
    (folder / period).mkdir(parents=True)
    (folder / period / "manifest.json").write_text(json.dumps({"period": period, "jobs": jobs}), encoding="utf-8")


def test_index_lists_overview_first_and_every_institution(demo_reports):
    html = (demo_reports / "2023-12" / "index.html").read_text(encoding="utf-8")
    assert html.index("全市总览") < html.index('id="institutions"')
    assert 'href="overview.html"' in html and 'href="overview.pdf"' in html
    for iid in ("B017", "B030", "B001", "I003"):
        assert f'href="{iid}.html"' in html and f'href="{iid}.pdf"' in html
    assert "https://" not in html and "http://" not in html and "<script src" not in html
    root = (demo_reports / "index.html").read_text(encoding="utf-8")
    assert "2023-12/index.html" in root


def test_values_are_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    _manifest(tmp_path, "2023-12", {"X1": {"name": evil, "category": evil, "division": "大型银行监管科",
                                           "county": evil, "html": "x.html", "pdf": "x.pdf", "status": "done",
                                           "verdicts": {"two_increases": evil}}})
    html = render_index(tmp_path, "2023-12", office=evil)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_period_switcher_lists_every_period(tmp_path):
    for period in ("2023-06", "2023-12", "2022-12"):
        _manifest(tmp_path, period, {})
    (tmp_path / "not-a-period").mkdir()
    assert periods(tmp_path) == ["2023-12", "2023-06", "2022-12"]
    build_site(tmp_path, "2023-06")
    html = (tmp_path / "2023-06" / "index.html").read_text(encoding="utf-8")
    assert '<option value="../2023-12/index.html">2023年12月</option>' in html
    assert '<option value="../2023-06/index.html" selected>2023年6月</option>' in html
    assert "2023-12/index.html" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_publish_unknown_period(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_site(tmp_path, "2030-01")


def test_failed_report_is_shown_as_failed(tmp_path):
    _manifest(tmp_path, "2023-12", {"X1": {"name": "甲", "status": "failed", "error": "ValueError: boom",
                                           "html": "X1.html", "verdicts": {}}})
    html = render_index(tmp_path, "2023-12")
    assert "生成失败：ValueError: boom" in html and 'href="X1.html"' not in html


def test_cli_publish(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    missing = subprocess.run([sys.executable, "-m", "analysis.cli", "publish", "--period", "2023-06", "--reports",
                              str(tmp_path)], capture_output=True, text=True, cwd=root)
    assert missing.returncode == 1 and "analysis run --period 2023-06" in missing.stderr
    _manifest(tmp_path, "2023-06", {})
    ok = subprocess.run([sys.executable, "-m", "analysis.cli", "publish", "--period", "2023-06", "--reports",
                         str(tmp_path)], capture_output=True, text=True, cwd=root)
    assert ok.returncode == 0 and (tmp_path / "2023-06" / "index.html").exists()
