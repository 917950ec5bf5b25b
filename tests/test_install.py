"""The Makefile's Debian install targets (``system-deps``, ``system-deps-test``) really install.

The machine CI runs on already has the packages, so the install path would never run there. Here
``dpkg`` reports every package missing and stand-in ``apt-get`` / ``sudo`` / ``id`` commands on PATH
record what the Makefile asks for: as root (no sudo), as a user with sudo, and as a user without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

#: what the reports need (CJK font, fontconfig, Pango for WeasyPrint) and what the tests add
RUNTIME_PACKAGES = [
    "fonts-noto-cjk",
    "fontconfig",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz0b",
    "libharfbuzz-subset0",
]
TEST_PACKAGES = ["poppler-utils", "chromium", "libreoffice-writer-nogui"]

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

# Each stand-in appends one line to $STUB_LOG: its name, then its arguments separated by tabs.
DPKG_ALL_MISSING = """#!/bin/sh
printf 'dpkg\\t%s\\n' "$*" >> "$STUB_LOG"
exit 1
"""
DPKG_ALL_PRESENT = """#!/bin/sh
exit 0
"""
APT_GET = """#!/bin/sh
# records the arguments and the DEBIAN_FRONTEND it was started with
line="apt-get\\tDEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}"
for a in "$@"; do line="$line\\t$a"; done
printf '%b\\n' "$line" >> "$STUB_LOG"
exit 0
"""
# like the real sudo: leading VAR=value words set the environment, the rest is the command
SUDO = """#!/bin/sh
line="sudo"
for a in "$@"; do line="$line\\t$a"; done
printf '%b\\n' "$line" >> "$STUB_LOG"
exec env "$@"
"""
ID_NON_ROOT = """#!/bin/sh
if [ "$1" = "-u" ]; then echo 1000; else echo "uid=1000(analyst) gid=1000(analyst)"; fi
"""


def _stub_dir(tmp_path: Path, *, root: bool, sudo: bool, installed: bool = False) -> Path:
    stub = tmp_path / "stub"
    stub.mkdir()
    scripts = {"dpkg": DPKG_ALL_PRESENT if installed else DPKG_ALL_MISSING, "apt-get": APT_GET}
    if not root:
        scripts["id"] = ID_NON_ROOT
    if sudo:
        scripts["sudo"] = SUDO
    for name, text in scripts.items():
        (stub / name).write_text(text)
        (stub / name).chmod(0o755)
    return stub


def _run_make(
    tmp_path: Path, target: str, stub: Path, *, path: str | None = None
) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    log = tmp_path / "calls.log"
    log.touch()
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DEBIAN_FRONTEND")}
    env["PATH"] = path if path is not None else f"{stub}{os.pathsep}{os.environ.get('PATH', '')}"
    env["STUB_LOG"] = str(log)
    result = subprocess.run([MAKE, "-s", "-C", str(ROOT), target], env=env, capture_output=True, text=True, timeout=60)
    calls = [line.split("\t") for line in log.read_text().splitlines()]
    return result, calls


def _apt_calls(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c[0] == "apt-get"]


def _installed(calls: list[list[str]]) -> set[str]:
    """Packages named by ``apt-get install`` calls (options and the sub-command left out)."""
    names: set[str] = set()
    for call in _apt_calls(calls):
        args = call[2:]
        if "install" in args:
            names.update(a for a in args[args.index("install") + 1 :] if not a.startswith("-"))
    return names


@pytest.mark.skipif(os.geteuid() != 0, reason="the as-root case needs the tests to run as root")
def test_as_root_apt_get_runs_directly(tmp_path):
    stub = _stub_dir(tmp_path, root=True, sudo=False)
    result, calls = _run_make(tmp_path, "system-deps-test", stub)
    assert result.returncode == 0, result.stdout + result.stderr
    apt = _apt_calls(calls)
    assert [c[2] for c in apt if c[2] in ("update", "install")] == ["update", "install", "update", "install"], apt
    assert all(c[2] == "install" and "-y" in c for c in apt if "install" in c), apt
    # non-interactive, so a package's configuration questions never wait for a keyboard
    assert all(c[1] == "DEBIAN_FRONTEND=noninteractive" for c in apt), apt
    assert _installed(calls) == set(RUNTIME_PACKAGES) | set(TEST_PACKAGES)
    assert not [c for c in calls if c[0] == "sudo"]


def test_as_user_with_sudo_apt_get_runs_through_sudo(tmp_path):
    stub = _stub_dir(tmp_path, root=False, sudo=True)
    result, calls = _run_make(tmp_path, "system-deps-test", stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _installed(calls) == set(RUNTIME_PACKAGES) | set(TEST_PACKAGES)
    # every apt-get call is the command sudo was given, immediately before it in the log
    for i, call in enumerate(calls):
        if call[0] == "apt-get":
            assert i > 0 and calls[i - 1][0] == "sudo", calls
            sudo_args = calls[i - 1][1:]
            assert "apt-get" in sudo_args and sudo_args[sudo_args.index("apt-get") + 1 :] == call[2:], calls
            assert call[1] == "DEBIAN_FRONTEND=noninteractive", call


def test_as_user_without_sudo_stops_with_a_clear_message(tmp_path):
    stub = _stub_dir(tmp_path, root=False, sudo=False)
    # PATH is the stand-ins alone (plus env), so no real sudo of the machine can be found
    (stub / "env").symlink_to(shutil.which("env"))
    result, calls = _run_make(tmp_path, "system-deps", stub, path=str(stub))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "root" in out and "请以 root 安装" in out, out
    # the message says why and gives the command to run, on one line
    assert "no sudo" in out and "无 sudo" in out, out
    assert "apt-get install " + " ".join(RUNTIME_PACKAGES) in out, out
    assert "command not found" not in out, out
    assert not _apt_calls(calls)


def test_nothing_installed_when_every_package_is_present(tmp_path):
    stub = _stub_dir(tmp_path, root=False, sudo=True, installed=True)
    result, calls = _run_make(tmp_path, "system-deps-test", stub)
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == []
    assert "系统依赖已安装" in result.stdout


def test_install_targets_do_not_create_the_venv(tmp_path):
    """``make -n`` of the install targets lists apt work only: no venv, no pip."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        [MAKE, "-n", "-C", str(ROOT), "system-deps-test"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "venv" not in result.stdout and "pip" not in result.stdout, result.stdout


def test_without_apt_get_names_the_packages(tmp_path):
    """Not a Debian system (no apt-get): the packages to install are named, and the run stops."""
    stub = _stub_dir(tmp_path, root=True, sudo=False)
    (stub / "apt-get").unlink()
    (stub / "env").symlink_to(shutil.which("env"))
    result, calls = _run_make(tmp_path, "system-deps", stub, path=str(stub))
    assert result.returncode != 0
    assert "Please install: " + " ".join(RUNTIME_PACKAGES) in result.stderr, result.stdout + result.stderr
    assert "Noto Sans CJK SC" in result.stderr


# ---------------------------------------------------------------- who provides WeasyPrint's libraries

#: run in a fresh interpreter: the shared objects ``weasyprint.text.ffi`` maps into the process
#: (Pango, PangoFT2, HarfBuzz, HarfBuzz-subset, fontconfig, GObject and what they pull in), read
#: from /proc/self/maps before and after the import
#: (the module is executed on its own, so the stdlib extensions ``weasyprint/__init__`` imports —
#: ssl, uuid — do not count as WeasyPrint's libraries)
LOADED_BY_WEASYPRINT = r"""
import importlib.util, json
import cffi

def mapped():
    with open("/proc/self/maps") as maps:
        return {line.split()[-1] for line in maps if ".so" in line.split()[-1]}

spec = importlib.util.find_spec("weasyprint")
path = spec.submodule_search_locations[0] + "/text/ffi.py"
before = mapped()
ffi = importlib.util.module_from_spec(importlib.util.spec_from_file_location("weasyprint_text_ffi", path))
ffi.__spec__.loader.exec_module(ffi)
print(json.dumps({"files": sorted(mapped() - before), "harfbuzz_subset": ffi.harfbuzz_subset is not None}))
"""


def _make_variable(name: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        [MAKE, "-s", "--no-print-directory", "-C", str(ROOT), "--eval", "print-%: ; @echo $($*)", f"print-{name}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def _owner(path: str) -> str | None:
    """The Debian package that installed ``path`` (``dpkg -S``), trying the merged-/usr twin too."""
    candidates = [path]
    if path.startswith("/usr/lib/"):
        candidates.append(path[len("/usr") :])
    elif path.startswith("/lib/"):
        candidates.append("/usr" + path)
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, timeout=60)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    return None


def _with_dependencies(packages: list[str]) -> set[str]:
    """``packages`` and everything ``apt-cache depends --recurse`` says they depend on (no recommends)."""
    flags = ["--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
    result = subprocess.run(
        ["apt-cache", "depends", "--recurse", *flags, *packages], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    names = {line.strip().strip("<>") for line in result.stdout.splitlines() if line and not line[0].isspace()}
    return {name.split(":", 1)[0] for name in names}


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and shutil.which("dpkg") and shutil.which("apt-cache")),
    reason="needs a Debian system (dpkg, apt-cache, /proc)",
)
def test_every_library_weasyprint_loads_comes_from_a_runtime_package():
    """No runtime library may come from a test-only package: on every machine that ran the tests
    ``chromium`` (DEB_TEST) had pulled in ``libharfbuzz-subset0``, so PDFs were ten times faster
    there than on a machine that only ran ``make demo``. Each shared object WeasyPrint maps must be
    owned by a package of DEB_RUNTIME or one they depend on."""
    probe = subprocess.run([sys.executable, "-c", LOADED_BY_WEASYPRINT], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    loaded = json.loads(probe.stdout)
    assert loaded["harfbuzz_subset"], (
        "WeasyPrint could not load HarfBuzz-subset (libharfbuzz-subset0): run `make system-deps`"
    )
    runtime = _make_variable("DEB_RUNTIME")
    test_only = set(_make_variable("DEB_TEST"))
    provided = _with_dependencies(runtime)
    python_prefixes = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)})
    libraries = [f for f in loaded["files"] if not os.path.realpath(f).startswith(python_prefixes)]
    names = " ".join(Path(f).name for f in libraries)
    for lib in ("libpango-1.0", "libpangoft2-1.0", "libharfbuzz.so", "libharfbuzz-subset", "libfontconfig"):
        assert lib in names, f"WeasyPrint did not load {lib}: {names}"
    problems = []
    for library in libraries:
        package = _owner(library)
        if package is None:
            problems.append(f"{library}: no Debian package owns it")
        elif package not in provided:
            source = "a test-only package (DEB_TEST)" if package in test_only else "a package"
            problems.append(f"{library}: from {package}, {source} that DEB_RUNTIME neither lists nor pulls in")
    assert not problems, "\n".join(problems)
