"""Training pictures from a ``cm.train.History``: the loss (and accuracy) per epoch, and each layer's gradient
norm per step — the picture of vanishing or exploding gradients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcml.viz.output import finish, new_figure
from calcml.viz.theme import theme


def training_curves(history: Any, *, path: str | Path | None = None) -> Figure:
    """Loss per epoch (training, and validation when recorded; log scale when it spans more than a decade),
    and accuracy per epoch when the targets were classes. Lines have gids ``loss``, ``val_loss``,
    ``accuracy``, ``val_accuracy``; epochs count from 1.

    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0), cm.nn.ReLU(), cm.nn.Linear(32, 10, rng=1))
    >>> history = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2),
    ...                        cm.data.digits(), epochs=3, progress=False)
    >>> fig = cm.viz.training_curves(history, path="training.svg")
    >>> [line.get_gid() for ax in fig.axes for line in ax.lines]
    ['loss', 'accuracy']
    """
    if not history.loss:
        raise ValueError("the history has no epochs: train with cm.train.fit first.")
    has_accuracy = bool(history.accuracy or history.val_accuracy)
    with theme():
        fig = new_figure(11.0 if has_accuracy else 6.5, 4.2)
        axes = fig.subplots(1, 2) if has_accuracy else [fig.add_subplot()]
        ax = axes[0]
        for metric, name in (("loss", "training"), ("val_loss", "validation")):
            values = getattr(history, metric)
            if values:
                ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=name, gid=metric)
        losses = np.array(history.loss + history.val_loss, dtype=np.float64)
        positive = losses[np.isfinite(losses) & (losses > 0)]
        if positive.size and positive.max() > 10 * positive.min():
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("loss")
        ax.set_title(f"loss: {history.loss[-1]:.4g} after {history.epochs} epochs")
        ax.legend()
        if has_accuracy:
            bx = axes[1]
            for metric, name in (("accuracy", "training"), ("val_accuracy", "validation")):
                values = getattr(history, metric)
                if values:
                    bx.plot(np.arange(1, len(values) + 1), 100 * np.asarray(values), marker=".", label=name,
                            gid=metric)
            bx.set_xlabel("epoch")
            bx.xaxis.set_major_locator(MaxNLocator(integer=True))
            bx.set_ylabel("accuracy (%)")
            last = history.val_accuracy or history.accuracy
            bx.set_title(f"accuracy: {last[-1]:.2%}")
            bx.legend()
    return finish(fig, path)


def grad_norms(history: Any, *, path: str | Path | None = None) -> Figure:
    """‖∂L/∂θ_layer‖ of every layer at every recorded step, log scale, one line per layer (gid
    ``layer-<name>``), from ``history.grad_norms`` (filled by ``cm.train.GradNormMonitor``) or from a
    ``GradNormMonitor`` itself. Lines far below the others are layers whose gradients vanish.
    """
    if hasattr(history, "grad_norms"):
        norms = {layer: np.asarray(values, dtype=np.float64) for layer, values in history.grad_norms.items()}
        notes = list(getattr(history, "notes", []))
    elif hasattr(history, "layers") and hasattr(history, "norms"):
        norms = {layer: history.norms[:, i] for i, layer in enumerate(history.layers)}
        notes = []
    else:
        raise TypeError("grad_norms takes a cm.train.History or a cm.train.GradNormMonitor.")
    if not norms:
        raise ValueError("no gradient norms were recorded: train with callbacks=[cm.train.GradNormMonitor()].")
    with theme():
        fig = new_figure(7.5, 4.5)
        ax = fig.add_subplot()
        for layer, values in norms.items():
            ax.semilogy(np.arange(len(values)), np.where(values > 0, values, np.nan), linewidth=1.2,
                        label=f"layer {layer}", gid=f"layer-{layer}")
        ax.set_xlabel("step")
        ax.set_ylabel("‖∂L/∂θ‖ of the layer")
        ax.set_title("gradient norm per layer" + (" — " + notes[0].split(":", 1)[1].split("(")[0].strip()
                                                  if notes else ""))
        ax.legend(ncol=2 if len(norms) > 6 else 1)
    return finish(fig, path)
