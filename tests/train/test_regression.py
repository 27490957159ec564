"""Gradient descent through fit finds what the closed form and scikit-learn find."""

import numpy as np
import pytest

import calcml as cm  # noqa: F401  (registers the engine's rules)
from calcml import data, nn, optim
from calcml.train import fit


def test_linear_regression_by_gradient_descent_agrees_with_least_squares():
    sample = data.linear_regression(n=200, n_features=3, noise=0.3, seed=1)
    model = nn.Linear(3, 1, rng=0, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, nn.losses.mse, opt, (sample.X, sample.y[:, None]), epochs=600, batch_size=None,
                  progress=False)
    design = np.column_stack([sample.X, np.ones(len(sample.X))])
    closed_form, *_ = np.linalg.lstsq(design, sample.y, rcond=None)  # the normal equations' solution
    np.testing.assert_allclose(model.weight.value[:, 0], closed_form[:3], rtol=1e-9)
    np.testing.assert_allclose(model.bias.value[0], closed_form[3], rtol=1e-9)
    assert history.accuracy == []  # float targets: regression, no accuracy
    residual = sample.y - design @ closed_form
    assert history.loss[-1] == pytest.approx(np.mean(residual ** 2), rel=1e-9)


def test_logistic_regression_by_gradient_descent_agrees_with_scikit_learn():
    linear_model = pytest.importorskip("sklearn.linear_model")
    sample = data.logistic_regression(n=400, n_features=3, seed=2)
    model = nn.Linear(3, 1, rng=0, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    history = fit(model, nn.losses.binary_cross_entropy_with_logits, opt, (sample.X, sample.y[:, None]),
                  epochs=1500, batch_size=None, progress=False)
    reference = linear_model.LogisticRegression(C=1e12, solver="lbfgs", tol=1e-12, max_iter=10_000)
    reference.fit(sample.X, sample.y)
    np.testing.assert_allclose(model.weight.value[:, 0], reference.coef_[0], rtol=1e-5)
    np.testing.assert_allclose(model.bias.value[0], reference.intercept_[0], rtol=1e-5)
    predicted = (sample.X @ reference.coef_[0] + reference.intercept_[0]) > 0
    assert history.accuracy[-1] == pytest.approx(np.mean(predicted == sample.y), abs=1e-12)


def test_stochastic_gradient_descent_with_a_decaying_rate_approaches_the_least_squares_fit():
    sample = data.linear_regression(n=100, n_features=2, noise=0.1, seed=3)
    model = nn.Linear(2, 1, rng=0, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.05)
    fit(model, nn.losses.mse, opt, (sample.X, sample.y[:, None]), epochs=30, batch_size=1,
        scheduler=optim.ExponentialLR(opt, gamma=0.85), progress=False)
    design = np.column_stack([sample.X, np.ones(len(sample.X))])
    closed_form, *_ = np.linalg.lstsq(design, sample.y, rcond=None)
    np.testing.assert_allclose(model.weight.value[:, 0], closed_form[:2], atol=5e-3)
