"""The record that ``cm.vmap`` replays: every operation that depends on the example inputs.

vmap runs f once on the first example. Its input Tensors hold ``ExampleArray`` values, and the
``Tracer`` on ``STATE.vmap_tracers`` is handed every primitive applied to them (by ``apply``), in order:

    entries = [(prim, args, kwargs, out), ...]        args as f passed them: Tensors and constants

A record can be replayed on the whole batch only if no constant in it was computed from the example's
values. Such a constant is noticed three ways: an ``ExampleArray`` (what NumPy computes from one) reaches
a recorded operation; a plain number is read from one (``float``, ``.item()``, iteration); or a plain
value is read from a recorded Tensor (``note_value_use``: ``if x[0] > 0``). The trace is then *tainted*
and vmap runs f example by example instead — slower, never wrong.

One plain read is part of the record rather than a taint: an integer index that differs per example
(``z[y]`` with a label ``y``). Indexing reads it (NumPy wants plain indices), then records ``getitem``;
the tracer puts the traced index back into that entry (and into the node the backward pass will read),
so the replay picks one entry per example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.rules.elementwise import positive
from calcml.autodiff.rules.indexing import getitem
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor

SHAPE_ONLY = {np.zeros_like, np.ones_like, np.empty_like, np.shape, np.ndim, np.size, np.result_type}
PLAIN = {int, float, bool, str, slice, type(None), type(Ellipsis)}  # never recorded, never example values


class ExampleArray(np.ndarray):
    """The first example's values while vmap traces. Whatever NumPy computes from them stays an
    ExampleArray, so a value-dependent constant that reaches a recorded operation outside the engine's
    primitives (an index from ``argsort(x.value)`` inside a rule, say) is recognized: the trace is then
    not replayed, and vmap runs the function once per example instead (right, if slower)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, ExampleArray) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, ExampleArray) else o for o in kwargs["out"])
        return tainted(getattr(ufunc, method)(*plain, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        result = func(*untainted(args), **untainted(kwargs))
        return result if func in SHAPE_ONLY else tainted(result)

    def __getitem__(self, index):  # x.value[0] stays an example value (a 0-d array, not a plain scalar)
        return tainted(super().__getitem__(index))

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


def untainted(value: Any) -> Any:
    """``value`` with ExampleArrays seen as plain arrays (inside tuples, lists and dicts too)."""
    if isinstance(value, ExampleArray):
        return value.view(np.ndarray)
    if isinstance(value, (tuple, list)):
        return type(value)(untainted(v) for v in value)
    if isinstance(value, dict):
        return {k: untainted(v) for k, v in value.items()}
    return value


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` looks at (NumPy collapses chains of views to it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def register_example_memory(array: np.ndarray) -> None:
    """Remember the memory of a value computed from the example, so plain views of it are recognized."""
    owner = _owner(array)
    for tracer in STATE.vmap_tracers:
        tracer.example_memory[id(owner)] = owner


def tainted(value: Any) -> Any:
    """``value`` (a NumPy result computed from example values) as ExampleArrays."""
    if isinstance(value, np.ndarray):
        register_example_memory(value)
        return value.view(ExampleArray)
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return np.asarray(value).view(ExampleArray)
    if isinstance(value, tuple):
        return type(value)(*(tainted(v) for v in value)) if hasattr(value, "_fields") else tuple(
            tainted(v) for v in value)
    if isinstance(value, list):
        return [tainted(v) for v in value]
    return value


class Tracer:
    """The operations that depend on the example inputs, in the order they ran."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, tuple, dict, Tensor]] = []
        self.known: dict[int, Tensor] = {}  # every Tensor that depends on the inputs (kept alive: ids stay unique)
        self.tainted = False  # a constant computed from the example's values: the record cannot be replayed
        self.inside_primitive = 0  # > 0 while a primitive's own forward runs (its reads are recorded with it)
        self.example_memory: dict[int, np.ndarray] = {}  # owners (by id) of the memory of values computed from
        # the example, kept alive so that ids stay unique
        self.value_reads: list[Tensor] = []  # recorded Tensors whose plain values f read (one entry per read)

    def depends(self, value: Any) -> bool:
        """True for a Tensor computed from the example inputs."""
        return id(value) in self.known

    def mark(self, tensor: Tensor) -> None:
        self.known[id(tensor)] = tensor

    def add_example(self, tensor: Tensor) -> None:
        """An input of the trace: its value's memory is the example's own."""
        self.mark(tensor)
        owner = _owner(tensor.value)
        self.example_memory[id(owner)] = owner

    def replayable(self) -> bool:
        """No constant of the record was computed from the example's values."""
        return not self.tainted and not self.value_reads

    def note_value_use(self, tensor: Tensor) -> None:
        """A plain value read from ``tensor`` (``tensor.py`` calls this): if it differs per example, f may
        branch on it or bake it in, unless it was an index the record takes back (``_traced_index``)."""
        if id(tensor) in self.known:
            self.value_reads.append(tensor)

    def run_forward(self, forward: Callable, values: list, options: dict) -> Any:
        """A primitive's forward call while tracing. Example values go in as plain views, so the NumPy calls
        inside run at C speed rather than through ``ExampleArray``'s Python hooks; the result is marked as an
        example value afterwards, as those hooks would have marked it. Reads inside are part of the record."""
        plain, from_example = [], False
        for v in values:
            if type(v) is ExampleArray:
                v, from_example = v.view(np.ndarray), True
            plain.append(v)
        self.inside_primitive += 1
        try:
            result = forward(*plain, **options)
        finally:
            self.inside_primitive -= 1
        return tainted(result) if from_example else result

    def run_rule(self, rule: Callable, *args: Any) -> Any:
        """A forward-mode rule while tracing: the replay runs every primitive again with its tangents, so the
        plain values this rule reads (an example's index) are part of the record, like a forward's."""
        self.inside_primitive += 1
        try:
            return rule(*args)
        finally:
            self.inside_primitive -= 1

    def _involves(self, args: Any) -> bool:
        """True when ``args`` (a Tensor, or tuples, lists and dicts of them) holds a recorded Tensor."""
        if type(args) is Tensor:
            return id(args) in self.known
        if isinstance(args, dict):
            args = tuple(args.values())
        if not isinstance(args, (tuple, list)):
            return False
        known = self.known
        for a in args:
            kind = type(a)
            if kind is Tensor:
                if id(a) in known:
                    return True
            elif kind not in PLAIN and self._involves(a):
                return True
        return False

    def _is_example_constant(self, tensor: Tensor) -> bool:
        """A Tensor outside the record whose value is the example's or computed from it (``cm.Tensor(x.value)``
        holds a plain view of the example's memory) — and not recorded by an enclosing vmap, whose example it
        then comes from (a constant of this one, replayed by that one)."""
        value = tensor.value
        if id(tensor) in self.known or not (isinstance(value, ExampleArray) or (
                isinstance(value, np.ndarray) and id(_owner(value)) in self.example_memory)):
            return False
        tracers = STATE.vmap_tracers
        return not any(id(tensor) in outer.known for outer in tracers[:tracers.index(self)])

    def _holds_example_values(self, value: Any) -> bool:
        """A constant (not a recorded Tensor) made from the example's values."""
        if type(value) is Tensor:
            return self._is_example_constant(value)
        if isinstance(value, np.ndarray):  # np.asarray(example) is a plain view of the same memory
            return isinstance(value, ExampleArray) or id(_owner(value)) in self.example_memory
        if isinstance(value, dict):
            value = tuple(value.values())
        if not isinstance(value, (tuple, list)):
            return False
        for v in value:
            kind = type(v)
            if kind is Tensor:
                if self._is_example_constant(v):
                    return True
            elif kind not in PLAIN and self._holds_example_values(v):
                return True
        return False

    def record(self, fn: Any, args: tuple, kwargs: dict, out: Any) -> bool:
        """Called by the engine for every operation on Tensors while tracing; True when it involves the example
        and is recorded. An operation outside the record on a constant made from the example
        (``cm.stop_gradient(x) ** 2``) makes one too: its memory is noted."""
        if type(out) is not Tensor:
            return False
        if fn is getitem and self.value_reads:
            args = self._traced_index(args, out)
        if not kwargs:  # the usual call, Tensors and plain numbers: one pass over the arguments
            verdict = self._judge_flat(args)
            if verdict is not None:
                involved, holds_example_values = verdict
                if involved:
                    self.tainted = self.tainted or holds_example_values
                    self.entries.append((fn, args, kwargs, out))
                    self.known[id(out)] = out
                elif holds_example_values:
                    register_example_memory(out.value)
                return involved
        holds_example_values = self._holds_example_values(args) or self._holds_example_values(kwargs)
        if self._involves(args) or self._involves(kwargs):
            self.tainted = self.tainted or holds_example_values
            self.entries.append((fn, args, kwargs, out))
            self.mark(out)
            return True
        if holds_example_values:
            register_example_memory(out.value)
        return False

    def _judge_flat(self, args: tuple) -> tuple[bool, bool] | None:
        """``(_involves(args), _holds_example_values(args))`` for arguments that are Tensors and plain numbers
        only, in one pass; None for anything else (arrays, lists: the general tests decide)."""
        known = self.known
        involved = holds = False
        for a in args:
            kind = type(a)
            if kind is Tensor:
                if id(a) in known:
                    involved = True
                elif self._is_example_constant(a):
                    holds = True
            elif kind not in PLAIN:
                return None
        return involved, holds

    def record_alias(self, source: Tensor, alias: Tensor, identity: Callable = positive) -> None:
        """From here on ``alias`` stands for what ``source`` is now: recorded as ``identity``, so the replay gives
        each example its own. (A Tensor updated in place and the snapshot of its earlier state trade places;
        ``cm.stop_gradient``'s constant is recorded with the identity that has no derivative.)"""
        if id(source) in self.known:
            self.entries.append((identity, (source,), {}, alias))
            self.mark(alias)

    def _traced_index(self, args: tuple, out: Tensor) -> tuple:
        """``x[i]`` with an integer index ``i`` read from a recorded Tensor: the entry, and the node the backward
        pass reads, get that Tensor back in place of its plain value; the read is then no taint."""
        x, index = args
        parts = list(index)
        for k, part in enumerate(parts):
            at = next((j for j, t in enumerate(self.value_reads) if t.value is part), None)
            if at is not None and part.dtype.kind in "iu":
                parts[k] = self.value_reads.pop(at)  # that one read, found by identity (list.remove compares with ==)
        traced = (x, tuple(parts))
        if out.node is not None:
            out.node = out.node._replace(args=traced)
        return traced

    def piecewise(self, func: Callable, args: tuple, kwargs: dict, plain: Callable) -> Any:
        """A piecewise-constant NumPy function (comparison, argmax ...) on traced values: its result
        differs per example, so it becomes a recorded (non-differentiable) Tensor instead of a constant —
        recorded by the innermost running vmap whose example it involves (of nested vmaps, an outer example's
        value is a constant of the inner one)."""
        result = untainted(func(*plain(args), **plain(kwargs)))
        if not isinstance(result, (np.ndarray, np.generic)):
            return result
        for tracer in reversed(STATE.vmap_tracers):
            if tracer._involves(args) or tracer._involves(kwargs):
                out = Tensor(0.0)
                out.value = np.asarray(result).view(ExampleArray)  # per example: a plain read of it is noticed too
                register_example_memory(out.value)
                tracer.entries.append((func, args, kwargs, out))
                tracer.mark(out)
                return out
        return result
