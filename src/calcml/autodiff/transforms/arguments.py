"""What every transform does at its edges: inputs in, outputs out.

A transform replaces the numeric leaves of the arguments it differentiates by fresh input Tensors
(``call_traced``), runs ``f``, and hands the results back as plain arrays at the top level or as
Tensors inside another transform (``finish``), so that transforms compose:

    grad(grad(f))(x):  the inner grad's result stays a Tensor on the outer trace → f''(x)

>>> nested()                      # no transform is running
False
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.errors import StructureError
from calcml.autodiff.primitive import apply
from calcml.autodiff.rules.elementwise import positive
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, as_float_array, recorded_by_vmap


def nested() -> bool:
    """True inside another transform (or a vmap trace): results must then stay traced for the outer one."""
    return STATE.reverse_depth > 0 or STATE.forward_depth > 0 or bool(STATE.vmap_tracers)


def is_number(leaf: Any) -> bool:
    """Leaves that are differentiated: arrays and numbers. Others (strings, None, objects) are constants."""
    return isinstance(leaf, (Tensor, np.ndarray, numbers.Number, np.generic)) and not isinstance(leaf, str)


def as_input(value: Any) -> Tensor:
    """A fresh Tensor to differentiate with respect to; it stays linked to an outer trace if there is one.
    A leaf the user made (``requires_grad=True``: a model's weight) is one variable wherever it is used:
    it is its own input at every depth, so ``cm.grad(loss)(model.parameters(), X, y)`` and
    ``cm.hvp(loss, model.parameters(), v)`` differentiate the weights the model really uses; the result
    then stays linked to those leaves while recording (a Tensor: ``.value`` for the array, or call inside
    ``cm.no_grad()``), so a loss built from it still backpropagates to them."""
    if is_users_leaf(value):
        return value
    if type(value) is Tensor:
        if (value.requires_grad and STATE.recording) or recorded_by_vmap(value):
            fresh = apply(positive, (value,), {})  # an identity node: the outer graph continues through it
        else:
            fresh = Tensor(value.value)
            fresh.tangent = value.tangent
        fresh.requires_grad = True
        return fresh
    return Tensor.input(as_float_array(value))


def is_users_leaf(value: Any) -> bool:
    """A leaf made with ``cm.Tensor(..., requires_grad=True)`` (not an input a transform made)."""
    if type(value) is not Tensor or value.node is not None or not value.requires_grad:
        return False
    return getattr(value, "owner", None) is not None  # Tensors made by operations have no owner


class TracedArgument(NamedTuple):
    """One differentiated argument: its structure, per leaf the input Tensor (None for a constant leaf),
    and the inputs the transform made itself (released when it is done; a user's own leaves are not)."""

    treedef: tree.TreeDef
    inputs: list[Tensor | None]
    made: list[Tensor]


new_traced_argument = tuple.__new__  # made per argument per call: without NamedTuple's Python __new__


def trace_argument(value: Any) -> tuple[Any, TracedArgument]:
    """Replace the numeric leaves of one argument (an array or a pytree of arrays) by fresh inputs."""
    if type(value) is np.ndarray and value.dtype.kind == "f":  # the commonest case: an array of floats
        x = Tensor.input(value)
        made = [x]
        return x, new_traced_argument(TracedArgument, (tree.LEAF, made, made))
    if type(value) is Tensor or type(value) is float or type(value) is np.ndarray:  # the common cases
        x = as_input(value)
        return x, TracedArgument(tree.LEAF, [x], [] if x is value else [x])
    leaves, treedef = tree.flatten(value)
    for leaf in leaves:
        if not is_number(leaf):
            refuse_hidden_arrays(leaf)
    inputs = [as_input(leaf) if is_number(leaf) else None for leaf in leaves]
    rebuilt = tree.unflatten(treedef, [x if x is not None else leaf for x, leaf in zip(inputs, leaves)])
    made = [x for x, leaf in zip(inputs, leaves) if x is not None and x is not leaf]
    return rebuilt, TracedArgument(treedef, inputs, made)


def refuse_hidden_arrays(leaf: Any) -> None:
    """A constant leaf must not be an object whose attributes hold the arrays to differentiate (a model
    object that is not a pytree node): its gradient would silently be None."""
    attributes = getattr(leaf, "__dict__", None) or {}
    hidden = [name for name, v in attributes.items() if isinstance(v, (np.ndarray, Tensor, numbers.Number))
              and not isinstance(v, bool)]
    if hidden:
        kind = type(leaf).__name__
        raise StructureError(
            f"an argument holds a {kind} whose attributes {', '.join(hidden)} are arrays or numbers, but a {kind} "
            "is not a pytree node, so calcml cannot see inside it (its gradient would be None).\n"
            f"  make {kind} a dataclass, register it with cm.tree.register({kind}, flatten, unflatten), or pass "
            "its arrays (a dict or tuple of them) to the function instead."
        )


def release(traced: list[TracedArgument]) -> None:
    """A transform's own input leaves stop requiring grad once its result is built: for an outer
    graph that reaches them (through a traced gradient) they are constants, not leaves of the user's."""
    for argument in traced:
        for x in argument.made:
            if x.node is None:
                x.requires_grad = False


def argnums_tuple(argnums: int | Sequence[int], args: tuple, transform: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of non-negative positions, checked against the arguments given."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"{transform}: argnums={argnums!r} but the function was called with "
                             f"{len(args)} positional argument(s).")
    return tuple(i % len(args) for i in nums)


def call_traced(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> tuple[Any, list[TracedArgument]]:
    """Call ``f`` with the chosen arguments' leaves replaced by fresh traced inputs."""
    call_args = list(args)
    traced = []
    for i in nums:
        call_args[i], argument = trace_argument(args[i])
        traced.append(argument)
    STATE.reverse_depth += 1
    previous = STATE.recording, STATE.tangents_stopped  # a transform always records its own f,
    STATE.recording, STATE.tangents_stopped = True, False  # even inside no_grad or a VJP rule
    try:
        out = f(*call_args, **kwargs)
    finally:
        STATE.reverse_depth -= 1
        STATE.recording, STATE.tangents_stopped = previous
    return out, traced


def as_output_tensor(out: Any, transform: str) -> Tensor:
    """The one scalar output of ``f`` as a Tensor (a constant when it does not depend on the inputs)."""
    if type(out) is Tensor:
        return out
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{transform} expects the function to return one scalar, but it returned a "
                        f"{type(out).__name__}. Return a single value, or use has_aux=True to return "
                        "(value, auxiliary data); for several outputs use cm.jacobian or cm.vjp.")
    return Tensor(np.asarray(out))  # does not depend on the inputs: its gradient is zero


def output_leaves(out: Any) -> tuple[list[Tensor], tree.TreeDef]:
    """The outputs of ``f`` as Tensors, one per leaf of the returned pytree."""
    if type(out) is Tensor:
        return [out], tree.LEAF
    leaves, treedef = tree.flatten(out)
    tensors = []
    for leaf in leaves:
        if not is_number(leaf):
            raise TypeError(f"the function returned a {type(leaf).__name__} among its outputs; outputs must be "
                            "arrays or numbers (in tuples, lists or dicts). Return other data with has_aux=True.")
        tensors.append(leaf if type(leaf) is Tensor else Tensor(np.asarray(leaf)))
    return tensors, treedef


def finish(value: Any, keep_traced: bool) -> Any:
    """Plain arrays at the top level, Tensors inside another transform (or linked to outer leaves)."""
    if keep_traced:
        return value
    if type(value) is Tensor:
        value = value.value
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if not value.flags.writeable:
        value = value.copy()  # broadcast views from the rules become ordinary arrays
    return value[()] if value.ndim == 0 else value


def aux_splitter(f: Callable, transform: str) -> tuple[Callable, list]:
    """``f`` returning ``(out, aux)`` → a function returning ``out``, and the list its aux lands in."""
    box: list = []

    def without_aux(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{transform}(has_aux=True) expects the function to return a pair (value, aux).")
        box[:] = [out[1]]
        return out[0]

    return without_aux, box


def plain_aux(aux: Any) -> Any:
    """Auxiliary data as plain values at the top level (it is not differentiated)."""
    if nested():
        return aux
    return tree.map(lambda leaf: finish(leaf, False) if type(leaf) is Tensor else leaf, aux)


def stop_gradient(x: Any) -> Any:
    """The same values as constants: no derivative flows through them, in any mode (JAX's stop_gradient).
    d/dx stop_gradient(x) = 0. Works leaf by leaf on pytrees.

    >>> cm.grad(lambda x: x * cm.stop_gradient(x))(3.0)      # d/dx (x · c) with c = 3 held fixed
    np.float64(3.0)
    """
    return tree.map(stopped, x)


def stopped(leaf: Any) -> Any:
    """One leaf of ``stop_gradient``: a Tensor's values as a constant. Under ``cm.vmap`` the constant is still
    each example's own: the trace records it (with this function as its batching rule's operation)."""
    if type(leaf) is not Tensor:
        return leaf
    constant = Tensor(leaf.value)
    for tracer in STATE.vmap_tracers:
        tracer.record_alias(leaf, constant, identity=stopped)
    return constant
