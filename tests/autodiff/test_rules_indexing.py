"""Indexing rules: getitem for every kind of index, its transpose scatter_add, take, take_along_axis,
repeat."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import calcml as cm
from calcml.autodiff.rules.indexing import scatter_add
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
    random_array,
)

MASK = np.array([[[True, False, True, True], [False, False, True, False], [True, True, False, False]],
                 [[False, True, False, True], [True, False, False, True], [False, False, False, True]]])

# name: (index into an array of shape (2, 3, 4), whether PyTorch supports it)
INDICES = {
    "int": ((1,), True),
    "negative-ints": ((-1, 2), True),
    "slices": ((slice(1, None), slice(None, None, 2)), True),
    "negative-step": ((slice(None, None, -1), slice(2, 0, -1)), False),
    "ellipsis-int": ((Ellipsis, 1), True),
    "newaxis": ((None, Ellipsis, None, slice(0, 2)), True),
    "repeated-int-array": ((np.array([0, 0, 1, 0]),), True),
    "lists": (([1, 1, 0], [2, 2, 0]), False),  # lists are array indices
    "adjacent-arrays": ((slice(None), np.array([0, 2, 2]), np.array([1, 1, 3])), True),
    "separated-arrays": ((np.array([0, 1, 1]), slice(None), np.array([3, 3, 0])), True),
    # NumPy counts the int as an advanced index (advanced axis first); PyTorch does not: see below
    "int-and-array-separated": ((0, slice(None), np.array([1, 1, 2])), False),
    "two-dimensional-array": ((np.array([[0, 1], [1, 1]]),), True),
    "ellipsis-array": ((Ellipsis, np.array([0, 0, 3])), True),
    "full-mask": ((MASK,), True),
    "partial-mask": ((slice(None), np.array([True, False, True])), True),
    "mask-and-array": ((np.array([False, True]), slice(None), np.array([2, 0])), True),
    "bool-scalar": ((True,), True),
    "empty-array": ((np.array([], dtype=int),), True),
}


def torch_index(index: tuple) -> tuple:
    return tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in index)


def x_sample(seed: int = 0, shape=(2, 3, 4)) -> np.ndarray:
    return random_array(np.random.default_rng(seed), shape)


def positions_gradient(shape, index, u) -> np.ndarray:
    """The reference gradient of Σ u ⊙ x[index]: count where each flat position of x lands (bincount)."""
    positions = np.arange(int(np.prod(shape))).reshape(shape)[index]
    return np.bincount(np.ravel(positions), weights=np.ravel(u), minlength=int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem_gradient_jvp_and_second_derivatives(name):
    index, _ = INDICES[name]
    def f(x):
        return x[index]
    x = x_sample(len(name))
    assert_grad_matches_finite_differences(as_scalar(f), x)
    assert_jvp_agrees_with_vjp(f, x)
    assert_second_derivatives(lambda y: np.sum(f(y) ** 3), x)


@pytest.mark.parametrize("name", sorted(n for n, (_, in_torch) in INDICES.items() if in_torch))
def test_getitem_matches_torch(name):
    index, _ = INDICES[name]
    assert_matches_torch(lambda x: x[index], lambda x: x[torch_index(index)], x_sample(len(name)))


def test_list_and_negative_step_match_the_bincount_reference():
    x = x_sample()
    for name in ["lists", "negative-step"]:
        index, _ = INDICES[name]
        u = np.random.default_rng(1).standard_normal(np.shape(x[index]))
        gradient = cm.grad(lambda y: np.sum(y[index] * u))(x)
        np.testing.assert_array_equal(gradient, positions_gradient(x.shape, index, u))


def test_int_separated_from_an_array_follows_numpy_not_torch():
    index = np.array([1, 1, 2])
    assert_matches_torch(lambda x: x[0, :, index], lambda x: x[0][:, torch.from_numpy(index)].T, x_sample())


def test_repeated_indices_accumulate_like_torch():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    index = np.array([0, 0, 2, 0, 3, 3])
    gradient = cm.grad(lambda y: np.sum(y[index] * np.arange(1.0, 7.0)))(x)
    np.testing.assert_array_equal(gradient, [1 + 2 + 4, 0, 3, 5 + 6])
    assert_matches_torch(lambda y: y[index], lambda y: y[torch.from_numpy(index)], x)


def test_separated_advanced_indices_jvp_keeps_the_batch_axis_apart():
    # NumPy puts the advanced-index axis first here: naive t[(slice(None),) + index] would mix up axes
    x, v = x_sample(), x_sample(1)
    index = (np.array([0, 1, 1]), slice(None), np.array([3, 3, 0]))
    value, tangent = cm.jvp(lambda y: y[index], (x,), (v,))
    assert tangent.shape == value.shape == (3, 3)
    np.testing.assert_array_equal(tangent, v[index])
    jacobian = cm.jacobian(lambda y: y[0, :, [1, 3]], mode="fwd")(x)
    np.testing.assert_array_equal(jacobian, cm.jacobian(lambda y: y[0, :, [1, 3]], mode="rev")(x))


def test_boolean_mask_from_a_comparison():
    x = x_sample()
    def f(y):
        return y[y > 0.5]
    np.testing.assert_array_equal(np.asarray(f(cm.Tensor(x))), x[x > 0.5])
    np.testing.assert_array_equal(cm.grad(lambda y: np.sum(f(y) ** 2))(x), np.where(x > 0.5, 2 * x, 0.0))
    assert_matches_torch(f, lambda y: y[y > 0.5], x)


def test_indices_given_as_tensors_are_unwrapped():
    x = x_sample()
    rows, columns = cm.Tensor(np.array([1, 0])), cm.Tensor(np.array([True, False, True]))
    gradient = cm.grad(lambda y: np.sum(y[rows, columns]))(x)  # picks x[1, 0] and x[0, 2]
    expected = np.zeros_like(x)
    expected[1, 0] = expected[0, 2] = 1.0
    np.testing.assert_array_equal(gradient, expected)


def test_iterating_over_a_tensor_is_differentiable():
    x = x_sample()
    gradient = cm.grad(lambda y: sum(np.sum(row * k) for k, row in enumerate(y)))(x)
    np.testing.assert_array_equal(gradient, np.stack([np.zeros((3, 4)), np.ones((3, 4))]))


def test_hessian_through_repeated_indices():
    # f = 2 x₀³ + x₁³ through x[[0, 0, 1]]: ∇²f = diag(12 x₀, 6 x₁, 0)
    x = np.array([0.5, -1.5, 2.0])
    hessian = cm.hessian(lambda y: np.sum(y[[0, 0, 1]] ** 3))(x)
    np.testing.assert_allclose(hessian, np.diag([12 * 0.5, 6 * -1.5, 0.0]))
    reverse = cm.jacobian(cm.grad(lambda y: np.sum(y[[0, 0, 1]] ** 3)), mode="rev")(x)
    np.testing.assert_allclose(reverse, hessian)


@pytest.mark.parametrize("index", [(np.array([0, 2, 0]), slice(1, 3)), (slice(None), 1), (MASK[0],)])
def test_scatter_add_is_differentiable_and_matches_torch(index):
    values = x_sample(3, np.zeros((3, 4))[index].shape)
    def f(v):
        return scatter_add(v, index, (3, 4))
    assert_grad_matches_finite_differences(as_scalar(f), values)
    assert_jvp_agrees_with_vjp(f, values)
    assert_second_derivatives(lambda v: np.sum(f(v) ** 3), values)
    expected = np.zeros((3, 4))
    np.add.at(expected, index, values)
    np.testing.assert_array_equal(f(cm.Tensor(values)).value, expected)

    def f_torch(v):
        rows, cols = np.indices((3, 4))[(slice(None),) + index]  # where each value lands
        where = (torch.from_numpy(np.ascontiguousarray(rows)), torch.from_numpy(np.ascontiguousarray(cols)))
        return torch.zeros(3, 4, dtype=v.dtype).index_put(where, v, accumulate=True)

    assert_matches_torch(f, f_torch, values)


# ---- take, take_along_axis, repeat ---------------------------------------------------------------
GATHERS = {
    "take-axis": (lambda x: np.take(x, [2, 0, 2, 2], axis=1),
                  lambda x: torch.index_select(x, 1, torch.tensor([2, 0, 2, 2]))),
    "take-negative-axis": (lambda x: np.take(x, np.array([3, 3]), axis=-1),
                           lambda x: torch.index_select(x, -1, torch.tensor([3, 3]))),
    "take-flat": (lambda x: np.take(x, [[5, 5], [0, 23]]),
                  lambda x: x.reshape(-1)[torch.tensor([[5, 5], [0, 23]])]),
    "take-wrap": (lambda x: np.take(x, [4, -1], axis=1, mode="wrap"),
                  lambda x: torch.index_select(x, 1, torch.tensor([1, 2]))),
    "take-clip": (lambda x: np.take(x, [7, -3], axis=2, mode="clip"),
                  lambda x: torch.index_select(x, 2, torch.tensor([3, 0]))),
    "take_along_axis": (lambda x: np.take_along_axis(x, np.array([[[0, 0, 3]], [[1, 2, 2]]]), axis=-1),
                        lambda x: torch.gather(x, -1,
                                               torch.tensor([[[0, 0, 3]], [[1, 2, 2]]]).expand(2, 3, 3))),
    "take_along_axis-0": (lambda x: np.take_along_axis(x, np.array([[[1, 0, 1, 1]] * 3] * 3), axis=0),
                          lambda x: torch.gather(x, 0, torch.tensor([[[1, 0, 1, 1]] * 3] * 3))),
    "repeat-int": (lambda x: np.repeat(x, 2, axis=1), lambda x: torch.repeat_interleave(x, 2, dim=1)),
    "repeat-array": (lambda x: np.repeat(x, [2, 0, 1, 3], axis=-1),
                     lambda x: torch.repeat_interleave(x, torch.tensor([2, 0, 1, 3]), dim=-1)),
    "repeat-flat": (lambda x: np.repeat(x, 3), lambda x: torch.repeat_interleave(x, 3)),
    "repeat-method": (lambda x: x.repeat(2, axis=0), lambda x: torch.repeat_interleave(x, 2, dim=0)),
}


@pytest.mark.parametrize("name", sorted(GATHERS))
def test_gathers_all_checks_and_torch(name):
    f, f_torch = GATHERS[name]
    x = x_sample(len(name))
    assert_grad_matches_finite_differences(as_scalar(f), x)
    assert_jvp_agrees_with_vjp(f, x)
    assert_second_derivatives(lambda y: np.sum(f(y) ** 3), x)
    assert_matches_torch(f, f_torch, x)


@pytest.mark.parametrize("name", ["int", "separated-arrays", "full-mask", "repeated-int-array"])
def test_float32_in_float32_out(name):
    index, _ = INDICES[name]
    x = x_sample().astype(np.float32)
    assert cm.Tensor(x)[index].dtype == np.float32
    assert cm.grad(lambda y: np.sum(y[index] ** 2))(x).dtype == np.float32
    assert cm.jvp(lambda y: y[index], (x,), (x,))[1].dtype == np.float32
    assert cm.hvp(lambda y: np.sum(y[index] ** 3), x, x).dtype == np.float32


def test_out_of_range_index_is_a_calcml_error_naming_the_shape():
    with pytest.raises(cm.CalcmlError, match=r"getitem.*shape=\(2, 3\).*out of bounds"):
        cm.Tensor(np.ones((2, 3)), requires_grad=True)[:, 5]
    with pytest.raises(cm.CalcmlError, match="mode must be"):
        np.take(cm.Tensor(np.ones(3)), [0], mode="bounce")


# ---- random index expressions --------------------------------------------------------------------
@st.composite
def indexed_arrays(draw):
    """A shape and an index mixing ints, slices (any step), integer arrays (repeats allowed), a boolean
    mask, None and an Ellipsis, all valid for that shape."""
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    length = draw(st.integers(1, 3))  # every integer array has this length, so they broadcast
    has_mask = False
    parts = []
    for n in shape[: draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "array", "mask"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bounds = st.none() | st.integers(-n - 1, n + 1)
            step = draw(st.none() | st.sampled_from([-2, -1, 1, 2, 3]))
            parts.append(slice(draw(bounds), draw(bounds), step))
        elif kind == "array":
            parts.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))))
        elif has_mask:  # one mask per index: a second would rarely broadcast with the first
            parts.append(slice(None))
        else:
            has_mask = True
            trues = {0}  # too short an axis for `length` trues: one true broadcasts with the arrays
            if n >= length:
                trues = draw(st.sets(st.integers(0, n - 1), min_size=length, max_size=length))
            parts.append(np.isin(np.arange(n), list(trues)))
    if draw(st.booleans()):  # an Ellipsis may stand anywhere once the parts index every axis
        covered = len(parts) == len(shape)
        parts.insert(draw(st.integers(0 if covered else len(parts), len(parts))), Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    index = tuple(parts)
    try:
        np.zeros(shape)[index]
    except IndexError:  # a mask with fewer trues than the arrays' length cannot broadcast with them
        index = tuple(slice(None) if isinstance(p, np.ndarray) and p.dtype == bool else p for p in index)
    return shape, index


@settings(max_examples=80, deadline=None)
@given(case=indexed_arrays(), seed=st.integers(0, 9))
def test_random_index_expressions(case, seed):
    shape, index = case
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(shape), rng.standard_normal(shape)
    expected = x[index]
    u = rng.standard_normal(np.shape(expected))
    np.testing.assert_array_equal(cm.Tensor(x)[index].value, expected)
    gradient = cm.grad(lambda y: np.sum(y[index] * u))(x)
    np.testing.assert_allclose(gradient, positions_gradient(shape, index, u), rtol=1e-12, atol=1e-12)
    _, tangent = cm.jvp(lambda y: y[index], (x,), (v,))
    np.testing.assert_array_equal(tangent, v[index])
    # ∇²(Σ x[index]³) v = scatter of 6 x[index] v[index]: through scatter_add's own rules
    hvp = cm.hvp(lambda y: np.sum(y[index] ** 3), x, v)
    np.testing.assert_allclose(hvp, positions_gradient(shape, index, 6 * x[index] * v[index]),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("index", [
    (slice(None), 0, Ellipsis, 0, np.array([0, 2])),   # the Ellipsis (empty here) separates the advanced indices
    (slice(None, 0), 0, Ellipsis, 0, np.array([0])),
    (0, Ellipsis, np.array([0, 1])),
])
def test_an_empty_ellipsis_between_advanced_indices_keeps_numpys_layout(index):
    """NumPy moves the advanced dimensions to the front when an Ellipsis (even an empty one) separates the
    advanced indices; writing the Ellipsis out must not change that (it used to give a transposed result)."""
    x = np.arange(6.0).reshape(1, 2, 1, 3)
    np.testing.assert_array_equal(cm.Tensor(x)[index].value, x[index])
    u = np.random.default_rng(0).standard_normal(x[index].shape)
    expected = np.zeros_like(x)
    np.add.at(expected, index, u)
    np.testing.assert_allclose(cm.grad(lambda y: np.sum(y[index] * u))(x), expected)
    np.testing.assert_array_equal(cm.jvp(lambda y: y[index], (x,), (x + 1,))[1], (x + 1)[index])
