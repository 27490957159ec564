"""One table of named optimizers: the names say what the update is, and every user reads the same table."""

import numpy as np
import pytest

import calcml as cm
from calcml.optim import catalog, race
from calcml.train import recipes


def one_step(name: str, steps: int = 2) -> np.ndarray:
    """Take ``steps`` steps on f(w) = w²/2 (gradient w) from w = 1 with learning rate 0.1."""
    w = cm.Tensor(np.array([1.0]), requires_grad=True)
    opt = catalog.make_optimizer(name, [w], lr=0.1)
    for _ in range(steps):
        w.grad = w.value.copy()
        opt.step()
    return w.value.copy()


def test_gd_is_plain_gradient_descent_and_momentum_is_heavy_ball():
    assert one_step("gd") == pytest.approx([0.9 * 0.9])  # w ← w − 0.1 w, twice
    # heavy ball: b = g, w = 0.9; then b = 0.9·1 + 0.9 = 1.8, w = 0.9 − 0.18
    assert one_step("momentum") == pytest.approx([0.72])


def test_sgd_is_an_alias_of_gd_everywhere():
    assert catalog.canonical_name("SGD") == "gd"
    assert one_step("sgd") == pytest.approx(one_step("gd"))
    assert race.optimizer_name("sgd") == "gd"
    opt = recipes.make_optimizer("sgd", [cm.Tensor(np.zeros(2), requires_grad=True)])
    assert isinstance(opt, cm.optim.SGD) and opt.momentum == 0


def test_race_and_training_read_the_one_table():
    for name, entry in race.OPTIMIZERS.items():
        assert entry is catalog.OPTIMIZERS[name]
    for name in recipes.TUNED_LEARNING_RATES:
        assert name in catalog.OPTIMIZERS
    momentum = recipes.make_optimizer("momentum", [cm.Tensor(np.zeros(2), requires_grad=True)])
    assert momentum.momentum == 0.9 and not momentum.nesterov


def test_an_unknown_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="lbfgs.*gd, momentum"):
        catalog.make_optimizer("lbfgs", [], lr=0.1)
