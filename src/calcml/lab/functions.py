"""Functions typed by a person, read safely and evaluated on bounded grids, with JSON-ready values.

Text is read by calcml's own parser (never ``eval``), whose bounds on exponents and coefficients keep a
reading to milliseconds, in the request's thread (the heavy symbolic work, derivatives and integrals, runs
in calcml.symbolic's worker processes); only the named variables may appear; numbers too long to print and
expressions undefined everywhere are refused; values that are not finite (a pole, log of a negative) become
``None`` so that the page draws a gap instead of the server failing to write NaN into JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import sympy as sp

from calcml.lab.errors import LabInputError, symbolic_errors_as_input_errors
from calcml.symbolic.numeric import read_formula

MAX_DIGITS = 4000  # longer numbers are refused: Python will not print an integer of over 4,300 digits


def read_function(text: str, variables: Sequence[str], what: str = "the function") -> tuple[sp.Expr, Callable]:
    """(expression, NumPy function of ``variables``) for ``text``; a LabInputError says what is wrong.

    Readings are cached (the page sends the same function again as a slider moves)."""
    return _read_function(text, tuple(variables), what)


@lru_cache(maxsize=256)
def _read_function(text: str, variables: tuple[str, ...], what: str) -> tuple[sp.Expr, Callable]:
    def checked(expr: sp.Expr) -> None:
        check_size(expr, what)
        check_defined(expr, what)

    with symbolic_errors_as_input_errors(f"read {what}"):  # another variable: a SymbolicError, so "domain"
        return read_formula(text, variables, what, check=checked)


def largest_number_digits(expr: sp.Expr) -> int:
    """How many decimal digits the longest integer (or numerator, or denominator) in ``expr`` has."""
    bits = max((max(abs(r.p).bit_length(), r.q.bit_length()) for r in expr.atoms(sp.Rational)), default=0)
    return int(bits * 0.30103) + 1  # log10(2)


def check_size(expr: sp.Expr, what: str) -> None:
    """Refuse an expression with a number too long to print (and far too long for a float)."""
    digits = largest_number_digits(expr)
    if digits > MAX_DIGITS:
        raise LabInputError(f"{what} has a number of about {digits:,} digits; the lab shows numbers of at most "
                            f"{MAX_DIGITS:,} digits. Try smaller powers or coefficients.", "limit")


def check_defined(expr: sp.Expr, what: str) -> None:
    """Refuse an expression that is undefined everywhere (it contains complex infinity or NaN)."""
    if expr.has(sp.zoo, sp.nan):
        raise LabInputError(f"{what} is undefined: part of it is a division by zero, such as log(0), cot(0), "
                            f"tan(pi/2) or log(x, 1) = log(x)/log(1) (SymPy reads it as {sp.sstr(expr)[:80]}).",
                            "domain")


def evaluate(f: Callable, *grids: np.ndarray) -> np.ndarray:
    """``f`` on the grids as a float array of the grids' shape (constants are spread; warnings silenced)."""
    with np.errstate(all="ignore"):
        try:
            values = f(*grids)
        except (ArithmeticError, AttributeError, NameError, TypeError, ValueError) as error:
            raise LabInputError(f"cannot evaluate the function: {error}", "domain") from None
        values = np.asarray(values)
        if np.iscomplexobj(values):
            values = np.where(np.abs(values.imag) < 1e-12, values.real, np.nan)
        return np.broadcast_to(values.astype(float), np.broadcast(*grids).shape)


def finite_list(values: np.ndarray) -> list:
    """Nested lists of floats, with every non-finite entry replaced by ``None`` (JSON has no NaN)."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array), array, None).tolist()


def finite_number(value: float) -> float | None:
    """A float for JSON, or ``None`` when it is not finite."""
    value = float(value)
    return value if np.isfinite(value) else None
