"""``nquad``: iterated adaptive quadrature for double and triple integrals with variable limits.

    ∫_a^b ∫_{c(x)}^{d(x)} f(x, y) dy dx = ∫_a^b F(x) dx,   F(x) = ∫_{c(x)}^{d(x)} f(x, y) dy

Each outer node x gets its own adaptive inner integral (``quad``), so the inner limits may be any
functions of the outer variables. The inner integrals are computed ten times more accurately than
the outer one; the reported error is the outer estimate plus (worst relative inner error)·|I| (an
estimate, not a bound, when the inner integrals change sign). An inner error is taken relative to the
largest inner value seen, not to its own value: far in a Gaussian's tail the inner integral is 1e-300
with an absolute error of 1e-313, which says nothing about I. converged means the reported error is
within the tolerance, never only that each quad stopped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.integrate.quad import (
    DEFAULT_ATOL,
    IntegrationInputError,
    IntegrationWarning,
    QuadResult,
    check_count,
    check_tolerances,
    quad,
)


def _number(value: Any) -> float:
    """The float of a result's value, read from a Tensor's value (never float() on a traced Tensor)."""
    return float(value.value) if type(value) is Tensor else float(value)


def nquad(f: Callable, ranges: Sequence[tuple[Any, Any]], rtol: float = 1e-10, atol: float = DEFAULT_ATOL,
          limit: int = 2000) -> QuadResult:
    """∫…∫ f(x₀, x₁, …) dx_{n−1} … dx₀ with ranges[0] the outermost variable's limits.

    A limit of ranges[k] may be a number (±np.inf too) or a function of x₀ … x_{k−1}.

    >>> cm.integrate.nquad(lambda x, y: x * y, [(0, 1), (0, lambda x: x)]).value   # ∫∫_{y ≤ x} xy = 1/8
    0.125
    """
    if not ranges:
        raise IntegrationInputError("nquad needs at least one range, e.g. [(0, 1), (0, 1)].")
    rtol, atol = check_tolerances(rtol, atol, "nquad")
    limit = check_count(limit, "limit", "nquad")
    record = _Record()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)  # reported once, below, for the whole integral
        result = _iterate(f, list(ranges), (), rtol, atol, limit, record)
    error = result.error + record.worst_relative_error * abs(_number(result.value))
    converged = result.converged and record.converged and error <= max(atol, rtol * abs(_number(result.value)))
    if not converged:
        warnings.warn(f"nquad did not reach the tolerance (rtol={rtol:g}): estimated error {error:.2e}.",
                      IntegrationWarning, stacklevel=2)
    return QuadResult(result.value, error, record.evals, converged, result.intervals,
                      f"iterated {result.method} ({len(ranges)} levels)")


class _Record:
    """Evaluations, convergence and, per level of nesting, the largest inner value and the worst inner error."""

    def __init__(self) -> None:
        self.evals = 0
        self.converged = True
        self.largest_value: dict[int, float] = {}
        self.worst_error: dict[int, float] = {}

    @property
    def worst_relative_error(self) -> float:
        """Σ over the inner levels of (worst error)/(largest value): the relative errors of nested levels add."""
        total = 0.0
        for level, error in self.worst_error.items():
            if error > 0:
                total += error / self.largest_value[level] if self.largest_value[level] > 0 else np.inf
        return total

    def add(self, result: QuadResult, level: int | None) -> None:
        """Count a result's convergence; an inner one (``level`` = its depth) also its value and error."""
        self.converged = self.converged and result.converged
        if level is not None:
            self.largest_value[level] = max(self.largest_value.get(level, 0.0), abs(_number(result.value)))
            self.worst_error[level] = max(self.worst_error.get(level, 0.0), result.error)


def _iterate(f: Callable, ranges: list, outer: tuple, rtol: float, atol: float, limit: int,
             record: _Record) -> QuadResult:
    lo, hi = (bound(*outer) if callable(bound) else bound for bound in ranges[0])
    if len(ranges) == 1:
        result = quad(lambda x: f(*outer, x), lo, hi, rtol=rtol, atol=atol, limit=limit)
        record.evals += result.evals
        return result

    def inner(xs: Any) -> Any:
        values = []
        for x in np.atleast_1d(xs):
            r = _iterate(f, ranges[1:], (*outer, x), rtol / 10.0, atol / 10.0, limit, record)
            record.add(r, level=len(outer) + 1)
            values.append(r.value)
        return np.stack(values).reshape(np.shape(xs))

    result = quad(inner, lo, hi, rtol=rtol, atol=atol, limit=limit)
    record.add(result, level=None)
    return result
