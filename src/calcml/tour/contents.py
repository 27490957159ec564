"""The order of the tour's chapters: the book's twenty, each made of sections."""

from __future__ import annotations

from collections.abc import Callable

from calcml.tour import backprop, beyond, curvature, derivatives, descent, differential_equations, integrals, networks
from calcml.tour.chapter import Chapter

CHAPTERS: list[Callable[[], Chapter]] = [
    derivatives.limits_and_continuity,               # 1
    derivatives.derivative_rules,                    # 2
    derivatives.partial_derivatives,                 # 3
    derivatives.chain_rule,                          # 4
    curvature.jacobians_hessians_newton,             # 5
    curvature.critical_points_and_convexity,         # 6
    integrals.integrals,                             # 7
    integrals.probability,                           # 8
    differential_equations.odes_and_gradient_flow,   # 9
    descent.losses,                                  # 10
    descent.gradient_descent_chapter,                # 11
    descent.optimizers,                              # 12
    backprop.matrix_backpropagation,                 # 13
    backprop.two_layer_chapter,                      # 14
    backprop.activations,                            # 15
    networks.convolutional_networks,                 # 16
    networks.recurrent_networks,                     # 17
    networks.digit_classification,                   # 18
    beyond.loss_surfaces,                            # 19
    beyond.beyond,                                   # 20
]


def run_chapter(number: int) -> Chapter:
    """Run the chapter at place ``number`` (1-based) of the tour, which is the book's chapter ``number``."""
    chapter = CHAPTERS[number - 1]()
    chapter.number = number
    return chapter


def run_all() -> list[Chapter]:
    """Run every chapter in order."""
    return [run_chapter(number) for number in range(1, len(CHAPTERS) + 1)]
