"""The numeric witness of (in)equality: real values at sample points of the domain, both sides of each kink.

A counterexample is a real point: one where both sides are real numbers and differ, or — when they agree
wherever both are real — one where only one of them is a real number (log(x²) and 2·log x at x < 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import sympy as sp

from calcml.exercises.results import NOT_EQUIVALENT, CheckResult, show
from calcml.symbolic.sampling import close, evaluate, kink_locations, points_around, sample_points

DIGITS = 30


def point_text(point: dict) -> str:
    """A point as "x = 0.457142, y = -1.2" (six significant digits)."""
    return ", ".join(f"{k} = {float(v):.6g}" for k, v in point.items())


def real_value(expr: sp.Expr, point: dict) -> float | None:
    """The value at ``point`` if it is a finite real number; None where it is undefined or not real."""
    value = evaluate(expr, point, DIGITS)
    if value is None or abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        return None
    return value.real


def defined_value(expr: sp.Expr, parts: Sequence[sp.Expr], point: dict) -> float | None:
    """The real value of ``expr`` at ``point`` when each of ``parts`` (its logs and roots as written, see
    :func:`calcml.symbolic.parser.restricted_parts`) is real there too; None otherwise: exp(log x) at x < 0."""
    if any(real_value(part, point) is None for part in parts):
        return None
    return real_value(expr, point)


def _box_points(symbols: Sequence[sp.Symbol], domain: dict, seed: int) -> list[dict]:
    """24 random points with each coordinate inside its own variable's (low, high) — default (−3, 3)."""
    bounds = [domain.get(s.name, (-3, 3)) for s in symbols]
    if len(set(bounds)) == 1:
        low, high = bounds[0]
        return sample_points(symbols, 24, seed=seed, low=low, high=high, digits=DIGITS)
    columns = [sample_points([s], 24, seed=seed + k, low=low, high=high, digits=DIGITS)
               for k, (s, (low, high)) in enumerate(zip(symbols, bounds, strict=True))]
    return [{s: column[i][s] for s, column in zip(symbols, columns, strict=True)} for i in range(24)]


def probe_points(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol], domain: dict, seed: int) -> list[dict]:
    """Random points of the domain box, plus both sides of each kink when there is one variable.

    Every point lies in the domain given: a kink at 0 of |x| on the domain (0, 3) is not probed, since
    |x| = x there (a counterexample outside the domain would reject a right answer)."""
    if not symbols:
        return [{}]
    points = _box_points(symbols, domain, seed)
    if len(symbols) == 1:
        (x,) = symbols
        low, high = domain.get(x.name, (-float("inf"), float("inf")))
        kinks = set()
        for e in exprs:
            kinks.update(kink_locations(e, x))
        points += [{x: sp.Float(v, DIGITS)} for v in points_around(kinks) if low <= v <= high]
    return points


@dataclass(frozen=True)
class Numbers:
    """What the sample points showed: a real counterexample (values of both sides, None = undefined there),
    or none, with the number of points where the two agreed."""

    agreed: int
    point: dict | None = None
    yours: float | None = None
    expected: float | None = None


def compare_numbers(a: sp.Expr, e: sp.Expr, symbols: Sequence[sp.Symbol], domain: dict, rtol: float,
                    parts: tuple[Sequence[sp.Expr], Sequence[sp.Expr]] = ((), ())) -> Numbers:
    """A point where both are real and differ wins; else a point where only one of them is real.

    ``parts``: the restricted pieces of each side as written; a side is defined only where they are real."""
    agreed, one_sided = 0, None
    for point in probe_points([a, e, *parts[0], *parts[1]], symbols, domain, seed=11):
        va, ve = defined_value(a, parts[0], point), defined_value(e, parts[1], point)
        if va is None and ve is None:
            continue
        named = {s.name: v for s, v in point.items()}
        if va is None or ve is None:
            one_sided = one_sided or Numbers(0, named, va, ve)
        elif not close(va, ve, rtol):
            return Numbers(agreed, named, va, ve)
        else:
            agreed += 1
    return replace(one_sided, agreed=agreed) if one_sided else Numbers(agreed)


def diagnose(a: sp.Expr, e: sp.Expr, symbols: Sequence[sp.Symbol], domain: dict) -> str:
    """A short reason: off by a constant, by a factor, a flipped sign — when that is what it is."""
    if sp.expand(a + e) == 0:
        return "the sign is flipped"
    differences, ratios = [], []
    for point in probe_points([a, e], symbols, domain, seed=5):
        va, ve = real_value(a, point), real_value(e, point)
        if va is not None and ve is not None:
            differences.append(va - ve)
            if ve != 0:
                ratios.append(va / ve)
    if len(differences) >= 3 and abs(differences[0]) > 0:
        if all(close(d, differences[0], 1e-12) for d in differences):
            return f"your answer is off by the constant {show(differences[0])}"
    if len(ratios) >= 3 and abs(ratios[0] - 1) > 1e-6 and all(close(r, ratios[0], 1e-12) for r in ratios):
        return f"your answer is {show(ratios[0])} times the expected one (a missing or extra factor?)"
    return ""


def counterexample(a, e, symbols, domain, numbers: Numbers, digits: int | None) -> CheckResult:
    """"Not equivalent", with the real point and what each side is there."""
    where = f"at {point_text(numbers.point)}" if numbers.point else "its value"
    if numbers.yours is None or numbers.expected is None:
        undefined, defined = ("yours", "the expected answer") if numbers.yours is None else ("the expected answer",
                                                                                             "yours")
        value = numbers.expected if numbers.yours is None else numbers.yours
        agree = f"they agree where both are real ({numbers.agreed} points), but " if numbers.agreed else ""
        feedback = f"{agree}{where} {defined} is {show(value)} while {undefined} is not a real number"
        hint = "the two are defined on different domains (a logarithm or root of a negative number?)"
        return CheckResult(NOT_EQUIVALENT, feedback, "domain", numbers.point, hint=hint)
    hint = diagnose(a, e, symbols, domain)
    if not hint and digits is not None:
        hint = "decimals are read exactly (0.333 is 333/1000): write fractions such as 1/3, or check with tolerance="
    yours, expected = show(numbers.yours), show(numbers.expected)
    if yours == expected:  # they differ beyond ten digits: show all of them
        yours, expected = repr(numbers.yours), repr(numbers.expected)
    feedback = f"{where}: yours is {yours}, expected {expected}"
    return CheckResult(NOT_EQUIVALENT, f"{hint + '; ' if hint else ''}{feedback}", "numeric", numbers.point,
                       hint=hint)
