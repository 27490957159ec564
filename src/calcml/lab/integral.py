"""The integral explorer: Riemann sums of f on [a, b] closing in on the integral as the rectangles narrow.

    S_n = Σ_{i<n} f(ξ_i) Δx,   Δx = (b − a)/n,   ξ_i the left end, right end or midpoint of slice i
    (the trapezoid rule averages the two ends)   →   ∫_a^b f(x) dx   as n → ∞

The exact value comes from ``cm.symbolic.integrate`` under a time limit; when SymPy finds no closed form
(or runs out of time) a composite Gauss–Legendre rule gives the value numerically, and the page says so.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from calcml.integrate import rules
from calcml.lab.errors import LabInputError, symbolic_errors_as_input_errors
from calcml.lab.functions import MAX_DIGITS, evaluate, finite_list, finite_number, largest_number_digits, read_function
from calcml.lab.shared_calls import shared_calls
from calcml.symbolic import SymbolicError, SymbolicTimeoutError, integrate

INTEGRATE_SECONDS = 3.0
METHODS = ("left", "right", "midpoint", "trapezoid")
CURVE_POINTS = 400
GAUSS_PANELS, GAUSS_NODES = 256, 10


RIEMANN = {"left": rules.left_riemann, "right": rules.right_riemann, "midpoint": rules.midpoint,
           "trapezoid": rules.trapezoid}


def riemann_sum(f, a: float, b: float, n: int, method: str) -> float:
    """S_n of ``f`` on [a, b] with ``n`` slices by ``method`` (left, right, midpoint, trapezoid): the rules of
    ``calcml.integrate.rules`` on f's values as the page evaluates them (poles become NaN, not errors)."""
    with np.errstate(all="ignore"):
        return RIEMANN[method](lambda x: evaluate(f, x), a, b, n)


def gauss_legendre(f, a: float, b: float) -> float:
    """∫_a^b f by Gauss–Legendre with GAUSS_NODES nodes on each of GAUSS_PANELS equal panels
    (``calcml.integrate.rules.gauss_legendre``)."""
    with np.errstate(all="ignore"):
        return rules.gauss_legendre(lambda x: evaluate(f, x), a, b, GAUSS_PANELS, GAUSS_NODES)


@shared_calls
def exact_integral(expr: sp.Expr, var: sp.Symbol, a: float, b: float) -> tuple[str, float | None, str]:
    """(status, value, text) by SymPy: ("symbolic", value, closed form), ("diverges", None, why) or
    ("unknown", None, why) when SymPy finds no closed form in time. Answers are cached (moving the n slider
    asks again); a time-out or a failure inside SymPy is not, so that the same request may succeed later.
    Identical requests at the same moment share one computation."""
    try:
        return _exact_integral(expr, var, a, b)
    except LabInputError as error:  # a time-out, or SymPy failing: not cached
        return "unknown", None, error.message.splitlines()[0]


@lru_cache(maxsize=256)
def _exact_integral(expr: sp.Expr, var: sp.Symbol, a: float, b: float) -> tuple[str, float | None, str]:
    bounds = (sp.Rational(repr(a)), sp.Rational(repr(b)))
    with symbolic_errors_as_input_errors("integrate this function"):
        try:
            result = integrate(expr, (var, *bounds), timeout=INTEGRATE_SECONDS).result
        except SymbolicTimeoutError:
            raise  # becomes a LabInputError, which is not cached
        except SymbolicError as error:
            return "unknown", None, str(error).splitlines()[0]
        digits = largest_number_digits(result)
        if digits > MAX_DIGITS:
            return "unknown", None, f"the exact value has a number of about {digits:,} digits, too long to show"
        text = sp.sstr(result)
        if result.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            return "diverges", None, f"the integral does not exist as a finite number (SymPy gives {text[:200]})"
        if result.has(sp.Integral):
            return "unknown", None, "SymPy found no closed form"
        value = complex(sp.N(result, 17))
        if abs(value.imag) > 1e-12 or np.isnan(value.real):
            return "diverges", None, f"the integral is not a finite real number ({text[:200]})"
        if not np.isfinite(value.real):
            return "unknown", None, f"the exact value {text[:200]} is beyond the range of a float"
        return "symbolic", value.real, text


def explore_integral(expr: str, a: float, b: float, n: int, method: str) -> dict:
    """The curve, the n rectangles, S_k for k = 1, 2, 4, … up to 4096 and the value they approach."""
    if not a < b:
        raise LabInputError(f"the interval needs a < b; got [{a:g}, {b:g}].", "domain")
    if method not in METHODS:
        raise LabInputError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}.", "domain")
    f_expr, f = read_function(expr, ["x"])
    var = next(iter(f_expr.free_symbols), sp.Symbol("x", real=True))
    status, exact, text = exact_integral(f_expr, var, a, b)
    closed_form = text if status == "symbolic" else ""
    if status == "symbolic":
        reference, source = exact, "symbolic (cm.symbolic.integrate)"
    elif status == "diverges":
        reference, source = float("nan"), text
    else:
        reference = gauss_legendre(f, a, b)
        source = f"numeric (Gauss–Legendre, {GAUSS_PANELS}×{GAUSS_NODES} nodes): {text}"
    counts = [2**k for k in range(13)]
    sums = [riemann_sum(f, a, b, k, method) for k in counts]
    edges = np.linspace(a, b, n + 1)
    if method == "trapezoid":
        ends = evaluate(f, edges)
        heights_left, heights_right = ends[:-1], ends[1:]
    else:
        sample = {"left": edges[:-1], "right": edges[1:], "midpoint": (edges[:-1] + edges[1:]) / 2}[method]
        heights_left = heights_right = evaluate(f, sample)
    x = np.linspace(a, b, CURVE_POINTS)
    current = riemann_sum(f, a, b, n, method)
    return {
        "expr": str(f_expr), "a": a, "b": b, "n": n, "method": method,
        "x": finite_list(x), "f": finite_list(evaluate(f, x)),
        "edges": finite_list(edges), "heights_left": finite_list(heights_left),
        "heights_right": finite_list(heights_right),
        "sum": finite_number(current),
        "value": finite_number(reference), "status": status, "source": source, "closed_form": closed_form,
        "error": finite_number(current - reference),
        "convergence": [{"n": k, "sum": finite_number(s), "error": finite_number(s - reference)}
                        for k, s in zip(counts, sums)],
    }
