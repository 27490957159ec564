"""Curvature of a loss, matrix-free: the Hessian's top eigenvalues (Lanczos, power iteration), its trace
(Hutchinson), its spectral density (stochastic Lanczos quadrature), λ_max during training, the condition number,
and Newton's methods that use it (Newton–CG, Gauss–Newton) against gradient descent.

Every method sees the Hessian only through Hessian-vector products (``cm.hvp``, forward over reverse) and
says how many it used. ``loss(params)`` returns a scalar; ``params`` is an array or a pytree of arrays; for an
``nn`` model, ``model_loss(model, loss_fn, X, y)`` gives both.
"""

from calcml.curvature.condition import ConditionNumber, condition_number
from calcml.curvature.conjugate_gradient import ConjugateGradientResult, conjugate_gradient
from calcml.curvature.density import SpectralDensity, spectral_density
from calcml.curvature.eigs import HessianEigs, hessian_eigs
from calcml.curvature.errors import CurvatureInputError
from calcml.curvature.gauss_newton import GaussNewtonOperator
from calcml.curvature.gradient_descent import gradient_descent
from calcml.curvature.lanczos import Tridiagonal, lanczos
from calcml.curvature.monitor import SharpnessMonitor
from calcml.curvature.newton_cg import gauss_newton, newton_cg
from calcml.curvature.operator import HessianOperator, model_loss
from calcml.curvature.solver_run import SolverRun
from calcml.curvature.trace import TraceEstimate, hessian_trace

__all__ = [
    "ConditionNumber", "ConjugateGradientResult", "CurvatureInputError", "GaussNewtonOperator", "HessianEigs",
    "HessianOperator", "SharpnessMonitor", "SolverRun", "SpectralDensity", "TraceEstimate", "Tridiagonal",
    "condition_number", "conjugate_gradient", "gauss_newton", "gradient_descent", "hessian_eigs", "hessian_trace",
    "lanczos", "model_loss", "newton_cg", "spectral_density",
]
