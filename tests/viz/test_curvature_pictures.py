"""Curvature and attribution pictures draw what was computed: λ_max against 2/η, the SLQ density, each run's
loss gap and gradient norm, and every attribution map with a colour scale symmetric about 0."""

import numpy as np
import pytest

import calcml as cm
from calcml import viz
from tests.viz.conftest import by_gid


class Monitor:
    """What viz.sharpness reads from a SharpnessMonitor."""

    def __init__(self, steps, values):
        self.steps, self.values = steps, values


def test_sharpness_draws_lambda_max_per_step_and_the_edge_two_over_eta():
    runs = {1.0: Monitor([0, 10, 20], [1.1, 1.9, 2.05]), 0.5: Monitor([0, 10, 20], [1.1, 2.5, 3.9])}
    losses = {1.0: [0.5, 0.3, 0.31, 0.2], 0.5: [0.5, 0.4, 0.3, 0.25]}
    fig = viz.sharpness(runs, losses)
    ax, bx = fig.axes
    for lr, monitor in runs.items():
        x, y = by_gid(ax, f"lambda-max-{lr:g}").get_data()
        np.testing.assert_array_equal(x, monitor.steps)
        np.testing.assert_array_equal(y, monitor.values)
        _, edge = by_gid(ax, f"edge-{lr:g}").get_data()
        assert np.all(np.asarray(edge) == 2 / lr)
        np.testing.assert_array_equal(by_gid(bx, f"loss-{lr:g}").get_data()[1], losses[lr])
    assert bx.get_yscale() == "log"
    assert len(viz.sharpness({1.0: runs[1.0]}).axes) == 1
    with pytest.raises(ValueError):
        viz.sharpness({})


def test_spectrum_draws_the_slq_density_and_marks_the_top_eigenvalues():
    values = np.array([1.0, 2.0, 5.0, 9.0])
    density = cm.curvature.spectral_density(lambda w: np.sum(values * w ** 2) / 2, np.zeros(4), num_probes=2,
                                            lanczos_steps=4, sigma=0.2)
    fig = viz.spectrum(density, top=[9.0, 5.0])
    ax = fig.axes[0]
    x, y = by_gid(ax, "density").get_data()
    np.testing.assert_array_equal(x, density.grid)
    peak = density.density.max()
    np.testing.assert_allclose(y, np.maximum(density.density, 1e-8 * peak))
    assert x[np.argmax(y)] == pytest.approx(values[np.argmin(abs(values - x[np.argmax(y)]))], abs=0.05)
    assert by_gid(ax, "eigenvalue-0").get_data()[0][0] == 9.0
    assert by_gid(ax, "eigenvalue-1").get_data()[0][0] == 5.0
    assert ax.get_yscale() == "log"


def test_convergence_draws_each_runs_loss_gap_and_gradient_norm():
    quadratic = lambda w: (w[0] ** 2 + 4 * w[1] ** 2) / 2
    gd = cm.curvature.gradient_descent(quadratic, np.ones(2), lr=0.4)
    newton = cm.curvature.newton_cg(quadratic, np.ones(2))
    fig = viz.convergence([newton, gd], minimum=0.0)
    ax, bx = fig.axes
    for run in (newton, gd):
        x, y = by_gid(ax, f"gap-{run.method}").get_data()
        np.testing.assert_array_equal(x, np.arange(run.iterations + 1))
        np.testing.assert_allclose(y, np.where(run.losses > 0, run.losses, np.nan))
        np.testing.assert_array_equal(by_gid(bx, f"grad-{run.method}").get_data()[1], run.grad_norms)
    assert by_gid(ax, "gap-gradient descent").get_color() == viz.optimizer_style("gd").color
    assert ax.get_yscale() == bx.get_yscale() == "log"


def test_attributions_draw_each_map_on_a_scale_symmetric_about_zero():
    rng = np.random.default_rng(0)
    images = [rng.random(64), rng.random(64)]
    maps = {"saliency": [rng.standard_normal(64), rng.standard_normal(64)], "ig": [3 * rng.random(64), -rng.random(64)]}
    fig = viz.attributions(images, maps, titles=["a", "b"], image_shape=(8, 8))
    axes = {ax.get_gid(): ax for ax in fig.axes}
    assert sorted(axes) == sorted(["input-0", "input-1", "saliency-0", "saliency-1", "ig-0", "ig-1"])
    for name, values in maps.items():
        for row, a in enumerate(values):
            image = axes[f"{name}-{row}"].get_images()[0]
            np.testing.assert_array_equal(image.get_array(), a.reshape(8, 8))
            low, high = image.get_clim()
            assert high == -low == pytest.approx(np.max(np.abs(a)))
    np.testing.assert_array_equal(axes["input-1"].get_images()[0].get_array(), images[1].reshape(8, 8))
    with pytest.raises(ValueError):
        viz.attributions(images, {"saliency": maps["saliency"][:1]})
    with pytest.raises(ValueError):
        viz.attributions([np.ones(10)], {"s": [np.ones(10)]})  # 10 values: no square shape to guess
