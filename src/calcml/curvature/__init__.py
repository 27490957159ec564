"""Curvature of a loss, matrix-free: the Hessian's top eigenvalues (Lanczos, power iteration), its trace
(Hutchinson), its spectral density (stochastic Lanczos quadrature), and λ_max during training.

Every method sees the Hessian only through Hessian-vector products (``cm.hvp``, forward over reverse) and
says how many it used. ``loss(params)`` returns a scalar; ``params`` is an array or a pytree of arrays; for an
``nn`` model, ``model_loss(model, loss_fn, X, y)`` gives both.
"""

from calcml.curvature.density import SpectralDensity, spectral_density
from calcml.curvature.eigs import HessianEigs, hessian_eigs
from calcml.curvature.lanczos import Tridiagonal, lanczos
from calcml.curvature.monitor import SharpnessMonitor
from calcml.curvature.operator import HessianOperator, model_loss
from calcml.curvature.trace import TraceEstimate, hessian_trace

__all__ = [
    "HessianEigs", "HessianOperator", "SharpnessMonitor", "SpectralDensity", "TraceEstimate", "Tridiagonal",
    "hessian_eigs", "hessian_trace", "lanczos", "model_loss", "spectral_density",
]
