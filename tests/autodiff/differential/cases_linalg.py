"""Differential cases for np.linalg (and the ufuncs np.vecdot, np.matvec, np.vecmat): inverses and
determinants, solves, Cholesky, norms, cond and matrix_rank, the decompositions eigh/eigvalsh/svd/qr, pinv and lstsq,
matrix_power, multi_dot, and NumPy 2's trace, diagonal, matrix_transpose, cross and vecdot.

Inputs are built, not drawn at random (``make_args``): matrices with singular values (or eigenvalues)
1, 2, ..., n in random bases, so that they are well conditioned and their eigen/singular values are
separated — where values repeat, eigen and singular vectors have no derivative and calcml refuses
(test_rules_linalg.py checks the refusals). Functions that read one triangle of a symmetric matrix
(cholesky, eigh, eigvalsh) are called on ½(A + Aᵀ), as their rules treat A as symmetric. Eigen and
singular vectors are compared with their signs fixed (first row positive): NumPy and PyTorch pick
signs independently.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from tests.autodiff.differential.spec import Case, broadcastable, fixed

batches = st.lists(st.integers(1, 2), max_size=2).map(tuple)  # (), (2,), (1, 2), ...
SIDES = st.integers(1, 4)


def square(sizes=SIDES):
    """One batch of square matrices (..., n, n)."""
    return st.tuples(batches, sizes).map(lambda bn: (bn[0] + (bn[1], bn[1]),))


def matrices(rows=SIDES, cols=SIDES):
    """One batch of (..., m, n) matrices."""
    return st.tuples(batches, rows, cols).map(lambda b: (b[0] + (b[1], b[2]),))


def tall():
    """(..., m, n) with m ≥ n (QR's differentiable case)."""
    return st.tuples(batches, st.integers(1, 3), st.integers(0, 2)).map(lambda b: (b[0] + (b[1] + b[2], b[1]),))


def conditioned(rng, shape, symmetric=False):
    """(..., m, n) with singular values 1, ..., min(m, n) (shuffled); symmetric: eigenvalues ±1, ..., ±n."""
    m, n = shape[-2:]
    k = min(m, n)
    values = rng.permuted(np.broadcast_to(np.arange(1.0, k + 1), shape[:-2] + (k,)), axis=-1)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    if symmetric:
        return (u * (values * rng.choice([-1.0, 1.0], size=values.shape))[..., None, :]) @ np.swapaxes(u, -1, -2)
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    return (u * values[..., None, :]) @ np.swapaxes(v, -1, -2)


def well_conditioned(rng, shapes):
    return (conditioned(rng, shapes[0]),)


def symmetric_args(rng, shapes):
    return (conditioned(rng, shapes[0], symmetric=True),)


def positive_definite(rng, shapes):
    a = conditioned(rng, shapes[0])
    return (np.swapaxes(a, -1, -2) @ a + np.eye(shapes[0][-1]),)


def matrix_and_rhs(rng, shapes):
    return conditioned(rng, shapes[0]), rng.uniform(-2, 2, size=shapes[1])


def singular_2x2(rng, shapes):
    """Rank-1 matrices u vᵀ: det = 0, where its gradient is the cofactor (A⁻¹ does not exist)."""
    u, v = rng.uniform(0.5, 2, size=(2,) + shapes[0][:-1]), rng.uniform(0.5, 2, size=(2,) + shapes[0][:-1])
    return (u[..., :, None] * v[..., None, :],)


def chain(rng, shapes):
    return tuple(rng.uniform(-2, 2, size=s) for s in shapes)


def sym(a):
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def tsym(a):
    return 0.5 * (a + a.mT)


def signs(columns, like=None):
    """Columns with the first row of ``like`` made positive (NumPy or PyTorch arrays alike)."""
    like = columns if like is None else like
    sign = torch.sign if torch.is_tensor(like) else np.sign
    return columns * sign(like[..., :1, :])


def svd_fixed(u, s, vh):
    """(U, S, V) with the signs of U's columns fixed and V's columns flipped with them (U S Vᵀ unchanged)."""
    v = vh.mT if torch.is_tensor(vh) else np.swapaxes(vh, -1, -2)
    return signs(u), s, signs(v, like=u)


def torch_solve(a, b):
    """NumPy 2's solve: a 1-D b is one vector for every matrix of the batch."""
    if b.ndim == 1:
        return torch.linalg.solve(a, b.expand(a.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    return torch.linalg.solve(a, b)


def torch_lstsq(a, b):
    return torch.linalg.pinv(a) @ b  # PyTorch's lstsq has no gradient for every driver; here x = A⁺b


def torch_residuals(a, b):
    r = b - a @ torch_lstsq(a, b)
    return (r * r).sum(0, keepdim=b.ndim == 1)


def core(n):
    """Two stacks of n-vectors whose batch shapes broadcast together (the core axis must match exactly)."""
    return broadcastable(2, max_dims=2, max_side=2).map(lambda shapes: tuple(s + (n,) for s in shapes))


def torch_broadcast(f):
    return lambda a, b: f(*torch.broadcast_tensors(a, b))



CASES = [
    # -- inverse, determinants, solves ------------------------------------------------------------
    Case("numpy.linalg.inv", np.linalg.inv, shapes=square(), make_args=well_conditioned, torch_fn=torch.linalg.inv),
    Case("numpy.linalg.det", np.linalg.det, shapes=square(), make_args=well_conditioned, torch_fn=torch.linalg.det),
    Case("numpy.linalg.det", np.linalg.det, shapes=square(st.just(2)), make_args=singular_2x2,
         torch_fn=lambda a: a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0],
         note="det = 0: the gradient is the cofactor; PyTorch's twin is the 2×2 formula (its eager det backward "
              "gives 0 there)"),
    Case("numpy.linalg.slogdet", np.linalg.slogdet, shapes=square(), make_args=well_conditioned,
         torch_fn=torch.linalg.slogdet, note="(sign, logabsdet); the sign is piecewise constant"),
    Case("numpy.linalg.solve", np.linalg.solve, arity=2, shapes=fixed((2, 3, 3), (3,)), make_args=matrix_and_rhs,
         torch_fn=torch_solve),
    Case("numpy.linalg.solve", np.linalg.solve, arity=2, shapes=fixed((3, 3), (2, 3, 2)), make_args=matrix_and_rhs,
         torch_fn=torch_solve),
    Case("numpy.linalg.cholesky", lambda a: np.linalg.cholesky(sym(a)), shapes=square(), make_args=positive_definite,
         torch_fn=lambda a: torch.linalg.cholesky(tsym(a))),
    Case("numpy.linalg.cholesky", lambda a: np.linalg.cholesky(sym(a), upper=True), shapes=square(),
         make_args=positive_definite, torch_fn=lambda a: torch.linalg.cholesky(tsym(a), upper=True)),
    # -- norms --------------------------------------------------------------------------------------
    Case("numpy.linalg.norm", np.linalg.norm, shapes=fixed((2, 3)), domain=(0.5, 2.0),
         torch_fn=lambda x: torch.linalg.vector_norm(x)),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord=3, axis=-1, keepdims=True),
         shapes=broadcastable(1, min_dims=1), domain=(0.5, 2.0),
         torch_fn=lambda x: torch.linalg.vector_norm(x, ord=3, dim=-1, keepdim=True)),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord="fro", axis=(0, -1)), shapes=matrices(),
         torch_fn=lambda x: torch.linalg.matrix_norm(x, dim=(0, -1)), domain=(0.5, 2.0)),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord=2, axis=(-2, -1)), shapes=matrices(),
         make_args=well_conditioned, torch_fn=lambda x: torch.linalg.matrix_norm(x, ord=2)),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord=-2, axis=(-1, -2), keepdims=True), shapes=matrices(),
         make_args=well_conditioned, torch_fn=lambda x: torch.linalg.matrix_norm(x, ord=-2, dim=(-1, -2),
                                                                                   keepdim=True)),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord="nuc", axis=(-2, -1)), shapes=matrices(),
         make_args=well_conditioned, torch_fn=lambda x: torch.linalg.matrix_norm(x, ord="nuc")),
    Case("numpy.linalg.norm", lambda x: np.linalg.norm(x, ord=np.inf, axis=(-2, -1)), shapes=fixed((3, 4)),
         domain=(0.5, 2.0), torch_fn=lambda x: torch.linalg.matrix_norm(x, ord=np.inf), second_order=False,
         note="max of row sums of |x|: piecewise linear, its second derivative is 0 (checked in the rule tests)"),
    Case("numpy.linalg.vector_norm", lambda x: np.linalg.vector_norm(x, axis=(0, -1)), shapes=matrices(),
         domain=(0.5, 2.0), torch_fn=lambda x: torch.linalg.vector_norm(x, dim=(0, -1))),
    Case("numpy.linalg.matrix_norm", np.linalg.matrix_norm, shapes=matrices(), domain=(0.5, 2.0),
         torch_fn=torch.linalg.matrix_norm),
    Case("numpy.linalg.matrix_norm", lambda x: np.linalg.matrix_norm(x, ord="nuc"), shapes=matrices(),
         make_args=well_conditioned, torch_fn=lambda x: torch.linalg.matrix_norm(x, ord="nuc")),
    Case("numpy.linalg.cond", np.linalg.cond, shapes=matrices(), make_args=well_conditioned,
         torch_fn=torch.linalg.cond),
    Case("numpy.linalg.cond", lambda a: np.linalg.cond(a, "fro"), shapes=square(), make_args=well_conditioned,
         torch_fn=lambda a: torch.linalg.matrix_norm(a) * torch.linalg.matrix_norm(torch.linalg.inv(a)),
         note="PyTorch's cond(p='fro') fails in its backward (an in-place update); the twin is ‖A‖ ‖A⁻¹‖"),
    Case("numpy.linalg.matrix_rank", lambda a: np.linalg.matrix_rank(a), shapes=matrices(),
         make_args=well_conditioned, note="an integer: piecewise constant, no gradient"),
    # -- decompositions -----------------------------------------------------------------------------
    Case("numpy.linalg.eigh", lambda a: (lambda w, v: (w, signs(v)))(*np.linalg.eigh(sym(a))), shapes=square(),
         make_args=symmetric_args, torch_fn=lambda a: (lambda w, v: (w, signs(v)))(*torch.linalg.eigh(tsym(a))),
         note="eigenvalues 1..n with random signs: separated, so eigenvectors are differentiable"),
    Case("numpy.linalg.eigvalsh", lambda a: np.linalg.eigvalsh(sym(a)), shapes=square(), make_args=symmetric_args,
         torch_fn=lambda a: torch.linalg.eigvalsh(tsym(a))),
    Case("numpy.linalg.svd", lambda a: svd_fixed(*np.linalg.svd(a, full_matrices=False)), shapes=matrices(),
         make_args=well_conditioned, torch_fn=lambda a: svd_fixed(*torch.linalg.svd(a, full_matrices=False))),
    Case("numpy.linalg.svd", lambda a: (lambda u, s, vh: (s, signs(u[..., :, :2])))(*np.linalg.svd(a)),
         shapes=fixed((4, 2)), make_args=well_conditioned,
         torch_fn=lambda a: (lambda u, s, vh: (s, signs(u[..., :, :2])))(*torch.linalg.svd(a)),
         forward=False, second_order=False,
         note="NumPy's default full_matrices=True: the first k columns of U are differentiable in reverse mode; "
              "forward mode (so also hvp) refuses, as U's other columns have no tangent: use full_matrices=False"),
    Case("numpy.linalg.svd", lambda a: np.linalg.svd(a, compute_uv=False), shapes=matrices(),
         make_args=well_conditioned, torch_fn=torch.linalg.svdvals),
    Case("numpy.linalg.svdvals", np.linalg.svdvals, shapes=matrices(), make_args=well_conditioned,
         torch_fn=torch.linalg.svdvals),
    Case("numpy.linalg.qr", lambda a: tuple(np.linalg.qr(a)), shapes=tall(), make_args=well_conditioned,
         torch_fn=lambda a: tuple(torch.linalg.qr(a))),
    Case("numpy.linalg.qr", lambda a: np.linalg.qr(a, mode="r"), shapes=tall(), make_args=well_conditioned,
         torch_fn=lambda a: torch.linalg.qr(a)[1]),
    Case("numpy.linalg.pinv", np.linalg.pinv, shapes=matrices(), make_args=well_conditioned,
         torch_fn=torch.linalg.pinv),
    Case("numpy.linalg.lstsq", lambda a, b: np.linalg.lstsq(a, b)[0], arity=2, shapes=fixed((5, 3), (5,)),
         make_args=matrix_and_rhs, torch_fn=torch_lstsq),
    Case("numpy.linalg.lstsq", lambda a, b: np.linalg.lstsq(a, b)[:2], arity=2, shapes=fixed((4, 2), (4, 3)),
         make_args=matrix_and_rhs, torch_fn=lambda a, b: (torch_lstsq(a, b), torch_residuals(a, b)),
         note="the solution and the residuals Σ(b − Ax)², both traced"),
    Case("numpy.linalg.lstsq", lambda a, b: np.linalg.lstsq(a, b)[0], arity=2, shapes=fixed((2, 4), (2,)),
         make_args=matrix_and_rhs, torch_fn=torch_lstsq, note="underdetermined: the minimum-norm solution"),
    # -- powers and chains --------------------------------------------------------------------------
    Case("numpy.linalg.matrix_power", lambda a: np.linalg.matrix_power(a, 3), shapes=square(),
         make_args=well_conditioned, torch_fn=lambda a: torch.linalg.matrix_power(a, 3)),
    Case("numpy.linalg.matrix_power", lambda a: np.linalg.matrix_power(a, -2), shapes=square(),
         make_args=well_conditioned, torch_fn=lambda a: torch.linalg.matrix_power(a, -2)),
    Case("numpy.linalg.matrix_power", lambda a: np.linalg.matrix_power(a, 0), shapes=square(),
         make_args=well_conditioned, torch_fn=lambda a: torch.linalg.matrix_power(a, 0), note="I: a constant"),
    Case("numpy.linalg.multi_dot", lambda *xs: np.linalg.multi_dot(xs), arity=4,
         shapes=fixed((3,), (3, 4), (4, 2), (2,)), make_args=chain, torch_fn=lambda *xs: torch.linalg.multi_dot(xs)),
    Case("numpy.linalg.multi_dot", lambda *xs: np.linalg.multi_dot(list(xs)), arity=3,
         shapes=fixed((2, 3), (3, 1), (1, 4)), make_args=chain, torch_fn=lambda *xs: torch.linalg.multi_dot(xs)),
    # -- NumPy 2's functions over the last axes -------------------------------------------------------
    Case("numpy.linalg.trace", np.linalg.trace, shapes=matrices(),
         torch_fn=lambda x: torch.diagonal(x, dim1=-2, dim2=-1).sum(-1)),
    Case("numpy.linalg.trace", lambda x: np.linalg.trace(x, offset=1), shapes=matrices(),
         torch_fn=lambda x: torch.diagonal(x, offset=1, dim1=-2, dim2=-1).sum(-1)),
    Case("numpy.linalg.diagonal", lambda x: np.linalg.diagonal(x, offset=-1), shapes=matrices(),
         torch_fn=lambda x: torch.diagonal(x, offset=-1, dim1=-2, dim2=-1)),
    Case("numpy.linalg.matrix_transpose", np.linalg.matrix_transpose, shapes=matrices(), torch_fn=lambda x: x.mT),
    Case("numpy.linalg.cross", np.linalg.cross, arity=2, shapes=core(3),
         torch_fn=torch_broadcast(torch.linalg.cross)),
    Case("numpy.linalg.cross", lambda a, b: np.linalg.cross(a, b, axis=0), arity=2, shapes=fixed((3, 2), (3, 1)),
         torch_fn=lambda a, b: torch.linalg.cross(*torch.broadcast_tensors(a, b), dim=0)),
    Case("numpy.linalg.vecdot", np.linalg.vecdot, arity=2, shapes=core(3),
         torch_fn=torch_broadcast(torch.linalg.vecdot)),
    Case("numpy.linalg.vecdot", lambda a, b: np.linalg.vecdot(a, b, axis=0), arity=2, shapes=fixed((3, 2), (3, 2)),
         torch_fn=lambda a, b: torch.linalg.vecdot(a, b, dim=0)),
    Case("numpy.vecdot", np.vecdot, arity=2, shapes=core(2),
         torch_fn=torch_broadcast(torch.linalg.vecdot)),
    Case("numpy.matvec", np.matvec, arity=2, shapes=fixed((2, 2, 3), (3,)),
         torch_fn=lambda a, v: (a @ v[..., None])[..., 0]),
    Case("numpy.vecmat", np.vecmat, arity=2, shapes=fixed((2, 1, 2), (3, 2, 4)),
         torch_fn=lambda v, a: (v[..., None, :] @ a)[..., 0, :]),
]
