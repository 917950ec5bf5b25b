"""The pickle cache: outside the published reports/ folder, private, and loaded only when this
user wrote it (a pickle runs code when loaded)."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

import analysis.state as state_module
from analysis.state import State, cache_dir, load_state, read_cache, write_cache

ROOT = Path(__file__).resolve().parents[1]


class Planted:
    """A pickle that, when loaded, creates ``marker`` — what a hostile cache entry would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def private_cache(tmp_path, monkeypatch, umask022) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(folder))
    return folder


def plant(path: Path, marker: Path, mode: int) -> None:
    path.write_bytes(pickle.dumps(Planted(marker)))
    os.chmod(path, mode)


def test_default_cache_is_outside_reports(tmp_path, monkeypatch, umask022):
    project = tmp_path / "workbook"
    (project / "params").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (project / "reports").mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("ANALYSIS_CACHE_DIR", raising=False)
    folder = cache_dir()
    assert folder == project / ".cache"
    assert (project / "reports") not in folder.parents
    assert folder.is_dir() and mode_of(folder) == 0o700  # 0700 even under umask 022


def test_environment_overrides_the_cache_folder(private_cache):
    assert cache_dir() == private_cache
    assert mode_of(private_cache) == 0o700


def test_world_writable_cache_entry_is_not_loaded(private_cache, demo_csv_dir, tmp_path):
    first = load_state(demo_csv_dir, ROOT / "params")
    [entry] = private_cache.glob("state-*.pkl")
    assert mode_of(entry) == 0o600  # written private
    marker = tmp_path / "code-ran"
    plant(entry, marker, 0o666)  # anyone on the machine could have written this one
    second = load_state(demo_csv_dir, ROOT / "params")
    assert not marker.exists(), "a pickle writable by others was loaded"
    assert isinstance(second, State)
    assert second.indicators.equals(first.indicators)  # recomputed
    assert mode_of(entry) == 0o600  # and replaced by a trusted entry
    assert isinstance(read_cache(entry), State)


def test_private_entry_is_loaded(private_cache, tmp_path):
    """The control: the same planted file with mode 0600, owned by this user, is loaded — so the
    mode check, not a broken pickle, is what refuses the others."""
    entry = cache_dir() / "state-x.pkl"
    marker = tmp_path / "code-ran"
    plant(entry, marker, 0o600)
    read_cache(entry)
    assert marker.exists()


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_group_or_world_writable_entry_is_ignored(private_cache, tmp_path, mode):
    entry = cache_dir() / "models-x.pkl"
    marker = tmp_path / "code-ran"
    plant(entry, marker, mode)
    assert read_cache(entry) is None
    assert not marker.exists()


def test_entry_in_a_shared_folder_is_ignored(private_cache, tmp_path):
    """A folder others can write to: files in it may have been swapped, so none are loaded."""
    entry = cache_dir() / "state-x.pkl"
    marker = tmp_path / "code-ran"
    plant(entry, marker, 0o600)
    os.chmod(private_cache, 0o777)
    try:
        assert read_cache(entry) is None
        assert not marker.exists()
        assert write_cache(private_cache / "state-y.pkl", {"a": 1}) is False  # nor written there
    finally:
        os.chmod(private_cache, 0o700)


def test_symlinked_entry_is_ignored(private_cache, tmp_path):
    elsewhere = tmp_path / "elsewhere.pkl"
    marker = tmp_path / "code-ran"
    plant(elsewhere, marker, 0o600)
    link = cache_dir() / "state-x.pkl"
    link.symlink_to(elsewhere)
    assert read_cache(link) is None
    assert not marker.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")
def test_entry_owned_by_someone_else_is_ignored(private_cache, tmp_path, monkeypatch):
    entry = cache_dir() / "state-x.pkl"
    marker = tmp_path / "code-ran"
    plant(entry, marker, 0o600)
    real = os.geteuid()
    monkeypatch.setattr(state_module.os, "geteuid", lambda: real + 1)  # as if another user
    assert read_cache(entry) is None
    assert not marker.exists()


def test_write_then_read_round_trip(private_cache):
    path = cache_dir() / "models-abc.pkl"
    assert write_cache(path, {"rate": 4.35}) is True
    assert mode_of(path) == 0o600
    assert read_cache(path) == {"rate": 4.35}
    assert read_cache(cache_dir() / "absent.pkl") is None


def test_a_changed_loan_rule_changes_the_code_fingerprint(tmp_path):
    """The loan checks' rules are SQL files: editing one must invalidate cached states."""
    import shutil

    from analysis.state import PACKAGE_DIR, _code_fingerprint

    copy = tmp_path / "analysis"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = _code_fingerprint(copy)
    rule = copy / "inputs" / "sql" / "check_overdue_not_npl.sql"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n-- a changed rule\n", encoding="utf-8")
    assert _code_fingerprint(copy) != before
