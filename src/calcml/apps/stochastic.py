"""Stochastic calculus, computed: Itô vs Stratonovich, and Langevin dynamics as noisy gradient descent.

**Two integrals of W against itself.** On a grid 0 = t₀ < … < t_N = T, with ΔW_k = W_{k+1} − W_k,

    Itô:           Σ_k W_k ΔW_k                 →  ∫₀ᵀ W dW = (W_T² − T)/2     (left point: no look-ahead)
    Stratonovich:  Σ_k ½(W_k + W_{k+1}) ΔW_k    =  W_T²/2 exactly                (the ordinary chain rule)

Their difference is ½ Σ_k ΔW_k², half the quadratic variation of W, which tends to T/2: Brownian increments are
of size √Δt, so their squares add up to the elapsed time instead of vanishing as (Δt)² would for a smooth path.

**The same SDE read two ways.** dX = σX dW means X_T = x₀ e^{σW_T − σ²T/2} (Itô, E X_T = x₀) or
X_T = x₀ e^{σW_T} (Stratonovich, E X_T = x₀ e^{σ²T/2}). A Stratonovich equation dX = a dt + b∘dW is the
Itô equation with drift a + ½ b ∂b/∂x; the derivative ∂b/∂x comes from calcml's forward mode.

**Langevin dynamics.** Gradient descent with noise, x ← x − η∇U(x) + √(2ηT) ξ, samples (for small η) the
Boltzmann density p(x) ∝ e^{−U(x)/T}; as the temperature T → 0 it is plain gradient descent. It is the
unadjusted Langevin algorithm for log p = −U/T with step h = ηT, run by ``cm.sde.langevin``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.transforms import jvp
from calcml.sde import brownian_increments, euler_maruyama, langevin


@dataclass(frozen=True)
class StochasticIntegrals:
    """Per path: the Itô and Stratonovich sums for ∫₀ᵀ W dW, and W_T."""

    ito: np.ndarray
    stratonovich: np.ndarray
    w_end: np.ndarray
    T: float

    @property
    def difference(self) -> np.ndarray:
        """Stratonovich − Itô = ½ Σ ΔW² per path; its mean is T/2."""
        return self.stratonovich - self.ito


def integrals_of_w_dw(T: float = 1.0, n_steps: int = 1000, n_paths: int = 10_000, rng: Any = None
                      ) -> StochasticIntegrals:
    """The left-point (Itô) and midpoint-average (Stratonovich) sums of ∫₀ᵀ W dW on ``n_paths`` paths."""
    ts = np.linspace(0.0, T, n_steps + 1)
    dw = brownian_increments(ts, n_paths, (), rng)  # (n_steps, n_paths)
    w = np.concatenate([np.zeros((1, n_paths)), np.cumsum(dw, axis=0)])
    ito = np.sum(w[:-1] * dw, axis=0)
    stratonovich = np.sum(0.5 * (w[:-1] + w[1:]) * dw, axis=0)
    return StochasticIntegrals(ito, stratonovich, w[-1], T)


def stratonovich_heun(drift: Callable, diffusion: Callable, x0: Any, ts: Any, dW: np.ndarray) -> np.ndarray:
    """The stochastic Heun scheme, which converges to the Stratonovich solution of dX = a dt + b∘dW:

    x̃ = x + a(x)Δt + b(x)ΔW,   x ← x + ½(a(x) + a(x̃))Δt + ½(b(x) + b(x̃))ΔW   (the trapezoid rule in W).

    Same shapes as ``cm.sde.euler_maruyama``: dW (len(ts) − 1, n_paths, *x0.shape) → (len(ts), n_paths, *x0.shape).
    """
    ts = np.asarray(ts, dtype=float)
    x = np.broadcast_to(np.asarray(x0, dtype=float), dW.shape[1:]).copy()
    path = [x]
    for n, dt in enumerate(np.diff(ts)):
        t, t_next = ts[n], ts[n + 1]
        a, b = drift(t, x), diffusion(t, x)
        guess = x + a * dt + b * dW[n]
        x = x + 0.5 * (a + drift(t_next, guess)) * dt + 0.5 * (b + diffusion(t_next, guess)) * dW[n]
        path.append(x)
    return np.stack(path)


def ito_drift_of_stratonovich(drift: Callable, diffusion: Callable) -> Callable:
    """The drift a + ½ b ∂b/∂x of the Itô SDE equivalent to dX = a dt + b∘dW (diagonal noise).

    ∂b/∂x is one forward-mode pass (a JVP with tangent 1) through ``diffusion``.
    """
    def corrected(t, x):
        b, db = jvp(lambda x: diffusion(t, x) + 0.0 * x, (x,), (np.ones_like(x),))
        return drift(t, x) + 0.5 * b * db

    return corrected


@dataclass(frozen=True)
class GeometricBrownianEnds:
    """X_T of dX = σX dW on the same Brownian paths, by each reading and scheme."""

    ito_exact: np.ndarray
    ito_euler_maruyama: np.ndarray
    stratonovich_exact: np.ndarray
    stratonovich_heun: np.ndarray
    stratonovich_via_ito_drift: np.ndarray


def geometric_brownian_motion(sigma: float = 0.5, x0: float = 1.0, T: float = 1.0, n_steps: int = 200,
                              n_paths: int = 20_000, rng: Any = None) -> GeometricBrownianEnds:
    """dX = σX dW solved as an Itô and as a Stratonovich equation, numerically and in closed form."""
    ts = np.linspace(0.0, T, n_steps + 1)
    dw = brownian_increments(ts, n_paths, (1,), rng)
    w_end = dw.sum(axis=0)[:, 0]

    def no_drift(t, x):
        return 0.0 * x

    def diffusion(t, x):
        return sigma * x

    start = np.array([x0])
    return GeometricBrownianEnds(
        ito_exact=x0 * np.exp(sigma * w_end - 0.5 * sigma**2 * T),
        ito_euler_maruyama=euler_maruyama(no_drift, diffusion, start, ts, n_paths=n_paths, dW=dw)[-1, :, 0],
        stratonovich_exact=x0 * np.exp(sigma * w_end),
        stratonovich_heun=stratonovich_heun(no_drift, diffusion, start, ts, dw)[-1, :, 0],
        stratonovich_via_ito_drift=euler_maruyama(ito_drift_of_stratonovich(no_drift, diffusion), diffusion, start,
                                                  ts, n_paths=n_paths, dW=dw)[-1, :, 0],
    )


def langevin_descent(potential: Callable, x0: Any, lr: float, temperature: float, n_steps: int,
                     rng: Any = None, burn_in: int = 0) -> np.ndarray:
    """Noisy gradient descent x ← x − η∇U(x) + √(2ηT) ξ; returns the iterates, shape (n_steps, *x0.shape).

    ``potential`` maps a batch x of shape (chains, d) to (chains,) energies (or one x of shape (d,) to a
    scalar), as in ``cm.sde.langevin``; ∇U comes from ``cm.grad``. Needs T > 0 (T → 0 is gradient descent).
    """
    if temperature <= 0:
        raise ValueError(f"langevin_descent: temperature must be > 0, got {temperature!r} "
                         "(at T = 0 it is gradient descent: use a tiny T or cm.optim.SGD).")
    chain = langevin(lambda x: -potential(x) / temperature, x0, lr * temperature, n_steps, rng=rng,
                     burn_in=burn_in)
    return chain.samples
