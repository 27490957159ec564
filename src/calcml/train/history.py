"""What a training run leaves behind: per-epoch losses and accuracies, per-step losses, gradient norms."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass
class History:
    """The record of ``cm.train.fit``.

    Per epoch: ``loss`` and ``accuracy`` (running averages over the epoch's batches, as the model was
    changing), ``val_loss`` and ``val_accuracy`` (the model at the end of the epoch, when a validation
    set was given), ``seconds`` and ``samples_per_second``. Per step: ``step_loss``. ``grad_norms`` maps
    each layer to its gradient norm at every step when a ``GradNormMonitor`` ran. Accuracy lists stay
    empty for regression targets. ``best_epoch`` and ``stopped_epoch`` are set by ``EarlyStopping``
    (epochs count from 1).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.loss)

    def __getitem__(self, metric: str) -> list[float]:
        if metric not in METRICS and metric not in ("step_loss", "seconds", "samples_per_second"):
            raise KeyError(f"History has no metric {metric!r}; it records {', '.join(METRICS)}, step_loss, "
                           "seconds and samples_per_second.")
        return getattr(self, metric)

    def available(self) -> list[str]:
        """The per-epoch metrics that were recorded in this run."""
        return [m for m in METRICS if getattr(self, m)]

    def summary(self) -> str:
        """One line: epochs run, the last value of every metric, the speed."""
        if not self.loss:
            return "no epochs run"
        parts = [f"{self.epochs} epochs"]
        for metric in self.available():
            value = getattr(self, metric)[-1]
            parts.append(f"{metric} {value:.2%}" if "accuracy" in metric else f"{metric} {value:.4g}")
        parts.append(f"{np.mean(self.samples_per_second):,.0f} samples/s")
        return ", ".join(parts)
