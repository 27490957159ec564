"""How much memory a graph keeps alive for its backward pass: the engine's own accounting.

Every node holds its inputs' arrays (the VJP rules need them) and its output's array. Between the
forward and the backward pass these stay alive; ``graph_bytes`` adds them up, each array once.

>>> y = np.sum(np.tanh(cm.Tensor(np.ones(1000), requires_grad=True)))
>>> cm.autodiff.memory.graph_bytes(y)
16008
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.reverse import reverse_topological_order
from calcml.autodiff.tensor import Tensor


def graph_bytes(output: Tensor) -> int:
    """Bytes of the arrays held by every node ``output`` depends on (inputs, intermediates, output)."""
    seen: dict[int, int] = {}
    for tensor in reverse_topological_order(output):
        seen[id(tensor.value)] = tensor.value.nbytes
        node = tensor.node
        if node is None:
            continue
        for value in node.values:
            if isinstance(value, np.ndarray):
                seen[id(value)] = value.nbytes
    return sum(seen.values())
