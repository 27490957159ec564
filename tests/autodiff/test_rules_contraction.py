"""matmul, einsum, dot, tensordot, inner, outer, trace, vdot, kron, cross: the four shared checks, shapes
drawn by hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import calcml as cm
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
    random_array,
)

RNG = np.random.default_rng(0)


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [random_array(rng, s) for s in shapes]


def assert_first_order(f, f_torch, *args):
    """Finite differences, JVP = VJP transpose, and PyTorch's value and gradient to 1e-10.

    Finite differences go through Σ u ⊙ f: cm.check_grad cannot take a size-1 output of rank > 0 yet.
    """
    assert_grad_matches_finite_differences(as_scalar(f), *args)
    assert_jvp_agrees_with_vjp(f, *args)
    if f_torch is not None:
        assert_matches_torch(f, f_torch, *args)


def assert_second_order(f, *args):
    """Second derivatives of Σ sin(f) in each argument (the VJP rules run on traced values)."""
    for k in range(len(args)):
        def scalar(x, k=k):
            call = list(args)
            call[k] = x
            return np.sum(np.sin(f(*call)))

        assert_second_derivatives(scalar, args[k])


# ---- matmul ------------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    """Operand shapes for every rank combination: a vector, a matrix, or a stack of matrices whose
    batch axes broadcast against the other operand's."""
    vector1, vector2 = draw(st.booleans()), draw(st.booleans())
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    i, j, k = (draw(st.integers(1, 3)) for _ in range(3))
    first = (j,) if vector1 else batch[0] + (i, j)
    second = (j,) if vector2 else batch[1] + (j, k)
    return first, second


@settings(max_examples=30, deadline=None)
@given(shapes=matmul_shapes())
def test_matmul_every_rank_combination(shapes):
    a, b = arrays(*shapes)
    assert_first_order(lambda a, b: a @ b, torch.matmul, a, b)


@settings(max_examples=10, deadline=None)
@given(shapes=matmul_shapes())
def test_matmul_second_derivatives(shapes):
    a, b = arrays(*shapes)
    assert_second_order(np.matmul, a, b)


def test_matmul_of_a_matrix_with_itself_has_the_right_hessian():
    (x,) = arrays((3, 3))
    assert_second_derivatives(lambda x: np.sum(np.sin(x @ x)), x)
    assert_second_derivatives(lambda x: np.sum(np.sin(x @ x.T)), x)


def test_matmul_forward_jacobian_equals_reverse_for_batched_vector_cases():
    a, b, v, w = arrays((2, 1, 3, 4), (5, 4), (4,), (3,))
    for f, x in [(lambda x: x @ b.T, a), (lambda x: a @ x, v), (lambda x: w @ x, a), (lambda x: x @ a, w)]:
        np.testing.assert_allclose(cm.jacobian(f, mode="fwd")(x), cm.jacobian(f, mode="rev")(x), atol=1e-12)


def test_matmul_2d_backward_is_the_handwritten_numpy():
    a, b, g = arrays((4, 3), (3, 5), (4, 5))
    _, pullback = cm.vjp(np.matmul, a, b)
    grad_a, grad_b = pullback(g)
    np.testing.assert_array_equal(grad_a, g @ b.T)
    np.testing.assert_array_equal(grad_b, a.T @ g)


def test_matmul_keeps_float32():
    a, b = (x.astype(np.float32) for x in arrays((4, 3), (3, 2)))
    value, grads = cm.value_and_grad(lambda a, b: np.sum(a @ b), argnums=(0, 1))(a, b)
    assert value.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    _, tangent = cm.jvp(lambda a: a @ b, (a,), (a,))
    assert tangent.dtype == np.float32


def test_matmul_shape_mismatch_names_the_op_and_both_shapes():
    a = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(cm.ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        a @ np.ones((4, 5))
    with pytest.raises(cm.ShapeError, match="scalars"):
        np.matmul(a, np.float64(2.0))


# ---- einsum ------------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                 # implicit output
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...ij,jk", [(5, 2, 3), (3, 2)]),           # implicit, with ellipsis
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ij,k->ik", [(2, 3), (4,)]),                # j summed away in one operand only
    ("bi,bj,ij->b", [(2, 3), (2, 4), (3, 4)]),
    ("i,i", [(3,), (3,)]),
    ("Ab,bC", [(2, 3), (3, 4)]),                 # upper and lower case labels
    ("i...,...i->...", [(3, 2), (2, 3)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM_CASES)
def test_einsum(subscripts, shapes):
    args = arrays(*shapes)
    f = lambda *xs: np.einsum(subscripts, *xs)  # noqa: E731
    assert_first_order(f, lambda *xs: torch.einsum(subscripts, *xs), *args)
    np.testing.assert_allclose(np.asarray(f(*args)), np.einsum(subscripts, *args), rtol=1e-14)


@pytest.mark.parametrize(("subscripts", "shapes"), [c for c in EINSUM_CASES if len(c[1]) <= 2][::2])
def test_einsum_second_derivatives(subscripts, shapes):
    assert_second_order(lambda *xs: np.einsum(subscripts, *xs), *arrays(*shapes))


def test_einsum_with_the_same_operand_twice():
    (x,) = arrays((3, 3))
    assert_second_derivatives(lambda x: np.sum(np.sin(np.einsum("ij,jk->ik", x, x))), x)
    assert_matches_torch(lambda x: np.einsum("ij,ji->", x, x), lambda x: torch.einsum("ij,ji->", x, x), x)


def test_einsum_keeps_float32():
    a, b = (x.astype(np.float32) for x in arrays((3, 3), (3,)))
    grads = cm.grad(lambda a, b: np.einsum("ii,i->", a, b), argnums=(0, 1))(a, b)
    assert all(g.dtype == np.float32 for g in grads)


def test_einsum_errors_are_explained():
    a = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(cm.ShapeError, match="one label per axis"):
        np.einsum("ijk->i", a)
    with pytest.raises(cm.ShapeError, match="2 operand"):
        np.einsum("ij,jk->ik", a)
    with pytest.raises(cm.ShapeError, match="einsum"):
        np.einsum("ij,jk->ik", a, np.ones((4, 2)))


# ---- dot, tensordot, inner, outer, trace -------------------------------------------------------
@pytest.mark.parametrize(("shapes", "torch_f"), [
    ([(), (3,)], lambda a, b: a * b),
    ([(3,), (3,)], torch.dot),
    ([(2, 3), (3,)], torch.matmul),
    ([(2, 3), (3, 4)], torch.matmul),
    ([(2, 2, 3), (4, 3, 5)], lambda a, b: torch.tensordot(a, b, dims=([2], [1]))),
    ([(2, 2, 3), (3,)], lambda a, b: torch.tensordot(a, b, dims=([2], [0]))),
])
def test_dot(shapes, torch_f):
    args = arrays(*shapes)
    assert_first_order(np.dot, torch_f, *args)
    np.testing.assert_allclose(np.asarray(np.dot(*[cm.Tensor(a) for a in args]).value), np.dot(*args))


@pytest.mark.parametrize(("shapes", "axes", "torch_axes"), [
    ([(2, 3, 4), (3, 4, 5)], 2, 2),
    ([(2, 3), (3, 2)], 0, 0),
    ([(2, 3, 4), (4, 2)], ([0, 2], [1, 0]), ([0, 2], [1, 0])),
    ([(2, 3, 4), (4, 3)], ([-1], [0]), ([2], [0])),
    ([(3, 4), (4,)], (1, 0), ([1], [0])),
])
def test_tensordot(shapes, axes, torch_axes):
    args = arrays(*shapes)
    f = lambda a, b: np.tensordot(a, b, axes=axes)  # noqa: E731
    assert_first_order(f, lambda a, b: torch.tensordot(a, b, dims=torch_axes), *args)
    np.testing.assert_allclose(np.asarray(f(*[cm.Tensor(a) for a in args]).value), f(*args), rtol=1e-14)


def test_tensordot_second_derivatives_and_errors():
    assert_second_order(lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), *arrays((2, 3, 4), (4, 2)))
    with pytest.raises(cm.ShapeError, match=r"tensordot.*\(2, 3\).*\(2, 3\).*sizes \[3\] and \[2\]"):
        np.tensordot(cm.Tensor(np.ones((2, 3))), np.ones((2, 3)), axes=([1], [0]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (4, 3)], [(2, 1, 3), (3,)], [(), (2, 2)]])
def test_inner(shapes):
    args = arrays(*shapes)
    assert_first_order(np.inner, torch.inner, *args)
    assert_second_order(np.inner, *args)


@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(2, 2), (3,)], [(), (3,)]])
def test_outer(shapes):
    args = arrays(*shapes)
    assert_first_order(np.outer, lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)), *args)
    assert_second_order(np.outer, *args)


@pytest.mark.parametrize(("shape", "options"), [
    ((3, 3), {}),
    ((3, 5), {}),
    ((4, 2, 2), {"axis1": 0, "axis2": 2}),
    ((3, 4), {"offset": 1}),
    ((4, 3), {"offset": -2}),
    ((2, 3, 3), {"axis1": 1, "axis2": 2}),
    ((3, 2, 3), {"axis1": -1, "axis2": 0, "offset": 1}),
])
def test_trace(shape, options):
    (a,) = arrays(shape)
    f = lambda a: np.trace(a, **options)  # noqa: E731

    def torch_trace(a):
        diagonal = torch.diagonal(a, offset=options.get("offset", 0), dim1=options.get("axis1", 0),
                                  dim2=options.get("axis2", 1))
        return diagonal.sum(-1)

    assert_first_order(f, torch_trace, a)
    assert_second_order(f, a)
    np.testing.assert_allclose(np.asarray(f(cm.Tensor(a)).value), f(a))
    if shape == (3, 3):
        assert_matches_torch(f, torch.trace, a)
        np.testing.assert_array_equal(cm.grad(f)(a), np.eye(3))


# ---- vdot, kron, cross -------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
def test_vdot(shape):
    args = arrays(shape, shape, seed=3)
    assert_first_order(np.vdot, lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)), *args)
    assert_second_order(np.vdot, *args)


@settings(max_examples=20, deadline=None)
@given(shapes=st.tuples(*[st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)] * 2))
def test_kron(shapes):
    args = arrays(*shapes, seed=4)
    assert_first_order(np.kron, torch.kron, *args)
    assert_second_order(np.kron, *args)


@settings(max_examples=20, deadline=None)
@given(batch=mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3), data=st.data())
def test_cross_of_3_vectors_on_any_axis(batch, data):
    first, second = (shape + (3,) for shape in batch.input_shapes)
    axisa = data.draw(st.integers(-len(first), len(first) - 1))
    axisb = data.draw(st.integers(-len(second), len(second) - 1))
    a, b = arrays(first, second, seed=5)
    a, b = np.moveaxis(a, -1, axisa), np.moveaxis(b, -1, axisb)
    out_ndim = len(np.broadcast_shapes(batch.input_shapes[0], batch.input_shapes[1])) + 1
    axisc = data.draw(st.integers(-out_ndim, out_ndim - 1))

    def f(x, y):
        return np.cross(x, y, axisa=axisa, axisb=axisb, axisc=axisc)

    def f_torch(x, y):
        return torch.movedim(torch.linalg.cross(*torch.broadcast_tensors(torch.movedim(x, axisa, -1),
                                                                          torch.movedim(y, axisb, -1))),
                             -1, axisc)

    assert_first_order(f, f_torch, a, b)


def test_cross_of_2_vectors_and_errors():
    a, b, c = arrays((4, 2), (4, 2), (4, 3), seed=6)
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):  # as NumPy 2 warns
        np.cross(cm.Tensor(a), b)
    assert_first_order(np.cross, None, a, b)  # the scalar a₀b₁ − a₁b₀
    np.testing.assert_allclose(np.cross(cm.Tensor(a), b).value, a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    assert_first_order(np.cross, lambda x, y: torch.linalg.cross(torch.nn.functional.pad(x, (0, 1)), y), a, c)
    assert_second_order(lambda x, y: np.cross(y, x, axis=-1), c, c[::-1])
    with pytest.raises(cm.ShapeError, match="cross: vectors must have 2 or 3 components"):
        np.cross(cm.Tensor(np.ones((2, 4))), np.ones((2, 4)))
