"""Test problems with known answers: DETEST class A (Hull, Enright, Fellen & Sedgwick 1972), the harmonic
oscillator, Van der Pol, Lotka–Volterra, Robertson's stiff kinetics and the Arenstorf orbit.

Each ``Problem`` carries its vector field f(t, y), a start, an interval, and, where one exists, the exact
solution or a conserved quantity, so a solver can be checked against mathematics rather than against itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    name: str
    f: Callable
    y0: np.ndarray
    t_span: tuple[float, float]
    exact: Callable | None = None  # t ↦ y(t)
    invariant: Callable | None = None  # (t, y) ↦ a quantity constant along solutions


def _a5_invariant(t, y):
    """A5 is homogeneous: y = vt gives ln r + θ = const in polar coordinates (t, y) = r(cos θ, sin θ)."""
    return np.log(np.hypot(t, y[..., 0])) + np.arctan2(y[..., 0], t)


DETEST_A = (
    Problem("A1: y' = −y", lambda t, y: -y, np.array([1.0]), (0.0, 20.0),
            exact=lambda t: np.exp(-np.asarray(t))[..., None]),
    Problem("A2: y' = −y³/2", lambda t, y: -0.5 * y ** 3, np.array([1.0]), (0.0, 20.0),
            exact=lambda t: (1.0 / np.sqrt(1.0 + np.asarray(t)))[..., None]),
    Problem("A3: y' = y cos t", lambda t, y: y * np.cos(t), np.array([1.0]), (0.0, 20.0),
            exact=lambda t: np.exp(np.sin(np.asarray(t)))[..., None]),
    Problem("A4: y' = (y/4)(1 − y/20)", lambda t, y: 0.25 * y * (1.0 - y / 20.0), np.array([1.0]), (0.0, 20.0),
            exact=lambda t: (20.0 / (1.0 + 19.0 * np.exp(-np.asarray(t) / 4.0)))[..., None]),
    Problem("A5: y' = (y − t)/(y + t)", lambda t, y: (y - t) / (y + t), np.array([4.0]), (0.0, 20.0),
            invariant=_a5_invariant),
)


def harmonic_oscillator(omega: float = 2.0) -> Problem:
    """x'' = −ω²x as (x, v): x = cos ωt, v = −ω sin ωt;  energy ½v² + ½ω²x² is conserved."""
    return Problem(
        f"harmonic oscillator ω = {omega:g}", lambda t, y: np.stack([y[1], -omega ** 2 * y[0]]),
        np.array([1.0, 0.0]), (0.0, 10.0),
        exact=lambda t: np.stack([np.cos(omega * np.asarray(t)), -omega * np.sin(omega * np.asarray(t))], -1),
        invariant=lambda t, y: 0.5 * y[..., 1] ** 2 + 0.5 * omega ** 2 * y[..., 0] ** 2)


def van_der_pol(mu: float = 1.0, t_end: float = 20.0) -> Problem:
    """x'' = μ(1 − x²)x' − x; its limit cycle has period 6.6632868593231… for μ = 1."""
    return Problem(f"Van der Pol μ = {mu:g}",
                   lambda t, y: np.stack([y[1], mu * (1.0 - y[0] ** 2) * y[1] - y[0]]),
                   np.array([2.0, 0.0]), (0.0, t_end))


VAN_DER_POL_PERIOD = 6.6632868593231301896996820305  # μ = 1 (Hairer, Nørsett & Wanner)


def lotka_volterra(alpha: float = 1.5, beta: float = 1.0, delta: float = 1.0, gamma: float = 3.0) -> Problem:
    """Prey x' = αx − βxy, predators y' = δxy − γy;  V = δx − γ ln x + βy − α ln y is conserved."""
    return Problem(
        "Lotka–Volterra", lambda t, y: np.stack([alpha * y[0] - beta * y[0] * y[1],
                                                 delta * y[0] * y[1] - gamma * y[1]]),
        np.array([10.0, 5.0]), (0.0, 15.0),
        invariant=lambda t, y: (delta * y[..., 0] - gamma * np.log(y[..., 0])
                                + beta * y[..., 1] - alpha * np.log(y[..., 1])))


def robertson(t_end: float = 40.0) -> Problem:
    """Robertson's chemical kinetics: rate constants 0.04, 3·10⁷, 10⁴, so stiff; y₁ + y₂ + y₃ = 1 is conserved."""
    return Problem(
        "Robertson", lambda t, y: np.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                                            0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                                            3e7 * y[1] ** 2]),
        np.array([1.0, 0.0, 0.0]), (0.0, t_end), invariant=lambda t, y: np.sum(y, axis=-1))


def arenstorf() -> Problem:
    """The Arenstorf orbit of the restricted three-body problem: periodic with period 17.06521656015796…"""
    mu = 0.012277471
    nu = 1.0 - mu

    def f(t, y):
        d1 = ((y[0] + mu) ** 2 + y[1] ** 2) ** 1.5
        d2 = ((y[0] - nu) ** 2 + y[1] ** 2) ** 1.5
        return np.stack([y[2], y[3],
                         y[0] + 2 * y[3] - nu * (y[0] + mu) / d1 - mu * (y[0] - nu) / d2,
                         y[1] - 2 * y[2] - nu * y[1] / d1 - mu * y[1] / d2])

    return Problem("Arenstorf orbit", f, np.array([0.994, 0.0, 0.0, -2.00158510637908252240537862224]),
                   (0.0, ARENSTORF_PERIOD))


ARENSTORF_PERIOD = 17.0652165601579625588917206249  # the orbit returns to its start
