"""What a traced graph holds: its nodes, and for each node the uses other nodes made of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calcml.autodiff.tensor import Tensor


@dataclass(frozen=True, eq=False)
class GraphNode:
    """One node of a traced graph.

    ``op`` is ``"input"``, ``"constant"``, ``"parameter"`` or a primitive's name; ``parents`` are the ids
    of the nodes it was computed from (in argument order, repeated if an argument is used twice);
    ``grad`` is ∂L/∂node (``None`` for constants); ``derivative`` is the primitive's rule in words.
    """

    id: str
    op: str
    parents: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    value: np.ndarray
    grad: np.ndarray | None
    derivative: str
    expression: str
    name: str | None = None


@dataclass(frozen=True, eq=False)
class Use:
    """``consumer`` was computed from a node as its differentiable argument ``argnum``."""

    consumer: GraphNode
    argnum: int
    tensor: Tensor  # the consumer's Tensor (its node holds the primitive and the argument values)
    operands: list[str]  # how the consumer's arguments read: node ids or literals
