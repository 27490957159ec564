"""The SDE integrators and Langevin refuse unusable input before any work, and stop (naming the path,
the time and the state) when a path turns NaN or infinite instead of returning it."""

import numpy as np
import pytest

from calcml import sde
from calcml.ode.errors import NonFiniteError, SolverInputError

ts = np.linspace(0.0, 1.0, 11)
drift, noise = (lambda t, x: -x), (lambda t, x: 0.5)


@pytest.mark.parametrize("scheme", [sde.euler_maruyama, sde.milstein])
def test_bad_input_is_refused(scheme):
    with pytest.raises(SolverInputError, match="x0 must be finite"):
        scheme(drift, noise, np.array([np.nan]), ts, rng=0)
    with pytest.raises(SolverInputError, match="ts must be finite"):
        scheme(drift, noise, np.zeros(1), [0.0, np.nan], rng=0)
    with pytest.raises(SolverInputError, match="increasing"):
        scheme(drift, noise, np.zeros(1), [0.0, 1.0, 0.5], rng=0)
    with pytest.raises(SolverInputError, match="n_paths must be an integer ≥ 1"):
        scheme(drift, noise, np.zeros(1), ts, rng=0, n_paths=0)
    with pytest.raises(SolverInputError, match="dW must be finite"):
        scheme(drift, noise, np.zeros(1), ts, dW=np.full((10, 1, 1), np.inf))


@pytest.mark.parametrize("scheme", [sde.euler_maruyama, sde.milstein])
def test_a_path_that_turns_nan_is_named(scheme):
    f = lambda t, x: np.where(t >= 0.5, np.nan, -x)
    with pytest.raises(NonFiniteError, match=r"path 0 became non-finite at t = 0.6"):
        scheme(f, noise, np.zeros(1), ts, rng=0, n_paths=3)


def test_langevin_checks_its_arguments():
    log_p = lambda x: -0.5 * np.sum(x ** 2, axis=-1)
    for step in (0.0, -0.1, np.nan):
        with pytest.raises(SolverInputError, match="step must be"):
            sde.langevin(log_p, np.zeros(2), step, 10, rng=0)
    with pytest.raises(SolverInputError, match="n must be"):
        sde.langevin(log_p, np.zeros(2), 0.1, 0, rng=0)
    with pytest.raises(SolverInputError, match="x0 must be finite"):
        sde.langevin(log_p, np.array([np.nan, 0.0]), 0.1, 10, rng=0)
    with pytest.raises(NonFiniteError, match="start the chains where p > 0"):
        sde.langevin(lambda x: np.log(x[..., 0]), np.array([-1.0, 0.0]), 0.1, 10, rng=0)
