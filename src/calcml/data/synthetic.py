"""Small synthetic data sets whose generative model is known, so what a learner finds can be checked.

Each takes a ``seed`` (the same seed gives the same data) and returns a ``Sample``, which unpacks as
``X, y = cm.data.spirals()``; the regression sets also carry the true coefficients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sample:
    """Features ``X`` (n, d), targets ``y`` (n,), and for the regression sets the true ``coef`` and
    ``intercept`` of the model the data were drawn from (``model`` says which)."""

    X: np.ndarray
    y: np.ndarray
    model: str
    coef: np.ndarray | None = None
    intercept: float | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))


def spirals(n_per_class: int = 100, n_classes: int = 2, noise: float = 0.2, turns: float = 0.75,
            seed: int = 0) -> Sample:
    """Interleaved spiral arms, one per class: a set no linear model separates.

    Arm k: radius r = i/(n−1) for i = 0..n−1 and angle θ = 2π(turns·r + k/K) + noise·ε, ε ~ N(0, 1);
    x = (r sin θ, r cos θ). Labels are int64 0..K−1.
    """
    rng = np.random.default_rng(seed)
    r = np.linspace(0.0, 1.0, n_per_class)
    X, y = [], []
    for k in range(n_classes):
        theta = 2 * np.pi * (turns * r + k / n_classes) + noise * rng.standard_normal(n_per_class)
        X.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        y.append(np.full(n_per_class, k, dtype=np.int64))
    return Sample(np.concatenate(X), np.concatenate(y),
                  f"{n_classes} spiral arms, angle 2π({turns}·r + k/{n_classes}) + {noise}·N(0, 1)")


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Sample:
    """Two interleaving half circles (as scikit-learn's make_moons).

    Class 0: (cos t, sin t); class 1: (1 − cos t, 1/2 − sin t), t uniform on [0, π] (n/2 points each),
    plus noise·N(0, I). Labels are int64 0/1.
    """
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    X = np.concatenate([np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
                        np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)])
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return Sample(X, y, f"two half circles plus {noise}·N(0, I)")


def linear_regression(n: int = 200, n_features: int = 3, noise: float = 0.1, seed: int = 0) -> Sample:
    """y = X w + b + noise·ε with X ~ N(0, I), true w ~ N(0, I), b ~ N(0, 1) and ε ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    coef = rng.standard_normal(n_features)
    intercept = float(rng.standard_normal())
    X = rng.standard_normal((n, n_features))
    y = X @ coef + intercept + noise * rng.standard_normal(n)
    return Sample(X, y, f"y = X w + b + {noise}·N(0, 1)", coef, intercept)


def logistic_regression(n: int = 500, n_features: int = 2, scale: float = 2.0, seed: int = 0) -> Sample:
    """Labels y ~ Bernoulli(σ(X w + b)) with X ~ N(0, I), true w ~ scale·N(0, I), b ~ N(0, 1);
    σ(z) = 1/(1 + e^(−z)). Labels are int64 0/1; the classes overlap, so the maximum-likelihood
    coefficients are finite."""
    rng = np.random.default_rng(seed)
    coef = scale * rng.standard_normal(n_features)
    intercept = float(rng.standard_normal())
    X = rng.standard_normal((n, n_features))
    p = 1.0 / (1.0 + np.exp(-(X @ coef + intercept)))
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return Sample(X, y, "y ~ Bernoulli(σ(X w + b))", coef, intercept)
