"""Honest values of definite integrals: a value is a real number (or ±oo), or it is refused saying why.

SymPy's ∫_a^b f dx can come back as nan (a pole inside: ∫_{-1}^{1} dx/x), as AccumBounds (∫_0^∞ sin x dx
oscillates), as a complex number (√x on [−1, 1] is not real for x < 0), with 0^(n+1) in it (x^n on [0, 1],
the sign of n + 1 unsettled), or as Piecewise((v, condition), (Integral, True)) when the value v holds
only for some parameters (∫_0^∞ e^(−a x) dx = 1/a when a > 0). The first four are refused with a
SymbolicError saying where; the last is kept, its condition stated in plain words.
"""

from __future__ import annotations

import sympy as sp
from sympy.calculus.util import continuous_domain

from calcml.symbolic.errors import SymbolicError
from calcml.symbolic.ml_functions import to_elementary


def _where_not_continuous(f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr) -> str:
    """The part of [a, b] where f is not continuous (a pole, a jump, not real there) as text, e.g.
    " at x = 0" or " for x in [-1, 0)"; empty when it cannot be told."""
    if not (a.is_number and b.is_number and a.is_finite and b.is_finite):
        return ""
    try:
        interval = sp.Interval(a, b)
        spots = interval - continuous_domain(to_elementary(f), x, interval)
    except (NotImplementedError, ValueError, TypeError):
        return ""
    if spots.is_empty or spots.free_symbols:
        return ""
    if isinstance(spots, sp.FiniteSet):
        return f" at {x} = {', '.join(sp.sstr(p) for p in spots)}"
    if isinstance(spots, sp.Interval):
        left, right = "(" if spots.left_open else "[", ")" if spots.right_open else "]"
        return f" for {x} in {left}{sp.sstr(spots.start)}, {sp.sstr(spots.end)}{right}"
    return f" for {x} in {spots}"


def _undecided_power(value: sp.Expr) -> bool:
    """0 to a symbolic power (0**(n + 1)): SymPy's value then depends on a sign it did not settle."""
    return any(p.base.is_zero and p.exp.free_symbols for p in value.atoms(sp.Pow))


def checked_value(value: sp.Expr, f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``value`` of ∫_a^b f dx, or a SymbolicError when it is no honest real number: nan (divergent, e.g. a
    pole inside), an oscillating bound (AccumBounds), complex (f is not real on part of the interval),
    or a value whose validity hinges on the unknown sign of a parameter."""
    what = f"the integral of {f} from {a} to {b}"
    where = _where_not_continuous(f, x, a, b)
    if value.has(sp.nan):
        raise SymbolicError(
            f"{what} diverges: f has a non-integrable singularity{where or ' in the interval'} (the integral "
            "up to it is infinite, and infinities of opposite sign do not cancel).\n  split the interval "
            "there to see each part; a principal value is not what the integral means."
        )
    if value.has(sp.AccumBounds):
        raise SymbolicError(
            f"{what} diverges: the integral up to t oscillates within {value} as t grows, with no limit."
        )
    if value.has(sp.zoo) or _undecided_power(value):
        parameters = ", ".join(sorted(s.name for s in f.free_symbols - {x})) or "its parameters"
        raise SymbolicError(
            f"{what} has no single answer: whether it converges depends on the sign of {parameters}, which "
            f"SymPy could not settle (it gave {value}).\n  say what the parameters are: pass a SymPy "
            f"expression whose symbols carry assumptions, e.g. sp.Symbol('{parameters.split(', ')[0]}', "
            "positive=True), or give them numbers."
        )
    imaginary = value.is_extended_real is False
    if not value.free_symbols and value.is_finite:
        number = complex(value.evalf(30))
        imaginary = abs(number.imag) > 1e-12 * max(1.0, abs(number.real))
    if imaginary:
        raise SymbolicError(
            f"{what} is not a real number ({value}): the integrand is not real{where or ' on part of the interval'}."
            "\n  integrate only over the part where f is real, as the numeric quadrature would."
        )
    return value


def _plain_condition(condition: sp.Boolean) -> sp.Boolean:
    """SymPy's convergence condition for real parameters in plain words: |arg(a)| < π/2 becomes a > 0
    (arg a = 0 for a > 0, π for a < 0); any other condition is kept as it is."""
    real = {sp.arg(s): sp.Piecewise((0, s > 0), (sp.pi, True)) for s in condition.free_symbols if s.is_real}
    folded = sp.piecewise_fold(condition.xreplace(real))
    if isinstance(folded, sp.Piecewise) and len(folded.args) == 2 and folded.args[0].expr is sp.true \
            and folded.args[1] == (sp.false, sp.true):
        return folded.args[0].cond
    return condition


def _singular_points(f: sp.Expr, x: sp.Symbol) -> set[sp.Expr]:
    """Where f is singular in x, solved when the equation is linear: zeros of its denominator and of the
    arguments of its logarithms (x = −a for 1/(x + a) or log(x + a))."""
    g = to_elementary(f)
    candidates = [sp.denom(sp.together(g))] + [log.args[0] for log in g.atoms(sp.log)]
    points = set()
    for candidate in candidates:
        for factor in sp.Mul.make_args(sp.factor_terms(candidate)):
            base = factor.base if factor.is_Pow else factor
            if base.has(x) and base.is_polynomial(x) and sp.degree(base, x) == 1:
                points.update(sp.solve(base, x))
    return points


def outside_condition(f: sp.Expr, x: sp.Symbol, a: sp.Expr, b: sp.Expr) -> sp.Boolean:
    """When a singular point of f moves with a parameter or a bound (x = −a for 1/(x + a) on [0, 1]; x = 0 for
    1/x on [1, b]), the condition that it lies outside [a, b], where F(b) − F(a) holds; True otherwise.

    ∫_0^1 dx/(x + a) = log(a + 1) − log(a) holds for a > 0 or a < −1; for −1 ≤ a ≤ 0 the integral diverges."""
    parameters = (f.free_symbols | a.free_symbols | b.free_symbols) - {x}
    if not parameters:
        return sp.true
    condition = sp.true
    for s in _singular_points(f, x):
        if not (s.free_symbols | a.free_symbols | b.free_symbols):
            continue  # a fixed singular point between fixed bounds: the continuity test has seen it
        below, above = sp.And(s < a, s < b), sp.And(s > a, s > b)
        condition = sp.And(condition, sp.Or(below, above))
    try:
        return sp.simplify(condition) if condition is not sp.true else condition
    except (TypeError, ValueError, NotImplementedError):
        return condition


def with_condition(value: sp.Expr, condition: sp.Boolean, integral: sp.Integral) -> sp.Expr:
    """``value`` as Piecewise((value, condition), (integral, True)) when it holds only under ``condition``."""
    if condition is sp.true:
        return value
    if isinstance(value, sp.Piecewise) and value.args[-1].expr.has(sp.Integral):
        pieces = [(e, sp.And(c, condition)) for e, c in value.args[:-1]]
        return sp.Piecewise(*pieces, value.args[-1])
    return sp.Piecewise((value, condition), (integral, True))


def convergence_condition(value: sp.Expr) -> sp.Boolean | None:
    """For SymPy's Piecewise((v, condition), (Integral(...), True)): the condition under which v holds."""
    if isinstance(value, sp.Piecewise) and value.args[-1].expr.has(sp.Integral):
        return _plain_condition(sp.Or(*(c for _, c in value.args[:-1])))
    return None


def converges_when(value: sp.Expr) -> str:
    """The condition of :func:`convergence_condition` as the end of a step's note; empty when there is none."""
    condition = convergence_condition(value)
    if condition is None:
        return ""
    return f"; it holds when {condition}, otherwise SymPy leaves the integral unevaluated (it may diverge)"
