"""The training loop: history, steps, seeds, callbacks, early stopping, evaluate, a silent progress bar."""

import io

import numpy as np
import pytest
from rich.console import Console

import calcml as cm
from calcml import data, nn, optim
from calcml.train import Callback, EarlyStopping, evaluate, fit


class Affine:
    """A model without cm.nn: fit needs only parameters() and calling it."""

    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W = cm.Tensor(rng.standard_normal((n_in, n_out)) * 0.1, requires_grad=True)
        self.b = cm.Tensor(np.zeros(n_out), requires_grad=True)

    def parameters(self):
        return [self.W, self.b]

    def __call__(self, x):
        return x @ self.W + self.b


class PlainGD:
    """θ ← θ − η ∂L/∂θ."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            with cm.no_grad():
                p -= self.lr * p.grad


def squared_error(prediction, target):
    return np.mean((prediction - target) ** 2)


def softmax_cross_entropy(logits, labels):
    picked = logits[np.arange(len(labels)), labels]
    return np.mean(cm.logsumexp(logits, axis=1) - picked)


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.parameters = []

    def on_train_begin(self, state):
        self.events.append("train_begin")

    def on_epoch_begin(self, state):
        self.events.append(f"epoch_begin {state.epoch}")

    def on_after_backward(self, state):
        assert all(p.grad is not None for p in state.model.parameters())
        self.events.append("backward")

    def on_step_end(self, state):
        self.events.append("step")

    def on_epoch_end(self, state):
        self.events.append(f"epoch_end {state.epoch}")
        self.parameters.append([p.value.copy() for p in state.model.parameters()])

    def on_train_end(self, state):
        self.events.append("train_end")


def test_one_full_batch_epoch_is_one_gradient_step_by_hand():
    X = np.random.default_rng(0).standard_normal((8, 3))
    y = np.random.default_rng(1).standard_normal((8, 1))
    model = Affine(3, 1)
    W0, b0 = model.W.value.copy(), model.b.value.copy()
    fit(model, squared_error, PlainGD(model.parameters(), 0.1), (X, y), epochs=1, batch_size=None, progress=False)
    residual = X @ W0 + b0 - y
    np.testing.assert_allclose(model.W.value, W0 - 0.1 * 2 * X.T @ residual / 8, rtol=1e-12)
    np.testing.assert_allclose(model.b.value, b0 - 0.1 * 2 * residual.sum(0) / 8, rtol=1e-12)


def test_history_counts_steps_and_events_come_in_order():
    X, y = data.spirals(n_per_class=25, n_classes=2, seed=0)  # 50 samples, batches of 16: 4 steps
    model = Affine(2, 2)
    recorder = Recorder()
    history = fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), (X, y), epochs=3,
                  batch_size=16, callbacks=[recorder], progress=False)
    assert history.epochs == 3 and len(history.step_loss) == 12
    assert len(history.accuracy) == 3 and all(0 <= a <= 1 for a in history.accuracy)
    assert history.val_loss == [] and len(history.samples_per_second) == 3
    assert recorder.events[:3] == ["train_begin", "epoch_begin 1", "backward"]
    assert recorder.events[-2:] == ["epoch_end 3", "train_end"]
    assert recorder.events.count("backward") == recorder.events.count("step") == 12


def test_epoch_loss_is_the_sample_weighted_mean_of_step_losses():
    X, y = data.moons(n=50, seed=0)
    model = Affine(2, 2)
    history = fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), (X, y), epochs=1, batch_size=16,
                  progress=False)
    sizes = np.array([16, 16, 16, 2])
    assert history.loss[0] == pytest.approx(np.dot(history.step_loss, sizes) / 50, rel=1e-12)


def test_same_seed_same_run_different_seed_different_run():
    X, y = data.moons(n=60, seed=0)

    def run(seed):
        model = Affine(2, 2)
        return fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.2), (X, y), epochs=3,
                   batch_size=8, seed=seed, progress=False).step_loss

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_validation_and_evaluate_agree_with_a_direct_computation():
    ds = data.digits()
    model = Affine(64, 10)
    history = fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.5), ds, epochs=2, batch_size=64,
                  validation=ds, progress=False)
    logits = ds.X_test @ model.W.value + model.b.value
    expected_accuracy = np.mean(logits.argmax(1) == ds.y_test)
    assert history.val_accuracy[-1] == pytest.approx(expected_accuracy)
    result = evaluate(model, softmax_cross_entropy, ds.X_test, ds.y_test, batch_size=50)
    direct = float(softmax_cross_entropy(cm.Tensor(logits), ds.y_test).value)
    assert result.loss == pytest.approx(direct, rel=1e-6) and result.accuracy == pytest.approx(expected_accuracy)
    assert result.loss == pytest.approx(history.val_loss[-1], rel=1e-6) and result.n == 359


def test_evaluate_puts_a_module_in_eval_mode_and_back():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.Dropout(0.5, rng=0))
    X, y = np.ones((6, 4), np.float32), np.zeros(6, np.int64)
    model.train()
    first = evaluate(model, nn.losses.cross_entropy, X, y)
    second = evaluate(model, nn.losses.cross_entropy, X, y)
    assert first == second  # dropout off: deterministic
    assert model.training and model[1].training


def test_early_stopping_stops_and_restores_the_best_epoch():
    X, y = data.linear_regression(n=40, n_features=2, seed=0)
    X_val, y_val = data.linear_regression(n=40, n_features=2, seed=9)  # other true weights: overfits fast
    model = nn.Linear(2, 1, rng=0, dtype=np.float64)
    recorder = Recorder()
    stopper = EarlyStopping(patience=2)
    history = fit(model, nn.losses.mse, optim.SGD(model.parameters(), lr=0.1), (X, y[:, None]), epochs=100,
                  batch_size=None, validation=(X_val, y_val[:, None]), callbacks=[recorder, stopper], progress=False)
    best = int(np.argmin(history.val_loss)) + 1
    assert history.best_epoch == best and history.stopped_epoch == best + 2 == history.epochs
    np.testing.assert_array_equal(model.weight.value, recorder.parameters[best - 1][0])
    assert "restored the parameters of epoch" in history.notes[-1]


def test_early_stopping_on_accuracy_maximizes_and_works_without_state_dict():
    X, y = data.moons(n=60, seed=0)
    model = Affine(2, 2)
    stopper = EarlyStopping(monitor="accuracy", patience=1, min_delta=0.5)  # no epoch can improve by 50 points
    history = fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), (X, y), epochs=10, batch_size=10,
                  callbacks=[stopper], progress=False)
    assert stopper.mode == "max" and history.epochs == 2 and history.best_epoch == 1


def test_early_stopping_explains_a_metric_that_is_not_recorded():
    X, y = data.moons(n=20, seed=0)
    model = Affine(2, 2)
    with pytest.raises(ValueError, match="pass validation=\\(X_val, y_val\\) to fit"):
        fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), (X, y), epochs=2,
            callbacks=[EarlyStopping()], progress=False)


def test_progress_bar_shows_on_a_terminal_and_is_silent_otherwise():
    X, y = data.moons(n=40, seed=0)
    model = Affine(2, 2)
    quiet, shown = io.StringIO(), io.StringIO()
    opt = PlainGD(model.parameters(), 0.1)
    fit(model, softmax_cross_entropy, opt, (X, y), epochs=2, console=Console(file=quiet))
    assert quiet.getvalue() == ""
    terminal = Console(file=shown, force_terminal=True, width=120)
    fit(model, softmax_cross_entropy, opt, (X, y), epochs=2, console=terminal)
    assert "epoch 2/2" in shown.getvalue() and "samples/s" in shown.getvalue()
    silent = io.StringIO()
    fit(model, softmax_cross_entropy, opt, (X, y), epochs=1, progress=False,
        console=Console(file=silent, force_terminal=True))
    assert silent.getvalue() == ""


def test_clipping_inside_fit_bounds_the_update():
    X = np.full((4, 1), 100.0)
    y = np.zeros((4, 1))
    model = Affine(1, 1)
    W0 = model.W.value.copy()
    fit(model, squared_error, PlainGD(model.parameters(), 1.0), (X, y), epochs=1, batch_size=None, clip_value=0.5,
        progress=False)
    np.testing.assert_allclose(model.W.value, W0 - 0.5)


def test_bad_data_is_explained():
    model = Affine(2, 2)
    with pytest.raises(TypeError, match="Dataset .* or an \\(X, y\\) pair"):
        fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), np.zeros((3, 2)), progress=False)
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        fit(model, softmax_cross_entropy, PlainGD(model.parameters(), 0.1), (np.zeros((3, 2)), np.zeros(2, int)))
