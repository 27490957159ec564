"""SDE schemes against closed forms: Ornstein–Uhlenbeck moments, weak and strong orders on geometric
Brownian motion, and Langevin samples of known densities."""

from __future__ import annotations

import numpy as np
import pytest

from calcml import sde


def test_ornstein_uhlenbeck_mean_and_variance():
    # dX = θ(μ − X)dt + σ dW:  E X_t = μ + (x0 − μ)e^{−θt},  Var X_t = σ²(1 − e^{−2θt})/(2θ)
    theta, mu, sigma, x0 = 2.0, 1.0, 0.5, 3.0
    ts = np.linspace(0.0, 1.0, 501)
    paths = sde.euler_maruyama(lambda t, x: theta * (mu - x), lambda t, x: sigma, np.array([x0]), ts, rng=0,
                               n_paths=20_000)
    assert paths.shape == (501, 20_000, 1)
    for k in (100, 250, 500):
        t, x = ts[k], paths[k, :, 0]
        mean = mu + (x0 - mu) * np.exp(-theta * t)
        var = sigma ** 2 * (1 - np.exp(-2 * theta * t)) / (2 * theta)
        se_mean, se_var = np.sqrt(var / len(x)), var * np.sqrt(2 / len(x))
        assert abs(x.mean() - mean) < 4 * se_mean + 5e-3     # + the O(Δt) bias of the scheme
        assert abs(x.var() - var) < 4 * se_var + 5e-3


GBM_MU, GBM_SIGMA = 1.0, 0.5


def _gbm(scheme, n_steps, dW_fine, n_fine):
    """X_T by ``scheme`` on a coarse grid driven by the fine Brownian increments (summed)."""
    ts = np.linspace(0.0, 1.0, n_steps + 1)
    dW = dW_fine.reshape(n_steps, n_fine // n_steps, *dW_fine.shape[1:]).sum(axis=1)
    return scheme(lambda t, x: GBM_MU * x, lambda t, x: GBM_SIGMA * x, np.array([1.0]), ts,
                  n_paths=dW.shape[1], dW=dW)[-1, :, 0]


def test_euler_maruyama_weak_order_one():
    # E X_T = e^{μT} for dX = μX dt + σX dW; EM gives (1 + μh)^N exactly in expectation
    # (the exact X_T on the same paths is a control variate: it removes most of the Monte Carlo noise)
    n_fine, n_paths = 64, 100_000
    dW = sde.brownian_increments(np.linspace(0, 1, n_fine + 1), n_paths, (1,), rng=1)
    exact = np.exp((GBM_MU - GBM_SIGMA ** 2 / 2) + GBM_SIGMA * dW.sum(axis=0)[:, 0])
    steps = [4, 8, 16, 32]
    errors = [abs(np.mean(_gbm(sde.euler_maruyama, n, dW, n_fine) - exact))
              for n in steps]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.25), (errors, orders)
    exact_bias = [np.exp(GBM_MU) - (1 + GBM_MU / n) ** n for n in steps]
    np.testing.assert_allclose(errors, exact_bias, rtol=0.05)


def test_strong_orders_milstein_one_euler_maruyama_half():
    n_fine, n_paths = 256, 4000
    dW = sde.brownian_increments(np.linspace(0, 1, n_fine + 1), n_paths, (1,), rng=2)
    W_T = dW.sum(axis=0)[:, 0]
    exact = np.exp((GBM_MU - GBM_SIGMA ** 2 / 2) + GBM_SIGMA * W_T)
    steps = [8, 16, 32, 64]
    for scheme, order in ((sde.milstein, 1.0), (sde.euler_maruyama, 0.5)):
        errors = [np.mean(np.abs(_gbm(scheme, n, dW, n_fine) - exact)) for n in steps]
        slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
        assert abs(slope - order) < 0.15, (scheme.__name__, errors, slope)


def test_milstein_with_explicit_derivative_equals_autodiff():
    ts = np.linspace(0, 1, 11)
    dW = sde.brownian_increments(ts, 3, (2,), rng=0)
    auto = sde.milstein(lambda t, x: -x, lambda t, x: np.sin(x), np.array([0.3, 1.0]), ts, n_paths=3, dW=dW)
    given = sde.milstein(lambda t, x: -x, lambda t, x: np.sin(x), np.array([0.3, 1.0]), ts, n_paths=3, dW=dW,
                         diffusion_derivative=lambda t, x: np.cos(x))
    np.testing.assert_allclose(auto, given, rtol=1e-14)


def test_langevin_gaussian_moments_ula_bias_and_mala():
    m, s2, h = 1.0, 4.0, 0.2
    log_p = lambda x: -0.5 * np.sum((x - m) ** 2, axis=-1) / s2
    chain = sde.langevin(log_p, np.zeros((4000, 1)), h, 200, rng=0, burn_in=300)
    x = chain.samples.ravel()
    assert abs(x.mean() - m) < 0.03
    ula_variance = s2 / (1 - h / (2 * s2))       # the stationary variance of the discretized chain
    assert abs(x.var() - ula_variance) < 0.05 and abs(x.var() - s2) > 0.05
    chain = sde.langevin(log_p, np.zeros((4000, 1)), 1.0, 200, rng=0, burn_in=300, mala=True)
    x = chain.samples.ravel()
    assert abs(x.mean() - m) < 0.03 and abs(x.var() - s2) < 0.06
    assert 0.5 < chain.acceptance_rate.mean() < 1.0


def test_langevin_mixture_mean():
    # p = 0.3 N(−2, 1) + 0.7 N(2, 1): mean 0.3·(−2) + 0.7·2 = 0.8
    def log_p(x):
        x = x[..., 0]
        return np.log(0.3 * np.exp(-0.5 * (x + 2) ** 2) + 0.7 * np.exp(-0.5 * (x - 2) ** 2))

    chain = sde.langevin(log_p, np.zeros((2000, 1)), 0.1, 1500, rng=3, burn_in=500, mala=True)
    assert abs(chain.samples.mean() - 0.8) < 0.08


def test_increment_shape_is_checked():
    with pytest.raises(ValueError, match="dW has shape"):
        sde.euler_maruyama(lambda t, x: x, lambda t, x: 1.0, np.zeros(1), np.linspace(0, 1, 5), n_paths=2,
                           dW=np.zeros((3, 2, 1)))
