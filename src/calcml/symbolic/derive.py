"""``derive``: a derivative with every step explained and checked, and its ``Derivation`` record."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.derivative_rules import differentiate
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.parser import as_expr, as_symbol
from calcml.symbolic.steps import ShowsSteps, Step, step_to_dict
from calcml.symbolic.verify import equal, verify_tree
from calcml.symbolic.workers import runs_in_worker

MAX_ORDER = 100  # of a derivative or a Taylor polynomial: higher orders are refused before any work


@dataclass(frozen=True)
class Derivation(ShowsSteps):
    """The result of :func:`derive`: ``result`` = d^order expr / d var^order, and the steps to it."""

    expr: sp.Expr
    var: sp.Symbol
    order: int
    result: sp.Expr
    steps: Step

    def at(self, values: dict[str, float] | None = None, **named: float) -> sp.Expr:
        """The derivative evaluated at a point: ``d.at(x=2)`` or ``d.at({"x": 2})``."""
        return substitute(self.result, {**(values or {}), **named})

    def to_dict(self) -> dict:
        """A JSON-ready dict: input, variable, result (string and LaTeX) and the step tree."""
        return {
            "expr": sp.sstr(self.expr),
            "wrt": str(self.var),
            "order": self.order,
            "result": sp.sstr(self.result),
            "result_latex": sp.latex(self.result),
            "steps": step_to_dict(self.steps),
        }


def substitute(expr: sp.Expr, values: dict) -> sp.Expr:
    """``expr`` with the named symbols replaced by numbers or expressions (names as strings or Symbols)."""
    by_name = {s.name: s for s in expr.free_symbols}
    mapping = {}
    for key, value in values.items():
        name = key.name if isinstance(key, sp.Symbol) else str(key)
        if name in by_name:
            mapping[by_name[name]] = as_expr(value)
    return sp.simplify(expr.subs(mapping)) if mapping else expr


def tidy(expr: sp.Expr) -> sp.Expr:
    """A cheap shorter equal form: distribute products (over all, or in the numerator only);
    keep the shortest."""
    numerator, denominator = sp.fraction(expr)
    candidates = [expr, sp.expand_mul(expr), sp.expand_mul(numerator) / denominator]
    return min(candidates, key=sp.count_ops)


def _one_derivative(expr: sp.Expr, var: sp.Symbol) -> Step:
    """The verified step tree of d expr/d var, with a final 'simplify' step when that shortens it."""
    tree = differentiate(expr, var)
    shorter = tidy(tree.result)
    if shorter == tree.result or not equal(shorter, tree.result):
        return tree
    simplify = Step("algebra.simplify", tree.result, shorter, kind="equal")
    return Step("diff.result", expr, shorter, var, children=(tree, simplify))


def pick_variable(expr: sp.Expr, var: str | sp.Symbol | None, what: str = "differentiate") -> sp.Symbol:
    """The symbol to work with: ``var`` if given, else the only free symbol of ``expr``."""
    if var is not None:
        return as_symbol(var, expr)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) == 1:
        return symbols[0]
    if not symbols:
        return sp.Symbol("x", real=True)
    names = ", ".join(s.name for s in symbols)
    raise SymbolicError(f"say which variable to {what} with respect to: the expression has {names}")


def _refuse_variable_inside_a_name(f: sp.Expr, x: sp.Symbol) -> None:
    """d/dx of "xy" would be 0 because "xy" is one name: refuse rather than answer 0 to a likely x·y."""
    if x in f.free_symbols:
        return
    longer = sorted(s.name for s in f.free_symbols if x.name in s.name)
    if longer:
        name = longer[0]
        spaced = " ".join(name)
        raise SymbolicError(
            f"{x} does not occur in {f}: {name!r} is read as one name (a run of letters is a single "
            f"variable), so the derivative with respect to {x} would be 0.\n  for a product write "
            f"{'*'.join(name)} or '{spaced}'; if {name} is a variable of its own, its derivative with "
            f"respect to {x} is 0."
        )


@runs_in_worker("derive")
def derive(
    expr: str | sp.Expr,
    var: str | sp.Symbol | None = None,
    order: int = 1,
    *,
    timeout: float | None = None,
) -> Derivation:
    """Differentiate ``expr`` with respect to ``var`` (``order`` times), showing and checking each step.

    d/dx f(g(x)) = f'(g(x))·g'(x) and friends, applied rule by rule; every step is checked
    against SymPy before it is returned. Other symbols are constants (a partial derivative).

    >>> d = derive("sin(x^2)", "x")
    >>> d.result
    2*x*cos(x**2)
    >>> print(d.text())          # chain rule, then the sine and power rules
    chain rule: d/dx [sin(x**2)] = 2*x*cos(x**2)   where f = sin(u), u = x**2
      derivative of sine: d/du [sin(u)] = cos(u)
      power rule: d/dx [x**2] = 2*x   where n = 2

    A run of letters is one name: "xy" is the variable xy, not x·y (write x*y or x y), while a number
    before a name multiplies (2x = 2·x). An expression in which ``var`` does not occur has derivative 0,
    except when ``var`` is spelled inside a longer name ("xy" with respect to x): that is refused, since
    it is almost always a product written without its operator.

    Raises ParseError for unreadable input, SymbolicError for an order outside 1..100 or a variable
    found only inside a longer name, SymbolicTimeoutError past the time limit (default 5 s; the call
    runs in a worker process that is killed at the limit).
    """
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise SymbolicError(
            f"a derivative's order must be a whole number from 1 to {MAX_ORDER}, got {order!r}"
            + ("\n  the 0th derivative is the expression itself: no call is needed." if order == 0 else "")
        )
    f = as_expr(expr)
    x = pick_variable(f, var)
    _refuse_variable_inside_a_name(f, x)
    stages = []
    current = f
    for _ in range(order):
        stage = _one_derivative(current, x)
        stages.append(stage)
        current = stage.result
    root = (
        stages[0] if order == 1 else Step("diff.higher_order", f, current, x, order=order, children=tuple(stages))
    )
    verify_tree(root)
    return Derivation(expr=f, var=x, order=order, result=current, steps=root)
