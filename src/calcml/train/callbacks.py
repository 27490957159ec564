"""Callbacks: code that ``fit`` runs at fixed moments of training, seeing the whole training state.

The moments, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``, per step
``on_after_backward`` (gradients are in ``p.grad``, not yet clipped or applied) and ``on_step_end``
(after the optimizer's update), then ``on_epoch_end`` (validation done), and finally ``on_train_end``.
A callback stops training by setting ``state.stop_training = True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calcml.train.history import History


@dataclass
class TrainingState:
    """What a callback sees: the model, optimizer and history, where training is, the last batch's loss."""

    model: Any
    optimizer: Any
    history: History
    epochs: int
    epoch: int = 0  # 1-based while training
    step: int = 0  # steps taken so far, over all epochs
    batch_loss: float = float("nan")
    stop_training: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Base class: override the moments you need; the others do nothing."""

    def on_train_begin(self, state: TrainingState) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Called at the start of each epoch."""

    def on_after_backward(self, state: TrainingState) -> None:
        """Called after each backward pass, before the optimizer steps (gradients are in place)."""

    def on_step_end(self, state: TrainingState) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """Called after each epoch, once its metrics are in ``state.history``.

        Set ``state.stop_training = True`` to end training here.
        """

    def on_train_end(self, state: TrainingState) -> None:
        """Called once after the last epoch."""


def snapshot(model: Any) -> dict[str, np.ndarray]:
    """A copy of the model's parameters (its ``state_dict`` when it has one)."""
    if hasattr(model, "state_dict"):
        return {name: np.array(value, copy=True) for name, value in model.state_dict().items()}
    return {str(i): p.value.copy() for i, p in enumerate(model.parameters())}


def restore(model: Any, saved: dict[str, np.ndarray]) -> None:
    """Put a ``snapshot`` back into the model."""
    if hasattr(model, "load_state_dict"):
        model.load_state_dict(saved)
        return
    for i, p in enumerate(model.parameters()):
        p.copy_(saved[str(i)])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs, and
    (``restore_best``) put back the parameters of the best epoch.

    ``mode`` is "min" or "max"; "auto" takes "max" for accuracies and "min" otherwise.

    >>> data = cm.data.digits()
    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32, rng=0), cm.nn.ReLU(), cm.nn.Linear(32, 10, rng=1))
    >>> history = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2),
    ...                        data, epochs=100, validation=(data.X_test, data.y_test), progress=False,
    ...                        callbacks=[cm.train.EarlyStopping(patience=2)])
    >>> history.stopped_epoch, history.best_epoch      # stopped long before epoch 100
    (15, 13)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', not {mode!r}.")
        if patience < 0 or min_delta < 0:
            raise ValueError("EarlyStopping: patience and min_delta must be >= 0.")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.mode = ("max" if "accuracy" in monitor else "min") if mode == "auto" else mode
        self.restore_best = restore_best

    def on_train_begin(self, state: TrainingState) -> None:
        self.best = -np.inf if self.mode == "max" else np.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0

    def on_epoch_end(self, state: TrainingState) -> None:
        values = getattr(state.history, self.monitor, None)
        if not values:
            available = ", ".join(state.history.available())
            hint = " (pass validation=(X_val, y_val) to fit)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which this run does not record"
                             f"{hint}; it records: {available}.")
        value = values[-1]
        improved = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch, self.wait = value, state.epoch, 0
            if self.restore_best:
                self.best_state = snapshot(state.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop_training = True
            state.history.stopped_epoch = state.epoch

    def on_train_end(self, state: TrainingState) -> None:
        state.history.best_epoch = self.best_epoch
        if self.restore_best and self.best_state is not None and self.best_epoch != state.epoch:
            restore(state.model, self.best_state)
            state.history.notes.append(f"early stopping restored the parameters of epoch {self.best_epoch} "
                                       f"({self.monitor} {self.best:.4g}).")
