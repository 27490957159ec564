"""Reverse mode: walk the graph from the output back to the inputs, applying the chain rule.

For every node, in reverse topological order, ∂L/∂arg_i += vjp_i(∂L/∂node). A Tensor used in several
places receives the sum of its gradients (the multivariable chain rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from calcml.autodiff.errors import GraphEscapeError, NonScalarOutputError, ShapeError, describe
from calcml.autodiff.in_place import as_used_at
from calcml.autodiff.primitive import check_finite
from calcml.autodiff.state import STATE
from calcml.autodiff.tensor import Tensor, check_not_stale, recorded_by_vmap
from calcml.autodiff.unbroadcast import unbroadcast


def reverse_topological_order(roots: Tensor | Sequence[Tensor], stop_at: set[int] = frozenset()) -> list[Tensor]:
    """Every Tensor the ``roots`` depend on, each listed before the Tensors it was computed from.

    A Tensor is always made after its inputs, so sorting the reachable Tensors by creation number,
    newest first, is a reverse topological order. The walk does not go past Tensors whose ``id`` is
    in ``stop_at`` (the inputs of a transform).
    """
    roots = [roots] if type(roots) is Tensor else list({id(root): root for root in roots}.values())
    seen = {id(root) for root in roots}
    reachable = list(roots)
    stack = list(roots)
    while stack:
        tensor = stack.pop()
        node = tensor.node
        if node is None or id(tensor) in stop_at:
            continue
        args = node.args
        seq = tensor.seq
        for i in node.parents:
            parent = args[i]
            if parent.seq >= seq:  # updated in place after this use: the state it had then
                parent = as_used_at(parent, seq)
            key = id(parent)
            if key not in seen:
                seen.add(key)
                reachable.append(parent)
                if parent.node is not None:
                    stack.append(parent)
    reachable.sort(key=creation_number, reverse=True)
    return reachable


creation_number = attrgetter("seq")  # a Tensor's number, given when it was made


def leading_to(order: list[Tensor], targets: set[int]) -> set[int]:
    """Ids of the Tensors in ``order`` from which some target can be reached (the rest need no gradient)."""
    relevant: set[int] = set()
    for tensor in reversed(order):  # inputs first
        key = id(tensor)
        if key in targets:
            relevant.add(key)
        elif tensor.node is not None:
            args, seq = tensor.node.args, tensor.seq
            if any(id(as_used_at(args[i], seq)) in relevant for i in tensor.node.parents):
                relevant.add(key)
    return relevant


def backward_pass(roots: Tensor | Sequence[Tensor], seeds: Any, inputs: Sequence[Tensor] | None = None,
                  create_graph: bool = False, keep_all: bool = False,
                  order: list[Tensor] | None = None, prune: bool = True) -> tuple[dict[int, Any], list[Tensor]]:
    """Gradients of ``roots`` (weighted by ``seeds``, one per root) with respect to the Tensors they depend on.

    Returns ``(gradients by id, order)``. With ``inputs`` the walk stops at them and skips branches
    that do not lead to them. Gradients are plain arrays unless ``create_graph`` is set or forward
    mode is active: then the VJP rules run on Tensors, and the gradients can be differentiated again
    (reverse-over-reverse) or carry tangents (forward-over-reverse, for Hessian-vector products).
    ``order`` may be passed when the caller already computed it for the same roots and inputs, and
    ``prune=False`` when it knows every leaf that requires grad is one of the inputs (then every branch
    leads to an input and none needs skipping).
    """
    if type(roots) is Tensor:
        roots, seeds = [roots], [seeds]
    targets = {id(x) for x in inputs} if inputs is not None else set()
    if order is None:
        order = reverse_topological_order(roots, targets)
    relevant = leading_to(order, targets) if inputs is not None and prune else None
    traced = create_graph or STATE.forward_depth > 0 or bool(STATE.vmap_tracers)  # vmap replays the rules
    grads: dict[int, Any] = {}
    for root, seed in zip(roots, seeds):
        if traced and type(seed) is not Tensor:
            seed = Tensor(seed)
        previous = grads.get(id(root))
        grads[id(root)] = seed if previous is None else previous + seed
    take = grads.get if keep_all else grads.pop
    anomaly = STATE.detect_anomaly
    previous_recording = STATE.recording
    STATE.recording = create_graph
    try:
        for tensor in order:
            node = tensor.node
            if node is None:
                continue
            key = id(tensor)
            if key in targets or (relevant is not None and key not in relevant):
                continue
            g = take(key, None)
            if g is None:  # nothing flows back through this Tensor
                continue
            prim = node.prim
            args = node.args
            seq = tensor.seq
            ans, operands = (tensor, args) if traced else (tensor.value, node.values)
            if traced and STATE.in_place_updates:  # the rules read the Tensors as this operation saw them
                operands = [as_used_at(a, seq) if type(a) is Tensor and a.seq >= seq else a for a in args]
            kwargs = node.kwargs
            for i in node.parents:
                parent = args[i]
                if parent.seq >= seq:  # updated in place after this use: the state it had then
                    parent = as_used_at(parent, seq)
                parent_key = id(parent)
                if relevant is not None and parent_key not in relevant:
                    continue
                if parent.modified_at > seq:  # changed in place after this op used it (an update, writable())
                    check_not_stale(parent, seq)
                gi = (prim.vjps.get(i) or prim.vjp_rule(i))(g, ans, *operands, **kwargs)
                target = parent.value
                shape = getattr(gi, "shape", None)
                if shape != target.shape:
                    gi = unbroadcast(gi if shape is not None else np.asarray(gi), target.shape)
                if gi.dtype is not target.dtype and gi.dtype != target.dtype:  # float32 in, float32 out
                    gi = gi.astype(target.dtype)
                if anomaly:
                    check_finite(gi, prim, args, "backward")
                previous = grads.get(parent_key)
                grads[parent_key] = gi if previous is None else previous + gi
    finally:
        STATE.recording = previous_recording
    return grads, order


def seed_for(output: Tensor, gradient: Any, caller: str, keep_traced: bool = False) -> Any:
    """The starting cotangent: 1 for a scalar output, else ``gradient``, checked against the output's shape.
    With ``keep_traced``, a cotangent that is itself being differentiated (or batched by vmap) stays a
    Tensor, so what is computed from it keeps its derivative: d/du (uᵀ J) = J, not 0."""
    if gradient is None:
        if output.value.size != 1:
            raise NonScalarOutputError(
                f"{caller} needs a scalar output, but this one has shape {output.shape}.\n"
                "  pass the cotangent explicitly (backward(gradient=...), cm.vjp), reduce the output "
                "(e.g. .sum() or .mean()), or use cm.jacobian for every output at once."
            )
        return np.array(1, dtype=output.value.dtype).reshape(output.value.shape)  # 1, as C calls only
    traced = type(gradient) is Tensor and (gradient.is_traced() or recorded_by_vmap(gradient))
    if traced and not keep_traced:
        raise GraphEscapeError(
            f"{caller}: the cotangent {describe(gradient)} is itself being differentiated (or batched by cm.vmap), "
            "and the gradients here would not depend on it (its derivative would be 0, each example the "
            "first's).\n  pass create_graph=True to keep that dependence (under cm.vmap the only way: each example "
            "has its own cotangent), or, outside vmap, cm.stop_gradient(cotangent) if it is a constant on purpose.")
    # not copied (a large cotangent costs a copy's time): the gradients handed out are copied instead where
    # they would alias it (own_copy, with the seed among the arrays already handed out)
    if not traced:
        gradient = np.asarray(gradient.value if isinstance(gradient, Tensor) else gradient, dtype=output.dtype)
    if gradient.shape != output.shape:
        raise ShapeError(
            f"{caller}: the cotangent has shape {gradient.shape} but the output has shape {output.shape}; "
            "they must match."
        )
    return np.astype(gradient, output.dtype) if traced and gradient.dtype != output.dtype else gradient


def backward_into_leaves(output: Tensor, gradient: Any, create_graph: bool) -> None:
    """``Tensor.backward``: accumulate ∂output/∂leaf into ``leaf.grad`` for every leaf that requires grad."""
    if not output.requires_grad:
        raise ValueError(
            "backward() was called on a Tensor that does not depend on any Tensor with requires_grad=True, "
            "so there is nothing to differentiate.\n"
            "  create the inputs with cm.Tensor(data, requires_grad=True), and do not compute the "
            "output inside cm.no_grad()."
        )
    seed = seed_for(output, gradient, "backward()", keep_traced=create_graph)
    grads, order = backward_pass(output, seed, create_graph=create_graph)
    handed_out = {id(seed)}
    for tensor in order:
        if tensor.node is not None or not tensor.requires_grad:
            continue
        g = grads.get(id(tensor))
        if g is None:
            continue
        if not create_graph and type(g) is Tensor:
            g = g.value
        if tensor.grad is not None:
            tensor.grad = tensor.grad + g
            continue
        g = own_copy(g, handed_out)
        handed_out.add(id(g))
        tensor.grad = g


def own_copy(g: Any, handed_out: set[int]) -> Any:
    """``g`` itself if nothing else holds it, else a copy: no two gradients (nor the seed) share memory,
    so scaling one ``.grad`` in place never changes another."""
    if type(g) is np.ndarray and (g.base is not None or id(g) in handed_out):  # a view (broadcast, seed) or shared
        return g.copy()
    return g


def reaches_other_leaves(order: list[Tensor], own: set[int]) -> bool:
    """True when the graph reaches leaves that require grad besides the inputs (ids in ``own``). While
    recording, a gradient taken at the top level must then stay traced, so that ``loss.backward()`` of a
    loss built from it (a gradient penalty) reaches those leaves through it (PyTorch's create_graph)."""
    for tensor in order:
        if tensor.node is None and tensor.requires_grad and id(tensor) not in own:
            return True
    return False
