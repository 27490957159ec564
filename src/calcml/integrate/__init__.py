"""Integrals, computed: adaptive quadrature, iterated and Monte Carlo integration, teaching rules.

``quad`` (adaptive Gauss–Kronrod with an error estimate; differentiable in f's parameters and in its
limits), ``nquad`` (iterated, variable limits), ``montecarlo``/``qmc`` (with a standard error), and the
fixed rules with their ``convergence_table``.
"""

from calcml.integrate.expression import quad_expression
from calcml.integrate.kronrod import gauss_kronrod
from calcml.integrate.montecarlo import MonteCarloResult, montecarlo, qmc
from calcml.integrate.nquad import nquad
from calcml.integrate.quad import (
    DEFAULT_ATOL,
    IntegrandError,
    IntegrationInputError,
    IntegrationWarning,
    QuadResult,
    integral_with_limits,
    quad,
)
from calcml.integrate.rules import (
    ConvergenceTable,
    convergence_table,
    gauss_legendre,
    left_riemann,
    midpoint,
    right_riemann,
    simpson,
    trapezoid,
)

__all__ = [
    "DEFAULT_ATOL", "ConvergenceTable", "IntegrandError", "IntegrationInputError", "IntegrationWarning",
    "MonteCarloResult", "QuadResult",
    "convergence_table", "gauss_kronrod", "gauss_legendre", "integral_with_limits", "left_riemann",
    "midpoint", "montecarlo", "nquad", "qmc", "quad", "quad_expression", "right_riemann", "simpson", "trapezoid",
]
