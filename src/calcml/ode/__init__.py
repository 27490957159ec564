"""Ordinary differential equations: solvers with dense output and events, differentiable solves
(backpropagation through the solver or the adjoint method), gradient flow and Neural ODEs."""

from calcml.ode import problems
from calcml.ode.dense import DenseSolution
from calcml.ode.errors import MaxStepsError, SolverError, StepSizeError, StiffnessError
from calcml.ode.gradient_flow import StabilityReport, descent_stability, gradient_descent, gradient_flow
from calcml.ode.odeint import odeint, saved_for_backward
from calcml.ode.solve import METHODS, OdeResult, solve

__all__ = [
    "METHODS", "DenseSolution", "MaxStepsError", "OdeResult", "SolverError", "StabilityReport",
    "StepSizeError", "StiffnessError", "descent_stability", "gradient_descent", "gradient_flow", "odeint",
    "problems", "saved_for_backward", "solve",
]
