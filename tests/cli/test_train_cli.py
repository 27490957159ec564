"""``calcml train digits`` end to end through typer's CliRunner."""

import re

import numpy as np
from typer.testing import CliRunner

import calcml.cli.train  # noqa: F401  (registers the command)
from calcml import data
from calcml.cli.app import app
from calcml.train import recipes

runner = CliRunner()


def test_train_digits_prints_the_test_accuracy_and_saves_the_model(tmp_path):
    result = runner.invoke(app, ["train", "digits", "--epochs", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    accuracy = float(re.search(r"test accuracy (\d+\.\d+)%", result.output).group(1))
    assert 80.0 < accuracy <= 100.0
    saved = tmp_path / "digits-mlp.npz"
    assert saved.is_file() and f"model saved to {saved}" in result.output.replace("\n", "")
    model = recipes.make_model("mlp", data.digits(), seed=5).load(saved)
    ds = data.digits()
    reproduced = 100 * np.mean(model(ds.X_test).value.argmax(1) == ds.y_test)
    assert abs(reproduced - accuracy) < 0.01


def test_train_cnn_with_sgd(tmp_path):
    result = runner.invoke(app, ["train", "digits", "--model", "cnn", "--optimizer", "sgd", "--epochs", "1",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "training cnn with sgd for 1 epochs" in result.output and (tmp_path / "digits-cnn.npz").is_file()


def test_unknown_optimizer_and_mnist_without_data_are_refused(tmp_path, monkeypatch):
    result = runner.invoke(app, ["train", "digits", "--optimizer", "lbfgs"])
    assert result.exit_code != 0 and "lbfgs" in result.output
    monkeypatch.setenv("CALCML_DATA", str(tmp_path / "empty"))  # nothing imported there
    result = runner.invoke(app, ["train", "mnist", "--out", str(tmp_path)], env={"COLUMNS": "250"})
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0] == (f"error: mnist: no MNIST files were imported into {tmp_path / 'empty' / 'mnist'} (nothing "
                        "is downloaded): import yours once with `calcml data fetch mnist --from DIR`, or give their "
                        "folder with --data DIR.")
    (tmp_path / "mnist.npz").write_bytes(b"not an archive")
    result = runner.invoke(app, ["train", "mnist", "--data", str(tmp_path / "mnist.npz")])
    assert result.exit_code == 2 and "not a readable .npz" in " ".join(result.output.split())
