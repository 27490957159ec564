import numpy as np
import pytest
import torch
import torch.nn.functional as F

import calcml as cm
import calcml.nn as nn
from tests.autodiff.checks import assert_jvp_agrees_with_vjp, assert_second_derivatives
from tests.nn.torch_reference import assert_matches_torch

X = np.array([[-800.0, -30.0, -2.0, -0.3, 0.4, 1.7, 30.0, 800.0]])

CASES = [
    (nn.sigmoid, torch.sigmoid, nn.Sigmoid()),
    (nn.tanh, torch.tanh, nn.Tanh()),
    (nn.relu, F.relu, nn.ReLU()),
    (lambda x: nn.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1), nn.LeakyReLU(0.1)),
    (nn.softplus, F.softplus, nn.Softplus()),
    (nn.softmax, lambda x: F.softmax(x, -1), nn.Softmax()),
    (nn.log_softmax, lambda x: F.log_softmax(x, -1), nn.LogSoftmax()),
]


@pytest.mark.parametrize("ours, theirs, module", CASES)
def test_activation_matches_torch_even_for_large_inputs(ours, theirs, module):
    assert_matches_torch(ours, theirs, [X])
    assert_matches_torch(module, theirs, [X])
    assert np.all(np.isfinite(np.asarray(ours(cm.Tensor(X)))))


@pytest.mark.parametrize("f", [nn.sigmoid, nn.softplus, nn.tanh, nn.softmax, nn.log_softmax])
def test_smooth_activations_have_correct_first_and_second_derivatives(f):
    x = np.random.default_rng(0).standard_normal((2, 4)) * 3
    cm.check_grad(lambda x: np.sum(np.cos(f(x))), x)
    assert_jvp_agrees_with_vjp(f, x)
    assert_second_derivatives(lambda x: np.sum(np.cos(f(x))), x)


def test_kinks_follow_the_ml_convention():
    zero = cm.Tensor(np.zeros(1), requires_grad=True)
    nn.relu(zero).sum().backward()
    assert zero.grad[0] == 0.0
    zero.grad = None
    nn.leaky_relu(zero, 0.2).sum().backward()
    assert zero.grad[0] == pytest.approx(0.2)


def test_sigmoid_is_exact_in_the_tails_and_keeps_float32():
    x = np.array([-40.0, 0.0, 40.0], dtype=np.float32)
    value = nn.sigmoid(cm.Tensor(x)).value
    assert value.dtype == np.float32 and value[1] == 0.5 and value[2] == 1.0 and 0.0 <= value[0] < 1e-17
