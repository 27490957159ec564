"""Finite and infinite sums and products in closed form.

Σ_{k=1}^{n} k^p has a polynomial closed form in n of degree p + 1 (Faulhaber's formulas, e.g.
Σ k² = n(n+1)(2n+1)/6); geometric sums, telescoping sums and many series have closed forms too.
For numeric upper bounds the general closed form in n is found first and then evaluated, so the
formula is shown along with the number.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.parser import as_expr, as_symbol
from calcml.symbolic.steps import Step, render_text, show
from calcml.symbolic.timeout import time_limit
from calcml.symbolic.verify import verify_tree


@dataclass(frozen=True)
class SeriesResult:
    """A sum or product: ``result`` (value or expression), ``closed_form`` in the symbol ``n`` for the
    upper bound (None when there is none), and the steps."""

    expr: sp.Expr
    index: sp.Symbol
    lower: sp.Expr
    upper: sp.Expr
    result: sp.Expr
    closed_form: sp.Expr | None
    steps: Step

    def text(self) -> str:
        """The closed form and the value as text."""
        return render_text(self.steps)

    def latex(self) -> str:
        """The sum or product = result, in LaTeX."""
        return f"{sp.latex(self.steps.expr)} = {sp.latex(self.result)}"

    def __str__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"


def _series(kind: type, expr, bounds, timeout) -> SeriesResult:
    rule = "sum.closed_form" if kind is sp.Sum else "product.closed_form"
    with time_limit(timeout, "summation" if kind is sp.Sum else "product"):
        f = as_expr(expr)
        if not (isinstance(bounds, (tuple, list)) and len(bounds) == 3):
            raise ValueError(
                f"give the index and its bounds as (name, lower, upper), e.g. ('k', 1, 10); got {bounds!r}"
            )
        k = as_symbol(bounds[0], f)
        lower, upper = as_expr(bounds[1]), as_expr(bounds[2])
        target = kind(f, (k, lower, upper))
        closed_form = None
        children: tuple[Step, ...] = ()
        if upper.is_number and upper.is_finite:
            n = sp.Symbol("n", integer=True, positive=True) if k.name != "n" else sp.Symbol("m", integer=True)
            general = kind(f, (k, lower, n)).doit()
            if not general.has(kind):
                closed_form = sp.factor(sp.simplify(general))
                children = (
                    Step(
                        rule,
                        kind(f, (k, lower, n)),
                        closed_form,
                        kind="equal",
                        note="Faulhaber's formula" if f.is_polynomial(k) and kind is sp.Sum else "",
                    ),
                )
        result = sp.simplify(target.doit())
        if closed_form is None and not result.has(kind):
            closed_form = result
        if result.has(kind):
            raise ValueError(f"SymPy found no closed form for {show(target)}")
        note = f"evaluate the closed form at n = {upper}" if children else ""
        root = Step(rule, target, result, kind="equal", children=children, note=note)
        verify_tree(root)
        return SeriesResult(f, k, lower, upper, result, closed_form, root)


def summation(expr: str | sp.Expr, bounds: tuple, *, timeout: float | None = None) -> SeriesResult:
    """Σ_{k=a}^{b} expr in closed form; ``bounds`` = (k, a, b), b may be "oo".

    >>> summation("k^2", ("k", 1, 10)).result, summation("k^2", ("k", 1, 10)).closed_form
    (385, n*(n + 1)*(2*n + 1)/6)
    """
    return _series(sp.Sum, expr, bounds, timeout)


def product(expr: str | sp.Expr, bounds: tuple, *, timeout: float | None = None) -> SeriesResult:
    """Π_{k=a}^{b} expr in closed form; ``bounds`` = (k, a, b).

    >>> product("i", ("i", 1, 5)).result
    120
    """
    return _series(sp.Product, expr, bounds, timeout)
