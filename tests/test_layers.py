"""The layers of DESIGN.md hold: every module imports alone, and no package imports one above it.

    calcml.errors  <  symbolic  <  autodiff  <  integrate, ode, prob, sde, sweep  <  nn, optim, data
    <  train, apps, curvature, sensitivity  <  viz  <  cli, lab, tour

(``exercises`` sits on ``symbolic``.) Imports inside functions count too: a lazy import of a layer above is
still a dependency on it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import calcml

PACKAGE = Path(calcml.__file__).parent

LAYERS = {
    "errors": 0,
    "symbolic": 1, "exercises": 1,
    "autodiff": 2,
    "integrate": 3, "ode": 3, "prob": 3, "sde": 3, "sweep": 3,  # sweep: backends and streams for Monte Carlo too
    "nn": 4, "optim": 4, "data": 4,
    "train": 5, "apps": 5, "curvature": 5, "sensitivity": 5,  # curvature's SharpnessMonitor is a train callback
    "viz": 6,
    "cli": 7, "lab": 7, "tour": 7,
}
LAYER_NAMES = {0: "errors", 1: "symbolic", 2: "autodiff", 3: "integrate/ode/prob/sde/sweep", 4: "nn/optim/data",
               5: "train/apps/curvature/sensitivity", 6: "viz", 7: "cli/lab/tour"}


def modules() -> list[str]:
    """Every module of the package by dotted name, packages included (not the test-only conftest)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "conftest":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def source_of(module: str) -> Path:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_calcml_modules(module: str) -> set[str]:
    """The calcml modules ``module`` imports anywhere in its text (top level, functions, TYPE_CHECKING blocks)."""
    path = source_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name != "calcml":  # `from calcml import viz` imports calcml.viz (the root only re-exports)
                found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "calcml" or name.startswith("calcml.")}


def layer_of(module: str) -> int | None:
    """The layer of a module (None for the package root ``calcml``, which only re-exports)."""
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_package_has_a_layer():
    packages = {m.split(".")[1] for m in modules() if m.count(".") >= 1}
    assert packages <= set(LAYERS), f"give these a layer in LAYERS: {sorted(packages - set(LAYERS))}"


def test_no_module_imports_a_layer_above_its_own():
    known = set(modules())
    violations = set()
    for module in modules():
        own = layer_of(module)
        if own is None:
            continue
        for target in sorted(imported_calcml_modules(module)):
            if target not in known and target.rpartition(".")[0] in known:
                target = target.rpartition(".")[0]  # `from calcml.x import name`: the module calcml.x
            theirs = layer_of(target)
            if theirs is not None and theirs > own:
                violations.add(f"{module} ({LAYER_NAMES[own]}) imports {target} ({LAYER_NAMES[theirs]})")
    assert not violations, "imports from a layer above:\n" + "\n".join(sorted(violations))


def test_the_layer_check_can_fail(tmp_path, monkeypatch):
    """A module of the engine that imported viz would be caught (so the check above is not vacuous)."""
    bad = PACKAGE / "autodiff" / "_layer_probe.py"
    assert not bad.exists()
    monkeypatch.setattr(sys.modules[__name__], "modules", lambda: ["calcml.autodiff._layer_probe"])
    monkeypatch.setattr(sys.modules[__name__], "source_of", lambda module: tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text("def draw():\n    from calcml.viz import graph\n")
    with pytest.raises(AssertionError, match="autodiff._layer_probe .autodiff. imports calcml.viz"):
        test_no_module_imports_a_layer_above_its_own()


IMPORT_EACH_ALONE = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "calcml" or m.startswith("calcml.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone_in_a_fresh_interpreter():
    """Each module imported first, on its own (no import order hides a loop or a missing import)."""
    optional = []
    for module in modules():
        if module.startswith(("calcml.lab", "calcml.cli")):  # they need the lab's and the CLI's extras
            optional.append(module)
    wanted = [m for m in modules() if m not in optional]
    for extra, prefix in (("fastapi", "calcml.lab"), ("typer", "calcml.cli")):
        try:
            __import__(extra)
        except ImportError:
            continue
        wanted += [m for m in optional if m.startswith(prefix)]
    out = subprocess.run([sys.executable, "-c", IMPORT_EACH_ALONE, *wanted], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, "modules that fail to import alone:\n" + out.stdout + out.stderr[-2000:]
