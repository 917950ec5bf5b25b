"""Atomic output files get the usual mode (0666 less the umask), not mkstemp's 0600."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from analysis.core.files import atomic_path, atomic_write_text


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    try:
        yield lambda mask: os.umask(mask)
    finally:
        os.umask(old)


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_text_respects_umask(tmp_path, umask, mask, expected):
    umask(mask)
    target = atomic_write_text(tmp_path / "index.html", "<p>南阳</p>")
    assert mode_of(target) == expected
    assert target.read_text(encoding="utf-8") == "<p>南阳</p>"


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_atomic_path_respects_umask(tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "sub" / "report.pdf"
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:  # how pdf.py, models.py and state.py write
        handle.write(b"%PDF-1.7")
    assert mode_of(target) == expected
    assert target.read_bytes() == b"%PDF-1.7"


def test_replacing_a_private_file_gives_the_usual_mode(tmp_path, umask):
    """A report first written by the old code (0600) becomes readable when rewritten."""
    umask(0o022)
    target = tmp_path / "B001.html"
    target.write_text("old")
    os.chmod(target, 0o600)
    atomic_write_text(target, "new")
    assert mode_of(target) == 0o644
    assert target.read_text() == "new"


def test_explicit_private_mode(tmp_path, umask):
    umask(0o022)
    with atomic_path(tmp_path / "state.pkl", mode=0o600) as tmp:
        tmp.write_bytes(b"x")
    assert mode_of(tmp_path / "state.pkl") == 0o600


def test_failed_block_leaves_nothing(tmp_path):
    target = tmp_path / "indicators.xlsx"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_do_not_collide(tmp_path):
    """Eight threads writing the same target: every temporary name is unique, the result whole."""
    target = tmp_path / "manifest.json"
    errors = []

    def write(i):
        try:
            atomic_write_text(target, str(i) * 1000)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    text = target.read_text()
    assert len(text) == 1000 and len(set(text)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
