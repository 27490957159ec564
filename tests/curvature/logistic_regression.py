"""Multinomial logistic regression on the first 300 training digits with an L2 term α/2‖θ‖² (α = 10⁻²): the
convex problem the Newton, Gauss–Newton and condition-number tests share; its dense Hessian is the reference."""

from __future__ import annotations

import functools

import numpy as np

import calcml as cm
from calcml.curvature import HessianOperator

ALPHA = 1e-2


def data(n: int = 300):
    digits = cm.data.digits(np.float64)
    return digits.X_train[:n], digits.y_train[:n]


def start():
    return {"W": np.zeros((64, 10)), "b": np.zeros(10)}


def outputs(params):
    """(logits, params): the L2 term is a loss of the parameters themselves, so its curvature αI is in the GGN."""
    X, _ = data()
    return X @ params["W"] + params["b"], params


def output_loss(outputs_):
    _, y = data()
    logits, params = outputs_
    return cm.nn.losses.cross_entropy(logits, y) + ALPHA / 2 * (np.sum(params["W"] ** 2) + np.sum(params["b"] ** 2))


def loss(params):
    return output_loss(outputs(params))


def dense_hessian(params) -> np.ndarray:
    H = HessianOperator(loss, params)
    dense = cm.hessian(lambda theta: loss(H.unflatten(theta)))(H.flatten(params))
    return (dense + dense.T) / 2


@functools.lru_cache(maxsize=None)
def dense_newton_solution() -> np.ndarray:
    """θ* by Newton's method with the dense Hessian and np.linalg.solve, to ‖∇L‖ < 1e-12."""
    H = HessianOperator(loss, start())
    theta = H.flatten(start())
    for _ in range(30):
        _, gradient = H.at(theta).value_and_gradient()
        if np.linalg.norm(gradient) < 1e-12:
            return theta
        theta = theta - np.linalg.solve(dense_hessian(H.unflatten(theta)), gradient)
    raise AssertionError("dense Newton did not converge in 30 steps")
