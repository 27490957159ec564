"""``vmap``: map a function over a batch axis without a Python loop.

    vmap(f)(X)[i] = f(X[i])        for every i along the batch axis

calcml runs ``f`` once on the first example while a ``Tracer`` records every operation that depends
on it (``trace.py``) — including the backward pass of a ``cm.grad`` inside ``f`` and the
piecewise-constant operations (comparisons, argmax) whose results steer it. Then it replays that record
on the whole batch, each operation through its batching rule (``rules.py``). An operation without a rule
runs once per example and the results are stacked — slower, never wrong. So is a whole function whose
record cannot be replayed (it read a value of its example as a plain number).

Composition: ``vmap(grad(loss), in_axes=(None, 0, 0))`` gives per-example gradients; ``grad(vmap(f))``
differentiates the replay like any other NumPy code; vmaps nest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.batching.rules import Batched, loop, rule_for
from calcml.autodiff.batching.trace import ExampleArray, Tracer
from calcml.autodiff.dispatch import unwrapped
from calcml.autodiff.errors import CalcmlError, ShapeError
from calcml.autodiff.reverse import reaches_other_leaves, reverse_topological_order
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, recorded_by_vmap
from calcml.autodiff.transforms.arguments import nested

_OUT_AXES_NONE = ("vmap: out_axes=None returns an output once, so it must not depend on the batch; this one does.\n"
                  "  give it a batch axis (out_axes=0), or return it from outside the vmapped function.")


class BatchingError(CalcmlError, ValueError):
    """vmap was given axes that do not fit its arguments, or a function it cannot batch."""


# ---- the replay ----------------------------------------------------------------------------------------
def _substitute(value: Any, env: dict[int, Any]) -> tuple[Any, bool]:
    """``value`` with every recorded Tensor replaced by its batch (a Batched), and whether there was one."""
    if type(value) is Tensor:
        found = env.get(id(value))
        return (value, False) if found is None else (Batched(found), True)
    if isinstance(value, (tuple, list)):
        pairs = [_substitute(v, env) for v in value]
        items = (v for v, _ in pairs)
        return (list(items) if isinstance(value, list) else tuple(items)), any(b for _, b in pairs)
    return value, False


def _add_tensors(value: Any, ids: set[int]) -> None:
    if type(value) is Tensor:
        ids.add(id(value))
    elif isinstance(value, (tuple, list)):
        for v in value:
            _add_tensors(v, ids)


def needed_entries(entries: list, outputs: list) -> list:
    """The entries the ``outputs`` depend on, in order: the others (a loss value when only its gradient is
    returned) are not replayed."""
    needed = {id(leaf) for leaf in outputs if type(leaf) is Tensor}
    kept = []
    for entry in reversed(entries):
        if id(entry[3]) in needed:
            kept.append(entry)
            _add_tensors(entry[1], needed)
            _add_tensors(tuple(entry[2].values()), needed)
    kept.reverse()
    return kept


def replay(entries: list, inputs: dict[int, Any], size: int) -> dict[int, Any]:
    """Run recorded operations on the whole batch; ``inputs`` maps traced inputs to physical arrays.
    Returns the physical value of every recorded Tensor that depends on the batch, by id."""
    env = dict(inputs)
    for fn, args, kwargs, out in entries:
        call_args, batched = [], False
        for a in args:
            if type(a) is Tensor:
                found = env.get(id(a))
                if found is not None:
                    a, batched = Batched(found), True
            elif isinstance(a, (tuple, list)):
                a, in_a = _substitute(a, env)
                batched = batched or in_a
            call_args.append(a)
        options = kwargs
        if kwargs:
            values, in_options = _substitute(tuple(kwargs.values()), env)
            options = dict(zip(kwargs, values))
            if in_options:  # a batched option (a where= mask): once per example
                env[id(out)] = loop(fn, tuple(call_args), options, size)
                continue
        if batched:
            env[id(out)] = rule_for(fn)(fn, tuple(call_args), options, size)
        else:
            env[id(out)] = fn(*call_args, **options)
    return env


# ---- arguments -----------------------------------------------------------------------------------------
class FlatArgument(NamedTuple):
    """One argument of the batched function: its leaves, its structure, and each leaf's batch axis."""

    leaves: list
    treedef: tree.TreeDef
    axes: list


def _axes_for(in_axes: Any, args: tuple) -> list:
    """One in_axes entry per argument (an int, None, or a pytree prefix matching the argument)."""
    if isinstance(in_axes, (int, type(None))):
        return [in_axes] * len(args)
    if not isinstance(in_axes, (tuple, list)) or len(in_axes) != len(args):
        raise BatchingError(f"vmap: in_axes={in_axes!r} must be an int, None, or a tuple with one entry per "
                            f"argument ({len(args)} given).")
    return list(in_axes)


def _leaf_axes(axis: Any, argument: Any, where: str) -> list:
    """One axis per leaf of ``argument``: ``axis`` is an int or None for the whole argument, or a prefix of
    its structure (a dict, tuple or list whose entries are ints, None or deeper prefixes)."""
    if axis is None or isinstance(axis, (int, np.integer)):
        return [axis] * len(tree.leaves(argument))
    if isinstance(axis, dict) and isinstance(argument, dict) and set(axis) == set(argument):
        return [a for key in sorted(argument) for a in _leaf_axes(axis[key], argument[key], where)]
    if isinstance(axis, (tuple, list)) and isinstance(argument, (tuple, list)) and len(axis) == len(argument):
        return [a for ax, arg in zip(axis, argument) for a in _leaf_axes(ax, arg, where)]
    raise BatchingError(f"{where}: {axis!r} does not match the structure of the argument "
                        f"({tree.flatten(argument)[1]!r}); give an int, None, or the same nesting.")


def _flat_arguments(args: tuple, in_axes: Any) -> list[FlatArgument]:
    flat = []
    for i, (argument, axis) in enumerate(zip(args, _axes_for(in_axes, args))):
        leaves, treedef = tree.flatten(argument)
        flat.append(FlatArgument(leaves, treedef, _leaf_axes(axis, argument, f"vmap: in_axes entry {i}")))
    return flat


def _example_of(leaf: Any, b: int, axis: int) -> Any:
    """Example ``b`` of a batched argument, as the traced run saw it: a Tensor (so ``x.value`` and methods
    work the same), still linked to an enclosing transform when the argument was."""
    example = np.take(leaf, b, axis=axis)
    return example if type(example) is Tensor else Tensor(example)


def _arguments_of_example(flat: list[FlatArgument], b: int) -> list:
    """The arguments of f for example ``b`` alone."""
    return [tree.unflatten(a.treedef, [leaf if axis is None else _example_of(leaf, b, axis)
                                       for leaf, axis in zip(a.leaves, a.axes)]) for a in flat]


# ---- the transform -------------------------------------------------------------------------------------
def vmap(f: Callable, in_axes: Any = 0, out_axes: Any = 0) -> Callable:
    """``f ↦ (X ↦ [f(X[i]) for i])`` without a Python loop: f is traced on one example and its
    operations are replayed on the whole batch through batching rules.

    ``in_axes``: the batch axis of each argument (an int, negative allowed; None = the same for every
    example; a tuple with one entry per argument; a pytree prefix for structured arguments).
    ``out_axes``: where the batch axis goes in the outputs.

    >>> loss = lambda w, x, y: (x @ w - y) ** 2                  # the loss of one example
    >>> w, X, Y = np.array([1.0, -1.0]), np.arange(6.0).reshape(3, 2), np.array([1.0, 0.0, 2.0])
    >>> per_example = cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))(w, X, Y)   # one gradient per row
    >>> per_example.shape
    (3, 2)
    >>> np.allclose(per_example, [cm.grad(loss)(w, x, y) for x, y in zip(X, Y)])
    True
    >>> cm.vmap(np.dot, in_axes=(0, None))(np.ones((5, 3)), np.arange(3.0)).shape
    (5,)

    Control flow on a batched value (``if x[0] > 0:``) makes vmap run f example by example; ``np.where``
    keeps it batched.
    """

    @functools.wraps(f)
    def batched_f(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise BatchingError(
                f"vmap maps over positional arguments only, and {', '.join(kwargs)} was given by keyword.\n"
                "  pass it positionally (in_axes=None for a value shared by every example), or bind it first: "
                f"cm.vmap(functools.partial(f, {next(iter(kwargs))}=...)).")
        flat = _flat_arguments(args, in_axes)
        tracer = Tracer()
        examples, physical_inputs, size = _trace_inputs(flat, tracer)
        STATE.push_vmap_tracer(tracer)
        try:
            out = f(*examples)
        finally:
            STATE.pop_vmap_tracer()
        leaves, treedef = tree.flatten(out)
        if not tracer.replayable() or any(_escaped(leaf, tracer) for leaf in leaves):
            return _example_by_example(f, flat, size, out_axes)
        try:
            env = replay(needed_entries(tracer.entries, leaves), physical_inputs, size)
        except CalcmlError:  # a rule met a combination it cannot batch: the meaning of vmap, example by example
            return _example_by_example(f, flat, size, out_axes)
        batched = [_batch_of(leaf, env, size) for leaf in leaves]
        if size > 1 and not _last_example_agrees(f, flat, size, batched):
            return _example_by_example(f, flat, size, out_axes)  # a constant of example 0 was baked in
        results = []
        for leaf, physical, axis in zip(leaves, batched, _leaf_axes(out_axes, out, "vmap: out_axes")):
            if axis is None:  # an output the same for every example, returned once
                if type(leaf) is Tensor and id(leaf) in env:
                    raise ShapeError(_OUT_AXES_NONE)
                results.append(_as_result(leaf))
                continue
            results.append(_with_batch_axis_at(physical, axis))
        return tree.unflatten(treedef, results)

    return batched_f


def _trace_inputs(flat: list[FlatArgument], tracer: Tracer) -> tuple[list, dict[int, Any], int]:
    """f's arguments for the trace (example 0 of each batched leaf, as an input Tensor of ``tracer``), the
    physical batch of each such input (batch axis in front), by id, and the batch size."""
    size = None
    examples, physical_inputs = [], {}
    for i, argument in enumerate(flat):
        example_leaves = []
        for leaf, axis in zip(argument.leaves, argument.axes):
            if axis is None:
                example_leaves.append(leaf)
                continue
            ndim = np.ndim(leaf)
            if not -ndim <= axis < ndim:
                raise BatchingError(f"vmap: in_axes={axis} for argument {i} of shape {np.shape(leaf)}: no such axis.")
            physical = leaf if type(leaf) is Tensor else np.asarray(leaf)
            if axis != 0 and axis != -ndim:
                physical = np.moveaxis(physical, axis, 0)
            n = physical.shape[0]
            if n == 0:
                raise BatchingError(f"vmap: argument {i} is an empty batch (shape {np.shape(physical)} with the batch "
                                    "axis in front): vmap runs f on an example to learn what to do, and there is none."
                                    "\n  skip the call for an empty batch, or build the empty result yourself.")
            if size is not None and n != size:
                raise BatchingError(f"vmap: batch sizes differ: {size} and {n} (argument {i}, axis {axis}).")
            size = n
            example = Tensor(0.0)
            example.value = np.array(physical.value[0] if type(physical) is Tensor else physical[0]).view(ExampleArray)
            tracer.add_example(example)
            physical_inputs[id(example)] = physical
            example_leaves.append(example)
        examples.append(tree.unflatten(argument.treedef, example_leaves))
    if size is None:
        raise BatchingError("vmap: no argument is batched (every in_axes entry is None).")
    return examples, physical_inputs, size


def _with_batch_axis_at(physical: Any, axis: int) -> Any:
    """The batch axis (in front) moved to ``axis``, an axis of the batched output (negative counts from the end)."""
    if axis == 0:
        return physical
    if not -np.ndim(physical) <= axis < np.ndim(physical):
        raise BatchingError(f"vmap: out_axes={axis} for an output of shape {np.shape(physical)} (batch axis "
                            f"included): no such axis; use 0 … {np.ndim(physical) - 1} or a negative axis.")
    return np.moveaxis(physical, 0, axis)


def _batch_of(leaf: Any, env: dict[int, Any], size: int) -> Any:
    """The physical batch of one output leaf (broadcast when it is the same for every example)."""
    physical = env.get(id(leaf)) if type(leaf) is Tensor else None
    if physical is None:  # the same for every example
        value = _as_result(leaf)
        physical = np.broadcast_to(value, (size,) + np.shape(value))
        physical = np.array(physical) if type(physical) is np.ndarray else physical
    return _as_result(physical)


def _as_result(value: Any) -> Any:
    """A Tensor stays one while something needs its graph: an enclosing transform, or a leaf of the user's
    that requires grad (``loss.backward()`` after a top-level vmap), or an enclosing vmap that records it.
    Otherwise its array: a replayed backward operation may close over a node of the inner grad's own graph,
    whose inputs that grad has released."""
    if type(value) is not Tensor:
        return value
    if not value.is_traced():
        return value if recorded_by_vmap(value) else value.value
    if nested() or reaches_other_leaves(reverse_topological_order(value), set()):
        return value
    return value.value


def _escaped(leaf: Any, tracer: Tracer) -> bool:
    """An output computed from the example's values outside the recorded operations."""
    if type(leaf) is Tensor:
        return not tracer.depends(leaf) and isinstance(leaf.value, ExampleArray)
    return isinstance(leaf, ExampleArray)


def _unlike_the_first(flat: list[FlatArgument], size: int) -> int:
    """The last example whose every batched input differs from example 0's (else the last): a constant of
    example 0 baked into the replay shows there even when the batch repeats its first row at the end."""
    leaves = [unwrapped(leaf) for a in flat for leaf, axis in zip(a.leaves, a.axes) if axis is not None]
    axes = [axis for a in flat for axis in a.axes if axis is not None]
    for b in range(size - 1, 0, -1):
        if not any(np.array_equal(np.take(leaf, b, axis), np.take(leaf, 0, axis)) for leaf, axis in zip(leaves, axes)):
            return b
    return size - 1


def _last_example_agrees(f: Callable, flat: list[FlatArgument], size: int, batched: list) -> bool:
    """The replay's last example unlike the first against f run on that example alone: a second line of
    defence for a constant read from example 0 in a way the trace could not see (plain NumPy on
    np.asarray(x.value))."""
    checked = _unlike_the_first(flat, size)
    direct = tree.leaves(f(*_arguments_of_example(flat, checked)))  # as f ran in the trace (it may call backward())
    if len(direct) != len(batched):
        return False
    for d, b in zip(direct, batched):
        d = np.asarray(d.value if type(d) is Tensor else d, dtype=np.float64)
        b = np.asarray(b.value if type(b) is Tensor else b, dtype=np.float64)[checked]
        if d.shape != b.shape:
            return False
        if (d == b).all():  # the usual answer: the replay did the same arithmetic
            continue
        with np.errstate(invalid="ignore"):  # |d − b| ≤ atol + rtol·|b| (np.isclose's test, without its wrapper)
            close = np.abs(d - b) <= 1e-9 + 1e-6 * np.abs(b)
            if close.all():
                continue
            if not (close | (d == b) | (np.isnan(d) & np.isnan(b))).all():  # equal infinities, NaN in both
                return False
    return True


def _example_by_example(f: Callable, flat: list[FlatArgument], size: int, out_axes: Any) -> Any:
    """The meaning of vmap, one example at a time: for functions whose record cannot be replayed."""
    results = [f(*_arguments_of_example(flat, b)) for b in range(size)]
    columns = [tree.flatten(r)[0] for r in results]
    treedef = tree.flatten(results[0])[1]
    stacked = []
    for k, axis in enumerate(_leaf_axes(out_axes, results[0], "vmap: out_axes")):
        if axis is None:  # returned once: it must be the same for every example
            if any(not np.array_equal(unwrapped(r[k]), unwrapped(columns[0][k])) for r in columns[1:]):
                raise ShapeError(_OUT_AXES_NONE)
            stacked.append(_as_result(columns[0][k]))
            continue
        _check_same_shape(f, k, len(columns[0]), [np.shape(r[k]) for r in columns])
        column = _with_batch_axis_at(np.stack([r[k] if type(r[k]) is Tensor else np.asarray(r[k]) for r in columns]),
                                     axis)
        if type(column) is Tensor and not column.is_traced():
            column = column.value  # nothing encloses this vmap: a plain array, as from the replay
        stacked.append(column)
    return tree.unflatten(treedef, stacked)


def _check_same_shape(f: Callable, k: int, count: int, shapes: list[tuple]) -> None:
    """Output leaf ``k`` (of ``count``) of ``f`` must have one shape for every example, or it cannot be stacked."""
    other = next((b for b, shape in enumerate(shapes) if shape != shapes[0]), None)
    if other is None:
        return
    name = getattr(f, "__name__", "f")
    which = f"the output of {name}" if count == 1 else f"leaf {k} of {name}'s {count} outputs (cm.tree.leaves order)"
    raise BatchingError(
        f"vmap: {which} has shape {shapes[0]} for example 0 but {shapes[other]} for example {other} (shapes by "
        f"example: {', '.join(str(shape) for shape in shapes[:8])}{', ...' if len(shapes) > 8 else ''}), so the "
        "results cannot be stacked along a batch axis.\n"
        "  vmap gives every example's result the same shape; a function whose size depends on the values "
        "(np.unique, np.nonzero, boolean masks) cannot be batched: call it in a Python loop, or pad each result "
        "to a fixed size (np.unique(x, return_counts=True) and np.pad) inside f.")
