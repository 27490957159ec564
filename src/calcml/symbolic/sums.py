"""Finite and infinite sums and products in closed form.

Σ_{k=1}^{n} k^p has a polynomial closed form in n of degree p + 1 (Faulhaber's formulas, e.g.
Σ k² = n(n+1)(2n+1)/6); geometric sums, telescoping sums and many series have closed forms too.
For numeric upper bounds the general closed form in n is found first and then evaluated, so the
formula is shown along with the number.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.parser import MAX_RESULT_DIGITS, _short, as_expr, as_symbol
from calcml.symbolic.steps import Step, render_text, show
from calcml.symbolic.verify import verify_tree
from calcml.symbolic.workers import runs_in_worker


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

    @property
    def condition(self) -> sp.Boolean | None:
        """When the value holds only for some values of the parameters (Σ_{k≥0} r^k = 1/(1 − r) when
        |r| < 1), that condition; None when there is none."""
        if isinstance(self.result, sp.Piecewise) and self.result.args[-1].expr.has(sp.Sum, sp.Product):
            return sp.Or(*(piece.cond for piece in self.result.args[:-1]))
        return None

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


MAX_TERMS_ONE_BY_ONE = 10_000


def _digits_of(expr: sp.Expr, at: dict) -> int:
    """About how many decimal digits ``expr`` has at ``at``, found numerically (so 3^(10^1000) is never
    computed exactly); 0 when it cannot be told."""
    try:
        value = expr.evalf(15, subs={k: sp.Float(v, 15) for k, v in at.items()})  # never exact powers
        if not value.is_Number or value.is_zero:
            return 0
        return int(mpmath.mag(value._to_mpmath(53))) * 30103 // 100000
    except (TypeError, ValueError, AttributeError, ArithmeticError):
        return 0


def _about(count: int) -> str:
    """A digit count for people: 477121 or 10^1000."""
    return str(count) if count < 10**9 else f"10^{len(str(count)) - 1}"


def _refuse_huge_value(closed_form: sp.Expr, n: sp.Symbol, upper: sp.Expr, target) -> None:
    digits = _digits_of(closed_form, {n: upper})
    if digits > MAX_RESULT_DIGITS:
        raise SymbolicError(
            f"the {'sum' if isinstance(target, sp.Sum) else 'product'} of {target.function} for "
            f"{target.variables[0]} from {_short(target.limits[0][1])} to "
            f"{_short(upper)} has about {_about(digits)} digits (limit {MAX_RESULT_DIGITS}); "
            f"its closed form is {closed_form}"
        )


def _series(kind: type, expr, bounds, timeout) -> SeriesResult:
    rule = "sum.closed_form" if kind is sp.Sum else "product.closed_form"
    f = as_expr(expr)
    if not (isinstance(bounds, (tuple, list)) and len(bounds) == 3):
        raise SymbolicError(
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
            _refuse_huge_value(closed_form, n, upper, target)
        elif lower.is_number and (upper - lower).is_number and abs(upper - lower) > MAX_TERMS_ONE_BY_ONE:
            raise SymbolicError(
                f"SymPy found no closed form for {show(kind(f, (k, lower, n)))}, and adding "
                f"{upper - lower + 1} terms one by one is too many (limit {MAX_TERMS_ONE_BY_ONE})"
            )
    result = sp.simplify(target.doit())
    if closed_form is None and not result.has(kind):
        closed_form = result
    if result.has(kind) and not _conditional(result, kind):
        _refuse_divergent(target)
        raise SymbolicError(f"SymPy found no closed form for {show(target)}")
    note = f"evaluate the closed form at n = {upper}" if children else ""
    root = Step(rule, target, result, kind="equal", children=children, note=note)
    verify_tree(root)
    return SeriesResult(f, k, lower, upper, result, closed_form, root)


def _conditional(result: sp.Expr, kind: type) -> bool:
    """SymPy's Piecewise((closed form, condition), (Sum(...), True)): a value that holds under a condition,
    Σ_{k≥0} r^k = 1/(1 − r) for |r| < 1 (it was refused as "no closed form")."""
    return (isinstance(result, sp.Piecewise) and result.args[-1].expr.has(kind)
            and not any(piece.expr.has(kind) for piece in result.args[:-1]))


def _refuse_divergent(target: sp.Expr) -> None:
    """A divergent series is refused as divergent, not as one without a closed form: Σ (−1)^k."""
    if not isinstance(target, sp.Sum) or target.limits[0][2] is not sp.oo:
        return
    try:
        convergent = target.is_convergent()
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return
    if convergent is sp.false:
        raise SymbolicError(f"{show(target)} diverges: its partial sums approach no finite value")


@runs_in_worker("summation")
def summation(expr: str | sp.Expr, bounds: tuple, *, timeout: float | None = None) -> SeriesResult:
    """Σ_{k=a}^{b} expr in closed form; ``bounds`` = (k, a, b), b may be "oo".

    >>> summation("k^2", ("k", 1, 10)).result, summation("k^2", ("k", 1, 10)).closed_form
    (385, n*(n + 1)*(2*n + 1)/6)
    """
    return _series(sp.Sum, expr, bounds, timeout)


@runs_in_worker("product")
def product(expr: str | sp.Expr, bounds: tuple, *, timeout: float | None = None) -> SeriesResult:
    """Π_{k=a}^{b} expr in closed form; ``bounds`` = (k, a, b).

    >>> product("i", ("i", 1, 5)).result
    120
    """
    return _series(sp.Product, expr, bounds, timeout)
