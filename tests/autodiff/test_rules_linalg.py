"""np.linalg rules — inv, det, slogdet, solve, cholesky, norm, the decompositions (eigh, eigvalsh, svd, qr,
pinv, lstsq), matrix_power, multi_dot and NumPy 2's trace/diagonal/cross/vecdot/matvec/vecmat: the four
shared checks (finite differences, forward vs reverse, second order, PyTorch) on well-conditioned random
matrices with separated eigen/singular values, batched where NumPy is; and the refusals where a derivative
does not exist."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

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


def separated(shape, seed=0, spd=False):
    """Random (..., n, n) matrices whose singular values (or, with spd, eigenvalues) are 1, 2, ..., n, shuffled."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    r = q if spd else np.linalg.qr(rng.standard_normal(shape))[0]
    s = rng.permuted(np.broadcast_to(np.arange(1.0, n + 1), shape[:-1]), axis=-1)
    return (q * s[..., None, :]) @ np.swapaxes(r, -1, -2)


def rectangular(shape, seed=0):
    """Random (..., m, n) matrices with singular values 1, 2, ..., min(m, n)."""
    rng = np.random.default_rng(seed)
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    return (u * np.arange(1.0, k + 1)) @ np.swapaxes(v, -1, -2)


def assert_all_checks(f, f_torch, *args, second=True, rtol=1e-10):
    assert_grad_matches_finite_differences(as_scalar(f), *args)
    assert_jvp_agrees_with_vjp(f, *args)
    assert_matches_torch(f, f_torch, *args, rtol=rtol)
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
        order = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"]))
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
    smooth = order in (None, 2, "fro", 3, 1.5, -2, "nuc")
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
    with pytest.raises(cm.OperationError, match="'spectral'.*matrix norm"):
        np.linalg.norm(cm.Tensor(np.ones((2, 2))), ord="spectral")


# ---- decompositions ----------------------------------------------------------------------------
def fixed_signs(columns, like=None):
    """Columns flipped so that the first row of ``like`` (default: the columns) is positive: eigen/singular
    vectors are unique up to sign, and NumPy's and PyTorch's LAPACK calls pick signs independently."""
    like = columns if like is None else like
    return columns * np.sign(like[..., :1, :])


def torch_fixed_signs(columns, like=None):
    like = columns if like is None else like
    return columns * torch.sign(like[..., :1, :])


DECOMPOSITION_BATCHES = [(), (2,), (2, 1)]


@pytest.mark.parametrize("batch", DECOMPOSITION_BATCHES)
def test_eigh(batch):
    """Through A ↦ eigh(½(A + Aᵀ)), as Cholesky: NumPy reads one triangle, the rule (as PyTorch's) is symmetric."""
    a = separated(batch + (4, 4), seed=10, spd=True) - 2.5 * np.eye(4)  # eigenvalues −1.5 … 1.5
    assert_all_checks(lambda a: np.linalg.eigh(symmetric(a))[0],
                      lambda a: torch.linalg.eigh(0.5 * (a + a.mT))[0], a, rtol=1e-8)
    assert_all_checks(lambda a: fixed_signs(np.linalg.eigh(symmetric(a)).eigenvectors),
                      lambda a: torch_fixed_signs(torch.linalg.eigh(0.5 * (a + a.mT))[1]), a, rtol=1e-8)


def test_eigh_gradient_is_pytorchs_symmetric_gradient():
    """On a symmetric A the rule alone gives PyTorch's gradient, which is symmetric (not NumPy's one triangle)."""
    a = separated((4, 4), seed=11, spd=True)
    f = lambda a: fixed_signs(np.linalg.eigh(a)[1]) + np.linalg.eigh(a)[0]  # noqa: E731
    assert_matches_torch(f, lambda a: torch_fixed_signs(torch.linalg.eigh(a)[1]) + torch.linalg.eigh(a)[0], a,
                         rtol=1e-8)
    gradient = cm.grad(as_scalar(f))(a)
    np.testing.assert_allclose(gradient, gradient.T, atol=1e-12)


def test_eigh_returns_numpys_named_tuple_fields():
    a = separated((2, 3, 3), seed=12, spd=True)
    result = np.linalg.eigh(cm.Tensor(a, requires_grad=True))
    w, v = result
    expected = np.linalg.eigh(a)
    np.testing.assert_array_equal(result.eigenvalues.value, expected.eigenvalues)
    np.testing.assert_array_equal(v.value, expected.eigenvectors)
    assert w is result.eigenvalues and v is result.eigenvectors
    upper = np.linalg.eigh(cm.Tensor(np.triu(a)), UPLO="U")
    np.testing.assert_allclose(upper.eigenvalues.value, expected.eigenvalues, rtol=1e-12)


@pytest.mark.parametrize("batch", DECOMPOSITION_BATCHES)
def test_eigvalsh(batch):
    a = separated(batch + (3, 3), seed=13, spd=True)
    assert_all_checks(lambda a: np.linalg.eigvalsh(symmetric(a)),
                      lambda a: torch.linalg.eigvalsh(0.5 * (a + a.mT)), a, rtol=1e-8)


SVD_SHAPES = [(3, 3), (4, 3), (3, 4), (2, 4, 2), (2, 1, 2, 3)]


@pytest.mark.parametrize("shape", SVD_SHAPES)
def test_svd(shape):
    a = rectangular(shape, seed=14)

    def ours(a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return fixed_signs(u), s, fixed_signs(np.swapaxes(vh, -1, -2), like=u)

    def theirs(a):
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        return torch_fixed_signs(u), s, torch_fixed_signs(vh.mT, like=u)

    for k in range(3):
        assert_all_checks(lambda a, k=k: ours(a)[k], lambda a, k=k: theirs(a)[k], a, rtol=1e-8)
    assert_all_checks(lambda a: np.linalg.svd(a, compute_uv=False), torch.linalg.svdvals, a, rtol=1e-8)
    assert_all_checks(np.linalg.svdvals, torch.linalg.svdvals, a, rtol=1e-8)


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (3, 3)])
def test_svd_full_matrices(shape):
    """NumPy's default full_matrices=True: the values are NumPy's; the first k columns of U (rows of Vh) and S
    are differentiable; the extra ones of a non-square matrix have no derivative and refuse to pretend."""
    a = rectangular(shape, seed=15)
    m, n = shape
    k = min(m, n)
    u, s, vh = np.linalg.svd(cm.Tensor(a, requires_grad=True))
    expected = np.linalg.svd(a)
    for ours, theirs in zip((u, s, vh), expected):
        np.testing.assert_array_equal(ours.value, theirs)

    def leading(a):
        u, s, vh = np.linalg.svd(a)
        return np.sum(u[:, :k] ** 3) + np.sum(vh[:k] ** 3) + np.sum(s ** 2)

    reduced = lambda a: (lambda u, s, vh: np.sum(u ** 3) + np.sum(vh ** 3) + np.sum(s ** 2))(  # noqa: E731
        *np.linalg.svd(a, full_matrices=False))
    np.testing.assert_allclose(cm.grad(leading)(a), cm.grad(reduced)(a), rtol=1e-12)
    if m == n:
        return
    with pytest.raises(cm.OperationError, match="full_matrices=False"):
        cm.grad(lambda a: np.sum(np.linalg.svd(a)[0] if m > n else np.linalg.svd(a)[2]))(a)
    with pytest.raises(cm.OperationError, match="(?s)forward mode.*full_matrices=False"):
        cm.jvp(lambda a: np.linalg.svd(a)[1], (a,), (a,))


def test_svd_hermitian_is_accepted_for_singular_values_only():
    a = separated((3, 3), seed=16, spd=True)
    np.testing.assert_allclose(cm.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False, hermitian=True)))(a),
                               cm.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)))(a))
    with pytest.raises(cm.OperationError, match="hermitian"):
        np.linalg.svd(cm.Tensor(a), hermitian=True)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5, 3), (2, 1, 3, 2)])
def test_qr(shape):
    a = rectangular(shape, seed=17)
    assert_all_checks(lambda a: np.linalg.qr(a).Q, lambda a: torch.linalg.qr(a).Q, a, rtol=1e-8)
    assert_all_checks(lambda a: np.linalg.qr(a)[1], lambda a: torch.linalg.qr(a)[1], a, rtol=1e-8)
    assert_all_checks(lambda a: np.linalg.qr(a, mode="r"), lambda a: torch.linalg.qr(a)[1], a, rtol=1e-8)


def test_qr_refuses_what_is_not_unique():
    with pytest.raises(cm.OperationError, match=r"mode='reduced'.*\(2, 3\)"):
        np.linalg.qr(cm.Tensor(np.ones((2, 3))))
    for mode in ("complete", "raw"):
        with pytest.raises(cm.OperationError, match=f"mode='{mode}'"):
            np.linalg.qr(cm.Tensor(rectangular((3, 2))), mode=mode)
    square = rectangular((3, 3))
    np.testing.assert_allclose(cm.grad(lambda a: np.sum(np.linalg.qr(a, mode="complete")[0] ** 3))(square),
                               cm.grad(lambda a: np.sum(np.linalg.qr(a)[0] ** 3))(square))
    with pytest.raises(cm.OperationError, match="full column rank"):
        cm.grad(lambda a: np.sum(np.linalg.qr(a)[1]))(np.ones((3, 2)))
    with pytest.raises(cm.OperationError, match="full column rank"):
        cm.jvp(lambda a: np.linalg.qr(a)[1], (np.ones((3, 2)),), (np.ones((3, 2)),))


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_pinv(shape):
    a = rectangular(shape, seed=18)
    assert_all_checks(np.linalg.pinv, torch.linalg.pinv, a, rtol=1e-8)
    assert_all_checks(lambda a: np.linalg.pinv(a, rtol=1e-3), lambda a: torch.linalg.pinv(a, rtol=1e-3), a,
                      rtol=1e-8)


@pytest.mark.parametrize(("a_shape", "b_shape"), [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 3), (3,)), ((2, 4), (2,))])
def test_lstsq(a_shape, b_shape):
    a = rectangular(a_shape, seed=19)
    b = np.random.default_rng(20).uniform(-2, 2, size=b_shape)

    def torch_solution(a, b):  # PyTorch's lstsq (gelsy) has no gradient; its solution is A⁺b here
        return torch.linalg.pinv(a) @ b

    assert_all_checks(lambda a, b: np.linalg.lstsq(a, b)[0], torch_solution, a, b, rtol=1e-8)
    x, residuals, rank, s = np.linalg.lstsq(cm.Tensor(a, requires_grad=True), cm.Tensor(b))
    expected = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x.value, expected[0], rtol=1e-12)
    assert np.shape(residuals) == np.shape(expected[1]) and rank == expected[2]
    np.testing.assert_allclose(getattr(residuals, "value", residuals), expected[1], rtol=1e-10)
    np.testing.assert_allclose(s.value, expected[3], rtol=1e-12)
    if np.size(residuals):
        assert_all_checks(lambda a, b: np.linalg.lstsq(a, b)[1],
                          lambda a, b: torch.sum((b - a @ torch_solution(a, b)) ** 2, dim=0, keepdim=b.ndim == 1),
                          a, b, rtol=1e-8)


# ---- derivatives that do not exist: refused, not inf, NaN or a guess -----------------------------
def test_eigenvectors_of_repeated_eigenvalues_are_refused():
    identity = np.eye(3)
    with pytest.raises(cm.OperationError, match="eigh: eigenvalues are repeated"):
        cm.grad(lambda a: np.sum(np.linalg.eigh(a)[1][:, 0]))(identity)
    with pytest.raises(cm.OperationError, match=r"eigh \(forward mode\)"):
        cm.jvp(lambda a: np.linalg.eigh(a)[1], (identity,), (np.ones((3, 3)),))
    # even a basis-independent function: its derivative there is a limit the cotangent does not carry
    with pytest.raises(cm.OperationError, match="repeated"):
        cm.grad(lambda a: (lambda w, v: np.sum(v @ np.diag(np.exp(w)) @ v.T))(*np.linalg.eigh(a)))(identity)
    # what exists still works: eigenvalues, and eigenvectors of the distinct eigenvalues
    np.testing.assert_allclose(cm.grad(lambda a: np.sum(np.linalg.eigh(a)[0] ** 2))(identity), 2 * identity)
    distinct = np.diag([1.0, 1.0, 2.0]) + 0.1 * np.array([[0, 0, 1], [0, 0, 0], [1, 0, 0.0]])
    f = lambda a: np.sum(np.abs(np.linalg.eigh(symmetric(a))[1][:, 2]) ** 3)  # noqa: E731
    assert_grad_matches_finite_differences(f, distinct)


def test_singular_vectors_of_repeated_singular_values_are_refused():
    polar = lambda a: (lambda u, s, vh: np.sum((u @ vh) * np.arange(9.0).reshape(3, 3)))(  # noqa: E731
        *np.linalg.svd(a))
    with pytest.raises(cm.OperationError, match="svd: singular values are repeated"):
        cm.grad(polar)(2 * np.eye(3))
    with pytest.raises(cm.OperationError, match=r"svd \(forward mode\)"):
        cm.jvp(lambda a: np.linalg.svd(a)[0], (2 * np.eye(3),), (np.ones((3, 3)),))
    rank_one = np.outer(np.arange(1.0, 5.0), [1.0, 2.0, 3.0])  # zero singular values of a tall matrix
    with pytest.raises(cm.OperationError, match="zero in a non-square"):
        cm.grad(lambda a: np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 2))(rank_one)
    np.testing.assert_allclose(cm.grad(lambda a: np.sum(np.linalg.svd(a)[1] ** 2))(2 * np.eye(3)), 4 * np.eye(3))
    assert_grad_matches_finite_differences(polar, separated((3, 3), seed=21))


@pytest.mark.parametrize("a", [
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.arange(1.0, 10.0).reshape(3, 3),
    np.stack([separated((3, 3), seed=22), rectangular((3, 2), seed=23) @ rectangular((2, 3), seed=24)]),
])
def test_det_at_singular_matrices_is_the_cofactor(a):
    """∂ det A = cof A everywhere, also where A⁻¹ does not exist (torch.func agrees; PyTorch's eager
    backward returns 0 at [[1, 2], [2, 4]])."""
    f = lambda a: np.sum(np.linalg.det(a))  # noqa: E731
    expected = torch.func.grad(lambda a: torch.linalg.det(a).sum())(torch.tensor(a)).numpy()
    np.testing.assert_allclose(cm.grad(f)(a), expected, rtol=1e-10, atol=1e-12)
    assert_grad_matches_finite_differences(f, a)
    assert_jvp_agrees_with_vjp(np.linalg.det, a)
    hessian = torch.func.hessian(lambda a: torch.linalg.det(a).sum())(torch.tensor(a)).numpy()
    np.testing.assert_allclose(cm.hessian(f)(a), hessian, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(cm.jacobian(cm.grad(f))(a), hessian, rtol=1e-9, atol=1e-10)


def test_det_second_derivative_at_rank_n_minus_2_is_refused_and_first_is_zero():
    a = np.diag([1.0, 0.0, 0.0])
    np.testing.assert_array_equal(cm.grad(np.linalg.det)(a), np.zeros((3, 3)))
    with pytest.raises(cm.OperationError, match="rank ≤ n − 2"):
        cm.jacobian(cm.grad(np.linalg.det))(a)


def test_slogdet_at_a_singular_matrix_is_refused():
    for derivative in (lambda f, a: cm.grad(f)(a), lambda f, a: cm.jvp(f, (a,), (a,))):
        with pytest.raises(cm.OperationError, match="slogdet: A is singular"):
            derivative(lambda a: np.linalg.slogdet(a).logabsdet, np.zeros((2, 2)))


# ---- powers, chains, and NumPy 2's functions -------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2, -3])
def test_matrix_power(n):
    a = separated((2, 3, 3), seed=25) / 2
    assert_all_checks(lambda a: np.linalg.matrix_power(a, n), lambda a: torch.linalg.matrix_power(a, n), a)
    value = np.linalg.matrix_power(cm.Tensor(a, requires_grad=True), n)
    np.testing.assert_allclose(getattr(value, "value", value), np.linalg.matrix_power(a, n), rtol=1e-13)


def test_matrix_power_refuses_what_numpy_refuses():
    with pytest.raises(cm.OperationError, match="integer"):
        np.linalg.matrix_power(cm.Tensor(np.eye(2)), 0.5)
    with pytest.raises(cm.ShapeError, match=r"matrix_power.*\(2, 3\)"):
        np.linalg.matrix_power(cm.Tensor(np.ones((2, 3))), 2)


@pytest.mark.parametrize("shapes", [[(3, 4), (4, 2)], [(3,), (3, 4), (4, 2), (2,)], [(2, 3), (3, 3), (3, 1), (1, 2)]])
def test_multi_dot(shapes):
    rng = np.random.default_rng(26)
    arrays = [rng.uniform(-2, 2, size=shape) for shape in shapes]
    assert_all_checks(lambda *xs: np.linalg.multi_dot(list(xs)), lambda *xs: torch.linalg.multi_dot(list(xs)),
                      *arrays)


@st.composite
def batched_pair(draw, core1, core2):
    """Two arrays with the given core shapes and batch shapes that broadcast together."""
    batches = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    return (rng.uniform(-2, 2, size=batches[0] + core1), rng.uniform(-2, 2, size=batches[1] + core2))


def torch_broadcast(f):
    """PyTorch's cross and vecdot want equal batch shapes: broadcast first, as NumPy does."""
    return lambda a, b: f(*torch.broadcast_tensors(a, b)) if a.shape != b.shape else f(a, b)


@settings(max_examples=10, deadline=None)
@given(pair=batched_pair((3,), (3,)))
def test_linalg_cross(pair):
    assert_all_checks(np.linalg.cross, torch_broadcast(torch.linalg.cross), *pair)


def test_linalg_cross_along_another_axis_and_of_2_vectors():
    a, b = np.random.default_rng(27).uniform(-2, 2, size=(2, 3, 2))
    assert_all_checks(lambda a, b: np.linalg.cross(a, b, axis=0),
                      lambda a, b: torch.linalg.cross(a, b, dim=0), a, b)
    with pytest.raises(cm.ShapeError, match="length 3"):
        np.linalg.cross(cm.Tensor(np.ones(2)), np.ones(2))


@settings(max_examples=10, deadline=None)
@given(pair=batched_pair((4,), (4,)))
def test_vecdot(pair):
    assert_all_checks(np.linalg.vecdot, torch_broadcast(torch.linalg.vecdot), *pair)
    assert_all_checks(np.vecdot, torch_broadcast(torch.linalg.vecdot), *pair)


def test_linalg_vecdot_along_an_axis():
    a, b = np.random.default_rng(28).uniform(-2, 2, size=(2, 3, 4))
    assert_all_checks(lambda a, b: np.linalg.vecdot(a, b, axis=0),
                      lambda a, b: torch.linalg.vecdot(a, b, dim=0), a, b)


@settings(max_examples=10, deadline=None)
@given(pair=batched_pair((2, 3), (3,)))
def test_matvec(pair):
    assert_all_checks(np.matvec, lambda a, v: (a @ v[..., None])[..., 0], *pair)


@settings(max_examples=10, deadline=None)
@given(pair=batched_pair((2,), (2, 3)))
def test_vecmat(pair):
    assert_all_checks(np.vecmat, lambda v, a: (v[..., None, :] @ a)[..., 0, :], *pair)


@pytest.mark.parametrize("offset", [0, 1, -1])
def test_linalg_trace_diagonal_and_matrix_transpose(offset):
    x = np.random.default_rng(29).uniform(-2, 2, size=(2, 3, 4))
    assert_all_checks(lambda x: np.linalg.trace(x, offset=offset),
                      lambda x: torch.diagonal(x, offset=offset, dim1=-2, dim2=-1).sum(-1), x)
    assert_all_checks(lambda x: np.linalg.diagonal(x, offset=offset),
                      lambda x: torch.diagonal(x, offset=offset, dim1=-2, dim2=-1), x)
    assert_all_checks(np.linalg.matrix_transpose, lambda x: x.mT, x)


@pytest.mark.parametrize(("f", "make"), [
    (lambda a: np.linalg.eigh(a)[1], lambda: separated((3, 3), spd=True)),
    (np.linalg.eigvalsh, lambda: separated((3, 3), spd=True)),
    (lambda a: np.linalg.svd(a, full_matrices=False)[0], lambda: rectangular((4, 3))),
    (np.linalg.svdvals, lambda: rectangular((3, 4))),
    (lambda a: np.linalg.qr(a)[0], lambda: rectangular((4, 3))),
    (np.linalg.pinv, lambda: rectangular((2, 3))),
    (lambda a: np.linalg.lstsq(a, np.ones(4, dtype=np.float32))[0], lambda: rectangular((4, 3))),
    (lambda a: np.linalg.matrix_power(a, -2), lambda: separated((3, 3))),
    (lambda a: np.linalg.norm(a, ord="nuc"), lambda: rectangular((3, 4))),
    (lambda a: np.linalg.det(a), lambda: np.array([[1.0, 2.0], [2.0, 4.0]])),
])
def test_decompositions_keep_float32(f, make):
    test_float32_in_float32_out(f, make)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf])
def test_cond(p):
    """PyTorch's cond has no usable backward for the norm-based orders: there the twin is ‖A‖ ‖A⁻¹‖."""
    x = rectangular((4, 3), seed=30) if p in (None, 2, -2) else separated((2, 3, 3), seed=31)

    def twin(a):
        if p in (None, 2, -2):
            return torch.linalg.cond(a, p)
        return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(torch.linalg.inv(a), p)

    f = lambda a: np.linalg.cond(a, p)  # noqa: E731
    np.testing.assert_allclose(f(cm.Tensor(x)).value, f(x), rtol=1e-12)
    assert_all_checks(f, twin, x, second=p not in (1, -1, np.inf), rtol=1e-8)


def test_matrix_rank_is_a_plain_integer():
    a = cm.Tensor(rectangular((2, 4, 3), seed=32), requires_grad=True)
    rank = np.linalg.matrix_rank(a)
    assert type(rank) is np.ndarray and rank.tolist() == [3, 3]
    assert np.linalg.matrix_rank(a, tol=1.5).tolist() == np.linalg.matrix_rank(a.value, tol=1.5).tolist() == [2, 2]


@settings(max_examples=8, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2).map(tuple), m=st.integers(1, 4), n=st.integers(1, 4),
       seed=st.integers(0, 99))
def test_decompositions_over_drawn_batch_shapes(batch, m, n, seed):
    a = rectangular(batch + (m, n), seed=seed)
    s = separated(batch + (n, n), seed=seed, spd=True)
    assert_all_checks(lambda a: np.linalg.eigh(symmetric(a))[0],
                      lambda a: torch.linalg.eigh(0.5 * (a + a.mT))[0], s, second=False, rtol=1e-8)
    assert_all_checks(lambda a: fixed_signs(np.linalg.svd(a, full_matrices=False)[0]),
                      lambda a: torch_fixed_signs(torch.linalg.svd(a, full_matrices=False)[0]), a, second=False,
                      rtol=1e-8)
    assert_all_checks(np.linalg.pinv, torch.linalg.pinv, a, second=False, rtol=1e-8)
    if m >= n:
        assert_all_checks(lambda a: np.linalg.qr(a)[0], lambda a: torch.linalg.qr(a)[0], a, second=False, rtol=1e-8)
