"""Wynn's ε-algorithm: the limit of a slowly converging sequence of partial integrals.

For partial sums s_k whose error is a sum of geometric terms Σ c_i r_iᵏ (what an integrable power
singularity x^α produces under halving of the distance to the endpoint; log x gives (a + b·k) rᵏ), the
Shanks transform removes the terms one after another. Wynn (1956) computes it by

    ε₋₁⁽ᵏ⁾ = 0,   ε₀⁽ᵏ⁾ = s_k,   ε_{j+1}⁽ᵏ⁾ = ε_{j−1}⁽ᵏ⁺¹⁾ + 1 / (ε_j⁽ᵏ⁺¹⁾ − ε_j⁽ᵏ⁾),

and the even columns ε_{2j} are the accelerated estimates. The same arithmetic runs on floats and
on calcml Tensors, so a limit chosen on plain numbers can be recomputed on traced partial sums and
differentiated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff.tensor import Tensor


def _number(x: Any) -> float:
    """A plain float, read from a Tensor's value: only decides where the table stops (float() of a
    traced entry would be refused by the engine)."""
    return float(x.value) if type(x) is Tensor else float(x)


class Extrapolated(NamedTuple):
    value: float
    error: float
    row: int  # the entry ε_column^(row) that was chosen
    column: int


def epsilon_table(sequence: Sequence[Any]) -> list[list[Any]]:
    """columns[j][k] = ε_j⁽ᵏ⁾ for j = 0, 1, …; a column stops where a difference vanishes."""
    previous: list[Any] = [0.0] * (len(sequence) + 1)
    current = list(sequence)
    columns = [current]
    while len(current) > 1:
        following = []
        for k in range(len(current) - 1):
            difference = current[k + 1] - current[k]
            if _number(difference) == 0.0:
                break  # the sequence is constant here: this column ends (the limit is already reached)
            following.append(previous[k + 1] + 1.0 / difference)
        if not following:
            break
        previous, current = current, following
        columns.append(current)
    return columns


def extrapolate(sequence: Sequence[float]) -> Extrapolated:
    """The best accelerated limit on the latest anti-diagonal, with an error estimate.

    The error of ε_2j⁽ᵏ⁾ is estimated by its distance to the two previous entries of the same column,
    |ε⁽ᵏ⁾ − ε⁽ᵏ⁻¹⁾| + |ε⁽ᵏ⁻¹⁾ − ε⁽ᵏ⁻²⁾|, plus rounding (the ε-algorithm amplifies it); the column
    with the smallest estimate wins.
    """
    columns = epsilon_table(sequence)
    last = len(sequence) - 1
    best = Extrapolated(_number(sequence[-1]), np.inf, last, 0)
    for column in range(0, len(columns), 2):
        entries = columns[column]
        k = last - column
        if k < 2 or len(entries) <= k:
            continue
        a, b, c = (_number(entries[i]) for i in (k, k - 1, k - 2))
        error = abs(a - b) + abs(b - c) + 50 * np.finfo(float).eps * max(abs(a), abs(_number(sequence[-1])))
        if error < best.error:
            best = Extrapolated(a, error, k, column)
    return best
