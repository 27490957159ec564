import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.nn as nn
from calcml.nn.conv import _columns, _shifted_copies, _strided_copies, conv2d, conv_input_grad, conv_weight_grad
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


# ---- the fast paths: columns by shifted runs, the bias inside the product, no input gradient -----------------
def _torch_conv_grads(x, w, b, stride, padding, g, input_grad):
    """PyTorch's output and gradients (input only when ``input_grad``) for the cotangent g."""
    tx = torch.tensor(x, requires_grad=input_grad)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = torch.nn.functional.conv2d(tx, tw, tb, stride, padding)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), (tx.grad.numpy() if input_grad else None), tw.grad.numpy(), tb.grad.numpy()


def _calcml_conv_grads(x, w, b, stride, padding, g, input_grad):
    cx = cm.Tensor(x, requires_grad=True) if input_grad else x
    cw, cb = cm.Tensor(w, requires_grad=True), cm.Tensor(b, requires_grad=True)
    out = nn.convolve2d(cx, cw, cb, stride, padding)
    out.backward(g)
    return out.value, (cx.grad if input_grad else None), cw.grad, cb.grad


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), out_channels=st.integers(1, 4),
       size=st.tuples(st.integers(1, 9), st.integers(1, 9)), kh=st.integers(1, 5), kw=st.sampled_from([1, 3, 5]),
       ph=st.integers(0, 3), input_grad=st.booleans(), seed=st.integers(0, 1000))
def test_same_width_stride_one_convolution_matches_torch(batch, channels, out_channels, size, kh, kw, ph, input_grad,
                                                         seed):
    """Stride 1 with 2·pw = kw − 1 takes the shifted-runs columns (the first layer of a CNN: 3×3, padding 1)."""
    height = max(size[0], kh - 2 * ph)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, height, size[1]))
    w = rng.standard_normal((out_channels, channels, kh, kw))
    b = rng.standard_normal(out_channels)
    padding = (ph, (kw - 1) // 2)
    g = rng.standard_normal((batch, out_channels, height + 2 * ph - kh + 1, size[1]))
    ours = _calcml_conv_grads(x, w, b, (1, 1), padding, g, input_grad)
    theirs = _torch_conv_grads(x, w, b, (1, 1), padding, g, input_grad)
    for name, a, t in zip(("output", "input gradient", "weight gradient", "bias gradient"), ours, theirs):
        if t is not None:
            np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), out_channels=st.integers(1, 3),
       size=st.tuples(st.integers(3, 9), st.integers(3, 9)), kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       seed=st.integers(0, 1000))
def test_weight_and_bias_gradients_without_input_gradient_match_torch(batch, channels, out_channels, size, kernel,
                                                                      stride, padding, seed):
    """The input is data: only the weight and bias rules run, the bias gradient coming out of the weight
    gradient's product."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels) + size)
    w = rng.standard_normal((out_channels, channels) + kernel)
    b = rng.standard_normal(out_channels)
    probe = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, stride, padding)
    g = rng.standard_normal(tuple(probe.shape))
    ours = _calcml_conv_grads(x, w, b, stride, padding, g, input_grad=False)
    theirs = _torch_conv_grads(x, w, b, stride, padding, g, input_grad=False)
    for name, a, t in zip(("output", "input gradient", "weight gradient", "bias gradient"), ours, theirs):
        if t is not None:
            np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(lead=st.sampled_from([(1,), (2,), (2, 3)]), channels=st.integers(1, 3),
       size=st.tuples(st.integers(1, 7), st.integers(1, 7)), kh=st.integers(1, 4), kw=st.sampled_from([1, 3, 5]),
       ph=st.integers(0, 3), seed=st.integers(0, 100))
def test_shifted_runs_build_the_same_columns_as_strided_slices(lead, channels, size, kh, kw, ph, seed):
    """Both ways of filling the im2col matrix agree entry for entry (leading axes: batch, forward-mode batch)."""
    padding = (ph, (kw - 1) // 2)
    height = max(size[0], kh - 2 * ph)
    x = np.random.default_rng(seed).standard_normal(lead + (channels, height, size[1]))
    h_out = height + 2 * ph - kh + 1
    shape = lead + (channels, kh, kw, h_out, size[1])
    strided, shifted = np.full(shape, np.nan), np.full(shape[:-2] + (h_out * size[1],), np.nan)
    _strided_copies(x, strided, (1, 1), padding)
    _shifted_copies(x, shifted, (kh, kw), padding)
    np.testing.assert_array_equal(shifted.reshape(shape), strided)
    cols, _ = _columns(x, (kh, kw), (1, 1), padding, ones_row=True)
    np.testing.assert_array_equal(cols[..., :-1, :], strided.reshape(lead + (-1, h_out * size[1])))
    assert np.all(cols[..., -1, :] == 1)


def test_benchmark_layer_in_float32_matches_torch_without_input_gradient():
    """The benchmark's case: batch 64, 1 → 8 channels, 28×28, 3×3, padding 1, float32, the input is data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    g = rng.standard_normal((64, 8, 28, 28)).astype(np.float32)
    layer = nn.Conv2d(1, 8, 3, padding=1, rng=0)
    layer.bias.copy_(rng.standard_normal(8).astype(np.float32))
    out = layer(x)
    out.backward(g)
    reference = _torch_conv_grads(x.astype(np.float64), layer.weight.value.astype(np.float64),
                                  layer.bias.value.astype(np.float64), (1, 1), (1, 1), g.astype(np.float64), False)
    assert out.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32
    np.testing.assert_allclose(out.value, reference[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad, reference[2], rtol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, reference[3], rtol=1e-4)


def test_bias_gradient_is_right_when_the_weight_is_frozen_and_on_a_second_backward():
    """The bias rule takes the weight gradient's by-product only from that very call; otherwise it sums g."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    g = rng.standard_normal((2, 3, 5, 5))
    expected = g.sum(axis=(0, 2, 3))
    frozen_bias = cm.Tensor(b, requires_grad=True)
    nn.convolve2d(x, w, frozen_bias, 1, 1).backward(g)  # the weight is a plain array: no weight rule runs
    np.testing.assert_allclose(frozen_bias.grad, expected, rtol=1e-12)
    cw, cb = cm.Tensor(w, requires_grad=True), cm.Tensor(b, requires_grad=True)
    out = nn.convolve2d(x, cw, cb, 1, 1)
    out.backward(g)
    out.backward(2 * g)  # the graph is walked again: .grad accumulates g + 2g
    np.testing.assert_allclose(cb.grad, 3 * expected, rtol=1e-12)
    np.testing.assert_allclose(cw.grad, 3 * conv_weight_grad(x, g, kernel_size=(3, 3), stride=(1, 1),
                                                            padding=(1, 1)), rtol=1e-12)


@pytest.mark.parametrize("stride, padding", [((1, 1), (1, 1)), ((2, 1), (1, 0))])
def test_convolution_with_bias_has_consistent_jvp_vjp_and_second_derivatives(stride, padding):
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    f = lambda x, w, b: nn.convolve2d(x, w, b, stride, padding)  # noqa: E731
    cm.check_grad(lambda x, w, b: np.sum(np.sin(f(x, w, b))), x, w, b)
    assert_jvp_agrees_with_vjp(f, x, w, b)
    assert_second_derivatives(lambda w: np.sum(np.sin(f(x, w, b))), w)
    assert_second_derivatives(lambda b: np.sum(np.sin(f(x, w, b))), b)


def test_output_dtype_is_that_of_input_and_weight_whatever_the_bias():
    """[W | b] is built in the output's dtype, so a float64 bias does not promote a float32 convolution."""
    x = np.ones((1, 1, 4, 4), dtype=np.float32)
    w = np.ones((2, 1, 3, 3), dtype=np.float32)
    out = nn.convolve2d(x, w, np.array([0.5, -0.5]), padding=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, 1, 1], [9.5, 8.5])
    assert nn.convolve2d(x.astype(np.float64), w, np.zeros(2, dtype=np.float32)).dtype == np.float64


def test_per_example_gradients_through_convolution_and_cross_entropy_match_a_loop():
    """vmap replays the convolution (columns, the bias in the product) and the fused class cross-entropy
    example by example; each gradient must be the one computed alone."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((5, 1, 6, 6)), rng.integers(0, 3, 5)
    params = (rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2), rng.standard_normal((2 * 6 * 6, 3)))

    def loss(params, x, label):
        w, b, V = params
        hidden = np.maximum(nn.convolve2d(x[None], w, b, 1, 1), 0).reshape(1, -1)
        return nn.losses.cross_entropy(hidden @ V, label[None])

    batched = cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))(params, X, y)
    alone = [cm.grad(loss)(params, X[i], y[i]) for i in range(len(X))]
    for k, name in enumerate(("weight", "bias", "dense")):
        np.testing.assert_allclose(batched[k], np.stack([a[k] for a in alone]), rtol=1e-10, atol=1e-12, err_msg=name)


CONV_LAYOUTS = [((1, 1), (1, 1)), ((2, 1), (0, 2)), ((1, 2), (1, 0))]  # (stride, padding)


@pytest.mark.parametrize("stride, padding", CONV_LAYOUTS)
def test_convolution_under_vmap_is_one_replay_for_per_example_images_and_per_example_weights(stride, padding,
                                                                                            monkeypatch):
    """Per-example gradients (images per example; the weight gradient sums each example's own images) and an
    ensemble (weights and bias per example) run through the convolutions' batching rules — no operation once
    per example — and equal the loop, as do gradients through the replay. The batch ends with its first
    example, so a value of example 0 baked in would show."""
    from calcml.autodiff.batching import rules, transform

    def example_by_example(*args, **kwargs):
        raise AssertionError("a step ran example by example")
    rng = np.random.default_rng(11)
    X = rng.standard_normal((4, 2, 2, 7, 6))  # 4 examples of 2 images, 2 channels
    X[-1] = X[0]
    w, b, ws, bs = (rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3), rng.standard_normal((4, 3, 2, 3, 2)),
                    rng.standard_normal((4, 3)))
    conv = lambda x, w, b: np.tanh(nn.convolve2d(x, w, b, stride, padding))
    loss = lambda w, b, x: np.sum(np.sin(conv(x, w, b)) * np.cos(conv(x, w, b)[..., :1]))
    per_example, ensemble = cm.grad(loss, argnums=(0, 1)), cm.vmap(conv, in_axes=(None, 0, 0))
    expected_grads = [per_example(w, b, x) for x in X]
    expected_ensemble = np.stack([conv(X[0], w_k, b_k) for w_k, b_k in zip(ws, bs)])
    ensemble_loss = lambda ws, bs: np.sum(np.sin(ensemble(X[0], ws, bs)))
    expected_through = cm.grad(lambda ws, bs: sum(np.sum(np.sin(conv(X[0], ws[k], bs[k]))) for k in range(4)),
                               argnums=(0, 1))(ws, bs)
    monkeypatch.setattr(transform, "_example_by_example", example_by_example)
    monkeypatch.setattr(rules, "loop", example_by_example)
    grads = cm.vmap(per_example, in_axes=(None, None, 0))(w, b, X)
    for k in range(2):
        np.testing.assert_allclose(grads[k], np.stack([g[k] for g in expected_grads]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ensemble(X[0], ws, bs), expected_ensemble, rtol=1e-12)
    for got, want in zip(cm.grad(ensemble_loss, argnums=(0, 1))(ws, bs), expected_through):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_convolution_with_images_and_weights_both_per_example_under_vmap(monkeypatch):
    """Both operands keep a leading batch axis in the forward and in both gradients' products."""
    from calcml.autodiff.batching import rules, transform
    rng = np.random.default_rng(12)
    X, ws, bs = rng.standard_normal((3, 2, 2, 5, 5)), rng.standard_normal((3, 3, 2, 3, 3)), rng.standard_normal((3, 3))
    conv = lambda x, w, b: np.tanh(nn.convolve2d(x, w, b, 1, 1))
    smooth = cm.grad(lambda x, w, b: np.sum(np.sin(conv(x, w, b))), argnums=(0, 1, 2))
    expected_values = np.stack([conv(*example) for example in zip(X, ws, bs)])
    expected_grads = [smooth(*example) for example in zip(X, ws, bs)]
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    monkeypatch.setattr(rules, "loop", None)
    np.testing.assert_allclose(cm.vmap(conv)(X, ws, bs), expected_values, rtol=1e-12)
    for k, got in enumerate(cm.vmap(smooth)(X, ws, bs)):
        np.testing.assert_allclose(got, np.stack([g[k] for g in expected_grads]), rtol=1e-10, atol=1e-12)
