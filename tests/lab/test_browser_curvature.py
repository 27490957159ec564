"""The curvature panel in Chromium: what it draws is what ``cm.curvature`` computes for the same network, data,
seed and settings — λ_max over training (SharpnessMonitor), the 2/η line, the top eigenvalues (hessian_eigs)
and the spectral density (spectral_density) at the end."""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml.curvature import SharpnessMonitor, hessian_eigs, model_loss, spectral_density
from tests.lab.pages import open_panel, plot_data

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SETTINGS = {"examples": 120, "hidden": 16, "lr": 0.5, "steps": 150, "every": 25, "k": 3}


def reference(examples: int, hidden: int, lr: float, steps: int, every: int, k: int, seed: int = 0):
    """The panel's experiment written out with the library: 64 → hidden tanh → 10 (float64, Xavier-uniform),
    MSE on the one-hot labels of the first ``examples`` training digits, full-batch gradient descent."""
    data = cm.data.digits()
    X, Y = data.X_train[:examples].astype(np.float64), np.eye(10)[data.y_train[:examples]]
    model = cm.nn.Sequential(cm.nn.Linear(64, hidden, rng=seed, dtype=np.float64, init="xavier_uniform"), cm.nn.Tanh(),
                             cm.nn.Linear(hidden, 10, rng=seed + 1, dtype=np.float64, init="xavier_uniform"))
    monitor = SharpnessMonitor(X, Y, cm.nn.losses.mse, every=every, iters=20, seed=seed)
    history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.SGD(model.parameters(), lr=lr), (X, Y), epochs=steps,
                           batch_size=None, seed=seed, progress=False, callbacks=[monitor])
    loss, params = model_loss(model, cm.nn.losses.mse, X, Y)
    top = hessian_eigs(loss, params, k=k, seed=seed)
    density = spectral_density(loss, params, num_probes=2, lanczos_steps=30, grid=300, seed=seed)
    return monitor, history, top, density


def fill(page, settings: dict) -> None:
    for name, value in settings.items():
        page.fill(f"#curvature-{name}", str(value))


def test_curvature_panel_draws_what_cm_curvature_computes(lab_page, lab_server):
    page = lab_page
    open_panel(page, lab_server.url, "curvature")
    fill(page, SETTINGS)
    page.click("#curvature-start")
    page.wait_for_selector("#curvature-status[data-status=finished]", timeout=90_000)
    page.wait_for_selector("#curvature-spectrum g.legend")
    monitor, history, top, density = reference(**SETTINGS)

    sharpness, edge, loss = plot_data(page, "curvature-lambda")
    assert sharpness["x"] == [0, 25, 50, 75, 100, 125, 150] == monitor.steps
    np.testing.assert_allclose(sharpness["y"], monitor.values, rtol=1e-7)
    assert edge["y"] == [4, 4] and edge["name"].startswith("2/η = 4")
    assert loss["x"] == list(range(1, 151))
    np.testing.assert_allclose(loss["y"], history.step_loss, rtol=1e-7)

    curve, eigenvalues, line = plot_data(page, "curvature-spectrum")
    np.testing.assert_allclose(eigenvalues["x"], top.eigenvalues, rtol=1e-7)
    np.testing.assert_allclose(curve["x"], density.grid, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(curve["y"], density.density, rtol=1e-6, atol=1e-9)
    assert line["x"] == [4, 4] and line["y"][1] == max(curve["y"]) == eigenvalues["y"][0]
    assert np.trapezoid(curve["y"], curve["x"]) == pytest.approx(1.0, abs=1e-3)  # a density
    shown = page.inner_text("#curvature-eigenvalues")
    assert shown.startswith("top 3 eigenvalues") and f"{top.eigenvalues[0]:.5g}"[:5] in shown
    status = page.inner_text("#curvature-status")
    assert "finished after 150 steps" in status and "2/η = 4" in status


def test_curvature_panel_refuses_out_of_range_settings(lab_page, lab_server):
    page = lab_page
    page.watch.expected_errors.append("422")  # the server's answer to steps/every: that is the point here
    open_panel(page, lab_server.url, "curvature")
    fill(page, {"lr": 5})
    page.click("#curvature-start")
    error = page.wait_for_selector("#curvature-error:not([hidden])")
    assert "η must be at most 2" in error.inner_text()
    fill(page, {"lr": 0.5, "steps": 1000, "every": 1})
    page.click("#curvature-start")
    page.wait_for_selector("#curvature-error:has-text('measurements')")
    assert "1001 measurements" in page.inner_text("#curvature-error") and "at most 100" in page.inner_text(
        "#curvature-error")
    assert page.get_attribute("#curvature-status", "data-status") == "idle"
    assert plot_data(page, "curvature-lambda") == []
