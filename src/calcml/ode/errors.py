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
