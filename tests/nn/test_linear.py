import numpy as np
import torch

import calcml as cm
import calcml.nn as nn
from tests.nn.torch_reference import assert_matches_torch


def test_linear_matches_torch_with_transposed_weight():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    layer = nn.Linear(4, 3, dtype=np.float64)

    def ours(x, w, b):
        layer.weight, layer.bias = w, b
        return layer(x)

    assert_matches_torch(ours, lambda x, w, b: torch.nn.functional.linear(x, w.T, b), [x, w, b])


def test_linear_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    cm.check_grad(lambda x, w, b: np.sum(np.tanh(x @ w + b)), x, w, b)


def test_linear_keeps_float32_and_names_parameters():
    layer = nn.Linear(4, 3, rng=0)
    out = layer(np.ones((2, 4), dtype=np.float32))
    np.sum(out * out).backward()
    assert out.dtype == np.float32 and layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Linear(4, 3, bias=False).parameters()[0].shape == (4, 3)
