import numpy as np
import pytest

import calcml as cm
from calcml.curvature import SharpnessMonitor, hessian_eigs, model_loss


def tiny_mlp():
    return cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0, dtype=np.float64, init="xavier_uniform"), cm.nn.Tanh(),
                            cm.nn.Linear(32, 10, rng=1, dtype=np.float64, init="xavier_uniform"))


def digits_regression(n=200):
    data = cm.data.digits()
    return data.X_train[:n].astype(np.float64), np.eye(10)[data.y_train[:n]]


def test_monitor_records_lambda_max_every_k_steps_and_matches_hessian_eigs_at_the_end():
    X, y = digits_regression(60)
    model = tiny_mlp()
    monitor = SharpnessMonitor(X, y, cm.nn.losses.mse, every=4, iters=30)
    history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=10,
                           batch_size=None, progress=False, callbacks=[monitor])
    assert monitor.steps == [0, 4, 8]
    assert monitor.hvps == 3 * 30
    assert model.training  # the measurement puts the model's mode back
    # the last record (step 8) and a measurement now (after step 10) bracket; now it equals hessian_eigs
    loss, params = model_loss(model, cm.nn.losses.mse, X, y)
    assert monitor.measure(model) == pytest.approx(hessian_eigs(loss, params, k=1, iters=30).eigenvalues[0])
    assert "sharpness" in history.notes[-1]


def test_edge_of_stability_full_batch_gd_lambda_max_settles_near_2_over_eta():
    """Cohen et al. (2021) on a tiny MLP (64 → 32 tanh → 10, MSE on one-hot digits, 200 examples, GD η = 0.5):
    λ_max starts above 2/η = 4, GD throws it below (to ≈ 3.7), then progressive sharpening brings it back up
    to 2/η, where it hovers while the loss keeps falling, no longer monotonically."""
    X, y = digits_regression(200)
    eta = 0.5
    model = tiny_mlp()
    monitor = SharpnessMonitor(X, y, cm.nn.losses.mse, every=50, iters=20)
    history = cm.train.fit(model, cm.nn.losses.mse, cm.optim.SGD(model.parameters(), lr=eta), (X, y), epochs=600,
                           batch_size=None, progress=False, callbacks=[monitor])
    edge = 2 / eta
    values = monitor.lambda_max
    assert values.min() < 0.95 * edge                       # it was well below the edge ...
    assert abs(values[-1] - edge) < 0.15 * edge               # ... and ends at it
    late = values[np.array(monitor.steps) >= 300]
    assert np.all(abs(late - edge) < 0.15 * edge)             # hovering, not growing past it
    losses = np.array(history.step_loss)
    assert losses[-1] < losses[300] < losses[0]
    assert np.any(np.diff(losses[300:]) > 0)                  # at the edge the loss is no longer monotone
