"""User code under cm.vmap, jvp, vjp, hvp, jacobian, hessian, stop_gradient, custom rules and checkpoint.

Each case of ``corpus_transforms_user_code.py`` gives calcml's answer and one from elsewhere (a loop of the plain
transform over the examples, a torch.func twin in float64, central differences, a closed form); they must agree
leaf by leaf, in the same structure, and calcml's must be plain NumPy values at the top level. Cases with
``wrong`` are strict xfails: the bug they name makes them fail today, and a fix makes them pass loudly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from tests.autodiff.corpus_transforms_user_code import CASES, REFUSALS, Case, Refusal


def case_params(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.wrong)] if c.wrong else [])
            for c in cases]


def assert_same_tree(ours: Any, truth: Any, rtol: float, where: str, plain: bool) -> None:
    """Leaf by leaf: the same structure (tuple, list, dict keys), shapes and values; plain leaves if ``plain``."""
    if isinstance(truth, dict):
        assert isinstance(ours, dict) and set(ours) == set(truth), (
            f"{where}: {ours!r} is not a dict with keys {set(truth)}")
        for key in truth:
            assert_same_tree(ours[key], truth[key], rtol, f"{where}[{key!r}]", plain)
        return
    if isinstance(truth, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(truth), (
            f"{where}: expected a sequence of {len(truth)}, got {type(ours).__name__} {ours!r}")
        for i, (a, b) in enumerate(zip(ours, truth)):
            assert_same_tree(a, b, rtol, f"{where}[{i}]", plain)
        return
    if plain:
        assert type(ours) is not cm.Tensor, f"{where}: a Tensor leaked out of a top-level transform: {ours!r}"
    assert ours is not None, f"{where}: None where {truth!r} was expected"
    value = np.asarray(ours.value if type(ours) is cm.Tensor else ours, dtype=np.float64)
    expected = np.asarray(truth, dtype=np.float64)
    assert value.shape == expected.shape, f"{where}: shape {value.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=rtol * scale, err_msg=where)


def test_corpus_is_large_names_unique_and_every_area_has_cases():
    names = [c.name for c in CASES] + [r.name for r in REFUSALS]
    assert len(set(names)) == len(names)
    areas = {c.area for c in CASES}
    assert len(CASES) >= 60 and len(areas) == 8
    assert all(sum(c.area == area for c in CASES) >= 4 for area in areas)


@pytest.mark.parametrize("case", case_params(CASES))
def test_case_agrees_with_an_answer_from_elsewhere(case: Case):
    ours, truth = case.build()
    assert_same_tree(ours(), truth(), case.rtol, case.name, case.plain)


@pytest.mark.parametrize("refusal", [
    pytest.param(r, id=r.name, marks=[pytest.mark.xfail(strict=True, reason=r.wrong)] if r.wrong else [])
    for r in REFUSALS])
def test_refusal_is_a_clear_calcml_error(refusal: Refusal):
    if refusal.answer is not None:
        try:
            result = refusal.call()
        except refusal.error as error:
            raised = error
        else:
            assert_same_tree(result, refusal.answer(), 1e-9, refusal.name, True)
            return
    else:
        with pytest.raises(refusal.error) as info:
            result = refusal.call()
            pytest.fail(f"{refusal.name}: expected a refusal, got {result!r}")
        raised = info.value
    message = str(raised)
    for phrase in refusal.says:
        assert phrase in message, f"{refusal.name}: the message does not say {phrase!r}:\n{message}"


def test_a_case_can_fail():
    """The comparison itself is not vacuous: a wrong leaf, a wrong key and a leaked Tensor all fail."""
    with pytest.raises(AssertionError):
        assert_same_tree({"a": np.ones(2)}, {"a": np.array([1.0, 1.1])}, 1e-9, "wrong value", True)
    with pytest.raises(AssertionError):
        assert_same_tree({"a": np.ones(2)}, {"b": np.ones(2)}, 1e-9, "wrong key", True)
    with pytest.raises(AssertionError):
        assert_same_tree(cm.Tensor(np.ones(2)), np.ones(2), 1e-9, "leaked Tensor", True)


# ---- vmap's axes, drawn: any in_axes (negative too) and out_axes mean the same as a loop ----------------------
BODIES = {
    "scaled_tanh_sum": (lambda a, b: np.tanh(a * b) * np.sum(b, axis=-1, keepdims=True)),
    "outer_softmax": (lambda a, b: np.exp(a[:, None] * b[None, :1]) / np.sum(np.exp(a[:, None] * b[None, :1]),
                                                                             axis=0, keepdims=True)),
    "normalized_product": (lambda a, b: (a * b) / np.sqrt(np.sum((a * b) ** 2) + 1.0)),
}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(body=st.sampled_from(sorted(BODIES)), batch=st.integers(1, 4), size=st.integers(1, 3),
       axis_a=st.sampled_from([0, 1, -1, -2]), axis_b=st.sampled_from([0, 1, -1, -2, None]),
       out_axis=st.sampled_from([0, 1, -1]), seed=st.integers(0, 2**16))
def test_vmap_axes_and_per_example_gradients_equal_a_loop(body, batch, size, axis_a, axis_b, out_axis, seed):
    f = BODIES[body]
    rng = np.random.default_rng(seed)
    a = np.moveaxis(rng.standard_normal((batch, size)), 0, axis_a % 2)  # the batch axis where in_axes says
    b = rng.standard_normal(size) if axis_b is None else np.moveaxis(rng.standard_normal((batch, size)), 0, axis_b % 2)
    a_rows = np.moveaxis(a, axis_a % 2, 0)
    b_rows = [b] * batch if axis_b is None else np.moveaxis(b, axis_b % 2, 0)
    expected = np.stack([f(x, y) for x, y in zip(a_rows, b_rows)], axis=out_axis)
    assert_same_tree(cm.vmap(f, in_axes=(axis_a, axis_b), out_axes=out_axis)(a, b), expected, 1e-12, "vmap", True)
    loss = lambda x, y: np.sum(f(x, y) ** 2)
    per_example = cm.vmap(cm.grad(loss, argnums=(0, 1)), in_axes=(axis_a, axis_b))(a, b)
    looped = [cm.grad(loss, argnums=(0, 1))(x, y) for x, y in zip(a_rows, b_rows)]
    assert_same_tree(per_example, (np.stack([g[0] for g in looped]), np.stack([g[1] for g in looped])), 1e-10,
                     "per-example gradients", True)
