"""The order of the tour's chapters."""

from __future__ import annotations

from collections.abc import Callable

from calcml.tour import derivatives, differential_equations, integrals, learning
from calcml.tour.chapter import Chapter

CHAPTERS: list[Callable[[], Chapter]] = [
    derivatives.limit_definition,
    derivatives.rules,
    derivatives.gradients,
    derivatives.gradient_check,
    derivatives.hessian,
    derivatives.gradient_descent,
    learning.regression_by_gradient_descent,
    learning.two_layer_network,
    learning.optimizers_compared,
    *integrals.CHAPTERS,
    differential_equations.ode_solvers,
    differential_equations.stiffness,
    differential_equations.gradient_flow,
    differential_equations.differentiable_solves,
    differential_equations.stochastic_dynamics,
]


def run_chapter(number: int) -> Chapter:
    """Run the chapter at place ``number`` (1-based) of the tour."""
    chapter = CHAPTERS[number - 1]()
    chapter.number = number
    return chapter


def run_all() -> list[Chapter]:
    """Run every chapter in order."""
    return [run_chapter(number) for number in range(1, len(CHAPTERS) + 1)]
