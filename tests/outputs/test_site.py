"""The published site: static index per period, escaping, period switcher, links."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from analysis.core.manifest import Manifest, ManifestEntry, ReportMeta
from analysis.outputs.site import build_site, make_server, periods, render_index


def _entry(
    key: str, generation: str = "g1", status: str = "done", outputs: dict | None = None, **meta
) -> ManifestEntry:
    return ManifestEntry(
        key=key,
        status=status,
        generation=generation,
        outputs=outputs if outputs is not None else {"html": f"{key}.html", "pdf": f"{key}.pdf"},
        error=meta.pop("error", ""),
        meta=ReportMeta(**meta),
    )


def _manifest(folder: Path, period: str, entries: list[ManifestEntry], generation: str = "g1") -> None:
    (folder / period).mkdir(parents=True)
    Manifest(period=period, generation=generation, entries={e.key: e for e in entries}).save(
        folder / period / "manifest.json"
    )


@pytest.mark.slow
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
    _manifest(
        tmp_path,
        "2023-12",
        [
            _entry(
                "X1", name=evil, category=evil, division="大型银行监管科", county=evil, verdicts={"two_increases": evil}
            )
        ],
    )
    html = render_index(tmp_path, "2023-12", office=evil)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_period_switcher_lists_every_period(tmp_path):
    for period in ("2023-06", "2023-12", "2022-12"):
        _manifest(tmp_path, period, [])
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
    _manifest(
        tmp_path,
        "2023-12",
        [_entry("X1", status="failed", outputs={"html": "X1.html"}, name="甲", error="ValueError: boom")],
    )
    html = render_index(tmp_path, "2023-12")
    assert "生成失败：ValueError: boom" in html and 'href="X1.html"' not in html


def test_cli_publish(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    missing = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "publish", "--period", "2023-06", "--reports", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert missing.returncode == 1 and "analysis run --period 2023-06" in missing.stderr
    _manifest(tmp_path, "2023-06", [])
    ok = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "publish", "--period", "2023-06", "--reports", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert ok.returncode == 0 and (tmp_path / "2023-06" / "index.html").exists()


def test_links_follow_the_output_registry(tmp_path):
    _manifest(
        tmp_path,
        "2023-12",
        [
            _entry("B1", outputs={"html": "B1.html", "json": "B1.json"}, name="甲"),
            _entry("overview", outputs={"pdf": "overview.pdf"}, name="全市总览"),
        ],
    )
    html = render_index(tmp_path, "2023-12")
    assert '<a href="B1.json">JSON</a>' in html and '<a href="B1.html">HTML</a>' in html
    assert 'href="B1.pdf"' not in html  # not recorded: not linked
    assert '<a href="overview.pdf">PDF 版</a>' in html and 'href="overview.html"' not in html


def test_index_never_mixes_two_generations_of_data(tmp_path):
    """A run on new data killed half-way: only the reports of the new data are listed."""
    _manifest(
        tmp_path,
        "2023-12",
        [
            _entry("B1", generation="new", name="新甲"),
            _entry("B2", generation="old", name="旧乙"),
            _entry("overview", generation="old", name="全市总览"),
        ],
        generation="new",
    )
    html = render_index(tmp_path, "2023-12")
    assert 'href="B1.html"' in html
    assert 'href="B2.html"' not in html and "旧乙" not in html and 'href="overview.html"' not in html
    assert "1 report(s) made from older data" not in html and "2 report(s) made from older data" in html
    assert '<span id="visible-count">1</span>' in html


def test_manifest_round_trip_and_old_layout(tmp_path):
    path = tmp_path / "manifest.json"
    manifest = Manifest(period="2023-12", generation="g", entries={"B1": _entry("B1", score=71.5, grade="二级")})
    manifest.save(path)
    again = Manifest.load(path)
    assert again == manifest and again.entries["B1"].meta.score == 71.5
    path.write_text('{"jobs": {"B1": {"status": "done"}}}', encoding="utf-8")  # the layout before the model
    assert Manifest.load(path).entries == {}
    assert not list(tmp_path.glob("*.part"))


@pytest.fixture
def site_server(tmp_path):
    import threading

    (tmp_path / "2023-12" / "notebooks").mkdir(parents=True)
    (tmp_path / "2023-12" / "index.html").write_text("<html>index</html>", encoding="utf-8")
    (tmp_path / "2023-12" / "B1.html").write_text("<html>B1</html>", encoding="utf-8")
    (tmp_path / "2023-12" / "notebooks" / "B1.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "2023-12" / ".lock").write_text("123", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "state-abc.pkl").write_bytes(b"pickle")
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    "path,expected",
    [
        ("/2023-12/index.html", 200),
        ("/2023-12/", 200),
        ("/2023-12/B1.html", 200),
        ("/", 404),  # no index.html at the root of this folder: no listing
        ("/2023-12/notebooks/", 404),
        ("/.cache/", 404),
        ("/.cache/state-abc.pkl", 404),
        ("/%2Ecache/state-abc.pkl", 404),
        ("/2023-12/.lock", 404),
        ("/2023-12/../.cache/state-abc.pkl", 404),
    ],
)
def test_serve_lists_no_folder_and_hides_dot_files(site_server, path, expected):
    assert _status(site_server + path) == expected


def test_documents_are_linked_from_the_office_index_only(tmp_path):
    """The 通报 on the overview card, each letter in its institution's row (issue 22); the root
    page links neither, and an institution without a letter gets no link."""
    _manifest(
        tmp_path,
        "2023-06",
        [
            _entry("overview", outputs={"html": "overview.html", "docx": "通报-2023-06.docx"}, name="全市总览"),
            _entry("B017", outputs={"html": "B017.html", "docx": "提示函/B017.docx"}, name="甲"),
            _entry("B021", outputs={"html": "B021.html"}, name="乙"),
            _entry("B018", status="failed", outputs={"docx": "提示函/B018.docx"}, name="丙", error="boom"),
        ],
    )
    build_site(tmp_path, "2023-06")
    html = (tmp_path / "2023-06" / "index.html").read_text(encoding="utf-8")
    assert '<a href="通报-2023-06.docx">通报（Word）</a>' in html
    assert '<a href="提示函/B017.docx">提示函（Word）</a>' in html
    assert '<a href="提示函/B018.docx">提示函（Word）</a>' in html  # its report failed; its letter is from the data
    assert "提示函/B021" not in html
    assert "仅在本页列出" in html
    root = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "提示函" not in root and ".docx" not in root


def test_no_documents_note_without_documents(tmp_path):
    _manifest(tmp_path, "2023-06", [_entry("B021", name="乙")])
    assert "仅在本页列出" not in render_index(tmp_path, "2023-06")
