"""The engine's errors a person can act on, its conventions at non-differentiable points, and dtypes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import calcml as cm


def traced(value) -> cm.Tensor:
    return cm.Tensor(np.asarray(value, dtype=float), requires_grad=True)


# ---- clear errors ------------------------------------------------------------------------------------
def test_a_numpy_function_without_a_rule_names_itself_the_shapes_and_the_supported_list():
    with pytest.raises(cm.NoRuleError) as caught:
        np.fft.fft(traced(np.ones(128)))
    message = str(caught.value)
    assert "numpy.fft.fft" in message
    assert "Tensor(shape=(128,), float64)" in message
    supported = cm.supported_functions()
    assert len(supported) > 10
    for name in supported:
        assert name.removeprefix("numpy.") in message, name
    assert "cm.primitive" in message  # what to do about it


def test_assigning_into_a_tensor_raises_in_place_error():
    t = traced(np.ones(3))
    with pytest.raises(cm.InPlaceError, match=r"(?s)t\[0\] = .*shape=\(3,\)"):
        t[0] = 1


def test_numpy_out_argument_into_a_plain_array_raises_in_place_error():
    a = np.zeros(3)
    t = traced(np.ones(3))
    with pytest.raises(cm.InPlaceError, match="numpy.add"):
        np.add(a, t, out=a)
    with pytest.raises(cm.InPlaceError):
        a += t  # the same call, written as an augmented assignment
    np.testing.assert_array_equal(a, np.zeros(3))  # nothing was written


def test_grad_of_a_non_scalar_output_names_the_shape():
    with pytest.raises(cm.NonScalarOutputError, match=r"shape \(2, 3\)"):
        cm.grad(lambda x: x * 2)(np.ones((2, 3)))
    y = traced(np.ones(4)) * 2
    with pytest.raises(cm.NonScalarOutputError, match=r"shape \(4,\)"):
        y.backward()


def test_a_shape_mismatch_names_both_shapes_and_the_op():
    with pytest.raises(cm.ShapeError) as caught:
        np.ones(3) + cm.Tensor(np.ones(4))
    message = str(caught.value)
    assert "(3,)" in message and "(4,)" in message and "'add'" in message
    with pytest.raises(cm.ShapeError, match=r"(?s)'multiply'.*\(2, 3\).*\(2,\)"):
        traced(np.ones((2, 3))) * np.ones(2)


def test_detect_anomaly_names_the_first_primitive_with_nan_in_the_forward_pass():
    f = lambda x: np.sum(np.exp(np.log(x)) * 2.0)  # noqa: E731  (the NaN from log spreads to exp, multiply, sum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with cm.detect_anomaly(), pytest.raises(cm.AnomalyError) as caught:
            cm.grad(f)(np.array([-1.0, 1.0]))
    message = str(caught.value)
    assert "forward pass of 'log'" in message and "NaN" in message and "(2,)" in message
    assert "'exp'" not in message


def test_detect_anomaly_names_the_primitive_whose_gradient_is_infinite_in_the_backward_pass():
    f = lambda x: np.sum(np.sqrt(x) * 3.0)  # noqa: E731  (√0 = 0 is fine; its derivative 1/(2√0) is not)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with cm.detect_anomaly(), pytest.raises(cm.AnomalyError) as caught:
            cm.grad(f)(np.array([0.0, 1.0]))
    message = str(caught.value)
    assert "backward pass of 'sqrt'" in message and "infinite" in message
    # outside detect_anomaly the same call quietly returns the infinite gradient
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isinf(cm.grad(f)(np.array([0.0, 1.0]))[0])


# ---- dtypes ------------------------------------------------------------------------------------------
FLOAT32_CASES = {
    "tanh and power": lambda x, y: np.sum(np.tanh(x) * 2.0 + x ** 2 * y),
    "divide and log": lambda x, y: np.sum(np.log(x) / y),
    "relu": lambda x, y: np.sum(np.maximum(0, x) * y),
    "mean and var": lambda x, y: np.mean(x * y) + np.var(x),
    "logsumexp": lambda x, y: cm.logsumexp(x * y),
    "softmax": lambda x, y: np.sum(cm.softmax(x) * y),
    "clip and where": lambda x, y: np.sum(np.clip(x, 0.6, 1.8) * np.where(y > 1, y, 0.5)),
    "maximum of two traced": lambda x, y: np.sum(np.maximum(x, y)),
    "max reduction": lambda x, y: np.max(x) + np.min(y),
}
@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_in_gives_float32_gradient_from_cm_grad(name):
    x = np.array([0.5, 1.5, 2.0], dtype=np.float32)
    y = np.array([0.5, 1.0, 3.0], dtype=np.float32)
    gx, gy = cm.grad(FLOAT32_CASES[name], argnums=(0, 1))(x, y)
    assert gx.dtype == np.float32 and gy.dtype == np.float32
    expected = cm.grad(FLOAT32_CASES[name], argnums=(0, 1))(x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(gx, expected[0], rtol=1e-5)
    np.testing.assert_allclose(gy, expected[1], rtol=1e-5)


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_in_gives_float32_gradient_from_backward(name):
    x = cm.Tensor(np.array([0.5, 1.5, 2.0], dtype=np.float32), requires_grad=True)
    y = cm.Tensor(np.array([0.5, 1.0, 3.0], dtype=np.float32), requires_grad=True)
    out = FLOAT32_CASES[name](x, y)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32


# ---- .grad accumulates, as in PyTorch ----------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_until_zeroed():
    import torch

    value = np.array([1.0, -2.0, 0.5])
    t = traced(value)
    reference = torch.tensor(value, requires_grad=True)
    for _ in range(2):
        np.sum(t * t * t).backward()
        (reference * reference * reference).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * 3 * value ** 2)
    np.testing.assert_allclose(t.grad, reference.grad.numpy(), rtol=1e-15)
    t.zero_grad()
    np.sum(np.sin(t)).backward()
    np.testing.assert_allclose(t.grad, np.cos(value))


# ---- conventions at non-differentiable points --------------------------------------------------------
@pytest.mark.parametrize("relu", [
    lambda x: np.maximum(0, x), lambda x: np.maximum(x, 0), lambda x: np.maximum(0.0, x),
    lambda x: np.maximum(x, np.zeros(3)),
], ids=["maximum(0, x)", "maximum(x, 0)", "maximum(0.0, x)", "maximum(x, zeros)"])
def test_relu_derivative_at_zero_is_zero(relu):
    x = np.array([0.0, 2.0, -1.0])
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(relu(x)))(x), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(cm.jvp(relu, (x,), (np.ones(3),))[1], [0.0, 1.0, 0.0])


@pytest.mark.parametrize("absolute", [np.abs, np.absolute, np.fabs, abs],
                         ids=["abs", "absolute", "fabs", "builtin"])
def test_absolute_value_derivative_at_zero_is_zero(absolute):
    x = np.array([0.0, 2.0, -1.0])
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(absolute(x)))(x), [0.0, 1.0, -1.0])


def test_logsumexp_of_all_minus_infinity_has_a_zero_gradient():
    x = np.full(3, -np.inf)
    assert cm.logsumexp(x) == -np.inf
    np.testing.assert_array_equal(cm.grad(cm.logsumexp)(x), np.zeros(3))
    rows = np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    gradient = cm.grad(lambda x: np.sum(cm.logsumexp(x, axis=1)))(rows)
    np.testing.assert_allclose(gradient, [[0.0, 0.0], [0.25, 0.75]])


@pytest.mark.skipif("numpy.linalg.norm" not in cm.supported_functions(),
                    reason="np.linalg.norm has no rule yet (the linalg rules have not landed)")
def test_the_gradient_of_the_norm_at_zero_is_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gradient = cm.grad(np.linalg.norm)(np.zeros(3))
    assert np.all(np.isfinite(gradient))
    assert np.linalg.norm(gradient) <= 1.0  # a subgradient of ‖x‖ at 0 lies in the unit ball (PyTorch: 0)
