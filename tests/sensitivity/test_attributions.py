"""Attributions against their definitions (Captum's Saliency(abs=False), InputXGradient, IntegratedGradients,
NoiseTunnel smoothgrad), computed by hand on small cases, and completeness on a network."""

import time

import numpy as np
import pytest

import calcml as cm
from calcml.sensitivity import gradient_x_input, integrated_gradients, saliency, smoothgrad
from calcml.sensitivity.gradients import input_gradient, input_gradients


def digits_mlp():
    model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0, dtype=np.float64), cm.nn.Tanh(),
                             cm.nn.Linear(32, 10, rng=1, dtype=np.float64))
    x = cm.data.digits().X_test[0].astype(np.float64)
    return model, x


def test_saliency_of_a_linear_model_is_its_weights():
    model = cm.nn.Linear(5, 1, rng=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal(5)
    s = saliency(lambda x: model(x)[0], x)
    np.testing.assert_array_equal(s, model.weight.value[:, 0])
    np.testing.assert_array_equal(saliency(lambda x: model(x)[0], x, absolute=True), np.abs(model.weight.value[:, 0]))
    assert type(s) is np.ndarray  # a plain array although the model's weights are trainable leaves


def test_hand_computed_product_x1_x2():
    # f(x) = x₁x₂ at (2, 3): ∇f = (x₂, x₁) = (3, 2); gradient × input = (x₁x₂, x₁x₂) = (6, 6);
    # IG from 0: x_i ∫₀¹ α x_j dα = x₁x₂/2 each = (3, 3), summing to f(x) − f(0) = 6
    f = lambda x: x[0] * x[1]
    x = np.array([2.0, 3.0])
    np.testing.assert_array_equal(saliency(f, x), [3.0, 2.0])
    np.testing.assert_array_equal(gradient_x_input(f, x), [6.0, 6.0])
    r = integrated_gradients(f, x, steps=4)
    np.testing.assert_allclose(r.attributions, [3.0, 3.0], rtol=1e-15)
    assert r.completeness_gap == pytest.approx(0.0, abs=1e-14)
    assert r.output_change == 6.0


def test_hand_computed_with_a_baseline_and_each_rule():
    # f(x) = x₁² + 3x₂ from x' = (1, 1) to x = (3, 2): IG₁ = (3 − 1) ∫₀¹ 2(1 + 2α) dα = 2 · 4 = 8, IG₂ = (2 − 1)·3 = 3
    f = lambda x: x[0] ** 2 + 3 * x[1]
    x, base = np.array([3.0, 2.0]), np.array([1.0, 1.0])
    for rule in ("trapezoid", "midpoint"):  # exact: the integrand is linear in α
        np.testing.assert_allclose(integrated_gradients(f, x, base, steps=3, rule=rule).attributions, [8.0, 3.0])
    # 2 panels: the integrand 2(1 + 2α) is 2, 4, 6 at α = 0, ½, 1; left sum (2 + 4)/2 = 3, right (4 + 6)/2 = 5,
    # times x₁ − x'₁ = 2
    left = integrated_gradients(f, x, base, steps=2, rule="riemann_left")
    right = integrated_gradients(f, x, base, steps=2, rule="riemann_right")
    np.testing.assert_allclose(left.attributions, [6.0, 3.0])
    np.testing.assert_allclose(right.attributions, [10.0, 3.0])
    assert left.completeness_gap == pytest.approx(-2.0) and right.completeness_gap == pytest.approx(2.0)


def test_integrated_gradients_of_a_separable_function_are_each_features_own_change():
    # f(x) = e^{x₁} + sin x₂ from 0: IG₁ = e^{x₁} − 1, IG₂ = sin x₂ (the path integral of each term alone)
    f = lambda x: np.exp(x[0]) + np.sin(x[1])
    x = np.array([1.5, 2.0])
    r = integrated_gradients(f, x, steps=400)
    np.testing.assert_allclose(r.attributions, [np.expm1(1.5), np.sin(2.0)], rtol=1e-5)


def test_integrated_gradients_completeness_on_a_network_to_1e3():
    model, x = digits_mlp()
    f = lambda x: model(x)[3]
    coarse = integrated_gradients(f, x, steps=2)
    fine = integrated_gradients(f, x, steps=64)
    assert fine.shape == x.shape
    assert abs(fine.completeness_gap) < 1e-3 * max(1.0, abs(fine.output_change))
    assert abs(coarse.completeness_gap) > abs(fine.completeness_gap)  # the gap is the rule's error: it shrinks
    np.testing.assert_array_equal(np.asarray(fine), fine.attributions)


def test_smoothgrad_of_sin_matches_the_gaussian_expectation():
    # ∂/∂x Σ sin(x_i) = cos(x_i); E[cos(x + ε)] = cos(x) e^{−σ²/2} for ε ~ N(0, σ²)
    x, sigma, n = np.array([0.3, -1.2, 2.0]), 0.4, 4000
    g = smoothgrad(lambda x: np.sum(np.sin(x)), x, noise=sigma, samples=n, seed=1)
    expected = np.cos(x) * np.exp(-sigma ** 2 / 2)
    # the standard deviation of cos(x + ε) is below 1, so 4/√n bounds the error generously (4σ)
    assert np.all(np.abs(g - expected) < 4 / np.sqrt(n))
    np.testing.assert_allclose(smoothgrad(lambda x: np.sum(np.sin(x)), x, noise=0.0, samples=3), np.cos(x), rtol=1e-15)


def test_vmap_over_the_path_equals_a_loop_and_is_faster():
    model, x = digits_mlp()
    f = lambda x: model(x)[3]
    points = np.linspace(0, 1, 65)[:, None] * x[None]
    start = time.perf_counter()
    batched = input_gradients(f, points)
    batched_seconds = time.perf_counter() - start
    start = time.perf_counter()
    looped = np.stack([input_gradient(f, p) for p in points])
    looped_seconds = time.perf_counter() - start
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-15)
    assert batched_seconds < looped_seconds


@pytest.mark.parametrize("call", [
    lambda: integrated_gradients(lambda x: x.sum(), np.ones(2), steps=0),
    lambda: integrated_gradients(lambda x: x.sum(), np.ones(2), rule="simpson"),
    lambda: smoothgrad(lambda x: x.sum(), np.ones(2), samples=0),
    lambda: smoothgrad(lambda x: x.sum(), np.ones(2), noise=-1.0),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()
