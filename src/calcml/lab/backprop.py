"""The backprop stepper: one gradient-descent step of a 2-layer network on XOR, node by node.

    h = tanh(X W1 + b1)            hidden layer, 3 units
    ŷ = h W2 + b2                  output
    L = mean((ŷ − y)²)             loss
    W ← W − η ∂L/∂W                update, for W1, b1, W2, b2

``cm.trace`` records every node's value and gradient ∂L/∂node; the page replays the forward pass, the
loss, the backward pass and the update one node at a time. The weights travel with each request, so the
server keeps no state between steps.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.graph import trace
from calcml.autodiff.notation import compact
from calcml.lab.errors import LabInputError
from calcml.lab.functions import finite_list, finite_number

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
HIDDEN = 3
SHAPES = {"W1": (2, HIDDEN), "b1": (HIDDEN,), "W2": (HIDDEN, 1), "b2": (1,)}
LIMIT = 1e6  # weights beyond this are refused: the run has diverged


def initial_weights(seed: int) -> dict[str, np.ndarray]:
    """Small random weights (Xavier-scaled normal) and zero biases, from ``seed``."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, 1.0, SHAPES["W1"]), "b1": np.zeros(HIDDEN),
            "W2": rng.normal(0.0, np.sqrt(1.0 / HIDDEN), SHAPES["W2"]), "b2": np.zeros(1)}


def check_weights(weights: dict[str, list]) -> dict[str, np.ndarray]:
    """The weights as arrays of the network's shapes, finite and not absurdly large."""
    if set(weights) != set(SHAPES):
        raise LabInputError(f"weights must be exactly {', '.join(SHAPES)}; got {', '.join(sorted(weights))}.")
    arrays = {}
    for name, shape in SHAPES.items():
        try:
            array = np.array(weights[name], dtype=float)
        except (TypeError, ValueError):
            raise LabInputError(f"weights {name} must be numbers in a nested list of shape {shape}.") from None
        if array.shape != shape:
            raise LabInputError(f"weights {name} must have shape {shape}, got {array.shape}.")
        if not np.all(np.isfinite(array)) or np.max(np.abs(array), initial=0.0) > LIMIT:
            raise LabInputError(f"weights {name} are not finite or beyond ±{LIMIT:g}: the run has diverged; "
                                "reset the network or lower the learning rate.", "diverged")
        arrays[name] = array
    return arrays


def network_loss(W1, b1, W2, b2):
    """L = mean((tanh(X W1 + b1) W2 + b2 − y)²) on the four XOR points."""
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 + b2 - Y) ** 2)


def _data_name(value: np.ndarray) -> str | None:
    """The data set's name for a constant node ("X" or "y"), so the graph reads like the formulas."""
    for name, data in (("X", X), ("y", Y)):
        if value.shape == data.shape and np.array_equal(value, data):
            return name
    return None


def backprop_step(weights: dict[str, list] | None, lr: float, seed: int) -> dict:
    """The traced graph of one step (nodes with values, gradients and depth) and the updated weights."""
    w = initial_weights(seed) if weights is None else check_weights(weights)
    graph = trace(network_loss, w["W1"], w["b1"], w["W2"], w["b2"])
    depth: dict[str, int] = {}
    nodes = []
    for node in graph.nodes:
        depth[node.id] = 1 + max((depth[p] for p in node.parents), default=-1)
        nodes.append({
            "id": node.id, "op": node.op, "name": node.name or _data_name(node.value), "expression": node.expression,
            "parents": list(node.parents), "shape": list(node.shape), "depth": depth[node.id],
            "value": finite_list(node.value), "value_text": compact(node.value),
            "grad": None if node.grad is None else finite_list(node.grad),
            "grad_text": None if node.grad is None else compact(node.grad),
            "derivative": node.derivative,
        })
    updates = []
    new_weights = {}
    with np.errstate(all="ignore"):
        for node in graph.inputs:
            after = node.value - lr * node.grad
            new_weights[node.name] = after
            updates.append({"name": node.name, "id": node.id, "before": finite_list(node.value),
                            "grad": finite_list(node.grad), "after": finite_list(after),
                            "text": f"{node.name} ← {node.name} − {lr:g} · ∂L/∂{node.name} = {compact(after)}"})
    diverged = not all(np.all(np.isfinite(a)) and np.max(np.abs(a)) <= LIMIT for a in new_weights.values())
    return {
        "nodes": nodes,
        "output": graph.output.id,
        "loss": finite_number(graph.output.value),
        "lr": lr,
        "updates": updates,
        "weights": None if diverged else {name: finite_list(a) for name, a in new_weights.items()},
        "diverged": diverged,
        "explanation": graph.explain(),
        "data": {"X": X.tolist(), "y": Y.ravel().tolist()},
    }

