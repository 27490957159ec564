"""calcml — calculus for machine learning, computed.

Derivatives, gradients, integrals, differential equations and backpropagation that you can run,
check against each other, and see. ``import calcml as cm``.
"""

from calcml import nn, optim
from calcml.autodiff import *  # noqa: F403
from calcml.autodiff import __all__ as _autodiff_names

__version__ = "0.1.0"
__all__ = [*_autodiff_names, "nn", "optim"]
