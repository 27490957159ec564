"""A second corpus of NumPy code as people write it: the idioms the first corpus does not cover.

``corpus_user_code.py`` covers arrays built from lists, assembly into ``np.zeros``, ``math.*`` calls,
loops, pytree outputs and the common ML snippets. This one goes after the rest of NumPy that model and
science code reaches for: norms with ``ord``/``axis``, masks and fancy-index gathers, scatters and
writes through views, order statistics, cumulative and calculus helpers (``np.interp``,
``np.trapezoid`` on a traced grid), padding and tiling, ``einsum``/``tensordot`` variants, batched and
decomposition linear algebra, ``scipy.special`` on Tensors, conversions that would detach a value,
piecewise-constant ops, NaN guards (``np.errstate``, ``np.nan_to_num``, the ``np.where`` trap) and
Python plumbing (``functools.reduce``, recursion, generators). Every function returns one array.

Each entry's ``expect`` says what calcml owes it:

  DERIVATIVE   the right derivative (central differences of the same code on plain float64 arrays, and
               the entry's PyTorch twin where PyTorch can say the same thing);
  REFUSED      a ``cm.CalcmlError`` whose message names ``names`` (the op or the idiom) and a way out;
  EITHER       the right derivative or that clear error — never a wrong number.

An entry with ``wrong`` set is a quiet wrong answer (or an unclear error) found by this corpus: its
tests are strict xfails in the modes listed in ``wrong_in``, with the reason, until the engine is fixed.
``test_user_code_corpus_more.py`` runs them all.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special
import torch

from tests.autodiff.corpus_judging import DERIVATIVE, EITHER, REFUSED  # noqa: F401  (the entries' expectations)

MODES = ("grad", "rev", "fwd", "backward", "torch", "hessian")


@dataclass(frozen=True)
class Entry:
    """One piece of user code: ``fn(*args)`` (one array out), differentiated w.r.t. every argument."""

    name: str
    fn: Callable
    args: tuple
    expect: str = DERIVATIVE
    torch_fn: Callable | None = None
    names: str = ""  # what a refusal's message must name (the op or the idiom)
    hessian: bool = False  # also check cm.hessian of the scalarized function
    wrong: str = ""  # a quiet wrong answer or an unclear error: the tests in ``wrong_in`` are strict xfails
    wrong_in: tuple = MODES
    note: str = ""


ENTRIES: list[Entry] = []


def add(name: str, fn: Callable, *args, **options) -> None:
    ENTRIES.append(Entry(name, fn, tuple(np.array(a, dtype=np.float64) for a in args), **options))


def user(*args, **options) -> Callable:
    """Decorator form of ``add`` for functions longer than a lambda; the function's name is the entry's."""

    def register(fn: Callable) -> Callable:
        add(fn.__name__, fn, *args, **options)
        return fn

    return register


def T(a):  # a constant as a float64 torch tensor (for the twins)
    return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64)


# ---- data the snippets close over (constants, not differentiated) -------------------------------
_rng = np.random.default_rng(7)
x6 = np.array([0.13, -0.72, 1.31, 0.46, -1.18, 0.83])  # no ties, no kinks at 0, ±1 or one-decimal roundings
x5 = np.array([0.31, -0.84, 1.67, 0.92, 0.08])
A3 = _rng.standard_normal((3, 3)) + 3 * np.eye(3)  # well conditioned
B3 = _rng.standard_normal((3, 3))
X43 = _rng.standard_normal((4, 3))
X53 = _rng.standard_normal((5, 3))
W34 = _rng.standard_normal((3, 4)) * 0.7
E = _rng.standard_normal((5, 3))  # an embedding table: 5 tokens, 3 features
tokens = np.array([3, 0, 3, 1, 4])
y4 = _rng.standard_normal(4)
grid6 = np.linspace(0.0, 1.0, 6)
table = np.sin(3 * grid6)
rewards = np.array([1.0, 0.0, -0.5, 2.0, 0.3])
segments = np.array([0, 1, 0, 2, 2, 1])
counts = np.array([2.0, 0.0, 4.0, 1.0, 3.0])


# ==== norms and regularizers (np.linalg.norm with ord / axis) ====================================
add("nuclear_norm_low_rank_penalty", lambda W: np.linalg.norm(W, "nuc") + 0.5 * np.sum(W ** 2), W34.T @ W34[:, :3],
    hessian=True, torch_fn=lambda W: torch.linalg.matrix_norm(W, "nuc") + 0.5 * torch.sum(W ** 2))
add("spectral_norm_of_weight", lambda W: np.linalg.norm(W, 2), W34,
    torch_fn=lambda W: torch.linalg.matrix_norm(W, 2))
add("smallest_singular_value_norm_minus_2", lambda A: np.linalg.norm(A, -2), A3,
    torch_fn=lambda A: torch.linalg.matrix_norm(A, -2))
add("max_abs_entry_inf_norm", lambda x: np.linalg.norm(x, np.inf) * x, x6,
    torch_fn=lambda x: torch.linalg.vector_norm(x, float("inf")) * x)
add("lp_norm_p3", lambda x: np.linalg.norm(x, 3), x6, hessian=True,
    torch_fn=lambda x: torch.linalg.vector_norm(x, 3))
add("row_l1_norms", lambda A: np.linalg.norm(A, ord=1, axis=1), X43,
    torch_fn=lambda A: torch.linalg.vector_norm(A, 1, dim=1))
add("group_lasso_column_norms", lambda W: np.sum(np.linalg.norm(W, axis=0, keepdims=True) * np.arange(1.0, 5.0)),
    W34, torch_fn=lambda W: torch.sum(torch.linalg.vector_norm(W, dim=0, keepdim=True) * torch.arange(1.0, 5.0)))
add("matrix_inf_norm_max_row_sum", lambda A: np.linalg.norm(A, np.inf), A3,
    torch_fn=lambda A: torch.linalg.matrix_norm(A, float("inf")))


@user(x6, torch_fn=lambda g: g * torch.clamp(1.0 / torch.linalg.vector_norm(g), max=1.0))
def clip_gradient_by_global_norm(g):
    norm = np.linalg.norm(g)
    return g * np.minimum(1.0, 1.0 / norm)


# ==== masks, np.where, clipping with traced bounds ===============================================
add("clip_with_traced_lower_bound", lambda x, lo: np.clip(x, lo, 1.0), x6, np.full(6, -0.5),
    torch_fn=lambda x, lo: torch.clamp(x, lo, T(np.ones(6))))
add("leaky_relu_where", lambda x: np.where(x > 0, x, 0.01 * x), x6,
    torch_fn=lambda x: torch.nn.functional.leaky_relu(x, 0.01))
add("select_rows_by_first_feature", lambda A: np.sum(A[A[:, 0] > 0] ** 2, axis=0), X43)
add("gather_positives_by_nonzero", lambda x: x[np.nonzero(x > 0)[0]] * 2.0, x6)
add("piecewise_by_np_select", lambda x: np.select([x < -1, x < 0.5], [x ** 2, 2 * x], default=np.sin(x)), x6,
    torch_fn=lambda x: torch.where(x < -1, x ** 2, torch.where(x < 0.5, 2 * x, torch.sin(x))))
add("masked_sum_where_kwarg", lambda x: np.sum(x ** 2, where=x > 0), x6)
add("masked_mean_where_kwarg", lambda x: np.mean(np.exp(x), where=np.abs(x) < 1), x6)
add("max_with_initial_floor", lambda x: np.max(x ** 2, initial=1.5) * x, x6)


def _causal_attention_torch(Q):
    s = Q @ Q.T
    s = s.masked_fill(~torch.tril(torch.ones(4, 4, dtype=torch.bool)), float("-inf"))
    return torch.softmax(s, dim=1) @ Q


@user(X43, torch_fn=_causal_attention_torch, hessian=True)
def causal_self_attention_minus_inf_mask(Q):
    scores = Q @ Q.T
    scores = np.where(np.tril(np.ones((4, 4), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return (weights / weights.sum(axis=1, keepdims=True)) @ Q


# ==== gathers: embeddings, fancy indexing, take, argsort ==========================================
add("embedding_lookup_repeated_tokens", lambda Emb: np.sum(Emb[tokens] ** 2, axis=1), E,
    torch_fn=lambda Emb: torch.sum(Emb[torch.as_tensor(tokens)] ** 2, dim=1))
add("take_rows_axis0", lambda Emb: np.take(Emb, tokens, axis=0) @ np.array([1.0, -2.0, 0.5]), E,
    torch_fn=lambda Emb: Emb[torch.as_tensor(tokens)] @ T([1.0, -2.0, 0.5]))
add("pairwise_gather_rows_cols", lambda A: A[[0, 2, 3, 0], [1, 1, 0, 1]] ** 2, X43,
    torch_fn=lambda A: A[[0, 2, 3, 0], [1, 1, 0, 1]] ** 2)
add("submatrix_np_ix", lambda A: np.linalg.det(A[np.ix_([0, 2], [1, 2])]), A3,
    torch_fn=lambda A: torch.linalg.det(A[[0, 2]][:, [1, 2]]))
add("circular_buffer_take_wrap", lambda x: np.take(x, [7, -1, 2], mode="wrap") * np.array([1.0, 2.0, 3.0]), x6)
add("sort_rows_take_along_axis_argsort", lambda A: np.take_along_axis(A, np.argsort(A, axis=1), axis=1), X43,
    torch_fn=lambda A: torch.sort(A, dim=1).values)
add("reorder_values_by_argsort_of_keys", lambda keys, v: v[np.argsort(keys)] * np.arange(1.0, 7.0), x6, x6[::-1],
    note="the keys get a zero derivative (the order is piecewise constant); PyTorch gives None")
add("top2_mean_by_argpartition", lambda x: x[np.argpartition(-x, 2)[:2]].mean(), x6,
    torch_fn=lambda x: torch.topk(x, 2).values.mean())
add("second_smallest_by_partition", lambda x: np.partition(x ** 2, 1)[1], x6,
    torch_fn=lambda x: torch.kthvalue(x ** 2, 2).values)


# ==== scatters and writes (into copies, through views, in place) =================================
@user(X43, expect=EITHER, names="put_along_axis")
def zero_true_class_put_along_axis(A):
    out = A.copy()
    np.put_along_axis(out, np.array([[0], [1], [2], [0]]), 0.0, axis=1)
    return out


@user(x6, expect=EITHER, names="add.at")
def segment_sum_add_at(x):
    totals = np.zeros(3)
    np.add.at(totals, segments, x)
    return totals


add("segment_sum_bincount_weights", lambda x: np.bincount(segments, weights=x), x6, expect=EITHER,
    names="bincount")


@user(x6, expect=REFUSED, names="cannot assign into a Tensor")
def relu_by_masked_assignment_into_copy(x):
    y = x.copy()
    y[y < 0] = 0.0
    return y


@user(x6, expect=REFUSED, names="exp", note="out= would write around the graph")
def exp_into_preallocated_out(x):
    buffer = np.empty(6)
    np.exp(x, out=buffer)
    return buffer


@user(x6, expect=REFUSED, names="fill_diagonal")
def zero_diagonal_fill_diagonal(x):
    A = np.outer(x[:3], x[3:])
    np.fill_diagonal(A, 0.0)
    return A


@user(x6, expect=REFUSED, names="sort")
def sort_in_place_method(x):
    y = x * 1.0
    y.sort()
    return y * np.arange(6.0)


@user(x6, expect=EITHER, names="+=")
def increment_argument_in_place(x):
    x += 1.0
    return x ** 2


@user(x6, torch_fn=lambda x: torch.exp(x) / torch.exp(x).sum())
def softmax_by_in_place_division(z):
    e = np.exp(z)
    e /= e.sum()
    return e


@user(x6, torch_fn=lambda x: x ** 2 + x)
def in_place_add_on_intermediate(x):
    y = x ** 2
    y += x
    return y


# Writes through a view (v = y[1:3]; v *= 2) change y in NumPy; the graph cannot follow shared memory, so
# calcml refuses them, naming the update. An alias (z = y; z *= 3) is the same Tensor: the update is seen by
# every name, value and derivative.
@user(x6, expect=EITHER, names="*=", torch_fn=lambda x: x * T([1.0, 2.0, 2.0, 1.0, 1.0, 1.0]))
def scale_slice_through_view(x):
    y = x * 1.0
    v = y[1:3]
    v *= 2.0
    return y


@user(x6, expect=EITHER, names="-=")
def center_first_row_through_row_view(x):
    A = np.outer(x[:3], x[3:])
    row = A[0]
    row -= row.mean()
    return A


@user(x6, expect=EITHER, names="*=")
def double_through_ravel_view(x):
    A = x.reshape(2, 3) * 1.0
    flat = A.ravel()
    flat *= 2.0
    return A


@user(x6, torch_fn=lambda x: 6 * x ** 2)
def in_place_update_through_alias(x):
    y = x ** 2
    z = y
    z *= 3.0
    return y + z


@user(x6, expect=EITHER, names="*=", torch_fn=lambda x: 2 * x[1:3])
def view_taken_before_in_place_update_of_base(x):
    y = x * 1.0
    window = y[1:3]
    y *= 2.0
    return window


@user(x6, expect=EITHER, names="*=", torch_fn=lambda x: 2 * x.reshape(2, 3))
def scale_through_transpose_view(x):
    A = x.reshape(2, 3) * 1.0
    At = A.T
    At *= 2.0
    return A


@user(x6, torch_fn=lambda x: 0.9 * x)
def update_list_element_in_place(x):
    layers = [x * 1.0]
    w = layers[0]
    w -= 0.1 * x
    return layers[0]


# copy.copy / copy.deepcopy copy values as NumPy does; a copied activation stays on the graph.
add("deepcopy_of_intermediate", lambda x: copy.deepcopy(x ** 2) * x, x6, torch_fn=lambda x: x ** 3)
add("deepcopy_of_activation_dict", lambda x: copy.deepcopy({"h": np.tanh(x)})["h"] * x, x6)
add("shallow_copy_of_intermediate", lambda x: copy.copy(np.sin(x)) * x, x6, hessian=True,
    torch_fn=lambda x: torch.sin(x) * x)


# ==== order statistics =============================================================================
add("median_over_batch_axis", lambda A: np.median(A, axis=0), X53,
    torch_fn=lambda A: torch.median(A, dim=0).values)
add("percentile_30_linear", lambda x: np.percentile(x, 30), x6, torch_fn=lambda x: torch.quantile(x, 0.3))
add("quantiles_vector", lambda x: np.quantile(x, [0.25, 0.5, 0.9]), x6, hessian=True,
    torch_fn=lambda x: torch.quantile(x, T([0.25, 0.5, 0.9])))
add("trimmed_mean_by_sort", lambda x: np.sort(x)[1:-1].mean(), x6,
    torch_fn=lambda x: torch.sort(x).values[1:-1].mean())
add("min_max_scaling_ptp", lambda x: (x - x.min()) / np.ptp(x), x6,
    torch_fn=lambda x: (x - x.min()) / (x.max() - x.min()))
add("running_max_drawdown", lambda x: np.maximum.accumulate(x) - x, x6, expect=EITHER,
    names="maximum.accumulate", torch_fn=lambda x: torch.cummax(x, 0).values - x)


# ==== cumulative ops and calculus helpers ========================================================
add("returns_to_go_reversed_cumsum", lambda r: np.cumsum((0.9 ** np.arange(5.0) * r)[::-1])[::-1], rewards,
    torch_fn=lambda r: torch.flip(torch.cumsum(torch.flip(0.9 ** T(np.arange(5.0)) * r, [0]), 0), [0]))
add("survival_curve_cumprod", lambda h: np.cumprod(1.0 - 0.3 * np.tanh(h)), x6,
    torch_fn=lambda h: torch.cumprod(1.0 - 0.3 * torch.tanh(h), 0))
add("smoothness_penalty_second_difference", lambda x: np.sum(np.diff(x, n=2) ** 2), x6, hessian=True,
    torch_fn=lambda x: torch.sum(torch.diff(x, n=2) ** 2))
add("velocity_diff_with_prepend", lambda x: np.diff(x, prepend=0.0) / 0.1, x6,
    torch_fn=lambda x: torch.diff(x, prepend=T([0.0])) / 0.1)
add("finite_difference_np_gradient", lambda x: np.gradient(x ** 2, grid6), x6, expect=EITHER, names="gradient")
add("trapezoid_on_traced_grid", lambda t: np.trapezoid(np.sin(grid6 * 3), np.cumsum(np.exp(t))), x6,
    torch_fn=lambda t: torch.trapezoid(torch.sin(T(grid6) * 3), torch.cumsum(torch.exp(t), 0)))
add("trapezoid_with_dx", lambda f: np.trapezoid(f ** 2, dx=0.2), x6,
    torch_fn=lambda f: torch.trapezoid(f ** 2, dx=0.2))
add("lookup_table_interp_values", lambda fp: np.interp([0.1, 0.55, 0.9], grid6, fp), table)
add("lookup_table_interp_queries", lambda q: np.interp(q, grid6, table) * q, np.array([0.13, 0.52, 0.77]),
    hessian=True)
add("polynomial_np_polyval", lambda c: np.polyval(c, grid6), x6[:4], expect=EITHER, names="polyval")
add("polynomial_class_poly1d", lambda c: np.poly1d(c)(grid6), x6[:3], expect=EITHER, names="poly1d")
add("linspace_with_traced_endpoint", lambda t: np.sum(np.sin(np.linspace(0.0, t, 5))), np.array(1.7))


@user(np.array([0.3, -0.2]))
def gaussian_bump_on_meshgrid(center):
    gx, gy = np.meshgrid(grid6, grid6[:4])
    return np.sum(np.exp(-((gx - center[0]) ** 2 + (gy - center[1]) ** 2)))


# ==== padding, tiling, splitting, axes ============================================================
add("reflect_pad_then_moving_average",
    lambda x: np.convolve(np.pad(x, 1, mode="reflect"), np.ones(3) / 3, mode="valid"), x6, expect=EITHER,
    names="convolve")
add("reflect_pad_smoothing_by_slices", lambda x: (lambda p: (p[:-2] + p[1:-1] + p[2:]) / 3)(
    np.pad(x, 1, mode="reflect")), x6,
    torch_fn=lambda x: torch.nn.functional.avg_pool1d(
        torch.nn.functional.pad(x[None, None], (1, 1), mode="reflect"), 3, 1)[0, 0])
add("edge_pad_for_boundary", lambda x: np.pad(x, (1, 2), mode="edge") * np.arange(9.0), x6,
    torch_fn=lambda x: torch.nn.functional.pad(x[None, None], (1, 2), mode="replicate")[0, 0] * torch.arange(9.0))
add("nearest_upsample_repeat", lambda A: np.repeat(np.repeat(A, 2, axis=0), 2, axis=1), X43[:2],
    torch_fn=lambda A: torch.repeat_interleave(torch.repeat_interleave(A, 2, dim=0), 2, dim=1))
add("tile_pattern", lambda x: np.tile(x[:3], (2, 2)) * np.arange(12.0).reshape(2, 6), x6,
    torch_fn=lambda x: torch.tile(x[:3], (2, 2)) * torch.arange(12.0).reshape(2, 6))
add("chunked_products_np_split", lambda x: np.stack([p.prod() for p in np.split(x, 3)]), x6)
add("uneven_chunks_array_split", lambda x: np.concatenate([c * (i + 1) for i, c in enumerate(np.array_split(x, 4))]),
    x6)
add("channels_last_to_first_moveaxis", lambda x: np.moveaxis(x.reshape(1, 2, 3), 2, 0) * np.arange(3.0)[:, None, None],
    x6, torch_fn=lambda x: torch.movedim(x.reshape(1, 2, 3), 2, 0) * torch.arange(3.0)[:, None, None])
add("block_matrix_np_block", lambda A: np.block([[A, np.eye(3)], [np.zeros((3, 3)), A.T]]), A3, expect=EITHER,
    names="block")
add("flip_rot90_augmentation", lambda A: np.rot90(A) @ np.flip(A, axis=0), A3,
    torch_fn=lambda A: torch.rot90(A) @ torch.flip(A, [0]))
add("tridiagonal_from_np_diag", lambda d: np.linalg.solve(np.diag(2 + d ** 2) + np.diag(d[1:], 1)
                                                           + np.diag(d[1:], -1), np.ones(6)), x6, hessian=True,
    torch_fn=lambda d: torch.linalg.solve(torch.diag(2 + d ** 2) + torch.diag(d[1:], 1) + torch.diag(d[1:], -1),
                                          torch.ones(6, dtype=torch.float64)))
add("strictly_upper_triangle_triu_k", lambda A: np.triu(A, k=1) @ A, A3, torch_fn=lambda A: torch.triu(A, 1) @ A)
add("superdiagonal_trace_offset", lambda A: np.trace(A @ A, offset=1), A3,
    torch_fn=lambda A: torch.diagonal(A @ A, 1).sum())


# ==== einsum and tensordot variants ===============================================================
add("einsum_diagonal_extraction", lambda A: np.einsum("ii->i", A @ A.T), A3,
    torch_fn=lambda A: torch.einsum("ii->i", A @ A.T))
add("einsum_batched_matmul_ellipsis", lambda A: np.einsum("...ij,...jk->...ik", np.stack([A, A.T]), A), A3,
    torch_fn=lambda A: torch.einsum("...ij,...jk->...ik", torch.stack([A, A.T]), A))
add("einsum_chain_optimize", lambda A: np.einsum("ij,jk,kl->il", A, B3, A, optimize=True), A3,
    torch_fn=lambda A: torch.einsum("ij,jk,kl->il", A, T(B3), A))
add("einsum_batch_quadratic_forms", lambda A: np.einsum("bi,ij,bj->b", X43, A, X43), A3,
    torch_fn=lambda A: torch.einsum("bi,ij,bj->b", T(X43), A, T(X43)))
add("einsum_sublist_format", lambda A: np.einsum(A, [0, 1], A, [1, 2], [0, 2]), A3, expect=EITHER, names="einsum")
add("tensordot_outer_axes0", lambda x: np.tensordot(x[:2], x[2:5], axes=0), x6,
    torch_fn=lambda x: torch.tensordot(x[:2], x[2:5], dims=0))
add("tensordot_contract_lists", lambda W: np.tensordot(X43, W, axes=([1], [0])), W34,
    torch_fn=lambda W: torch.tensordot(T(X43), W, dims=([1], [0])))
add("inner_and_vdot", lambda A: np.inner(A, B3) + np.vdot(A, B3), A3,
    torch_fn=lambda A: torch.inner(A, T(B3)) + torch.vdot(A.reshape(-1), T(B3).reshape(-1)))


# ==== linear algebra as models use it =============================================================
add("solve_with_matrix_right_hand_side", lambda A: np.linalg.solve(A, X43.T), A3,
    torch_fn=lambda A: torch.linalg.solve(A, T(X43.T)))
add("batched_inv_and_det", lambda A: np.linalg.inv(np.stack([A, A @ A])) * np.linalg.det(np.stack([A, A.T]))[:, None,
                                                                                                                 None],
    A3, torch_fn=lambda A: torch.linalg.inv(torch.stack([A, A @ A])) * torch.linalg.det(
        torch.stack([A, A.T]))[:, None, None])


@user(A3, torch_fn=lambda A: torch.linalg.slogdet(-A)[0] * torch.linalg.slogdet(-A)[1])
def slogdet_sign_times_logabsdet(A):
    sign, logabsdet = np.linalg.slogdet(-A)
    return sign * logabsdet



add("logdet_by_cholesky_of_gram", lambda Bm: 2 * np.sum(np.log(np.diag(np.linalg.cholesky(Bm @ Bm.T + np.eye(3))))),
    B3, hessian=True,
    torch_fn=lambda Bm: 2 * torch.sum(torch.log(torch.diag(torch.linalg.cholesky(Bm @ Bm.T + torch.eye(3))))))
add("eigh_eigenvalues_of_gram", lambda Bm: np.linalg.eigh(Bm @ Bm.T)[0], B3, hessian=True,
    torch_fn=lambda Bm: torch.linalg.eigh(Bm @ Bm.T)[0])
add("top_eigenprojector_sign_invariant", lambda Bm: np.outer(np.linalg.eigh(Bm @ Bm.T)[1][:, -1],
                                                              np.linalg.eigh(Bm @ Bm.T)[1][:, -1]), B3,
    torch_fn=lambda Bm: torch.outer(torch.linalg.eigh(Bm @ Bm.T)[1][:, -1], torch.linalg.eigh(Bm @ Bm.T)[1][:, -1]))
add("rank2_svd_reconstruction_error",
    lambda M: np.sum((M - (lambda u, s, vt: (u[:, :2] * s[:2]) @ vt[:2])(*np.linalg.svd(M, full_matrices=False))) ** 2),
    X43, torch_fn=lambda M: torch.sum((M - (lambda u, s, vt: (u[:, :2] * s[:2]) @ vt[:2])(
        *torch.linalg.svd(M, full_matrices=False))) ** 2))
add("qr_log_abs_diagonal", lambda A: np.sum(np.log(np.abs(np.diag(np.linalg.qr(A)[1])))), A3,
    torch_fn=lambda A: torch.sum(torch.log(torch.abs(torch.diag(torch.linalg.qr(A)[1])))))
add("least_squares_fit_wrt_targets", lambda y: np.linalg.lstsq(X43, y, rcond=None)[0], y4)
add("condition_number", lambda A: np.linalg.cond(A), A3, torch_fn=torch.linalg.cond, hessian=True)
add("nonsymmetric_eigenvalues_eig", lambda A: np.sort(np.linalg.eig(A)[0].real), A3, expect=EITHER,
    names="linalg.eig")
add("power_spectrum_rfft", lambda x: np.abs(np.fft.rfft(x)) ** 2, x6, expect=EITHER, names="fft")


# ==== scipy.special on Tensors ====================================================================
add("scipy_expit", lambda x: scipy.special.expit(x), x6, expect=EITHER, names="expit")
add("scipy_logsumexp", lambda x: scipy.special.logsumexp(x), x6, expect=EITHER, names="np.asarray")
add("scipy_softmax_rows", lambda A: scipy.special.softmax(A, axis=1), X43, expect=EITHER, names="np.asarray")
add("gelu_exact_scipy_erf", lambda x: 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2))), x6, expect=EITHER,
    names="erf")
add("poisson_nll_gammaln_of_counts", lambda r: np.sum(np.exp(r) - counts * r + scipy.special.gammaln(counts + 1.0)),
    x5, torch_fn=lambda r: torch.nn.functional.poisson_nll_loss(r, T(counts), log_input=True, full=False,
                                                                 reduction="sum") + float(np.sum(
        scipy.special.gammaln(counts + 1.0))))
add("negative_binomial_gammaln_of_traced_dispersion",
    lambda a: np.sum(scipy.special.gammaln(counts + np.exp(a)) - scipy.special.gammaln(np.exp(a))), x5,
    expect=EITHER, names="gammaln")


# ==== conversions that would let a value leave the graph =========================================
add("statistics_mean_of_array", lambda x: statistics.mean(x) * x, x6, expect=REFUSED, names="statistics")
add("math_hypot_of_elements", lambda x: math.hypot(x[0], x[1]) * x, x6, expect=REFUSED, names="math")
add("math_fsum_accurate_sum", lambda x: math.fsum(x) * x, x6, expect=REFUSED, names="float()")
add("item_with_index", lambda A: A.item(1) * A, A3, expect=REFUSED, names="item", wrong_in=("backward",),
    wrong="with the Tensor API (no transform) .item() is the deliberate escape for logging (loss.item()), as in "
          "PyTorch: a number read with it and used in the loss is a constant; inside cm.grad & co it is refused")
add("flat_iterator_read", lambda x: x.flat[2] * x, x6, expect=EITHER, names="flat")
add("asanyarray_inside_loss", lambda x: np.sum(np.asanyarray(x) ** 2), x6, expect=REFUSED, names="np.asarray")
add("ascontiguousarray_before_matmul", lambda W: np.ascontiguousarray(W.T) @ np.ones(3), W34, expect=REFUSED,
    names="np.asarray")
add("frompyfunc_elementwise", lambda x: np.frompyfunc(lambda a: a * a, 1, 1)(x).astype(float), x6, expect=EITHER,
    names="vectorized")
add("vectorize_with_signature", lambda A: np.vectorize(lambda r: r @ r, signature="(n)->()")(A), X43,
    expect=EITHER, names="np.asarray")
add("apply_along_axis_row_energy", lambda A: np.apply_along_axis(lambda r: np.sum(r ** 2), 1, A), X43,
    expect=EITHER, names="apply_along_axis")
add("piecewise_function_np_piecewise",
    lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]), x6, expect=EITHER,
    names="piecewise")


# ==== piecewise-constant pieces (zero derivative through them, the rest must be right) ============
add("integer_cast_bucket_times_x", lambda x: x.astype(int) * x, x6 * 2)
add("np_round_one_decimal_times_x", lambda x: np.round(x, 1) * x, x6,
    torch_fn=lambda x: torch.round(x, decimals=1) * x)
add("builtin_round_of_element", lambda x: round(x[1], 1) * x, x6, expect=EITHER, names="round")
add("heaviside_gate", lambda x: np.heaviside(x, 0.5) * x ** 2, x6,
    torch_fn=lambda x: (x > 0).double() * x ** 2)
add("quantize_floor_straight_through_free", lambda x: np.floor(x * 3) / 3 + 0.1 * x, x6,
    torch_fn=lambda x: torch.floor(x * 3) / 3 + 0.1 * x)
add("lookup_by_searchsorted", lambda q: table[np.searchsorted(grid6, q)] * q, np.array([0.13, 0.52, 0.77]))
add("bucket_scale_by_digitize", lambda x: np.digitize(x, [-1.0, 0.0, 1.0]) * x, x6)
add("histogram_with_traced_weights", lambda w: np.histogram(grid6, bins=3, range=(0, 1), weights=w)[0], x6,
    expect=EITHER, names="histogram")
add("branch_on_isclose", lambda x: np.where(np.isclose(x, 0.5), 0.0, x ** 2), x6,
    torch_fn=lambda x: torch.where(torch.isclose(x, T(0.5)), T(0.0), x ** 2))


# ==== NaN guards =================================================================================
add("nan_to_num_after_log", lambda x: np.nan_to_num(np.log(np.abs(x))), x6,
    torch_fn=lambda x: torch.nan_to_num(torch.log(torch.abs(x))))


@user(x6)
def log_of_positives_under_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(x), 0.0)


@user(x6, note="the untaken branch's 0 · (1/2√x) = 0 · NaN is 0 in both modes (PyTorch and JAX give NaN here)")
def sqrt_guarded_by_where(x):
    with np.errstate(invalid="ignore"):
        return np.where(x > 0, np.sqrt(x), 0.0)


# ==== Python plumbing ============================================================================
add("functools_reduce_matmul_chain", lambda A: functools.reduce(np.matmul, [A, B3, A]), A3,
    torch_fn=lambda A: A @ T(B3) @ A)
add("itertools_accumulate_ema", lambda x: np.stack(list(itertools.accumulate(x, lambda m, v: 0.9 * m + 0.1 * v))),
    x6)


def _nested_sine(x, depth=4):
    return x if depth == 0 else np.sin(_nested_sine(x, depth - 1)) + x


add("recursion_nested_sine", _nested_sine, x6, hessian=True)


@user(x6)
def sum_of_generator_iterates(x):
    def iterates():
        v = x
        for _ in range(3):
            v = 0.5 * v + np.cos(v)
            yield v

    return sum(iterates())


_SCHEDULE = {"decay": 0.3}


@user(x6)
def closure_over_mutable_global_config(x):
    return np.exp(-_SCHEDULE["decay"] * x) * np.sinc(x) + np.cbrt(x) * np.float_power(np.abs(x) + 1, 1.5)


add("prod_with_exact_zero_factor", lambda x: np.prod(x * np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])), x6,
    torch_fn=lambda x: torch.prod(x * T([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])))
add("logaddexp_reduce", lambda x: np.logaddexp.reduce(x), x6, expect=EITHER, names="logaddexp.reduce",
    torch_fn=lambda x: torch.logsumexp(x, 0))
add("segment_sums_add_reduceat", lambda x: np.add.reduceat(x, [0, 2, 5]), x6, expect=EITHER, names="reduceat")
