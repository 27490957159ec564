"""In-place arithmetic (``t += x`` and friends) with NumPy's meaning: every name bound to ``t`` sees the update.

On a computed Tensor the Tensor object itself takes the value and graph of ``t + x``; the operations that
used it before keep a snapshot of its earlier state (``t.previous``), which the backward pass, ``cm.trace``
and vmap's replay reach through ``as_used_at``. Writes through shared memory (a slice, a reshape or a
transpose view, or an array that has one) are refused: NumPy would change the other array too, and the graph
cannot follow that. On a leaf, the update changes its array in place, as an optimizer step does.

>>> x = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
>>> y = x * x
>>> z = y                       # z and y are one Tensor, as they would be one array
>>> z *= 3.0
>>> (y + z).sum().backward(); x.grad        # d/dx (3x² + 3x²) = 12x
array([12., 24.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from calcml.autodiff.errors import InPlaceError
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import CREATION_ORDER, Tensor


def update_in_place(tensor: Tensor, ufunc: np.ufunc, update: Any, other: Any, name: str) -> Tensor:
    """``t -= x`` and friends, with NumPy's meaning: every name bound to ``t`` sees the new value.

    On a computed Tensor, ``t`` takes the value and graph of ``t - x`` (the operations that used ``t``
    before keep its earlier state, ``t.previous``); it is refused when ``t``'s array is shared with another
    Tensor (a slice or view of it, or the array it is a view of), since NumPy would change that one too.
    On a leaf it changes the leaf's values in place, as an optimizer step does — allowed inside
    ``cm.no_grad()`` (or for a leaf that does not require grad), refused while recording, as in PyTorch;
    graphs that used the old values then refuse to backpropagate."""
    if tensor.node is not None or tensor.tangent is not None:
        if tensor.requires_grad and not STATE.recording:
            raise InPlaceError(
                f"in-place {name} inside cm.no_grad() on a Tensor that is on a graph: its value would change but "
                "not its graph, so gradients through it would be silently wrong.\n"
                f"  update it outside no_grad (`t {name} x`), or cut it from the graph first (`t = t.detach()`)."
            )
        before, other = _snapshot(tensor, other, name)
        updated = ufunc(before, other)
        if type(updated) is not Tensor:  # a piecewise-constant result (t //= 2): a constant from here on
            updated = Tensor(updated)
        if updated.shape != before.shape:
            raise InPlaceError(f"in-place {name} would change the shape {before.shape} to {updated.shape}, "
                               "which NumPy refuses too.\n  write `t = t @ x` for a new array.")
        if updated.dtype != before.dtype:  # NumPy keeps the array's dtype: float32 -= float64 stays float32
            if not np.can_cast(updated.dtype, before.dtype, casting="same_kind"):
                raise InPlaceError(f"in-place {name} would turn {before.dtype} values into {updated.dtype}, "
                                   f"which NumPy refuses too.\n  write `t = t {name[0]} x` for a new array.")
            updated = updated.astype(before.dtype)
        return _take_over(tensor, updated, before)
    if tensor.requires_grad and STATE.recording:
        raise InPlaceError(
            f"in-place {name} on a leaf Tensor that requires grad, while recording: the update would be "
            "part of the graph of the very value it changes.\n"
            f"  an optimizer step: `with cm.no_grad(): w {name} lr * w.grad`; a new value: `w = w {name[0]} x`."
        )
    other = other.value if type(other) is Tensor else other
    owner = getattr(tensor, "owner", None)
    if owner is not None and tensor.value.base is owner:  # the common case (an optimizer step), kept lean
        update(owner, other)  # operator.isub ...: ndarray's own in-place arithmetic
        tensor.modified_at = next(CREATION_ORDER)
        return tensor
    with tensor.writable() as array:
        update(array, other)
    return tensor


def _snapshot(tensor: Tensor, other: Any, name: str) -> tuple[Tensor, Any]:
    """The operands of an in-place update of this computed Tensor: a snapshot of its state now (what the
    update reads, and what the operations that used it so far see), and ``other`` (the snapshot again for
    ``t *= t``)."""
    if getattr(tensor, "shares_memory", False):
        raise InPlaceError(
            f"in-place {name} on a Tensor whose array is shared with another Tensor (a slice or view of it, "
            f"or the array it is a view of): NumPy would change both, and the graph cannot follow that.\n"
            f"  Tensor: shape={tensor.shape}, {tensor.dtype}\n"
            f"  write a new value instead (`t = t {name[0]} x`), or take a copy first (`t = y[1:3].copy()`)."
        )
    before = object.__new__(Tensor)
    for slot in ("value", "requires_grad", "grad", "node", "tangent", "name", "seq", "modified_at"):
        setattr(before, slot, getattr(tensor, slot))
    before.previous = getattr(tensor, "previous", None)  # set only on a Tensor updated in place before
    for tracer in STATE.vmap_tracers:  # vmap replays by identity: ``before`` is what this Tensor was
        tracer.record_alias(tensor, before)
    if STATE.recorder is not None:  # cm.trace lists Tensors in the order made: the snapshot takes its place
        _replace_by_identity(STATE.recorder, tensor, before)
    return before, (before if other is tensor else other)


def _take_over(tensor: Tensor, updated: Tensor, before: Tensor) -> Tensor:
    """Take the value and graph of ``updated``, computed from the snapshot ``before``, which stays reachable
    as ``previous``: every name bound to this Tensor sees the update, and earlier uses their own state."""
    tensor.value, tensor.node, tensor.tangent = updated.value, updated.node, updated.tangent
    tensor.requires_grad, tensor.seq, tensor.modified_at = updated.requires_grad, updated.seq, 0
    tensor.previous = before
    STATE.in_place_updates += 1
    for tracer in STATE.vmap_tracers:  # from here on, this Tensor is ``updated``
        tracer.record_alias(updated, tensor)
    if STATE.recorder is not None:  # cm.trace lists Tensors in the order they were made
        STATE.recorder.append(tensor)
    return tensor


def as_used_at(tensor: Tensor, seq: int) -> Tensor:
    """The state ``tensor`` had when the operation numbered ``seq`` used it: itself, or, if it was updated in
    place since (``t += x`` on a computed Tensor), the snapshot kept for that use."""
    while tensor.seq >= seq:
        tensor = tensor.previous
    return tensor


def _replace_by_identity(items: list, old: Any, new: Any) -> None:
    """Put ``new`` where ``old`` itself (not an equal value) is in ``items``; append it if ``old`` is not."""
    for k, item in enumerate(items):
        if item is old:
            items[k] = new
            return
    items.append(new)


def _operator(ufunc: np.ufunc, update: Any, name: str) -> Any:
    def in_place(self: Tensor, other: Any) -> Tensor:
        return update_in_place(self, ufunc, update, other, name)

    in_place.__name__ = f"__{update.__name__}__"
    in_place.__doc__ = f"``t {name} x``, with NumPy's meaning (see ``calcml.autodiff.in_place``)."
    return in_place


for _ufunc, _update, _name in [
    (np.add, operator.iadd, "+="), (np.subtract, operator.isub, "-="), (np.multiply, operator.imul, "*="),
    (np.divide, operator.itruediv, "/="), (np.floor_divide, operator.ifloordiv, "//="),
    (np.remainder, operator.imod, "%="), (np.power, operator.ipow, "**="), (np.matmul, operator.imatmul, "@="),
]:
    setattr(Tensor, f"__{_update.__name__}__", _operator(_ufunc, _update, _name))
