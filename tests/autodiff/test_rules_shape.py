"""Shape rules: reshape family, axis permutations, broadcast_to, flip, tile, astype, copy, diagonals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import calcml as cm
from calcml.autodiff.dispatch import FUNCTIONS
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
    random_array,
)


def torch_reshape_fortran(x, shape):
    """Fortran-order reshape = reverse the axes, C-order reshape to the reversed shape, reverse back."""
    return x.permute(*reversed(range(x.ndim))).reshape(tuple(reversed(shape))).permute(
        *reversed(range(len(shape))))


# name: (calcml/NumPy function, PyTorch function or None, input shape)
CASES = {
    "reshape": (lambda x: np.reshape(x, (4, -1)), lambda x: torch.reshape(x, (4, -1)), (2, 3, 4)),
    "reshape-shape-keyword": (lambda x: np.reshape(x, shape=(6, 4)), lambda x: x.reshape(6, 4), (2, 3, 4)),
    "reshape-int": (lambda x: np.reshape(x, -1), lambda x: x.reshape(-1), (2, 3, 4)),
    "reshape-fortran": (lambda x: np.reshape(x, (4, 6), order="F"),
                        lambda x: torch_reshape_fortran(x, (4, 6)), (2, 3, 4)),
    "reshape-method": (lambda x: x.reshape(3, 8), lambda x: x.reshape(3, 8), (2, 3, 4)),
    "ravel": (np.ravel, lambda x: x.reshape(-1), (2, 3, 4)),
    "ravel-fortran": (lambda x: np.ravel(x, order="F"), lambda x: x.permute(2, 1, 0).reshape(-1), (2, 3, 4)),
    "flatten-method": (lambda x: x.flatten(), torch.flatten, (2, 3, 4)),
    "expand_dims": (lambda x: np.expand_dims(x, 1), lambda x: x.unsqueeze(1), (2, 3, 4)),
    "expand_dims-tuple": (lambda x: np.expand_dims(x, (0, -1)), lambda x: x.unsqueeze(0).unsqueeze(-1),
                          (2, 3, 4)),
    "squeeze-none": (np.squeeze, torch.squeeze, (2, 1, 4, 1)),
    "squeeze-int": (lambda x: np.squeeze(x, 1), lambda x: x.squeeze(1), (2, 1, 4, 1)),
    "squeeze-tuple": (lambda x: np.squeeze(x, (1, -1)), lambda x: x.squeeze((1, -1)), (2, 1, 4, 1)),
    "atleast_2d": (np.atleast_2d, torch.atleast_2d, (5,)),
    "atleast_3d": (np.atleast_3d, torch.atleast_3d, (2, 5)),
    "transpose": (np.transpose, lambda x: x.permute(2, 1, 0), (2, 3, 4)),
    "transpose-axes": (lambda x: np.transpose(x, (1, -1, 0)), lambda x: x.permute(1, 2, 0), (2, 3, 4)),
    "T": (lambda x: x.T, lambda x: x.permute(2, 1, 0), (2, 3, 4)),
    "mT": (lambda x: x.mT, lambda x: x.mT, (2, 3, 4)),
    "matrix_transpose": (np.matrix_transpose, lambda x: x.mT, (2, 3, 4)),
    "swapaxes": (lambda x: np.swapaxes(x, 0, -1), lambda x: torch.swapaxes(x, 0, -1), (2, 3, 4)),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), lambda x: torch.movedim(x, 0, -1), (2, 3, 4)),
    "moveaxis-many": (lambda x: np.moveaxis(x, [0, 1], [-1, 0]), lambda x: torch.movedim(x, (0, 1), (-1, 0)),
                      (2, 3, 4)),
    "broadcast_to": (lambda x: np.broadcast_to(x, (5, 2, 3, 4)), lambda x: x.expand(5, 2, 3, 4), (2, 3, 4)),
    "broadcast_to-stretch": (lambda x: np.broadcast_to(x, (2, 3, 4)), lambda x: x.expand(2, 3, 4), (2, 1, 4)),
    "broadcast_arrays": (lambda x: np.broadcast_arrays(x, np.ones((3, 1, 1)))[0],
                         lambda x: torch.broadcast_tensors(x, torch.ones(3, 1, 1))[0], (2, 1)),
    "flip-all": (np.flip, lambda x: torch.flip(x, (0, 1, 2)), (2, 3, 4)),
    "flip-int": (lambda x: np.flip(x, 1), lambda x: torch.flip(x, (1,)), (2, 3, 4)),
    "flip-tuple": (lambda x: np.flip(x, (0, -1)), lambda x: torch.flip(x, (0, -1)), (2, 3, 4)),
    "fliplr": (np.fliplr, torch.fliplr, (3, 4)),
    "flipud": (np.flipud, torch.flipud, (3, 4)),
    "tile": (lambda x: np.tile(x, (2, 1, 3)), lambda x: torch.tile(x, (2, 1, 3)), (2, 3, 4)),
    "tile-more-reps": (lambda x: np.tile(x, (2, 2, 3)), lambda x: torch.tile(x, (2, 2, 3)), (3, 4)),
    "tile-int": (lambda x: np.tile(x, 3), lambda x: torch.tile(x, (3,)), (2, 3)),
    "astype": (lambda x: np.astype(x, np.float64), lambda x: x.to(torch.float64), (2, 3)),
    "astype-method": (lambda x: x.astype(np.float64), lambda x: x.to(torch.float64), (2, 3)),
    "copy": (np.copy, torch.clone, (2, 3)),
    "copy-method": (lambda x: x.copy(), torch.clone, (2, 3)),
    "diagonal": (np.diagonal, lambda x: torch.diagonal(x), (4, 3)),
    "diagonal-offset-axes": (lambda x: np.diagonal(x, -1, 2, 0), lambda x: torch.diagonal(x, -1, 2, 0),
                             (4, 3, 5)),
    "diag-of-matrix": (lambda x: np.diag(x, 1), lambda x: torch.diag(x, 1), (4, 3)),
    "diag-of-vector": (lambda x: np.diag(x, -2), lambda x: torch.diag(x, -2), (3,)),
    "roll-flat": (lambda x: np.roll(x, 5), lambda x: torch.roll(x.reshape(-1), 5).reshape(x.shape), (2, 3, 4)),
    "roll-axes": (lambda x: np.roll(x, (1, -2, 4), axis=(0, 2, 0)), lambda x: torch.roll(x, (5, -2), (0, 2)),
                  (2, 3, 4)),
    "rot90": (np.rot90, torch.rot90, (3, 4)),
    "rot90-k3-axes": (lambda x: np.rot90(x, 3, axes=(2, 0)), lambda x: torch.rot90(x, 3, (2, 0)), (2, 3, 4)),
    "rot90-k2": (lambda x: np.rot90(x, -2, axes=(1, 2)), lambda x: torch.rot90(x, -2, (1, 2)), (2, 3, 4)),
    "tril": (np.tril, torch.tril, (3, 4)),
    "tril-k-batched": (lambda x: np.tril(x, -1), lambda x: torch.tril(x, -1), (2, 4, 3)),
    "triu-k": (lambda x: np.triu(x, 2), lambda x: torch.triu(x, 2), (3, 5)),
}


def sample(name: str) -> np.ndarray:
    return random_array(np.random.default_rng(len(name)), CASES[name][2])


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_jvp_and_second_derivatives(name):
    f, _, _ = CASES[name]
    x = sample(name)
    assert_grad_matches_finite_differences(as_scalar(f), x)
    assert_jvp_agrees_with_vjp(f, x)
    assert_second_derivatives(lambda y: np.sum(f(y) ** 3), x)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    f, f_torch, _ = CASES[name]
    assert_matches_torch(f, f_torch, sample(name))


@pytest.mark.parametrize("name", sorted(set(CASES) - {"astype", "astype-method"}))  # those cast on purpose
def test_float32_in_float32_out(name):
    f = CASES[name][0]
    x = sample(name).astype(np.float32)
    assert np.asarray(f(cm.Tensor(x))).dtype == np.float32
    assert cm.grad(lambda y: np.sum(f(y) ** 2))(x).dtype == np.float32
    _, tangent = cm.jvp(f, (x,), (np.ones_like(x),))
    assert tangent.dtype == np.float32


def test_astype_gradient_is_cast_back_to_the_input_dtype():
    x = np.array([0.1, 1.5, -2.25], dtype=np.float32)
    def f(y):
        return np.sum(np.astype(y, np.float64) ** 2)
    gradient = cm.grad(f)(x)
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, 2 * x)
    down = cm.grad(lambda y: np.sum(np.astype(y, np.float32) * 3.0))(x.astype(np.float64))
    assert down.dtype == np.float64
    np.testing.assert_array_equal(down, 3.0)


def test_cast_to_integer_is_piecewise_constant():
    x = np.array([0.5, 1.5, 2.5])
    assert isinstance(np.astype(cm.Tensor(x, requires_grad=True), np.int64), np.ndarray)
    np.testing.assert_array_equal(cm.grad(lambda y: np.sum(np.astype(y, np.int64) * y))(x), [0.0, 1.0, 2.0])


def test_reshape_accepts_numpy_before_2_4_newshape_keyword():
    t = cm.Tensor(np.arange(6.0))
    reshaped = FUNCTIONS[np.reshape](t, newshape=(2, 3))
    np.testing.assert_array_equal(reshaped.value, np.arange(6.0).reshape(2, 3))


def test_reshape_to_an_incompatible_shape_names_both_shapes():
    with pytest.raises(cm.ShapeError, match=r"shape \(2, 3\) \(6 elements\) into shape \(4, -1\)"):
        np.reshape(cm.Tensor(np.ones((2, 3))), (4, -1))
    with pytest.raises(cm.ShapeError, match=r"into shape \(5,\)"):
        cm.Tensor(np.ones((2, 3))).reshape(5)


def test_bad_axes_raise_calcml_errors():
    t = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(cm.ShapeError, match="moveaxis"):
        np.moveaxis(t, [0, 0], [1, 0])
    with pytest.raises(cm.CalcmlError, match="squeeze"):
        np.squeeze(t, 0)
    with pytest.raises(cm.ShapeError, match="diagonal"):
        np.diagonal(cm.Tensor(np.ones(3)))
    with pytest.raises(cm.ShapeError, match="diag takes"):
        np.diag(cm.Tensor(np.ones((2, 2, 2))))


def test_broadcast_to_hessian_counts_every_copy():
    # f(x) = Σ (broadcast of x to 4 rows)² = 4 Σ x², so ∇²f = 8 I
    hessian = cm.hessian(lambda x: np.sum(np.broadcast_to(x, (4, 3)) ** 2))(np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(hessian, 8 * np.eye(3))


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_random_reshape_and_transpose(shape, data):
    x = random_array(np.random.default_rng(0), shape)
    permutation = tuple(data.draw(st.permutations(range(len(shape)))))
    divisors = [d for d in range(1, x.size + 1) if x.size % d == 0]
    rows = data.draw(st.sampled_from(divisors))
    def f(y):
        return np.reshape(np.transpose(y, permutation), (rows, -1))
    def f_torch(y):
        return y.permute(*permutation).reshape(rows, -1)
    assert_jvp_agrees_with_vjp(f, x)
    assert_matches_torch(f, f_torch, x)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_random_flip_tile_and_squeeze(shape, data):
    x = random_array(np.random.default_rng(1), shape)
    axes = tuple(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    def f(y):
        return np.squeeze(np.tile(np.flip(y, axes), reps))
    def f_torch(y):
        return torch.tile(torch.flip(y, axes), reps).squeeze()
    assert_jvp_agrees_with_vjp(f, x)
    assert_matches_torch(f, f_torch, x)
    assert math.prod(np.shape(f(cm.Tensor(x)))) == x.size * math.prod(reps)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=2, max_dims=3, max_side=4), data=st.data())
def test_random_roll_rot90_and_triangles(shape, data):
    x = random_array(np.random.default_rng(2), shape)
    ndim = len(shape)
    axes = tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=3)))
    shifts = tuple(data.draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes))))
    plane = tuple(data.draw(st.permutations(range(ndim)))[:2])
    k, diagonal = data.draw(st.integers(-4, 4)), data.draw(st.integers(-3, 3))
    def f(y):
        turned = np.triu(np.rot90(np.roll(y, shifts, axis=axes), k, axes=plane), diagonal)
        return np.concatenate([np.ravel(turned), np.ravel(np.tril(y, diagonal))])
    def f_torch(y):
        turned = torch.triu(torch.rot90(torch.roll(y, shifts, axes), k, plane), diagonal)
        return torch.cat([turned.reshape(-1), torch.tril(y, diagonal).reshape(-1)])
    assert_jvp_agrees_with_vjp(f, x)
    assert_matches_torch(f, f_torch, x)


def test_rot90_with_bad_axes_names_them():
    with pytest.raises(cm.ShapeError, match="rot90: axes must be two different axes"):
        np.rot90(cm.Tensor(np.ones((2, 2))), axes=(1, 1))
