"""Checks of a solver's arguments, done before any work: a NaN never reaches the step-size loop.

A NaN tolerance or initial state used to make every comparison in the loop false, so the solver
neither accepted nor shrank a step and never returned. Each check raises ``SolverInputError``
naming the argument, what it was and what to give instead.

>>> finite_array(np.array([1.0, np.nan]), "y0", "solve")
Traceback (most recent call last):
calcml.ode.errors.SolverInputError: solve: y0 must be finite; y0[1] = nan.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.ode.errors import SolverInputError


def value_of(x: Any) -> np.ndarray:
    """The plain array behind ``x`` (a Tensor's value, read without leaving the graph; else an array)."""
    return x.value if type(x) is Tensor else np.asarray(x)


def first_bad(values: np.ndarray) -> str:
    """'y0[1] = nan'-style text naming the first non-finite entry (for messages)."""
    flat = np.ravel(values)
    i = int(np.argmin(np.isfinite(flat)))
    index = np.unravel_index(i, np.shape(values)) if np.ndim(values) else ()
    where = "[" + ", ".join(map(str, index)) + "]" if index else ""
    return f"{where} = {flat[i]}"


def finite_array(x: Any, name: str, caller: str) -> None:
    """Refuse an array (or Tensor) holding NaN or ±inf."""
    values = value_of(x)
    if values.dtype.kind not in "fciub":
        raise SolverInputError(f"{caller}: {name} must be numbers, got {values.dtype} data.")
    if not np.all(np.isfinite(values)):
        raise SolverInputError(f"{caller}: {name} must be finite; {name}{first_bad(values)}.")


def finite_number(x: Any, name: str, caller: str) -> float:
    """A finite float, or SolverInputError."""
    try:
        value = float(value_of(x))
    except (TypeError, ValueError) as error:
        raise SolverInputError(f"{caller}: {name} must be a number, got {x!r}.") from error
    if not math.isfinite(value):
        raise SolverInputError(f"{caller}: {name} must be finite, got {value}.")
    return value


def positive_number(x: Any, name: str, caller: str, hint: str = "") -> float:
    """A finite float > 0, or SolverInputError."""
    value = finite_number(x, name, caller)
    if value <= 0:
        raise SolverInputError(f"{caller}: {name} must be > 0, got {value:g}.{hint}")
    return value


def count(x: Any, name: str, caller: str, minimum: int = 1) -> int:
    """An integer ≥ ``minimum`` (max_steps, n_paths, n), or SolverInputError."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        raise SolverInputError(f"{caller}: {name} must be an integer ≥ {minimum}, got {x!r}.")
    return int(x)


def tolerances(rtol: Any, atol: Any, caller: str) -> None:
    """rtol and atol: finite, ≥ 0, and not both zero (an error norm against 0 can never be met).

    ``atol`` may be an array (one absolute tolerance per component).
    """
    for name, tol in (("rtol", rtol), ("atol", atol)):
        values = np.asarray(tol, dtype=float) if not isinstance(tol, Tensor) else tol.value
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise SolverInputError(
                f"{caller}: {name} must be a finite number ≥ 0, got {tol!r}.\n"
                "  typical values: rtol=1e-6, atol=1e-9 (tighter for more digits, looser for speed).")
    if np.all(np.asarray(rtol, dtype=float) == 0) and np.all(np.asarray(atol, dtype=float) == 0):
        raise SolverInputError(f"{caller}: rtol and atol are both 0: no step could ever meet that tolerance; "
                               "give rtol > 0 (e.g. 1e-6) or atol > 0.")
