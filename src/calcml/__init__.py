"""calcml — calculus for machine learning, computed.

Derivatives, gradients, integrals, differential equations and backpropagation that you can run,
check against each other, and see. ``import calcml as cm``.

``import calcml`` loads the engine only (NumPy and ``calcml.autodiff``). Every other part —
``cm.symbolic`` and ``cm.derive`` (SymPy), ``cm.viz`` (matplotlib), ``cm.nn``, ``cm.integrate``, ... — is
imported the first time it is used (PEP 562), so engine-only code never pays for SymPy or matplotlib.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from calcml.autodiff import *  # noqa: F403
from calcml.autodiff import __all__ as _autodiff_names

# The subpackages reached as ``cm.<name>``, each imported on first use.
_SUBPACKAGES = (
    "curvature", "data", "exercises", "integrate", "nn", "ode", "optim", "prob", "sde", "sensitivity", "sweep",
    "symbolic", "train", "viz",
)

if _typing.TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    __version__: str
    from calcml import (  # noqa: F401
        curvature,
        data,
        exercises,
        integrate,
        nn,
        ode,
        optim,
        prob,
        sde,
        sensitivity,
        symbolic,
        train,
        viz,
    )
    from calcml.sweep import SweepModule as _SweepModule
    from calcml.symbolic import derive  # noqa: F401

    sweep: _SweepModule  # a module that is called: cm.sweep(fn, grid, ...)


if not _typing.TYPE_CHECKING:  # hidden from type checkers, which would take any cm.<name> as valid through it

    def __getattr__(name: str) -> _typing.Any:
        """Import ``cm.<subpackage>`` (and ``cm.derive``, from ``cm.symbolic``) the first time it is used; read
        ``cm.__version__`` from the installed metadata then too (importlib.metadata costs ~80 ms to import)."""
        value: _typing.Any
        if name == "__version__":
            value = _installed_version()
        elif name in _SUBPACKAGES:
            value = _importlib.import_module(f"calcml.{name}")
        elif name == "derive":
            value = _importlib.import_module("calcml.symbolic").derive
        else:
            raise AttributeError(f"module 'calcml' has no attribute {name!r}")
        globals()[name] = value  # later uses are plain attribute reads
        return value


def _installed_version() -> str:
    """The one source of the version: pyproject.toml's, as installed (``pip install -e .`` included)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("calcml")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0+unknown"


def __dir__() -> list[str]:
    return sorted({name for name in globals() if not name.startswith("_")} | set(__all__))


__all__ = [*_autodiff_names, "derive", *_SUBPACKAGES]
