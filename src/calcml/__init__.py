"""calcml — calculus for machine learning, computed.

Derivatives, gradients, integrals, differential equations and backpropagation that you can run,
check against each other, and see. ``import calcml as cm``.
"""

from calcml import data, exercises, integrate, nn, ode, optim, prob, sde, symbolic, train
from calcml.autodiff import *  # noqa: F403
from calcml.autodiff import __all__ as _autodiff_names
from calcml.symbolic import derive

__version__ = "0.1.0"


def __getattr__(name: str):
    """``cm.viz`` is imported on first use: ``import calcml`` stays fast and needs no matplotlib."""
    if name == "viz":
        import importlib

        return importlib.import_module("calcml.viz")
    raise AttributeError(f"module 'calcml' has no attribute {name!r}")


__all__ = [  # noqa: F405  (viz is provided lazily by __getattr__)
    *_autodiff_names, "data", "derive", "exercises", "integrate", "nn", "ode", "optim", "prob", "sde", "symbolic",
    "train", "viz",
]
