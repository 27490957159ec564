"""Batching rules for np.linalg: NumPy's linear algebra already runs over leading axes, so the batch axis is
one more of them; only the places where an example's shape changes the meaning need care.

    inv, det, cholesky, eigh, svd, qr, pinv ...   the batch as it is:            inv(A) → inv(A_phys)
    solve        a vector b per example becomes a column and back:      b (B, n) → (B, n, 1) → x[..., 0]
    lstsq        x = A⁺b, A⁺ at lstsq's cutoff (NumPy's lstsq takes one matrix); its rank from matrix_rank,
                 its residuals when every example or none has full column rank
    norm         axis=None is every axis of one example: flattened to one axis
    matrix_rank  over the last two axes (recorded per example, a piecewise-constant integer)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.autodiff.batching.rules import (
    FUNCTION_RULES,
    Batched,
    _with_rank,
    has_batched,
    leading_axes_pass,
    logical_ndim,
    loop,
    shift_axis,
)
from calcml.autodiff.dispatch import unwrapped
from calcml.autodiff.errors import ShapeError
from calcml.autodiff.primitive import REGISTRY
from calcml.autodiff.rules import decompositions
from calcml.autodiff.rules.decompositions import lstsq_cutoff
from calcml.autodiff.rules.linalg import slogdet_sign


def _aligned(values: tuple, rank: int) -> list:
    """Batched operands with ``rank`` axes per example (1-axes after the batch axis), so that their stacks
    broadcast with the unbatched ones as the examples' stacks do."""
    return [_with_rank(v, rank) if type(v) is Batched else v for v in values]


def solve(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """x = A⁻¹b. NumPy 2 reads b as a vector only when b.ndim == 1: a batch of vectors (B, n) is a batch of
    columns (B, n, 1), solved and squeezed back; matrices broadcast as the examples' stacks do."""
    a, b = args
    if type(b) is Batched and b.ndim == 1:
        column = Batched(b.physical[..., None])
        return fn(*_aligned((a, column), max(logical_ndim(a), 2)), **kwargs)[..., 0]
    return fn(*_aligned((a, b), max(logical_ndim(a), logical_ndim(b))), **kwargs)


def lstsq(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """x = A⁺b with A⁺ at lstsq's cutoff (singular values ≤ rcond · s_max dropped): the minimum-norm
    least-squares solution np.linalg.lstsq returns, for a stack of A (lstsq itself takes one matrix).
    A negative rcond (LAPACK's "machine precision") runs once per example."""
    a, b = args[:2]
    matrix = a.physical if type(a) is Batched else a
    cutoff = lstsq_cutoff(matrix, args[2] if len(args) > 2 else kwargs.get("rcond"))
    if cutoff < 0:
        return loop(fn, args, kwargs, size)
    a_plus = np.linalg.pinv(matrix, rcond=cutoff)
    rhs = b.physical if type(b) is Batched else b
    return np.einsum("...ij,...j->...i" if logical_ndim(b) == 1 else "...ij,...jk->...ik", a_plus, rhs)


def lstsq_rank(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """The rank lstsq reports, for a stack of A: the singular values above rcond · s_max (matrix_rank's rtol)."""
    a, b = args[:2]
    rcond = args[2] if len(args) > 2 else kwargs.get("rcond")
    if type(a) is not Batched:  # the same for every example
        return np.full(size, fn(unwrapped(a), unwrapped(b.physical[0]), rcond))
    cutoff = lstsq_cutoff(a.physical, rcond)
    if cutoff < 0 or a.physical.size == 0:  # LAPACK's own cutoff; matrix_rank's of nothing
        return loop(fn, args, kwargs, size)
    return np.linalg.matrix_rank(unwrapped(a.physical), rtol=cutoff).astype(np.intc)


def full_rank_residuals(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """lstsq's residuals exist for the examples of full column rank: when every example has it, they pass as
    they are; when none has, they are empty; a mix cannot be stacked (ShapeError: vmap then runs example by
    example, where NumPy's stacking fails the same way)."""
    squares, rank = args
    columns = kwargs.get("columns", 0)
    full = np.asarray(unwrapped(rank.physical if type(rank) is Batched else rank)) == columns
    if full.all():
        return squares.physical if type(squares) is Batched else np.broadcast_to(squares, (size,) + np.shape(squares))
    if not full.any():
        return np.empty((size, 0), dtype=unwrapped(squares.physical if type(squares) is Batched else squares).dtype)
    raise ShapeError("lstsq: the residuals exist for the examples of full column rank only, so their shapes differ "
                     "across the batch.")


def norm(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """√(Σ x²) over ``axis``: shifted by one; axis=None (every axis of an example, whatever its rank) is the
    example flattened to one axis, since NumPy's norm takes at most two."""
    x = args[0]
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    keepdims = args[2] if len(args) > 2 else kwargs.get("keepdims", False)
    if axis is not None:
        return fn(x.physical, axis=shift_axis(axis, x.ndim), keepdims=keepdims)
    flat = fn(x.physical.reshape((size, -1)), axis=-1)
    return flat.reshape((size,) + (1,) * x.ndim) if keepdims else flat


def matrix_rank(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """The rank of each example: over the last two axes, with tolerances broadcast like the examples' stacks.
    (A 1-D example never gets here: NumPy reads its values as a Python bool, so vmap runs it example by example.)"""
    a = args[0]
    if type(a) is not Batched or has_batched(args[1:]) or has_batched(tuple(kwargs.values())):
        return loop(fn, args, kwargs, size)
    return fn(unwrapped(a.physical), *unwrapped(args[1:]), **unwrapped(kwargs))


for _name, _rule in {
    **dict.fromkeys(("inv", "det", "logabsdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "svd_complement",
                     "qr", "pinv"), leading_axes_pass),  # functions of the last two axes: f(A)[b] = f(A[b])
    "solve": solve, "lstsq": lstsq, "full_rank_residuals": full_rank_residuals, "norm": norm,
}.items():
    REGISTRY[_name].defvmap(_rule)

FUNCTION_RULES.update({np.linalg.matrix_rank: matrix_rank, slogdet_sign: leading_axes_pass,
                       decompositions.lstsq_rank: lstsq_rank})
