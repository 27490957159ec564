"""The error cm.curvature raises for arguments it cannot use, and the checks its functions share."""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.errors import CalcmlError


class CurvatureInputError(CalcmlError, ValueError):
    """An argument of a cm.curvature function is out of its range (a count below 1, an unknown method ...)."""


def positive_integer(value: Any, name: str, where: str, least: int = 1) -> int:
    """``value`` as an int when it is an integer ≥ ``least``; otherwise a CurvatureInputError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise CurvatureInputError(f"{where}: {name} must be an integer ≥ {least}, got {value!r}.")
    return int(value)


def finite_start(theta: np.ndarray, where: str) -> np.ndarray:
    """The flattened starting parameters when every entry is finite; a NaN or ±inf start is refused (a solver
    started there would only report "not converged" with a NaN loss)."""
    if not np.all(np.isfinite(theta)):
        bad = int(np.flatnonzero(~np.isfinite(theta))[0])
        raise CurvatureInputError(f"{where}: the starting parameters hold {theta[bad]!r} (entry {bad} of the "
                                  f"flattened parameters); start from finite values.")
    return theta
