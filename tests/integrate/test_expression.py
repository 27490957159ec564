"""quad_expression: what `calcml integrate ... --numeric` computes."""

import math

import pytest

from calcml.integrate import quad_expression


def test_formula_with_infinite_and_symbolic_limits():
    assert float(quad_expression("exp(-x^2)", "x", "-oo", "oo")) == pytest.approx(math.sqrt(math.pi), rel=1e-12)
    assert float(quad_expression("sin(t)", None, "0", "pi")) == pytest.approx(2.0, rel=1e-13)


def test_other_symbols_need_values():
    with pytest.raises(ValueError, match="a have no value"):
        quad_expression("a*x", "x", "0", "1")
