"""Backpropagation three ways for a two-layer network: by hand in matrix form, by calcml, by PyTorch.

The network and its loss, for a batch X (N, D) with integer labels y (one-hot rows Y, (N, K)):

    Z₁ = X W₁ + b₁      A₁ = tanh(Z₁)      Z₂ = A₁ W₂ + b₂      P = softmax(Z₂)
    L  = −(1/N) Σ_n log P[n, y_n]

Backpropagation is the chain rule applied from L back to each weight, one matrix product per layer
(shapes in brackets; ⊙ is the elementwise product, 1 a column of ones):

    ∂L/∂Z₂ = (P − Y) / N                      [N, K]   softmax and cross-entropy together
    ∂L/∂W₂ = A₁ᵀ ∂L/∂Z₂                       [H, K]   Z₂ = A₁W₂: the input transposed, times the gradient
    ∂L/∂b₂ = 1ᵀ ∂L/∂Z₂                        [K]      the bias was broadcast over the batch: sum it back
    ∂L/∂A₁ = ∂L/∂Z₂ W₂ᵀ                       [N, H]   the gradient sent back to the layer below
    ∂L/∂Z₁ = ∂L/∂A₁ ⊙ (1 − A₁²)               [N, H]   tanh' = 1 − tanh²
    ∂L/∂W₁ = Xᵀ ∂L/∂Z₁,   ∂L/∂b₁ = 1ᵀ ∂L/∂Z₁

``by_hand`` computes exactly these lines in NumPy; ``by_calcml`` differentiates the forward pass written in
plain NumPy with ``cm.grad``; ``by_torch`` writes it in PyTorch and calls ``loss.backward()`` (torch is
optional). ``three_ways`` runs all of them and prints the gradients side by side: in float64 they agree to
~1e-16, the rounding of the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from calcml.autodiff.transforms import stop_gradient, value_and_grad

NAMES = ("W1", "b1", "W2", "b2")


def init_params(inputs: int = 4, hidden: int = 5, classes: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights ~ N(0, 1/fan_in), biases ~ N(0, 0.1²), float64 (small and random, so no gradient is trivially 0)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((inputs, hidden)) / np.sqrt(inputs), "b1": 0.1 * rng.standard_normal(hidden),
        "W2": rng.standard_normal((hidden, classes)) / np.sqrt(hidden), "b2": 0.1 * rng.standard_normal(classes),
    }


def toy_batch(n: int = 8, inputs: int = 4, classes: int = 3, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A random batch: X ~ N(0, 1) of shape (n, inputs) and labels in 0…classes−1."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, inputs)), rng.integers(0, classes, size=n)


def loss(W1, b1, W2, b2, X: np.ndarray, y: np.ndarray):
    """Mean softmax cross-entropy of the two-layer tanh network, in plain NumPy (calcml traces it as is).

    log P[n, k] = Z₂[n, k] − log Σ_j exp Z₂[n, j], with the row maximum m subtracted inside the exponential
    (log Σ exp Z = m + log Σ exp(Z − m): the same number, without overflow; m is a constant for the gradient).
    """
    Z2 = np.tanh(X @ W1 + b1) @ W2 + b2
    m = stop_gradient(np.max(Z2, axis=1, keepdims=True))
    log_normalizer = m + np.log(np.sum(np.exp(Z2 - m), axis=1, keepdims=True))
    picked = np.take_along_axis(Z2, y[:, None], axis=1)
    return np.mean(log_normalizer - picked)


def by_hand(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradients from the matrix formulas above: a forward pass keeping A₁ and P, then one
    line per formula."""
    W1, b1, W2, b2 = (params[name] for name in NAMES)
    n, classes = len(X), W2.shape[1]
    A1 = np.tanh(X @ W1 + b1)
    Z2 = A1 @ W2 + b2
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(classes)[y]
    value = float(-np.mean(np.log(P[np.arange(n), y])))

    dZ2 = (P - Y) / n
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * (1 - A1 ** 2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return value, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def by_calcml(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradients by calcml's reverse mode: ``cm.value_and_grad(loss, argnums=(0, 1, 2, 3))``."""
    value, grads = value_and_grad(loss, argnums=(0, 1, 2, 3))(*(params[name] for name in NAMES), X, y)
    return float(value), dict(zip(NAMES, grads))


def by_torch(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradients by PyTorch's autograd (float64): leaves with requires_grad, then
    ``loss.backward()`` fills each ``.grad``. Raises ImportError with an install hint when torch is missing."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("by_torch needs PyTorch: pip install torch (calcml's test extra has it).") from error
    leaves = {name: torch.tensor(params[name], dtype=torch.float64, requires_grad=True) for name in NAMES}
    logits = torch.tanh(torch.from_numpy(X) @ leaves["W1"] + leaves["b1"]) @ leaves["W2"] + leaves["b2"]
    value = torch.nn.functional.cross_entropy(logits, torch.from_numpy(np.asarray(y, dtype=np.int64)))
    value.backward()
    return value.detach().item(), {name: leaf.grad.numpy() for name, leaf in leaves.items()}


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class ThreeWays:
    """The loss and the gradients of each method (``methods`` in order: "by hand", "calcml", and "PyTorch" when
    torch is installed), and the largest disagreement between any two."""

    losses: dict[str, float]
    grads: dict[str, dict[str, np.ndarray]]

    @property
    def methods(self) -> list[str]:
        return list(self.grads)

    def difference(self, first: str, second: str, name: str | None = None) -> float:
        """max |∂L/∂θ by ``first`` − by ``second``| over the parameter ``name`` (all of them if None)."""
        names = NAMES if name is None else (name,)
        return max(float(np.max(np.abs(self.grads[first][n] - self.grads[second][n]))) for n in names)

    @property
    def max_difference(self) -> float:
        return max((self.difference(a, b) for a, b in combinations(self.methods, 2)), default=0.0)

    def table(self) -> str:
        """Per parameter: shape, norm, and the largest difference between each pair of methods."""
        pairs = list(combinations(self.methods, 2))
        head = f"{'':4} {'shape':>8} {'‖∂L/∂θ‖':>10}" + "".join(f"{a + ' − ' + b:>22}" for a, b in pairs)
        rows = [head]
        for name in NAMES:
            g = self.grads[self.methods[0]][name]
            row = f"{name:4} {str(g.shape):>8} {np.linalg.norm(g):10.6f}"
            rows.append(row + "".join(f"{self.difference(a, b, name):22.1e}" for a, b in pairs))
        return "\n".join(rows)

    def side_by_side(self, name: str, count: int = 4) -> str:
        """The first ``count`` entries of ∂L/∂``name``, one column per method."""
        lines = [f"∂L/∂{name}" + "".join(f"{method:>24}" for method in self.methods)]
        for index in list(np.ndindex(self.grads[self.methods[0]][name].shape))[:count]:
            label = f"[{', '.join(map(str, index))}]"
            lines.append(f"{label:8}" + "".join(f"{self.grads[m][name][index]:24.17f}" for m in self.methods))
        return "\n".join(lines)

    def __str__(self) -> str:
        losses = ", ".join(f"{method} {value:.17f}" for method, value in self.losses.items())
        return "\n\n".join([f"loss: {losses}", self.table(), *(self.side_by_side(name) for name in NAMES),
                            f"largest disagreement between any two methods: {self.max_difference:.1e}"])


def three_ways(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, use_torch: bool | None = None) -> ThreeWays:
    """Run the hand formulas, calcml and (if ``use_torch``, by default when it is installed) PyTorch."""
    methods = {"by hand": by_hand, "calcml": by_calcml}
    if torch_available() if use_torch is None else use_torch:
        methods["PyTorch"] = by_torch
    results = {method: compute(params, X, y) for method, compute in methods.items()}
    return ThreeWays({m: r[0] for m, r in results.items()}, {m: r[1] for m, r in results.items()})
