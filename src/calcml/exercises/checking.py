"""Is an answer right? Four outcomes, decided in layers, cheapest first.

Outcomes: **correct**; **equivalent but not simplified** (right, but much longer than the expected form);
**wrong**, with a counterexample — a real point where both sides are defined and differ, or where only one
of them is — and a hint naming the likely mistake; **malformed**, saying where and why the answer could not
be read (a syntax error, a name the problem does not have, the wrong number of components).

Equivalence layers:

1. structure: the same SymPy expression once parsed;
2. cheap normal forms: the difference expands or cancels to 0;
3. numbers: high-precision (30 digits) real values at many points of the domain, including both sides
   of every kink; one point where they differ settles "not equivalent" and is the counterexample. A side
   typed with logs, roots or arcsin/arccos is defined only where each of them, as written, is real:
   exp(log(x)), which SymPy builds as x, is undefined for x ≤ 0 (this test comes before layer 1);
4. rewrites: ML functions, max/abs/relu as Piecewise, then ``simplify`` of the difference under a
   time limit; 0 means "equivalent", otherwise the numbers' verdict "likely equivalent" stands.

A number written with decimals (3.14159 for π) is accepted when it is the expected value rounded to the
digits given (at least three significant digits), or within an explicit ``tolerance``. Antiderivatives
are compared by their derivatives and must differ by a constant; vectors and matrices entry by entry;
lists of points as sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import sympy as sp

from calcml.exercises.decimals import MIN_SIGNIFICANT, decimal_verdict, rounded_expected_verdict
from calcml.exercises.reading import entry_digits, read_answer, read_rows, significant_digits
from calcml.exercises.results import (
    EQUIVALENT,
    LIKELY_EQUIVALENT,
    MALFORMED,
    NOT_EQUIVALENT,
    UNSIMPLIFIED,
    CheckResult,
    malformed,
)
from calcml.exercises.typed import as_ascii
from calcml.exercises.witness import (
    DIGITS,
    compare_numbers,
    counterexample,
    point_text,
    probe_points,
    real_value,
)
from calcml.symbolic.errors import ParseError, SymbolicTimeoutError
from calcml.symbolic.ml_functions import to_elementary
from calcml.symbolic.parser import as_expr, as_symbol, parse_rows, restricted_parts
from calcml.symbolic.timeout import time_limit
from calcml.symbolic.workers import in_worker, runs_in_worker

KINDS = ("expression", "derivative", "antiderivative", "value", "vector", "matrix", "points")
_CONSTANT_NAMES = ("C", "c", "K")
_LOG_HINT = "∫ u′/u dx = ln|u| + C: the absolute value makes it hold where u < 0 too"


def _proved_equal(a: sp.Expr, e: sp.Expr) -> bool:
    """Rewrites then simplification: hyperbolic/ML functions in exp, kinks as Piecewise."""
    in_exp = (a - e).rewrite(sp.exp)
    if sp.cancel(sp.together(sp.powsimp(sp.expand(in_exp)))) == 0 or sp.simplify(in_exp) == 0:
        return True
    return sp.simplify(a.rewrite(sp.Piecewise) - e.rewrite(sp.Piecewise)) == 0


def check_expression(
    answer: sp.Expr,
    expected: sp.Expr,
    domain: dict | None = None,
    simplify_timeout: float = 3.0,
    *,
    tolerance: float | None = None,
    digits: int | None = None,
    parts: tuple[Sequence[sp.Expr], Sequence[sp.Expr]] = ((), ()),
    expected_digits: int | None = None,
) -> CheckResult:
    """Layered equivalence of two scalar expressions (see the module docstring).

    ``digits``: the answer was written with decimals, to this many significant digits; ``tolerance``: a
    relative tolerance for numbers (absolute when the expected value is 0) and for values at sample points.
    ``expected_digits``: the expected number was written rounded, to this many significant digits (an exact
    answer that rounds to it is right: 1/3 against "0.333333").
    ``parts``: the logs and roots of (answer, expected) as written (``restricted_parts``): a side is defined
    only where they are real, so exp(log(x)), which SymPy builds as x, differs from x at x < 0.
    """
    domain = domain or {}
    if parts[0] or parts[1]:  # before any shortcut: the written domains may differ where SymPy sees one form
        written = [*parts[0], *parts[1]]
        names = sorted(answer.free_symbols | expected.free_symbols | set().union(*(p.free_symbols for p in written)),
                       key=lambda s: s.name)
        a, e = to_elementary(answer), to_elementary(expected)
        numbers = compare_numbers(a, e, names, domain, 1e-20, parts)
        if numbers.point is not None and (numbers.yours is None or numbers.expected is None):
            return counterexample(a, e, names, domain, numbers, digits)
    if answer == expected:
        return CheckResult(EQUIVALENT, "exactly the expected expression", "structure")
    a, e = to_elementary(answer), to_elementary(expected)
    symbols = sorted(a.free_symbols | e.free_symbols, key=lambda s: s.name)
    if not symbols and (tolerance is not None or digits is not None):
        judged = decimal_verdict(a, e, tolerance, digits)
        if judged is not None:
            return judged
    if not symbols and expected_digits is not None and digits is None and tolerance is None:
        judged = rounded_expected_verdict(a, e, expected_digits)
        if judged is not None:
            return judged
    difference = a - e
    if sp.expand(difference) == 0 or sp.cancel(sp.together(difference)) == 0:
        return CheckResult(EQUIVALENT, "equal to the expected answer after expanding", "normal form")
    rtol = tolerance if tolerance is not None else 1e-12 if (a.has(sp.Float) or e.has(sp.Float)) else 1e-20
    numbers = compare_numbers(a, e, symbols, domain, rtol)
    if numbers.point is not None:
        return counterexample(a, e, symbols, domain, numbers, digits)
    if in_worker():  # a proof is optional: it gets its own short budget (see calcml.symbolic.timeout)
        try:
            with time_limit(simplify_timeout, "simplify"):
                if _proved_equal(a, e):
                    return CheckResult(
                        EQUIVALENT, "equal to the expected answer (shown by simplification)", "simplify"
                    )
        except SymbolicTimeoutError:
            pass
    if numbers.agreed == 0:
        return CheckResult(LIKELY_EQUIVALENT, "could not evaluate either side on the domain; not proven", "numeric")
    return CheckResult(
        LIKELY_EQUIVALENT,
        f"equal to {DIGITS} digits at {numbers.agreed} points (including both sides of any kink), not proven "
        "symbolically",
        "numeric",
    )


def _symbol_table(*exprs) -> dict[str, sp.Symbol]:
    table: dict[str, sp.Symbol] = {}
    for e in exprs:
        for s in getattr(e, "free_symbols", ()):
            table.setdefault(s.name, s)
    return table


def _undefined_where_expected_is(answer: sp.Expr, expected: sp.Expr, var: sp.Symbol, domain: dict) -> dict | None:
    """A point of the domain where the expected antiderivative is real and the answer is not (ln x for
    ∫ dx/x at x < 0), or None."""
    if (answer.free_symbols | expected.free_symbols) - {var}:
        return None
    for point in probe_points([answer, expected], [var], domain, seed=11):
        if real_value(expected, point) is not None and real_value(answer, point) is None:
            return {s.name: v for s, v in point.items()}
    return None


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
            hint=slope.hint,
        )
    undefined = _undefined_where_expected_is(to_elementary(answer), to_elementary(expected), var, domain or {})
    if undefined is not None:
        where = point_text(undefined)
        return CheckResult(
            NOT_EQUIVALENT,
            f"your antiderivative is not a real number at {where}, where the expected one is: it holds on only "
            "part of the domain",
            "domain",
            undefined,
            hint=_LOG_HINT if answer.has(sp.log) else "",
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


def check_matrix(answer_rows: list[list[sp.Expr]], expected: sp.Matrix, domain: dict | None, *,
                 tolerance: float | None = None, digits: int | None | Sequence[int | None] = None) -> CheckResult:
    """Entry by entry; a vector may be given as one row or one column. ``digits``: the significant digits of
    the answer's decimals, one number for all entries or one per entry (row by row)."""
    flat = [v for row in answer_rows for v in row]
    per_entry = list(digits) if isinstance(digits, Sequence) and len(digits) == len(flat) else None
    if per_entry is None and isinstance(digits, Sequence):
        digits = min((d for d in digits if d is not None), default=None)
    if 1 in expected.shape:
        if len(flat) != len(expected):
            return CheckResult(MALFORMED, f"expected {len(expected)} components separated by commas, got "
                               f"{len(flat)}", "shape")
        pairs = [((i + 1,), a, e) for i, (a, e) in enumerate(zip(flat, expected, strict=True))]
    else:
        shape = (len(answer_rows), len(answer_rows[0]) if answer_rows else 0)
        if shape != expected.shape or any(len(r) != shape[1] for r in answer_rows):
            rows, cols = expected.shape
            given = f"{len(answer_rows)} row(s) of {', '.join(str(len(r)) for r in answer_rows)} entries"
            return CheckResult(MALFORMED, f"expected a {rows}×{cols} matrix (rows separated by ';', entries "
                               f"by ','); got {given}", "shape")
        pairs = [((i + 1, j + 1), answer_rows[i][j], expected[i, j]) for i in range(shape[0]) for j in range(shape[1])]
    verdicts = []
    for position, (index, a, e) in enumerate(pairs):
        given = per_entry[position] if per_entry is not None else digits
        result = check_expression(a, e, domain, tolerance=tolerance, digits=given)
        if not result.correct:
            where = "component " if len(index) == 1 else "entry "
            feedback = f"{where}{','.join(map(str, index))} is wrong: {result.feedback}"
            return CheckResult(NOT_EQUIVALENT, feedback, result.layer, result.counterexample, hint=result.hint)
        verdicts.append(result.verdict)
    if all(v == EQUIVALENT for v in verdicts):
        return CheckResult(EQUIVALENT, "every entry is right", "entries")
    return CheckResult(LIKELY_EQUIVALENT, "every entry agrees numerically; some are not proven symbolically", "entries")


def _coordinate_matches(given: float, wanted: float, digits: int | None) -> bool:
    """Equal to 12 digits, or — for a coordinate written with decimals (at least three significant digits) —
    the wanted value rounded to the digits given: 0.333 for 1/3, 1.414 for √2."""
    if abs(given - wanted) <= 1e-12 * max(1.0, abs(wanted)):
        return True
    if digits is None or digits < MIN_SIGNIFICANT:
        return False
    exponent = math.floor(math.log10(abs(given))) if given != 0 else 0
    return abs(given - wanted) <= 0.5 * 10.0 ** (exponent - digits + 1) * (1 + 1e-9)


def check_points(answer_rows: list[list[sp.Expr]], expected: Sequence[Sequence[sp.Expr]],
                 digits: Sequence[Sequence[int | None]] | None = None,
                 expected_digits: Sequence[Sequence[int | None]] | None = None) -> CheckResult:
    """Two finite sets of points, compared to 12 digits, or to the digits a decimal coordinate was written
    with (``digits`` of the answer, ``expected_digits`` of the expected points: per point, per coordinate)."""

    def values(point) -> tuple:
        return tuple(complex(v.evalf(20)).real for v in point)

    try:
        given = [(values(p), digits[i] if digits and i < len(digits) and len(digits[i]) == len(p) else [None] * len(p))
                 for i, p in enumerate(answer_rows) if p]
    except TypeError:
        return CheckResult(MALFORMED, "each point must be numbers, like (1, -2)", "points")
    wanted = list(dict.fromkeys(tuple(round(v, 12) for v in values(p)) for p in expected))
    rounded = {tuple(round(v, 12) for v in values(p)): places for p, places in
               zip(expected, expected_digits or [], strict=False) if len(places) == len(p)}

    def matches(point, places, target) -> bool:
        """Each coordinate equal, or rounded to the digits the answer — or the expected point — was written with."""
        theirs = rounded.get(target, [None] * len(target))
        return len(point) == len(target) and all(
            _coordinate_matches(g, w, d) or _coordinate_matches(w, g, t)
            for g, w, d, t in zip(point, target, places, theirs, strict=True))

    missing = [w for w in wanted if not any(matches(g, d, w) for g, d in given)]
    extra = sorted({tuple(round(v, 12) for v in g) for g, d in given if not any(matches(g, d, w) for w in wanted)})
    if not missing and not extra:
        return CheckResult(EQUIVALENT, f"all {len(wanted)} points, and no others", "points")
    parts = []
    if missing:
        parts.append(f"{len(missing)} point(s) missing")
    if extra:
        parts.append(f"not critical: {', '.join(str(p) for p in extra)}")
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


def _checked_tolerance(tolerance: float | None) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1:
        raise ValueError(f"tolerance is a relative tolerance between 0 and 1, e.g. 1e-3; got {tolerance!r}")
    return float(tolerance)


def _size(value) -> int:
    entries = value if isinstance(value, sp.MatrixBase) else [value]
    return sum(sp.count_ops(v) for v in entries)


def _unsimplified(result: CheckResult, answer, expected) -> CheckResult:
    """A right answer much longer than the expected form is "equivalent but not simplified"."""
    mine, theirs = _size(answer), _size(expected)
    if result.correct and result.layer != "tolerance" and mine > theirs + max(3, theirs):
        feedback = f"{result.feedback}; but it is not simplified ({mine} operations, the expected form has {theirs})"
        return replace(result, outcome=UNSIMPLIFIED, feedback=feedback)
    return result


def _expected_rows(expected) -> list[list[sp.Expr]]:
    """The expected rows as the problem's author gave them (text goes through the parser, any names)."""
    table: dict[str, sp.Symbol] = {}
    if isinstance(expected, str):
        return parse_rows(expected, table)
    if isinstance(expected, sp.MatrixBase):
        return expected.tolist()
    rows = list(expected)
    if rows and not isinstance(rows[0], (list, tuple, sp.MatrixBase)):
        rows = [rows]
    return [[as_expr(v, table) for v in row] for row in rows]


def _expected_matrix(expected, kind: str) -> sp.Matrix:
    if isinstance(expected, sp.MatrixBase):
        return expected
    matrix = sp.Matrix(_expected_rows(expected))
    return matrix.T if kind == "vector" else matrix


@runs_in_worker("exercises.check")
def check(
    answer,
    expected,
    kind: str = "expression",
    *,
    var: str | None = None,
    domain: dict | None = None,
    tolerance: float | None = None,
    variables: Sequence[str] = (),
    timeout: float | None = None,
) -> CheckResult:
    """Is ``answer`` right? Four outcomes: "correct", "equivalent but not simplified", "wrong" (with a real
    counterexample and a hint) or "malformed" (where and why it could not be read); see :class:`CheckResult`.

    ``kind``: "expression" / "derivative" / "value" (scalars), "antiderivative" (up to + C),
    "vector", "matrix" (rows ';'-separated), "points" ("(0, 0); (1, -1)"). ``expected`` may also be
    an :class:`~calcml.exercises.Exercise`, which supplies kind, variables, domain and its likely mistakes.
    The answer may use only the expected answer's names, ``var`` and ``variables``; any other name is malformed.
    ``domain`` maps names to (low, high) for the numeric test. Decimals are accepted to the digits given
    (at least 3 significant); ``tolerance`` (relative) widens that.

    >>> check("sigmoid(x)*(1 - sigmoid(x))", "1/(4*cosh(x/2)^2)").outcome
    'correct'
    >>> check("3.14159", "pi", kind="value").feedback
    'correct to the 6 significant digits given (π ≈ 3.141592654)'
    >>> print(check("2x + banana", "2x").feedback)
    could not read your answer at column 6: unknown name 'banana'; the answer may use: x
    """
    exercise = expected if hasattr(expected, "expected") and hasattr(expected, "kind") else None
    if isinstance(variables, str) or not all(isinstance(v, str) for v in variables):
        raise ValueError(f"variables is a list of names such as ['x', 'y']; got {variables!r}")
    names = {v: as_symbol(v) for v in variables}
    if exercise is not None:
        expected, kind = exercise.expected, exercise.kind
        var = var or (exercise.variables[0].name if exercise.variables else None)
        domain = domain or exercise.domain
        tolerance = tolerance if tolerance is not None else exercise.tolerance
        names.update(_symbol_table(*exercise.variables))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    domain, tolerance = _checked_domain(domain), _checked_tolerance(tolerance)
    result = _judge(answer, expected, kind, var, domain, tolerance, names)
    if exercise is not None and result.verdict == NOT_EQUIVALENT:
        result = _name_the_mistake(result, answer, exercise, domain, tolerance, names)
    return result


def _judge(answer, expected, kind, var, domain, tolerance, names) -> CheckResult:
    """The verdict for one answer against one expected answer (no exercise-specific hints)."""
    try:
        digits = significant_digits(answer)
    except ParseError as error:
        return malformed(error)
    if kind == "points":
        try:
            rows = read_rows(answer, {})
        except ParseError as error:
            return malformed(error)
        return check_points(rows, _expected_rows(expected), entry_digits(answer), entry_digits(expected))
    if kind in ("vector", "matrix"):
        matrix = _expected_matrix(expected, kind)
        try:
            rows = read_rows(answer, {**_symbol_table(matrix), **names})
        except ParseError as error:
            return malformed(error)
        per_entry = entry_digits(answer)
        flat_digits = [d for row in per_entry for d in row] if per_entry else digits
        result = check_matrix(rows, matrix, domain, tolerance=tolerance, digits=flat_digits)
        return _unsimplified(result, sp.Matrix([v for row in rows for v in row]), matrix)
    expected_expr = as_expr(expected)
    table = {**_symbol_table(expected_expr), **names}
    if var:
        table.setdefault(var, sp.Symbol(var, real=True))
    if kind == "antiderivative":
        table.update({c: sp.Symbol(c, real=True) for c in _CONSTANT_NAMES if c not in table})
    try:
        answer_expr = read_answer(answer, table)
    except ParseError as error:
        return malformed(error)
    if kind == "antiderivative":
        x = table.get(var) if var else None
        if x is None:
            free = sorted(expected_expr.free_symbols, key=lambda s: s.name)
            if len(free) != 1:
                raise ValueError("say which variable the antiderivative is in: check(..., var='x')")
            x = free[0]
        return check_antiderivative(answer_expr, expected_expr, x, domain)
    parts = tuple(restricted_parts(as_ascii(text)[0], dict(table)) if isinstance(text, str) else ()
                  for text in (answer, expected))
    expected_digits = significant_digits(expected) if isinstance(expected, str) else None
    result = check_expression(answer_expr, expected_expr, domain, tolerance=tolerance, digits=digits, parts=parts,
                              expected_digits=expected_digits)
    return _unsimplified(result, answer_expr, expected_expr)


def _name_the_mistake(result: CheckResult, answer, exercise, domain, tolerance, names) -> CheckResult:
    """When a wrong answer matches one of the exercise's typical mistakes, the hint names it."""
    for mistake, hint in exercise.mistakes:
        if _judge(answer, mistake, exercise.kind, None, domain, tolerance, names).correct:
            return replace(result, hint=hint, feedback=f"{hint}; {result.feedback}")
    return result
