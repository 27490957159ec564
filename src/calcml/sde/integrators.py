"""Stochastic differential equations dX = a(t, X) dt + b(t, X) dW with diagonal (or scalar) noise.

Euler–Maruyama:  X_{n+1} = X_n + a Δt + b ΔW,              ΔW ~ N(0, Δt)   (strong order ½, weak order 1)
Milstein:        X_{n+1} = X_n + a Δt + b ΔW + ½ b ∂b/∂x (ΔW² − Δt)        (strong order 1)

Milstein's ∂b/∂x comes from calcml's forward mode (a JVP with tangent 1), so for a vector state each b_i
must depend on x_i only (diagonal noise); otherwise pass ``diffusion_derivative``.

Paths are simulated in blocks of ``PATHS_PER_STREAM``, block b driven by the b-th stream spawned from the seed
(``calcml.sweep.blocks``): ``backend="processes"`` or ``"dask"`` simulates the blocks in parallel and returns
the same paths, sample for sample, as one core.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.autodiff.tensor import as_float_array
from calcml.autodiff.transforms import jvp
from calcml.ode import arguments
from calcml.ode.errors import NonFiniteError, SolverInputError
from calcml.sweep.backends import resolve_backend
from calcml.sweep.blocks import map_blocks

PATHS_PER_STREAM = 256  # fixed, so that how the blocks are grouped into tasks never changes the paths
Step = Callable[[float, float, Any, np.ndarray], Any]  # (t, Δt, X_n, ΔW_n) ↦ X_{n+1}


def brownian_increments(ts: Any, n_paths: int, shape: tuple[int, ...], rng: Any = None) -> np.ndarray:
    """ΔW_n = W(t_{n+1}) − W(t_n) ~ N(0, Δt_n), shape (len(ts) − 1, n_paths, *shape)."""
    ts = np.asarray(ts, dtype=float)
    rng = np.random.default_rng(rng)
    dt = np.diff(ts).reshape((-1, 1) + (1,) * len(shape))
    return np.sqrt(dt) * rng.standard_normal((len(ts) - 1, n_paths) + tuple(shape))


def _simulate(step: Step, caller: str, x0: Any, ts: Any, rng: Any, n_paths: int, dW: Any, backend: str | None,
              client: Any, chunks: int | None) -> np.ndarray:
    """Checked inputs (SolverInputError, before any work: finite x0, ts and dW, increasing ts, n_paths ≥ 1),
    then the paths: driven by ``dW`` when given, else block by block on ``backend``."""
    arguments.finite_array(x0, "x0", caller)
    x0 = as_float_array(x0)
    ts = np.asarray(ts, dtype=float).ravel()
    arguments.finite_array(ts, "ts", caller)
    if len(ts) < 2 or np.any(np.diff(ts) <= 0):
        raise SolverInputError(f"{caller}: ts must be at least two increasing times, got {ts!r}.")
    n_paths = arguments.count(n_paths, "n_paths", caller)
    if dW is None:
        blocks = map_blocks(partial(_block_paths, step, caller, x0, ts), n_paths, PATHS_PER_STREAM, rng, backend,
                            client, chunks)
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    if resolve_backend(backend, client, "serial") != "serial":
        raise SolverInputError(f"{caller}: a given dW runs in this process; to simulate on backend={backend!r}, "
                               "pass rng= (a seed) instead of dW.")
    dW = np.asarray(dW, dtype=float)
    arguments.finite_array(dW, "dW", caller)
    expected = (len(ts) - 1, n_paths) + x0.shape
    if dW.shape != expected:
        raise ShapeError(f"{caller}: dW has shape {dW.shape}, expected (len(ts) − 1, n_paths, *x0.shape) = "
                         f"{expected}.")
    return _integrate(step, caller, x0, ts, dW, first_path=0)


def _block_paths(step: Step, caller: str, x0: Any, ts: np.ndarray, block: range,
                 rng: np.random.Generator) -> np.ndarray:
    """The paths numbered ``block``, driven by Brownian increments drawn from ``rng``."""
    return _integrate(step, caller, x0, ts, brownian_increments(ts, len(block), x0.shape, rng), block.start)


def _integrate(step: Step, caller: str, x0: Any, ts: np.ndarray, dW: np.ndarray, first_path: int) -> np.ndarray:
    """X_0 = x0 on every path, then X_{n+1} = step(t_n, Δt_n, X_n, ΔW_n), stopping at a non-finite state."""
    x = np.broadcast_to(x0, (dW.shape[1],) + x0.shape).copy()
    path = [x]
    for n, dt in enumerate(np.diff(ts)):
        x_new = step(ts[n], dt, x, dW[n])
        _check_finite(caller, x_new, x, ts[n], ts[n + 1], first_path)
        x = x_new
        path.append(x)
    return np.stack(path)


def euler_maruyama(drift: Callable, diffusion: Callable, x0: Any, ts: Any, rng: Any = None, n_paths: int = 1,
                   dW: Any = None, backend: str | None = None, client: Any = None,
                   chunks: int | None = None) -> np.ndarray:
    """Paths of dX = drift(t, X) dt + diffusion(t, X) dW: shape (len(ts), n_paths, *x0.shape).

    ``drift`` and ``diffusion`` act on a batch of states (n_paths, *x0.shape). Give ``dW`` (from
    ``brownian_increments``) to drive several schemes with the same Brownian path. NaN/±inf in x0, ts
    or dW is refused before any work (SolverInputError); a path that turns non-finite stops the run with
    NonFiniteError naming the path, the time and the state. ``backend`` "serial" (default), "processes" or
    "dask" (``client=``) simulates blocks of paths in ``chunks`` tasks: the same ``rng`` seed, the same paths.

    >>> paths = cm.sde.euler_maruyama(lambda t, x: -x, lambda t, x: 0.5, np.zeros(1), np.linspace(0, 1, 101),
    ...                               rng=0, n_paths=1000)
    >>> paths.shape
    (101, 1000, 1)
    """
    step = partial(_euler_maruyama_step, drift, diffusion)
    return _simulate(step, "euler_maruyama", x0, ts, rng, n_paths, dW, backend, client, chunks)


def _euler_maruyama_step(drift: Callable, diffusion: Callable, t: float, dt: float, x: Any, dw: np.ndarray) -> Any:
    return x + drift(t, x) * dt + diffusion(t, x) * dw


def _check_finite(caller: str, x_new: Any, x: Any, t: float, t_new: float, first_path: int) -> None:
    """NonFiniteError naming the path (numbered from ``first_path``), the time and the state when a step produced
    NaN or ±inf."""
    values = np.asarray(x_new.value if hasattr(x_new, "value") else x_new)
    bad = ~np.isfinite(values)
    if np.any(bad):
        path = int(np.argwhere(bad)[0][0])
        before = np.ravel(np.asarray(x.value if hasattr(x, "value") else x)[path])[:6]
        raise NonFiniteError(
            f"{caller}: path {first_path + path} became non-finite at t = {t_new:.10g}, stepping from x = {before} "
            f"at t = {t:.10g}.\n  the drift or diffusion is NaN/±inf there, or the scheme is unstable at this step "
            "size (a strongly contracting or super-linear drift): take smaller time steps.")


def milstein(drift: Callable, diffusion: Callable, x0: Any, ts: Any, rng: Any = None, n_paths: int = 1,
             dW: Any = None, diffusion_derivative: Callable | None = None, backend: str | None = None,
             client: Any = None, chunks: int | None = None) -> np.ndarray:
    """Milstein's scheme (strong order 1): Euler–Maruyama plus ½ b b' (ΔW² − Δt).

    b' = ∂b/∂x is ``diffusion_derivative(t, x)`` or, by default, the forward-mode derivative of
    ``diffusion`` (diagonal noise). Output shape (len(ts), n_paths, *x0.shape); ``backend``, ``client`` and
    ``chunks`` as for ``euler_maruyama``.
    """
    step = partial(_milstein_step, drift, diffusion, diffusion_derivative)
    return _simulate(step, "milstein", x0, ts, rng, n_paths, dW, backend, client, chunks)


def _milstein_step(drift: Callable, diffusion: Callable, diffusion_derivative: Callable | None, t: float, dt: float,
                   x: Any, dw: np.ndarray) -> Any:
    if diffusion_derivative is None:
        # + 0·x gives b the shape of x even when the diffusion is a constant
        b, db = jvp(lambda x: diffusion(t, x) + 0.0 * x, (x,), (np.ones_like(x),))
    else:
        b, db = diffusion(t, x), diffusion_derivative(t, x)
    return x + drift(t, x) * dt + b * dw + 0.5 * b * db * (dw ** 2 - dt)
