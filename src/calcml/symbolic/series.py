"""Taylor polynomials with the Lagrange remainder.

f(x) = Σ_{k=0}^{n} f^(k)(a)/k! (x − a)^k + R_n(x),  R_n(x) = f^(n+1)(ξ)/(n+1)! (x − a)^(n+1)
for some ξ between a and x.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.derive import MAX_ORDER, pick_variable
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.parser import as_expr
from calcml.symbolic.workers import runs_in_worker


@dataclass(frozen=True)
class TaylorResult:
    """``result`` (= ``polynomial``) of degree ≤ ``order`` around ``point``, its ``coefficients``
    f^(k)(a)/k!, and the Lagrange ``remainder`` in terms of ``xi`` (ξ between a and x)."""

    expr: sp.Expr
    var: sp.Symbol
    point: sp.Expr
    order: int
    coefficients: tuple[sp.Expr, ...]
    polynomial: sp.Expr
    remainder: sp.Expr
    xi: sp.Symbol

    @property
    def result(self) -> sp.Expr:
        """The Taylor polynomial."""
        return self.polynomial

    def text(self) -> str:
        """f ≈ polynomial, the coefficients, and the remainder."""
        lines = [f"{self.expr} = {self.polynomial} + R_{self.order}({self.var})"]
        for k, c in enumerate(self.coefficients):
            lines.append(f"  f^({k})({self.point})/{k}! = {c}")
        lines.append(f"  R_{self.order}({self.var}) = {self.remainder}, for some ξ between {self.point} and {self.var}")
        return "\n".join(lines)

    def latex(self) -> str:
        """The expansion with its remainder, in LaTeX."""
        return (
            f"{sp.latex(self.expr)} = {sp.latex(self.polynomial)} + {sp.latex(self.remainder)}"
            rf",\ \xi \text{{ between }} {sp.latex(self.point)} \text{{ and }} {sp.latex(self.var)}"
        )

    def __str__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"


def _value_at(f: sp.Expr, x: sp.Symbol, a: sp.Expr) -> sp.Expr:
    value = sp.simplify(f.subs(x, a))
    if not value.is_finite:
        value = sp.limit(to_elementary(f), x, a)
    return value


@runs_in_worker("taylor")
def taylor(
    expr: str | sp.Expr,
    var: str | sp.Symbol | None = None,
    x0: str | float | sp.Expr = 0,
    order: int = 3,
    *,
    timeout: float | None = None,
) -> TaylorResult:
    """The Taylor polynomial of degree ``order`` of ``expr`` around ``x0``, with the Lagrange remainder.

    >>> taylor("sigmoid(x)", "x", 0, 3).polynomial
    -x**3/48 + x/4 + 1/2
    """
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        raise SymbolicError(f"a Taylor polynomial's order must be a whole number from 0 to {MAX_ORDER}, got "
                            f"{order!r}")
    f = as_expr(expr)
    x = pick_variable(f, var, "expand")
    a = as_expr(x0)
    derivative = f
    coefficients = []
    for k in range(order + 1):
        coefficients.append(sp.simplify(_value_at(derivative, x, a) / sp.factorial(k)))
        derivative = sp.diff(derivative, x)
    polynomial = sp.Add(*[c * (x - a) ** k for k, c in enumerate(coefficients)])
    xi = sp.Symbol("xi", real=True)
    remainder = derivative.subs(x, xi) / sp.factorial(order + 1) * (x - a) ** (order + 1)
    return TaylorResult(f, x, a, order, tuple(coefficients), polynomial, remainder, xi)
