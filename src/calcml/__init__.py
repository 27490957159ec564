"""calcml — calculus for machine learning, computed.

Derivatives, gradients, integrals, differential equations and backpropagation that you can run,
check against each other, and see. ``import calcml as cm``.
"""

from calcml import data, exercises, integrate, nn, ode, optim, prob, sde, symbolic, train
from calcml.autodiff import *  # noqa: F403
from calcml.autodiff import __all__ as _autodiff_names
from calcml.symbolic import derive

__version__ = "0.1.0"
__all__ = [*_autodiff_names, "data", "derive", "exercises", "integrate", "nn", "ode", "optim", "prob", "sde", "symbolic", "train"]
