"""Limits with direction; continuity and differentiability (ReLU at 0, sigmoid everywhere)."""

import sympy as sp

from calcml.symbolic import is_continuous, is_differentiable, limit


def test_two_sided_and_one_sided_limits():
    assert limit("sin(x)/x", "x", 0).result == 1
    jump = limit("abs(x)/x", "x", 0)
    assert not jump.exists and (jump.left, jump.right) == (-1, 1)
    assert "does not exist" in jump.text()
    assert limit("1/x", "x", 0, "+").result == sp.oo
    assert limit("1/x", "x", 0, "left").result == -sp.oo
    assert limit("(1 + 1/x)^x", "x", "oo").result == sp.E
    assert limit("sigmoid(x)", "x", "-oo").result == 0


def test_relu_is_continuous_but_not_differentiable_at_zero():
    assert is_continuous("relu(x)", "x", 0)
    check = is_differentiable("relu(x)", "x", 0)
    assert not check and "left is 0" in check.reason and "right is 1" in check.reason
    assert is_differentiable("relu(x)", "x", 1)


def test_over_the_whole_line():
    assert is_differentiable("sigmoid(x)", "x")
    assert is_differentiable("x*abs(x)", "x")
    relu = is_differentiable("relu(x)", "x")
    assert not relu and relu.failures == (0,)
    assert not is_continuous("1/x", "x")
    assert is_continuous("abs(x)", "x")
    assert not is_differentiable("max(0, x - 1)", "x").result


def test_one_sided_limits_at_a_piecewise_breakpoint():
    import sympy as sp

    import calcml as cm

    relu_slope = cm.symbolic.limit("relu(x)/x", "x", 0)
    assert (relu_slope.left, relu_slope.right, relu_slope.exists) == (0, 1, False)
    x = sp.Symbol("x", real=True)
    step = sp.Piecewise((0, x < 0), (1, True))
    assert cm.symbolic.limit(step, "x", 0, "-").result == 0
    assert cm.symbolic.limit(step, "x", 0, "+").result == 1
    assert not cm.symbolic.is_continuous(step, "x", 0)
