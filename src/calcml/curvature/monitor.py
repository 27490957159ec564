"""``SharpnessMonitor``: λ_max of the training loss's Hessian every k steps of ``cm.train.fit``.

Gradient descent with step η on a quadratic is stable only while λ_max < 2/η. Cohen et al. (2021) observed
that full-batch gradient descent on a network makes λ_max grow ("progressive sharpening") until it reaches
about 2/η, and then hover there (the edge of stability) while the loss keeps falling, non-monotonically.
The monitor measures λ_max by Lanczos on Hessian-vector products of ``loss(model(X), y)`` at the current
weights, so it can show that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.curvature.eigs import hessian_eigs
from calcml.curvature.errors import positive_integer
from calcml.curvature.operator import model_loss
from calcml.train.callbacks import Callback, TrainingState


class SharpnessMonitor(Callback):
    """Record λ_max(∇²loss) on (X, y) before training and after every ``every``-th optimizer step.

    ``steps`` and ``values`` hold the measurements; ``hvps`` the Hessian-vector products spent. The
    measurement runs with the model in evaluation mode (no dropout), on ``iters`` Lanczos steps.

    >>> X, y = np.random.default_rng(0).normal(size=(40, 4)), np.arange(40) % 3
    >>> model = cm.nn.Sequential(cm.nn.Linear(4, 8, rng=0, dtype=np.float64), cm.nn.Tanh(),
    ...                          cm.nn.Linear(8, 3, rng=1, dtype=np.float64))
    >>> monitor = cm.curvature.SharpnessMonitor(X, y, cm.nn.losses.cross_entropy, every=5)
    >>> _ = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.SGD(model.parameters(), lr=0.5), (X, y),
    ...                  epochs=10, batch_size=None, progress=False, callbacks=[monitor])
    >>> monitor.steps
    [0, 5, 10]
    """

    def __init__(self, X: Any, y: Any, loss: Callable, every: int = 10, k: int = 1, iters: int = 20,
                 seed: int | None = 0):
        every = positive_integer(every, "every", "SharpnessMonitor")
        self.X, self.y, self.loss = X, y, loss
        self.every, self.k, self.iters, self.seed = every, k, iters, seed
        self.steps: list[int] = []
        self.values: list[float] = []
        self.hvps = 0

    def measure(self, model: Any) -> float:
        """λ_max of the loss's Hessian at the model's current weights (the model's mode is kept)."""
        training = getattr(model, "training", False)
        if hasattr(model, "eval"):
            model.eval()
        try:
            loss, params = model_loss(model, self.loss, self.X, self.y)
            result = hessian_eigs(loss, params, k=self.k, iters=self.iters, seed=self.seed)
        finally:
            if hasattr(model, "train"):
                model.train(training)
        self.hvps += result.hvps
        return float(result.eigenvalues[0])

    def record(self, model: Any, step: int) -> float:
        """Measure λ_max and keep it with its step."""
        value = self.measure(model)
        self.steps.append(step)
        self.values.append(value)
        return value

    @property
    def lambda_max(self) -> np.ndarray:
        """The recorded λ_max values, in step order."""
        return np.array(self.values)

    def on_train_begin(self, state: TrainingState) -> None:
        self.record(state.model, state.step)

    def on_step_end(self, state: TrainingState) -> None:
        if state.step % self.every == 0:
            self.record(state.model, state.step)

    def on_train_end(self, state: TrainingState) -> None:
        if self.values:
            state.history.notes.append(f"sharpness: λ_max {self.values[0]:.4g} at step {self.steps[0]} → "
                                       f"{self.values[-1]:.4g} at step {self.steps[-1]} ({self.hvps} HVPs).")
