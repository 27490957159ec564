"""Synthetic sets follow their documented generative model and are reproducible from their seed."""

import numpy as np

from calcml import data


def test_same_seed_same_data_other_seed_other_data():
    for make in (data.spirals, data.moons, data.linear_regression, data.logistic_regression):
        a, b, c = make(seed=1), make(seed=1), make(seed=2)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        assert not np.array_equal(a.X, c.X)


def test_linear_regression_data_recover_their_coefficients():
    sample = data.linear_regression(n=5000, n_features=4, noise=0.1, seed=0)
    design = np.column_stack([sample.X, np.ones(len(sample.X))])
    solution, *_ = np.linalg.lstsq(design, sample.y, rcond=None)
    np.testing.assert_allclose(solution[:4], sample.coef, atol=0.01)
    assert abs(solution[4] - sample.intercept) < 0.01
    residual = sample.y - design @ solution
    assert abs(residual.std() - 0.1) < 0.01


def test_logistic_regression_labels_follow_the_sigmoid():
    sample = data.logistic_regression(n=20000, n_features=2, seed=0)
    p = 1 / (1 + np.exp(-(sample.X @ sample.coef + sample.intercept)))
    for group in np.array_split(np.argsort(p), 5):  # five groups of 4,000 by predicted probability
        assert abs(sample.y[group].mean() - p[group].mean()) < 0.03
    assert sample.y.dtype == np.int64 and set(np.unique(sample.y)) == {0, 1}


def test_spirals_and_moons_geometry():
    X, y = data.spirals(n_per_class=50, n_classes=3, noise=0.0, seed=0)
    assert X.shape == (150, 2) and np.bincount(y).tolist() == [50, 50, 50]
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[:50], np.linspace(0, 1, 50), atol=1e-12)
    X, y = data.moons(n=101, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
