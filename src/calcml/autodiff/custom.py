"""Functions that bring their own derivative, and blocks recomputed instead of stored.

``custom_vjp``  a function with its own reverse rule, given as JAX's pair: ``fwd(*x) -> (out, residuals)``
                (residuals: what the backward pass needs, saved from the forward pass) and
                ``bwd(residuals, ḡ) -> (x̄_1, ..., x̄_n)``.
``custom_jvp``  a function with its own forward rule ``jvp(primals, tangents) -> (out, ṫ_out)``; reverse mode
                transposes it (the rule is linear in the tangents:  x̄ = ∂/∂ṫ ⟨ḡ, ṫ_out(ṫ)⟩).
``checkpoint``  a block whose inner graph is not kept: the backward pass recomputes it from its inputs,
                trading one more forward pass for the memory of every intermediate value.

Each is a primitive of the engine, created once per decorated function; the per-call state (residuals,
the recomputed pullback) rides in the node's keyword ``call``, so nothing is global.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.errors import NoForwardRuleError
from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import Primitive, apply
from calcml.autodiff.reverse import backward_pass, reaches_other_leaves, reverse_topological_order
from calcml.autodiff.state import recording, top_level
from calcml.autodiff.tensor import Tensor, recorded_by_vmap
from calcml.autodiff.transforms.arguments import as_input, nested


class Call:
    """What one call of a custom function remembers between its forward and backward passes.

    Everything kept is tied to the very input arrays it was computed from (an identity test, never
    equality): ``cm.vmap`` replays one call once per example with the same keyword ``call``, so a Call may
    see several inputs, and the residuals, output or gradients of one example must never serve another.
    """

    __slots__ = ("saved", "block", "captured", "source", "output", "cotangent", "inputs", "gradients")

    def __init__(self) -> None:
        self.saved: list[tuple[tuple, Any]] = []  # custom_vjp: (inputs, what fwd saved for bwd) per forward
        self.block: Callable | None = None  # checkpoint: the block to run again
        self.captured: list[Tensor] = []  # checkpoint: the weights the block closes over
        self.source: tuple = ()  # checkpoint: the input arrays the output was computed from
        self.output: Any = None  # checkpoint: the block's output, computed once
        self.cotangent: Any = None
        self.inputs: tuple = ()
        self.gradients: tuple = ()

    def keep_residuals(self, inputs: tuple, residuals: Any) -> None:
        """Keep what ``fwd`` saved from these ``inputs``."""
        self.saved.append((inputs, residuals))

    def residuals_of(self, inputs: tuple) -> tuple[bool, Any]:
        """(True, residuals) saved from these very input arrays, else (False, None)."""
        for kept, residuals in self.saved:
            if _same_arrays(kept, inputs):
                return True, residuals
        return False, None

    def cached(self, g: Any, inputs: tuple, compute: Callable[[], tuple]) -> tuple:
        """The input gradients for cotangent ``g`` at ``inputs``, computed once for all arguments (the engine
        asks per argument)."""
        if self.cotangent is not g or not _same_arrays(self.inputs, inputs):
            self.gradients = compute()
            self.cotangent, self.inputs = g, inputs
        return self.gradients


def _same_arrays(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _is_traced(args: tuple) -> bool:
    return any(type(a) is Tensor for a in args)


def _per_direction(tangents: list, values: tuple, tangent_of: Callable[[tuple], Any]) -> Any:
    """A JVP rule for one direction at a time, run over the engine's batch of directions and stacked:
    ``tangent_of(per_argument_tangents)`` for each direction b (zeros for arguments that carry none)."""
    batch = next(t.shape[0] for t in tangents if t is not None)
    return np.stack([tangent_of(tuple(np.zeros_like(v) if t is None else t[b] for v, t in zip(values, tangents)))
                     for b in range(batch)])


def _batched_by(function: Callable) -> Callable:
    """The batching rule of a custom primitive: cm.vmap of ``function`` (its output for one example's plain
    values) over the batched arguments. Not when the replay may itself be differentiated (inside a transform,
    or from a leaf that requires grad): then the primitive runs once per example, so that its own derivative
    rule is the one used — and so it does when ``function`` calls the custom function again (a fwd written
    with it)."""
    running = []

    def rule(fn: Any, args: tuple, kwargs: dict, size: int) -> Any:
        from calcml.autodiff.batching.rules import Batched, loop
        from calcml.autodiff.batching.transform import vmap

        physical = [a.physical if type(a) is Batched else a for a in args]
        if running or nested() or any(_reaches_a_leaf(v) for v in (*physical, *kwargs.values())):
            return loop(fn, args, kwargs, size)
        in_axes = tuple(0 if type(a) is Batched else None for a in args)
        running.append(fn)
        try:
            return vmap(lambda *values: function(*values, **kwargs), in_axes=in_axes)(*physical)
        finally:
            running.pop()
    return rule


def _reaches_a_leaf(value: Any) -> bool:
    """A Tensor whose graph reaches a leaf that requires grad: a derivative may be taken through it."""
    return type(value) is Tensor and value.requires_grad and reaches_other_leaves(reverse_topological_order(value),
                                                                                 set())


def _call_with_rule(custom: Any, rule: Any, declare: str, args: tuple) -> Any:
    """A custom function called: plain arrays run it as it is; traced ones go through its primitive."""
    if not _is_traced(args):
        return custom.f(*args)
    if rule is None:
        raise NoForwardRuleError(f"{custom.prim.name} has no rule yet: declare it with .{declare}.")
    return apply(custom.prim, args, {"call": Call()})


# ---- custom_vjp ---------------------------------------------------------------------------------------
class custom_vjp:  # noqa: N801  (a decorator, named like JAX's)
    """A function with its own VJP.

    >>> @cm.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
    <calcml.autodiff.custom.custom_vjp object at 0x...>
    >>> cm.grad(lambda x: np.sum(5.0 * clip_gradient(x)))(np.array([1.0, 2.0]))
    array([1., 1.])

    The residuals of ``fwd`` are reused in a first-order backward pass; when a higher derivative is
    asked for, ``fwd`` is run again on traced inputs, so residuals are differentiated too (never held
    constant by mistake). Forward mode is not defined by a VJP: use ``custom_jvp`` for it.
    """

    def __init__(self, f: Callable):
        functools.update_wrapper(self, f)
        self.f = f
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self.prim = Primitive(self._forward, name=f"custom_vjp({getattr(f, '__name__', 'f')})",
                              formula=Formula("ḡ ↦ bwd(residuals, ḡ)")).defvjp_argnum(self._vjp)
        self.prim.defvmap(_batched_by(lambda *values, call: f(*values)))

    def defvjp(self, fwd: Callable, bwd: Callable) -> custom_vjp:
        """Set ``fwd(*args) -> (output, residuals)`` and ``bwd(residuals, g) -> input gradients``; returns self."""
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args: Any) -> Any:
        return _call_with_rule(self, self.fwd, "defvjp(fwd, bwd)", args)

    def _forward(self, *values: Any, call: Call) -> Any:
        out, residuals = self.fwd(*values)
        call.keep_residuals(values, residuals)
        return out

    def _vjp(self, argnum: int, g: Any, ans: Any, *args: Any, call: Call) -> Any:
        def compute() -> tuple:
            kept, residuals = (False, None) if _is_traced(args) else call.residuals_of(args)
            if not kept:  # traced inputs (a higher derivative), or inputs this call's forward did not see
                residuals = self.fwd(*args)[1]
            gradients = tuple(self.bwd(residuals, g))
            if len(gradients) != len(args):
                raise TypeError(f"{self.prim.name}: bwd returned {len(gradients)} gradient(s) for {len(args)} "
                                "argument(s); return a tuple with one gradient per argument.")
            return gradients

        return call.cached(g, args, compute)[argnum]


# ---- custom_jvp ---------------------------------------------------------------------------------------
class custom_jvp:  # noqa: N801
    """A function with its own JVP; reverse mode comes from transposing it.

    >>> @cm.custom_jvp
    ... def log1pexp(x):                       # softplus, stable rule σ(x) for its derivative
    ...     return np.logaddexp(0.0, x)
    >>> log1pexp.defjvp(lambda primals, tangents: (log1pexp(primals[0]),
    ...                                           tangents[0] / (1 + np.exp(-primals[0]))))
    <function <lambda> at 0x...>
    >>> cm.grad(log1pexp)(1000.0)
    np.float64(1.0)

    The rule is called with ``primals`` and ``tangents`` tuples shaped like the arguments and must be
    linear in the tangents; write it with NumPy calls so it can be differentiated again.
    """

    def __init__(self, f: Callable):
        functools.update_wrapper(self, f)
        self.f = f
        self.rule: Callable | None = None
        self.prim = Primitive(lambda *values, call: f(*values),
                              name=f"custom_jvp({getattr(f, '__name__', 'f')})",
                              formula=Formula("ṫ ↦ jvp(primals, ṫ)"))
        self.prim.defjvp_all(self._jvp).defvjp_argnum(self._vjp)
        self.prim.defvmap(_batched_by(lambda *values, call: f(*values)))

    def defjvp(self, rule: Callable) -> Callable:
        """Set the JVP rule ``rule(primals, tangents) -> (output, output_tangent)``; returns the rule."""
        self.rule = rule
        return rule

    def __call__(self, *args: Any) -> Any:
        return _call_with_rule(self, self.rule, "defjvp(rule)", args)

    def _tangent(self, primals: tuple, tangents: tuple) -> Any:
        return self.rule(primals, tangents)[1]

    def _jvp(self, tangents: list, ans: Any, *values: Any, call: Call) -> Any:
        return _per_direction(tangents, values, lambda per_argument: np.asarray(self._tangent(values, per_argument)))

    def _vjp(self, argnum: int, g: Any, ans: Any, *args: Any, call: Call) -> Any:
        from calcml.autodiff.transforms import grad

        def compute() -> tuple:
            zeros = tuple(np.zeros_like(a.value if type(a) is Tensor else np.asarray(a, dtype=float)) for a in args)
            pairing = lambda *ts: np.sum(g * self._tangent(args, ts))  # ⟨ḡ, J ṫ⟩, linear in ṫ
            transpose = grad(pairing, argnums=tuple(range(len(args))))
            if _is_traced((g, *args)):
                return tuple(transpose(*zeros))
            with top_level():  # a first-order backward pass: plain arrays, whatever encloses it
                return tuple(transpose(*zeros))

        return call.cached(g, args, compute)[argnum]


# ---- checkpoint ---------------------------------------------------------------------------------------
def checkpoint(block: Callable) -> Callable:
    """``block`` with its inner graph recomputed in the backward pass instead of kept.

    The forward pass keeps only the block's inputs and output; backward runs the block again to get
    the gradients of its inputs and of the Tensors it uses (model weights), then frees that graph.
    Gradients are the same; the memory kept between forward and backward drops (see
    ``cm.autodiff.memory.graph_bytes``).

    >>> W = np.full((3, 3), 0.5)
    >>> layer = cm.checkpoint(lambda h: np.tanh(h @ W))
    >>> f = lambda h: np.sum(layer(layer(h)))
    >>> np.allclose(cm.grad(f)(np.ones(3)), cm.grad(lambda h: np.sum(np.tanh(np.tanh(h @ W) @ W)))(np.ones(3)))
    True
    """
    prim = Primitive(_checkpoint_forward, name=f"checkpoint({getattr(block, '__name__', 'block')})",
                     formula=Formula("recomputed: ḡ ↦ vjp(block)(ḡ)"))
    prim.defvjp_argnum(_checkpoint_vjp).defjvp_all(_checkpoint_jvp)
    prim.defvmap(_batched_by(_checkpoint_output))

    @functools.wraps(block)
    def checkpointed(*args: Any) -> Any:
        if not _is_traced(args):
            return block(*args)
        call = Call()
        call.block = block
        probes = [Tensor.input(np.asarray(a.value if type(a) is Tensor else a)) for a in args]
        with recording(True):  # run once with a graph to find the weights the block uses; the graph is dropped
            out = block(*probes)
        if type(out) is not Tensor:
            raise TypeError("checkpoint: the block must return one array computed from its inputs.")
        own = {id(p) for p in probes}
        call.captured = [t for t in reverse_topological_order(out)
                         if t.node is None and t.requires_grad and id(t) not in own]
        call.output = out.value
        call.source = tuple(p.value for p in probes)
        return apply(prim, (*args, *call.captured), {"call": call})

    return checkpointed


def _checkpoint_forward(*values: Any, call: Call) -> Any:
    """The probe run's output for the probe's own inputs (the block runs once forward, once backward); for
    other inputs (``cm.vmap`` replaying the call example by example) the block runs on them."""
    n = len(values) - len(call.captured)
    if _same_arrays(call.source, values[:n]):
        return call.output
    with recording(False):
        out = call.block(*values[:n])
    return out.value if type(out) is Tensor else out


def _checkpoint_output(*values: Any, call: Call) -> Any:
    """The block run on its inputs (the weights it closes over are its own, whatever the call passes)."""
    return call.block(*values[:len(values) - len(call.captured)])


def _recomputed_input(a: Any) -> Tensor:
    """An input of the block run again: ``a`` itself when it is being differentiated; linked to ``a`` by an
    identity when cm.vmap recorded it (so the recomputation is recorded too); else a fresh leaf."""
    if type(a) is Tensor and a.requires_grad:
        return a
    if type(a) is Tensor and recorded_by_vmap(a):
        return as_input(a)
    return Tensor.input(np.asarray(a.value if type(a) is Tensor else a))


def _checkpoint_vjp(argnum: int, g: Any, ans: Any, *args: Any, call: Call) -> Any:
    def compute() -> tuple:
        n = len(args) - len(call.captured)
        inputs = [_recomputed_input(a) for a in args[:n]]
        with recording(True):
            out = call.block(*inputs)
        targets = [*inputs, *call.captured]
        seed = g if type(g) is Tensor else np.asarray(g)
        grads, _ = backward_pass(out, seed, targets, create_graph=type(g) is Tensor)
        for made, a in zip(inputs, args):
            if made is not a and made.node is None:  # a leaf of this recomputation only: a constant from now on
                made.requires_grad = False
        return tuple(grads.get(id(t), np.zeros(t.shape)) for t in targets)

    return call.cached(g, args, compute)[argnum]


def _checkpoint_jvp(tangents: list, ans: Any, *values: Any, call: Call) -> Any:
    from calcml.autodiff.transforms import jvp

    n = len(values) - len(call.captured)
    if any(t is not None for t in tangents[n:]):
        raise NoForwardRuleError("checkpoint: forward mode through the weights a block closes over is not "
                                 "supported; pass them as arguments of the block.")
    def tangent_of(per_argument: tuple) -> Any:
        with top_level():  # plain arrays in, plain tangents out, whatever encloses this rule
            return jvp(call.block, values[:n], per_argument)[1]

    return _per_direction(tangents[:n], values[:n], tangent_of)
