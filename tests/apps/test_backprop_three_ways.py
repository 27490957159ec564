"""Backpropagation three ways: the matrix formulas by hand, calcml and PyTorch agree to 1e-10 in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.apps import backprop_three_ways as bp

needs_torch = pytest.mark.skipif(not bp.torch_available(), reason="PyTorch is not installed")


def _problem(inputs, hidden, classes, n, seed):
    return bp.init_params(inputs, hidden, classes, seed), *bp.toy_batch(n, inputs, classes, seed + 1)


def _assert_close(first, second):
    for name in bp.NAMES:
        assert first[name].shape == second[name].shape
        np.testing.assert_allclose(first[name], second[name], rtol=1e-10, atol=1e-12, err_msg=name)


@needs_torch
@settings(max_examples=15, deadline=None)
@given(inputs=st.integers(1, 6), hidden=st.integers(1, 7), classes=st.integers(2, 5), n=st.integers(1, 9),
       seed=st.integers(0, 1000))
def test_hand_calcml_and_torch_agree_to_1e_10(inputs, hidden, classes, n, seed):
    params, X, y = _problem(inputs, hidden, classes, n, seed)
    (l_hand, g_hand), (l_cm, g_cm), (l_torch, g_torch) = (f(params, X, y) for f in (bp.by_hand, bp.by_calcml,
                                                                                    bp.by_torch))
    assert l_hand == pytest.approx(l_cm, rel=1e-12) and l_hand == pytest.approx(l_torch, rel=1e-12)
    _assert_close(g_hand, g_cm)
    _assert_close(g_hand, g_torch)


def test_hand_formulas_match_finite_differences():
    # independent of both engines: the derivation itself is right
    params, X, y = _problem(3, 4, 3, 6, 5)
    _, grads = bp.by_hand(params, X, y)
    for i, name in enumerate(bp.NAMES):
        def f(p, i=i):
            args = [params[n] for n in bp.NAMES]
            args[i] = p
            return bp.loss(*args, X, y)
        numeric = cm.check_grad(f, params[name])
        assert numeric.passed
        np.testing.assert_allclose(grads[name], cm.grad(f)(params[name]), rtol=1e-10)


@needs_torch
def test_three_ways_reports_the_agreement_and_catches_a_wrong_derivation():
    params, X, y = _problem(4, 5, 3, 8, 0)
    result = bp.three_ways(params, X, y)
    assert result.methods == ["by hand", "calcml", "PyTorch"]
    assert result.max_difference < 1e-14
    assert all(np.linalg.norm(result.grads["by hand"][n]) > 1e-2 for n in bp.NAMES)  # nothing trivially 0
    text = str(result)
    assert "by hand − PyTorch" in text and "∂L/∂W1" in text
    # forgetting tanh' (the classic slip) is caught
    wrong = dict(result.grads["by hand"])
    A1 = np.tanh(X @ params["W1"] + params["b1"])
    Y = np.eye(3)[y]
    P = np.exp(A1 @ params["W2"] + params["b2"])
    P /= P.sum(1, keepdims=True)
    wrong["W1"] = X.T @ (((P - Y) / len(X)) @ params["W2"].T)
    slipped = bp.ThreeWays(result.losses, {**result.grads, "by hand": wrong})
    assert slipped.difference("by hand", "calcml", "W1") > 1e-3


def test_without_torch_two_ways_still_compare():
    params, X, y = _problem(2, 3, 2, 4, 3)
    result = bp.three_ways(params, X, y, use_torch=False)
    assert result.methods == ["by hand", "calcml"] and result.max_difference < 1e-14


def test_picture_shows_each_method(tmp_path):
    params, X, y = _problem(4, 5, 3, 8, 0)
    result = bp.three_ways(params, X, y)
    fig = cm.viz.backprop_three_ways(result, tmp_path / "bp.png")
    assert (tmp_path / "bp.png").stat().st_size > 0
    # W1 and W2: one image per method and their difference
    assert sum(len(ax.images) for ax in fig.axes) == 2 * (len(result.methods) + 1)
