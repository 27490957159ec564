"""Taylor polynomials with remainders; sums and products in closed form (Faulhaber)."""

import pytest
import sympy as sp

from calcml.symbolic import product, summation, taylor

x = sp.Symbol("x", real=True)
n = sp.Symbol("n", integer=True, positive=True)


@pytest.mark.parametrize(
    "text, point, order",
    [
        ("exp(x)", 0, 5),
        ("sin(x)", 0, 7),
        ("log(x)", 1, 4),
        ("sigmoid(x)", 0, 5),
        ("tanh(x)", 0, 5),
        ("sqrt(x)", 4, 3),
        ("sin(x)/x", 0, 4),
        ("softplus(x)", 0, 4),
    ],
)
def test_taylor_matches_sympy_series(text, point, order):
    t = taylor(text, "x", point, order)
    f = {"sigmoid(x)": 1 / (1 + sp.exp(-x)), "softplus(x)": sp.log(1 + sp.exp(x))}.get(text)
    f = f if f is not None else t.expr
    reference = sp.series(f, x, point, order + 1).removeO()
    assert sp.expand(t.polynomial - reference) == 0


def test_taylor_remainder_is_the_lagrange_form():
    t = taylor("exp(x)", "x", 0, 3)
    assert t.remainder == sp.exp(t.xi) * x**4 / 24
    assert t.coefficients == (1, 1, sp.Rational(1, 2), sp.Rational(1, 6))
    assert "ξ" in t.text()


@pytest.mark.parametrize(
    "term, closed",
    [
        ("k", n * (n + 1) / 2),
        ("k^2", n * (n + 1) * (2 * n + 1) / 6),
        ("k^3", (n * (n + 1) / 2) ** 2),
        ("k^4", n * (n + 1) * (2 * n + 1) * (3 * n**2 + 3 * n - 1) / 30),
    ],
)
def test_faulhaber_closed_forms(term, closed):
    result = summation(term, ("k", 1, 10))
    assert sp.simplify(result.closed_form - closed) == 0
    assert result.result == closed.subs(n, 10)
    assert "Faulhaber" in result.text()


def test_sums_and_products():
    assert summation("k^2", ("k", 1, 10)).result == 385
    assert summation("1/k^2", ("k", 1, "oo")).result == sp.pi**2 / 6
    assert summation("(1/2)^k", ("k", 0, "oo")).result == 2
    assert summation("2^k", ("k", 0, 10)).result == 2047
    assert product("i", ("i", 1, 5)).result == 120
    assert product("i", ("i", 1, 5)).closed_form == sp.factorial(n)
    assert product("(1 + 1/k)", ("k", 1, 9)).result == 10
