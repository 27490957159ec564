"""The small network the curvature tests share: 10 → 24 (tanh) → 10, 514 parameters, float64, 64 examples
of a softmax cross-entropy loss; and its dense Hessian from cm.hessian, the reference."""

from __future__ import annotations

import functools

import numpy as np

import calcml as cm
from calcml.curvature import HessianOperator, model_loss


def network(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 10))
    y = rng.integers(0, 10, 64)
    model = cm.nn.Sequential(cm.nn.Linear(10, 24, rng=seed, dtype=np.float64), cm.nn.Tanh(),
                             cm.nn.Linear(24, 10, rng=seed + 1, dtype=np.float64))
    return model, X, y


@functools.lru_cache(maxsize=None)
def problem(seed: int = 0):
    """(loss, params, dense Hessian, its eigenvalues ascending)."""
    model, X, y = network(seed)
    loss, params = model_loss(model, cm.nn.losses.cross_entropy, X, y)
    H = HessianOperator(loss, params)
    dense = cm.hessian(lambda theta: loss(H.unflatten(theta)))(H.flatten(params))
    dense = (dense + dense.T) / 2
    return loss, params, dense, np.linalg.eigvalsh(dense)
