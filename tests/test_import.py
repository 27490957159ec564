"""``import calcml`` loads the engine only; everything else (SymPy, matplotlib, the lab) on first use.

Each check runs in a fresh interpreter, because this test process has long since imported everything.
"""

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

HEAVY = ("sympy", "matplotlib", "fastapi", "uvicorn", "plotly", "scipy", "sklearn", "torch", "typer", "rich")


def loaded_after(code: str) -> set[str]:
    """The heavy top-level modules present in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_import_calcml_loads_no_heavy_library():
    assert loaded_after("import calcml") == set()


def test_engine_use_never_imports_sympy():
    code = ("import numpy as np, calcml as cm\n"
            "g = cm.grad(lambda x: np.sum(np.tanh(x) ** 2))(np.ones(3))\n"
            "assert cm.check_grad(lambda x: np.sum(x ** 3), np.ones(2)).passed\n"
            "cm.vmap(cm.grad(lambda w, x: np.sum(w * x)), in_axes=(None, 0))(np.ones(2), np.ones((4, 2)))\n"
            "cm.tree.leaves({'w': np.ones(2)}); cm.trace(lambda x: np.sum(np.sin(x)), np.ones(2))\n"
            "cm.nn.Linear(3, 2); cm.optim.Adam; cm.integrate.quad(np.sin, 0, 1); cm.ode.solve\n"
            "cm.prob.normalize; cm.sde.euler_maruyama; cm.data.digits(); cm.curvature.hessian_eigs")
    assert loaded_after(code).isdisjoint({"sympy", "matplotlib", "fastapi", "uvicorn", "plotly"})


@pytest.mark.parametrize(("code", "module"), [
    ("cm.derive", "sympy"),
    ("cm.symbolic.gradient", "sympy"),
    ("cm.exercises.generate", "sympy"),
    ("cm.viz.derivative", "matplotlib"),
])
def test_the_heavy_parts_load_on_first_use(code, module):
    assert module in loaded_after(f"import calcml as cm\n{code}")


def test_every_public_name_is_reachable():
    import calcml as cm

    for name in cm.__all__:
        assert getattr(cm, name) is not None, name
    for dotted in ("derive", "symbolic.gradient", "symbolic.summation", "exercises.check", "integrate.quad",
                   "integrate.nquad", "integrate.qmc", "prob.grad_expectation", "ode.odeint", "sde.langevin",
                   "nn.Linear", "nn.losses", "optim.AdamW", "data.digits", "train.GradNormMonitor", "viz.graph",
                   "tree.flatten", "vmap", "custom_vjp", "checkpoint", "stop_gradient", "curvature.hessian_eigs",
                   "curvature.SharpnessMonitor", "sensitivity.saliency", "sensitivity.integrated_gradients"):
        value = cm
        for part in dotted.split("."):
            value = getattr(value, part)
    assert {"derive", "symbolic", "viz", "nn"} <= set(dir(cm))
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        cm.no_such_thing  # noqa: B018


def test_one_version_the_one_in_pyproject():
    import calcml as cm

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert cm.__version__ == version("calcml") == declared


def test_every_public_layer_is_a_lazy_subpackage():
    """A new layer (a folder of src/calcml with an __init__.py) is reached as cm.<name> only once it is listed
    in calcml/__init__.py's _SUBPACKAGES and its TYPE_CHECKING imports; the internal ones are named here."""
    import calcml as cm

    internal = {"apps", "autodiff", "cli", "lab", "tour"}  # imported by name (calcml.apps.rl), or the engine itself
    package = Path(cm.__file__).parent
    layers = {path.parent.name for path in package.glob("*/__init__.py")} - internal
    missing = layers - set(cm._SUBPACKAGES)
    assert not missing, (f"add {sorted(missing)} to _SUBPACKAGES and to the TYPE_CHECKING imports in "
                         "src/calcml/__init__.py, so that cm.<name> reaches them")
