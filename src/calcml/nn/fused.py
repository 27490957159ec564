"""Calling a fused primitive from inside a rule: on plain arrays (the fast path of ``backward``) run
its NumPy forward directly; on Tensors (higher derivatives, ``create_graph``) go through the engine so
the call is traced and can be differentiated again."""

from __future__ import annotations

from typing import Any

from calcml.autodiff.primitive import Primitive
from calcml.autodiff.tensor import Tensor


def call(prim: Primitive, *args: Any, **kwargs: Any) -> Any:
    """``prim(*args, **kwargs)``: a plain array when no argument is a Tensor, else a traced Tensor."""
    if any(type(a) is Tensor for a in args):
        return prim(*args, **kwargs)
    return prim.forward(*args, **kwargs)
