"""Functions typed by a person, read safely and evaluated on bounded grids, with JSON-ready values.

Text is read by calcml's own parser (never ``eval``) under a symbolic time limit; only the named
variables may appear; values that are not finite (a pole, log of a negative) become ``None`` so that
the page draws a gap instead of the server failing to write NaN into JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import sympy as sp

from calcml.lab.errors import LabInputError, symbolic_errors_as_input_errors
from calcml.symbolic import lambdify, parse, time_limit

PARSE_SECONDS = 2.0  # reading and compiling one function; the parser's own bounds keep it far below this


def read_function(text: str, variables: Sequence[str], what: str = "the function") -> tuple[sp.Expr, Callable]:
    """(expression, NumPy function of ``variables``) for ``text``; a LabInputError says what is wrong.

    Readings are cached (the page sends the same function again as a slider moves)."""
    return _read_function(text, tuple(variables), what)


@lru_cache(maxsize=256)
def _read_function(text: str, variables: tuple[str, ...], what: str) -> tuple[sp.Expr, Callable]:
    with symbolic_errors_as_input_errors(), time_limit(PARSE_SECONDS, f"reading {what}"):
        expr = parse(text)
        unknown = sorted(s.name for s in expr.free_symbols if s.name not in variables)
        if unknown:
            allowed = " and ".join(variables)
            raise LabInputError(f"{what} may only use {allowed}; it also has {', '.join(unknown)}.", "domain")
        return expr, lambdify(expr, list(variables))


def evaluate(f: Callable, *grids: np.ndarray) -> np.ndarray:
    """``f`` on the grids as a float array of the grids' shape (constants are spread; warnings silenced)."""
    with np.errstate(all="ignore"):
        try:
            values = f(*grids)
        except (ValueError, TypeError, ArithmeticError) as error:
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
