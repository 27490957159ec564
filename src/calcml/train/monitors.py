"""``GradNormMonitor``: the gradient norm of every layer at every step, and a diagnosis.

Backpropagation multiplies the gradient by each layer's Jacobian on the way down. If those factors are
mostly below 1 (a sigmoid's σ' ≤ 1/4) the first layers' gradients vanish and they stop learning; if
they are above 1 the gradients explode. The monitor measures ‖∂L/∂θ_layer‖ for each layer and says
which layers are affected.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.train.callbacks import Callback, TrainingState


class GradientWarning(UserWarning):
    """Gradients vanish or explode in some layers (issued by ``GradNormMonitor`` during ``fit``)."""


def layer_of(parameter_name: str) -> str:
    """The layer a parameter belongs to: its dotted name without the last part ("3.weight" → "3")."""
    return parameter_name.rsplit(".", 1)[0] if "." in parameter_name else parameter_name


def layer_grad_norms(model: Any) -> dict[str, float]:
    """‖∂L/∂θ‖₂ of each layer (all its parameters as one vector), in the model's parameter order.
    Parameters without a gradient are left out."""
    squares: dict[str, float] = {}
    for name, p in _named_parameters(model):
        if p.grad is None:
            continue
        g = np.asarray(p.grad).ravel()
        layer = layer_of(name)
        squares[layer] = squares.get(layer, 0.0) + float(np.dot(g, g))
    return {layer: math.sqrt(s) for layer, s in squares.items()}


def _named_parameters(model: Any) -> Iterable[tuple[str, Any]]:
    if hasattr(model, "named_parameters"):
        return model.named_parameters()
    return ((str(i), p) for i, p in enumerate(model))


@dataclass(frozen=True)
class GradientReport:
    """The diagnosis of one set of layer gradient norms: which layers vanish or explode, and why."""

    norms: dict[str, float]
    vanishing: tuple[str, ...]
    exploding: tuple[str, ...]
    vanishing_ratio: float
    exploding_norm: float

    @property
    def healthy(self) -> bool:
        """True when no layer's gradients vanish or explode."""
        return not self.vanishing and not self.exploding

    @property
    def first_to_last(self) -> float:
        """‖∇ first layer‖ / ‖∇ last layer‖: far below 1 when gradients vanish towards the input."""
        values = list(self.norms.values())
        return values[0] / values[-1] if values and values[-1] > 0 else math.nan

    @property
    def message(self) -> str:
        """A one-line diagnosis: healthy, or which layers vanish or explode and by how much."""
        if not self.norms:
            return "no gradients recorded yet: call record(model) after backward()."
        names = list(self.norms)
        first, last = names[0], names[-1]
        lines = []
        if self.vanishing:
            largest = max(self.norms, key=self.norms.get)
            lines.append(
                f"vanishing gradients in {len(self.vanishing)} of {len(names)} layers ({_list(self.vanishing)}): "
                f"their gradient norms are below {self.vanishing_ratio:g} × the largest "
                f"({largest}: {self.norms[largest]:.2e}).\n"
                f"  first layer {first}: {self.norms[first]:.2e}, last layer {last}: {self.norms[last]:.2e} "
                f"(ratio {self.first_to_last:.1e}).\n"
                "  these layers barely learn. Each sigmoid/tanh layer scales the gradient by σ' ≤ 1/4 (tanh' ≤ 1): "
                "use ReLU with He initialization, residual connections or normalization, or fewer layers."
            )
        if self.exploding:
            worst = max(self.exploding, key=lambda k: self.norms[k] if math.isfinite(self.norms[k]) else math.inf)
            lines.append(
                f"exploding gradients in {len(self.exploding)} of {len(names)} layers ({_list(self.exploding)}): "
                f"norms above {self.exploding_norm:g} or not finite (largest {worst}: {self.norms[worst]:.2e}).\n"
                "  lower the learning rate, clip the gradients (fit(..., clip_norm=1.0)) or use a smaller "
                "initialization (Xavier/He)."
            )
        if not lines:
            low = min(self.norms, key=self.norms.get)
            high = max(self.norms, key=self.norms.get)
            lines.append(
                f"gradients healthy in all {len(names)} layers: norms from {self.norms[low]:.2e} ({low}) to "
                f"{self.norms[high]:.2e} ({high}); first/last layer ratio {self.first_to_last:.2g}."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


def _list(names: tuple[str, ...], shown: int = 4) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown - 1])}, …, {names[-1]}"


def diagnose(norms: dict[str, float], vanishing: float = 1e-4, exploding: float = 1e3) -> GradientReport:
    """Flag layers whose norm is below ``vanishing`` × the largest layer norm, and layers whose norm is
    above ``exploding`` (or NaN/inf)."""
    finite = [v for v in norms.values() if math.isfinite(v)]
    largest = max(finite, default=0.0)
    vanishing_layers = tuple(k for k, v in norms.items() if math.isfinite(v) and v < vanishing * largest)
    exploding_layers = tuple(k for k, v in norms.items() if not math.isfinite(v) or v > exploding)
    return GradientReport(dict(norms), vanishing_layers, exploding_layers, vanishing, exploding)


class GradNormMonitor(Callback):
    """Record each layer's gradient norm after every backward pass and flag vanishing or exploding ones.

    A layer's gradients *vanish* when their norm falls below ``vanishing`` × the largest layer's norm
    (relative, so the loss's scale does not matter); they *explode* above ``exploding`` (absolute) or
    when not finite. Layers are the parameter names without their last part ("3.weight" → layer "3").

    In ``fit`` it runs on its own (at the end of each epoch it diagnoses the epoch's median norms and, the first
    time a problem shows, adds it to ``history.notes`` and warns with a GradientWarning if ``warn``); by hand:

    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 16, rng=0), cm.nn.Tanh(), cm.nn.Linear(16, 10, rng=1))
    >>> data = cm.data.digits()
    >>> cm.nn.losses.cross_entropy(model(data.X_train[:100]), data.y_train[:100]).backward()
    >>> monitor = cm.train.GradNormMonitor()
    >>> monitor.record(model)                   # each layer's gradient norm
    {'0': 0.669, '2': 0.325}
    >>> print(monitor.report())
    gradients healthy in all 2 layers: norms from 3.25e-01 (2) to 6.69e-01 (0); first/last layer ratio 2.1.
    """

    def __init__(self, vanishing: float = 1e-4, exploding: float = 1e3, every: int = 1, warn: bool = True):
        if vanishing <= 0 or exploding <= 0 or every < 1:
            raise ValueError("GradNormMonitor: vanishing and exploding must be > 0 and every >= 1.")
        self.vanishing = vanishing
        self.exploding = exploding
        self.every = every
        self.warn = warn
        self.layers: list[str] = []
        self.records: list[np.ndarray] = []  # one array of layer norms per recorded step
        self.steps: list[int] = []
        self.reports: list[GradientReport] = []  # one per epoch, in fit
        self._epoch_start = 0

    def record(self, model: Any, step: int | None = None) -> dict[str, float]:
        """Measure and keep the current layer gradient norms of ``model``; return them."""
        norms = layer_grad_norms(model)
        if not self.layers:
            self.layers = list(norms)
        self.records.append(np.array([norms.get(layer, math.nan) for layer in self.layers]))
        self.steps.append(len(self.steps) if step is None else step)
        return norms

    @property
    def norms(self) -> np.ndarray:
        """All recorded norms, shape (recorded steps, layers), columns in ``layers`` order."""
        return np.array(self.records).reshape(len(self.records), len(self.layers))

    def report(self, since: int = 0) -> GradientReport:
        """The diagnosis of the median norm of each layer over the records from ``since`` on
        (by default all of them)."""
        recent = self.norms[since:]
        if len(recent) == 0:
            return diagnose({}, self.vanishing, self.exploding)
        medians = np.median(recent, axis=0)
        return diagnose(dict(zip(self.layers, medians.tolist())), self.vanishing, self.exploding)

    # -- as a callback of fit ------------------------------------------------------------------------
    def on_train_begin(self, state: TrainingState) -> None:
        self._diagnosed: set[tuple[bool, bool]] = set()

    def on_epoch_begin(self, state: TrainingState) -> None:
        self._epoch_start = len(self.records)

    def on_after_backward(self, state: TrainingState) -> None:
        if state.step % self.every:
            return
        norms = self.record(state.model, state.step)
        for layer, value in norms.items():
            state.history.grad_norms.setdefault(layer, []).append(value)

    def on_epoch_end(self, state: TrainingState) -> None:
        report = self.report(since=self._epoch_start)
        self.reports.append(report)
        kind = (bool(report.vanishing), bool(report.exploding))
        if not report.healthy and kind not in self._diagnosed:  # say it once per kind, not every epoch
            self._diagnosed.add(kind)
            note = f"epoch {state.epoch}: {report.message}"
            state.history.notes.append(note)
            if self.warn:
                warnings.warn(note, GradientWarning, stacklevel=2)
