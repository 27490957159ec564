"""np.linalg rules: inv, det, slogdet, solve, cholesky, norm — the four shared checks on well-conditioned
random matrices (A = Q diag(s) Qᵀ + n·I style), batched where NumPy is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.autodiff.rules.contraction import mT
from tests.autodiff.checks import (
    as_scalar,
    assert_grad_matches_finite_differences,
    assert_jvp_agrees_with_vjp,
    assert_matches_torch,
    assert_second_derivatives,
)


def well_conditioned(shape, seed=0, spd=False):
    """Random (..., n, n) matrices with singular values in [n/2, 2n]: Q diag(s) Rᵀ + perturbation, or SPD."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    s = rng.uniform(0.5 * n, 2.0 * n, size=shape[:-1])
    if spd:
        return (q * s[..., None, :]) @ np.swapaxes(q, -1, -2)
    r, _ = np.linalg.qr(rng.standard_normal(shape))
    return (q * s[..., None, :]) @ np.swapaxes(r, -1, -2)


def assert_all_checks(f, f_torch, *args, second=True):
    assert_grad_matches_finite_differences(as_scalar(f), *args)
    assert_jvp_agrees_with_vjp(f, *args)
    assert_matches_torch(f, f_torch, *args)
    if second:
        for k in range(len(args)):
            def scalar(x, k=k):
                call = list(args)
                call[k] = x
                return np.sum(np.sin(f(*call)))

            assert_second_derivatives(scalar, args[k])


BATCHES = [(), (2,), (2, 1)]


@pytest.mark.parametrize("batch", BATCHES)
def test_inv(batch):
    a = well_conditioned(batch + (3, 3))
    assert_all_checks(np.linalg.inv, torch.linalg.inv, a)


@pytest.mark.parametrize("batch", BATCHES)
def test_det(batch):
    a = well_conditioned(batch + (3, 3), seed=1) / 3
    assert_all_checks(np.linalg.det, torch.linalg.det, a)


@pytest.mark.parametrize("batch", BATCHES)
def test_slogdet(batch):
    a = -well_conditioned(batch + (3, 3), seed=2)
    assert_all_checks(lambda a: np.linalg.slogdet(a).logabsdet,
                      lambda a: torch.linalg.slogdet(a).logabsdet, a)
    sign, logabsdet = np.linalg.slogdet(cm.Tensor(a, requires_grad=True))
    expected = np.linalg.slogdet(a)
    assert type(sign) is np.ndarray or np.isscalar(sign)
    np.testing.assert_array_equal(sign, expected.sign)
    np.testing.assert_allclose(logabsdet.value, expected.logabsdet)


@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((3, 3), (3,)),
    ((3, 3), (3, 2)),
    ((2, 3, 3), (3,)),
    ((2, 3, 3), (3, 2)),
    ((3, 3), (2, 3, 2)),
    ((2, 1, 3, 3), (4, 3, 1)),
])
def test_solve(a_shape, b_shape):
    a = well_conditioned(a_shape, seed=3)
    b = np.random.default_rng(4).uniform(-2, 2, size=b_shape)

    def torch_solve(a, b):  # NumPy 2 reads a 1-D b as a vector, whatever a's batch
        if b.ndim == 1:
            return torch.linalg.solve(a, b.expand(a.shape[:-1]).unsqueeze(-1)).squeeze(-1)
        return torch.linalg.solve(a, b)

    assert_all_checks(np.linalg.solve, torch_solve, a, b)


def symmetric(x):
    return 0.5 * (x + mT(x))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(batch, upper):
    """Checked through A ↦ chol(½(A + Aᵀ)): NumPy reads one triangle, the rule (as PyTorch's) is symmetric."""
    a = well_conditioned(batch + (3, 3), seed=5, spd=True)
    f = lambda a: np.linalg.cholesky(symmetric(a), upper=upper)  # noqa: E731
    assert_all_checks(f, lambda a: torch.linalg.cholesky(0.5 * (a + a.mT), upper=upper), a)
    # the rule alone, on a symmetric A, against PyTorch's symmetric gradient
    assert_matches_torch(lambda a: np.linalg.cholesky(a, upper=upper),
                         lambda a: torch.linalg.cholesky(a, upper=upper), a)


@st.composite
def norm_cases(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    matrix = len(shape) >= 2 and draw(st.booleans())
    keepdims = draw(st.booleans())
    if matrix:
        axes = draw(st.permutations(range(len(shape))))[:2]
        order = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))
        return shape, order, tuple(axes), keepdims
    axis = draw(st.sampled_from([None] if len(shape) > 1 else [None, 0]) | st.integers(0, len(shape) - 1))
    vector_orders = [None, 2, 1, np.inf, -np.inf, 3, 1.5]
    order = draw(st.sampled_from(vector_orders)) if axis is not None or len(shape) == 1 else None
    return shape, order, axis, keepdims


def torch_norm(order, axis, keepdims):
    def f(x):
        if isinstance(axis, tuple):
            matrix_order = "fro" if order is None else order
            return torch.linalg.matrix_norm(x, ord=matrix_order, dim=axis, keepdim=keepdims)
        dim = axis if axis is not None else tuple(range(x.ndim))
        return torch.linalg.vector_norm(x, ord=2 if order is None else order, dim=dim, keepdim=keepdims)

    return f


@settings(max_examples=40, deadline=None)
@given(case=norm_cases(), seed=st.integers(0, 3))
def test_norm(case, seed):
    shape, order, axis, keepdims = case
    x = np.random.default_rng(seed).uniform(0.5, 2.0, size=shape) * np.random.default_rng(seed + 9).choice(
        [-1.0, 1.0], size=shape)
    f = lambda x: np.linalg.norm(x, ord=order, axis=axis, keepdims=keepdims)  # noqa: E731
    np.testing.assert_allclose(np.asarray(f(cm.Tensor(x)).value), f(x), rtol=1e-13)
    smooth = order in (None, 2, "fro", 3, 1.5)
    assert_all_checks(f, torch_norm(order, axis, keepdims), x, second=smooth)


def test_norm_at_zero_has_gradient_zero_not_nan():
    zero = np.zeros(3)
    np.testing.assert_array_equal(cm.grad(np.linalg.norm)(zero), zero)
    np.testing.assert_array_equal(cm.jvp(np.linalg.norm, (zero,), (np.ones(3),))[1], 0.0)
    rows = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(np.linalg.norm(x, axis=1)))(rows),
                               [[0.0, 0.0], [0.6, 0.8]])


def test_vector_and_matrix_norm_functions():
    x = np.random.default_rng(0).uniform(-2, 2, size=(2, 3, 4))
    assert_all_checks(lambda x: np.linalg.vector_norm(x, axis=(0, 2)),
                      lambda x: torch.linalg.vector_norm(x, dim=(0, 2)), x)
    assert_all_checks(lambda x: np.linalg.matrix_norm(x, ord=1),
                      lambda x: torch.linalg.matrix_norm(x, ord=1), x, second=False)


@pytest.mark.parametrize(("f", "make"), [
    (np.linalg.inv, lambda: well_conditioned((3, 3))),
    (np.linalg.det, lambda: well_conditioned((2, 3, 3))),
    (lambda a: np.linalg.slogdet(a).logabsdet, lambda: well_conditioned((3, 3))),
    (lambda a: np.linalg.solve(a, np.ones(3, dtype=np.float32)), lambda: well_conditioned((3, 3))),
    (lambda a: np.linalg.cholesky(a), lambda: well_conditioned((3, 3), spd=True)),
    (lambda a: np.linalg.norm(a, axis=0), lambda: well_conditioned((3, 3))),
])
def test_float32_in_float32_out(f, make):
    a = make().astype(np.float32)
    value, gradient = cm.value_and_grad(lambda a: np.sum(f(a)))(a)
    assert value.dtype == np.float32 and gradient.dtype == np.float32
    _, tangent = cm.jvp(f, (a,), (a,))
    assert tangent.dtype == np.float32


def test_errors_name_the_op_and_shapes():
    a = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(cm.CalcmlError, match=r"inv.*\(2, 3\)"):
        np.linalg.inv(a)
    with pytest.raises(cm.CalcmlError, match=r"solve.*\(3, 3\).*\(4,\)"):
        np.linalg.solve(cm.Tensor(np.eye(3)), np.ones(4))
    with pytest.raises(cm.CalcmlError, match="Singular"):
        np.linalg.inv(cm.Tensor(np.zeros((2, 2))))
    with pytest.raises(cm.ShapeError, match="axis"):
        np.linalg.norm(cm.Tensor(np.ones((2, 2, 2))), ord=1)
    with pytest.raises(cm.OperationError, match="nuc"):
        np.linalg.norm(cm.Tensor(np.ones((2, 2))), ord="nuc")
