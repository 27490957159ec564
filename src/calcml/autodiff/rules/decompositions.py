"""Matrix decompositions (np.linalg): eigh, eigvalsh, svd, svdvals, qr, and pinv and lstsq, batched over
leading axes where NumPy batches.

A decomposition returns several arrays from one factorization. Here it is one primitive whose value
packs them into one array along the row axis (eigh: the eigenvalues as a first row above the
eigenvectors); the outputs are slices of it, so the engine's indexing rules route each output's
gradient back and the matrix is factorized once. The rules are PyTorch's (torch.linalg), written with
matmul, einsum and solve so that they are differentiable again.

Where a derivative does not exist the rules refuse (OperationError) rather than return inf, NaN or a
guess: eigenvectors at repeated eigenvalues, singular vectors at repeated singular values, the extra
columns of a full SVD of a non-square matrix, QR of a rank-deficient matrix. A reverse-mode rule refuses
only when the cotangent reaches the undefined part (so eigenvalues alone, or the eigenvectors of the
distinct eigenvalues, still have their gradient); a forward-mode rule refuses when the tangent does,
since it cannot know what will be used. (At exactly repeated values even a basis-independent function
such as V f(w) Vᵀ is refused: its derivative there is a limit the cotangent does not carry.) The checks
are written with traced operations, so under cm.vmap they are recorded and refuse when any example of the
batch is bad (``refused_where``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.linalg._linalg import EighResult, QRResult, SVDResult  # NumPy's own result types

from calcml.autodiff.dispatch import implements, unwrapped
from calcml.autodiff.errors import OperationError, ShapeError, describe
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.contraction import mT
from calcml.autodiff.rules.refusals import piecewise_constant, refused_where

NEGLIGIBLE = 1e-8  # a cotangent entry below this fraction of the largest one counts as zero
OMITTED = object()  # an option the caller did not pass


# ---- shared pieces -----------------------------------------------------------------------------
def _tolerance(values: Any) -> Any:
    """How close two eigen/singular values (..., k) of one matrix may be and still count as equal: (..., 1)."""
    k = values.shape[-1]
    return 8 * k * np.finfo(values.dtype).eps * np.max(np.abs(values), axis=-1, keepdims=True)


def _repeated(values: Any) -> Any:
    """A 0/1 mask (..., k, k) of the pairs (i, j) with values_i = values_j to rounding (the diagonal too)."""
    close = np.abs(values[..., :, None] - values[..., None, :]) <= _tolerance(values)[..., None]
    return close.astype(values.dtype)


def _distinct_pairs(repeated: Any) -> Any:
    """The pairs i ≠ j of a ``_repeated`` mask."""
    return repeated - np.eye(repeated.shape[-1], dtype=repeated.dtype)


def _touches(*projections: Any) -> Any:
    """|M_ij| + |M_ji| summed over the projections M: how much a cotangent or tangent reaches pair (i, j)."""
    return sum(np.abs(m) + np.abs(mT(m)) for m in projections)


def _reciprocal_off(x: Any, mask: Any) -> Any:
    """1/x where the constant 0/1 ``mask`` is 0, and 0 where it is 1 (traceable: no division by 0)."""
    return (1 - mask) / (x + mask)


def _refuse_where(value: Any, op: str, where: Any, amount: Any, why: str, fix: str) -> Any:
    """``value``, once ``amount`` (a cotangent or tangent, or its projection) is negligible ``where`` the
    derivative does not exist, next to its largest entry in the same matrix (not in the whole stack, where another
    matrix's large cotangent would hide this one's); else OperationError (see ``refused_where``)."""
    amount = np.abs(amount)
    bad = (where != 0) & (amount > NEGLIGIBLE * np.max(amount, axis=(-2, -1), keepdims=True, initial=0.0))
    return refused_where(value, bad, f"{op}: {why}, so this derivative does not exist.\n  {fix}")


def _diag_embed(v: Any) -> Any:
    """diag(v) for a stack of vectors (..., k) -> (..., k, k), as a product with the identity (traceable)."""
    return np.einsum("...i,ij->...ij", v, np.eye(np.shape(v)[-1], dtype=bool))


def _square(op: str, a: Any) -> None:
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"{op} needs square matrices (..., n, n), got {describe(a)}.")


# ---- symmetric eigendecomposition --------------------------------------------------------------
@primitive(name="eigh",
           formula=Formula("A = V diag(w) Vᵀ: ∂w = diag(Vᵀ ∂A V), ∂V = V (F ∘ Vᵀ ∂A V), F_ij = 1/(w_j − w_i)"))
def eigh_packed(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 (NumPy's name)
    """[w; V] (w as the first row) for A = V diag(w) Vᵀ.  ∂w = diag(Vᵀ ∂A V), ∂V = V (F ∘ Vᵀ ∂A V),
    F_ij = 1/(w_j − w_i), so Ā = V (diag(w̄) + F ∘ ½(VᵀV̄ − V̄ᵀV)) Vᵀ.

    A is treated as symmetric, as in PyTorch: Ā is symmetric and tangents are symmetrized (NumPy reads
    one triangle, so finite differences agree for symmetric perturbations).
    """
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.concatenate([w[..., None, :], v], axis=-2)


_EIGH_WHY = ("eigenvalues are repeated, so their eigenvectors are not unique (and a function of them, even "
             "V f(w) Vᵀ, has a derivative that the cotangent alone does not determine)")
_EIGH_FIX = ("use np.linalg.eigvalsh when the eigenvalues alone are needed (first derivatives), or move A off "
             "the repeated point (e.g. add a small distinct diagonal).")


def _eigh_vjp(g: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    w, v = ans[..., 0, :], ans[..., 1:, :]
    x = mT(v) @ g[..., 1:, :]
    repeated = _repeated(w)
    x = _refuse_where(x, "eigh", _distinct_pairs(repeated), _touches(x), _EIGH_WHY, _EIGH_FIX)
    gaps = w[..., None, :] - w[..., :, None]
    inner = _reciprocal_off(gaps, repeated) * (0.5 * (x - mT(x))) + _diag_embed(g[..., 0, :])
    return v @ inner @ mT(v)


def _eigh_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray, UPLO: str = "L") -> np.ndarray:  # noqa: N803
    w, v = ans[..., 0, :], ans[..., 1:, :]
    p = v.mT @ (0.5 * (t + t.mT)) @ v
    repeated = _repeated(w)
    p = _refuse_where(p, "eigh (forward mode)", _distinct_pairs(repeated), p, _EIGH_WHY, _EIGH_FIX)
    gaps = w[..., None, :] - w[..., :, None]
    dv = v @ (_reciprocal_off(gaps, repeated) * p)
    return np.concatenate([np.diagonal(p, axis1=-2, axis2=-1)[..., None, :], dv], axis=-2)


eigh_packed.defvjp(_eigh_vjp)
eigh_packed.defjvp(_eigh_jvp)


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803
    """np.linalg.eigh: ``w, V = np.linalg.eigh(A)``; see ``eigh_packed`` for the rule."""
    _square("eigh", a)
    packed = eigh_packed(a, UPLO=UPLO)
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


@primitive(formula=Formula("∂w_i = v_iᵀ ∂A v_i, so Ā = V diag(w̄) Vᵀ"))
def eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """Eigenvalues of a symmetric A.  ∂w_i = v_iᵀ ∂A v_i, so Ā = V diag(w̄) Vᵀ (symmetric, as in PyTorch).

    At repeated eigenvalues this is the derivative of any symmetric function of them (their sum, say).
    """
    return np.linalg.eigvalsh(a, UPLO=UPLO)


eigvalsh.defvjp(lambda g, ans, a, UPLO="L": _eigenvalue_vjp(g, np.linalg.eigh(a, UPLO=UPLO).eigenvectors))
eigvalsh.defjvp(lambda t, ans, a, UPLO="L": _eigenvalue_jvp(t, np.linalg.eigh(a, UPLO=UPLO).eigenvectors))


def _eigenvalue_vjp(g: Any, v: Any) -> Any:
    """V diag(ḡ) Vᵀ, the gradient of the eigenvalues of A = V diag(w) Vᵀ."""
    return np.einsum("...ik,...k,...jk->...ij", v, g, v)


def _eigenvalue_jvp(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("...ik,Z...ij,...jk->Z...k", v, 0.5 * (t + t.mT), v)


# ---- singular value decomposition --------------------------------------------------------------
def _svd_parts(packed: Any, m: int) -> tuple[Any, Any, Any]:
    """U (..., m, k), s (..., k), V (..., n, k) from the packed [U; s; V]."""
    return packed[..., :m, :], packed[..., m, :], packed[..., m + 1:, :]


@primitive(name="svd", formula=Formula("A = U diag(s) Vᵀ: ∂s = diag(Uᵀ ∂A V); ∂U, ∂V through F_ij = 1/(s_j² − s_i²)"))
def svd_packed(a: Any, full_matrices: bool = False) -> Any:
    """[U; s; V] of the reduced A = U diag(s) Vᵀ (k = min(m, n) columns each).  With P = Uᵀ ∂A V:
    ∂s = diag(P), ∂U = U (F ∘ (PS + SPᵀ)) + (I − UUᵀ) ∂A V S⁻¹, ∂V = V (F ∘ (SP + PᵀS)) + (I − VVᵀ) ∂Aᵀ U S⁻¹,
    F_ij = 1/(s_j² − s_i²);  Ā = U (diag(s̄) + (F ∘ (UᵀŪ − ŪᵀU)) S + S (F ∘ (VᵀV̄ − V̄ᵀV))) Vᵀ
    + (I − UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)  (PyTorch's svd_backward).

    ``full_matrices`` only picks the LAPACK call, so that these columns match the full SVD's.
    """
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    return np.concatenate([u[..., :k], s[..., None, :], vh[..., :k, :].mT], axis=-2)


_SVD_WHY = ("singular values are repeated (or zero in a non-square matrix), so the singular vectors are not "
            "unique (and a function of them has a derivative that the cotangent alone does not determine)")
_SVD_FIX = ("use np.linalg.svd(A, compute_uv=False) when the singular values alone are needed (first "
            "derivatives), or move A off the repeated point.")


def _svd_vjp(g: Any, ans: Any, a: Any, full_matrices: bool = False) -> Any:
    m, n = np.shape(a)[-2:]
    u, s, v = _svd_parts(ans, m)
    g_u, g_s, g_v = _svd_parts(g, m)
    repeated = _repeated(s)
    zero = (s <= _tolerance(s)).astype(unwrapped(s).dtype)
    x, y = mT(u) @ g_u, mT(v) @ g_v
    x = _refuse_where(x, "svd", _distinct_pairs(repeated), _touches(x, y), _SVD_WHY, _SVD_FIX)
    numerator = (x - mT(x)) * s[..., None, :] + s[..., :, None] * (y - mT(y))
    squares = s * s
    inner = _reciprocal_off(squares[..., None, :] - squares[..., :, None], repeated) * numerator + _diag_embed(g_s)
    grad = u @ inner @ mT(v)
    if m == n:
        return grad
    rest = g_u - u @ x if m > n else g_v - v @ y  # the part of Ū (or V̄) outside U's (V's) columns
    rest = _refuse_where(rest, "svd", np.broadcast_to(zero[..., None, :], np.shape(rest)), rest, _SVD_WHY, _SVD_FIX)
    rest = rest * _reciprocal_off(s, zero)[..., None, :]
    return grad + (rest @ mT(v) if m > n else u @ mT(rest))


def _svd_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray, full_matrices: bool = False) -> np.ndarray:
    m, n = a.shape[-2:]
    u, s, v = _svd_parts(ans, m)
    p = u.mT @ t @ v
    repeated, zero = _repeated(s), (s <= _tolerance(s)).astype(s.dtype)
    ps, sp = p * s[..., None, :], s[..., :, None] * p
    omega_u, omega_v = ps + ps.mT, sp + sp.mT
    p = _refuse_where(p, "svd (forward mode)", _distinct_pairs(repeated), _touches(p), _SVD_WHY, _SVD_FIX)
    inverse_gaps = _reciprocal_off(s[..., None, :] ** 2 - s[..., :, None] ** 2, repeated)
    du, dv = u @ (inverse_gaps * omega_u), v @ (inverse_gaps * omega_v)
    if m != n:
        rest = t @ v - u @ p if m > n else t.mT @ u - v @ p.mT
        rest = _refuse_where(rest, "svd (forward mode)", np.broadcast_to(zero[..., None, :], rest.shape), rest,
                             _SVD_WHY, _SVD_FIX)
        rest = rest * _reciprocal_off(s, zero)[..., None, :]
        du, dv = (du + rest, dv) if m > n else (du, dv + rest)
    ds = np.diagonal(p, axis1=-2, axis2=-1)
    return np.concatenate([du, ds[..., None, :], dv], axis=-2)


svd_packed.defvjp(_svd_vjp)
svd_packed.defjvp(_svd_jvp)

_COMPLEMENT_WHY = ("the extra columns of U (or rows of Vh) of a full SVD of a non-square matrix are any "
                   "orthonormal basis of a complement, not a function of A")
_COMPLEMENT_FIX = "use np.linalg.svd(A, full_matrices=False): the same S, and U, Vh without those columns."


@primitive(formula=Formula("no derivative: a zero cotangent passes through, any other is refused"))
def svd_complement(a: Any) -> Any:
    """The columns U[..., k:] (m > n) or the rows Vh[..., k:, :] (m < n) of a full SVD: no derivative.

    Reverse mode passes a zero cotangent through (they were not used) and refuses any other; forward
    mode refuses, since it cannot know whether they will be used.
    """
    u, s, vh = np.linalg.svd(a, full_matrices=True)
    k = s.shape[-1]
    return u[..., k:] if a.shape[-2] > a.shape[-1] else vh[..., k:, :]


def _complement_vjp(g: Any, ans: Any, a: Any) -> Any:
    zero = np.zeros(np.shape(a), dtype=unwrapped(a).dtype)
    return _refuse_where(zero, "svd", np.ones(np.shape(g)), g, _COMPLEMENT_WHY, _COMPLEMENT_FIX)


def _complement_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray) -> np.ndarray:
    raise OperationError(f"svd (forward mode): {_COMPLEMENT_WHY}, so they have no tangent.\n  {_COMPLEMENT_FIX}")


svd_complement.defvjp(_complement_vjp)
svd_complement.defjvp(_complement_jvp)


@primitive(formula=Formula("∂s_i = u_iᵀ ∂A v_i, so Ā = U diag(s̄) Vᵀ"))
def svdvals(a: Any) -> Any:
    """Singular values.  ∂s_i = u_iᵀ ∂A v_i, so Ā = U diag(s̄) Vᵀ (at s_i = 0 or repeated s: PyTorch's choice)."""
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_vjp(g: Any, ans: Any, a: Any) -> Any:
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ik,...k,...kj->...ij", u, g, vh)


def _svdvals_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray) -> np.ndarray:
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ik,Z...ij,...kj->Z...k", u, t, vh)


svdvals.defvjp(_svdvals_vjp)
svdvals.defjvp(_svdvals_jvp)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """np.linalg.svd: ``U, S, Vh`` (an SVDResult), or the singular values alone with ``compute_uv=False``.

    With ``full_matrices=True`` (NumPy's default) and a non-square A, U (or Vh) gets extra columns
    (rows) that have no derivative: they pass a zero cotangent and refuse any other.
    ``hermitian=True`` is accepted for the singular values only (the same numbers); for U and Vh it is
    refused, since NumPy then picks different singular vectors.
    """
    shape = np.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"svd needs matrices (..., m, n), got {describe(a)}.")
    if not compute_uv:
        return svdvals(a)
    if hermitian:
        raise OperationError("svd(hermitian=True) with compute_uv=True is not differentiable in calcml: NumPy "
                             "then builds U and Vh from eigh.\n  use hermitian=False (the same S), or np.linalg.eigh.")
    m, n = shape[-2:]
    u, s, v = _svd_parts(svd_packed(a, full_matrices=full_matrices), m)
    vh = mT(v)
    if full_matrices and m > n:
        u = np.concatenate([u, svd_complement(a)], axis=-1)
    elif full_matrices and m < n:
        vh = np.concatenate([vh, svd_complement(a)], axis=-2)
    return SVDResult(u, s, vh)


def svdvals_function(x: Any, /) -> Any:
    """np.linalg.svdvals: the singular values, as svd(x, compute_uv=False)."""
    return svd(x, compute_uv=False)


# ---- QR ----------------------------------------------------------------------------------------
def _lower(x: Any, k: int = -1) -> Any:
    """The entries of x on and below diagonal k (a constant 0/1 mask, so traceable)."""
    n = np.shape(x)[-1]
    return x * np.tri(n, k=k, dtype=bool)


def _right_solve_transposed(x: Any, r: Any) -> Any:
    """X R⁻ᵀ, as (R⁻¹ Xᵀ)ᵀ with one solve."""
    return mT(np.linalg.solve(r, mT(x)))


def _full_column_rank(op: str, r: Any) -> Any:
    """``r``, once no diagonal entry of R is 0 (else OperationError: Q and R have no derivative)."""
    diagonal = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    return refused_where(r, diagonal <= _tolerance(diagonal),
                         f"{op}: A does not have full column rank (R has a zero on its diagonal), so Q and R are not "
                         "unique and have no derivative.\n  regularize A (e.g. A + εI) or use np.linalg.svd.")


@primitive(name="qr", formula=Formula("A = QR: ∂R = (QᵀC − Ω) R, ∂Q = C − Q (QᵀC − Ω), C = ∂A R⁻¹"))
def qr_packed(a: Any) -> Any:
    """[Q; R] for A = QR (m ≥ n, reduced).  With C = ∂A R⁻¹ and Ω = L − Lᵀ, L the strict lower triangle of QᵀC:
    ∂R = (QᵀC − Ω) R, ∂Q = C − Q (QᵀC − Ω);  Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ, M = R R̄ᵀ − Q̄ᵀQ
    (copyltu: the symmetric matrix with M's lower triangle; PyTorch's linalg_qr_backward).
    """
    q, r = np.linalg.qr(a)
    return np.concatenate([q, r], axis=-2)


def _qr_vjp(g: Any, ans: Any, a: Any) -> Any:
    m = np.shape(a)[-2]
    q, r = ans[..., :m, :], ans[..., m:, :]
    g_q, g_r = g[..., :m, :], g[..., m:, :]
    r = _full_column_rank("qr", r)
    k = r @ mT(g_r) - mT(g_q) @ q
    return _right_solve_transposed(g_q + q @ (_lower(k, 0) + mT(_lower(k))), r)


def _qr_jvp(t: np.ndarray, ans: np.ndarray, a: np.ndarray) -> np.ndarray:
    m = a.shape[-2]
    q, r = ans[..., :m, :], ans[..., m:, :]
    r = _full_column_rank("qr (forward mode)", r)
    c = np.linalg.solve(r.mT, t.mT).mT  # ∂A R⁻¹
    qc = q.mT @ c
    lower = _lower(qc)
    inner = qc - (lower - lower.mT)  # upper triangular: ∂R R⁻¹
    return np.concatenate([c - q @ inner, inner @ r], axis=-2)


qr_packed.defvjp(_qr_vjp)
qr_packed.defjvp(_qr_jvp)


def qr(a: Any, mode: str = "reduced") -> Any:
    """np.linalg.qr for m ≥ n: ``Q, R`` (a QRResult) with mode 'reduced' (or 'complete' when m = n), R with 'r'."""
    shape = np.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"qr needs matrices (..., m, n), got {describe(a)}.")
    m, n = shape[-2:]
    square_complete = mode == "complete" and m == n
    if m < n or mode not in ("reduced", "r") and not square_complete:
        raise OperationError(f"qr(mode={mode!r}) of {describe(a)} is not differentiable in calcml: only the "
                             "reduced QR of a matrix with m ≥ n is unique (for m < n, or the extra columns of "
                             "mode='complete', Q is any completion).\n  use mode='reduced' on a tall or square "
                             "matrix, or np.linalg.svd.")
    packed = qr_packed(a)
    q, r = packed[..., :m, :], packed[..., m:, :]
    return r if mode == "r" else QRResult(q, r)


# ---- pseudo-inverse and least squares ----------------------------------------------------------
@primitive(formula=Formula("X = A⁺: ∂X = −X ∂A X + X Xᵀ ∂Aᵀ (I − AX) + (I − XA) ∂Aᵀ Xᵀ X (A's rank held fixed)"))
def pinv(a: Any, **options: Any) -> Any:
    """X = A⁺.  ∂X = −X ∂A X + X Xᵀ ∂Aᵀ (I − AX) + (I − XA) ∂Aᵀ Xᵀ X (Golub & Pereyra; A's rank held fixed),
    so Ā = −XᵀḠXᵀ + (I − AX) Ḡᵀ X Xᵀ + Xᵀ X Ḡᵀ (I − XA).

    The rank is that of NumPy's cutoff (``rcond``/``rtol``): the derivative is exact where the rank does
    not change, i.e. away from a singular value at the cutoff (as PyTorch's).
    """
    return np.linalg.pinv(a, **options)


def _pinv_vjp(g: Any, x: Any, a: Any) -> Any:
    gt = mT(g)
    x_t = mT(x)
    left = gt @ x @ x_t
    right = x_t @ x @ gt
    return -(x_t @ g @ x_t) + left - a @ (x @ left) + right - (right @ x) @ a


def _pinv_jvp(t: np.ndarray, x: np.ndarray, a: np.ndarray) -> np.ndarray:
    tt = t.mT
    return -(x @ t @ x) + x @ x.mT @ (tt - tt @ a @ x) + (tt - x @ a @ tt) @ x.mT @ x


pinv.defvjp(lambda g, ans, a, **options: _pinv_vjp(g, ans, a))
pinv.defjvp(lambda t, ans, a, **options: _pinv_jvp(t, ans, a))


def pinv_function(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = OMITTED) -> Any:
    """np.linalg.pinv: the options go to NumPy (``hermitian`` changes the algorithm, not the rule)."""
    options = {"hermitian": hermitian}
    if rcond is not None:
        options["rcond"] = rcond
    if rtol is not OMITTED:  # NumPy reads rtol=None differently from no rtol at all
        options["rtol"] = rtol
    return pinv(a, **options)


@primitive(name="lstsq", formula=Formula("x = A⁺b: ∂x = ∂(A⁺) b + A⁺ ∂b, so b̄ = A⁺ᵀ x̄"))
def lstsq_solution(a: Any, b: Any, rcond: Any = None) -> Any:
    """x = A⁺b, the least-squares solution of np.linalg.lstsq.  ∂x = ∂(A⁺) b + A⁺ ∂b (pinv's rule, with
    A⁺ at lstsq's cutoff), so b̄ = A⁺ᵀ x̄ and Ā = pinv's Ā with Ḡ = x̄ bᵀ.
    """
    return np.linalg.lstsq(a, b, rcond=rcond)[0]


def lstsq_cutoff(a: Any, rcond: Any) -> Any:
    """lstsq's rcond for A (one matrix or a stack): None means machine epsilon × max(m, n)."""
    return np.finfo(unwrapped(a).dtype).eps * max(np.shape(a)[-2:]) if rcond is None else rcond


def _lstsq_pinv(a: Any, rcond: Any) -> Any:
    """A⁺ with the cutoff lstsq uses (singular values ≤ rcond · s_max dropped)."""
    return np.linalg.pinv(a, rcond=lstsq_cutoff(a, rcond))


def _outer_columns(x_bar: Any, b: Any) -> Any:
    """x̄ bᵀ for a vector or a matrix of right-hand sides."""
    return np.einsum("ik,jk->ij" if np.ndim(b) == 2 else "i,j->ij", x_bar, b)


lstsq_solution.defvjp(
    lambda g, ans, a, b, rcond=None: _pinv_vjp(_outer_columns(g, b), _lstsq_pinv(a, rcond), a),
    lambda g, ans, a, b, rcond=None: np.einsum("ji,j...->i...", _lstsq_pinv(a, rcond), g))
lstsq_solution.defjvp(
    lambda t, ans, a, b, rcond=None: np.einsum("Zij,j...->Zi...", _pinv_jvp(t, _lstsq_pinv(a, rcond), a), b),
    lambda t, ans, a, b, rcond=None: np.einsum("ij,Zj...->Zi...", _lstsq_pinv(a, rcond), t))


def lstsq_rank(a: Any, b: Any, rcond: Any = None) -> Any:
    """The rank np.linalg.lstsq reports (singular values of A above its cutoff): piecewise constant in A."""
    return np.linalg.lstsq(a, b, rcond=rcond)[2]


@primitive(formula=Formula("the identity where A has full column rank (NumPy reports no residuals elsewhere)"))
def full_rank_residuals(squares: Any, rank: Any, columns: int = 0) -> Any:
    """Σ(b − Ax)² as np.linalg.lstsq reports it for m > n: ``squares`` when rank = ``columns`` (full column
    rank), else empty.  ∂ = the identity (nothing flows back from an empty result)."""
    return np.array(squares, copy=True) if rank == columns else np.empty((0,), dtype=squares.dtype)


full_rank_residuals.defvjp(lambda g, ans, squares, rank, columns=0:
                           g if np.size(ans) else np.zeros(np.shape(squares), dtype=unwrapped(squares).dtype))
full_rank_residuals.defjvp(lambda t, ans, squares, rank, columns=0:
                           t if np.size(ans) else t[..., :0])


def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple:
    """np.linalg.lstsq: (x, residuals, rank, s) as NumPy returns them.

    x is traced (lstsq_solution); the residuals Σ(b − Ax)² (empty unless A has full column rank and m > n)
    and the singular values s are traced too; the rank is a plain int (recorded per example under cm.vmap).
    """
    x = lstsq_solution(a, b, rcond=rcond)  # first: a bad input gets calcml's error, naming the shapes
    rank = piecewise_constant(lstsq_rank, a, b, rcond)
    m, n = np.shape(a)
    if m > n:
        r = b - a @ x
        residuals = full_rank_residuals(np.sum(r * r, axis=0, keepdims=np.ndim(b) == 1), rank, columns=n)
    else:
        residuals = np.empty((0,), dtype=np.result_type(unwrapped(a), unwrapped(b), 1.0))
    return x, residuals, rank, svd(a, compute_uv=False)


implements(np.linalg.eigh, eigh)
implements(np.linalg.eigvalsh, eigvalsh)
implements(np.linalg.svd, svd)
implements(np.linalg.svdvals, svdvals_function)
implements(np.linalg.qr, qr)
implements(np.linalg.pinv, pinv_function)
implements(np.linalg.lstsq, lstsq)
