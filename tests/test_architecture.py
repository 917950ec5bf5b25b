"""The package's layers run one way: no module imports, directly or through others, a module that
imports it back, and every module imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    """Modules of the package that ``module`` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "analysis":
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("analysis."))
    return found & set(MODULES) - {module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_in_the_package():
    graph = {m: _imports(m) for m in MODULES}
    assert _cycle(graph) is None, f"import cycle / 循环导入: {' -> '.join(_cycle(graph))}"


@pytest.mark.parametrize("leaf", ["status", "columns", "periods", "dataset", "errors", "contract"])
def test_leaf_modules_import_nothing_above_them(leaf):
    allowed = {"status", "columns", "errors", "contract"}
    assert _imports(leaf) <= allowed, f"{leaf} imports {_imports(leaf) - allowed}"


def test_every_module_imports_alone():
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module('analysis.' + name)\n"
        "    for mod in [m for m in sys.modules if m.startswith('analysis')]:\n"
        "        del sys.modules[mod]\n"
    )
    result = subprocess.run([sys.executable, "-c", code, *MODULES], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
