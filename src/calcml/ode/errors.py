"""Errors of the ODE solvers: each names what went wrong, where in time, and what to do."""

from __future__ import annotations

from calcml.autodiff.errors import CalcmlError


class SolverError(CalcmlError, RuntimeError):
    """An ODE solve could not reach the end of its interval."""


class StiffnessError(SolverError):
    """An explicit method's step size is limited by stability, not accuracy: the problem is stiff."""


class StepSizeError(SolverError):
    """The step size fell below what floating point can resolve (a singularity, or severe stiffness)."""


class MaxStepsError(SolverError):
    """The solver used ``max_steps`` steps without reaching the end of the interval."""


class SolverInputError(CalcmlError, ValueError):
    """An argument of a solver is unusable (NaN or infinite, a negative tolerance, a zero step): refused
    before any work is done. It is a ValueError too, so ``except ValueError`` still works."""


class NonFiniteError(SolverError, FloatingPointError):
    """The right-hand side returned NaN or ±inf (or the solution overflowed): the message names the time
    and the state where it happened."""
