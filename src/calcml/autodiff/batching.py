"""``vmap``: map a function over a batch axis without a Python loop.

    vmap(f)(X)[i] = f(X[i])        for every i along the batch axis

calcml runs ``f`` once on the first example while a ``Tracer`` records every operation that depends
on it (the primitive, its arguments, its options) — including the backward pass of a ``cm.grad``
inside ``f`` and the piecewise-constant operations (comparisons, argmax) whose results steer it.
Then it replays that record on the whole batch, each operation through its family's batching rule:
elementwise operations align ranks and broadcast, reductions and shape operations shift their axes
by one, matmul keeps vectors as matrices, indexing puts ``arange(B)`` in front. An operation without
a rule runs once per example and the results are stacked — slower, never wrong.

Composition: ``vmap(grad(loss), in_axes=(None, 0, 0))`` gives per-example gradients; ``grad(vmap(f))``
differentiates the replay like any other NumPy code; vmaps nest.

Control flow on a batched value (``if x[0] > 0:``) cannot be batched and raises; use ``np.where``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.errors import CalcmlError, ShapeError
from calcml.autodiff.primitive import Primitive
from calcml.autodiff.state import STATE, recording
from calcml.autodiff.tensor import Tensor


class BatchingError(CalcmlError, ValueError):
    """vmap was given axes that do not fit its arguments, or a function it cannot batch."""


# ---- the trace --------------------------------------------------------------------------------------
SHAPE_ONLY = {np.zeros_like, np.ones_like, np.empty_like, np.shape, np.ndim, np.size, np.result_type}


class ExampleArray(np.ndarray):
    """The first example's values while vmap traces. Whatever NumPy computes from them stays an
    ExampleArray, so a value-dependent constant that reaches a recorded operation outside the engine's
    primitives (an index from ``argsort(x.value)`` inside a rule, say) is recognized: the trace is then
    not replayed, and vmap runs the function once per example instead (right, if slower)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, ExampleArray) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, ExampleArray) else o for o in kwargs["out"])
        return _tainted(getattr(ufunc, method)(*plain, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        result = func(*_untainted(args), **_untainted(kwargs))
        return result if func in SHAPE_ONLY else _tainted(result)

    def __getitem__(self, index):  # x.value[0] stays an example value (a 0-d array, not a plain scalar)
        return _tainted(super().__getitem__(index))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # A plain Python number or list read from the example: f may use it in any way, so the record is not
    # replayed and vmap runs f example by example.
    def __float__(self):
        _read_plainly()
        return super().__float__()

    def __int__(self):
        _read_plainly()
        return super().__int__()

    def __index__(self):
        _read_plainly()
        return super().__index__()

    def __bool__(self):
        _read_plainly()
        return super().__bool__()

    def __complex__(self):
        _read_plainly()
        return super().__complex__()

    def item(self, *args):
        _read_plainly()
        return super().item(*args)

    def tolist(self):
        _read_plainly()
        return super().tolist()


def _read_plainly() -> None:
    tracers = STATE.vmap_tracers
    if tracers and tracers[-1].inside_primitive == 0:  # within a primitive the read is part of the record
        for tracer in tracers:
            tracer.tainted = True


def _untainted(value: Any) -> Any:
    if isinstance(value, ExampleArray):
        return value.view(np.ndarray)
    if isinstance(value, (tuple, list)):
        return type(value)(_untainted(v) for v in value)
    if isinstance(value, dict):
        return {k: _untainted(v) for k, v in value.items()}
    return value


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` looks at (NumPy collapses chains of views to it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _register(array: np.ndarray) -> None:
    """Remember the memory of a value computed from the example, so plain views of it are recognized."""
    for tracer in STATE.vmap_tracers:
        owner = _owner(array)
        tracer.example_memory[owner.__array_interface__["data"][0]] = owner


def _tainted(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        _register(value)
        return value.view(ExampleArray)
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return np.asarray(value).view(ExampleArray)
    if isinstance(value, tuple):
        return type(value)(*(_tainted(v) for v in value)) if hasattr(value, "_fields") else tuple(
            _tainted(v) for v in value)
    if isinstance(value, list):
        return [_tainted(v) for v in value]
    return value


class Tracer:
    """The operations that depend on the example inputs, in the order they ran."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, tuple, dict, Tensor]] = []
        self.known: dict[int, Tensor] = {}  # every Tensor that depends on the inputs (kept alive: ids stay unique)
        self.tainted = False  # a constant computed from the example's values: the record cannot be replayed
        self.inside_primitive = 0  # > 0 while a primitive's own forward runs (its reads are recorded with it)
        self.example_memory: dict[int, np.ndarray] = {}  # buffers of values computed from the example

    def depends(self, value: Any) -> bool:
        return id(value) in self.known

    def mark(self, tensor: Tensor) -> None:
        self.known[id(tensor)] = tensor

    def _involves(self, args: Any) -> bool:
        if type(args) is Tensor:
            return id(args) in self.known
        if isinstance(args, (tuple, list)):
            return any(self._involves(a) for a in args)
        if isinstance(args, dict):
            return any(self._involves(a) for a in args.values())
        return False

    def _holds_example_values(self, value: Any) -> bool:
        """A constant (not a recorded Tensor) made from the example's values."""
        if type(value) is Tensor:
            return id(value) not in self.known and isinstance(value.value, ExampleArray)
        if isinstance(value, np.ndarray):  # np.asarray(example) is a plain view of the same memory
            return isinstance(value, ExampleArray) or \
                _owner(value).__array_interface__["data"][0] in self.example_memory
        if isinstance(value, (tuple, list)):
            return any(self._holds_example_values(v) for v in value)
        if isinstance(value, dict):
            return any(self._holds_example_values(v) for v in value.values())
        return False

    def record(self, fn: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Called by the engine for every operation on Tensors while tracing."""
        if type(out) is Tensor and (self._involves(args) or self._involves(kwargs)):
            if self._holds_example_values(args) or self._holds_example_values(kwargs):
                self.tainted = True
            self.entries.append((fn, args, kwargs, out))
            self.mark(out)

    def piecewise(self, func: Callable, args: tuple, kwargs: dict, plain: Callable) -> Any:
        """A piecewise-constant NumPy function (comparison, argmax ...) on traced values: its result
        differs per example, so it becomes a recorded (non-differentiable) Tensor instead of a constant."""
        result = _untainted(func(*plain(args), **plain(kwargs)))
        if not (self._involves(args) or self._involves(kwargs)) or not isinstance(result, (np.ndarray, np.generic)):
            return result
        out = Tensor(0.0)
        out.value = np.asarray(result).view(ExampleArray)  # per example: a plain read of it is noticed too
        _register(out.value)
        self.entries.append((func, args, kwargs, out))
        self.mark(out)
        return out


def note_value_use(tensor: Tensor) -> None:
    """A plain value (bool, float, int) read from a Tensor that differs per example: f may branch on it, so
    the record is not replayed; vmap runs f example by example instead (right, if slower)."""
    for tracer in STATE.vmap_tracers:
        if tracer.depends(tensor):
            tracer.tainted = True


# ---- batched values during the replay -----------------------------------------------------------------
class _Batched:
    """A value with the batch axis in front (``physical.shape == (B, *logical_shape)``)."""

    __slots__ = ("physical",)

    def __init__(self, physical: Any):
        self.physical = physical

    @property
    def ndim(self) -> int:
        return np.ndim(self.physical) - 1


def _logical_ndim(value: Any) -> int:
    return value.ndim if type(value) is _Batched else np.ndim(value)


def _substitute(value: Any, env: dict[int, Any]) -> Any:
    if type(value) is Tensor:
        found = env.get(id(value))
        return _Batched(found) if found is not None else value
    if isinstance(value, tuple):
        return tuple(_substitute(v, env) for v in value)
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    return value


def _has_batched(value: Any) -> bool:
    if type(value) is _Batched:
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_batched(v) for v in value)
    return False


def _example(value: Any, b: int) -> Any:
    if type(value) is _Batched:
        return value.physical[b]
    if isinstance(value, tuple):
        return tuple(_example(v, b) for v in value)
    if isinstance(value, list):
        return [_example(v, b) for v in value]
    return value


def _call(fn: Any, args: tuple, kwargs: dict) -> Any:
    return fn(*args, **kwargs)


def _plain_option(value: Any) -> Any:
    """Options (where= masks) are not differentiated: plain values."""
    return value.value if type(value) is Tensor else value


def _loop(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """The rule of last resort: once per example, stacked. Right for every operation."""
    kwargs_b = [{k: _plain_option(_example(v, b)) for k, v in kwargs.items()} for b in range(size)]
    return np.stack([_call(fn, _example(args, b), kwargs_b[b]) for b in range(size)])


# ---- batching rules, by family ------------------------------------------------------------------------
def _elementwise(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Broadcasting operations: give every batched argument the common rank, the batch axis in front."""
    rank = max(_logical_ndim(a) for a in args)
    aligned = []
    for a in args:
        if type(a) is _Batched:
            shape = np.shape(a.physical)
            a = np.reshape(a.physical, shape[:1] + (1,) * (rank - a.ndim) + shape[1:])
        aligned.append(a)
    return _call(fn, tuple(aligned), kwargs)


def _shift_axis(axis: Any, ndim: int) -> Any:
    """A logical axis (or tuple, or None for all) as a physical one, the batch axis being 0."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(_shift_axis(a, ndim) for a in axis)
    return axis + 1 if axis >= 0 else axis


@functools.lru_cache(maxsize=512)
def _signature(fn: Any) -> inspect.Signature | None:
    """The parameters of ``fn`` (a primitive's forward), looked up once per function (inspect is slow)."""
    target = fn.forward if isinstance(fn, Primitive) else fn
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def _axis_rule(parameter: str, none_means_all: bool = True) -> Callable:
    """Operations on the first argument along ``parameter`` (an axis, a tuple of axes or None = all)."""
    def rule(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
        if type(args[0]) is not _Batched or _has_batched(args[1:]) or _has_batched(tuple(kwargs.values())):
            return _loop(fn, args, kwargs, size)
        signature = _signature(fn)
        if signature is None:
            return _loop(fn, args, kwargs, size)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        axis = bound.arguments.get(parameter)
        if axis is None and not none_means_all:
            return _loop(fn, args, kwargs, size)
        bound.arguments[parameter] = _shift_axis(axis, args[0].ndim)
        bound.arguments[next(iter(bound.arguments))] = args[0].physical
        return _call(fn, bound.args, bound.kwargs)
    return rule


def _unary(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Operations that do not look at the shape (astype, copy): apply to the batch as it is."""
    if _has_batched(args[1:]):
        return _loop(fn, args, kwargs, size)
    return _call(fn, (args[0].physical,) + tuple(args[1:]), kwargs)


def _reshape(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a, shape = args[0], args[1] if len(args) > 1 else kwargs.get("shape")
    if kwargs.get("order", "C") != "C" or _has_batched(args[1:]):
        return _loop(fn, args, kwargs, size)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return np.reshape(a.physical, (size,) + shape)


def _ravel(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    if kwargs.get("order", args[1] if len(args) > 1 else "C") != "C":
        return _loop(fn, args, kwargs, size)
    return np.reshape(args[0].physical, (size, -1))


def _transpose(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    axes = args[1] if len(args) > 1 else kwargs.get("axes")
    permutation = tuple(reversed(range(a.ndim))) if axes is None else tuple(ax % a.ndim for ax in axes)
    return np.transpose(a.physical, (0,) + tuple(p + 1 for p in permutation))


def _expand_dims(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    axis = args[1] if len(args) > 1 else kwargs["axis"]
    ndim = args[0].ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    normal = tuple(a % ndim for a in axis) if isinstance(axis, (tuple, list)) else axis % ndim
    return np.expand_dims(args[0].physical, _shift_axis(normal, ndim))


def _squeeze(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    logical = np.shape(a.physical)[1:]
    if axis is None:
        axis = tuple(i for i, n in enumerate(logical) if n == 1)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return np.squeeze(a.physical, tuple(ax % len(logical) + 1 for ax in axes))


def _broadcast_to(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    a = args[0]
    shape = tuple(args[1] if len(args) > 1 else kwargs["shape"])
    physical = np.shape(a.physical)
    aligned = np.reshape(a.physical, physical[:1] + (1,) * (len(shape) - a.ndim) + physical[1:])
    return np.broadcast_to(aligned, (size,) + shape)


def _matmul(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """Vectors become matrices (and back), and the batched operands get the same number of stacked axes."""
    a, b = args
    squeeze = []
    if _logical_ndim(a) == 1:  # a row vector, squeezed out again afterwards
        a = _Batched(np.expand_dims(a.physical, 1)) if type(a) is _Batched else np.expand_dims(a, 0)
        squeeze.append(-2)
    if _logical_ndim(b) == 1:  # a column vector
        b = _Batched(np.expand_dims(b.physical, -1)) if type(b) is _Batched else np.expand_dims(b, -1)
        squeeze.append(-1)
    rank = max(_logical_ndim(a), _logical_ndim(b))
    operands = []
    for x in (a, b):
        if type(x) is _Batched:
            shape = np.shape(x.physical)
            x = np.reshape(x.physical, shape[:1] + (1,) * (rank - x.ndim) + shape[1:])
        operands.append(x)
    out = _call(fn, tuple(operands), kwargs)
    return np.squeeze(out, tuple(squeeze)) if squeeze else out


def _index_parts_rule(index: tuple, size: int) -> tuple | None:
    """The physical index for batched x: ``(arange(B), ...)`` with batched integer arrays, or a leading
    ``slice(None)`` when nothing in the index is batched and advanced parts stay together."""
    if not _has_batched(index):
        advanced = [i for i, p in enumerate(index) if isinstance(p, np.ndarray) and p.ndim > 0]
        if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
            return None  # NumPy would move the picked axes to the front
        return (slice(None),) + index
    if not all(type(p) is _Batched or isinstance(p, (int, np.integer, np.ndarray)) for p in index):
        return None
    depth = max(_logical_ndim(p) for p in index)
    rows = np.arange(size).reshape((size,) + (1,) * depth)
    parts = [p.physical.value if type(p.physical) is Tensor else p.physical if type(p) is _Batched else p
             for p in index]
    return (rows,) + tuple(parts)


def _getitem(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    x, index = args
    if type(x) is not _Batched:
        return _loop(fn, args, kwargs, size)
    physical = _index_parts_rule(index, size)
    if physical is None:
        return _loop(fn, args, kwargs, size)
    return _call(fn, (x.physical, physical), kwargs)


def _scatter_add(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    values, index, shape = args
    if type(values) is not _Batched:  # the same values for every example, scattered to per-example places
        values = _Batched(np.broadcast_to(values, (size,) + np.shape(values)))
    physical = _index_parts_rule(index, size)
    if physical is None:
        return _loop(fn, args, kwargs, size)
    return _call(fn, (values.physical, physical, (size,) + tuple(shape)), kwargs)


def _einsum(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
    """A fresh label for the batch axis, in front of every batched operand's labels and of the output's."""
    subscripts, operands = args[0], args[1:]
    if not isinstance(subscripts, str) or "->" not in subscripts:
        return _loop(fn, args, kwargs, size)
    inputs, output = subscripts.replace(" ", "").split("->")
    label = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in subscripts)
    terms = [label + term if type(op) is _Batched else term for term, op in zip(inputs.split(","), operands)]
    physical = [op.physical if type(op) is _Batched else op for op in operands]
    return _call(fn, (",".join(terms) + "->" + label + output, *physical), kwargs)


RULES: dict[str, Callable] = {
    "reshape": _reshape, "ravel": _ravel, "transpose": _transpose, "expand_dims": _expand_dims,
    "squeeze": _squeeze, "broadcast_to": _broadcast_to, "matmul": _matmul, "getitem": _getitem,
    "scatter_add": _scatter_add, "astype": _unary, "copy": _unary, "einsum": _einsum,
}
for _name in ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "nansum", "nanmean"):
    RULES[_name] = _axis_rule("axis")
for _name in ("softmax", "cumsum", "cumprod", "flip"):
    RULES[_name] = _axis_rule("axis", none_means_all=False)
for _function in (np.argmax, np.argmin):
    RULES[_function] = _axis_rule("axis", none_means_all=False)
for _function in (np.any, np.all):
    RULES[_function] = _axis_rule("axis")


def _rule_for(fn: Any) -> Callable:
    if isinstance(fn, Primitive):
        if fn.name in RULES:
            return RULES[fn.name]
        return _elementwise if fn.broadcasts else _loop
    if isinstance(fn, np.ufunc) and fn.nout == 1:
        return _elementwise
    return RULES.get(fn, _loop)


def replay(tracer: Tracer, inputs: dict[int, Any], size: int) -> dict[int, Any]:
    """Run the recorded operations on the whole batch; ``inputs`` maps traced inputs to physical arrays."""
    env = dict(inputs)
    for fn, args, kwargs, out in tracer.entries:
        call_args = _substitute(args, env)
        call_kwargs = {k: _substitute(v, env) for k, v in kwargs.items()}
        if not (_has_batched(call_args) or _has_batched(tuple(call_kwargs.values()))):
            env[id(out)] = _call(fn, call_args, call_kwargs)
            continue
        if _has_batched(tuple(call_kwargs.values())):
            env[id(out)] = _loop(fn, call_args, call_kwargs, size)
        else:
            env[id(out)] = _rule_for(fn)(fn, call_args, call_kwargs, size)
    return env


# ---- indexing with per-example indices -------------------------------------------------------------------
_getitem_on_values = Tensor.__getitem__


def _getitem_tracing_indices(self: Tensor, index: Any) -> Any:
    """``x[i]`` where ``i`` differs per example (a label): the engine reads indices as plain values, so
    under vmap the recorded operation (and its node, for the backward pass) keeps the traced index."""
    tracers = STATE.vmap_tracers
    parts = index if isinstance(index, tuple) else (index,)
    if not tracers or not any(type(p) is Tensor and tracers[-1].depends(p) for p in parts):
        return _getitem_on_values(self, index)
    if any(p is Ellipsis or p is None or isinstance(p, slice) for p in parts):
        raise BatchingError("vmap: indexing with a per-example integer index is supported with integer "
                            "indices only (x[i], x[i, j]); write slices as np.take_along_axis or one-hot sums.")
    from calcml.autodiff.rules.indexing import getitem

    traced_index = tuple(p for p in parts)
    tainted = tracers[-1].tainted
    out = _getitem_on_values(self, index)
    tracers[-1].tainted = tainted  # the plain index it recorded is replaced by the traced one below
    entry = tracers[-1].entries[-1] if tracers[-1].entries and tracers[-1].entries[-1][3] is out else None
    if entry is not None:
        tracers[-1].entries[-1] = (getitem, (self, traced_index), {}, out)
    else:
        tracers[-1].entries.append((getitem, (self, traced_index), {}, out))
        tracers[-1].mark(out)
    if out.node is not None:
        out.node = out.node._replace(args=(self, traced_index))
    return out


Tensor.__getitem__ = _getitem_tracing_indices


# ---- the transform ------------------------------------------------------------------------------------
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
    """

    @functools.wraps(f)
    def batched_f(*args: Any) -> Any:
        axes = _axes_for(in_axes, args)
        size = None
        examples, physical_inputs = [], {}
        tracer = Tracer()
        for i, (argument, axis) in enumerate(zip(args, axes)):
            leaves, treedef = tree.flatten(argument)
            leaf_axes = _leaf_axes(axis, argument, f"vmap: in_axes entry {i}")
            example_leaves = []
            for leaf, leaf_axis in zip(leaves, leaf_axes):
                if leaf_axis is None:
                    example_leaves.append(leaf)
                    continue
                ndim = np.ndim(leaf)
                if not -ndim <= leaf_axis < ndim:
                    raise BatchingError(f"vmap: in_axes={leaf_axis} for argument {i} of shape {np.shape(leaf)}: "
                                        "no such axis.")
                physical = np.moveaxis(leaf if type(leaf) is Tensor else np.asarray(leaf), leaf_axis, 0)
                n = np.shape(physical)[0]
                if size is not None and n != size:
                    raise BatchingError(f"vmap: batch sizes differ: {size} and {n} (argument {i}, axis {leaf_axis}).")
                size = n
                example = Tensor(0.0)
                first = np.array(physical.value[0] if type(physical) is Tensor else physical[0])
                tracer.example_memory[first.__array_interface__["data"][0]] = first
                example.value = first.view(ExampleArray)
                tracer.mark(example)
                physical_inputs[id(example)] = physical
                example_leaves.append(example)
            examples.append(tree.unflatten(treedef, example_leaves))
        if size is None:
            raise BatchingError("vmap: no argument is batched (every in_axes entry is None).")
        STATE.push_vmap_tracer(tracer)
        try:
            out = f(*examples)
        finally:
            STATE.pop_vmap_tracer()
        leaves, treedef = tree.flatten(out)
        if tracer.tainted or any(_escaped(leaf, tracer) for leaf in leaves):
            return _example_by_example(f, args, axes, size, out_axes)
        try:
            env = replay(tracer, physical_inputs, size)
        except CalcmlError:  # a rule met a combination it cannot batch: the meaning of vmap, example by example
            return _example_by_example(f, args, axes, size, out_axes)
        leaf_out_axes = _leaf_axes(out_axes, out, "vmap: out_axes")
        batched = []
        for leaf in leaves:
            physical = env.get(id(leaf)) if type(leaf) is Tensor else None
            if physical is None:  # the same for every example
                value = leaf.value if type(leaf) is Tensor and not leaf.is_traced() else leaf
                physical = np.broadcast_to(value, (size,) + np.shape(value))
                physical = np.array(physical) if type(physical) is np.ndarray else physical
            if type(physical) is Tensor and not physical.is_traced():
                physical = physical.value  # constants of the trace made it a Tensor; nothing encloses it
            batched.append(physical)
        if size > 1 and not _last_example_agrees(f, args, axes, size, batched):
            return _example_by_example(f, args, axes, size, out_axes)  # a constant of example 0 was baked in
        results = []
        for physical, axis in zip(batched, leaf_out_axes):
            if axis is None:
                raise ShapeError("vmap: out_axes=None is only possible for an output that does not depend on the "
                                 "batch; this one does.")
            results.append(np.moveaxis(physical, 0, axis) if axis != 0 else physical)
        return tree.unflatten(treedef, results)

    return batched_f


def _last_example_agrees(f: Callable, args: tuple, axes: list, size: int, batched: list) -> bool:
    """The replay's last example against f run on that example alone: a second line of defence for a
    constant read from example 0 in a way the trace could not see (plain NumPy on np.asarray(x.value))."""
    call = []
    for i, (argument, axis) in enumerate(zip(args, axes)):
        leaves, treedef = tree.flatten(argument)
        leaf_axes = _leaf_axes(axis, argument, f"vmap: in_axes entry {i}")
        call.append(tree.unflatten(treedef, [leaf if a is None else _example_of(leaf, size - 1, a)
                                             for leaf, a in zip(leaves, leaf_axes)]))
    with recording(False):  # only values are compared
        direct = tree.leaves(f(*call))
    if len(direct) != len(batched):
        return False
    for d, b in zip(direct, batched):
        d = np.asarray(d.value if type(d) is Tensor else d, dtype=np.float64)
        b = np.asarray(b.value if type(b) is Tensor else b, dtype=np.float64)[size - 1]
        if d.shape != b.shape:
            return False
        with np.errstate(invalid="ignore"):  # |d − b| ≤ atol + rtol·|b| (np.isclose's test, without its wrapper)
            close = (np.abs(d - b) <= 1e-9 + 1e-6 * np.abs(b)) | (d == b) | (np.isnan(d) & np.isnan(b))
        if not close.all():
            return False
    return True


def _escaped(leaf: Any, tracer: Tracer) -> bool:
    """An output computed from the example's values outside the recorded operations."""
    if type(leaf) is Tensor:
        return not tracer.depends(leaf) and isinstance(leaf.value, ExampleArray)
    return isinstance(leaf, ExampleArray)


def _example_by_example(f: Callable, args: tuple, axes: list, size: int, out_axes: Any) -> Any:
    """The meaning of vmap, one example at a time: for functions whose record cannot be replayed."""
    results = []
    for b in range(size):
        call = []
        for i, (argument, axis) in enumerate(zip(args, axes)):
            leaves, treedef = tree.flatten(argument)
            leaf_axes = _leaf_axes(axis, argument, f"vmap: in_axes entry {i}")
            call.append(tree.unflatten(treedef, [leaf if a is None else _example_of(leaf, b, a)
                                                 for leaf, a in zip(leaves, leaf_axes)]))
        results.append(f(*call))
    flat = [tree.flatten(r)[0] for r in results]
    treedef = tree.flatten(results[0])[1]
    leaf_out_axes = _leaf_axes(out_axes, results[0], "vmap: out_axes")
    stacked = []
    for k, axis in enumerate(leaf_out_axes):
        column = np.stack([r[k] if type(r[k]) is Tensor else np.asarray(r[k]) for r in flat], axis=axis)
        if type(column) is Tensor and not column.is_traced():
            column = column.value  # nothing encloses this vmap: a plain array, as from the replay
        stacked.append(column)
    return tree.unflatten(treedef, stacked)


def _example_of(leaf: Any, b: int, axis: int) -> Any:
    """Example ``b`` of a batched argument, as the traced run saw it: a Tensor (so ``x.value`` and methods
    work the same), still linked to an enclosing transform when the argument was."""
    example = np.take(leaf, b, axis=axis)
    return example if type(example) is Tensor else Tensor(example)
