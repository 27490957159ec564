import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.nn as nn
from calcml.nn.conv import conv2d, conv_input_grad, conv_weight_grad
from tests.autodiff.checks import assert_jvp_agrees_with_vjp, assert_second_derivatives
from tests.nn.torch_reference import assert_matches_torch


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 2), channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       size=st.tuples(st.integers(3, 8), st.integers(3, 8)), kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       seed=st.integers(0, 1000))
def test_conv2d_matches_torch_for_strides_and_paddings(batch, channels, out_channels, size, kernel, stride, padding,
                                                       seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels) + size)
    w = rng.standard_normal((out_channels, channels) + kernel)
    b = rng.standard_normal(out_channels)
    assert_matches_torch(lambda x, w, b: nn.convolve2d(x, w, b, stride, padding),
                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding), [x, w, b])


def test_conv2d_layer_matches_torch_layer_with_copied_weights():
    rng = np.random.default_rng(3)
    ours = nn.Conv2d(2, 4, 3, stride=2, padding=1, rng=0, dtype=np.float64)
    theirs = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.value))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(4)))
    ours.bias.copy_(theirs.bias.detach().numpy())
    x = rng.standard_normal((3, 2, 9, 7))
    tx = torch.tensor(x, requires_grad=True)
    cx = cm.Tensor(x, requires_grad=True)
    np.sum(ours(cx) ** 2).backward()
    (theirs(tx) ** 2).sum().backward()
    np.testing.assert_allclose(cx.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 1), (1, 0)), ((2, 2), (1, 2))])
def test_conv2d_gradients_match_finite_differences(stride, padding):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    cm.check_grad(lambda x, w, b: np.sum(np.sin(nn.convolve2d(x, w, b, stride, padding))), x, w, b)


@pytest.mark.parametrize("prim, shapes, options", [
    (conv2d, [(2, 2, 5, 4), (3, 2, 2, 3)], {"stride": (2, 1), "padding": (1, 0)}),
    (conv_input_grad, [(2, 3, 3, 2), (3, 2, 2, 3)], {"input_size": (5, 4), "stride": (2, 1), "padding": (1, 0)}),
    (conv_weight_grad, [(2, 2, 5, 4), (2, 3, 3, 2)], {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 0)}),
])
def test_the_three_convolution_primitives_have_consistent_jvp_vjp_and_second_derivatives(prim, shapes, options):
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(s) for s in shapes)
    f = (lambda a, b: prim(a, b, None, **options)) if prim is conv2d else (lambda a, b: prim(a, b, **options))
    cm.check_grad(lambda a, b: np.sum(np.sin(f(a, b))), a, b)
    assert_jvp_agrees_with_vjp(f, a, b)
    assert_second_derivatives(lambda a: np.sum(np.sin(f(a, b))), a)
    assert_second_derivatives(lambda b: np.sum(np.sin(f(a, b))), b)


def test_conv2d_keeps_float32():
    layer = nn.Conv2d(1, 2, 3, padding=1, rng=0)
    x = cm.Tensor(np.ones((2, 1, 5, 5), dtype=np.float32), requires_grad=True)
    out = layer(x)
    np.sum(out).backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_conv2d_rejects_mismatched_channels_with_a_clear_error():
    with pytest.raises(cm.ShapeError, match="same C"):
        nn.convolve2d(np.ones((1, 2, 5, 5)), np.ones((1, 3, 3, 3)))
    with pytest.raises(cm.ShapeError, match="does not fit"):
        nn.convolve2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)))
