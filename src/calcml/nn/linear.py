"""The affine layer y = x @ W + b, with W of shape (in_features, out_features).

∂L/∂W = xᵀ g,  ∂L/∂b = Σ_rows g,  ∂L/∂x = g Wᵀ  (all from the engine's matmul and add rules).
PyTorch stores the transpose: torch.nn.Linear.weight is (out, in), so W = torch_weight.T.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.tensor import Tensor
from calcml.nn.init import initializer
from calcml.nn.module import Module, parameter


class Linear(Module):
    """y = x @ W + b for x of shape (..., in_features).

    >>> layer = cm.nn.Linear(3, 2, rng=0)
    >>> layer(np.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init="he_uniform",
                 rng=None, dtype=np.float32):
        self.weight = parameter(initializer(init)((in_features, out_features), rng=rng, dtype=dtype), "weight")
        self.bias = parameter(np.zeros(out_features, dtype=dtype), "bias") if bias else None

    def forward(self, x) -> Tensor:
        out = x @ self.weight
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, {self.weight.shape[1]}, bias={self.bias is not None}"
