"""Function transforms, as in JAX: each takes a function and returns a new one.

    grad(f)(x)                 ∇f(x)                          (reverse mode)
    value_and_grad(f)(x)       (f(x), ∇f(x))
    vjp(f, x)                  (f(x), u ↦ uᵀ J)
    jvp(f, (x,), (v,))         (f(x), J v)                    (forward mode)
    jacobian(f, mode=...)(x)   J, by rows (rev) or by columns pushed all at once (fwd)
    hessian(f)(x)              ∇²f(x) = the forward-mode Jacobian of ∇f
    hvp(f, x, v)               ∇²f(x) v, forward-over-reverse

Transforms compose: called inside another transform they return Tensors that stay on the outer
trace, so ``grad(grad(f))`` is the second derivative. At the top level they return plain arrays.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.errors import NonScalarOutputError, ShapeError
from calcml.autodiff.primitive import apply
from calcml.autodiff.reverse import (
    backward_pass,
    own_copy,
    reaches_other_leaves,
    reverse_topological_order,
    seed_for,
)
from calcml.autodiff.rules.elementwise import positive
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, as_float_array


# ---- inputs and outputs -------------------------------------------------------------------------
def _nested() -> bool:
    """True inside another transform (or a vmap trace): results must then stay traced for the outer one."""
    return STATE.reverse_depth > 0 or STATE.forward_depth > 0 or bool(STATE.vmap_tracers)


def _is_number(leaf: Any) -> bool:
    """Leaves that are differentiated: arrays and numbers. Others (strings, None, objects) are constants."""
    return isinstance(leaf, (Tensor, np.ndarray, numbers.Number, np.generic)) and not isinstance(leaf, str)


def _as_input(value: Any) -> Tensor:
    """A fresh Tensor to differentiate with respect to; it stays linked to an outer trace if there is one.
    A leaf the user made (``requires_grad=True``: a model's weight) is one variable wherever it is used:
    it is its own input at every depth, so ``cm.grad(loss)(model.parameters(), X, y)`` and
    ``cm.hvp(loss, model.parameters(), v)`` differentiate the weights the model really uses; the result
    then stays linked to those leaves while recording (a Tensor: ``.value`` for the array, or call inside
    ``cm.no_grad()``), so a loss built from it still backpropagates to them."""
    if _is_users_leaf(value):
        return value
    if type(value) is Tensor:
        if (value.requires_grad and STATE.recording) or any(t.depends(value) for t in STATE.vmap_tracers):
            fresh = apply(positive, (value,), {})  # an identity node: the outer graph continues through it
        else:
            fresh = Tensor(value.value)
            fresh.tangent = value.tangent
        fresh.requires_grad = True
        return fresh
    return Tensor.input(as_float_array(value))


def _is_users_leaf(value: Any) -> bool:
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


def _trace_argument(value: Any) -> tuple[Any, TracedArgument]:
    """Replace the numeric leaves of one argument (an array or a pytree of arrays) by fresh inputs."""
    if type(value) is np.ndarray and value.dtype.kind == "f":  # the commonest case: an array of floats
        x = Tensor.input(value)
        return x, TracedArgument(tree.LEAF, [x], [x])
    if type(value) is Tensor or type(value) is float or type(value) is np.ndarray:  # the common cases
        x = _as_input(value)
        return x, TracedArgument(tree.LEAF, [x], [] if x is value else [x])
    leaves, treedef = tree.flatten(value)
    inputs = [_as_input(leaf) if _is_number(leaf) else None for leaf in leaves]
    rebuilt = tree.unflatten(treedef, [x if x is not None else leaf for x, leaf in zip(inputs, leaves)])
    made = [x for x, leaf in zip(inputs, leaves) if x is not None and x is not leaf]
    return rebuilt, TracedArgument(treedef, inputs, made)


def _release(traced: list[TracedArgument]) -> None:
    """A transform's own input leaves stop requiring grad once its result is built: for an outer
    graph that reaches them (through a traced gradient) they are constants, not leaves of the user's."""
    for argument in traced:
        for x in argument.made:
            if x.node is None:
                x.requires_grad = False


def _argnums_tuple(argnums: int | Sequence[int], args: tuple, transform: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(f"{transform}: argnums={argnums!r} but the function was called with "
                             f"{len(args)} positional argument(s).")
    return tuple(i % len(args) for i in nums)


def _call_traced(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...]) -> tuple[Any, list[TracedArgument]]:
    """Call ``f`` with the chosen arguments' leaves replaced by fresh traced inputs."""
    call_args = list(args)
    traced = []
    for i in nums:
        call_args[i], argument = _trace_argument(args[i])
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


def _as_output_tensor(out: Any, transform: str) -> Tensor:
    if type(out) is Tensor:
        return out
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(f"{transform} expects the function to return one scalar, but it returned a "
                        f"{type(out).__name__}. Return a single value, or use has_aux=True to return "
                        "(value, auxiliary data); for several outputs use cm.jacobian or cm.vjp.")
    return Tensor(np.asarray(out))  # does not depend on the inputs: its gradient is zero


def _output_leaves(out: Any) -> tuple[list[Tensor], tree.TreeDef]:
    """The outputs of ``f`` as Tensors, one per leaf of the returned pytree."""
    if type(out) is Tensor:
        return [out], tree.LEAF
    leaves, treedef = tree.flatten(out)
    tensors = []
    for leaf in leaves:
        if not _is_number(leaf):
            raise TypeError(f"the function returned a {type(leaf).__name__} among its outputs; outputs must be "
                            "arrays or numbers (in tuples, lists or dicts). Return other data with has_aux=True.")
        tensors.append(leaf if type(leaf) is Tensor else Tensor(np.asarray(leaf)))
    return tensors, treedef


def _finish(value: Any, keep_traced: bool) -> Any:
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


def _gradients(outs: list[Tensor], seeds: list[Any], traced: list[TracedArgument],
               nested: bool) -> tuple[list[Any], bool]:
    """∂⟨seeds, outs⟩/∂argument for each traced argument, in the argument's structure; zeros where the
    outputs do not depend on a leaf, None for a constant leaf. At the top level, a gradient whose graph
    reaches leaves outside the inputs stays traced (a gradient penalty's ``loss.backward()`` needs it)."""
    inputs = [x for argument in traced for x in argument.inputs if x is not None]
    own = {id(x) for x in inputs}
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad or id(o) in own]  # f may return an input
    grads: dict[int, Any] = {}
    keep_traced = nested
    if live:
        roots = [o for o, _ in live]
        order = reverse_topological_order(roots, own)
        made = sum(len(argument.made) for argument in traced)
        users_leaves = made < len(inputs)  # some inputs are the user's own leaves (model.parameters())
        other_leaves = reaches_other_leaves(order, own)
        keep_traced = nested or (STATE.recording and (users_leaves or other_leaves))
        grads, _ = backward_pass(roots, [s for _, s in live], inputs, create_graph=STATE.reverse_depth > 0 or
                                 keep_traced, order=order, prune=other_leaves)
    handed_out = {id(seed) for seed in seeds}  # a gradient may be a seed itself (f returns its input)
    result = []
    for argument in traced:
        leaves = []
        for x in argument.inputs:
            if x is None:
                leaves.append(None)
                continue
            g = grads.get(id(x))
            value = x.value
            if g is None:
                g = np.zeros_like(value)
            elif g.shape != value.shape:
                g = np.broadcast_to(g, value.shape)
            if type(g) is not Tensor and g.dtype is not value.dtype and g.dtype != value.dtype:
                g = g.astype(value.dtype)
            g = own_copy(g, handed_out)
            handed_out.add(id(g))
            leaves.append(_finish(g, keep_traced))
        result.append(leaves[0] if argument.treedef is tree.LEAF else tree.unflatten(argument.treedef, leaves))
    return result, keep_traced


def stop_gradient(x: Any) -> Any:
    """The same values as constants: no derivative flows through them, in any mode (JAX's stop_gradient).
    d/dx stop_gradient(x) = 0. Works leaf by leaf on pytrees.

    >>> cm.grad(lambda x: x * cm.stop_gradient(x))(3.0)      # d/dx (x · c) with c = 3 held fixed
    np.float64(3.0)
    """
    return tree.map(lambda leaf: Tensor(leaf.value) if type(leaf) is Tensor else leaf, x)


# ---- reverse mode ------------------------------------------------------------------------------
def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ (x ↦ (f(x), ∇f(x)))`` in one forward and one backward pass.

    >>> cm.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """
    return functools.wraps(f)(_value_and_grad(f, argnums, has_aux))


def _value_and_grad(f: Callable, argnums: int | Sequence[int], has_aux: bool) -> Callable:
    """``value_and_grad`` without copying f's name and docstring (cheap enough to build per call)."""

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nested = _nested()
        nums = _argnums_tuple(argnums, args, "grad")
        out, inputs = _call_traced(f, args, kwargs, nums)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("has_aux=True expects the function to return a pair (value, aux).")
            out, aux = out
        out = _as_output_tensor(out, "grad")
        if out.value.size != 1:
            raise NonScalarOutputError(
                f"grad needs a function with a scalar output, but this one returned shape {out.shape}.\n"
                "  reduce it (np.sum, np.mean), or use cm.jacobian for every output, or cm.vjp with a "
                "cotangent."
            )
        grads, keep_traced = _gradients([out], [np.ones_like(out.value)], inputs, nested)
        _release(inputs)
        value = _finish(out, keep_traced)
        if has_aux:
            value = (value, aux)
        return value, (grads[0] if isinstance(argnums, int) else tuple(grads))

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ ∇f``, by reverse mode (backpropagation). ``f`` must return a scalar.

    ``argnums`` picks the argument(s) to differentiate; with a tuple the result is a tuple.
    With ``has_aux=True``, ``f`` returns ``(value, aux)`` and ``grad`` returns ``(gradient, aux)``.

    >>> f = lambda x: np.sum(np.tanh(x) ** 2)
    >>> cm.grad(f)(np.array([0.0, 1.0]))            # 2 tanh(x)(1 − tanh²x)
    array([0.        , 0.63970001])
    """
    return functools.wraps(f)(_grad(f, argnums, has_aux))


def _grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    value_and_grad_f = _value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_f(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(x), u ↦ uᵀ J_f(x))``: the output and a function pulling cotangents back to the inputs.

    The output and the cotangent may be pytrees (a tuple of arrays ...) of the same structure; the
    pullback returns a tuple with one gradient per primal, each in its primal's structure. It may be
    called many times.

    >>> out, pullback = cm.vjp(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> pullback(np.array([1.0, 1.0]))
    (array([2., 6.]),)
    """
    nested = _nested()
    out, traced = _call_traced(f, primals, {}, tuple(range(len(primals))))
    aux = None
    if has_aux:
        out, aux = out
    outs, treedef = _output_leaves(out)
    _release(traced)  # the pullback finds them by identity

    def pullback(cotangent: Any) -> tuple:
        cotangents = [cotangent] if treedef.is_leaf else tree.structured_leaves(cotangent, treedef,
                                                                                 "the vjp pullback's cotangent")
        seeds = [seed_for(o, c, "the vjp pullback") for o, c in zip(outs, cotangents)]
        return tuple(_gradients(outs, seeds, traced, nested)[0])

    value = tree.unflatten(treedef, [_finish(o, nested) for o in outs])
    return (value, pullback, aux) if has_aux else (value, pullback)


# ---- forward mode ------------------------------------------------------------------------------
def _push_forward(f: Callable, primals: Sequence[Any], tangents: Sequence[Any],
                  rebuild: Callable[[list[Tensor]], tuple] = tuple) -> tuple[list[Any], list[Any], Any, bool]:
    """Run ``f`` with a batch of B tangents per primal leaf (each of shape (B, *primal.shape)).

    ``rebuild`` turns the list of input Tensors into f's positional arguments (pytrees). Returns the
    output leaves' values, their tangents (zeros where an output does not depend on the inputs), the
    output's TreeDef, and whether the results are traced for an enclosing transform.

    At the top level this is true forward mode: one pass carrying the tangents. Inside another
    transform it is computed from two reverse passes (below), which every transform can differentiate.
    """
    if _needs_nesting(primals, tangents):
        return _push_forward_by_two_vjps(f, primals, tangents, rebuild) + (True,)
    inputs, borrowed = [], []
    for primal, tangent in zip(primals, tangents):
        if _is_users_leaf(primal):  # one variable wherever it is used: it carries the tangent itself, for the call
            x = primal
            borrowed.append(x)
        else:
            x = Tensor(as_float_array(primal.value if type(primal) is Tensor else primal))
        x.tangent = np.asarray(tangent.value if type(tangent) is Tensor else tangent, dtype=x.dtype)
        inputs.append(x)
    batch = np.shape(tangents[0])[0]
    STATE.forward_depth += 1
    previous = STATE.tangents_stopped
    STATE.tangents_stopped = False
    try:
        out = f(*rebuild(inputs))
    finally:
        STATE.forward_depth -= 1
        STATE.tangents_stopped = previous
        for x in borrowed:
            x.tangent = None
    outs, treedef = _output_leaves(out)
    values, out_tangents = [], []
    for o in outs:
        values.append(o.value)
        t = o.tangent
        out_tangents.append(np.zeros((batch,) + o.shape, dtype=o.dtype) if t is None else t)
    return values, out_tangents, treedef, False


def _needs_nesting(primals: Sequence[Any], tangents: Sequence[Any]) -> bool:
    """Inside another transform, or on values another transform (or a recording leaf) is tracing."""
    if STATE.forward_depth > 0 or STATE.reverse_depth > 0 or STATE.vmap_tracers:
        return True
    return any(type(v) is Tensor and v.is_traced() for v in (*primals, *tangents))


def _push_forward_by_two_vjps(f: Callable, primals: Sequence[Any], tangents: Sequence[Any],
                              rebuild: Callable[[list[Tensor]], tuple]) -> tuple[list[Any], list[Any], Any]:
    """Forward mode inside another transform, from reverse mode twice:  J v = ∂/∂u ⟨Jᵀu, v⟩.

    The first backward pass pulls a traced cotangent u back to the inputs (Jᵀu, linear in u); the second
    differentiates ⟨Jᵀu, v⟩ with respect to u. Both passes are recorded like any other operations, so
    an enclosing grad, jvp or hessian differentiates the result again, to any depth. Each nesting level
    has its own inputs and cotangents (its own tag), so levels never mix their perturbations: the
    d/dx [x · d/dy (x + y)] = 1 of the classic test.
    """
    inputs = [_as_input(p) for p in primals]
    STATE.reverse_depth += 1
    previous = STATE.recording, STATE.tangents_stopped
    STATE.recording, STATE.tangents_stopped = True, False
    try:
        outs, treedef = _output_leaves(f(*rebuild(inputs)))
        live = [o for o in outs if o.requires_grad]
        cotangents = [Tensor.input(np.zeros_like(o.value)) for o in live]
        pulled: dict[int, Any] = {}
        if live:
            pulled, _ = backward_pass(live, cotangents, inputs, create_graph=True)
        batch = np.shape(tangents[0])[0]
        directions = []
        for b in range(batch):
            inner = [np.sum(pulled[id(x)] * v[b]) for x, v in zip(inputs, tangents) if id(x) in pulled]
            directions.append(_gradients_of(sum(inner), cotangents) if inner else [None] * len(live))
    finally:
        STATE.reverse_depth -= 1
        STATE.recording, STATE.tangents_stopped = previous
    made = [x for x, p in zip(inputs, primals) if x is not p] + cotangents
    for x in made:
        if x.node is None:
            x.requires_grad = False  # this level's own tags: constants to every enclosing level
    out_tangents, k = [], 0
    for o in outs:
        if not o.requires_grad:
            out_tangents.append(np.zeros((batch,) + o.shape, dtype=o.dtype))
            continue
        per_direction = [d[k] if d[k] is not None else np.zeros(o.shape, dtype=o.dtype) for d in directions]
        out_tangents.append(np.stack(per_direction))
        k += 1
    return outs, out_tangents, treedef


def _gradients_of(scalar: Any, leaves: list[Tensor]) -> list[Any]:
    """∂scalar/∂leaf for each leaf, traced (None where the scalar does not depend on a leaf)."""
    if type(scalar) is not Tensor or not scalar.requires_grad:
        return [None] * len(leaves)
    grads, _ = backward_pass(scalar, np.ones_like(scalar.value), leaves, create_graph=True)
    return [grads.get(id(u)) for u in leaves]


def _flat_primals(primals: Sequence[Any]) -> tuple[list[Any], list[tree.TreeDef]]:
    """The leaves of every primal (in order) and each primal's structure."""
    leaves, treedefs = [], []
    for primal in primals:
        flat, treedef = tree.flatten(primal)
        leaves += flat
        treedefs.append(treedef)
    return leaves, treedefs


def _rebuilder(treedefs: list[tree.TreeDef]) -> Callable[[list[Tensor]], tuple]:
    """Inputs (one Tensor per leaf) back into one pytree per primal."""
    def rebuild(inputs: list[Tensor]) -> tuple:
        args, start = [], 0
        for treedef in treedefs:
            n = treedef.num_leaves
            args.append(tree.unflatten(treedef, inputs[start:start + n]))
            start += n
        return tuple(args)

    return rebuild


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(x), J_f(x) v)`` by true forward mode: one pass that carries the tangent v alongside x.

    Primals and tangents may be pytrees of the same structure; the output (and its tangent) may be one
    too (a tuple of arrays ...).

    >>> cm.jvp(np.sin, (np.array([0.0, np.pi]),), (np.array([1.0, 1.0]),))
    (array([0.0000000e+00, 1.2246468e-16]), array([ 1., -1.]))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents) takes tuples: cm.jvp(f, (x,), (v,)).")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primal(s) but {len(tangents)} tangent(s); give one each.")
    if all(type(p) is np.ndarray and type(t) is np.ndarray and p.shape == t.shape
           for p, t in zip(primals, tangents)):  # plain arrays: no structure to walk (hvp's common case)
        values, out_tangents, treedef, nested = _push_forward(f, list(primals), [t[None] for t in tangents])
        return (tree.unflatten(treedef, [_finish(v, nested) for v in values]),
                tree.unflatten(treedef, [_finish(t[0], nested) for t in out_tangents]))
    leaves, treedefs = _flat_primals(primals)
    batched = []
    for i, (primal, tangent) in enumerate(zip(primals, tangents)):
        for k, (p, t) in enumerate(zip(tree.leaves(primal), tree.structured_leaves(tangent, treedefs[i],
                                                                                     f"jvp: tangent {i}"))):
            if np.shape(p) != np.shape(t):
                where = f"tangent {i}" + (f", leaf {k}" if not treedefs[i].is_leaf else "")
                raise ShapeError(f"jvp: {where} has shape {np.shape(t)} but its primal has shape "
                                 f"{np.shape(p)}; they must match.")
            batched.append(t[None] if type(t) is Tensor else np.asarray(t)[None])
    values, out_tangents, treedef, nested = _push_forward(f, leaves, batched, _rebuilder(treedefs))
    return (tree.unflatten(treedef, [_finish(v, nested) for v in values]),
            tree.unflatten(treedef, [_finish(t[0], nested) for t in out_tangents]))


# ---- Jacobians and Hessians --------------------------------------------------------------------
def _jacobian_tree(blocks: list[list[Any]], out_def: tree.TreeDef, in_defs: list[tree.TreeDef],
                   single: bool) -> Any:
    """Jacobian blocks (per output leaf, per input leaf) arranged as JAX does: the output's structure
    outside, each argument's structure inside (a tuple over argnums unless one int was given)."""
    per_output = []
    for row in blocks:
        per_argument, start = [], 0
        for treedef in in_defs:
            n = treedef.num_leaves
            per_argument.append(tree.unflatten(treedef, row[start:start + n]))
            start += n
        per_output.append(per_argument[0] if single else tuple(per_argument))
    return tree.unflatten(out_def, per_output)


def _jacobian_forward(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...], single: bool) -> Any:
    """All columns of J at once: one forward pass with the identity as a batch of tangents."""
    leaves, in_defs = _flat_primals([args[i] for i in nums])
    primals = [p if type(p) is Tensor else as_float_array(p) for p in leaves]
    sizes = [p.size for p in primals]
    total = sum(sizes)
    identity = np.eye(total, dtype=np.result_type(*[p.dtype for p in primals]))
    tangents, start = [], 0
    for p, n in zip(primals, sizes):
        tangents.append(identity[:, start:start + n].reshape((total,) + p.shape))
        start += n
    rebuild = _rebuilder(in_defs)

    def with_primals(*xs):
        call_args = list(args)
        for i, x in zip(nums, xs):
            call_args[i] = x
        return f(*call_args, **kwargs)

    values, out_tangents, out_def, nested = _push_forward(with_primals, primals, tangents, rebuild)
    blocks = []
    for value, tangent in zip(values, out_tangents):
        columns = np.moveaxis(tangent, 0, -1)  # out.shape + (total,)
        row, start = [], 0
        for p, n in zip(primals, sizes):
            row.append(_finish(np.reshape(columns[..., start:start + n], np.shape(value) + p.shape), nested))
            start += n
        blocks.append(row)
    return _jacobian_tree(blocks, out_def, in_defs, single)


def _jacobian_reverse(f: Callable, args: tuple, kwargs: dict, nums: tuple[int, ...], single: bool) -> Any:
    """J row by row: one forward pass, then one backward pass per output element."""
    nested = _nested()
    out, traced = _call_traced(f, args, kwargs, nums)
    outs, out_def = _output_leaves(out)
    blocks = []
    for o in outs:
        seeds = np.eye(max(o.size, 1), dtype=o.dtype)
        rows = []
        for k in range(o.size):
            gradients, keep_traced = _gradients([o], [seeds[k].reshape(o.shape)], traced, nested)
            rows.append([leaf for g in gradients for leaf in tree.leaves(g)])
        row = []
        for j, x in enumerate(x for argument in traced for x in argument.inputs):
            if x is None:
                row.append(None)
                continue
            stacked = np.stack([r[j] for r in rows]) if rows else np.zeros((0,) + x.shape, dtype=x.dtype)
            row.append(_finish(np.reshape(stacked, o.shape + x.shape), nested))
        blocks.append(row)
    _release(traced)
    return _jacobian_tree(blocks, out_def, [argument.treedef for argument in traced], single)


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "rev", has_aux: bool = False) -> Callable:
    """``f ↦ J_f``: the matrix of partial derivatives J[i, j] = ∂f_i/∂x_j, shaped out.shape + x.shape.

    ``mode="rev"`` builds it row by row (one backward pass per output: best for few outputs);
    ``mode="fwd"`` pushes every column in a single vectorized forward pass (best for few inputs).
    Outputs and arguments may be pytrees: the result has the output's structure outside and the
    argument's inside, as in JAX. With ``has_aux=True``, f returns ``(out, aux)`` and so does the result.

    >>> cm.jacobian(lambda x: x ** 2, mode="fwd")(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', not {mode!r}.")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, args, "jacobian")
        build = _jacobian_forward if mode == "fwd" else _jacobian_reverse
        if not has_aux:
            return build(f, args, kwargs, nums, isinstance(argnums, int))
        without_aux, aux = _aux_splitter(f, "jacobian")
        return build(without_aux, args, kwargs, nums, isinstance(argnums, int)), _plain_aux(aux[0])

    return jacobian_f


def _aux_splitter(f: Callable, transform: str) -> tuple[Callable, list]:
    """``f`` returning ``(out, aux)`` → a function returning ``out``, and the list its aux lands in."""
    box: list = []

    def without_aux(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{transform}(has_aux=True) expects the function to return a pair (value, aux).")
        box[:] = [out[1]]
        return out[0]

    return without_aux, box


def _plain_aux(aux: Any) -> Any:
    """Auxiliary data as plain values at the top level (it is not differentiated)."""
    if _nested():
        return aux
    return tree.map(lambda leaf: _finish(leaf, False) if type(leaf) is Tensor else leaf, aux)


def hessian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``f ↦ ∇²f``: H[i, j] = ∂²f/∂x_i∂x_j, as the forward-mode Jacobian of the gradient
    (forward-over-reverse: one backward pass carrying n tangents, not n passes).

    With a tuple of ``argnums`` the result is nested like JAX's: ``H[i][j] = ∂²f/∂x_i∂x_j`` blocks.

    >>> cm.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    return jacobian(grad(f, argnums, has_aux=has_aux), argnums, mode="fwd", has_aux=has_aux)


def hvp(f: Callable, x: Any, v: Any, has_aux: bool = False) -> Any:
    """∇²f(x) v without forming the Hessian: the forward-mode derivative of ∇f in direction v.

    Costs a small multiple of one gradient, whatever the size of x. ``x`` and ``v`` may be pytrees of
    the same structure (several arguments: pass a tuple and unpack it in f). With ``has_aux=True``,
    f returns ``(value, aux)`` and hvp returns ``(Hv, aux)``.

    >>> cm.hvp(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    if not has_aux:
        return jvp(_grad(f), (x,), (v,))[1]
    gradient_and_aux = _grad(f, 0, has_aux=True)
    without_aux, aux = _aux_splitter(lambda y: gradient_and_aux(y), "hvp")
    return jvp(without_aux, (x,), (v,))[1], _plain_aux(aux[0])
