import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401
from tests.optim.against_torch import assert_matches_torch_step_by_step

OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.5),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.2),
    dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.2),
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_sgd_matches_torch_for_ten_steps(options):
    assert_matches_torch_step_by_step(cm.optim.SGD, torch.optim.SGD, options)


def test_sgd_skips_parameters_without_gradient_like_torch():
    skipped = frozenset({(0, 1), (3, 0), (3, 2), (7, 1)})  # parameter 1 gets its first gradient at step 2
    assert_matches_torch_step_by_step(cm.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True),
                                      skipped=skipped)


def test_first_momentum_step_uses_the_gradient_itself():
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = cm.optim.SGD([w], lr=0.5, momentum=0.9, dampening=0.5)
    w.grad = np.array([1.0, -1.0])
    opt.step()                       # b = g (no dampening at the first step): w − 0.5 g
    np.testing.assert_array_equal(w.value, [0.5, 2.5])
    opt.step()                       # b = 0.9 g + 0.5 g = 1.4 g
    np.testing.assert_allclose(w.value, [0.5 - 0.7, 2.5 + 0.7], rtol=1e-15)


def test_sgd_does_not_modify_the_gradient_in_place():
    w = cm.Tensor(np.ones(3), requires_grad=True)
    g = np.array([1.0, 2.0, 3.0])
    w.grad = g
    opt = cm.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("options, words", [
    (dict(lr=-0.1), "lr must be >= 0"),
    (dict(lr=0.1, momentum=-0.5), "momentum must be >= 0"),
    (dict(lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (dict(lr=0.1, dampening=1.5), "dampening must be in [0, 1]"),
    (dict(lr=0.1, weight_decay=-1), "weight_decay must be >= 0"),
    (dict(lr=float("nan")), "lr must be >= 0"),
    (dict(lr="fast"), "lr must be a number"),
])
def test_sgd_rejects_invalid_hyperparameters(options, words):
    w = cm.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(cm.optim.HyperparameterError) as info:
        cm.optim.SGD([w], **options)
    assert words in str(info.value)
    assert "SGD" in str(info.value)
