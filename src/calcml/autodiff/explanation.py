"""``Graph.explain()``: the forward pass, then the chain rule at every node, in words and numbers.

Forward: ``v3 = tanh(v2) = 0.7616``. Backward: ∂L/∂v = Σ over the nodes c computed from v of
∂L/∂c · ∂c/∂v, written with each primitive's ``Formula``, e.g.
``∂L/∂v2 = ∂L/∂v3 · (1 − tanh² v2) = 1 · 0.42 = 0.42``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.autodiff.graph_node import GraphNode, Use
from calcml.autodiff.notation import compact
from calcml.autodiff.primitive import Primitive
from calcml.autodiff.unbroadcast import unbroadcast

COUNT_WORDS = {1: "once", 2: "twice", 3: "three times"}
LEAVES = ("input", "constant", "parameter")


def explain(nodes: list[GraphNode], output: GraphNode, uses: dict[str, list[Use]], seeded: bool) -> str:
    """The forward pass, then the backward pass, step by step, with the numbers.

    ``uses[v]`` are the uses other nodes made of node v; ``seeded`` says whether the output's gradient
    was given (``gradient=u``: L = Σ u ⊙ output) rather than 1. A node used by several others receives
    the sum of their contributions.
    """
    lines = ["Forward pass: each node computed from its parents, in order.", ""]
    for node in nodes:
        lines.append("  " + _forward_line(node) + ("    ← output L" if node is output else ""))
    lines += ["", "Backward pass: the chain rule from the output back to the inputs.",
              "  ∂L/∂v = Σ over the nodes c computed from v of ∂L/∂c · ∂c/∂v "
              "(arrays: elementwise ⊙, or the vector–Jacobian product (∂c/∂v)ᵀ ∂L/∂c).", ""]
    for node in reversed(nodes):
        if node.grad is None:
            continue
        lines += ["  " + line for line in _backward_lines(node, output, uses.get(node.id, []), seeded)]
    lines += ["", "Gradients of L:"]
    for node in nodes:
        if node.op in ("input", "parameter"):
            lines.append(f"  ∂L/∂{node.name or node.id} = {compact(node.grad)}")
    return "\n".join(lines)


def _forward_line(node: GraphNode) -> str:
    """``v3 = tanh(v2) = 0.7616``: how a node was computed and its value (leaves say what they are)."""
    if node.op == "input":
        return f"{node.id} = {node.name} = {compact(node.value)}    (input)"
    if node.op == "parameter":
        return f"{node.id} = {node.name or 'parameter'} = {compact(node.value)}    (parameter: a leaf Tensor)"
    if node.op == "constant":
        return f"{node.id} = {compact(node.value)}    (constant)"
    return f"{node.id} = {node.expression} = {compact(node.value)}"


def _backward_lines(node: GraphNode, output: GraphNode, uses: list[Use], seeded: bool) -> list[str]:
    if node is output:
        if seeded:
            return [f"∂L/∂{node.id} = {compact(node.grad)}    "
                    f"(the gradient= you passed: L = Σ gradient ⊙ {node.id})"]
        return [f"∂L/∂{node.id} = {compact(node.grad)}    (start: L is {node.id} itself)"]
    if not uses:
        return [f"∂L/∂{node.id} = {compact(node.grad)}    (L does not depend on {node.id})"]
    terms = [_term(node, use) for use in uses]
    if len(uses) == 1:
        text, rule, _ = terms[0]
        return [f"∂L/∂{node.id} = {text}"] + rule
    consumers = ", ".join(dict.fromkeys(use.consumer.id for use in uses))
    times = COUNT_WORDS.get(len(uses), f"{len(uses)} times")
    lines = [f"{node.id} is used {times} (by {consumers}): the contributions add"]
    for use, (text, rule, _) in zip(uses, terms, strict=True):
        lines.append(f"  from {use.consumer.id} = {use.consumer.expression}:  {text}")
        lines += ["  " + r for r in rule]
    total = " + ".join(compact(share) for _, _, share in terms)
    lines.append(f"  ∂L/∂{node.id} = {total} = {compact(node.grad)}")
    return lines


def _term(node: GraphNode, use: Use) -> tuple[str, list[str], np.ndarray]:
    """One use's share of ∂L/∂node: in words and numbers, the rule line (unless the formula shows
    it already) and the share itself."""
    consumer, operands = use.consumer, use.operands
    prim = use.tensor.node.prim
    formula = prim.formula
    local, share, full = _contribution(node, use)
    g = f"∂L/∂{consumer.id}"
    if local is not None:
        partial = formula.partial(use.argnum, operands) if formula is not None else None
        rule = []
        if partial is None:
            partial, rule = f"∂{consumer.id}/∂{node.id}", _rule_line(prim)
        if partial == "1":  # e.g. add: the gradient passes through unchanged
            text = f"{g} · 1 = {compact(full)}"
        else:
            product = _times(consumer.grad, local)
            text = (f"{g} {product} {_wrap(partial)} = {compact(consumer.grad)} {product} "
                    f"{compact(local)} = {compact(full)}")
        if full.shape != share.shape:
            text += f", summed over the broadcast axes to shape {node.shape}: {compact(share)}"
        return text, rule, share
    vjp = formula.vjp(use.argnum, operands, g) if formula is not None else None
    if vjp is not None:
        return f"{vjp} = {compact(share)}", [], share
    return f"(∂{consumer.id}/∂{node.id})ᵀ {g} = {compact(share)}", _rule_line(prim), share


def _contribution(node: GraphNode, use: Use) -> tuple[Any, np.ndarray, np.ndarray]:
    """(local derivative or None, this use's share of ∂L/∂node, the share before un-broadcasting)."""
    tensor, engine_node = use.tensor, use.tensor.node
    prim = engine_node.prim
    rule = prim.vjp_rule(use.argnum)
    share = rule(use.consumer.grad, tensor.value, *engine_node.values, **engine_node.kwargs)
    local = None
    if _is_elementwise(prim, use.argnum):  # the VJP of a ones cotangent is the local derivative itself
        local = rule(np.ones_like(tensor.value), tensor.value, *engine_node.values, **engine_node.kwargs)
    full = share
    if np.shape(share) != node.shape:
        share = unbroadcast(np.asarray(share), node.shape)
    return local, np.asarray(share), np.asarray(full)


def _is_elementwise(prim: Primitive, argnum: int) -> bool:
    """Elementwise in argument ``argnum``: a broadcasting primitive, or one whose formula gives ∂out/∂arg."""
    partials = prim.formula.partials if prim.formula is not None else ()
    return prim.broadcasts or (argnum < len(partials) and partials[argnum] is not None)


def _rule_line(prim: Primitive) -> list[str]:
    """The primitive's derivative rule as a line under a chain-rule step (none if it declared no rule)."""
    return [f"  ({prim.name}: {prim.derivative})"] if prim.derivative else []


def _wrap(formula: str) -> str:
    """A formula in parentheses when it has more than one term or factor (``(1 − tanh² v2)``, but ``v1``)."""
    return f"({formula})" if any(c in formula for c in " +−-/") else formula


def _times(a: Any, b: Any) -> str:
    return "·" if np.size(a) == 1 and np.size(b) == 1 else "⊙"
