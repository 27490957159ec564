"""Per-feature sensitivity against closed forms (a linear model: |w| and w) and central finite differences."""

import numpy as np
import pytest

import calcml as cm
from calcml.sensitivity import SensitivityInputError, feature_sensitivity


def test_a_linear_model_has_sensitivity_abs_w_and_mean_w():
    model = cm.nn.Linear(6, 1, rng=2, dtype=np.float64)
    X = np.random.default_rng(0).standard_normal((50, 6))
    s = feature_sensitivity(lambda x: model(x)[0], X)
    w = model.weight.value[:, 0]
    np.testing.assert_allclose(s.mean_abs, np.abs(w), rtol=1e-14)
    np.testing.assert_allclose(s.mean, w, rtol=1e-14)
    assert s.gradients.shape == (50, 6)
    assert s.ranking() == [f"x{j}" for j in np.argsort(-np.abs(w), kind="stable")]


def f(x):
    return np.sin(x[0]) + x[0] * x[1] ** 2 + np.exp(0.5 * x[2])


def test_a_nonlinear_function_matches_central_differences_and_its_closed_form():
    X = np.random.default_rng(1).standard_normal((40, 4))  # x3 is not used: sensitivity exactly 0
    s = feature_sensitivity(f, X, names=["a", "b", "c", "unused"])
    h = 1e-6
    differences = np.stack([[(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(4)] for x in X])
    np.testing.assert_allclose(s.gradients, differences, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(s.mean_abs, np.abs(differences).mean(axis=0), rtol=1e-6, atol=1e-9)
    closed = np.stack([np.cos(X[:, 0]) + X[:, 1] ** 2, 2 * X[:, 0] * X[:, 1], 0.5 * np.exp(0.5 * X[:, 2]),
                       np.zeros(40)], axis=1)
    np.testing.assert_allclose(s.gradients, closed, rtol=1e-12, atol=1e-15)
    assert s.mean_abs[3] == 0.0 and s.ranking()[-1] == "unused"
    # b's effect 2·x0·x1 changes sign across the data: its mean is far smaller than its mean magnitude
    assert abs(s.mean[1]) < 0.5 * s.mean_abs[1]
    assert s.table().splitlines()[0].startswith("feature")


@pytest.mark.parametrize("call", [
    lambda: feature_sensitivity(f, np.ones(4)),
    lambda: feature_sensitivity(f, np.ones((0, 4))),
    lambda: feature_sensitivity(f, np.ones((3, 4)), names=["a"]),
    lambda: feature_sensitivity(f, np.array([[1.0, np.nan, 0.0, 0.0]])),  # was a NaN ranked among the features
])
def test_bad_inputs_are_refused(call):
    with pytest.raises(SensitivityInputError):
        call()
