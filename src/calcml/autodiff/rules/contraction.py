"""Contractions: matmul (and @), einsum, and the products NumPy builds from them — dot, tensordot,
inner, outer, trace — plus vdot, kron and cross, written with reshapes and elementwise products.

Everything here is a sum of products, so every derivative is another sum of products: for
C = Σ A·B the VJP of A contracts ∂L/∂C with B, and the JVP replaces A by its tangent.

- ``matmul`` is its own primitive, the hot path of every dense layer: Ā = Ḡ Bᵀ, B̄ = Aᵀ Ḡ, exactly the
  NumPy one would write by hand.
- ``einsum`` is the general primitive; tensordot, inner, outer, trace (and dot beyond 2-D) are small
  adapters that spell their contraction as einsum subscripts, so they share its rules.

The rules only use matmul, einsum and elementwise operations, so they are differentiable again
without any shape primitive (transposes of traced values are einsum ``'...ij->...ji'``).
"""

from __future__ import annotations

import functools
import string
import warnings
from collections import Counter
from typing import Any

import numpy as np

from calcml.autodiff.dispatch import implements
from calcml.autodiff.errors import OperationError, ShapeError
from calcml.autodiff.formula import Formula
from calcml.autodiff.forward import align_to_rank
from calcml.autodiff.primitive import primitive
from calcml.autodiff.tensor import Tensor

LETTERS = string.ascii_letters


def mT(x: Any) -> Any:
    """xᵀ over the last two axes: a free view on an array (the fast path), a traced einsum on a Tensor."""
    return np.einsum("...ij->...ji", x) if type(x) is Tensor else np.asarray(x).mT


# ---- einsum ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def explicit_subscripts(subscripts: str, ranks: tuple[int, ...]) -> str:
    """Einsum subscripts with '...' spelled out as letters and the output made explicit.

    >>> explicit_subscripts("...ij,jk", (3, 2))       # the ellipsis becomes 'a', output as NumPy's
    'aij,jk->aik'

    The implicit output is NumPy's: the ellipsis, then the labels used once, in alphabetical order.
    """
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ranks):
        raise ShapeError(f"einsum: the subscripts '{subscripts}' name {len(terms)} operand(s) but "
                         f"{len(ranks)} were given.")
    bad = set(spec.replace("...", "").replace(",", "").replace("->", "")) - set(LETTERS)
    if bad:
        raise OperationError(f"einsum: the subscripts '{subscripts}' contain {sorted(bad)}; use letters, "
                             "',', '->' and '...'.")
    unused = [c for c in LETTERS if c not in spec]
    ellipsis_ranks = [rank - len(term) + 3 for term, rank in zip(terms, ranks, strict=True) if "..." in term]
    ellipsis = "".join(unused[:max(ellipsis_ranks, default=0)])
    expanded = []
    for term, rank in zip(terms, ranks, strict=True):
        if "..." in term:
            n = rank - len(term) + 3
            term = term.replace("...", ellipsis[len(ellipsis) - n:] if n > 0 else "")
        if len(term) != rank:
            raise ShapeError(f"einsum: the subscripts '{subscripts}' give an operand of rank {rank} "
                             f"the labels '{term}'; there must be one label per axis.")
        expanded.append(term)
    if not arrow:
        counts = Counter(inputs.replace("...", "").replace(",", ""))
        output = ellipsis + "".join(sorted(c for c, k in counts.items() if k == 1))
    elif "..." in output:
        output = output.replace("...", ellipsis)
    elif ellipsis:
        raise ShapeError(f"einsum: '{subscripts}' broadcasts over '...' but the output has no '...'; "
                         "add '...' to the output or sum those axes explicitly.")
    return ",".join(expanded) + "->" + output


@primitive(formula=Formula("∂L/∂A_k = einsum of g with the other operands into A_k's labels (C = AB: Ā = Ḡ Bᵀ)"))
def einsum(subscripts: str, *operands: Any, optimize: Any = False) -> Any:
    """Einstein summation with explicit subscripts (``np.einsum`` on Tensors reaches it through an adapter).

    ∂L/∂A_k = einsum of Ḡ with the other operands into A_k's labels: for C_ik = Σ_j A_ij B_jk,
    Ā_ij = Σ_k Ḡ_ik B_jk.  A label repeated in A_k (a diagonal) puts the gradient back on the diagonal;
    a label summed away from A_k alone broadcasts the gradient along it.
    """
    if len(operands) == 2 and optimize is False:
        product = matrix_product(subscripts, *operands)
        if product is not None:
            return product
    return np.einsum(subscripts, *operands, optimize=optimize)


@functools.lru_cache(maxsize=1024)
def _matrix_product_plan(subscripts: str) -> tuple[bool, bool, bool] | None:
    """For 'ij,jk->ik' and its transposes (one label summed, one kept from each side): whether to transpose
    the first operand, the second, and the product, to compute it as A @ B. None for any other contraction."""
    inputs, _, output = subscripts.partition("->")
    left, _, right = inputs.partition(",")
    shared = set(left) & set(right)
    if len(left) != 2 or len(right) != 2 or len(output) != 2 or len(shared) != 1 or len(set(left + right)) != 3:
        return None
    (j,) = shared
    i, k = left.replace(j, ""), right.replace(j, "")
    if sorted(output) != sorted(i + k):
        return None
    return left != i + j, right != j + k, output != i + k


def matrix_product(subscripts: str, a: Any, b: Any) -> Any:
    """An einsum that is a product of two matrices, as one BLAS matmul (np.einsum's own loops are ~10× slower
    there); None when the subscripts say something else. 'Zk,jk->Zj' is a @ bᵀ.

    >>> matrix_product("Zk,jk->Zj", np.ones((2, 3)), np.ones((4, 3))).shape
    (2, 4)
    """
    plan = _matrix_product_plan(subscripts)
    if plan is None or np.ndim(a) != 2 or np.ndim(b) != 2:
        return None
    transpose_a, transpose_b, transpose_out = plan
    product = (a.T if transpose_a else a) @ (b.T if transpose_b else b)
    return product.T if transpose_out else product


def _einsum_vjp(argnum: int, g: Any, ans: Any, subscripts: str, *operands: Any, optimize: Any = False) -> Any:
    k = argnum - 1
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    fresh = iter(c for c in LETTERS if c not in subscripts)
    specs, arrays = [output], [g]
    for i, (term, operand) in enumerate(zip(terms, operands, strict=True)):
        if i != k:
            specs.append(term)
            arrays.append(operand)
    present = set("".join(specs))
    shape = np.shape(operands[k])
    target = ""
    for axis, label in enumerate(terms[k]):
        if label in target:  # 'ii': the gradient lives on the diagonal, δ_ij
            label_copy = next(fresh)
            specs.append(label + label_copy)
            arrays.append(np.eye(shape[axis], dtype=bool))
            label = label_copy
        elif label not in present:  # summed away from this operand only: broadcast the gradient
            specs.append(label)
            arrays.append(np.ones(shape[axis], dtype=bool))
            present.add(label)
        target += label
    return np.einsum(",".join(specs) + "->" + target, *arrays, optimize=optimize)


def _einsum_jvp(tangents: list, ans: Any, subscripts: str, *operands: Any, optimize: Any = False) -> Any:
    """Σ_k einsum with A_k replaced by its tangent, which carries the batch label in front."""
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    batch = next(c for c in LETTERS if c not in subscripts)
    total = None
    for k, tangent in enumerate(tangents[1:]):
        if tangent is None:
            continue
        specs = [batch + term if i == k else term for i, term in enumerate(terms)]
        arrays = [tangent if i == k else operand for i, operand in enumerate(operands)]
        part = np.einsum(",".join(specs) + "->" + batch + output, *arrays, optimize=optimize)
        total = part if total is None else total + part
    return total


einsum.defvjp_argnum(_einsum_vjp).defjvp_all(_einsum_jvp)


def _numpy_einsum(subscripts: Any, *operands: Any, out: Any = None, optimize: Any = False,
                  **options: Any) -> Any:
    if not isinstance(subscripts, str):
        raise OperationError("einsum on Tensors takes the subscripts as a string, e.g. "
                             "np.einsum('ij,jk->ik', a, b); the interleaved (operand, [0, 1], ...) form "
                             "is not supported.")
    if options:
        raise OperationError(f"einsum on Tensors does not take {sorted(options)}; compute in the "
                             "operands' dtype and convert afterwards (np.astype).")
    spec = explicit_subscripts(subscripts, tuple(np.ndim(a) for a in operands))
    return einsum(spec, *operands, optimize=optimize)


implements(np.einsum, _numpy_einsum)


# ---- matmul ------------------------------------------------------------------------------------
def _shape_message(op: str, a: Any, b: Any, detail: str) -> str:
    return (f"{op} cannot multiply shapes {np.shape(a)} and {np.shape(b)}: {detail}.\n"
            "  check the order of the operands, or transpose one (a.T, np.swapaxes(a, -1, -2)).")


@primitive(formula=Formula("∂L/∂A = Ḡ Bᵀ, ∂L/∂B = Aᵀ Ḡ (batch axes summed back)", infix="{0} @ {1}",
                           vjps=("{g} @ {1}ᵀ", "{0}ᵀ @ {g}")))
def matmul(x1: Any, x2: Any) -> Any:
    """Matrix product A @ B, batched over leading axes; a 1-D operand is a vector.

    ∂L/∂A = Ḡ Bᵀ,  ∂L/∂B = Aᵀ Ḡ  (broadcast batch axes are summed back by the engine).
    """
    try:
        return np.matmul(x1, x2)
    except ValueError as error:
        if np.ndim(x1) == 0 or np.ndim(x2) == 0:
            detail = "matmul does not take scalars (use * to scale)"
        elif np.shape(x1)[-1] != np.shape(x2)[-2 if np.ndim(x2) > 1 else -1]:
            detail = (f"the last axis of the first ({np.shape(x1)[-1]}) must equal the "
                      f"{'second-to-last' if np.ndim(x2) > 1 else 'only'} axis of the second "
                      f"({np.shape(x2)[-2 if np.ndim(x2) > 1 else -1]})")
        else:
            detail = f"the batch axes do not broadcast ({error})"
        raise ShapeError(_shape_message("matmul", x1, x2, detail)) from error


@functools.lru_cache(maxsize=64)
def _matmul_subscripts(ndim1: int, ndim2: int) -> str:
    """matmul as einsum for any ranks: 'j' for a vector, '...ij' / '...jk' for (stacks of) matrices."""
    batched = max(ndim1, ndim2) >= 2
    a = "...ij" if ndim1 >= 2 else "j"
    b = "...jk" if ndim2 >= 2 else "j"
    out = ("..." if batched else "") + ("i" if ndim1 >= 2 else "") + ("k" if ndim2 >= 2 else "")
    return explicit_subscripts(f"{a},{b}->{out}", (ndim1, ndim2))


def _rank(x: Any) -> int:
    """np.ndim without NumPy's dispatch for the arrays and Tensors the rules meet on the hot path."""
    return x.ndim if type(x) is np.ndarray or type(x) is Tensor else np.ndim(x)


def _matmul_vjp_x1(g: Any, ans: Any, x1: Any, x2: Any) -> Any:
    if type(x2) is np.ndarray and x2.ndim >= 2 and _rank(x1) >= 2:  # a dense layer's backward pass: Ā = Ḡ Bᵀ
        return g @ x2.mT
    rank1, rank2 = _rank(x1), _rank(x2)
    if rank1 >= 2 and rank2 >= 2:  # the same, traced
        return g @ mT(x2)
    if rank1 == 1 and rank2 == 2:  # x @ W for one example: x̄ = W ḡ
        return matmul(x2, g)
    if rank1 == 2 and rank2 == 1:  # A @ v: Ā = ḡ vᵀ
        return einsum("i,j->ij", g, x2)
    return _einsum_vjp(1, g, ans, _matmul_subscripts(rank1, rank2), x1, x2)


def _matmul_vjp_x2(g: Any, ans: Any, x1: Any, x2: Any) -> Any:
    if type(x1) is np.ndarray and x1.ndim >= 2 and _rank(x2) >= 2:  # B̄ = Aᵀ Ḡ
        return x1.mT @ g
    rank1, rank2 = _rank(x1), _rank(x2)
    if rank1 >= 2 and rank2 >= 2:  # the same, traced
        return mT(x1) @ g
    if rank1 == 1 and rank2 == 2:  # x @ W: W̄ = x ḡᵀ, one outer product
        return einsum("j,k->jk", x1, g)
    if rank1 == 2 and rank2 == 1:  # A @ v: v̄ = Aᵀ ḡ = ḡ A
        return matmul(g, x1)
    return _einsum_vjp(2, g, ans, _matmul_subscripts(rank1, rank2), x1, x2)


def _as_matrices(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors promoted as matmul does (a row on the left, a column on the right); the stack's rank."""
    a = x1[None, :] if x1.ndim == 1 else x1
    b = x2[:, None] if x2.ndim == 1 else x2
    return a, b, max(a.ndim, b.ndim)


def _squeeze_promoted(product: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    if x2.ndim == 1:
        product = product[..., 0]
    if x1.ndim == 1:
        product = product[..., 0, :] if x2.ndim > 1 else product[..., 0]
    return product


def _matmul_jvp_x1(t: np.ndarray, ans: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    a, b, rank = _as_matrices(x1, x2)
    t = t[..., None, :] if x1.ndim == 1 else t
    return _squeeze_promoted(align_to_rank(t, rank) @ b, x1, x2)


def _matmul_jvp_x2(t: np.ndarray, ans: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    a, b, rank = _as_matrices(x1, x2)
    t = t[..., None] if x2.ndim == 1 else t
    return _squeeze_promoted(a @ align_to_rank(t, rank), x1, x2)


matmul.defvjp(_matmul_vjp_x1, _matmul_vjp_x2)
matmul.defjvp(_matmul_jvp_x1, _matmul_jvp_x2)
implements(np.matmul, matmul)
implements(np.linalg.matmul, matmul)


# ---- products spelled as einsum ----------------------------------------------------------------
def _contract(a: Any, b: Any, axes_a: list[int], axes_b: list[int], op: str) -> Any:
    """Σ over the paired axes of a and b; the free axes of a, then those of b (tensordot's layout)."""
    ndim_a, ndim_b = np.ndim(a), np.ndim(b)
    axes_a = [int(i) % ndim_a if -ndim_a <= int(i) < ndim_a else None for i in axes_a]
    axes_b = [int(i) % ndim_b if -ndim_b <= int(i) < ndim_b else None for i in axes_b]
    if len(axes_a) != len(axes_b) or None in axes_a or None in axes_b:
        raise ShapeError(_shape_message(op, a, b, f"cannot pair axes {axes_a} with {axes_b}"))
    sizes_a = [np.shape(a)[i] for i in axes_a]
    sizes_b = [np.shape(b)[i] for i in axes_b]
    if sizes_a != sizes_b:
        raise ShapeError(_shape_message(op, a, b, f"the summed axes have sizes {sizes_a} and {sizes_b}"))
    labels_a = list(LETTERS[:ndim_a])
    labels_b = list(LETTERS[ndim_a:ndim_a + ndim_b])
    for i, j in zip(axes_a, axes_b, strict=True):
        labels_b[j] = labels_a[i]
    free = [labels_a[i] for i in range(ndim_a) if i not in axes_a]
    free += [labels_b[j] for j in range(ndim_b) if j not in axes_b]
    return einsum(f"{''.join(labels_a)},{''.join(labels_b)}->{''.join(free)}", a, b, optimize=True)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """np.tensordot: Σ over ``axes`` (an int n: the last n of a with the first n of b; or two sequences)."""
    if np.ndim(axes) == 0:
        n = int(axes)
        return _contract(a, b, list(range(np.ndim(a) - n, np.ndim(a))), list(range(n)), "tensordot")
    axes_a, axes_b = axes
    axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
    axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
    return _contract(a, b, axes_a, axes_b, "tensordot")


def dot(a: Any, b: Any, out: Any = None) -> Any:
    """np.dot: a product for scalars, matmul up to 2-D, else Σ over a's last and b's second-to-last axis."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.multiply(a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return np.matmul(a, b)
    return _contract(a, b, [-1], [-2 if np.ndim(b) >= 2 else -1], "dot")


def inner(a: Any, b: Any) -> Any:
    """np.inner: Σ over the last axes of a and b (a product for scalars)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.multiply(a, b)
    return _contract(a, b, [-1], [-1], "inner")


def outer(a: Any, b: Any, out: Any = None) -> Any:
    """np.outer: (a.ravel()[i] · b.ravel()[j]), an (a.size, b.size) matrix."""
    product = _contract(a, b, [], [], "outer")
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return product
    return np.reshape(product, (np.size(a), np.size(b)))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    """np.trace: Σ_i a[i, i + offset] over (axis1, axis2); the other axes are kept, in order.

    ∂ tr(A)/∂A = I (shifted by ``offset``), written as einsum: a repeated label ('ii->') for the main
    diagonal of a square matrix, a constant 0/1 mask otherwise (an offset or a non-square matrix).
    """
    ndim = np.ndim(a)
    if ndim < 2:
        raise ShapeError(f"trace needs an array with at least 2 axes, got shape {np.shape(a)}.")
    axis1, axis2 = axis1 % ndim, axis2 % ndim
    if axis1 == axis2:
        raise ShapeError(f"trace: axis1 and axis2 must differ (both are {axis1}).")
    labels = list(LETTERS[:ndim])
    kept = "".join(labels[i] for i in range(ndim) if i not in (axis1, axis2))
    if offset == 0 and np.shape(a)[axis1] == np.shape(a)[axis2]:
        labels[axis2] = labels[axis1]
        return einsum(f"{''.join(labels)}->{kept}", a)
    mask = np.eye(np.shape(a)[axis1], np.shape(a)[axis2], k=offset, dtype=bool)
    return einsum(f"{''.join(labels)},{labels[axis1]}{labels[axis2]}->{kept}", a, mask)


implements(np.tensordot, tensordot)
implements(np.linalg.tensordot, tensordot)
implements(np.dot, dot)
implements(np.inner, inner)
implements(np.outer, outer)
implements(np.linalg.outer, outer)
implements(np.trace, trace)


def vdot(a, b):
    """np.vdot: Σ_i a.ravel()[i] · b.ravel()[i] (real arrays)."""
    return np.dot(np.ravel(a), np.ravel(b))


def kron(a, b):
    """np.kron: the block matrix (a_ij · b), in any number of dimensions.

    Axis d of a and of b are interleaved as (a_d, b_d) and merged:  K[i·m + k, j·n + l] = a_ij b_kl,
    so ∂K/∂a_ij = b placed in block (i, j), and ∂L/∂a_ij = Σ_kl g_block(ij),kl b_kl.
    """
    ndim = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (ndim - np.ndim(a)) + np.shape(a)
    shape_b = (1,) * (ndim - np.ndim(b)) + np.shape(b)
    spread_a = np.reshape(a, [n for side in shape_a for n in (side, 1)])
    spread_b = np.reshape(b, [n for side in shape_b for n in (1, side)])
    return np.reshape(spread_a * spread_b, [m * n for m, n in zip(shape_a, shape_b, strict=True)])


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors (a 2-vector has z = 0; two 2-vectors give the scalar a₀b₁ − a₁b₀).

    c = (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀): bilinear, so ∂c/∂a · ȧ = ȧ × b and ∂c/∂b · ḃ = a × ḃ.
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    sizes = (np.shape(a)[-1], np.shape(b)[-1])
    if not set(sizes) <= {2, 3}:
        raise ShapeError(f"cross: vectors must have 2 or 3 components along the chosen axes, got {sizes} "
                         f"(shapes {np.shape(a)} and {np.shape(b)} after moving those axes last).")
    if 2 in sizes:  # as NumPy 2 does
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional vectors "
                      "instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=3)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    if sizes == (2, 2):
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if sizes[0] == 3 else 0.0
    b2 = b[..., 2] if sizes[1] == 3 else 0.0
    c = np.stack(np.broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)
    return np.moveaxis(c, -1, axisc)


implements(np.vdot, vdot)
implements(np.kron, kron)
implements(np.cross, cross)
