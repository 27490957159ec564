"""What fused primitives share: calling one from inside a rule, and keeping a value of the forward pass for
the backward pass.

``call``: on plain arrays (the fast path of ``backward``) run a primitive's NumPy forward directly; on
Tensors (higher derivatives, ``create_graph``) go through the engine so the call is traced and can be
differentiated again.

``Residual``: a value computed on the way (a softmax in the forward pass, a bias gradient inside the weight
gradient's product), kept for a later rule, like the residuals of JAX's custom_vjp. It is handed out only to
a rule called with the very array it was computed from, and only once; any other call computes its own.
"""

from __future__ import annotations

from typing import Any

from calcml.autodiff.primitive import Primitive
from calcml.autodiff.tensor import Tensor


def call(prim: Primitive, *args: Any, **kwargs: Any) -> Any:
    """``prim(*args, **kwargs)``: a plain array when no argument is a Tensor, else a traced Tensor."""
    if any(type(a) is Tensor for a in args):
        return prim(*args, **kwargs)
    return prim.forward(*args, **kwargs)


class Residual:
    """One value kept with the array it was computed from (``keep``), taken back once (``take``)."""

    __slots__ = ("of", "value")

    def __init__(self) -> None:
        self.of = self.value = None

    def keep(self, of: Any, value: Any) -> None:
        """Keep ``value``, computed from the array ``of``."""
        self.of, self.value = of, value

    def take(self, of: Any) -> Any:
        """The value kept from this very array ``of`` (an identity test, never equality), else None; the
        residual is then empty, so a value is never handed out twice (it may be modified in place)."""
        if of is not self.of:
            return None
        value = self.value
        self.of = self.value = None
        return value

    def __repr__(self) -> str:
        return f"Residual({'empty' if self.of is None else 'kept'})"
