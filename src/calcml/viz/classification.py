"""Pictures of a trained classifier: its training and test curves, and the confusion matrix of its test
predictions (rows: the true class, columns: the predicted one; the diagonal is what it got right)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import themed


def confusion_counts(y_true: Any, y_pred: Any, classes: int | None = None) -> np.ndarray:
    """counts[i, j]: how many samples of true class i were predicted as j."""
    y_true, y_pred = np.asarray(y_true, dtype=int).ravel(), np.asarray(y_pred, dtype=int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} true labels but {y_pred.size} predictions: they must match.")
    classes = classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def draw_confusion(ax, counts: np.ndarray, names: Sequence[str] | None = None) -> None:
    """The matrix as an image (gid ``confusion``) with each count written in its cell."""
    classes = len(counts)
    names = list(names) if names is not None else [str(i) for i in range(classes)]
    shown = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    shown.set_gid("confusion")
    for (i, j), n in np.ndenumerate(counts):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=9,
                    color="white" if n > 0.5 * counts.max() else ("#b91c1c" if i != j else "black"))
    ax.set_xticks(range(classes), names)
    ax.set_yticks(range(classes), names)
    ax.grid(False)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"test confusion matrix: {accuracy:.2%} right")


@themed
def confusion_matrix(y_true: Any, y_pred: Any, *, names: Sequence[str] | None = None,
                     path: str | Path | None = None) -> Figure:
    """The confusion matrix of predictions ``y_pred`` against labels ``y_true``; off-diagonal counts (mistakes)
    are written in red.

    >>> fig = cm.viz.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2])
    >>> fig.axes[0].images[0].get_array().tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    """
    counts = confusion_counts(y_true, y_pred, len(names) if names is not None else None)
    fig = new_figure(6.0, 5.2)
    ax = fig.add_subplot()
    draw_confusion(ax, counts, names)
    fig.colorbar(ax.images[0], ax=ax, shrink=0.8, label="samples")
    return finish(fig, path)


@themed
def classifier(history: Any, y_true: Any, y_pred: Any, *, names: Sequence[str] | None = None,
               path: str | Path | None = None) -> Figure:
    """Three panels: the loss per epoch and the accuracy per epoch, training (solid) and test (dashed; recorded
    when ``cm.train.fit`` was given ``validation=``), and the confusion matrix of the test predictions.

    Without test curves the test accuracy of ``y_pred`` is a single point at the last epoch (gid
    ``test-accuracy``). Lines have gids ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``.

    >>> data = cm.data.digits()
    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0), cm.nn.ReLU(), cm.nn.Linear(32, 10, rng=1))
    >>> history = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2),
    ...                        data, epochs=3, validation=data, progress=False)
    >>> with cm.no_grad():
    ...     predicted = np.asarray(model(data.X_test)).argmax(axis=1)
    >>> fig = cm.viz.classifier(history, data.y_test, predicted)
    >>> [line.get_gid() for line in fig.axes[1].lines]
    ['accuracy', 'val_accuracy']
    """
    if not history.loss:
        raise ValueError("the history has no epochs: train with cm.train.fit first.")
    counts = confusion_counts(y_true, y_pred, len(names) if names is not None else None)
    fig = new_figure(16.0, 5.0)
    loss_ax, accuracy_ax, matrix_ax = fig.subplots(1, 3, width_ratios=(1.0, 1.0, 1.05))
    epochs = np.arange(1, history.epochs + 1)
    for ax, metric, scale in ((loss_ax, "loss", 1.0), (accuracy_ax, "accuracy", 100.0)):
        for key, name, style in ((metric, "training", "-"), ("val_" + metric, "test", "--")):
            values = getattr(history, key)
            if values:
                ax.plot(epochs[:len(values)], scale * np.asarray(values), linestyle=style, marker=".",
                        color="C0" if name == "training" else "C1", label=name, gid=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not history.val_accuracy:
        accuracy = 100 * np.trace(counts) / max(counts.sum(), 1)
        accuracy_ax.plot([history.epochs], [accuracy], linestyle="none", marker="D", markersize=8, color="C1",
                         label=f"test, after training: {accuracy:.2f}%", gid="test-accuracy")
    loss_ax.set(ylabel="cross-entropy loss", title=f"loss: {history.loss[-1]:.4g} after {history.epochs} epochs")
    if history.loss and min(history.loss + history.val_loss) > 0 and \
            max(history.loss + history.val_loss) > 10 * min(history.loss + history.val_loss):
        loss_ax.set_yscale("log")
    accuracy_ax.set(ylabel="accuracy (%)", title="accuracy per epoch")
    loss_ax.legend()
    accuracy_ax.legend(loc="lower right")
    draw_confusion(matrix_ax, counts, names)
    return finish(fig, path)
