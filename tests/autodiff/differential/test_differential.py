"""The differential harness: every supported NumPy function, against PyTorch or finite differences.

Every ``Case`` listed in a ``cases_*.py`` file of this folder is run with hypothesis-drawn shapes and
float64 arguments:

  reverse       cm.grad of S(x) = Σ_k Σ u_k ⊙ fn(x)_k (a fixed random u_k per output) with respect to
                every argument, and cm.vjp with the cotangents u_k, against torch (float64) or fourth-order
                central differences of the plain-NumPy S;
  forward       cm.jvp with random tangents against torch.func.jvp or central differences;
  second order  H v by forward-over-reverse (cm.hvp, jvp of grad) and by reverse-over-reverse (grad of
                ⟨grad, v⟩) against torch.func.jvp(torch.func.grad) or differences of gradients;
  float32       value and gradient in float32: float32 in, float32 out, close to the float64 answer;
  0-d, scalars  0-d arrays and Python floats, wherever NumPy itself accepts 0-d inputs for the case.

Then coverage: every name in ``cm.supported_functions()`` is some case's ``name``.

The references never go through calcml except one: without a PyTorch twin, second derivatives are
checked against central differences of calcml's own gradient, which the reverse test checks first.
"""

from __future__ import annotations

import importlib
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, assume, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import calcml as cm
from tests.autodiff.differential.spec import Case

HERE = Path(__file__).parent
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # torch.func
STEP = np.finfo(np.float64).eps ** (1 / 5)  # the balancing step of a fourth-order central difference


# ---- collecting the cases -----------------------------------------------------------------------
def _load_cases() -> tuple[list[tuple[str, Case]], dict[str, str]]:
    """Every ``CASES`` entry of every ``cases_*.py`` here, and the import errors of files that failed."""
    cases: list[tuple[str, Case]] = []
    errors: dict[str, str] = {}
    for path in sorted(HERE.glob("cases_*.py")):
        try:
            module = importlib.import_module(f"tests.autodiff.differential.{path.stem}")
            entries = list(module.CASES)
        except Exception:  # reported by test_case_files_import, not at collection, so the rest still runs
            errors[path.name] = traceback.format_exc()
            continue
        for entry in entries:
            if isinstance(entry, Case):
                cases.append((path.stem, entry))
            else:
                errors[path.name] = f"CASES holds a {type(entry).__name__}, not a spec.Case: {entry!r}"
    return cases, errors


LOADED, LOAD_ERRORS = _load_cases()
CASES = [case for _, case in LOADED]


def _case_ids(cases: Sequence[Case]) -> list[str]:
    """The case's name, numbered when several cases share it: ``numpy.sum``, ``numpy.sum-1``, ..."""
    seen: Counter = Counter()
    ids = []
    for case in cases:
        k = seen[case.name]
        seen[case.name] += 1
        ids.append(case.name if k == 0 else f"{case.name}-{k}")
    return ids


IDS = _case_ids(CASES)
each_case = pytest.mark.parametrize("case", CASES, ids=IDS)


def examples(n: int) -> settings:
    """Few, reproducible examples (the same draws on every machine), no shrinking (it would cost minutes)."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))


# ---- outputs, weights and objectives ------------------------------------------------------------
def as_list(out: Any) -> list:
    """A function's outputs as a list: a tuple (or namedtuple, list) element by element, else one output."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def in_structure_of(out: Any, values: Sequence[Any]) -> Any:
    """``values`` arranged like the outputs ``out``: a namedtuple, tuple or list (cotangents must match)."""
    if hasattr(out, "_fields"):
        return type(out)(*values)
    return type(out)(values)


def is_float(array: Any) -> bool:
    return np.asarray(array).dtype.kind == "f"


def draw_example(case: Case, data: st.DataObject) -> tuple[tuple, np.random.Generator]:
    shapes = data.draw(case.shape_strategy(), label="shapes")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return tuple(shapes), np.random.default_rng(seed)


def reference_outputs(case: Case, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``fn`` on plain float64 arrays: what NumPy itself computes."""
    return [np.asarray(o) for o in as_list(case.fn(*[np.array(a, dtype=np.float64) for a in args]))]


def output_weights(outputs: Sequence[np.ndarray], dtype=np.float64) -> list[np.ndarray]:
    """A fixed random u_k of each output's shape; zero for outputs that are not floating (indices, counts)."""
    rng = np.random.default_rng(7)
    return [rng.standard_normal(np.shape(o)).astype(dtype) if is_float(o) else np.zeros(np.shape(o), dtype)
            for o in outputs]


def weighted_sum(fn: Callable, weights: Sequence[np.ndarray]) -> Callable:
    """S(x) = Σ_k Σ u_k ⊙ fn(x)_k, written with NumPy calls (so it works on arrays and on Tensors)."""

    def objective(*xs):
        outs = as_list(fn(*xs))
        assert len(outs) == len(weights), f"fn returned {len(outs)} outputs, expected {len(weights)}"
        total = None
        for u, o in zip(weights, outs):
            if not u.any():
                continue
            term = np.sum(u * o)
            total = term if total is None else total + term
        return total if total is not None else np.sum(weights[0] * 0.0)

    return objective


def torch_weighted_sum(fn: Callable, weights: Sequence[np.ndarray]) -> Callable:
    def objective(*xs):
        total = None
        for u, o in zip(weights, as_list(fn(*xs))):
            if not u.any():
                continue
            term = (torch.as_tensor(u, dtype=o.dtype) * o).sum()
            total = term if total is None else total + term
        return total if total is not None else (xs[0] * 0.0).sum()

    return objective


def to_torch(args: Sequence[np.ndarray]) -> list[torch.Tensor]:
    return [torch.tensor(np.asarray(a, dtype=np.float64)) for a in args]


def to_numpy(values: Sequence[torch.Tensor | None], like: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros(np.shape(a)) if v is None else v.detach().numpy().reshape(np.shape(a))
            for v, a in zip(values, like)]


# ---- references ---------------------------------------------------------------------------------
def central_difference(f: Callable, h: float) -> Any:
    """(−f(2h) + 8 f(h) − 8 f(−h) + f(−2h)) / 12h: error O(h⁴)."""
    return (-np.asarray(f(2 * h)) + 8 * np.asarray(f(h)) - 8 * np.asarray(f(-h)) + np.asarray(f(-2 * h))) / (12 * h)


def numeric_gradient(objective: Callable, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """∂S/∂x by central differences, element by element, on plain float64 arrays."""
    args = [np.array(a, dtype=np.float64) for a in args]
    grads = []
    for k, x in enumerate(args):
        g = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            def shifted(delta, k=k, index=index):
                moved = [a.copy() for a in args]
                moved[k][index] += delta
                return float(objective(*moved))

            g[index] = central_difference(shifted, STEP * max(1.0, abs(x[index])))
        grads.append(g)
    return grads


def numeric_directional(f: Callable, args: Sequence[np.ndarray], directions: Sequence[np.ndarray]) -> list:
    """d/dh f(x + h v) at h = 0 by central differences, for each output of f (a list of arrays)."""
    args = [np.array(a, dtype=np.float64) for a in args]
    scale = max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in args])
    h = STEP * scale

    def along(delta):
        return [np.asarray(o, dtype=np.float64) for o in as_list(f(*[a + delta * v for a, v in zip(args, directions)]))]

    points = {c: along(c * h) for c in (2, 1, -1, -2)}
    return [(-points[2][i] + 8 * points[1][i] - 8 * points[-1][i] + points[-2][i]) / (12 * h)
            for i in range(len(points[1]))]


def reference_gradient(case: Case, args: Sequence[np.ndarray], weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    """∂S/∂x_k for every argument: PyTorch's reverse mode (float64) or central differences."""
    if case.torch_fn is None:
        return numeric_gradient(weighted_sum(case.fn, weights), args)
    tensors = [t.requires_grad_(True) for t in to_torch(args)]
    total = torch_weighted_sum(case.torch_fn, weights)(*tensors)
    if not total.requires_grad:
        return [np.zeros(np.shape(a)) for a in args]
    return to_numpy(torch.autograd.grad(total, tensors, allow_unused=True), args)


def reference_jvp(case: Case, args: Sequence[np.ndarray], tangents: Sequence[np.ndarray]) -> list[np.ndarray]:
    """J v for each output: torch.func.jvp, or central differences where PyTorch has no forward rule."""
    if case.torch_fn is not None:
        try:
            _, out_tangents = torch.func.jvp(case.torch_fn, tuple(to_torch(args)), tuple(to_torch(tangents)))
            return [t.detach().numpy() for t in as_list(out_tangents)]
        except (NotImplementedError, RuntimeError):  # PyTorch lacks a forward rule: differences still judge
            pass
    return numeric_directional(case.fn, args, tangents)


def reference_hvp(case: Case, args: Sequence[np.ndarray], weights: Sequence[np.ndarray],
                  directions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """H v of S: torch.func.jvp(torch.func.grad(S)) or central differences of the gradient along v."""
    nums = tuple(range(case.arity))
    if case.torch_fn is not None:
        objective = torch_weighted_sum(case.torch_fn, weights)
        try:
            _, hv = torch.func.jvp(torch.func.grad(objective, argnums=nums), tuple(to_torch(args)),
                                   tuple(to_torch(directions)))
            return to_numpy(hv, args)
        except (NotImplementedError, RuntimeError):
            def torch_gradient(*xs):
                return reference_gradient(case, xs, weights)

            return numeric_directional(torch_gradient, args, directions)
    gradient = cm.grad(weighted_sum(case.fn, weights), argnums=nums)
    return numeric_directional(gradient, args, directions)


# ---- comparison ---------------------------------------------------------------------------------
def assert_close(actual: Any, expected: Any, rtol: float, what: str) -> None:
    """Elementwise |actual − expected| ≤ rtol·|expected| + rtol·max(1, max|expected|), shapes equal."""
    expected = np.asarray(expected, dtype=np.float64)
    assert np.shape(actual) == expected.shape, f"{what}: shape {np.shape(actual)}, expected {expected.shape}"
    actual = np.asarray(actual, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def assert_outputs_close(actual: Any, expected: Sequence[np.ndarray], single: bool, rtol: float, what: str) -> None:
    """``actual`` has the structure of the function's output (one array, or a tuple of them)."""
    if single:
        assert not isinstance(actual, (tuple, list)), f"{what}: one output expected, got a {type(actual).__name__}"
        assert_close(actual, expected[0], rtol, what)
        return
    assert isinstance(actual, (tuple, list)), f"{what}: a tuple of {len(expected)} expected, got {type(actual)}"
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        if is_float(e):
            assert_close(a, e, rtol, f"{what}, output {i}")


def usable(values: Sequence[np.ndarray]) -> bool:
    """All floating outputs finite (a drawn point outside the function's domain is not a test)."""
    return all(np.all(np.isfinite(v)) for v in values if is_float(v))


def admits_zero_dim(case: Case) -> bool:
    """Whether the case's shape strategy can draw 0-d shapes for every argument."""
    try:
        find(case.shape_strategy(), lambda shapes: all(tuple(s) == () for s in shapes),
             settings=settings(max_examples=200, database=None, derandomize=True,
                               suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return False
    return True


def single_output(case: Case, args: Sequence[np.ndarray]) -> bool:
    return not isinstance(case.fn(*[np.array(a, dtype=np.float64) for a in args]), (tuple, list))


# ---- the tests ----------------------------------------------------------------------------------
def test_case_files_import():
    """Every cases_*.py imports and lists spec.Case objects (a broken file must not hide its cases)."""
    assert not LOAD_ERRORS, "\n\n".join(f"{name}:\n{error}" for name, error in LOAD_ERRORS.items())
    assert CASES, "no cases found in tests/autodiff/differential/cases_*.py"


def test_every_supported_function_has_a_case():
    covered = {case.name for case in CASES}
    missing = sorted(set(cm.supported_functions()) - covered)
    assert not missing, f"{len(missing)} supported function(s) have no differential case: {', '.join(missing)}"


def test_every_case_names_a_supported_function():
    """A case under a misspelled or unsupported name would cover nothing."""
    supported = set(cm.supported_functions())
    unknown = sorted({case.name for case in CASES} - supported)
    assert not unknown, f"cases name functions that cm.supported_functions() does not list: {', '.join(unknown)}"


@each_case
@examples(10)
@given(data=st.data())
def test_reverse_mode(case: Case, data: st.DataObject):
    shapes, rng = draw_example(case, data)
    args = case.arguments(rng, shapes)
    outputs = reference_outputs(case, args)
    assume(usable(outputs))  # a draw outside the function's domain is not an example (all rejected: an error)
    weights = output_weights(outputs)
    nums = tuple(range(case.arity))
    expected_value = weighted_sum(case.fn, weights)(*args)
    if case.torch_fn is not None:  # the twin computes the same function, or the comparison means nothing
        theirs = [o.numpy() for o in as_list(case.torch_fn(*to_torch(args)))]
        for i, (ours, t) in enumerate(zip(outputs, theirs)):
            if is_float(ours):
                assert_close(t, ours, 1e-9, f"torch_fn disagrees with fn on the value of output {i}")
    expected = reference_gradient(case, args, weights)

    value, grads = cm.value_and_grad(weighted_sum(case.fn, weights), argnums=nums)(*args)
    assert_close(value, expected_value, 1e-10, f"{case.name}: value under cm.value_and_grad")
    for k, (g, e) in enumerate(zip(grads, expected)):
        assert_close(g, e, case.rtol, f"{case.name}: cm.grad w.r.t. argument {k}, shapes {shapes}")

    out, pullback = cm.vjp(case.fn, *args)
    single = len(outputs) == 1 and single_output(case, args)
    assert_outputs_close(out, outputs, single, 1e-10, f"{case.name}: value from cm.vjp")
    cotangent = weights[0] if single else in_structure_of(case.fn(*args), weights)
    for k, (g, e) in enumerate(zip(pullback(cotangent), expected)):
        assert_close(g, e, case.rtol, f"{case.name}: cm.vjp pullback w.r.t. argument {k}, shapes {shapes}")


@each_case
@examples(8)
@given(data=st.data())
def test_forward_mode(case: Case, data: st.DataObject):
    if not case.forward:
        pytest.skip(f"forward mode is off for this case: {case.note}")
    shapes, rng = draw_example(case, data)
    args = case.arguments(rng, shapes)
    outputs = reference_outputs(case, args)
    assume(usable(outputs))  # a draw outside the function's domain is not an example (all rejected: an error)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    expected = reference_jvp(case, args, tangents)
    single = len(outputs) == 1 and single_output(case, args)

    out, out_tangent = cm.jvp(case.fn, tuple(args), tangents)
    assert_outputs_close(out, outputs, single, 1e-10, f"{case.name}: value from cm.jvp")
    assert_outputs_close(out_tangent, expected, single, case.rtol, f"{case.name}: cm.jvp tangent, shapes {shapes}")


@each_case
@examples(6)
@given(data=st.data())
def test_second_order(case: Case, data: st.DataObject):
    if not case.second_order:
        pytest.skip(f"second order is off for this case: {case.note}")
    shapes, rng = draw_example(case, data)
    args = case.arguments(rng, shapes)
    outputs = reference_outputs(case, args)
    assume(usable(outputs))  # a draw outside the function's domain is not an example (all rejected: an error)
    weights = output_weights(outputs)
    directions = [rng.standard_normal(np.shape(a)) for a in args]
    expected = reference_hvp(case, args, weights, directions)
    objective = weighted_sum(case.fn, weights)
    nums = tuple(range(case.arity))

    # forward-over-reverse: the tangent of ∂S/∂x_k along v, one jvp per argument
    if case.arity == 1:
        forward_over_reverse = [cm.hvp(objective, args[0], directions[0])]
    else:
        forward_over_reverse = [cm.jvp(cm.grad(objective, argnums=k), tuple(args), tuple(directions))[1]
                                for k in nums]
    for k, (hv, e) in enumerate(zip(forward_over_reverse, expected)):
        assert_close(hv, e, case.rtol, f"{case.name}: forward-over-reverse H v, argument {k}, shapes {shapes}")

    # reverse-over-reverse: ∇⟨∇S, v⟩
    def directional(*xs):
        grads = cm.grad(objective, argnums=nums)(*xs)
        total = np.sum(grads[0] * directions[0])
        for g, v in zip(grads[1:], directions[1:]):
            total = total + np.sum(g * v)
        return total

    reverse_over_reverse = cm.grad(directional, argnums=nums)(*args)
    for k, (hv, e) in enumerate(zip(reverse_over_reverse, expected)):
        assert_close(hv, e, case.rtol, f"{case.name}: grad of grad H v, argument {k}, shapes {shapes}")


@each_case
@examples(5)
@given(data=st.data())
def test_float32(case: Case, data: st.DataObject):
    shapes, rng = draw_example(case, data)
    args = [a.astype(np.float32) for a in case.arguments(rng, shapes)]
    points = [a.astype(np.float64) for a in args]  # the float32 points, exactly, in float64
    outputs = reference_outputs(case, points)
    assume(usable(outputs))  # a draw outside the function's domain is not an example (all rejected: an error)
    weights = output_weights(outputs, np.float32)
    expected = reference_gradient(case, points, [u.astype(np.float64) for u in weights])
    seen_dtypes = []

    def objective(*xs):
        outs = case.fn(*xs)
        seen_dtypes.extend(np.asarray(o.value if isinstance(o, cm.Tensor) else o).dtype for o in as_list(outs))
        return weighted_sum(lambda *_: outs, weights)()

    value, grads = cm.value_and_grad(objective, argnums=tuple(range(case.arity)))(*args)
    floating = [d for d in seen_dtypes if d.kind == "f"]
    assert all(d == np.float32 for d in floating), f"{case.name}: float32 inputs gave outputs of {floating}"
    assert np.asarray(value).dtype == np.float32, f"{case.name}: the float32 value came out {np.asarray(value).dtype}"
    tolerance = max(2e-3, 100 * case.rtol)
    for k, (g, e) in enumerate(zip(grads, expected)):
        dtype = np.asarray(g).dtype
        assert dtype == np.float32, f"{case.name}: gradient {k} of float32 inputs is {dtype}"
        assert_close(g, e, tolerance, f"{case.name}: float32 gradient w.r.t. argument {k}, shapes {shapes}")


@each_case
def test_zero_dim_and_python_scalars(case: Case):
    if not admits_zero_dim(case):
        pytest.skip("the case's shapes never include 0-d arrays")
    checked = [check_zero_dim_and_python_scalars(case, np.random.default_rng(seed)) for seed in range(3)]
    assert any(checked), f"{case.name}: no 0-d draw fell inside the function's domain"


def check_zero_dim_and_python_scalars(case: Case, rng: np.random.Generator) -> bool:
    """Gradient and jvp at 0-d arrays and at Python floats; False if the drawn point is outside the domain."""
    try:
        args = case.arguments(rng, ((),) * case.arity)
        outputs = reference_outputs(case, args)
    except Exception as error:  # NumPy itself has no 0-d form of this call (an axis, a matrix, ...)
        pytest.skip(f"NumPy has no 0-d form of this case: {type(error).__name__}: {error}")
    if not usable(outputs):
        return False
    weights = output_weights(outputs)
    nums = tuple(range(case.arity))
    expected = reference_gradient(case, args, weights)
    objective = weighted_sum(case.fn, weights)

    for label, call in (("0-d arrays", [np.array(a) for a in args]), ("Python floats", [float(a) for a in args])):
        grads = cm.grad(objective, argnums=nums)(*call)
        for k, (g, e) in enumerate(zip(grads, expected)):
            assert_close(g, e, case.rtol, f"{case.name}: cm.grad at {label}, argument {k}")
            assert np.asarray(g).dtype == np.float64, f"{case.name}: gradient at {label} is {np.asarray(g).dtype}"

    if case.forward:
        tangents = tuple(float(t) for t in rng.standard_normal(case.arity))
        single = len(outputs) == 1 and single_output(case, args)
        expected_tangent = reference_jvp(case, args, [np.array(t) for t in tangents])
        _, out_tangent = cm.jvp(case.fn, tuple(float(a) for a in args), tangents)
        assert_outputs_close(out_tangent, expected_tangent, single, case.rtol,
                             f"{case.name}: cm.jvp at Python floats")
    return True
