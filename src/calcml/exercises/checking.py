"""Is an answer equivalent to the expected one? Decided in layers, cheapest first.

1. structure: the same SymPy expression once parsed;
2. cheap normal forms: the difference expands or cancels to 0;
3. numbers: high-precision (30 digits) values at many points of the domain, including both sides
   of every kink; one point where they differ settles "not equivalent" and is the counterexample;
4. rewrites: ML functions, max/abs/relu as Piecewise, then ``simplify`` of the difference under a
   time limit; 0 means "equivalent", otherwise the numbers' verdict "likely equivalent" stands.

Antiderivatives are compared by their derivatives and must differ by a constant; vectors and
matrices entry by entry; lists of points as sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from calcml.symbolic.errors import ParseError, SymbolicTimeoutError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.parser import as_expr, parse, parse_rows
from calcml.symbolic.sampling import close, evaluate, kink_locations, points_around, sample_points
from calcml.symbolic.timeout import time_limit
from calcml.symbolic.workers import in_worker, runs_in_worker

EQUIVALENT = "equivalent"
NOT_EQUIVALENT = "not equivalent"
LIKELY_EQUIVALENT = "likely equivalent"
KINDS = ("expression", "derivative", "antiderivative", "value", "vector", "matrix", "points")
_DIGITS = 30
_CONSTANT_NAMES = ("C", "c", "K")


@dataclass(frozen=True)
class CheckResult:
    """``verdict`` is "equivalent", "not equivalent" or "likely equivalent"; ``layer`` says which test
    decided; ``counterexample`` is a point where the two differ; ``feedback`` explains."""

    verdict: str
    feedback: str
    layer: str
    counterexample: dict | None = None

    @property
    def correct(self) -> bool:
        """True for "equivalent" and "likely equivalent"."""
        return self.verdict != NOT_EQUIVALENT

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"{self.verdict}: {self.feedback}"


def _show(value: complex) -> str:
    if abs(value.imag) < 1e-12 * max(1.0, abs(value.real)):
        return f"{value.real:.10g}"
    return f"{value.real:.6g}{value.imag:+.6g}i"


def _point_text(point: dict) -> str:
    return ", ".join(f"{k} = {float(v):.6g}" for k, v in point.items())


def _test_points(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol], domain: dict, seed: int) -> list[dict]:
    """Random points of the domain box, plus both sides of each kink when there is one variable."""
    if not symbols:
        return [{}]
    lows = [domain.get(s.name, (-3, 3))[0] for s in symbols]
    highs = [domain.get(s.name, (-3, 3))[1] for s in symbols]
    points = []
    for i, point in enumerate(sample_points(symbols, 24, seed=seed, low=min(lows), high=max(highs), digits=_DIGITS)):
        clipped = {s: v for s, v in point.items() if lows[symbols.index(s)] <= v <= highs[symbols.index(s)]}
        if len(clipped) == len(symbols) or i < 2:
            points.append(point)
    if len(symbols) == 1:
        (x,) = symbols
        kinks = set()
        for e in exprs:
            kinks.update(kink_locations(e, x))
        points += [{x: sp.Float(v, _DIGITS)} for v in points_around(kinks)]
    return points


def _compare_numbers(a: sp.Expr, e: sp.Expr, symbols: Sequence[sp.Symbol], domain: dict, rtol: float):
    """(counterexample point or None, number of points where both were defined, values at the point)."""
    agreed = 0
    for point in _test_points([a, e], symbols, domain, seed=11):
        va, ve = evaluate(a, point, _DIGITS), evaluate(e, point, _DIGITS)
        if ve is None:
            continue
        if va is None or not close(va, ve, rtol):
            return {s.name: v for s, v in point.items()}, agreed, (va, ve)
        agreed += 1
    return None, agreed, None


def _diagnose(a: sp.Expr, e: sp.Expr, symbols: Sequence[sp.Symbol], domain: dict) -> str:
    """A short reason: off by a constant, by a factor, a flipped sign — when that is what it is."""
    if sp.expand(a + e) == 0:
        return "the sign is flipped"
    differences, ratios = [], []
    for point in _test_points([a, e], symbols, domain, seed=5):
        differences.append(evaluate(a - e, point, _DIGITS))
        ratios.append(evaluate(a / e, point, _DIGITS))
    differences = [d for d in differences if d is not None]
    ratios = [r for r in ratios if r is not None]
    if len(differences) >= 3 and abs(differences[0]) > 0:
        if all(close(d, differences[0], 1e-12) for d in differences):
            return f"your answer is off by the constant {_show(differences[0])}"
    if len(ratios) >= 3 and all(close(r, ratios[0], 1e-12) for r in ratios):
        return f"your answer is {_show(ratios[0])} times the expected one (a missing or extra factor?)"
    return ""


def _proved_equal(a: sp.Expr, e: sp.Expr) -> bool:
    """Rewrites then simplification: hyperbolic/ML functions in exp, kinks as Piecewise."""
    in_exp = (a - e).rewrite(sp.exp)
    if sp.cancel(sp.together(sp.powsimp(sp.expand(in_exp)))) == 0 or sp.simplify(in_exp) == 0:
        return True
    return sp.simplify(a.rewrite(sp.Piecewise) - e.rewrite(sp.Piecewise)) == 0


def check_expression(
    answer: sp.Expr, expected: sp.Expr, domain: dict | None = None, simplify_timeout: float = 3.0
) -> CheckResult:
    """Layered equivalence of two scalar expressions (see the module docstring)."""
    domain = domain or {}
    if answer == expected:
        return CheckResult(EQUIVALENT, "exactly the expected expression", "structure")
    a, e = to_elementary(answer), to_elementary(expected)
    difference = a - e
    if sp.expand(difference) == 0 or sp.cancel(sp.together(difference)) == 0:
        return CheckResult(EQUIVALENT, "equal to the expected answer after expanding", "normal form")
    symbols = sorted(a.free_symbols | e.free_symbols, key=lambda s: s.name)
    rtol = 1e-12 if (a.has(sp.Float) or e.has(sp.Float)) else 1e-20
    counterexample, agreed, values = _compare_numbers(a, e, symbols, domain, rtol)
    if counterexample is not None:
        va, ve = values
        where = f" at {_point_text(counterexample)}" if counterexample else ""
        yours = "undefined" if va is None else _show(va)
        reason = _diagnose(a, e, symbols, domain)
        feedback = (
            f"{reason + '; ' if reason else ''}{where.strip() or 'its value'}: yours is {yours}, expected {_show(ve)}"
        )
        return CheckResult(NOT_EQUIVALENT, feedback, "numeric", counterexample)
    if in_worker():  # a proof is optional: it gets its own short budget (see calcml.symbolic.timeout)
        try:
            with time_limit(simplify_timeout, "simplify"):
                if _proved_equal(a, e):
                    return CheckResult(
                        EQUIVALENT, "equal to the expected answer (shown by simplification)", "simplify"
                    )
        except SymbolicTimeoutError:
            pass
    if agreed == 0:
        return CheckResult(LIKELY_EQUIVALENT, "could not evaluate either side on the domain; not proven", "numeric")
    return CheckResult(
        LIKELY_EQUIVALENT,
        f"equal to {_DIGITS} digits at {agreed} points (including both sides of any kink), not proven symbolically",
        "numeric",
    )


def _read(answer, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    if isinstance(answer, str):
        return parse(answer, symbols)
    value = as_expr(answer)
    return value.xreplace({s: symbols[s.name] for s in value.free_symbols if s.name in symbols})


def _symbol_table(*exprs) -> dict[str, sp.Symbol]:
    table: dict[str, sp.Symbol] = {}
    for e in exprs:
        for s in getattr(e, "free_symbols", ()):
            table.setdefault(s.name, s)
    return table


def check_antiderivative(answer: sp.Expr, expected: sp.Expr, var: sp.Symbol, domain: dict | None = None) -> CheckResult:
    """Equal up to an added constant: same derivative, constant difference. Says when + C is missing."""
    constants = [s for s in answer.free_symbols if s.name in _CONSTANT_NAMES and s not in expected.free_symbols]
    has_constant = bool(constants)
    answer = answer.xreplace({c: 0 for c in constants})
    slope = check_expression(sp.diff(to_elementary(answer), var), sp.diff(to_elementary(expected), var), domain)
    if not slope.correct:
        return CheckResult(
            NOT_EQUIVALENT,
            f"the derivative of your answer is not the integrand: {slope.feedback}",
            "derivative",
            slope.counterexample,
        )
    reminder = "" if has_constant else "; remember the constant of integration: + C"
    difference = check_expression(answer, expected, domain)
    if difference.verdict == EQUIVALENT:
        return CheckResult(EQUIVALENT, f"correct antiderivative{reminder}", difference.layer)
    return CheckResult(
        slope.verdict,
        f"correct: your antiderivative differs from the expected one only by a constant{reminder}",
        slope.layer,
    )


def _rows(answer, symbols: dict[str, sp.Symbol]) -> list[list[sp.Expr]]:
    if isinstance(answer, str):
        return parse_rows(answer, symbols)
    if isinstance(answer, sp.MatrixBase):
        return [[_read(v, symbols) for v in row] for row in answer.tolist()]
    rows = list(answer)
    if rows and not isinstance(rows[0], (list, tuple, sp.MatrixBase)):
        return [[_read(v, symbols) for v in rows]]
    return [[_read(v, symbols) for v in row] for row in rows]


def check_matrix(answer_rows: list[list[sp.Expr]], expected: sp.Matrix, domain: dict | None) -> CheckResult:
    """Entry by entry; a vector may be given as one row or one column."""
    flat = [v for row in answer_rows for v in row]
    if 1 in expected.shape:
        if len(flat) != len(expected):
            return CheckResult(NOT_EQUIVALENT, f"expected {len(expected)} components, got {len(flat)}", "shape")
        pairs = [((i + 1,), a, e) for i, (a, e) in enumerate(zip(flat, expected, strict=True))]
    else:
        shape = (len(answer_rows), len(answer_rows[0]) if answer_rows else 0)
        if shape != expected.shape or any(len(r) != shape[1] for r in answer_rows):
            rows, cols = expected.shape
            return CheckResult(NOT_EQUIVALENT, f"expected a {rows}×{cols} matrix (rows separated by ';')", "shape")
        pairs = [((i + 1, j + 1), answer_rows[i][j], expected[i, j]) for i in range(shape[0]) for j in range(shape[1])]
    verdicts = []
    for index, a, e in pairs:
        result = check_expression(a, e, domain)
        if not result.correct:
            where = "component " if len(index) == 1 else "entry "
            feedback = f"{where}{','.join(map(str, index))} is wrong: {result.feedback}"
            return CheckResult(NOT_EQUIVALENT, feedback, result.layer, result.counterexample)
        verdicts.append(result.verdict)
    if all(v == EQUIVALENT for v in verdicts):
        return CheckResult(EQUIVALENT, "every entry is right", "entries")
    return CheckResult(LIKELY_EQUIVALENT, "every entry agrees numerically; some are not proven symbolically", "entries")


def check_points(answer_rows: list[list[sp.Expr]], expected: Sequence[Sequence[sp.Expr]]) -> CheckResult:
    """Two finite sets of points, compared to 12 digits."""

    def key(point) -> tuple:
        return tuple(round(complex(v.evalf(20)).real, 12) for v in point)

    try:
        given = {key(p) for p in answer_rows if p}
    except TypeError:
        return CheckResult(NOT_EQUIVALENT, "each point must be numbers, like (1, -2)", "points")
    wanted = {key(p) for p in expected}
    if given == wanted:
        return CheckResult(EQUIVALENT, f"all {len(wanted)} points, and no others", "points")
    missing, extra = wanted - given, given - wanted
    parts = []
    if missing:
        parts.append(f"{len(missing)} point(s) missing")
    if extra:
        parts.append(f"not critical: {', '.join(str(p) for p in sorted(extra))}")
    return CheckResult(NOT_EQUIVALENT, "; ".join(parts), "points")


def _checked_domain(domain: dict | None) -> dict:
    """``domain`` as name → (low, high) floats, finite and low < high; ValueError otherwise."""
    if domain is None:
        return {}
    if not isinstance(domain, dict):
        raise ValueError(f"domain maps variable names to (low, high), e.g. {{'x': (0, 3)}}; got {domain!r}")
    checked = {}
    for name, bounds in domain.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"the domain of {name!r} must be two numbers (low, high); got {bounds!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"the domain of {name!r} must be finite with low < high; got {bounds!r}")
        checked[str(name)] = (low, high)
    return checked


@runs_in_worker("exercises.check")
def check(
    answer,
    expected,
    kind: str = "expression",
    *,
    var: str | None = None,
    domain: dict | None = None,
    timeout: float | None = None,
) -> CheckResult:
    """Is ``answer`` equivalent to ``expected``? Three outcomes: "equivalent", "not equivalent" (with a
    counterexample point) or "likely equivalent" (agrees numerically, not proven).

    ``kind``: "expression" / "derivative" / "value" (scalars), "antiderivative" (up to + C),
    "vector", "matrix" (rows ';'-separated), "points" ("(0, 0); (1, -1)"). ``expected`` may also be
    an :class:`~calcml.exercises.Exercise`, which supplies kind, variable and domain.
    ``domain`` maps names to (low, high) for the numeric test.

    >>> check("sigmoid(x)*(1 - sigmoid(x))", "1/(4*cosh(x/2)^2)").verdict
    'equivalent'
    >>> check("x^3/3", "x^3/3 + 5", kind="antiderivative").feedback
    'correct: ... remember the constant of integration: + C'
    """
    if hasattr(expected, "expected") and hasattr(expected, "kind"):
        exercise = expected
        expected, kind = exercise.expected, exercise.kind
        var = var or (exercise.variables[0].name if exercise.variables else None)
        domain = domain or exercise.domain
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    domain = _checked_domain(domain)
    if kind == "points":
        table = _symbol_table()
        try:
            rows = _rows(answer, table)
        except ParseError as error:
            return CheckResult(NOT_EQUIVALENT, f"could not read your answer: {error}", "parse")
        return check_points(rows, _rows(expected, {}))
    if kind in ("vector", "matrix"):
        if isinstance(expected, sp.MatrixBase):
            matrix = expected
        else:
            matrix = sp.Matrix(_rows(expected, {}))
            matrix = matrix.T if kind == "vector" else matrix
        table = _symbol_table(matrix)
        try:
            rows = _rows(answer, table)
        except ParseError as error:
            return CheckResult(NOT_EQUIVALENT, f"could not read your answer: {error}", "parse")
        return check_matrix(rows, matrix, domain)
    expected_expr = as_expr(expected)
    table = _symbol_table(expected_expr)
    try:
        answer_expr = _read(answer, table)
    except ParseError as error:
        return CheckResult(NOT_EQUIVALENT, f"could not read your answer: {error}", "parse")
    if kind == "antiderivative":
        x = table.get(var) if var else None
        if x is None:
            free = sorted(expected_expr.free_symbols, key=lambda s: s.name)
            if len(free) != 1:
                raise ValueError("say which variable the antiderivative is in: check(..., var='x')")
            x = free[0]
        return check_antiderivative(answer_expr, expected_expr, x, domain)
    return check_expression(answer_expr, expected_expr, domain)
