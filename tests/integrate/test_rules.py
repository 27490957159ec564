"""Teaching rules: exact where they must be, and measured convergence orders 1, 1, 2, 2, 4, 2m."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calcml.integrate import (
    convergence_table,
    gauss_legendre,
    left_riemann,
    midpoint,
    right_riemann,
    simpson,
    trapezoid,
)
from calcml.integrate.extrapolation import epsilon_table, extrapolate


@pytest.mark.parametrize("f, a, b, exact", [(np.exp, 0, 1, math.e - 1), (np.cos, 0, 2, math.sin(2)),
                                            (lambda x: 1 / (1 + x), 0, 1, math.log(2))])
def test_measured_orders(f, a, b, exact):
    orders = convergence_table(f, a, b, exact, panels=(4, 8, 16, 32), gauss_points=(2, 3)).orders
    expected = {"left Riemann": 1, "right Riemann": 1, "midpoint": 2, "trapezoid": 2, "Simpson": 4,
                "Gauss–Legendre 2": 4, "Gauss–Legendre 3": 6}
    for name, order in expected.items():
        assert abs(orders[name] - order) < 0.15, (name, orders[name])


def test_rules_are_exact_on_the_polynomials_they_should_be():
    assert left_riemann(lambda x: 0 * x + 3, 0, 2, 5) == pytest.approx(6)
    assert right_riemann(lambda x: 0 * x + 3, 0, 2, 5) == pytest.approx(6)
    assert midpoint(lambda x: 2 * x + 1, 0, 1, 1) == pytest.approx(2)
    assert trapezoid(lambda x: 2 * x + 1, 0, 1, 1) == pytest.approx(2)
    assert simpson(lambda x: x ** 3, 0, 1, 2) == pytest.approx(0.25)
    assert gauss_legendre(lambda x: x ** 5, 0, 1, 1, points=3) == pytest.approx(1 / 6)
    assert abs(simpson(lambda x: x ** 4, 0, 1, 2) - 0.2) > 1e-3  # degree 4: not exact


def test_simpson_needs_an_even_panel_count():
    with pytest.raises(ValueError, match="even number"):
        simpson(np.exp, 0, 1, 3)


def test_table_prints_columns_and_orders():
    text = str(convergence_table(np.exp, 0, 1, math.e - 1))
    assert "measured order" in text and "Simpson" in text


def test_epsilon_algorithm_sums_geometric_and_log_tails():
    geometric = [2 - 2 * 0.5 ** (k / 2) for k in range(8)]  # ∫_{2^-k}^1 x^-1/2
    assert abs(extrapolate(geometric).value - 2) < 1e-13
    log_tail = [-1 - 0.5 ** k * (math.log(0.5 ** k) - 1) for k in range(12)]  # ∫_{2^-k}^1 log x
    result = extrapolate(log_tail)
    assert abs(result.value + 1) < 1e-12 and abs(result.value + 1) <= result.error
    alternating = np.cumsum([(-1) ** k / (k + 1) for k in range(14)])
    result = extrapolate(alternating)
    assert abs(result.value - math.log(2)) <= result.error < 1e-6


def test_epsilon_table_first_odd_column_is_reciprocal_differences():
    table = epsilon_table([1.0, 3.0, 4.0])
    assert table[1] == [0.5, 1.0]
