"""RNN gradients through time: geometric vanishing/exploding at the rate of the spectral radius, the per-step bound,
and clipping that bounds the update and rescues training."""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml.apps import rnn_dynamics as rd


def test_recurrent_matrix_has_the_requested_spectral_radius_and_norm():
    w = rd.recurrent_matrix(12, 1.3, np.random.default_rng(0))
    assert np.max(np.abs(np.linalg.eigvals(w))) == pytest.approx(1.3, rel=1e-12)
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), 1.3, rtol=1e-12)


def test_probe_gradients_equal_bptt_written_by_hand():
    x, y = rd.noisy_sine(np.random.default_rng(1), 4, 12)
    model = rd.NextValuePredictor(hidden=6, radius=1.1, seed=1)
    study = rd.gradients_through_time(model, x, y)
    # the probe unrolling reproduces the model's hidden states ...
    with cm.no_grad():
        states, _ = model.rnn(x)
    np.testing.assert_allclose(study.states, np.moveaxis(states.value, 1, 0), rtol=0, atol=1e-14)
    # ... and its gradients are BPTT: g_T = (ŷ_T − y_T) wᵀ / N,  g_{t−1} = (g_t ⊙ (1 − h_t²)) W_hhᵀ
    w_hh, w_out = model.rnn.weight_hh.value, model.readout.weight.value
    h = study.states
    g = (h[-1] @ w_out + model.readout.bias.value - y[:, -1]) @ w_out.T / len(x)
    norms = [np.linalg.norm(g)]
    for t in range(len(h) - 1, 0, -1):
        g = (g * (1 - h[t] ** 2)) @ w_hh.T
        norms.append(np.linalg.norm(g))
    np.testing.assert_allclose(study.norms, norms[::-1], rtol=1e-12)


@pytest.fixture(scope="module")
def linear_range():
    return rd.through_time_study(radii=(0.7, 0.9, 1.0, 1.1, 1.2))


def test_in_the_linear_range_gradient_norms_go_as_the_spectral_radius_to_the_steps_back(linear_range):
    for study in linear_range:
        assert np.max(np.abs(study.states)) < 0.05  # the tanh is in its linear range
        assert study.rate == pytest.approx(study.radius, rel=2e-3)
        steps_back = np.arange(len(study.norms))[::-1]
        np.testing.assert_allclose(study.norms, study.norms[-1] * study.radius ** steps_back, rtol=0.02)
    shrink, grow = linear_range[0], linear_range[-1]
    assert shrink.norms[0] < 1e-6 * shrink.norms[-1]  # vanishing: 0.7^49 ≈ 2.6e-8
    assert grow.norms[0] > 1e3 * grow.norms[-1]  # exploding: 1.2^49 ≈ 7.6e3
    assert np.all(np.diff(shrink.norms) > 0) and np.all(np.diff(grow.norms) < 0)


@pytest.mark.parametrize("radius", [0.9, 1.5, 2.5])
def test_each_step_back_scales_the_norm_by_radius_times_tanh_slopes(radius):
    # with W_hh = ρQ: ρ·min tanh'(a_t) ≤ ‖∂L/∂h_{t−1}‖ / ‖∂L/∂h_t‖ ≤ ρ·max tanh'(a_t), saturated or not
    x, y = rd.noisy_sine(np.random.default_rng(2), 8, 40, scale=1.0)
    study = rd.gradients_through_time(rd.NextValuePredictor(16, radius, seed=2), x, y)
    slopes = study.tanh_slopes[1:].reshape(len(study.step_ratios), -1)
    assert np.all(study.step_ratios <= radius * slopes.max(axis=1) * (1 + 1e-12))
    assert np.all(study.step_ratios >= radius * slopes.min(axis=1) * (1 - 1e-12))


def test_saturation_damps_the_rate_below_the_radius():
    saturated = rd.through_time_study(radii=(0.9, 2.5), scale=1.0)
    for study in saturated:
        assert study.rate < 0.97 * study.radius
    assert saturated[1].rate > 1.0  # but ρ = 2.5 still explodes


@pytest.fixture(scope="module")
def runs():
    return {"stable": rd.train_next_value(0.9), "exploding": rd.train_next_value(2.5),
            "clipped": rd.train_next_value(2.5, max_norm=5.0)}


def test_clipping_bounds_every_update_and_rescues_training(runs):
    clipped, exploding, stable = runs["clipped"], runs["exploding"], runs["stable"]
    bound = clipped.lr * clipped.max_norm
    assert max(clipped.update_norm) <= bound * (1 + 1e-9)
    assert max(clipped.grad_norm) > 100 * clipped.max_norm  # there was something to clip
    # unclipped, the same start takes steps of lr·‖∇θ‖ and blows up; clipped, it learns
    assert exploding.diverged_at is not None
    assert max(exploding.update_norm) > 100 * bound
    assert clipped.diverged_at is None and clipped.final_loss < 0.05 < clipped.loss[0]
    # below radius 1 no clipping was needed, and the gradients were small
    assert stable.diverged_at is None and stable.final_loss < 0.02
    assert max(exploding.grad_norm) > 100 * max(stable.grad_norm)


def test_updates_without_clipping_are_lr_times_the_gradient(runs):
    stable = runs["stable"]
    np.testing.assert_allclose(stable.update_norm, np.array(stable.grad_norm) * stable.lr, rtol=1e-9)


def test_picture_has_four_panels(runs, linear_range, tmp_path):
    saturated = rd.through_time_study(radii=(0.9, 2.5), scale=1.0)
    fig = cm.viz.rnn_gradients(linear_range, saturated, list(runs.values()), tmp_path / "rnn.png")
    assert (tmp_path / "rnn.png").stat().st_size > 0
    small, unit, losses, _ = fig.axes
    assert len(small.lines) == 2 * len(linear_range)  # measured and ρ^(T−t) for each radius
    assert len(unit.lines) == len(saturated) and len(losses.lines) == len(runs)
