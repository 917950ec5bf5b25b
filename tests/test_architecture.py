"""The package's layers run one way: a module imports only its own layer and the layers below it
(:data:`LAYERS`, stated once), nothing imports in a circle, and every module imports on its own.

The checks read the source with ``ast`` (imports at the top and inside functions alike), so a lazy
import that reaches upward is caught as surely as a top-level one. ``tests/fixtures/upward_import``
is a small package with one deliberate upward import, to prove the check fails when it should.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "analysis"

#: the layers, lowest first (docs/architecture.md): each subpackage of ``analysis`` (``state`` is a
#: module) may import its own layer and those before it, never one after it. ``demo`` (the
#: generators) sits above the engines it feeds and below the command line that calls it.
LAYERS = ("core", "inputs", "rules", "state", "models", "content", "outputs", "batch", "demo", "cli")


def module_names(package: Path) -> dict[str, Path]:
    """``analysis.x.y`` → its file, for every module under ``package`` (a folder named ``analysis``)."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Modules of the package ``path`` imports (``from analysis.content import charts`` is the
    module ``analysis.content.charts`` when that is a module, else the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "analysis":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "analysis")
    return found & known


def layer(module: str) -> int:
    """Index of ``module``'s layer in :data:`LAYERS`; -1 for the package itself (imports nothing)."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module} is in no layer: add its folder to LAYERS and docs/architecture.md")
    return LAYERS.index(parts[1])


def import_graph(package: Path) -> dict[str, set[str]]:
    names = module_names(package)
    return {name: imported_modules(path, set(names)) - {name} for name, path in names.items()}


def upward_imports(package: Path) -> list[str]:
    """Every import of a module from a layer above its own, as readable lines."""
    problems = []
    for module, imports in import_graph(package).items():
        for target in sorted(imports):
            if layer(target) > layer(module):
                problems.append(
                    f"{module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]}), a layer above"
                )
    return problems


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
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


def test_the_check_finds_a_planted_upward_import():
    planted = ROOT / "tests" / "fixtures" / "upward_import" / "analysis"
    assert upward_imports(planted) == [
        "analysis.core.leaf (core) imports analysis.batch.runner (batch), a layer above",
    ]


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_every_module_is_in_a_layer_folder():
    loose = [name for name in module_names(PACKAGE) if name.count(".") == 1 and name not in ("analysis.state",)]
    assert not [n for n in loose if n.split(".")[1] not in LAYERS], loose


def test_no_import_runs_upward():
    problems = upward_imports(PACKAGE)
    assert not problems, "imports against the layer order / 逆层导入:\n" + "\n".join(problems)


def test_no_import_cycle_in_the_package():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, f"import cycle / 循环导入: {' -> '.join(cycle)}"


@pytest.mark.parametrize("size_limit", [600])
def test_no_module_is_too_large_without_a_reason(size_limit):
    """One idea per file: above ``size_limit`` lines a module says why in its docstring."""
    too_large = []
    for name, path in module_names(PACKAGE).items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > size_limit:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Why this module is long" not in doc:
                too_large.append(f"{name}: {text.count(chr(10))} lines")
    assert not too_large, too_large


def test_every_module_imports_alone():
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "    for mod in [m for m in sys.modules if m.startswith('analysis')]:\n"
        "        del sys.modules[mod]\n"
    )
    names = [n for n in module_names(PACKAGE) if not n.endswith("__main__")]
    result = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
