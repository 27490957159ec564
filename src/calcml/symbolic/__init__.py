"""Symbolic calculus with steps, on SymPy (independent of the autodiff engine).

Strings are read by a safe parser of calcml's own (never ``eval``/``sympify``); every public
operation runs in a warm worker process with a hard time limit (:mod:`calcml.symbolic.workers`,
:func:`set_default_timeout`), killed and replaced past it; every explanation is checked against SymPy.
"""

from calcml.symbolic import workers
from calcml.symbolic.analysis import (
    ConvexityVerdict,
    CriticalPoint,
    CriticalPoints,
    critical_points,
    is_convex,
)
from calcml.symbolic.derive import Derivation, derive
from calcml.symbolic.errors import (
    ParseError,
    SymbolicError,
    SymbolicTimeout,
    SymbolicTimeoutError,
    VerificationError,
    WorkerError,
)
from calcml.symbolic.integrals import Integration, integrate
from calcml.symbolic.limits import LimitResult, PropertyCheck, is_continuous, is_differentiable, limit
from calcml.symbolic.ml_functions import logsumexp, relu, sigmoid, softmax, softplus, to_elementary
from calcml.symbolic.multivariable import (
    DerivativeTable,
    DirectionalDerivative,
    directional_derivative,
    gradient,
    hessian,
    jacobian,
    partial,
)
from calcml.symbolic.numeric import lambdify
from calcml.symbolic.parser import FUNCTIONS, parse
from calcml.symbolic.rule_catalog import RULES
from calcml.symbolic.series import TaylorResult, taylor
from calcml.symbolic.steps import Step
from calcml.symbolic.sums import SeriesResult, product, summation
from calcml.symbolic.timeout import (
    MAX_TIMEOUT,
    get_default_timeout,
    set_default_timeout,
    time_limit,  # noqa: F401  (deprecated outside workers; kept for old callers)
)

__all__ = [
    "FUNCTIONS",
    "MAX_TIMEOUT",
    "RULES",
    "ConvexityVerdict",
    "CriticalPoint",
    "CriticalPoints",
    "Derivation",
    "DerivativeTable",
    "DirectionalDerivative",
    "Integration",
    "LimitResult",
    "ParseError",
    "PropertyCheck",
    "SeriesResult",
    "Step",
    "SymbolicError",
    "SymbolicTimeout",
    "SymbolicTimeoutError",
    "TaylorResult",
    "VerificationError",
    "WorkerError",
    "critical_points",
    "derive",
    "directional_derivative",
    "get_default_timeout",
    "gradient",
    "hessian",
    "integrate",
    "is_continuous",
    "is_convex",
    "is_differentiable",
    "jacobian",
    "lambdify",
    "limit",
    "logsumexp",
    "parse",
    "partial",
    "product",
    "relu",
    "set_default_timeout",
    "sigmoid",
    "softmax",
    "softplus",
    "summation",
    "taylor",
    "to_elementary",
    "workers",
]
