"""No import loops: the modules of calcml, joined by their module-level imports, form a DAG.

An edge m → n means that importing m runs ``import n`` (or ``from n import …``) at its top level. Imports
inside functions and under ``if TYPE_CHECKING:`` run later or never, so they are not edges. A package's
``__init__`` is an edge only when it is imported by name (``from calcml.autodiff import Tensor``), not as
the parent of a submodule (``from calcml.autodiff.tensor import Tensor``): Python runs the parent first
whatever the import says, which is no loop of the code's making.

A cycle m₁ → m₂ → … → m₁ means each module needs the next to be finished first, and whether ``import m₁``
works depends on which module of the loop was imported first.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import modules, source_of


def module_sources() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__.py``), not the conftest."""
    return {name: source_of(name) for name in modules()}


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: the module body and the bodies of
    its classes, ``if``, ``try`` and ``with`` blocks; not functions, not ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                pending += node.body
            pending += node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                pending += handler.body
        elif isinstance(node, (ast.With, ast.ClassDef)):
            pending += node.body
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    """module → the calcml modules its top level imports."""
    sources = module_sources()
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for alias in node.names:  # `from p import sub` imports the submodule p.sub; `from p import x` reads p
                targets.add(f"{name}.{alias.name}" if f"{name}.{alias.name}" in sources else name)
        graph[module] = {t for t in targets if t in sources and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle [m₁, m₂, …, m₁] of ``graph``, or None: a depth-first search that meets a module still
    on its path has found a loop."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path.append(start)
        on_path.add(start)
        while stack:
            module, remaining = stack[-1]
            if not remaining:
                stack.pop()
                path.pop()
                on_path.discard(module)
                done.add(module)
                continue
            target = remaining.pop(0)
            if target in on_path:
                return path[path.index(target):] + [target]
            if target not in done:
                stack.append((target, sorted(graph[target])))
                path.append(target)
                on_path.add(target)
    return None


def test_find_cycle_finds_a_loop_and_accepts_a_dag():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"d"}}) == ["d", "d"]


def test_relative_from_and_type_checking_imports_are_read_as_python_runs_them():
    tree = ast.parse("import calcml.errors\n"
                     "from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from calcml.viz import figure\n"
                     "try:\n    from . import state\nexcept ImportError:\n    pass\n"
                     "def f():\n    from calcml import tour\n")
    names = [ast.unparse(node) for node in top_level_imports(tree)]
    assert sorted(names) == ["from . import state", "from typing import TYPE_CHECKING", "import calcml.errors"]


def test_calcml_has_no_import_loop():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import loop (each module imports the next at its top level):\n  " + "\n  → ".join(cycle)
