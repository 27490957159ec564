"""Taylor polynomials with the Lagrange remainder.

f(x) = Σ_{k=0}^{n} f^(k)(a)/k! (x − a)^k + R_n(x),  R_n(x) = f^(n+1)(ξ)/(n+1)! (x − a)^(n+1)
for some ξ between a and x.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.derive import MAX_ORDER, pick_variable
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.limits import one_sided_limit
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


_NOT_SMOOTH = (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Piecewise, sp.Max, sp.Min)


def _named(k: int) -> str:
    return "f" + ("'" * k if k <= 2 else f"^({k})")


def _switches_at(expr: sp.Expr, x: sp.Symbol, a: sp.Expr) -> bool:
    """Whether a piece of ``expr`` may switch at x = a: the argument of |u|, sign, Heaviside or δ, a
    difference of max/min arguments, or a Piecewise condition is 0 there (or cannot be told apart from 0)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta)):
            switching = [node.args[0]]
        elif isinstance(node, (sp.Max, sp.Min)):
            switching = [u - v for u in node.args for v in node.args if u is not v]
        elif isinstance(node, sp.Piecewise):
            switching = [c.lhs - c.rhs for _, c in node.args if isinstance(c, sp.core.relational.Relational)]
        else:
            continue
        if any(g.has(x) and g.subs(x, a).is_zero is not False for g in switching):
            return True
    return False


def _derivative_at(derivative: sp.Expr, x: sp.Symbol, a: sp.Expr, k: int, f: sp.Expr) -> sp.Expr:
    """f^(k)(a) for a Taylor coefficient: the value where f^(k) is finite and no piece of it switches at a;
    otherwise the one-sided limits, which must be finite, real and equal (sin(x)/x at 0: both 1). Anything
    else means f has no Taylor polynomial of this order at a: |x| at 0 (f' jumps from −1 to 1), √x at 0
    (f'(0) infinite), 1/x at 0 (a pole), log x at −1 (not real)."""
    value = sp.simplify(derivative.subs(x, a))
    elementary = to_elementary(derivative)
    if value.is_finite and value.is_extended_real is not False and not _switches_at(elementary, x, a):
        return value
    left, right = (one_sided_limit(elementary, x, a, side) for side in ("-", "+"))  # not sp.limit: see there
    if left == right and left.is_finite and left.is_extended_real is not False:
        return left
    name, at = _named(k), f"{x} = {a}"
    if not (left.is_finite and right.is_finite):
        problem = f"{name}({a}) is infinite or undefined (one-sided limits {left} and {right})"
    elif left.is_extended_real is False or right.is_extended_real is False:
        problem = f"{name} is not real at {at} (one-sided limits {left} and {right})"
    else:
        problem = f"{name} jumps at {at}: {name}({a}−) = {left} but {name}({a}+) = {right}, a kink of {_named(k - 1)}"
    raise SymbolicError(
        f"{f} has no Taylor polynomial of order {k} or more around {at}: {problem}.\n  expand around another "
        f"point where it is smooth, e.g. x0 = {1 if a != 1 else 2}."
    )


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

    Refused (SymbolicError, naming the derivative) where f is not ``order`` times differentiable at ``x0``:
    a kink (|x| at 0), an infinite derivative (√x at 0) or a pole (1/x at 0).

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
        coefficients.append(sp.simplify(_derivative_at(derivative, x, a, k, f) / sp.factorial(k)))
        derivative = sp.diff(derivative, x)
    polynomial = sp.Add(*[c * (x - a) ** k for k, c in enumerate(coefficients)])
    xi = sp.Symbol("xi", real=True)
    remainder = derivative.subs(x, xi) / sp.factorial(order + 1) * (x - a) ** (order + 1)
    return TaylorResult(f, x, a, order, tuple(coefficients), polynomial, remainder, xi)
