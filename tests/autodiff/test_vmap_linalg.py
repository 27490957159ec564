"""cm.vmap of np.linalg: equal to a Python loop over the batch, in value and per-example gradient, and run as
one replay (no example-by-example run, no per-example loop); where one example of the batch is singular or
degenerate, the loop's answer (det's gradient is its cofactor there) or the loop's error."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.autodiff.batching import linalg as batching_linalg
from calcml.autodiff.batching import rules, transform
from calcml.errors import CalcmlError
from tests.autodiff.differential.cases_linalg import conditioned, signs, svd_fixed, sym

RNG = np.random.default_rng(7)


def matrices(shape, batch=3, symmetric=False):
    """A batch of well-conditioned matrices (..., m, n): singular values (or |eigenvalues|) 1, ..., k."""
    return np.stack([conditioned(RNG, shape, symmetric=symmetric) for _ in range(batch)])


def vectors(shape, batch=3):
    return RNG.uniform(-2, 2, size=(batch,) + shape)


def scalar_of(f):
    """Σ sin over every output of f: a scalar that reaches every output (and each entry differently)."""
    return lambda *xs: sum(np.sum(np.sin(leaf)) for leaf in cm.tree.leaves(f(*xs)))


@pytest.fixture
def one_replay(monkeypatch):
    """Fail the test if vmap runs f example by example, or any operation once per example."""
    def refused(*args, **kwargs):
        raise AssertionError("vmap ran once per example")
    monkeypatch.setattr(transform, "_example_by_example", refused)
    monkeypatch.setattr(transform, "loop", refused)
    monkeypatch.setattr(rules, "loop", refused)
    monkeypatch.setattr(batching_linalg, "loop", refused)


def looped(f, args, in_axes):
    """f on each example, stacked leaf by leaf."""
    size = next(np.shape(a)[0] for a, axis in zip(args, in_axes) if axis is not None)
    outs = [f(*[a if axis is None else a[b] for a, axis in zip(args, in_axes)]) for b in range(size)]
    return [np.stack([np.asarray(cm.tree.leaves(o)[k], dtype=float) for o in outs])
            for k in range(len(cm.tree.leaves(outs[0])))]


def assert_equals_loop(f, args, in_axes=0):
    """cm.vmap(f)(*args) equals the loop, leaf by leaf."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    expected = looped(f, args, axes)
    leaves = cm.tree.leaves(cm.vmap(f, in_axes=in_axes)(*args))
    assert len(leaves) == len(expected)
    for leaf, want in zip(leaves, expected):
        np.testing.assert_allclose(np.asarray(leaf, dtype=float), want, rtol=1e-10, atol=1e-12)


def assert_values_and_gradients_equal_loop(f, args, in_axes=0):
    """vmap(f) and vmap(grad(Σ sin f)) (with respect to every batched argument) equal the loop."""
    assert_equals_loop(f, args, in_axes)
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    argnums = tuple(i for i, axis in enumerate(axes) if axis is not None)
    assert_equals_loop(cm.grad(scalar_of(f), argnums=argnums), args, in_axes)


# ---- every function, with the options the differential harness uses -----------------------------------
SQUARE = (3, 3)
FUNCTIONS = {
    "inv": (np.linalg.inv, lambda: (matrices(SQUARE),)),
    "inv of a stack": (np.linalg.inv, lambda: (matrices((2, 2, 2)),)),
    "det": (np.linalg.det, lambda: (matrices(SQUARE),)),
    "slogdet": (lambda a: tuple(np.linalg.slogdet(a)), lambda: (matrices((2, 3, 3)),)),
    "solve, a vector b": (np.linalg.solve, lambda: (matrices(SQUARE), vectors((3,)))),
    "solve, stacked A and a vector b": (np.linalg.solve, lambda: (matrices((2, 3, 3)), vectors((3,)))),
    "solve, stacked b": (np.linalg.solve, lambda: (matrices(SQUARE), vectors((2, 3, 2)))),
    "cholesky": (lambda a: np.linalg.cholesky(sym(a) + 4 * np.eye(3)), lambda: (matrices(SQUARE),)),
    "cholesky upper": (lambda a: np.linalg.cholesky(sym(a) + 4 * np.eye(3), upper=True), lambda: (matrices(SQUARE),)),
    "norm": (np.linalg.norm, lambda: (vectors((2, 3)),)),
    "norm of a 3-d example, keepdims": (lambda x: np.linalg.norm(x, keepdims=True), lambda: (vectors((2, 2, 3)),)),
    "norm ord 3": (lambda x: np.linalg.norm(x, ord=3, axis=-1, keepdims=True), lambda: (vectors((2, 3)),)),
    "norm fro": (lambda x: np.linalg.norm(x, ord="fro", axis=(0, -1)), lambda: (vectors((2, 3)),)),
    "norm 2": (lambda x: np.linalg.norm(x, ord=2, axis=(-2, -1)), lambda: (matrices((3, 2)),)),
    "norm -2 keepdims": (lambda x: np.linalg.norm(x, ord=-2, axis=(-1, -2), keepdims=True),
                         lambda: (matrices((2, 3)),)),
    "norm nuc": (lambda x: np.linalg.norm(x, ord="nuc", axis=(-2, -1)), lambda: (matrices((2, 3)),)),
    "norm inf": (lambda x: np.linalg.norm(x, ord=np.inf, axis=(-2, -1)), lambda: (vectors((3, 4)),)),
    "vector_norm": (lambda x: np.linalg.vector_norm(x, axis=(0, -1)), lambda: (vectors((2, 3)),)),
    "matrix_norm": (np.linalg.matrix_norm, lambda: (vectors((2, 3)),)),
    "matrix_norm nuc": (lambda x: np.linalg.matrix_norm(x, ord="nuc"), lambda: (matrices((3, 2)),)),
    "cond": (np.linalg.cond, lambda: (matrices((3, 2)),)),
    "cond fro": (lambda a: np.linalg.cond(a, "fro"), lambda: (matrices(SQUARE),)),
    "eigh": (lambda a: (lambda w, v: (w, signs(v)))(*np.linalg.eigh(sym(a))),
             lambda: (matrices(SQUARE, symmetric=True),)),
    "eigh UPLO=U": (lambda a: np.linalg.eigh(sym(a), UPLO="U")[0], lambda: (matrices(SQUARE, symmetric=True),)),
    "eigvalsh": (lambda a: np.linalg.eigvalsh(sym(a)), lambda: (matrices(SQUARE, symmetric=True),)),
    "svd": (lambda a: svd_fixed(*np.linalg.svd(a, full_matrices=False)), lambda: (matrices((3, 2)),)),
    "svd full": (lambda a: (lambda u, s, vh: (s, signs(u[..., :, :2])))(*np.linalg.svd(a)),
                 lambda: (matrices((4, 2)),)),
    "svd wide full": (lambda a: (lambda u, s, vh: (s, signs(vh[..., :2, :].mT).mT))(*np.linalg.svd(a)),
                      lambda: (matrices((2, 4)),)),
    "svd compute_uv=False": (lambda a: np.linalg.svd(a, compute_uv=False), lambda: (matrices((2, 3)),)),
    "svdvals": (np.linalg.svdvals, lambda: (matrices((3, 2)),)),
    "qr": (lambda a: tuple(np.linalg.qr(a)), lambda: (matrices((4, 3)),)),
    "qr mode r": (lambda a: np.linalg.qr(a, mode="r"), lambda: (matrices((3, 3)),)),
    "pinv": (np.linalg.pinv, lambda: (matrices((3, 2)),)),
    "pinv hermitian": (lambda a: np.linalg.pinv(sym(a), hermitian=True), lambda: (matrices(SQUARE, symmetric=True),)),
    "lstsq": (lambda a, b: np.linalg.lstsq(a, b)[0], lambda: (matrices((5, 3)), vectors((5,)))),
    "lstsq residuals": (lambda a, b: np.linalg.lstsq(a, b)[:2], lambda: (matrices((4, 2)), vectors((4, 3)))),
    "lstsq underdetermined": (lambda a, b: np.linalg.lstsq(a, b)[0], lambda: (matrices((2, 4)), vectors((2,)))),
    "lstsq rcond": (lambda a, b: np.linalg.lstsq(a, b, rcond=0.5)[0], lambda: (matrices((4, 3)), vectors((4, 2)))),
    "lstsq rank and s": (lambda a, b: np.linalg.lstsq(a, b, rcond=1e-3)[2:], lambda: (matrices((4, 3)), vectors((4,)))),
    "matrix_power 3": (lambda a: np.linalg.matrix_power(a, 3), lambda: (matrices(SQUARE),)),
    "matrix_power -2": (lambda a: np.linalg.matrix_power(a, -2), lambda: (matrices(SQUARE),)),
    "matrix_power 0": (lambda a: np.linalg.matrix_power(a, 0), lambda: (matrices(SQUARE),)),
    "matrix_rank": (np.linalg.matrix_rank, lambda: (matrices((3, 2)),)),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_vmap_equals_a_loop_in_one_replay(name, one_replay):
    f, make = FUNCTIONS[name]
    assert_values_and_gradients_equal_loop(f, make())


@pytest.mark.parametrize("in_axes, shapes", [((None, 0), ((3, 3), (3,))), ((0, None), ((3, 3), (3,))),
                                             ((None, 0), ((2, 3, 3), (3, 2))), ((0, None), ((3, 3), (2, 3, 2))),
                                             ((None, 0), ((3, 3), (2, 3, 1)))])
def test_solve_with_one_operand_shared_broadcasts_like_the_loop(in_axes, shapes, one_replay):
    a = conditioned(RNG, shapes[0]) if in_axes[0] is None else matrices(shapes[0])
    b = RNG.uniform(-2, 2, size=shapes[1]) if in_axes[1] is None else vectors(shapes[1])
    assert_values_and_gradients_equal_loop(np.linalg.solve, (a, b), in_axes)


@pytest.mark.parametrize("in_axes", [(None, 0), (0, None)])
def test_lstsq_with_one_operand_shared(in_axes, one_replay):
    a = conditioned(RNG, (5, 3)) if in_axes[0] is None else matrices((5, 3))
    b = RNG.uniform(-2, 2, size=(5, 2)) if in_axes[1] is None else vectors((5, 2))
    assert_values_and_gradients_equal_loop(lambda a, b: np.linalg.lstsq(a, b)[:2], (a, b), in_axes)


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(batch=st.integers(1, 4), stack=st.lists(st.integers(1, 2), max_size=2).map(tuple), n=st.integers(1, 3))
def test_inverse_determinant_and_solve_for_any_batch_and_stack(batch, stack, n, one_replay):
    a = matrices(stack + (n, n), batch)
    b = vectors((n,), batch)
    assert_values_and_gradients_equal_loop(lambda a: (np.linalg.inv(a), np.linalg.det(a), np.linalg.slogdet(a)[1]),
                                           (a,))
    assert_values_and_gradients_equal_loop(np.linalg.solve, (a, b))


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(batch=st.integers(1, 4), m=st.integers(1, 4), n=st.integers(1, 4), keepdims=st.booleans())
def test_decompositions_and_norms_for_any_batch_and_shape(batch, m, n, keepdims, one_replay):
    a = matrices((m, n), batch)
    assert_values_and_gradients_equal_loop(
        lambda a: (np.linalg.svd(a, compute_uv=False), np.linalg.pinv(a), np.linalg.norm(a, keepdims=keepdims),
                   np.linalg.norm(a, ord=2, axis=(0, 1), keepdims=keepdims), np.linalg.norm(a[0], ord=1)), (a,))


# ---- batches with a singular or degenerate example -----------------------------------------------------
def singular_among_regular(n, rank):
    """Three n × n matrices: regular, of rank ``rank``, regular."""
    low = RNG.uniform(0.5, 2, size=(n, rank)) @ RNG.uniform(0.5, 2, size=(rank, n))
    return np.stack([conditioned(RNG, (n, n)), low, conditioned(RNG, (n, n))])


@pytest.mark.parametrize("n, rank", [(2, 1), (3, 2), (3, 1), (2, 0)])
def test_det_gradient_at_a_singular_example_is_its_cofactor(n, rank, one_replay):
    a = singular_among_regular(n, rank)
    assert_values_and_gradients_equal_loop(np.linalg.det, (a,))
    cofactor = np.array([[a[1][1, 1], -a[1][1, 0]], [-a[1][0, 1], a[1][0, 0]]]) if n == 2 else None
    if cofactor is not None:  # adj(A)ᵀ of a 2 × 2 matrix, written out
        np.testing.assert_allclose(cm.vmap(cm.grad(np.linalg.det))(a)[1], cofactor, rtol=1e-10, atol=1e-12)


def test_det_gradient_when_example_zero_is_singular(one_replay):
    a = singular_among_regular(3, 2)[[1, 0, 2]]
    assert_values_and_gradients_equal_loop(np.linalg.det, (a,))


def loop_error(f, batch):
    """The error the loop raises (the first bad example's)."""
    with pytest.raises(CalcmlError) as raised:
        for example in batch:
            f(example)
    return str(raised.value)


def assert_same_refusal(f, batch):
    """vmap(f) refuses with the loop's error."""
    expected = loop_error(f, batch)
    with pytest.raises(CalcmlError) as raised:
        cm.vmap(f)(batch)
    assert str(raised.value) == expected


class FellBack(Exception):
    """vmap gave up the replay and went example by example."""


def assert_replay_refuses(f, batch, monkeypatch, words):
    """The replay itself refused (on the whole batch, though example 0, which was traced, is fine): its error,
    naming the reason, is what sent vmap example by example."""
    def fell_back(*args):
        raise FellBack
    monkeypatch.setattr(transform, "_example_by_example", fell_back)
    with pytest.raises(FellBack) as raised:
        cm.vmap(f)(batch)
    assert isinstance(raised.value.__context__, CalcmlError)
    assert re.search(words, str(raised.value.__context__))


def test_second_derivative_of_det_at_rank_n_minus_2_is_refused_for_any_example(monkeypatch):
    a = singular_among_regular(3, 1)
    f = cm.hessian(np.linalg.det)
    assert_same_refusal(f, a)
    assert_replay_refuses(f, a, monkeypatch, "rank ≤ n − 2")


def test_second_derivative_of_det_at_rank_n_minus_1_equals_the_loop(one_replay):
    assert_equals_loop(cm.hessian(np.linalg.det), (singular_among_regular(3, 2),))


def test_slogdet_gradient_at_a_singular_example_is_refused(monkeypatch):
    a = singular_among_regular(3, 2)
    a[1] = np.diag([1.0, 2.0, 0.0])  # exactly singular: log |det A| = −inf
    f = cm.grad(lambda a: np.linalg.slogdet(a)[1])
    assert_same_refusal(f, a)
    assert_replay_refuses(f, a, monkeypatch, "slogdet: A is singular")


def test_slogdet_sign_is_recorded_per_example(one_replay):
    a = np.stack([np.eye(2), np.diag([1.0, -1.0]), np.diag([-2.0, 3.0])])
    np.testing.assert_array_equal(cm.vmap(lambda a: np.linalg.slogdet(a)[0])(a), [1.0, -1.0, -1.0])


def repeated_among_distinct(shape, symmetric):
    """Three matrices; the second has a repeated eigenvalue (symmetric) or singular value."""
    batch = matrices(shape, symmetric=symmetric)
    batch[1] = np.diag([2.0, 2.0, 1.0])[: shape[0], : shape[1]]
    return batch


@pytest.mark.parametrize("f, words", [
    (cm.grad(lambda a: np.sum(np.sin(np.linalg.eigh(a)[1]))), "eigh: eigenvalues are repeated"),
    (cm.grad(lambda a: np.sum(np.sin(np.linalg.svd(a)[0]))), "svd: singular values are repeated"),
])
def test_eigenvector_gradients_at_a_repeated_value_are_refused(f, words, monkeypatch):
    a = repeated_among_distinct((3, 3), symmetric=True)
    assert_same_refusal(f, a)
    assert_replay_refuses(f, a, monkeypatch, words)


def test_eigenvalue_gradients_at_a_repeated_value_equal_the_loop(one_replay):
    a = repeated_among_distinct((3, 3), symmetric=True)
    assert_equals_loop(cm.grad(lambda a: np.sum(np.linalg.eigh(a)[0] ** 2)), (a,))


def test_the_extra_columns_of_a_full_svd_are_refused_when_used():
    f = cm.grad(lambda a: np.sum(np.sin(np.linalg.svd(a)[0])))
    a = matrices((3, 2))
    assert_same_refusal(f, a)
    assert "extra columns of U" in loop_error(f, a)


def test_qr_gradient_of_a_rank_deficient_example_is_refused(monkeypatch):
    a = matrices((3, 2))
    a[2] = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    f = cm.grad(lambda a: np.sum(np.sin(np.linalg.qr(a)[0])))
    assert_same_refusal(f, a)
    assert_replay_refuses(f, a, monkeypatch, "full column rank")


def test_lstsq_of_a_rank_deficient_example_equals_the_loop(one_replay):
    a = matrices((4, 3))
    a[1][:, 2] = a[1][:, 0] + a[1][:, 1]
    assert_values_and_gradients_equal_loop(lambda a, b: np.linalg.lstsq(a, b)[0], (a, vectors((4,))))
    np.testing.assert_array_equal(cm.vmap(lambda a, b: np.linalg.lstsq(a, b)[2])(a, vectors((4,))), [3, 2, 3])


def test_lstsq_residuals_of_rank_deficient_examples_are_empty_as_in_the_loop(one_replay):
    a = np.stack([np.outer([1.0, 2.0, 3.0], [1.0, 1.0])] * 2)
    assert_values_and_gradients_equal_loop(lambda a, b: np.linalg.lstsq(a, b)[:2], (a, vectors((3,), 2)))


def test_matrix_rank_of_vectors_equals_the_loop():  # NumPy reads a vector's values as a Python bool: example by example
    assert_equals_loop(np.linalg.matrix_rank, (np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]),))


def test_matrix_rank_is_recorded_per_example(one_replay):
    a = singular_among_regular(3, 1)
    np.testing.assert_array_equal(cm.vmap(np.linalg.matrix_rank)(a), [3, 1, 3])


def test_det_backward_with_create_graph_at_rank_n_minus_2_is_still_refused():
    """Outside vmap the refusal is kept for every way of asking a second derivative (here create_graph)."""
    t = cm.Tensor(np.diag([1.0, 0.0, 0.0]), requires_grad=True)
    with pytest.raises(CalcmlError, match="rank ≤ n − 2"):
        np.linalg.det(t).backward(create_graph=True)


def test_a_degenerate_matrix_in_a_stack_is_refused_whatever_the_other_matrices_cotangents():
    """The cotangent counts as negligible next to its own matrix's, not the stack's: a huge cotangent on a
    regular matrix used to hide the repeated eigenvalues of its neighbour (a gradient quietly returned)."""
    a = repeated_among_distinct((3, 3), symmetric=True)[[1, 0]]
    weights = np.array([1.0, 1e9])[:, None, None]
    with pytest.raises(CalcmlError, match="eigenvalues are repeated"):
        cm.grad(lambda a: np.sum(weights * np.sin(np.linalg.eigh(a)[1])))(a)
    with pytest.raises(CalcmlError, match="eigenvalues are repeated"):
        cm.vmap(cm.grad(lambda a, w: np.sum(w * np.sin(np.linalg.eigh(a)[1]))), in_axes=(None, 0))(a, weights[:, 0])
