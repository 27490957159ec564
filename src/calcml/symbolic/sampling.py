"""Numeric evaluation of expressions at sample points: the independent witness of equality.

Points are reproducible (fixed seeds), avoid 0 and ±1 (where many functions have kinks or poles
that make both sides undefined) unless asked for, and may include points on both sides of each
kink. Values are complex numbers; a value that is not a finite number counts as undefined.
"""

from __future__ import annotations

import cmath
import random
from collections.abc import Iterable, Sequence

import sympy as sp

from calcml.symbolic.ml_functions import relu


def evaluate(expr: sp.Expr, point: dict[sp.Symbol, sp.Expr], digits: int = 15) -> complex | None:
    """The value of ``expr`` at ``point`` as a complex number, or None where it is undefined."""
    try:
        value = expr.xreplace(point)
        if not value.is_Number:
            value = value.evalf(digits)
        result = complex(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    if not (cmath.isfinite(result)):
        return None
    return result


def close(a: complex, b: complex, rtol: float) -> bool:
    """|a − b| ≤ rtol·max(1, |a|, |b|)."""
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def sample_points(
    symbols: Sequence[sp.Symbol],
    count: int,
    seed: int = 0,
    low: float = -2.5,
    high: float = 2.5,
    digits: int = 15,
) -> list[dict[sp.Symbol, sp.Expr]]:
    """``count`` random points in the box [low, high]^n, each coordinate at least 0.05 from 0 and ±1.

    The first half of the points lie in (0.05, 0.95) per coordinate when the box allows it, where
    log, sqrt, arcsin and friends are all real.
    """
    rng = random.Random(seed)
    points = []
    for i in range(count):
        point = {}
        for symbol in symbols:
            lo, hi = (max(low, 0.05), min(high, 0.95)) if i < count // 2 and low < 0.95 and high > 0.05 else (low, high)
            value = rng.uniform(lo, hi)
            while min(abs(value), abs(abs(value) - 1)) < 0.05:
                value = rng.uniform(lo, hi)
            point[symbol] = sp.Float(value, digits)
        points.append(point)
    return points


def kink_locations(expr: sp.Expr, symbol: sp.Symbol) -> list[sp.Expr]:
    """Real values of ``symbol`` where a piece of ``expr`` switches: zeros of |u|, relu(u), max/min
    arguments' differences, Heaviside, sign and Piecewise conditions (solved when they are linear)."""
    switching: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside, relu)):
            switching.append(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            switching.extend(a - b for a in args for b in args if a is not b)
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                if isinstance(condition, sp.core.relational.Relational):
                    switching.append(condition.lhs - condition.rhs)
    roots = []
    for g in switching:
        if not g.has(symbol):
            continue
        poly = sp.Poly(g, symbol) if g.is_polynomial(symbol) else None
        if poly is not None and poly.degree() == 1 and not (poly.coeffs()[0].free_symbols - {symbol}):
            root = sp.solve(g, symbol)
            roots.extend(r for r in root if r.is_real and not r.free_symbols)
    return sorted(set(roots), key=float)


def points_around(values: Iterable[sp.Expr], width: float = 1e-3) -> list[float]:
    """For each value v: v − width, v, v + width (both sides of a kink, and the kink itself)."""
    out = []
    for v in values:
        f = float(v)
        out.extend([f - width, f, f + width])
    return out
