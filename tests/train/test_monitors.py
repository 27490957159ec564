"""GradNormMonitor: per-layer gradient norms; vanishing in a deep sigmoid stack, not with ReLU and He."""

import warnings

import numpy as np
import pytest

import calcml as cm
from calcml import data, nn, optim
from calcml.train import GradientWarning, GradNormMonitor, fit, layer_grad_norms

DEPTH, WIDTH = 20, 32


def deep_network(activation, init, seed=0):
    rng = np.random.default_rng(seed)
    layers, n_in = [], 64
    for _ in range(DEPTH - 1):
        layers += [nn.Linear(n_in, WIDTH, init=init, rng=rng), activation()]
        n_in = WIDTH
    layers.append(nn.Linear(n_in, 10, init=init, rng=rng))
    return nn.Sequential(*layers)


def one_backward(model):
    ds = data.digits()
    nn.losses.cross_entropy(model(ds.X_train[:256]), ds.y_train[:256]).backward()


def test_twenty_sigmoid_layers_vanish_and_the_monitor_says_so():
    model = deep_network(nn.Sigmoid, "xavier_uniform")
    one_backward(model)
    monitor = GradNormMonitor()
    norms = monitor.record(model)
    assert len(norms) == DEPTH
    first, last = norms["0"], norms[str(2 * (DEPTH - 1))]
    assert first < 1e-4 * last
    report = monitor.report()
    assert not report.healthy and report.vanishing[0] == "0" and report.first_to_last < 1e-4
    assert "vanishing gradients in" in report.message and "ReLU with He initialization" in report.message
    assert "first layer 0:" in report.message


def test_twenty_relu_layers_with_he_initialization_do_not_vanish():
    model = deep_network(nn.ReLU, "he_normal")
    one_backward(model)
    monitor = GradNormMonitor()
    norms = monitor.record(model)
    first, last = norms["0"], norms[str(2 * (DEPTH - 1))]
    assert first > 1e-2 * last
    report = monitor.report()
    assert report.healthy and report.message.startswith("gradients healthy in all 20 layers")


def test_layer_norm_is_the_norm_of_all_its_parameters():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    np.sum(model(np.ones((4, 3), np.float32)) ** 2).backward()
    norms = layer_grad_norms(model)
    expected = np.sqrt(np.sum(model[0].weight.grad ** 2) + np.sum(model[0].bias.grad ** 2))
    assert list(norms) == ["0", "2"] and norms["0"] == pytest.approx(expected, rel=1e-6)


def test_exploding_gradients_are_flagged_with_settable_thresholds():
    model = deep_network(nn.ReLU, "he_normal")
    for layer in model[::2]:
        with cm.no_grad():
            layer.weight *= 3  # every layer multiplies the signal by ~3 forwards and the gradient backwards
    one_backward(model)
    default, strict = GradNormMonitor(), GradNormMonitor(exploding=1e30)
    default.record(model)
    strict.record(model)
    assert default.report().exploding and "exploding gradients in" in default.report().message
    assert "clip the gradients" in default.report().message
    assert strict.report().healthy


def test_in_fit_the_monitor_fills_the_history_and_warns_once():
    ds = data.digits()
    model = deep_network(nn.Sigmoid, "xavier_uniform")
    monitor = GradNormMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, nn.losses.cross_entropy, optim.SGD(model.parameters(), lr=0.1), ds, epochs=2,
                      batch_size=256, callbacks=[monitor], progress=False)
    steps = 2 * int(np.ceil(len(ds.X_train) / 256))
    assert monitor.norms.shape == (steps, DEPTH) and len(history.grad_norms["0"]) == steps
    gradient_warnings = [w for w in caught if issubclass(w.category, GradientWarning)]
    assert len(gradient_warnings) == 1 and "vanishing gradients" in str(gradient_warnings[0].message)
    assert history.notes and history.notes[0].startswith("epoch 1: vanishing gradients")
    assert len(monitor.reports) == 2


def test_monitor_before_any_record_and_bad_thresholds():
    assert "no gradients recorded" in GradNormMonitor().report().message
    with pytest.raises(ValueError):
        GradNormMonitor(vanishing=0)
