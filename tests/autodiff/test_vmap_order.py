"""vmap of order statistics, averages and grids: sort, partition, the quantile family, weighted average,
linspace/logspace, interp and full_like equal a Python loop over the batch in value and per-example
gradient, and run as one replay (a step example by example, or a rule that loops, fails the test). The
examples of a batch are ordered differently, so an order baked in from example 0 would be caught.
np.unique's size depends on the values: equal sizes are stacked, different ones are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.autodiff.batching.order as batching_order
from calcml.autodiff.batching import rules, transform

RTOL = 1e-10
pytestmark = pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # NumPy's, in the loop's reference


def _refuse_example_by_example(monkeypatch) -> None:
    """Fail on any step that runs example by example: the whole function, or one operation's ``loop``."""

    def refuse(*args, **kwargs):
        raise AssertionError("ran example by example instead of one replay")

    monkeypatch.setattr(transform, "_example_by_example", refuse)
    for module in (rules, transform, batching_order):
        monkeypatch.setattr(module, "loop", refuse)


@pytest.fixture
def one_replay(monkeypatch):
    _refuse_example_by_example(monkeypatch)


def _scalar(f):
    """A scalar of f's outputs that weighs every entry differently (so a permuted gradient shows)."""

    def scalar(*xs):
        return sum(np.sum(np.sin(leaf) * np.linspace(0.5, 1.5, np.size(leaf)).reshape(np.shape(leaf)))
                   for leaf in cm.tree.leaves(f(*xs)))

    return scalar


def _loop(f, args, in_axes):
    size = next(len(a) for a, axis in zip(args, in_axes) if axis is not None)
    return [f(*[a if axis is None else a[b] for a, axis in zip(args, in_axes)]) for b in range(size)]


def _assert_equal_to_loop(batched, looped):
    leaves = cm.tree.leaves(batched)
    per_example = [cm.tree.leaves(out) for out in looped]
    assert len(leaves) == len(per_example[0])
    for k, leaf in enumerate(leaves):
        expected = np.stack([np.asarray(p[k], dtype=float) for p in per_example])
        np.testing.assert_allclose(np.asarray(leaf, dtype=float), expected, rtol=RTOL, atol=1e-12)


def _check(f, *args, in_axes=0, differentiable=None):
    """vmap(f) and vmap(grad(scalar of f)) against the loop; ``differentiable``: the argnums of the gradient."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    _assert_equal_to_loop(cm.vmap(f, in_axes)(*args), _loop(f, args, axes))
    argnums = differentiable if differentiable is not None else tuple(i for i, a in enumerate(axes) if a is not None)
    gradient = cm.grad(_scalar(f), argnums=argnums)
    _assert_equal_to_loop(cm.vmap(gradient, in_axes)(*args), _loop(gradient, args, axes))


def _with_nans(x, rng, fraction=0.3):
    x = x.copy()
    x[rng.random(x.shape) < fraction] = np.nan
    return x


RNG = np.random.default_rng(7)
X = RNG.normal(size=(4, 3, 5))                        # four examples, ordered differently
TIES = np.round(RNG.normal(size=(4, 6)) * 1.5) / 2    # many ties in every example
NANS = _with_nans(RNG.normal(size=(4, 4, 6)), RNG)
NANS[1, 2] = np.nan                                   # an all-NaN slice in example 1 only
Q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])

ORDER_CASES = {
    "sort": (lambda x: np.sort(x), X),
    "sort axis 0": (lambda x: np.sort(x, axis=0), X),
    "sort axis None": (lambda x: np.sort(x, axis=None), X),
    "sort ties": (lambda x: np.sort(x), TIES),
    "partition": (lambda x: np.partition(x, 2)[..., 2], X),
    "partition axis 0 two kth": (lambda x: np.partition(x, (0, 2), axis=0), X),
    "median": (lambda x: np.median(x, axis=-1), X),
    "median all": (lambda x: np.median(x), X),
    "median even ties": (lambda x: np.median(x), TIES),
    "median keepdims": (lambda x: np.median(x, axis=(0, 1), keepdims=True), X),
    "quantile several q": (lambda x: np.quantile(x, Q, axis=0, keepdims=True), X),
    "quantile nearest": (lambda x: np.quantile(x, 0.3, axis=-1, method="nearest"), X),
    "quantile midpoint": (lambda x: np.quantile(x, Q, axis=-1, method="midpoint"), X),
    "quantile lower": (lambda x: np.quantile(x, Q, axis=1, method="lower"), X),
    "quantile higher": (lambda x: np.quantile(x, Q, method="higher"), X),
    "percentile float32 q": (lambda x: np.percentile(x, np.float32([25, 75]), axis=(0, 1)), X),
    "nanmedian": (lambda x: np.nanmedian(x, axis=-1), NANS),
    "nanquantile": (lambda x: np.nanquantile(x, Q, axis=-1), NANS),
    "nanquantile nearest": (lambda x: np.nanquantile(x, [0.2, 0.5], axis=-1, method="nearest"), NANS),
    "nanpercentile": (lambda x: np.nanpercentile(x, 40, axis=0), NANS),
}


@pytest.mark.parametrize("name", ORDER_CASES)
def test_order_statistics_are_one_replay_equal_to_a_loop(name, one_replay):
    f, batch = ORDER_CASES[name]
    _check(f, batch)


def test_the_examples_really_are_ordered_differently():
    """The batches above would catch an order baked in from example 0."""
    orders = {tuple(np.argsort(x[0])) for x in X}
    assert len(orders) > 1
    np.testing.assert_array_equal(cm.vmap(np.sort)(X), np.sort(X, axis=-1))


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(size=st.integers(1, 5), n=st.integers(1, 6), rows=st.integers(1, 3), seed=st.integers(0, 2**16),
       ties=st.booleans(), method=st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]))
def test_sort_and_quantiles_of_any_batch_match_numpy_and_the_loop(size, n, rows, seed, ties, method):
    rng = np.random.default_rng(seed)
    batch = rng.normal(size=(size, rows, n))
    if ties:
        batch = np.round(batch)
    with pytest.MonkeyPatch.context() as patch:
        _refuse_example_by_example(patch)
        np.testing.assert_array_equal(cm.vmap(np.sort)(batch), np.sort(batch, axis=-1))
        quantiles = cm.vmap(lambda x: np.quantile(x, Q, axis=-1, method=method))(batch)
        np.testing.assert_allclose(quantiles, np.moveaxis(np.quantile(batch, Q, axis=-1, method=method), 0, 1),
                                   rtol=RTOL)
        _check(lambda x: np.sort(x, axis=0), batch)
        _check(lambda x: np.quantile(x, Q, axis=-1, method=method), batch)


def test_quantile_with_a_batched_q_is_one_replay(one_replay):
    q = np.array([[0.1, 0.9], [0.5, 0.0], [1.0, 0.3], [0.75, 0.25]])
    _check(lambda x, q: np.quantile(x, q), X, q)
    _check(lambda x, q: np.nanquantile(x, q, axis=-1), NANS, q)
    _check(lambda x, q: np.percentile(x, q), X, 100 * q)


def test_quantile_refuses_a_bad_q_in_any_example_with_the_message_of_that_example():
    q = np.array([0.5, 0.2, 1.5])
    with pytest.raises(cm.OperationError) as alone:
        np.quantile(cm.Tensor(X[2]), cm.Tensor(q[2]))
    with pytest.raises(cm.OperationError) as batched:
        cm.vmap(lambda x, q: np.quantile(x, q))(X[:3], q)
    assert str(batched.value) == str(alone.value)


# ---- averages, grids, fills ------------------------------------------------------------------------
def test_weighted_average_is_one_replay(one_replay):
    weights = RNG.uniform(0.1, 2.0, size=(4, 5))
    _check(lambda x, w: np.average(x, axis=-1, weights=w), X, weights)
    _check(lambda x, w: np.average(x, axis=1, weights=w, returned=True), X, RNG.uniform(0.1, 2.0, size=(4, 3, 5)))
    _check(lambda x: np.average(x, axis=0, weights=np.arange(1.0, 4.0)), X)


def test_weighted_average_refuses_weights_summing_to_zero_in_any_example():
    weights = np.ones((3, 5))
    weights[2, :2], weights[2, 2:] = 1.5, -1.0
    with pytest.raises(cm.OperationError, match="weights sum to zero"):
        cm.vmap(lambda x, w: np.average(x[0], weights=w))(X[:3], weights)


def test_linspace_and_logspace_with_traced_ends_are_one_replay(one_replay):
    start, stop = RNG.normal(size=4), RNG.normal(size=4) + 3
    _check(lambda a, b: np.linspace(a, b, 5), start, stop)
    _check(lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), RNG.normal(size=(4, 2)),
           RNG.normal(size=(4, 2)))
    _check(lambda a, b: np.linspace(a, b, 3, retstep=True), start, stop)
    _check(lambda a, b: np.logspace(a, b, 4, base=2.0), start, stop)
    _check(lambda a: np.linspace(a, 1.0, 6), start)


def test_interp_with_knots_and_values_per_example_is_one_replay(one_replay):
    x = RNG.uniform(-3, 3, size=(4, 7))
    x[:, 0] = -5.0  # below, above and on a knot
    x[:, 1] = 5.0
    knots = np.sort(RNG.uniform(-2, 2, size=(4, 5)), axis=-1)
    x[:, 2] = knots[:, 1]
    x[:, 3] = knots[:, -1]
    values = RNG.normal(size=(4, 5))
    _check(lambda x, xp, fp: np.interp(x, xp, fp), x, knots, values)
    _check(lambda x, xp, fp: np.interp(x, xp, fp, left=0.5, right=fp[0]), x, knots, values)
    _check(lambda x, xp: np.interp(x, xp, np.arange(5.0)), x, knots)
    _check(lambda x, xp, fp: np.interp(x, xp, fp), x[0], knots, values, in_axes=(None, 0, 0))


def test_interp_with_constant_knots_is_one_replay(one_replay):
    x, values = RNG.uniform(-2, 3, size=(4, 6)), RNG.normal(size=(4, 3))
    _check(lambda x, fp: np.interp(x, np.float32([-1, 0, 2]), fp, left=0.5, right=fp[0]), x, values)
    _check(lambda x: np.interp(x, [-1.0, 0.0, 2.0], [1.0, -1.0, 3.0]), x)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(size=st.integers(1, 4), knots=st.integers(1, 6), points=st.integers(1, 6), seed=st.integers(0, 2**16),
       side=st.sampled_from(["left", "right"]))
def test_batched_searchsorted_matches_numpy_row_by_row(size, knots, points, seed, side):
    rng = np.random.default_rng(seed)
    a = np.sort(np.round(rng.normal(size=(size, knots)), 1), axis=-1)
    v = np.round(rng.normal(size=(size, points, 2)), 1)
    v[0, 0, 0] = a[0, 0]  # a tie with a knot
    a[-1, -1], v[-1, -1, -1] = np.nan, np.nan
    expected = np.stack([np.searchsorted(a[b], v[b], side=side) for b in range(size)])
    np.testing.assert_array_equal(batching_order._searchsorted_in_rows(a, v, side), expected)


def test_full_like_with_a_batched_fill_is_one_replay(one_replay):
    _check(lambda x, v: np.full_like(x, v), X, RNG.normal(size=4))


# ---- unique: one size per example -------------------------------------------------------------------
def test_unique_of_examples_with_equal_sizes_is_stacked():
    batch = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 5.0]])
    _check(np.unique, batch)
    values, counts = cm.vmap(lambda x: np.unique(x, return_counts=True))(batch)
    np.testing.assert_array_equal(values, [[1.0, 3.0], [2.0, 5.0]])
    np.testing.assert_array_equal(counts, [[1, 2], [2, 1]])


@pytest.mark.parametrize("f", [np.unique, np.unique_values, lambda x: np.unique(x, return_counts=True),
                               np.unique_counts])
def test_unique_of_examples_with_different_sizes_is_refused_naming_vmap_and_the_sizes(f):
    batch = np.array([[3.0, 1.0, 3.0], [2.0, 4.0, 5.0]])
    with pytest.raises(cm.BatchingError, match=r"vmap: .*output.* shape \(2,\) for example 0 but \(3,\) for example 1"):
        cm.vmap(f)(batch)
