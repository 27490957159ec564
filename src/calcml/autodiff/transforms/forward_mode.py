"""Forward mode: carry tangents alongside the values, one pass for a whole batch of directions.

    jvp(f, (x,), (v,))         (f(x), J v)

At the top level a tangent rides on each input Tensor (shape (B, *x.shape): B directions at once, so a
forward-mode Jacobian is one pass). Inside another transform the same J v is computed from two recorded
reverse passes, which every transform can differentiate again, to any depth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from calcml.autodiff import tree
from calcml.autodiff.errors import ShapeError
from calcml.autodiff.reverse import backward_pass
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, as_float_array
from calcml.autodiff.transforms.arguments import (
    as_input,
    finish,
    is_number,
    is_users_leaf,
    output_leaves,
    refuse_hidden_arrays,
)


def push_forward(f: Callable, primals: Sequence[Any], tangents: Sequence[Any],
                 rebuild: Callable[[list[Tensor]], tuple] = tuple) -> tuple[list[Any], list[Any], Any, bool]:
    """Run ``f`` with a batch of B tangents per primal leaf (each of shape (B, *primal.shape)).

    ``rebuild`` turns the list of input Tensors into f's positional arguments (pytrees). Returns the
    output leaves' values, their tangents (zeros where an output does not depend on the inputs), the
    output's TreeDef, and whether the results are traced for an enclosing transform.
    """
    if _needs_nesting(primals, tangents):
        return _push_forward_by_two_vjps(f, primals, tangents, rebuild) + (True,)
    inputs, borrowed = [], []
    for primal, tangent in zip(primals, tangents):
        if is_users_leaf(primal):  # one variable wherever it is used: it carries the tangent itself, for the call
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
    outs, treedef = output_leaves(out)
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
    inputs = [as_input(p) for p in primals]
    STATE.reverse_depth += 1
    previous = STATE.recording, STATE.tangents_stopped
    STATE.recording, STATE.tangents_stopped = True, False
    try:
        outs, treedef = output_leaves(f(*rebuild(inputs)))
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


def flat_primals(primals: Sequence[Any]) -> tuple[list[Any], list[tree.TreeDef]]:
    """The leaves of every primal (in order) and each primal's structure."""
    leaves, treedefs = [], []
    for primal in primals:
        flat, treedef = tree.flatten(primal)
        for leaf in flat:
            if not is_number(leaf):
                refuse_hidden_arrays(leaf)
        leaves += flat
        treedefs.append(treedef)
    return leaves, treedefs


def rebuilder(treedefs: list[tree.TreeDef]) -> Callable[[list[Tensor]], tuple]:
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
        values, out_tangents, treedef, keep = push_forward(f, list(primals), [t[None] for t in tangents])
        return (tree.unflatten(treedef, [finish(v, keep) for v in values]),
                tree.unflatten(treedef, [finish(t[0], keep) for t in out_tangents]))
    leaves, treedefs = flat_primals(primals)
    batched = []
    for i, (primal, tangent) in enumerate(zip(primals, tangents)):
        for k, (p, t) in enumerate(zip(tree.leaves(primal), tree.structured_leaves(tangent, treedefs[i],
                                                                                     f"jvp: tangent {i}"))):
            if np.shape(p) != np.shape(t):
                where = f"tangent {i}" + (f", leaf {k}" if not treedefs[i].is_leaf else "")
                raise ShapeError(f"jvp: {where} has shape {np.shape(t)} but its primal has shape "
                                 f"{np.shape(p)}; they must match.")
            batched.append(t[None] if type(t) is Tensor else np.asarray(t)[None])
    values, out_tangents, treedef, keep = push_forward(f, leaves, batched, rebuilder(treedefs))
    return (tree.unflatten(treedef, [finish(v, keep) for v in values]),
            tree.unflatten(treedef, [finish(t[0], keep) for t in out_tangents]))
