"""``Sequential``: layers applied one after another, f = f_n ∘ … ∘ f_1, so backpropagation multiplies
their Jacobians in reverse order:  ∂L/∂x = J_1ᵀ ⋯ J_nᵀ ∂L/∂y."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calcml.nn.module import Module


class Sequential(Module):
    """A chain of modules (or any callables). Parameters are named by position: ``0.weight``, ``2.bias``.

    >>> model = cm.nn.Sequential(cm.nn.Linear(64, 32), cm.nn.ReLU(), cm.nn.Linear(32, 10))
    """

    def __init__(self, *layers: Any):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = list(layers)

    def named_members(self) -> Iterator[tuple[str, Any]]:
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)

    def append(self, layer: Any) -> Sequential:
        """Add ``layer`` at the end; returns self."""
        self.layers.append(layer)
        return self
