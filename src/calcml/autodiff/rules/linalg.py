"""Linear algebra (np.linalg): inv, det, slogdet, solve, cholesky, norm, cond, matrix_power, multi_dot and
NumPy 2's trace, diagonal, cross, vecdot, matrix_transpose (and the ufuncs np.vecdot, np.matvec,
np.vecmat), batched over leading axes; matrix_rank passes through as an integer (derivative 0). The
decompositions (eigh, svd, qr, pinv, lstsq) are in decompositions.py.

Each rule is the matrix calculus identity in its docstring. They are written with matmul, einsum, solve
and inv themselves, so they can be differentiated again (Hessians of log-determinants, for instance).
``mT`` is the transpose of the last two axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.linalg._linalg import SlogdetResult  # NumPy's own result type

from calcml.autodiff.dispatch import implements, unwrapped
from calcml.autodiff.errors import OperationError, ShapeError, describe
from calcml.autodiff.formula import Formula
from calcml.autodiff.forward import align_to_rank
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.axes import reduce_tangent, restore_reduced
from calcml.autodiff.rules.branching import plainly_none
from calcml.autodiff.rules.contraction import mT
from calcml.autodiff.rules.decompositions import svd
from calcml.autodiff.rules.reductions import _product_of_others
from calcml.autodiff.rules.refusals import piecewise_constant, refused_where
from calcml.autodiff.state import STATE


# ---- inverse and determinants ------------------------------------------------------------------
@primitive(formula=Formula("∂(A⁻¹) = −A⁻¹ (∂A) A⁻¹, so Ā = −A⁻ᵀ Ḡ A⁻ᵀ"))
def inv(a: Any) -> Any:
    """A⁻¹.  ∂(A⁻¹) = −A⁻¹ (∂A) A⁻¹, so Ā = −A⁻ᵀ Ḡ A⁻ᵀ."""
    return np.linalg.inv(a)


inv.defvjp(lambda g, ans, a: -(mT(ans) @ g @ mT(ans)))
inv.defjvp(lambda t, ans, a: -(ans @ t @ ans))
implements(np.linalg.inv, inv)


@primitive(formula=Formula("∂ det A = tr(adj(A) ∂A) (Jacobi's formula), so Ā = ḡ · cof A"))
def det(a: Any) -> Any:
    """det A.  ∂ det A = tr(adj(A) ∂A) (Jacobi's formula), so Ā = ḡ · cof A, the cofactor matrix adj(A)ᵀ.

    cof A = det A · A⁻ᵀ, or at a singular A (where that is 0 · ∞) its value from the SVD; see ``cofactor``.
    """
    return np.linalg.det(a)


def cofactor(a: Any, det_a: Any, again: bool = False) -> Any:
    """cof A = adj(A)ᵀ = det A · A⁻ᵀ; for a (numerically) singular A, det(U) det(V) U diag(∏_{j≠i} s_j) Vᵀ
    from A = U diag(s) Vᵀ, which holds for every A (adj(USVᵀ) = adj(Vᵀ) adj(S) adj(U)). Each matrix takes
    the first form unless it is singular. ``again``: the result will be differentiated, which the SVD form
    cannot be at rank ≤ n − 2 (refused)."""
    n = np.shape(a)[-1]
    s = np.linalg.svd(a, compute_uv=False)
    zero = s <= n * np.finfo(unwrapped(s).dtype).eps * s[..., :1]
    if plainly_none(zero):
        return np.einsum("...,...ji->...ij", det_a, np.linalg.inv(a))
    if again:
        a = refused_where(a, np.sum(zero, axis=-1) > 1, _RANK_DEFICIENT.format(describe(a)))
    singular = np.any(zero, axis=-1)[..., None, None]
    u, s, vh = svd(a)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vh))  # ±1, constant where it is defined
    from_svd = (u * (sign[..., None] * _product_of_others(s, -1))[..., None, :]) @ vh
    invertible = np.where(singular, np.eye(n, dtype=unwrapped(a).dtype), a)  # A⁻¹ is used where it exists
    return np.where(singular, from_svd, np.einsum("...,...ji->...ij", det_a, np.linalg.inv(invertible)))


_RANK_DEFICIENT = ("det: second derivatives at a matrix of rank ≤ n − 2 ({}) are not available: the SVD that "
                   "gives the cofactor there has no derivative.\n  move A off the singular point (e.g. A + εI), or "
                   "expand det by minors.")


def _differentiated_again() -> bool:
    """In a VJP rule: its result will be differentiated (an enclosing grad, tangents pushed through it, or
    create_graph), not only kept as a graph by cm.vmap, which records even first derivatives to replay them."""
    return STATE.reverse_depth > 0 or STATE.forward_depth > 0 or (STATE.recording and not STATE.vmap_tracers)


det.defvjp(lambda g, ans, a: g[..., None, None] * cofactor(a, ans, again=_differentiated_again()))
det.defjvp(lambda t, ans, a: np.einsum("...ij,Z...ij->Z...", cofactor(a, ans), t))
implements(np.linalg.det, det)


@primitive(formula=Formula("∂ log|det A| = tr(A⁻¹ ∂A), so Ā = ḡ A⁻ᵀ"))
def logabsdet(a: Any) -> Any:
    """log |det A|, the differentiable half of np.linalg.slogdet.  ∂ log|det A| = tr(A⁻¹ ∂A), Ā = ḡ A⁻ᵀ."""
    return np.linalg.slogdet(a).logabsdet


def _nonsingular(x: Any, ans: Any) -> Any:
    """``x``, once log |det A| = ``ans`` is finite (a singular A has no derivative of it: refused)."""
    return refused_where(x, ~np.isfinite(ans), "slogdet: A is singular (log |det A| = −inf), so log |det A| has "
                         "no derivative.\n  regularize A (e.g. A + εI), or differentiate np.linalg.det, which has "
                         "one there.")


def _logabsdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return np.einsum("...,...ji->...ij", _nonsingular(g, ans), np.linalg.inv(a))


def _logabsdet_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray) -> np.ndarray:
    t = _nonsingular(t, ans)  # before A⁻¹, which a singular A does not have
    return np.einsum("...ij,Z...ji->Z...", np.linalg.inv(a), t)


logabsdet.defvjp(_logabsdet_vjp)
logabsdet.defjvp(_logabsdet_jvp)


def slogdet_sign(a: Any) -> Any:
    """sign det A (±1, or 0 for a singular A): piecewise constant in A, its derivative is 0."""
    return np.linalg.slogdet(a).sign


def slogdet(a: Any) -> SlogdetResult:
    """(sign det A, log |det A|) as NumPy's SlogdetResult; only log |det A| is traced (the sign, piecewise
    constant, is a plain array, or under cm.vmap a value recorded per example).

    The sign comes from its own factorization of A's value, so A is factorized twice.
    """
    return SlogdetResult(piecewise_constant(slogdet_sign, a), logabsdet(a))


implements(np.linalg.slogdet, slogdet)


# ---- linear systems ----------------------------------------------------------------------------
def _solve_vectors(a: Any, v: Any) -> Any:
    """A⁻¹v for a vector or a stack of vectors v (..., n), which np.linalg.solve would read as matrices.

    The column v[..., None] and its way back [..., 0] are spelled as einsum, so this stays traceable.
    """
    if np.ndim(v) == 1:
        return np.linalg.solve(a, v)
    column = np.einsum("...i,j->...ij", v, np.ones(1, dtype=bool))
    return np.einsum("...ij->...i", np.linalg.solve(a, column))


@primitive(formula=Formula("∂x = A⁻¹(∂b − ∂A x), so b̄ = A⁻ᵀ x̄ and Ā = −b̄ xᵀ"))
def solve(a: Any, b: Any) -> Any:
    """x = A⁻¹b (b a vector (n,) or a stack of matrices (..., n, k), as in NumPy 2).

    ∂x = A⁻¹(∂b − ∂A x), so b̄ = A⁻ᵀ x̄ and Ā = −b̄ xᵀ.
    """
    return np.linalg.solve(a, b)


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(b) == 1:
        return _solve_vectors(mT(a), g)
    return np.linalg.solve(mT(a), g)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    b_bar = _solve_vjp_b(g, ans, a, b)
    if np.ndim(b) == 1:
        return -np.einsum("...i,...j->...ij", b_bar, ans)
    return -(b_bar @ mT(ans))


def _solve_columns(a: np.ndarray, rhs: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A⁻¹ rhs for a batch of right-hand sides in column form (B, ..., n, k); back to b's form."""
    x = np.linalg.solve(a, rhs)
    return x[..., 0] if np.ndim(b) == 1 else x


def _solve_jvp_a(t: np.ndarray, ans: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = ans[..., None] if np.ndim(b) == 1 else ans
    return _solve_columns(a, -(align_to_rank(t, x.ndim) @ x), b)


def _solve_jvp_b(t: np.ndarray, ans: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    column = t[..., None] if np.ndim(b) == 1 else t
    rank = ans.ndim + (np.ndim(b) == 1)
    return _solve_columns(a, align_to_rank(column, rank), b)


solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(_solve_jvp_a, _solve_jvp_b)
implements(np.linalg.solve, solve)


# ---- Cholesky ----------------------------------------------------------------------------------
def _phi(x: Any) -> Any:
    """Φ(X): the lower triangle of X with its diagonal halved (a constant 0/½/1 mask, so traceable)."""
    n = np.shape(x)[-1]
    return x * (np.tril(np.ones((n, n), dtype=x.dtype)) - 0.5 * np.eye(n, dtype=x.dtype))


def _conjugate_solve(lower: Any, x: Any) -> Any:
    """L⁻ᵀ X L⁻¹, with two solves."""
    left = np.linalg.solve(mT(lower), x)
    return mT(np.linalg.solve(mT(lower), mT(left)))


@primitive(formula=Formula("∂L = L Φ(L⁻¹ ∂A L⁻ᵀ), Φ the lower triangle with its diagonal halved"))
def cholesky(a: Any, upper: bool = False) -> Any:
    """L with A = L Lᵀ (lower; ``upper=True`` gives U = Lᵀ).  ∂L = L Φ(L⁻¹ ∂A L⁻ᵀ) (Murray 2016).

    Φ keeps the lower triangle and halves the diagonal. A is treated as symmetric, as in PyTorch and
    JAX: the gradient is the symmetric Ā = ½(S + Sᵀ), S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, and tangents are symmetrized.
    (NumPy reads only A's lower triangle, so finite differences agree for symmetric perturbations.)
    """
    return np.linalg.cholesky(a, upper=upper)


def _cholesky_vjp(g: Any, ans: Any, a: Any, upper: bool = False) -> Any:
    lower, g_lower = (mT(ans), mT(g)) if upper else (ans, g)
    s = _conjugate_solve(lower, _phi(mT(lower) @ g_lower))
    return 0.5 * (s + mT(s))


def _cholesky_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray, upper: bool = False) -> np.ndarray:
    lower = ans.mT if upper else ans
    symmetric = 0.5 * (t + t.mT)
    inner = np.linalg.solve(lower, np.linalg.solve(lower, symmetric).mT).mT  # L⁻¹ ∂A L⁻ᵀ
    tangent = lower @ _phi(inner)
    return tangent.mT if upper else tangent


cholesky.defvjp(_cholesky_vjp)
cholesky.defjvp(_cholesky_jvp)
implements(np.linalg.cholesky, cholesky)


# ---- norms -------------------------------------------------------------------------------------
def _nonzero(norm: Any) -> Any:
    return np.where(norm == 0, 1.0, norm)


@primitive(name="norm", formula=Formula("∂‖x‖/∂x = x / ‖x‖ (0 at x = 0)"))
def euclidean_norm(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """√(Σ x²) over ``axis``: the vector 2-norm, or the Frobenius norm over two axes.

    ∂‖x‖/∂x = x / ‖x‖. At x = 0 the gradient is 0 (the subgradient of least norm), not NaN.
    """
    return np.linalg.norm(x, axis=axis, keepdims=keepdims)


euclidean_norm.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                      restore_reduced(g / _nonzero(ans), np.shape(x), axis, keepdims) * x)
euclidean_norm.defjvp(lambda t, ans, x, axis=None, keepdims=False:
                      reduce_tangent(t * x, axis, np.ndim(x), keepdims) / _nonzero(ans))


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """The vector ``ord``-norm along ``axis`` (None: all axes), composed from differentiable reductions.

    ord 1: Σ|x| (∂ = sign x, 0 at 0); ±inf: max/min |x| (ties share the gradient); 0: the count of
    nonzeros (piecewise constant: a plain array, recorded per example under cm.vmap); other p: (Σ|x|^p)^(1/p),
    whose gradient at x = 0 is NaN.
    """
    if ord is None or ord == 2:
        return euclidean_norm(x, axis=axis, keepdims=keepdims)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(x != 0, axis=axis, keepdims=keepdims).astype(np.result_type(unwrapped(x), 1.0))
    if isinstance(ord, str):
        raise OperationError(f"norm: ord={ord!r} is a matrix norm; pass two axes (axis=(0, 1)) for it.")
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, rows: int, cols: int, keepdims: bool) -> Any:
    """'fro'; the induced 1/−1 (largest/smallest column sum of |x|) and ±inf (row sums) norms; and from the
    singular values s: 2 = max s (∂ = u₁v₁ᵀ), −2 = min s, 'nuc' = Σ s (∂ = UVᵀ). Ties in max/min share the
    gradient; at s_i = 0 the nuclear norm takes PyTorch's subgradient."""
    if ord is None or ord == "fro":
        return euclidean_norm(x, axis=(rows, cols), keepdims=keepdims)
    spectral = {2: np.max, -2: np.min, "nuc": np.sum}
    if ord in spectral:
        s = svd(np.moveaxis(x, (rows, cols), (-2, -1)), compute_uv=False)
        value = spectral[ord](s, axis=-1)
        return np.expand_dims(value, (rows, cols)) if keepdims else value
    induced = {1: (rows, np.max), -1: (rows, np.min), np.inf: (cols, np.max), -np.inf: (cols, np.min)}
    if ord not in induced:
        raise OperationError(f"norm: ord={ord!r} is not a matrix norm; use None, 'fro', 'nuc', 1, -1, 2, -2, "
                             "inf or -inf.")
    summed, pick = induced[ord]
    sums = np.sum(np.abs(x), axis=summed, keepdims=True)
    return pick(sums, axis=(rows, cols), keepdims=keepdims)  # the summed axis has size 1: reducing drops it


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """np.linalg.norm: a vector norm along one axis, a matrix norm over two (None: by x's rank)."""
    ndim = np.ndim(x)
    if axis is None:
        if ord is None:
            return euclidean_norm(x, axis=None, keepdims=keepdims)
        if ndim not in (1, 2):
            raise ShapeError(f"norm with ord={ord!r} and no axis needs a 1-D or 2-D array, got shape "
                             f"{np.shape(x)}; pass axis= to choose the vector or matrix axes.")
        axis = 0 if ndim == 1 else (0, 1)
    if np.ndim(axis) == 0:
        return _vector_norm(x, ord, int(axis), keepdims)
    axis = tuple(int(a) % ndim for a in axis)
    if len(axis) != 2 or axis[0] == axis[1]:
        raise ShapeError(f"norm: axis={axis!r} must be one axis (a vector norm) or two distinct axes "
                         f"(a matrix norm) of an array of shape {np.shape(x)}.")
    return _matrix_norm(x, ord, axis[0], axis[1], keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    """np.linalg.vector_norm: like norm, but over any number of axes (all by default)."""
    return _vector_norm(x, ord, axis, keepdims)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    """np.linalg.matrix_norm: a matrix norm over the last two axes."""
    ndim = np.ndim(x)
    return _matrix_norm(x, ord, ndim - 2, ndim - 1, keepdims)


def cond(x: Any, p: Any = None) -> Any:
    """np.linalg.cond: s_max / s_min for p None or 2 (s_min / s_max for −2), else ‖A‖_p ‖A⁻¹‖_p; its
    derivative is that of the singular values or of norm and inv."""
    if p in (None, 2, -2):
        s = svd(x, compute_uv=False)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


def matrix_rank(a: Any, *args: Any, **kwargs: Any) -> Any:
    """np.linalg.matrix_rank: an integer, piecewise constant in A (its derivative is 0): a plain result, or
    under cm.vmap one recorded per example."""
    return piecewise_constant(np.linalg.matrix_rank, a, *args, **kwargs)


implements(np.linalg.norm, norm)
implements(np.linalg.vector_norm, vector_norm)
implements(np.linalg.matrix_norm, matrix_norm)
implements(np.linalg.cond, cond)
implements(np.linalg.matrix_rank, matrix_rank)



# ---- powers and chains of products -------------------------------------------------------------
def matrix_power(a: Any, n: int) -> Any:
    """Aⁿ by repeated squaring with matmul (as NumPy), so its derivative is matmul's; n < 0 uses A⁻¹,
    and A⁰ = I is a constant (its derivative is 0)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise OperationError(f"matrix_power: the exponent must be an integer, got {n!r}; for real powers use "
                             "np.linalg.eigh (V diag(wᵖ) Vᵀ) on a symmetric matrix.")
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"matrix_power needs square matrices (..., n, n), got {describe(a)}.")
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1], dtype=unwrapped(a).dtype), shape).copy()
    if n == 1:
        return np.positive(a)  # a new array, as NumPy's, never the input itself
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else result @ a
        n >>= 1
        if n:
            a = a @ a
    return result


def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """np.linalg.multi_dot: A₁ A₂ ⋯ A_k with matmul, left to right (a 1-D first or last array is a row or
    column vector, as in NumPy); the derivative is matmul's at each step."""
    if out is not None:
        raise OperationError("multi_dot(..., out=...) would write around the graph; use the returned value.")
    if len(arrays) < 2:
        raise ShapeError(f"multi_dot needs at least two arrays, got {len(arrays)}.")
    result = arrays[0]
    for array in arrays[1:]:
        result = result @ array
    return result


implements(np.linalg.matrix_power, matrix_power)
implements(np.linalg.multi_dot, multi_dot)


# ---- NumPy 2's array-API functions (over the last axes) ----------------------------------------
def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """np.linalg.trace: Σ_i x[..., i, i + offset] (np.trace over the last two axes)."""
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """np.linalg.diagonal: x[..., i, i + offset] (np.diagonal over the last two axes)."""
    return np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def matrix_transpose(x: Any, /) -> Any:
    """np.linalg.matrix_transpose: xᵀ over the last two axes."""
    if np.ndim(x) < 2:
        raise ShapeError(f"matrix_transpose needs at least 2 dimensions, got {describe(x)}.")
    return mT(x)


LEVI_CIVITA = np.zeros((3, 3, 3))
LEVI_CIVITA[[0, 1, 2], [1, 2, 0], [2, 0, 1]] = 1.0
LEVI_CIVITA[[0, 1, 2], [2, 0, 1], [1, 2, 0]] = -1.0


def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """np.linalg.cross of 3-vectors along ``axis`` (broadcast): (a × b)_i = ε_ijk a_j b_k, a contraction
    with the Levi-Civita symbol, so ∂(a × b) = ∂a × b + a × ∂b."""
    if np.shape(x1)[axis] != 3 or np.shape(x2)[axis] != 3:
        raise ShapeError(f"linalg.cross needs vectors of length 3 along axis {axis}, got {describe(x1)} and "
                         f"{describe(x2)}; np.cross also takes 2-vectors.")
    a, b = np.moveaxis(x1, axis, -1), np.moveaxis(x2, axis, -1)
    product = np.einsum("ijk,...j,...k->...i", LEVI_CIVITA.astype(np.result_type(unwrapped(a), unwrapped(b))), a, b)
    return np.moveaxis(product, -1, axis)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """np.linalg.vecdot and the ufunc np.vecdot: Σ_i x1_i x2_i along ``axis`` (real numbers), broadcast."""
    return np.sum(np.moveaxis(x1, axis, -1) * np.moveaxis(x2, axis, -1), axis=-1)


def matvec(x1: Any, x2: Any, /) -> Any:
    """The ufunc np.matvec: A v over the last axes, (..., m, n), (..., n) -> (..., m), broadcast."""
    return np.einsum("...ij,...j->...i", x1, x2)


def vecmat(x1: Any, x2: Any, /) -> Any:
    """The ufunc np.vecmat: vᵀ A over the last axes, (..., n), (..., n, m) -> (..., m), broadcast."""
    return np.einsum("...i,...ij->...j", x1, x2)


implements(np.linalg.trace, linalg_trace)
implements(np.linalg.diagonal, linalg_diagonal)
implements(np.linalg.matrix_transpose, matrix_transpose)
implements(np.linalg.cross, linalg_cross)
implements(np.linalg.vecdot, vecdot)
implements(np.vecdot, vecdot)
implements(np.matvec, matvec)
implements(np.vecmat, vecmat)
