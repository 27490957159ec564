"""Limits with a direction, and continuity and differentiability checks built on them.

lim_{x→a} f exists when both one-sided limits exist and agree. f is continuous at a when the
limit equals f(a); differentiable at a when both one-sided limits of (f(a+h) − f(a))/h as
h → 0± exist, are finite and agree. ReLU is continuous but not differentiable at 0 (left slope
0, right slope 1); the sigmoid is differentiable everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.calculus.util import continuous_domain

from calcml.symbolic.derive import pick_variable
from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.parser import as_expr
from calcml.symbolic.sampling import kink_locations
from calcml.symbolic.workers import runs_in_worker

_DIRECTIONS = {"both": "+-", "+-": "+-", "+": "+", "right": "+", "-": "-", "left": "-"}


@dataclass(frozen=True)
class LimitResult:
    """lim f as var → point: ``result`` (None when the one-sided limits differ), ``left``, ``right``."""

    expr: sp.Expr
    var: sp.Symbol
    point: sp.Expr
    direction: str
    result: sp.Expr | None
    left: sp.Expr | None
    right: sp.Expr | None
    reason: str = ""

    @property
    def exists(self) -> bool:
        """Whether the limit exists (possibly ±∞ when both sides agree)."""
        return self.result is not None and self.result is not sp.nan and not self.result.has(sp.AccumBounds)

    def text(self) -> str:
        """One line per side and the verdict."""
        arrow = {"+-": "", "+": "+", "-": "-"}[self.direction]
        head = f"lim_{{{self.var} → {self.point}{arrow}}} {sp.sstr(self.expr)}"
        sides = ""
        if self.direction == "+-" and self.point.is_finite:
            sides = f"   (from the left: {self.left}, from the right: {self.right})"
        if self.result is None:
            return f"{head} does not exist: {self.reason or 'the one-sided limits differ'}{sides}"
        return f"{head} = {self.result}{sides}"


def _oscillates(value: sp.Expr | None) -> bool:
    """SymPy's answer for a limit that oscillates: AccumBounds(−1, 1) for sin x as x → ∞, or an
    expression holding one (oo·sign(AccumBounds(−1, 1)) for x·sin x)."""
    return value is not None and value.has(sp.AccumBounds)


def _oscillation_reason(value: sp.Expr) -> str:
    bounds = next(iter(value.atoms(sp.AccumBounds)), None)
    if value.func is sp.AccumBounds:
        return f"f keeps oscillating between {bounds.min} and {bounds.max}, approaching no single value"
    return "f keeps oscillating (with a growing or unsettled size), approaching no single value"


def _sympy_limit(compute, f: sp.Expr, x: sp.Symbol, a: sp.Expr) -> sp.Expr:
    """``compute()``, with SymPy's failures said in words: a sign of a parameter it could not settle."""
    try:
        return compute()
    except NotImplementedError as error:
        parameters = ", ".join(sorted(s.name for s in f.free_symbols - {x})) or "a parameter"
        first = parameters.split(", ")[0]
        raise SymbolicError(
            f"the limit of {f} as {x} → {a} depends on the sign of {parameters}, which is not known ({error}).\n"
            f"  give it a sign: pass a SymPy expression with sp.Symbol('{first}', positive=True), or a number."
        ) from None


def _limit_at_infinity(g: sp.Expr, x: sp.Symbol, a: sp.Expr) -> sp.Expr:
    """lim_{x → ±∞} g; where SymPy stumbles on a Piecewise (relu(x) − x as x → −∞ raised TypeError), as
    lim_{h → 0⁺} g(±1/h)."""
    try:
        return sp.limit(g, x, a, "-" if a is sp.oo else "+")
    except (TypeError, ValueError):
        h = sp.Dummy("h", positive=True)
        return sp.limit(sp.piecewise_fold(g.subs(x, (1 if a is sp.oo else -1) / h)), h, 0, "+")

    def __str__(self) -> str:
        return self.text()


def one_sided_limit(f: sp.Expr, x: sp.Symbol, a: sp.Expr, side: str) -> sp.Expr:
    """lim_{x → a±} f, taken as lim_{h → 0⁺} f(a ± h) with h > 0.

    Substituting first lets SymPy decide the Piecewise conditions (x < a is false for x = a + h), which
    ``sp.limit(f, x, a, "+")`` gets wrong at a breakpoint of a Piecewise (such as relu's kink).
    """
    h = sp.Dummy("h", positive=True)
    shifted = f.subs(x, a + h if side == "+" else a - h)
    return sp.limit(sp.piecewise_fold(shifted), h, 0, "+")


@runs_in_worker("limit")
def limit(
    expr: str | sp.Expr,
    var: str | sp.Symbol | None = None,
    point: str | float | sp.Expr = 0,
    direction: str = "both",
    *,
    timeout: float | None = None,
) -> LimitResult:
    """lim_{var → point} expr; ``direction`` is "both" (default), "+"/"right" or "-"/"left".

    Points may be numbers, expressions or "oo"/"-oo". For "both" at a finite point the one-sided
    limits are computed separately and the limit exists only when they agree.

    >>> limit("sin(x)/x", "x", 0).result
    1
    >>> limit("abs(x)/x", "x", 0).exists
    False
    """
    if direction not in _DIRECTIONS:
        raise SymbolicError(f"direction must be one of 'both', '+', '-' (or 'left'/'right'), got {direction!r}")
    side = _DIRECTIONS[direction]
    f = as_expr(expr)
    x = pick_variable(f, var, "take the limit")
    a = as_expr(point)
    g = to_elementary(f)
    if not a.is_finite:
        value = _sympy_limit(lambda: _limit_at_infinity(g, x, a), f, x, a)
        if _oscillates(value):
            return LimitResult(f, x, a, side, None, None, None, _oscillation_reason(value))
        return LimitResult(f, x, a, side, value, None, None)
    if side != "+-":
        value = _sympy_limit(lambda: one_sided_limit(g, x, a, side), f, x, a)
        reason = _oscillation_reason(value) if _oscillates(value) else ""
        shown = None if reason else value
        return LimitResult(f, x, a, side, shown, value if side == "-" else None, value if side == "+" else None, reason)
    left, right = (_sympy_limit(lambda s=s: one_sided_limit(g, x, a, s), f, x, a) for s in "-+")
    if _oscillates(left) or _oscillates(right):
        which = left if _oscillates(left) else right
        return LimitResult(f, x, a, side, None, left, right, _oscillation_reason(which))
    return LimitResult(f, x, a, side, left if left == right else None, left, right)


@dataclass(frozen=True)
class PropertyCheck:
    """A yes/no answer (``result``) about continuity or differentiability, with the reason."""

    property: str
    result: bool
    reason: str
    failures: tuple[sp.Expr, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.result

    def __str__(self) -> str:
        return f"{self.property}: {'yes' if self.result else 'no'} — {self.reason}"


def _value(f: sp.Expr, x: sp.Symbol, a: sp.Expr) -> sp.Expr:
    value = f.subs(x, a)
    return value if value.is_finite else sp.nan


def _continuous_at(f: sp.Expr, x: sp.Symbol, a: sp.Expr) -> tuple[bool, str]:
    value = _value(f, x, a)
    if value is sp.nan:
        return False, f"f({a}) is not defined"
    left, right = one_sided_limit(f, x, a, "-"), one_sided_limit(f, x, a, "+")
    if left == right == value:
        return True, f"both one-sided limits equal f({a}) = {value}"
    return False, f"f({a}) = {value}, left limit {left}, right limit {right}"


def _differentiable_at(f: sp.Expr, x: sp.Symbol, a: sp.Expr) -> tuple[bool, str]:
    value = _value(f, x, a)
    if value is sp.nan:
        return False, f"f({a}) is not defined"
    h = sp.Dummy("h", positive=True)
    right = sp.limit((f.subs(x, a + h) - value) / h, h, 0, "+")
    left = sp.limit((value - f.subs(x, a - h)) / h, h, 0, "+")
    if left == right and left.is_finite:
        return True, f"left and right slopes at {a} agree: {left}"
    return False, f"at {a} the slope from the left is {left} and from the right is {right}"


def _candidate_points(f: sp.Expr, x: sp.Symbol) -> tuple[list[sp.Expr], sp.Set]:
    """Points to check one by one (kinks, isolated gaps of the domain) and the set where the smooth
    parts are continuous."""
    smooth = f.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: sp.Add(*[p for p, _ in e.args]))
    try:
        domain = continuous_domain(smooth, x, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        domain = sp.S.Reals
    gaps = sp.S.Reals - domain
    points = list(kink_locations(f, x))
    if isinstance(gaps, sp.FiniteSet):
        points.extend(p for p in gaps if p not in points)
        domain = sp.S.Reals
    return points, domain


def _check(prop: str, expr, var, at, timeout, test, with_derivative: bool) -> PropertyCheck:
    """``test`` at ``at``; or, on ℝ, at every special point (of f, and of f' when ``with_derivative``)."""
    f = as_expr(expr)
    x = pick_variable(f, var, f"check whether it is {prop}")
    g = to_elementary(f)
    if at is not None:
        a = as_expr(at)
        ok, reason = test(g, x, a)
        return PropertyCheck(f"{prop} at {x} = {a}", ok, reason, () if ok else (a,))
    points, domain = _candidate_points(g, x)
    if with_derivative:
        more, slope_domain = _candidate_points(sp.diff(g, x), x)
        points += [p for p in more if p not in points]
        domain = domain & slope_domain
    points = [p for p in points if domain.contains(p) is sp.true]
    failures, reasons = [], []
    for a in points:
        ok, reason = test(g, x, a)
        if not ok:
            failures.append(a)
            reasons.append(reason)
    if failures:
        return PropertyCheck(f"{prop} on ℝ", False, "; ".join(reasons), tuple(failures))
    checked = f" (checked the special points {', '.join(map(str, points))} one by one)" if points else ""
    if domain != sp.S.Reals:
        return PropertyCheck(f"{prop} on ℝ", False, f"only on {domain}{checked}")
    return PropertyCheck(f"{prop} on ℝ", True, f"everywhere{checked}")


@runs_in_worker("is_continuous")
def is_continuous(
    expr: str | sp.Expr,
    var: str | sp.Symbol | None = None,
    at: str | float | sp.Expr | None = None,
    *,
    timeout: float | None = None,
) -> PropertyCheck:
    """Continuity at ``at`` (both one-sided limits equal f(at)), or on ℝ when ``at`` is None.

    On ℝ, SymPy's continuous_domain covers the smooth parts and every kink or gap is tested alone.

    >>> bool(is_continuous("relu(x)", "x", 0)), bool(is_continuous("1/x", "x"))
    (True, False)
    """
    return _check("continuous", expr, var, at, timeout, _continuous_at, with_derivative=False)


@runs_in_worker("is_differentiable")
def is_differentiable(
    expr: str | sp.Expr,
    var: str | sp.Symbol | None = None,
    at: str | float | sp.Expr | None = None,
    *,
    timeout: float | None = None,
) -> PropertyCheck:
    """Differentiability at ``at`` (left and right slopes agree), or on ℝ when ``at`` is None.

    >>> bool(is_differentiable("relu(x)", "x", 0)), bool(is_differentiable("sigmoid(x)", "x"))
    (False, True)
    """
    return _check("differentiable", expr, var, at, timeout, _differentiable_at, with_derivative=True)
