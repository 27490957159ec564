import numpy as np
import pytest

import calcml as cm
from calcml.nn import init


@pytest.mark.parametrize("name, shape, variance", [
    ("xavier_uniform", (300, 200), 2 / 500), ("xavier_normal", (300, 200), 2 / 500),
    ("he_uniform", (400, 300), 2 / 400), ("he_normal", (400, 300), 2 / 400),
    ("he_normal", (64, 16, 3, 3), 2 / (16 * 9)), ("xavier_uniform", (64, 16, 3, 3), 2 / (16 * 9 + 64 * 9)),
])
def test_initializer_variance_matches_its_formula(name, shape, variance):
    w = init.initializer(name)(shape, rng=0)
    assert w.dtype == np.float32
    assert np.var(w) == pytest.approx(variance, rel=0.05)


def test_he_keeps_relu_activations_at_constant_scale_through_depth():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((2000, 256))
    for _ in range(20):
        h = np.maximum(h @ init.he_normal((256, 256), rng=rng, dtype=np.float64), 0)
    assert 0.3 < np.mean(h ** 2) < 3.0  # neither vanished nor exploded after 20 layers


def test_initializers_are_reproducible_from_a_seed():
    np.testing.assert_array_equal(init.xavier_normal((3, 4), rng=5), init.xavier_normal((3, 4), rng=5))
    with pytest.raises(cm.CalcmlError, match="unknown initializer"):
        init.initializer("lecun")
