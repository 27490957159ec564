"""Linear algebra (np.linalg): inv, det, slogdet, solve, cholesky and norm, batched over leading axes.

Each rule is the matrix calculus identity in its docstring. They are written with matmul, einsum, solve
and inv themselves, so they can be differentiated again (Hessians of log-determinants, for instance).
``mT`` is the transpose of the last two axes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff.dispatch import implements, plain
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.forward import align_to_rank
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.axes import negative_axes, restore_reduced
from calcml.autodiff.rules.contraction import mT


# ---- inverse and determinants ------------------------------------------------------------------
@primitive
def inv(a: Any) -> Any:
    """A⁻¹.  ∂(A⁻¹) = −A⁻¹ (∂A) A⁻¹, so Ā = −A⁻ᵀ Ḡ A⁻ᵀ."""
    return np.linalg.inv(a)


inv.defvjp(lambda g, ans, a: -(mT(ans) @ g @ mT(ans)))
inv.defjvp(lambda t, ans, a: -(ans @ t @ ans))
implements(np.linalg.inv, inv)


@primitive
def det(a: Any) -> Any:
    """det A.  ∂ det A = det A · tr(A⁻¹ ∂A) (Jacobi's formula), so Ā = ḡ · det A · A⁻ᵀ.

    The rule uses A⁻¹: at a singular A it raises (np.linalg.LinAlgError) rather than return the adjugate.
    """
    return np.linalg.det(a)


det.defvjp(lambda g, ans, a: np.einsum("...,...ji->...ij", g * ans, np.linalg.inv(a)))
det.defjvp(lambda t, ans, a: ans * np.einsum("...ij,Z...ji->Z...", np.linalg.inv(a), t))
implements(np.linalg.det, det)


@primitive
def logabsdet(a: Any) -> Any:
    """log |det A|, the differentiable half of np.linalg.slogdet.  ∂ log|det A| = tr(A⁻¹ ∂A), Ā = ḡ A⁻ᵀ."""
    return np.linalg.slogdet(a).logabsdet


logabsdet.defvjp(lambda g, ans, a: np.einsum("...,...ji->...ij", g, np.linalg.inv(a)))
logabsdet.defjvp(lambda t, ans, a: np.einsum("...ij,Z...ji->Z...", np.linalg.inv(a), t))


class SlogdetResult(NamedTuple):
    """np.linalg.slogdet on a Tensor: ``sign`` is a plain array (piecewise constant), ``logabsdet`` traced."""

    sign: np.ndarray
    logabsdet: Any


def slogdet(a: Any) -> SlogdetResult:
    """(sign det A, log |det A|); only log |det A| carries a gradient (the sign's derivative is 0).

    The sign comes from its own factorization of A's value, so A is factorized twice.
    """
    return SlogdetResult(np.linalg.slogdet(plain(a)).sign, logabsdet(a))


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


@primitive
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


@primitive
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


@primitive(name="norm")
def euclidean_norm(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """√(Σ x²) over ``axis``: the vector 2-norm, or the Frobenius norm over two axes.

    ∂‖x‖/∂x = x / ‖x‖. At x = 0 the gradient is 0 (the subgradient of least norm), not NaN.
    """
    return np.linalg.norm(x, axis=axis, keepdims=keepdims)


euclidean_norm.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                      restore_reduced(g / _nonzero(ans), np.shape(x), axis, keepdims) * x)
euclidean_norm.defjvp(lambda t, ans, x, axis=None, keepdims=False:
                      np.sum(t * x, axis=negative_axes(axis, np.ndim(x)), keepdims=keepdims) / _nonzero(ans))


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    """The vector ``ord``-norm along ``axis`` (None: all axes), composed from differentiable reductions.

    ord 1: Σ|x| (∂ = sign x, 0 at 0); ±inf: max/min |x| (ties share the gradient); 0: the count of
    nonzeros (piecewise constant: a plain array); other p: (Σ|x|^p)^(1/p), whose gradient at x = 0 is NaN.
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
        return np.sum(plain(x) != 0, axis=axis, keepdims=keepdims).astype(np.result_type(plain(x), 1.0))
    if isinstance(ord, str):
        raise OperationError(f"norm: ord={ord!r} is a matrix norm; pass two axes (axis=(0, 1)) for it.")
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, rows: int, cols: int, keepdims: bool) -> Any:
    """'fro', and the induced 1/−1 (largest/smallest column sum of |x|) and ±inf (row sums) norms."""
    if ord is None or ord == "fro":
        return euclidean_norm(x, axis=(rows, cols), keepdims=keepdims)
    induced = {1: (rows, np.max), -1: (rows, np.min), np.inf: (cols, np.max), -np.inf: (cols, np.min)}
    if ord not in induced:
        raise OperationError(f"norm: ord={ord!r} for matrices is not differentiable in calcml yet "
                             "(supported: None, 'fro', 1, -1, inf, -inf); 'nuc', 2 and -2 need an SVD rule.")
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


implements(np.linalg.norm, norm)
implements(np.linalg.vector_norm, vector_norm)
implements(np.linalg.matrix_norm, matrix_norm)
