"""``calcml train digits``: train a network on the embedded digits (or MNIST files), show a progress bar,
print the test accuracy it reached and save the model."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from calcml.cli.app import app, fail, finite_number, print_json, writable_folder


class DatasetName(str, Enum):
    digits = "digits"
    mnist = "mnist"


class ModelName(str, Enum):
    mlp = "mlp"
    cnn = "cnn"


class OptimizerName(str, Enum):
    adam = "adam"
    adamw = "adamw"
    gd = "gd"
    momentum = "momentum"
    sgd = "sgd"  # an alias of gd: plain gradient descent, as cm.optim.SGD without momentum
    nesterov = "nesterov"
    rmsprop = "rmsprop"
    adagrad = "adagrad"


@app.command("train")
def train_command(
    dataset: Annotated[DatasetName, typer.Argument(help="digits (embedded) or mnist (imported, or --data).")
                       ] = DatasetName.digits,
    model: Annotated[ModelName, typer.Option(help="mlp: 512 ReLU units; cnn: conv-pool-dense.")] = ModelName.mlp,
    optimizer: Annotated[OptimizerName, typer.Option(help="update rule (cm.optim).")] = OptimizerName.adam,
    epochs: Annotated[int, typer.Option(min=1, help="passes over the training set.")] = 30,
    batch_size: Annotated[int, typer.Option(min=1, help="samples per gradient step.")] = 32,
    lr: Annotated[Optional[float], typer.Option(help="learning rate (default: the optimizer's tuned one).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="seed of the initialization and the shuffling.")] = 0,
    out: Annotated[Path, typer.Option(help="directory where the model .npz is saved.")] = Path("."),
    data: Annotated[Optional[Path], typer.Option(help="mnist: directory of IDX files or an mnist.npz (default: the "
                                                      "files imported with `calcml data fetch mnist`).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the test accuracy and loss, "
                                                         "the history's last values and the model's path.")] = False,
) -> None:
    """Train a network and print the test accuracy it reached; the model is saved as DIR/<dataset>-<model>.npz.

    Examples:  calcml train digits --model mlp --optimizer adam --epochs 30 --out models/
               calcml train mnist --model cnn --epochs 4   (the files imported with calcml data fetch mnist)
    """
    from calcml.autodiff.errors import CalcmlError
    from calcml.data import DataFormatError, NotImportedError, digits, mnist
    from calcml.train.recipes import train_classifier

    console = Console(quiet=as_json)  # with --json, standard output carries the JSON object only
    finite_number(lr, "--lr", 0.0, strict=True, hint="e.g. --lr 1e-3 (or leave it out for the tuned one).")
    writable_folder(out)  # before training: a bad --out must not cost the whole run
    if dataset is DatasetName.mnist:
        try:
            chosen = mnist(data)
        except NotImportedError as error:
            fail(f"mnist: no MNIST files were imported into {error.folder} (nothing is downloaded): import yours "
                 "once with `calcml data fetch mnist --from DIR`, or give their folder with --data DIR.")
        except DataFormatError as error:
            fail(str(error))
    else:
        chosen = digits()
    console.print(f"{chosen!r}\ntraining {model.value} with {optimizer.value} for {epochs} epochs "
                  f"(batch {batch_size}, seed {seed})")
    try:
        result = train_classifier(chosen, model=model.value, optimizer=optimizer.value, epochs=epochs,
                                  batch_size=batch_size, lr=lr, seed=seed, progress=not as_json)
    except CalcmlError as error:
        fail(str(error), code=1)
    correct = round(result.test.accuracy * result.test.n)
    console.print(f"test accuracy {result.test.accuracy:.2%} ({correct}/{result.test.n}), test loss "
                  f"{result.test.loss:.4f}; {result.history.summary()}; {result.seconds:.2f} s")
    try:
        path = result.model.save(out / f"{dataset.value}-{model.value}.npz")
    except OSError as error:
        fail(f"cannot save the model into {out}: {error.strerror or error}", code=1)
    console.print(f"model saved to {path}")
    if as_json:
        history = result.history
        print_json({
            "dataset": dataset.value, "model": model.value, "optimizer": optimizer.value, "epochs": epochs,
            "batch_size": batch_size, "lr": lr, "seed": seed, "test_accuracy": result.test.accuracy,
            "test_loss": result.test.loss, "test_correct": correct, "test_n": result.test.n,
            "final": {metric: history[metric][-1] for metric in history.available() if history[metric]},
            "seconds": result.seconds, "model_path": str(path),
        })
