"""vmap: equal to a Python loop over the batch, for every case of the differential harness, inside and
around every transform; per-example gradients of the digits MLP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calcml as cm
from tests.autodiff.differential.test_differential import _load_cases

CASES, _ = _load_cases()
BATCH = 3


def _loop(f, batch_args, in_axes):
    outs = []
    for b in range(BATCH):
        args = [a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(batch_args, in_axes)]
        outs.append(f(*args))
    return outs


def _assert_equal_to_loop(batched, looped):
    flat_b, _ = cm.tree.flatten(batched)
    per_example = [cm.tree.flatten(o)[0] for o in looped]
    for k, leaf in enumerate(flat_b):
        expected = np.stack([np.asarray(p[k], dtype=float) for p in per_example])
        np.testing.assert_allclose(np.asarray(leaf, dtype=float), expected, rtol=1e-10, atol=1e-12)


# Functions whose result has a size that depends on the values (or, for a 1-D matrix_rank, that NumPy reads as a
# Python bool): vmap's meaning for them is a run per example. Every other harness case must be one replay.
EXAMPLE_BY_EXAMPLE = {"numpy.unique", "numpy.unique_all", "numpy.unique_counts", "numpy.unique_inverse",
                      "numpy.unique_values", "numpy.linalg.matrix_rank"}


class _StepsPerExample:
    """Counts what cm.vmap runs once per example: whole functions, and single operations without a rule."""

    def __init__(self):
        from calcml.autodiff.batching import linalg, order, rules, transform
        self.count = 0
        self.patches = [(transform, "_example_by_example")] + [(module, "loop") for module in (rules, linalg, order)]

    def __enter__(self):
        self.saved = [getattr(module, name) for module, name in self.patches]
        for (module, name), original in zip(self.patches, self.saved):
            setattr(module, name, self._counting(original))
        return self

    def _counting(self, original):
        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)
        return counted

    def __exit__(self, *exc):
        for (module, name), original in zip(self.patches, self.saved):
            setattr(module, name, original)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[f"{f}:{c.name}:{i}" for i, (f, c) in enumerate(CASES)])
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_vmap_of_every_harness_case_equals_a_loop_in_value_and_per_example_gradient(case, data):
    """Values and per-example gradients equal the loop, and — but for EXAMPLE_BY_EXAMPLE — come from one replay
    with a batching rule for every operation (nothing run once per example)."""
    shapes = data.draw(case.shape_strategy())
    rng = np.random.default_rng(0)
    examples = [case.arguments(rng, shapes) for _ in range(BATCH)]
    stacked = [np.stack([e[k] for e in examples]) for k in range(case.arity)]
    in_axes = (0,) * case.arity

    def scalar(*xs):
        leaves = cm.tree.leaves(case.fn(*xs))
        return sum(np.sum(np.sin(leaf)) for leaf in leaves)

    gradient = cm.grad(scalar, argnums=tuple(range(case.arity)))
    with _StepsPerExample() as per_example:
        try:
            batched = cm.vmap(case.fn)(*stacked)
        except cm.BatchingError:
            return  # refused clearly (control flow on a value): allowed, a wrong number is not
        batched_gradients = cm.vmap(gradient)(*stacked)
    _assert_equal_to_loop(batched, _loop(case.fn, stacked, in_axes))
    _assert_equal_to_loop(batched_gradients, _loop(gradient, stacked, in_axes))
    assert per_example.count == 0 or case.name in EXAMPLE_BY_EXAMPLE, f"{case.name}: steps ran once per example"


def test_in_axes_none_int_negative_and_out_axes():
    rng = np.random.default_rng(1)
    X, W = rng.normal(size=(3, 5, 4)), rng.normal(size=(4, 2))
    f = lambda x, w: np.tanh(x @ w)
    np.testing.assert_allclose(cm.vmap(f, in_axes=(1, None))(X, W), np.stack([f(X[:, i], W) for i in range(5)]))
    np.testing.assert_allclose(cm.vmap(f, in_axes=(-2, None), out_axes=-1)(X, W),
                               np.stack([f(X[:, i], W) for i in range(5)], axis=-1))
    with pytest.raises(cm.BatchingError, match="batch sizes differ"):
        cm.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(cm.BatchingError, match="no such axis"):
        cm.vmap(np.sin, in_axes=2)(np.ones((2, 2)))
    params = {"w": W, "x": X[0]}
    out = cm.vmap(lambda p: p["x"] @ p["w"], in_axes=({"w": None, "x": 0},))(params)
    np.testing.assert_allclose(out, X[0] @ W)


def test_nested_vmap_and_grad_jvp_hessian_inside():
    rng = np.random.default_rng(2)
    M = rng.normal(size=(4, 3, 2))
    f = lambda x: np.sum(np.sin(x) * x[0] ** 2)
    np.testing.assert_allclose(cm.vmap(cm.vmap(f))(M), np.array([[f(x) for x in row] for row in M]))
    flat = M.reshape(12, 2)
    for transform in (cm.grad(f), cm.hessian(f), lambda x: cm.jvp(f, (x,), (np.ones(2),))[1]):
        _assert_equal_to_loop(cm.vmap(transform)(flat), [transform(x) for x in flat])


def test_grad_of_vmap_differentiates_the_replay():
    rng = np.random.default_rng(3)
    X, w = rng.normal(size=(6, 3)), rng.normal(size=3)
    batched_loss = lambda w: np.mean(cm.vmap(lambda x: np.log1p(np.exp(-np.dot(x, w))))(X))
    plain_loss = lambda w: np.mean(np.log1p(np.exp(-X @ w)))
    np.testing.assert_allclose(cm.grad(batched_loss)(w), cm.grad(plain_loss)(w), rtol=1e-12)
    np.testing.assert_allclose(cm.hessian(batched_loss)(w), cm.hessian(plain_loss)(w), rtol=1e-10)


def test_control_flow_and_plain_values_fall_back_to_one_example_at_a_time():
    X = np.array([[1.0, 2.0], [-1.0, 3.0], [2.0, -4.0]])
    branchy = lambda x: x * 2 if x[0] > 0 else -x
    np.testing.assert_allclose(cm.vmap(branchy)(X), np.stack([branchy(x) for x in X]))
    scaled = lambda x: float(x[0]) * x
    np.testing.assert_allclose(cm.vmap(scaled)(X), X[:, :1] * X)
    with pytest.raises(cm.GraphEscapeError):  # under grad the plain value would lose its derivative
        cm.vmap(cm.grad(lambda x: float(x[0]) * np.sum(x)))(X)


@pytest.mark.parametrize("f, expected", [
    (lambda x: x * float(x.value[0]), lambda X: X * X[:, :1]),
    (lambda x: x * x.value[0], lambda X: X * X[:, :1]),          # a scalar read by indexing .value
    (lambda x: x * sum(x.value.tolist()), lambda X: X * X.sum(1, keepdims=True)),
    (lambda x: x * [v for v in x.value][1], lambda X: X * X[:, 1:]),
    (lambda x: x * np.asarray(x.value).max(), lambda X: X * X.max(1, keepdims=True)),
])
def test_plain_reads_of_an_examples_values_are_per_example_not_the_first_examples(f, expected):
    """Reading .value under vmap (a deliberate constant) must give each example its own constant: such reads
    are noticed and vmap runs f example by example (the replay would bake example 0's number)."""
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(cm.vmap(f)(X), expected(X))


def _mlp_loss(params, x, y):
    h = np.maximum(0.0, x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return cm.logsumexp(z) - z[y]


def test_per_example_gradients_of_the_digits_mlp_equal_separate_gradients():
    data = cm.data.digits()
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(64, 32)) * 0.1, "b1": np.zeros(32),
              "W2": rng.normal(size=(32, 10)) * 0.1, "b2": np.zeros(10)}
    X, y = data.X_train[:64].astype(np.float64), data.y_train[:64]
    per_example = cm.vmap(cm.grad(_mlp_loss), in_axes=(None, 0, 0))(params, X, y)
    for i in range(64):
        single = cm.grad(_mlp_loss)(params, X[i], y[i])
        for k in params:
            np.testing.assert_allclose(per_example[k][i], single[k], rtol=1e-10, atol=1e-14)
    mean_of_per_example = {k: v.mean(axis=0) for k, v in per_example.items()}
    batch_gradient = cm.grad(lambda p: np.mean(cm.vmap(_mlp_loss, in_axes=(None, 0, 0))(p, X, y)))(params)
    for k in params:
        np.testing.assert_allclose(mean_of_per_example[k], batch_gradient[k], rtol=1e-10, atol=1e-14)


def test_a_primitive_carries_its_batching_rule():
    """vmap looks a primitive's rule up on the primitive (defvmap): a user's rule runs once for the batch."""
    calls = []

    @cm.primitive
    def double(x):
        return 2 * x

    double.defvjp(lambda g, ans, x: 2 * g)
    double.defvmap(lambda prim, args, kwargs, size: calls.append(size) or prim(args[0].physical))
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(cm.vmap(lambda x: double(x) + 1)(X), 2 * X + 1)
    assert calls == [3]  # one batched call, not a loop over the three examples


def test_engine_primitives_declare_rules_where_their_family_needs_one():
    from calcml.autodiff.primitive import REGISTRY

    for name in ("sum", "mean", "max", "logsumexp", "softmax", "reshape", "transpose", "matmul", "einsum",
                 "getitem", "scatter_add"):
        assert REGISTRY[name].vmap_rule is not None, name


@pytest.mark.parametrize("f", [
    lambda w, x, y: np.sum(w[y] * x),              # a row of a weight picked per example (w a constant here)
    lambda w, x, y: np.sum(np.tanh(x @ w)[y]),     # an entry of a computed vector
    lambda w, x, y: np.sum(np.tanh(w * x[0])[:, y]),   # a slice beside the per-example index: once per example
])
def test_per_example_integer_indices_equal_a_loop_in_value_and_gradient(f):
    rng = np.random.default_rng(4)
    W, X, Y = rng.normal(size=(3, 3)), rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    np.testing.assert_allclose(cm.vmap(f, in_axes=(None, 0, 0))(W, X, Y), [f(W, x, y) for x, y in zip(X, Y)])
    g = cm.grad(f)
    np.testing.assert_allclose(cm.vmap(g, in_axes=(None, 0, 0))(W, X, Y), np.stack([g(W, x, y) for x, y in zip(X, Y)]),
                               rtol=1e-12)


def test_values_read_for_an_index_are_not_confused_with_other_reads():
    """The same label read as an index and as a number: the number could be baked in, so vmap loops."""
    f = lambda x, y: x[y] * float(y)
    X, Y = np.arange(6.0).reshape(3, 2), np.array([1, 0, 1])
    np.testing.assert_allclose(cm.vmap(f)(X, Y), [x[y] * y for x, y in zip(X, Y)])


def test_tensor_imports_neither_reverse_mode_nor_vmap():
    """Tensor.backward and the vmap note reach the layers above through hooks, not function-local imports."""
    import ast
    import inspect

    from calcml.autodiff import tensor

    imported = {node.module for node in ast.walk(ast.parse(inspect.getsource(tensor)))
                if isinstance(node, ast.ImportFrom)}
    assert not imported & {"calcml.autodiff.reverse", "calcml.autodiff.batching"}
    t = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad, [2.0, 4.0])


def test_per_example_gradients_of_a_wide_layer_equal_separate_gradients():
    """128 examples × a 64 × 128 weight: per-example outer products of 8 MB."""
    rng = np.random.default_rng(2)
    params = {"W1": rng.normal(size=(64, 128)) * 0.1, "b1": np.zeros(128),
              "W2": rng.normal(size=(128, 10)) * 0.1, "b2": np.zeros(10)}
    X, y = rng.normal(size=(128, 64)), rng.integers(0, 10, 128)
    per_example = cm.vmap(cm.grad(_mlp_loss), in_axes=(None, 0, 0))(params, X, y)
    for i in range(0, 128, 9):
        single = cm.grad(_mlp_loss)(params, X[i], y[i])
        for k in params:
            np.testing.assert_allclose(per_example[k][i], single[k], rtol=1e-10, atol=1e-14)


def test_out_axes_none_returns_an_unbatched_output_once_and_refuses_a_batched_one():
    X, c = np.arange(6.0).reshape(3, 2), np.array([1.0, -2.0])
    total, doubled = cm.vmap(lambda x, c: (np.sum(x), 2.0 * c), in_axes=(0, None), out_axes=(0, None))(X, c)
    np.testing.assert_allclose(total, X.sum(axis=1))
    np.testing.assert_allclose(doubled, 2.0 * c)
    with pytest.raises(cm.ShapeError, match="out_axes=None"):
        cm.vmap(lambda x: np.sum(x), out_axes=None)(X)

    def branchy(x, c):  # control flow on a value: vmap runs it example by example
        return (np.sum(x) if x[0] > 1 else -np.sum(x)), 3.0 * c
    signed, tripled = cm.vmap(branchy, in_axes=(0, None), out_axes=(0, None))(X, c)
    np.testing.assert_allclose(signed, [-1.0, 5.0, 9.0])
    np.testing.assert_allclose(tripled, 3.0 * c)
    with pytest.raises(cm.ShapeError, match="out_axes=None"):
        cm.vmap(lambda x: np.sum(x) if x[0] > 1 else -np.sum(x), out_axes=None)(X)


def test_per_example_gradients_are_plain_arrays_when_the_replay_closes_over_the_inner_graph():
    """sum(x · w · w): the backward pass multiplies by a node of the inner grad's graph (g · w); the result is a
    plain array at the top level, and stays a Tensor on the graph of a user's leaf."""
    X, w = np.arange(6.0).reshape(3, 2), np.array([0.5, -1.5])
    per_example = cm.vmap(cm.grad(lambda w, x: np.sum(x * w * w)), in_axes=(None, 0))(w, X)
    assert type(per_example) is np.ndarray
    np.testing.assert_allclose(per_example, 2 * X * w)
    leaf = cm.Tensor(w, requires_grad=True)
    values = cm.vmap(lambda w, x: np.sum(x * w * w), in_axes=(None, 0))(leaf, X)
    np.sum(values).backward()
    np.testing.assert_allclose(leaf.grad, 2 * X.sum(axis=0) * w)


REPLAYED = {  # rules with a shortcut for the usual values must not branch on a recorded one
    "max-shifted log-sum-exp": lambda z: np.max(z) + np.log(np.sum(np.exp(z - np.max(z)))) - z[0],
    "prod": lambda z: np.prod(z),
    "cumprod": lambda z: np.sum(np.cumprod(z) * z),
    "nansum": lambda z: np.nansum(z ** 2),
    "nanmean": lambda z: np.nanmean(np.sin(z)),
    "nanmax": lambda z: np.nanmax(z * z),
    "nancumprod": lambda z: np.sum(np.nancumprod(z)),
}


@pytest.mark.parametrize("name", REPLAYED)
def test_per_example_gradients_through_rules_with_shortcuts_are_replayed(name, monkeypatch):
    """A rule that branches on a value (the max VJP's no-tie shortcut did, prod's no-zero one, the NaN masks)
    makes vmap fall back to running f example by example: right, but B times the work. Each is one replay here,
    with ties, zeros and NaNs in some examples so that both of a rule's paths are needed."""
    from calcml.autodiff.batching import transform

    def no_fallback(*args):
        raise AssertionError("vmap ran f example by example")
    monkeypatch.setattr(transform, "_example_by_example", no_fallback)
    f = REPLAYED[name]
    Z = np.random.default_rng(3).normal(size=(6, 4))
    Z[1, 2] = Z[1, 0] = Z[1].max() + 1.0  # a tie for the max
    Z[2, 3] = 0.0  # a zero for the products
    if name.startswith("nan"):
        Z[3, 1] = np.nan
    per_example = cm.vmap(cm.grad(f))(Z)
    expected = np.stack([cm.grad(f)(z) for z in Z])
    np.testing.assert_allclose(per_example, expected, rtol=1e-12, atol=1e-15)


ONE_REPLAY = {  # name: (f of one example, the example's shape); each runs as one replay, no step example by example
    "cumsum, axis=None": (lambda x: np.cumsum(x) * x.ravel(), (2, 3)),
    "cumprod, axis=None": (lambda x: np.cumprod(x), (2, 2)),
    "argmax, axis=None": (lambda x: x.ravel()[np.argmax(x)] * x, (3, 2)),
    "softmax, axis=None": (lambda x: cm.softmax(x, axis=None), (2, 3)),
    "flip, axis=None": (lambda x: np.flip(x) * x, (2, 3)),
    "reshape, order=F": (lambda x: np.reshape(x, (3, -1), order="F") ** 2, (2, 3, 2)),
    "ravel, order=F": (lambda x: np.ravel(x, order="F") * np.arange(6.0), (3, 2)),
    "concatenate with a constant": (lambda x: np.concatenate([x, np.ones((2, 1)), x ** 2], axis=-1), (2, 3)),
    "concatenate, axis=None": (lambda x: np.concatenate([x, x[0]], axis=None), (2, 3)),
    "hstack, vstack": (lambda x: np.vstack([np.hstack([x, x]), 2 * np.hstack([x, x])]), (2, 3)),
    "stack, axis=-1": (lambda x: np.stack([x, np.zeros(3), np.sin(x)], axis=-1), (3,)),
    "stack, axis=1": (lambda x: np.stack([x, x * x], axis=1), (2, 3)),
    "pad": (lambda x: np.pad(x, ((1, 0), (2, 1))) * 2.0, (2, 3)),
    "pad, traced fill": (lambda x: np.pad(x, 1, constant_values=x[0, 0]), (2, 2)),
    "tile, more reps than axes": (lambda x: np.tile(x, (2, 1, 3)), (2, 3)),
    "tile, fewer reps": (lambda x: np.tile(x, 2)[:, 1:3] * x, (3, 2)),
    "round, zeros_like": (lambda x: x * np.round(x * 3) + np.zeros_like(x), (4,)),
    "digitize, isin, isclose, count_nonzero": (
        lambda x: x * np.digitize(x, [-0.5, 0.0, 0.5]) + x * np.isin(np.round(x), [0.0, 1.0])
        + x * np.isclose(x, 0.1, atol=0.3) + np.count_nonzero(x > 0) * x, (5,)),
}


@pytest.mark.parametrize("name", ONE_REPLAY)
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(size=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_joins_shapes_and_piecewise_functions_run_as_one_replay(name, size, seed, monkeypatch):
    """Each operation has a batching rule: no example-by-example step (a per-op loop or a whole-f fallback)
    — and the values, the per-example gradients and the gradient through the replay are the loop's."""
    from calcml.autodiff.batching import rules, transform

    def example_by_example(*args, **kwargs):
        raise AssertionError(f"{name}: a step ran example by example")
    monkeypatch.setattr(transform, "_example_by_example", example_by_example)
    monkeypatch.setattr(rules, "loop", example_by_example)
    f, shape = ONE_REPLAY[name]
    X = np.random.default_rng(seed).normal(size=(size, *shape))
    _assert_equal_to_loop(cm.vmap(f)(X), [f(x) for x in X])
    per_example = cm.grad(lambda x: np.sum(np.sin(f(x))))
    _assert_equal_to_loop(cm.vmap(per_example)(X), [per_example(x) for x in X])
    through_replay = cm.grad(lambda X: np.sum(np.sin(cm.vmap(f)(X))))(X)
    np.testing.assert_allclose(through_replay, np.stack([per_example(x) for x in X]), rtol=1e-10, atol=1e-12)


def _batch_ending_with_its_first_example(rows: int = 5, cols: int = 3, seed: int = 4) -> np.ndarray:
    """The last row repeats the first (a batch padded with its first example): a check of the last example
    alone cannot see a constant of example 0 baked into the replay."""
    X = np.random.default_rng(seed).normal(size=(rows, cols))
    X[-1] = X[0]
    return X


def test_stop_gradient_under_vmap_is_each_examples_own_constant():
    """cm.stop_gradient(x) was a fresh constant the trace did not see: every example got example 0's."""
    X = _batch_ending_with_its_first_example()
    f = lambda x: np.sum(x * cm.stop_gradient(x) ** 2)
    np.testing.assert_allclose(cm.vmap(cm.grad(f))(X), X ** 2, rtol=1e-12)
    np.testing.assert_allclose(cm.vmap(f)(X), np.sum(X ** 3, axis=1), rtol=1e-12)
    np.testing.assert_allclose(cm.grad(lambda X: np.sum(cm.vmap(f)(X)))(X), X ** 2, rtol=1e-12)  # stop stays stopped
    np.testing.assert_allclose(cm.vmap(cm.vmap(cm.grad(f)))(np.stack([X, 2 * X])), np.stack([X ** 2, 4 * X ** 2]))


def test_vmap_over_the_cotangents_of_a_pullback_gives_the_rows_of_the_jacobian():
    """vmap(u ↦ uᵀJ)(U) = U J: the cotangent was read as a plain array, so every row was the first's."""
    A = np.random.default_rng(5).normal(size=(3, 4))
    g = lambda x: np.tanh(A @ x) * x[0]
    x = np.array([0.3, -1.2, 0.8, 0.5])
    U = _batch_ending_with_its_first_example(4, 3)
    J = cm.jacobian(g)(x)
    np.testing.assert_allclose(cm.vmap(lambda u: cm.vjp(g, x)[1](u)[0])(U), U @ J, rtol=1e-12)


def test_the_check_of_the_replay_takes_an_example_unlike_the_first():
    """A constant read with np.array(x.value) is invisible to the trace; the replay is checked against f run on
    an example whose inputs differ from example 0's, so a repeated first row at the end does not hide it."""
    X = _batch_ending_with_its_first_example()
    f = lambda x: x * np.array(x.value).sum()
    np.testing.assert_allclose(cm.vmap(f)(X), X * X.sum(axis=1, keepdims=True), rtol=1e-12)
    same = np.repeat(X[:1], 4, axis=0)  # every example the same: example 0's answer is every example's
    np.testing.assert_allclose(cm.vmap(f)(same), same * same.sum(axis=1, keepdims=True), rtol=1e-12)


def test_nested_vmaps_replay_without_running_an_example_at_a_time(monkeypatch):
    """vmap(vmap(dist, (None, 0)), (0, None)): the outer example is a constant of the inner vmap. The inner
    trace took it for a value read from its own example (and the outer then saw a plain result), so both
    levels ran example by example."""
    from calcml.autodiff.batching import transform

    def example_by_example(*args, **kwargs):
        raise AssertionError("a vmap ran example by example")
    monkeypatch.setattr(transform, "_example_by_example", example_by_example)
    rng = np.random.default_rng(6)
    A, B = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    dist = lambda a, b: np.sqrt(np.sum((a - b * np.sum(a)) ** 2))
    pairwise = lambda A, B: cm.vmap(cm.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(A, B)
    expected = np.array([[dist(a, b) for b in B] for a in A])
    np.testing.assert_allclose(pairwise(A, B), expected, rtol=1e-12)
    loop_gradient = cm.grad(lambda A: sum(dist(A[i], b) for i in range(4) for b in B))(A)
    np.testing.assert_allclose(cm.grad(lambda A: np.sum(pairwise(A, B)))(A), loop_gradient, rtol=1e-12)


K_PER_EXAMPLE = np.array([3, 0, 2, 1, 3])         # one class per example
ROWS_PER_EXAMPLE = np.array([[1, 0], [2, 2], [0, 1], [1, 1], [2, 0]])  # two rows per example
INDEX_IDIOMS = {  # name: f(z, k, rows) for one example z of shape (3, 4, 2); k and rows are the example's
    "z[rows, k]": lambda z, k, rows: z[rows, k],
    "z[:, k]": lambda z, k, rows: z[:, k],
    "z[..., k]": lambda z, k, rows: z[..., k % 2],
    "z[rows, :, k % 2]": lambda z, k, rows: z[rows, :, k % 2],
    "z[1, :, rows]": lambda z, k, rows: z[1, :, rows % 2],
    "z[0, k]": lambda z, k, rows: z[0, k],
    "z[:, [[0, 1], [2, 3]]]": lambda z, k, rows: z[:, np.array([[0, 1], [2, 3]])],
    "z[:, rows[:, None], 1]": lambda z, k, rows: z[:, rows[:, None], 1],
    "z[constant mask]": lambda z, k, rows: z[np.array([True, False, True])],
    "z[:, -1, rows]": lambda z, k, rows: z[:, -1, rows % 2],
    "np.take(z, rows, axis=1)": lambda z, k, rows: np.take(z, rows, axis=1),
    "np.take_along_axis": lambda z, k, rows: np.take_along_axis(z[:, :2, 0], rows[None, :] % 3, axis=0),
}


@pytest.mark.parametrize("name", INDEX_IDIOMS)
def test_indexing_with_per_example_and_constant_indices_runs_as_one_replay(name, monkeypatch):
    """x[index] with slices, ints, constant and per-example integer arrays in any order (NumPy moves the
    picked axes to the front when they are not adjacent), and a constant indexed per example: one replay,
    values and per-example gradients (through the scatter-add) those of the loop."""
    from calcml.autodiff.batching import rules, transform

    def example_by_example(*args, **kwargs):
        raise AssertionError(f"{name}: a step ran example by example")
    monkeypatch.setattr(transform, "_example_by_example", example_by_example)
    monkeypatch.setattr(rules, "loop", example_by_example)
    f = INDEX_IDIOMS[name]
    Z = np.random.default_rng(7).normal(size=(5, 3, 4, 2))
    args = (Z, K_PER_EXAMPLE, ROWS_PER_EXAMPLE)
    looped = [f(*example) for example in zip(*args)]
    _assert_equal_to_loop(cm.vmap(f)(*args), looped)
    per_example = cm.grad(lambda z, k, rows: np.sum(np.sin(f(z, k, rows))))
    _assert_equal_to_loop(cm.vmap(per_example)(*args), [per_example(*example) for example in zip(*args)])


def test_per_example_gradient_of_an_embedding_table(monkeypatch):
    """loss(W, y) = Σ sin(W[y] · W[:, y[0]]ᵀ): W is shared, y per example; a Tensor indexed by a recorded index
    is one replay, and each example's gradient of W is its own scatter."""
    from calcml.autodiff.batching import transform
    W = np.random.default_rng(8).normal(size=(6, 3))
    labels = np.array([[0, 5], [2, 2], [5, 1]])
    loss = lambda W, y: np.sum(np.sin(W[y] * W[:3, y[0] % 3]))
    expected = np.stack([cm.grad(loss)(W, y) for y in labels])
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    np.testing.assert_allclose(cm.vmap(cm.grad(loss), in_axes=(None, 0))(W, labels), expected, rtol=1e-12)


@pytest.mark.parametrize("f", [
    lambda z, k: np.eye(4)[k] * z[0],                                # one-hot rows of a NumPy constant
    lambda z, k: np.arange(12.0).reshape(3, 4)[:, k] * z[:, 0],
])
def test_a_numpy_constant_indexed_per_example_is_each_examples_own(f):
    """NumPy's own indexing reads the recorded index as a plain number, so vmap runs such an f example by
    example: slower, and each example's own."""
    Z, k = np.random.default_rng(9).normal(size=(4, 3, 4)), np.array([3, 0, 3, 1])
    _assert_equal_to_loop(cm.vmap(f)(Z, k), [f(z, y) for z, y in zip(Z, k)])


def test_a_vmapped_loss_inside_hvp_is_one_replay(monkeypatch):
    """hvp(mean ∘ vmap(loss)): forward mode runs through the trace. The max's tie mask and the tangent of z[y]
    read the example's values while tracing — reads the replay repeats per example, so not a taint (vmap ran
    f example by example)."""
    import torch

    from calcml.autodiff.batching import transform
    rng = np.random.default_rng(10)
    X, y, W, V = rng.normal(size=(6, 3)), np.array([0, 2, 1, 1, 0, 2]), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    loss = lambda W, x, label: np.max(x @ W) + np.log(np.sum(np.exp(x @ W - np.max(x @ W)))) - (x @ W)[label]
    batch = lambda W: np.mean(cm.vmap(loss, in_axes=(None, 0, 0))(W, X, y))
    t_X, t_y = torch.tensor(X), torch.tensor(y)
    t_batch = lambda W: torch.mean(torch.logsumexp(t_X @ W, 1) - (t_X @ W)[torch.arange(6), t_y])
    expected = torch.func.jvp(torch.func.grad(t_batch), (torch.tensor(W),), (torch.tensor(V),))[1].numpy()
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    np.testing.assert_allclose(cm.hvp(batch, W, V), expected, rtol=1e-10, atol=1e-12)


def test_argmax_with_keepdims_over_all_axes_keeps_one_axis_per_axis_of_the_example(monkeypatch):
    """argmax(x, keepdims=True) of a 2-D example is (1, 1): the flattened batch's (B, 1) must become (B, 1, 1),
    or a later reduction over the example's second axis would address a missing one."""
    from calcml.autodiff.batching import transform
    X = np.random.default_rng(14).normal(size=(4, 2, 3))
    f = lambda x: np.sum(np.argmax(x, keepdims=True) * 1.0, axis=1) + x[:1, :1]
    expected = np.stack([f(x) for x in X])
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    np.testing.assert_allclose(cm.vmap(f)(X), expected)


def test_a_function_that_calls_backward_itself_can_be_vmapped():
    """The replay's check ran f with recording off, so f's own loss.backward() found nothing to differentiate
    and vmap raised ValueError for code that runs fine example by example."""
    x0 = np.array([0.3, -0.2])

    def input_gradient(u):
        x = cm.Tensor(x0, requires_grad=True)
        (np.sin(x) * 2).backward(gradient=u, create_graph=True)
        return x.grad

    U = np.random.default_rng(15).normal(size=(3, 2))
    gradients = cm.vmap(input_gradient)(U)  # on the graph of f's own leaf x (create_graph=True): a Tensor
    np.testing.assert_allclose(gradients.value, U * 2 * np.cos(x0), rtol=1e-12)
