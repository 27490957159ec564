"""Stochastic differential equations dX = a(t, X) dt + b(t, X) dW with diagonal (or scalar) noise.

Euler–Maruyama:  X_{n+1} = X_n + a Δt + b ΔW,              ΔW ~ N(0, Δt)   (strong order ½, weak order 1)
Milstein:        X_{n+1} = X_n + a Δt + b ΔW + ½ b ∂b/∂x (ΔW² − Δt)        (strong order 1)

Milstein's ∂b/∂x comes from calcml's forward mode (a JVP with tangent 1), so for a vector state each b_i
must depend on x_i only (diagonal noise); otherwise pass ``diffusion_derivative``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.autodiff.tensor import as_float_array
from calcml.autodiff.transforms import jvp
from calcml.ode import arguments
from calcml.ode.errors import NonFiniteError, SolverInputError


def brownian_increments(ts: Any, n_paths: int, shape: tuple[int, ...], rng: Any = None) -> np.ndarray:
    """ΔW_n = W(t_{n+1}) − W(t_n) ~ N(0, Δt_n), shape (len(ts) − 1, n_paths, *shape)."""
    ts = np.asarray(ts, dtype=float)
    rng = np.random.default_rng(rng)
    dt = np.diff(ts).reshape((-1, 1) + (1,) * len(shape))
    return np.sqrt(dt) * rng.standard_normal((len(ts) - 1, n_paths) + tuple(shape))


def _prepare(x0: Any, ts: Any, rng: Any, n_paths: int, dW: Any, caller: str):
    """Checked inputs (SolverInputError, before any work): finite x0, ts and dW, increasing ts, n_paths ≥ 1."""
    arguments.finite_array(x0, "x0", caller)
    x0 = as_float_array(x0)
    ts = np.asarray(ts, dtype=float).ravel()
    arguments.finite_array(ts, "ts", caller)
    if len(ts) < 2 or np.any(np.diff(ts) <= 0):
        raise SolverInputError(f"{caller}: ts must be at least two increasing times, got {ts!r}.")
    n_paths = arguments.count(n_paths, "n_paths", caller)
    if dW is None:
        dW = brownian_increments(ts, n_paths, x0.shape, rng)
    dW = np.asarray(dW, dtype=float)
    arguments.finite_array(dW, "dW", caller)
    expected = (len(ts) - 1, n_paths) + x0.shape
    if dW.shape != expected:
        raise ShapeError(f"{caller}: dW has shape {dW.shape}, expected (len(ts) − 1, n_paths, *x0.shape) = "
                         f"{expected}.")
    return np.broadcast_to(x0, (n_paths,) + x0.shape).copy(), ts, dW


def euler_maruyama(drift: Callable, diffusion: Callable, x0: Any, ts: Any, rng: Any = None, n_paths: int = 1,
                   dW: Any = None) -> np.ndarray:
    """Paths of dX = drift(t, X) dt + diffusion(t, X) dW: shape (len(ts), n_paths, *x0.shape).

    ``drift`` and ``diffusion`` act on a batch of states (n_paths, *x0.shape). Give ``dW`` (from
    ``brownian_increments``) to drive several schemes with the same Brownian path. NaN/±inf in x0, ts
    or dW is refused before any work (SolverInputError); a path that turns non-finite stops the run with
    NonFiniteError naming the path, the time and the state.

    >>> paths = cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 0.5, np.zeros(1), np.linspace(0, 1, 101),
    ...                               rng=0, n_paths=1000)
    >>> paths.shape
    (101, 1000, 1)
    """
    x, ts, dW = _prepare(x0, ts, rng, n_paths, dW, "euler_maruyama")
    path = [x]
    for n, dt in enumerate(np.diff(ts)):
        t = ts[n]
        x_new = x + drift(t, x) * dt + diffusion(t, x) * dW[n]
        _check_finite("euler_maruyama", x_new, x, t, ts[n + 1])
        x = x_new
        path.append(x)
    return np.stack(path)


def _check_finite(caller: str, x_new: Any, x: Any, t: float, t_new: float) -> None:
    """NonFiniteError naming the path, the time and the state when a step produced NaN or ±inf."""
    values = np.asarray(x_new.value if hasattr(x_new, "value") else x_new)
    bad = ~np.isfinite(values)
    if np.any(bad):
        path = int(np.argwhere(bad)[0][0])
        before = np.ravel(np.asarray(x.value if hasattr(x, "value") else x)[path])[:6]
        raise NonFiniteError(
            f"{caller}: path {path} became non-finite at t = {t_new:.10g}, stepping from x = {before} at t = "
            f"{t:.10g}.\n  the drift or diffusion is NaN/±inf there, or the scheme is unstable at this step "
            "size (a strongly contracting or super-linear drift): take smaller time steps.")


def milstein(drift: Callable, diffusion: Callable, x0: Any, ts: Any, rng: Any = None, n_paths: int = 1,
             dW: Any = None, diffusion_derivative: Callable | None = None) -> np.ndarray:
    """Milstein's scheme (strong order 1): Euler–Maruyama plus ½ b b' (ΔW² − Δt).

    b' = ∂b/∂x is ``diffusion_derivative(t, x)`` or, by default, the forward-mode derivative of
    ``diffusion`` (diagonal noise). Output shape (len(ts), n_paths, *x0.shape).
    """
    x, ts, dW = _prepare(x0, ts, rng, n_paths, dW, "milstein")
    path = [x]
    for n, dt in enumerate(np.diff(ts)):
        t = ts[n]
        if diffusion_derivative is None:
            # + 0·x gives b the shape of x even when the diffusion is a constant
            b, db = jvp(lambda x: diffusion(t, x) + 0.0 * x, (x,), (np.ones_like(x),))
        else:
            b, db = diffusion(t, x), diffusion_derivative(t, x)
        x_new = x + drift(t, x) * dt + b * dW[n] + 0.5 * b * db * (dW[n] ** 2 - dt)
        _check_finite("milstein", x_new, x, t, ts[n + 1])
        x = x_new
        path.append(x)
    return np.stack(path)
