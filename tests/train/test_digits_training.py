"""The digits recipes: the MLP and the small CNN reach at least 97% test accuracy.

(How long they take is measured by benchmarks/bench_digits_epoch.py, not asserted here.)
"""

import numpy as np

import calcml as cm
from calcml import data
from calcml.train import recipes


def test_mlp_reaches_97_percent_on_digits():
    ds = data.digits()
    result = recipes.train_classifier(ds, model="mlp", optimizer="adam", epochs=30, seed=0)
    assert result.test.accuracy >= 0.97, result.test
    assert result.history.accuracy[-1] > 0.995  # it fits the training set
    logits = result.model(ds.X_test).detach().value
    assert np.mean(logits.argmax(1) == ds.y_test) == result.test.accuracy


def test_saved_model_loads_back_with_the_same_predictions(tmp_path):
    ds = data.digits()
    result = recipes.train_classifier(ds, epochs=2, seed=1)
    path = result.model.save(tmp_path / "mlp.npz")
    fresh = recipes.make_model("mlp", ds, seed=7)
    fresh.load(path)
    with cm.no_grad():  # predictions, not a graph
        np.testing.assert_array_equal(np.asarray(fresh(ds.X_test)), np.asarray(result.model(ds.X_test)))


def test_small_cnn_reaches_97_percent_on_digits():
    ds = data.digits()
    result = recipes.train_classifier(ds, model="cnn", optimizer="adam", epochs=30, seed=0)
    assert result.test.accuracy >= 0.97, result.test


class EvaluateOnTestSplit(cm.train.Callback):
    """Evaluates the model on the test split at the end of every epoch, independently of fit."""

    def __init__(self, ds):
        self.ds, self.accuracy, self.loss = ds, [], []

    def on_epoch_end(self, state):
        result = cm.train.evaluate(state.model, cm.nn.losses.cross_entropy, self.ds.X_test, self.ds.y_test)
        self.accuracy.append(result.accuracy)
        self.loss.append(result.loss)


def test_the_history_has_the_test_curves_one_point_per_epoch():
    ds = data.digits()
    probe = EvaluateOnTestSplit(ds)
    result = recipes.train_classifier(ds, epochs=3, seed=2, callbacks=[probe])
    assert result.history.val_accuracy == probe.accuracy and len(probe.accuracy) == 3
    np.testing.assert_allclose(result.history.val_loss, probe.loss, rtol=1e-12)
    assert result.history.val_accuracy[0] != result.history.val_accuracy[-1]  # a curve, not one point repeated
    assert result.history.val_accuracy[-1] == result.test.accuracy
