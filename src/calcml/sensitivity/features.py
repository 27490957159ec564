"""Per-feature sensitivity of a model over a data set: how much, on average, the output moves per unit change of
each input feature.

For a scalar model f and samples x⁽¹⁾ … x⁽ᴺ⁾, the gradients ∂f/∂x_j(x⁽ⁿ⁾) are taken in one ``cm.vmap`` pass, and

    S_j = (1/N) Σ_n |∂f/∂x_j(x⁽ⁿ⁾)|    (how strongly f depends on feature j),
    D_j = (1/N) Σ_n  ∂f/∂x_j(x⁽ⁿ⁾)     (in which direction, on average).

For a linear model f(x) = wᵀx + b both are exact: S = |w|, D = w. The two differ where the effect of a feature
changes sign across the data (S large, D near 0). Sensitivities are per unit of each feature: standardize the
features first to compare them with each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.sensitivity.errors import SensitivityInputError
from calcml.sensitivity.gradients import input_gradients, plain


@dataclass(frozen=True)
class FeatureSensitivity:
    """``mean_abs`` S_j and ``mean`` D_j per feature, from ``gradients`` (one row per sample); ``names`` label the
    features (``x0``, ``x1`` … by default)."""

    mean_abs: np.ndarray
    mean: np.ndarray
    gradients: np.ndarray
    names: tuple[str, ...]

    def ranking(self) -> list[str]:
        """Feature names, most sensitive (largest mean |∂f/∂x_j|) first."""
        return [self.names[j] for j in np.argsort(-self.mean_abs, kind="stable")]

    def table(self) -> str:
        """One line per feature, most sensitive first: mean |∂f/∂x_j| and mean ∂f/∂x_j."""
        width = max(len("feature"), *(len(name) for name in self.names))
        lines = [f"{'feature':<{width}}  {'mean |∂f/∂x|':>13}  {'mean ∂f/∂x':>11}"]
        for j in np.argsort(-self.mean_abs, kind="stable"):
            lines.append(f"{self.names[j]:<{width}}  {self.mean_abs[j]:13.6g}  {self.mean[j]:11.6g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        top = ", ".join(f"{name}: {self.mean_abs[self.names.index(name)]:.4g}" for name in self.ranking()[:3])
        return f"FeatureSensitivity({len(self.names)} features over {len(self.gradients)} samples; top {top})"


def feature_sensitivity(f: Callable[[Any], Any], X: Any, names: Sequence[str] | None = None) -> FeatureSensitivity:
    """Mean |∂f/∂x_j| and mean ∂f/∂x_j over the rows of X (N × d), for a model f of one sample (d,) → scalar.

    >>> w = np.array([2.0, -0.5, 0.0])
    >>> s = cm.sensitivity.feature_sensitivity(lambda x: x @ w + 1.0, np.ones((4, 3)), names=["a", "b", "c"])
    >>> s.mean_abs, s.mean, s.ranking()                      # a linear model: |w| and w
    (array([2. , 0.5, 0. ]), array([ 2. , -0.5,  0. ]), ['a', 'b', 'c'])
    """
    X = plain(X)
    if X.ndim != 2 or len(X) == 0:
        raise SensitivityInputError(f"feature_sensitivity: X must be a non-empty N × d array of samples, got shape "
                                    f"{X.shape}.")
    if not np.all(np.isfinite(X)):
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise SensitivityInputError(f"feature_sensitivity: X[{row}, {column}] is {X[row, column]!r}; the sensitivity "
                                    "is averaged over the rows, so one non-finite sample would make it NaN. Drop or "
                                    "impute that row.")
    labels = tuple(f"x{j}" for j in range(X.shape[1])) if names is None else tuple(str(n) for n in names)
    if len(labels) != X.shape[1]:
        raise SensitivityInputError(f"feature_sensitivity: {len(labels)} names for {X.shape[1]} features.")
    gradients = input_gradients(f, X)
    return FeatureSensitivity(np.abs(gradients).mean(axis=0), gradients.mean(axis=0), gradients, labels)
