"""The report notebooks are their own single source: one literal ``parameters`` cell, committed
without outputs, and a git filter / pre-commit hook that keeps it that way (real bank data that an
analyst's run leaves in a notebook must never reach git)."""

from __future__ import annotations

import ast
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NBSTRIPOUT = [sys.executable, "-m", "nbstripout", "--keep-id"]  # as `make hooks` installs it


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _parameter_cells(nb: nbformat.NotebookNode) -> list:
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


def literal_assignment_problems(source: str) -> list[str]:
    """Statements of a parameters cell that are not ``name = <literal>`` (papermill injects new
    values after this cell, so a value computed here would not follow them)."""
    problems = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            problems.append(f"line {node.lineno}: not an assignment")
            continue
        if not all(isinstance(t, ast.Name) for t in targets):
            problems.append(f"line {node.lineno}: assigns to something other than a plain name")
        try:
            ast.literal_eval(value)
        except ValueError:
            problems.append(f"line {node.lineno}: {ast.unparse(value)} is not a literal")
    return problems


def test_the_notebooks_are_found():
    assert {p.name for p in NOTEBOOKS} >= {
        "institution_report.ipynb",
        "insurer_report.ipynb",
        "city_overview.ipynb",
        "model_validation.ipynb",
    }


def test_no_generator_overwrites_the_notebooks():
    assert not (ROOT / "tools" / "make_notebooks.py").exists()


def test_literal_check_accepts_literals_and_refuses_computed_values():
    good = 'institution_id = "B017"\nyears = [2022, 2023]\nshare: float = -0.5\nopts = {"a": (1, None)}\n'
    assert literal_assignment_problems(good) == []
    bad = 'import os\nperiod = "2023-" + "12"\ndata_dir = os.getcwd()\nx.y = 1\nprint(1)\n'
    assert literal_assignment_problems(bad) == [
        "line 1: not an assignment",
        "line 2: '2023-' + '12' is not a literal",
        "line 3: os.getcwd() is not a literal",
        "line 4: assigns to something other than a plain name",
        "line 5: not an assignment",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exactly_one_parameters_cell_of_literal_assignments(path):
    cells = _parameter_cells(_read(path))
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters' (需要恰好 1 个 / need exactly 1)"
    assert cells[0].cell_type == "code"
    assert cells[0].source.strip(), f"{path.name}: empty parameters cell"
    assert literal_assignment_problems(cells[0].source) == [], path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_or_execution_counts(path):
    nb = _read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i}: has outputs (请清除输出 / strip outputs)"
            assert cell.execution_count is None, f"{path.name} cell {i}: execution count {cell.execution_count}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernel_is_the_projects_python3(path):
    assert _read(path).metadata["kernelspec"]["name"] == "python3"


def test_the_strip_filter_leaves_committed_notebooks_unchanged():
    """So installing the filter changes nothing in git, and an edit shows only itself. (One process:
    importing nbformat takes seconds.)"""
    result = subprocess.run(
        [*NBSTRIPOUT, "--verify", *map(str, NOTEBOOKS)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"nbstripout would change / 会被改动: {result.stdout}{result.stderr}"


def _with_outputs(source: Path) -> nbformat.NotebookNode:
    """A copy of ``source`` as after an analyst's run: counts, a table of 'real' data, an error."""
    nb = copy.deepcopy(_read(source))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for n, cell in enumerate(code_cells, start=1):
        cell.execution_count = n
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="某银行 贷款余额 123456.78\n")]
    code_cells[-1].outputs.append(
        nbformat.v4.new_output(
            "execute_result", data={"text/html": "<table><td>某银行</td></table>"}, execution_count=len(code_cells)
        )
    )
    return nb


def _check_stripped(text: str, original: nbformat.NotebookNode) -> None:
    stripped = nbformat.reads(text, as_version=4)
    assert "123456.78" not in text and "某银行" not in text
    for cell in stripped.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert len(_parameter_cells(stripped)) == 1  # the tag papermill needs survives
    assert [c.get("id") for c in stripped.cells] == [c.get("id") for c in original.cells]


def test_pre_commit_config_runs_nbstripout_on_notebooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    strip = [h for h in hooks if h["id"] == "nbstripout"]
    assert len(strip) == 1
    assert "nbstripout" in strip[0]["entry"] and "--keep-output" not in strip[0]["entry"]
    import re

    assert re.search(strip[0]["files"], "notebooks/institution_report.ipynb")


def test_pre_commit_hook_strips_a_notebook_with_outputs(tmp_path):
    """The hook's own command, run as pre-commit would: on the file, in place."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entry = next(h["entry"] for repo in config["repos"] for h in repo["hooks"] if h["id"] == "nbstripout")
    source = ROOT / "notebooks" / "institution_report.ipynb"
    target = tmp_path / "institution_report.ipynb"
    nbformat.write(_with_outputs(source), target)
    assert "123456.78" in target.read_text(encoding="utf-8")
    program, *args = entry.split()
    program = str(ROOT / program) if (ROOT / program).exists() else shutil.which(program) or program
    subprocess.run([program, *args, str(target)], check=True, timeout=60)
    _check_stripped(target.read_text(encoding="utf-8"), _read(source))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_make_hooks_strips_outputs_from_what_git_stores(tmp_path):
    """`make hooks` in a fresh repository: the committed blob has no outputs, the working copy keeps them."""
    bin_dir = Path(sys.executable).parent  # the venv whose nbstripout the target installs
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60
        ).stdout

    git("init", "-q")
    result = subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), f"BIN={bin_dir}", "-o", f"{bin_dir}/.installed", "hooks"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--keep-id" in git("config", "filter.nbstripout.clean")

    source = ROOT / "notebooks" / "city_overview.ipynb"
    nbformat.write(_with_outputs(source), repo / "city_overview.ipynb")
    git("add", "city_overview.ipynb")
    git("commit", "-q", "-m", "run")
    _check_stripped(git("show", "HEAD:city_overview.ipynb"), _read(source))
    assert "123456.78" in (repo / "city_overview.ipynb").read_text(encoding="utf-8")
    # the committed blob is the notebook as it is committed in this project, byte for byte
    assert json.loads(git("show", "HEAD:city_overview.ipynb")) == json.loads(source.read_text(encoding="utf-8"))
