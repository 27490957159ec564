"""A variational circuit trained to a target: minimize L(θ) = (⟨O⟩_θ − target)² with Adam.

The chain rule splits the gradient into a classical factor and a quantum one,
∇L = 2 (⟨O⟩_θ − target) ∇⟨O⟩_θ, and ∇⟨O⟩_θ comes from the parameter-shift rule, as it would on
quantum hardware, where backpropagation through the state is impossible (or from the engine, to compare).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.apps.quantum.circuit import Circuit
from calcml.apps.quantum.parameter_shift import parameter_shift_gradient
from calcml.autodiff.tensor import Tensor
from calcml.autodiff.transforms import grad
from calcml.optim import Adam


@dataclass(frozen=True)
class VariationalFit:
    """``params``: the final angles; ``expectations``: ⟨O⟩ after each step (the first entry at the start)."""

    params: np.ndarray
    expectations: np.ndarray

    @property
    def final(self) -> float:
        return float(self.expectations[-1])


def fit_expectation(circuit: Circuit, observable: str | dict[str, float], target: float, params: Any,
                    steps: int = 200, lr: float = 0.1, gradient: str = "parameter_shift") -> VariationalFit:
    """Train the angles so that ⟨O⟩_θ reaches ``target``; ``gradient`` is "parameter_shift" or "engine".

    >>> fit = fit_expectation(Circuit(2).ry(0).cry(0, 1), "ZZ", -0.5, np.array([0.1, 0.1]))
    >>> round(fit.final, 4)
    -0.5
    """
    if gradient not in ("parameter_shift", "engine"):
        raise ValueError(f"gradient must be 'parameter_shift' or 'engine', got {gradient!r}.")
    theta = Tensor(np.array(params, dtype=float), requires_grad=True)
    optimizer = Adam([theta], lr=lr)
    engine_gradient = grad(lambda p: circuit.expectation(p, observable))
    history = [float(circuit.expectation(theta.value, observable))]
    for _ in range(steps):
        value = history[-1]
        if gradient == "parameter_shift":
            d_expectation = parameter_shift_gradient(circuit, theta.value, observable)
        else:
            d_expectation = engine_gradient(theta.value)
        theta.grad = 2 * (value - target) * d_expectation
        optimizer.step()
        history.append(float(circuit.expectation(theta.value, observable)))
    return VariationalFit(theta.value.copy(), np.array(history))
