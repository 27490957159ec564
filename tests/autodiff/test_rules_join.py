"""Join rules: concatenate and stack (variadic), the split family (slices), pad, the stacking shortcuts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import calcml as cm
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
    random_array,
)

CONSTANT = np.linspace(-1.0, 1.0, 12).reshape(3, 4)

# name: (calcml/NumPy function of the inputs, PyTorch function, input shapes)
CASES = {
    "concatenate-0": (lambda a, b: np.concatenate([a, b]), lambda a, b: torch.cat([a, b]), [(2, 4), (3, 4)]),
    "concatenate-1": (lambda a, b: np.concatenate((a, b, a), axis=1), lambda a, b: torch.cat((a, b, a), 1),
                      [(3, 2), (3, 4)]),
    "concatenate-negative": (lambda a, b: np.concatenate([a, b], axis=-1), lambda a, b: torch.cat([a, b], -1),
                             [(2, 3, 1), (2, 3, 2)]),
    "concatenate-none": (lambda a, b: np.concatenate([a, b], axis=None),
                         lambda a, b: torch.cat([a.reshape(-1), b.reshape(-1)]), [(2, 3), (4,)]),
    "concatenate-with-constant": (lambda a: np.concatenate([CONSTANT, a], axis=0),
                                  lambda a: torch.cat([torch.tensor(CONSTANT), a]), [(2, 4)]),
    "concat": (lambda a, b: np.concat([a, b], axis=1), lambda a, b: torch.cat([a, b], 1), [(2, 1), (2, 3)]),
    "stack-0": (lambda a, b: np.stack([a, b]), lambda a, b: torch.stack([a, b]), [(3, 4), (3, 4)]),
    "stack-1": (lambda a, b: np.stack([a, b, a], axis=1), lambda a, b: torch.stack([a, b, a], 1),
                [(3, 4), (3, 4)]),
    "stack-negative": (lambda a, b: np.stack((b, a), axis=-1), lambda a, b: torch.stack((b, a), -1),
                       [(3, 4), (3, 4)]),
    "stack-with-constant": (lambda a: np.stack([a, CONSTANT], axis=-2),
                            lambda a: torch.stack([a, torch.tensor(CONSTANT)], -2), [(3, 4)]),
    "hstack-1d": (lambda a, b: np.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [(3,), (2,)]),
    "hstack-2d": (lambda a, b: np.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [(3, 1), (3, 2)]),
    "vstack": (lambda a, b: np.vstack([a, b]), lambda a, b: torch.vstack([a, b]), [(4,), (2, 4)]),
    "dstack": (lambda a, b: np.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [(2, 3), (2, 3)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]), lambda a, b: torch.column_stack([a, b]),
                     [(3,), (3, 2)]),
    "append": (lambda a, b: np.append(a, b), lambda a, b: torch.cat([a.reshape(-1), b.reshape(-1)]),
               [(2, 2), (3,)]),
    "append-axis": (lambda a, b: np.append(a, b, axis=0), lambda a, b: torch.cat([a, b]), [(2, 2), (1, 2)]),
    "split-sections": (lambda a: np.split(a, 3, axis=1)[1], lambda a: torch.split(a, 2, 1)[1], [(2, 6)]),
    "split-indices": (lambda a: np.split(a, [1, 4])[1] * np.split(a, [1, 4])[2][:1],
                      lambda a: torch.split(a, [1, 3, 1])[1] * torch.split(a, [1, 3, 1])[2][:1], [(5, 2)]),
    "array_split": (lambda a: np.concatenate([p * k for k, p in enumerate(np.array_split(a, 3, -1), 1)], -1),
                    lambda a: torch.cat([p * k for k, p in enumerate(torch.tensor_split(a, 3, -1), 1)], -1),
                    [(2, 7)]),
    "hsplit": (lambda a: np.hsplit(a, 2)[1], lambda a: torch.hsplit(a, 2)[1], [(3, 4)]),
    "vsplit": (lambda a: np.vsplit(a, [1])[1], lambda a: torch.vsplit(a, [1])[1], [(3, 4)]),
    "dsplit": (lambda a: np.dsplit(a, 2)[0], lambda a: torch.dsplit(a, 2)[0], [(2, 3, 4)]),
    "unstack": (lambda a: np.unstack(a, axis=1)[2], lambda a: torch.unbind(a, 1)[2], [(2, 3)]),
    "pad": (lambda a: np.pad(a, ((1, 2), (0, 3))), lambda a: F.pad(a, (0, 3, 1, 2)), [(2, 3)]),
    "pad-int": (lambda a: np.pad(a, 1, constant_values=2.5), lambda a: F.pad(a, (1, 1, 1, 1), value=2.5),
                [(2, 3)]),
    "pad-one-pair": (lambda a: np.pad(a, (2, 1)), lambda a: F.pad(a, (2, 1, 2, 1, 2, 1)), [(2, 1, 3)]),
    "pad-edge": (lambda a: np.pad(a, ((1, 2), (3, 1)), mode="edge"),
                 lambda a: F.pad(a[None], (3, 1, 1, 2), mode="replicate")[0], [(2, 3)]),
    "pad-reflect": (lambda a: np.pad(a, ((2, 1), (0, 3)), mode="reflect"),
                    lambda a: F.pad(a[None], (0, 3, 2, 1), mode="reflect")[0], [(3, 4)]),
    "pad-wrap": (lambda a: np.pad(a, ((1, 3), (2, 2)), mode="wrap"),
                 lambda a: F.pad(a[None, None], (2, 2, 1, 3), mode="circular")[0, 0], [(3, 4)]),
    "pad-symmetric": (lambda a: np.pad(a, (2, 3), mode="symmetric"),
                      lambda a: torch.cat([a[:2].flip(0), a, a[-3:].flip(0)]), [(4,)]),
}


def samples(name: str) -> list[np.ndarray]:
    rng = np.random.default_rng(len(name))
    return [random_array(rng, shape) for shape in CASES[name][2]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_jvp_and_second_derivatives(name):
    f, _, _ = CASES[name]
    args = samples(name)
    assert_grad_matches_finite_differences(as_scalar(f), *args)
    assert_jvp_agrees_with_vjp(f, *args)  # one argument at a time: the others carry no tangent
    for k in range(len(args)):
        def cubed(x, k=k):
            call = list(args)
            call[k] = x
            return np.sum(f(*call) ** 3)

        assert_second_derivatives(cubed, args[k])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    f, f_torch, _ = CASES[name]
    assert_matches_torch(f, f_torch, *samples(name))


@pytest.mark.parametrize("name", sorted(n for n in CASES if "constant" not in n))  # CONSTANT is float64
def test_float32_in_float32_out(name):
    f = CASES[name][0]
    args = [a.astype(np.float32) for a in samples(name)]
    assert np.asarray(f(*[cm.Tensor(a) for a in args])).dtype == np.float32
    for gradient in cm.grad(lambda *xs: np.sum(f(*xs) ** 2), argnums=tuple(range(len(args))))(*args):
        assert gradient.dtype == np.float32
    _, tangent = cm.jvp(f, tuple(args), tuple(np.ones_like(a) for a in args))
    assert tangent.dtype == np.float32


def test_jvp_of_all_inputs_at_once_adds_up():
    a, b = samples("stack-1")
    u, v = np.ones_like(a), np.full_like(b, 2.0)
    _, tangent = cm.jvp(lambda x, y: np.stack([x, y, x], axis=1), (a, b), (u, v))
    np.testing.assert_array_equal(tangent, np.stack([u, v, u], axis=1))
    _, tangent = cm.jvp(lambda x, y: np.concatenate([x, y], axis=None), (a, b), (u, v))
    np.testing.assert_array_equal(tangent, np.concatenate([u, v], axis=None))


def test_concatenate_dtype_keyword_casts_the_result():
    a = np.ones((2, 2), dtype=np.float64)
    out = np.concatenate([cm.Tensor(a), a], dtype=np.float32)
    assert out.dtype == np.float32
    assert cm.grad(lambda x: np.sum(np.concatenate([x, x], dtype=np.float32)))(a).dtype == np.float64


def test_pad_other_modes_raise_a_clear_error():
    t = cm.Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(cm.OperationError, match="mode='mean' is not differentiable.*edge, reflect"):
        np.pad(t, 1, mode="mean")
    with pytest.raises(cm.OperationError, match="reflect_type='odd'"):
        np.pad(t, 1, mode="reflect", reflect_type="odd")
    with pytest.raises(cm.ShapeError, match="does not fit an array of shape"):
        np.pad(t, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(cm.ShapeError, match="cannot be negative"):
        np.pad(t, -1)


@settings(max_examples=30, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_pad_modes_copy_entries_outward_and_sum_their_gradients(shape, data):
    """Widths up to three times the side: reflections fold over many times, every copy adds gradient."""
    mode = data.draw(st.sampled_from(["edge", "reflect", "symmetric", "wrap"]))
    widths = tuple((data.draw(st.integers(0, 3 * n)), data.draw(st.integers(0, 3 * n))) for n in shape)
    x = random_array(np.random.default_rng(3), shape)
    f = lambda a: np.pad(a, widths, mode=mode)  # noqa: E731
    np.testing.assert_array_equal(f(cm.Tensor(x)).value, f(x))
    assert_jvp_agrees_with_vjp(f, x)
    assert_grad_matches_finite_differences(as_scalar(f), x)
    # with u = 1, each entry's gradient is how often it appears in the result
    sources = np.pad(np.arange(x.size).reshape(shape), widths, mode=mode)
    copies = np.bincount(sources.ravel(), minlength=x.size).reshape(shape)
    np.testing.assert_array_equal(cm.grad(lambda a: np.sum(f(a)))(x), copies)


def test_pad_with_a_traced_fill_value():
    """∂/∂c of the border's value c is the sum of g over the border."""
    a, c = random_array(np.random.default_rng(4), (2, 3)), np.array(0.7)
    def f(x, fill):
        return np.pad(x, ((0, 1), (2, 0)), constant_values=fill)
    def f_torch(x, fill):
        return F.pad(x - fill, (2, 0, 0, 1)) + fill
    assert_matches_torch(f, f_torch, a, c)
    assert_grad_matches_finite_differences(as_scalar(f), a, c)
    border = np.pad(np.zeros((2, 3)), ((0, 1), (2, 0)), constant_values=1.0)
    _, tangent = cm.jvp(f, (a, c), (np.zeros_like(a), np.array(1.0)))
    np.testing.assert_array_equal(tangent, border)
    # NumPy only hands np.pad to calcml when the array itself is traced: a plain array with a traced
    # fill is refused (the fill would otherwise become a constant)
    with pytest.raises(cm.GraphEscapeError):
        cm.grad(lambda fill: np.sum(np.pad(a, 1, constant_values=fill)))(0.5)


def test_bad_joins_and_splits_raise_calcml_errors():
    a = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(cm.ShapeError, match="concatenate"):
        np.concatenate([a, np.ones((2, 4))])
    with pytest.raises(cm.ShapeError, match="stack"):
        np.stack([a, np.ones((3, 2))])
    with pytest.raises(cm.ShapeError, match="length 3 cannot be split into 2 equal parts"):
        np.split(a, 2, axis=1)
    with pytest.raises(cm.ShapeError, match="vsplit needs an array with at least 2"):
        np.vsplit(cm.Tensor(np.ones(4)), 2)


@settings(max_examples=30, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_random_concatenate_then_split_round_trip(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    extra = data.draw(st.integers(1, 3))
    other = list(shape)
    other[axis] = extra
    rng = np.random.default_rng(0)
    a, b = random_array(rng, shape), random_array(rng, tuple(other))
    def f(x, y):
        return np.stack(np.split(np.concatenate([x, y], axis=axis), [shape[axis]], axis=axis)[::-1][:1]) * 2
    def f_torch(x, y):
        return torch.stack(torch.split(torch.cat([x, y], axis), [shape[axis], extra], axis)[::-1][:1]) * 2
    assert_jvp_agrees_with_vjp(f, a, b)
    assert_matches_torch(f, f_torch, a, b)
