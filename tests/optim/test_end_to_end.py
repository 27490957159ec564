"""Every optimizer fits a small least-squares problem whose gradients come from calcml's own backward pass."""

import numpy as np
import pytest

import calcml as cm
import calcml.optim  # noqa: F401


def least_squares_problem(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3)).astype(dtype)
    y = (X @ np.array([2.0, -1.0, 0.5]) + 0.7 + 0.1 * rng.standard_normal(60)).astype(dtype)
    design = np.column_stack([X, np.ones(60)])
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    best_loss = float(np.mean((design @ best - y) ** 2))
    return X, y, best_loss


def mean_squared_error(w, b, X, y):
    return np.mean((X @ w + b - y) ** 2)


FIRST_ORDER = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.5)),
    ("RMSprop", dict(lr=0.02, centered=True)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.1, weight_decay=1e-3)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, options", FIRST_ORDER, ids=str)
def test_optimizer_fits_least_squares_with_backward(name, options, dtype):
    X, y, best_loss = least_squares_problem(dtype)
    w = cm.Tensor(np.zeros(3, dtype=dtype), requires_grad=True)
    b = cm.Tensor(np.zeros((), dtype=dtype), requires_grad=True)
    opt = getattr(cm.optim, name)([w, b], **options)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = mean_squared_error(w, b, X, y)
        loss.backward()
        opt.step()
        first = float(loss.value) if first is None else first
    final = float(mean_squared_error(w, b, X, y).value)
    assert final - best_loss < 0.02 * (first - best_loss), f"{name}: {first:.4g} → {final:.4g}, best {best_loss:.4g}"
    assert w.value.dtype == dtype and b.value.dtype == dtype


def test_newton_fits_least_squares_in_one_step():
    X, y, best_loss = least_squares_problem()
    w = cm.Tensor(np.zeros(3), requires_grad=True)
    b = cm.Tensor(np.zeros(()), requires_grad=True)
    cm.optim.Newton([w, b]).step(lambda w, b: mean_squared_error(w, b, X, y))
    assert float(mean_squared_error(w, b, X, y).value) == pytest.approx(best_loss, rel=1e-12)
