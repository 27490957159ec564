"""The order of the tour's chapters."""

from __future__ import annotations

from collections.abc import Callable

from calcml.tour import derivatives, learning
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
]


def run_all() -> list[Chapter]:
    """Run every chapter in order."""
    return [chapter() for chapter in CHAPTERS]
