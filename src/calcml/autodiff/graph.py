"""``cm.trace``: the computational graph of one call, with every node's value and gradient.

    g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    g.explain()     # the forward pass, then the chain rule at every node, with the numbers
    g.to_dot()      # Graphviz text; in Jupyter the graph shows as a table

Each node is an input, a constant (a plain array the function used), a parameter (a leaf Tensor with
``requires_grad`` that the function captured) or the result of one primitive. Its gradient is
∂L/∂node, where L is the output (or Σ u ⊙ output for a non-scalar output seeded with ``gradient=u``).
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.errors import NonScalarOutputError
from calcml.autodiff.reverse import backward_pass, seed_for
from calcml.autodiff.state import STATE, enable_grad
from calcml.autodiff.tensor import Tensor, as_float_array
from calcml.autodiff.transforms import _as_output_tensor
from calcml.autodiff.unbroadcast import unbroadcast

SHOWN_ENTRIES = 4  # how many entries of an array the text shows before "…"
# the colour of each kind of leaf, in Graph.to_dot's text and in cm.viz.graph's own layout (one table)
NODE_FILLS = {"input": "#dbeafe", "parameter": "#fef3c7", "constant": "#f3f4f6"}
DOT_STYLES = {"constant": "dashed,filled"}  # a constant's box is dashed as well

# How the arithmetic primitives read: infix, and their local partial derivatives (∂out/∂arg_i) written
# with the operands. Other elementwise primitives take theirs from the rule's "d/dx f = f'" docstring line.
INFIX = {"add": "{0} + {1}", "subtract": "{0} − {1}", "multiply": "{0} · {1}", "divide": "{0} / {1}",
         "power": "{0}^{1}", "matmul": "{0} @ {1}", "negative": "−{0}"}
LOCAL_PARTIALS = {
    "add": ("1", "1"),
    "subtract": ("1", "−1"),
    "multiply": ("{1}", "{0}"),
    "divide": ("1/{1}", "−{0}/{1}²"),
    "power": ("{1}·{0}^({1}−1)", "{0}^{1}·ln {0}"),
}
# For matrix products the chain rule reads best as the VJP itself (G is ∂L/∂out).
VJP_FORMULAS = {"matmul": ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}"), "dot": ("{g} · {1}ᵀ", "{0}ᵀ · {g}")}
UNARY_DERIVATIVE = re.compile(r"^d/dx\s.+?\s=\s(.+)$")
VARIABLE_X = re.compile(r"(?<![A-Za-z_])x(?![A-Za-z_])|ˣ")
COUNT_WORDS = {1: "once", 2: "twice", 3: "three times"}


@dataclass(frozen=True, eq=False)
class GraphNode:
    """One node of a traced graph.

    ``op`` is ``"input"``, ``"constant"``, ``"parameter"`` or a primitive's name; ``parents`` are the ids
    of the nodes it was computed from (in argument order, repeated if an argument is used twice);
    ``grad`` is ∂L/∂node (``None`` for constants); ``derivative`` is the primitive's local rule.
    """

    id: str
    op: str
    parents: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    value: np.ndarray
    grad: np.ndarray | None
    derivative: str
    expression: str
    name: str | None = None


@dataclass(frozen=True, eq=False)
class _Use:
    """``consumer`` was computed from ``parent`` as its differentiable argument ``argnum``."""

    consumer: GraphNode
    argnum: int
    tensor: Tensor  # the consumer's Tensor (its node holds the primitive and the argument values)
    operands: list[str]  # how the consumer's arguments read: node ids or literals


class Graph:
    """The computational graph of one call of a function: nodes in the order they were computed.

    ``graph.nodes`` (list of GraphNode), ``graph.output``, ``graph.inputs``, ``graph["v3"]``,
    ``len(graph)``; ``explain()``, ``to_dot()`` and ``_repr_html_()`` show it.
    """

    def __init__(self, nodes: list[GraphNode], output: GraphNode, inputs: list[GraphNode],
                 uses: dict[str, list[_Use]], seeded: bool):
        self.nodes = nodes
        self.output = output
        self.inputs = inputs
        self._by_id = {node.id: node for node in nodes}
        self._uses = uses
        self._seeded = seeded

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes)

    def __getitem__(self, node_id: str) -> GraphNode:
        return self._by_id[node_id]

    def __repr__(self) -> str:
        ops = sum(1 for node in self.nodes if node.op not in ("input", "constant", "parameter"))
        return (f"Graph({len(self.nodes)} nodes, {ops} operations, output {self.output.id} = "
                f"{self.output.expression}, shape {self.output.shape})")

    # -- words ------------------------------------------------------------------------------------
    def explain(self) -> str:
        """The forward pass, then the backward pass, step by step, with the numbers.

        Forward: ``v3 = tanh(v2) = 0.7616``. Backward: the chain rule at each node,
        ``∂L/∂v2 = ∂L/∂v3 · (1 − tanh² v2) = 1 · 0.42 = 0.42``; a node used by several others receives
        the sum of their contributions.
        """
        out = self.output.id
        lines = ["Forward pass: each node computed from its parents, in order.", ""]
        for node in self.nodes:
            lines.append("  " + _forward_line(node) + ("    ← output L" if node is self.output else ""))
        lines += ["", "Backward pass: the chain rule from the output back to the inputs.",
                  "  ∂L/∂v = Σ over the nodes c computed from v of ∂L/∂c · ∂c/∂v "
                  "(arrays: elementwise ⊙, or the vector–Jacobian product (∂c/∂v)ᵀ ∂L/∂c).", ""]
        for node in reversed(self.nodes):
            if node.grad is None:
                continue
            lines += ["  " + line for line in self._backward_lines(node, out)]
        lines += ["", "Gradients of L:"]
        for node in self.nodes:
            if node.op in ("input", "parameter"):
                lines.append(f"  ∂L/∂{node.name or node.id} = {compact(node.grad)}")
        return "\n".join(lines)

    def _backward_lines(self, node: GraphNode, out: str) -> list[str]:
        if node is self.output:
            if self._seeded:
                return [f"∂L/∂{out} = {compact(node.grad)}    "
                        f"(the gradient= you passed: L = Σ gradient ⊙ {out})"]
            return [f"∂L/∂{out} = {compact(node.grad)}    (start: L is {out} itself)"]
        uses = self._uses.get(node.id, [])
        if not uses:
            return [f"∂L/∂{node.id} = {compact(node.grad)}    (L does not depend on {node.id})"]
        terms = [self._term(node, use) for use in uses]
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

    def _contribution(self, node: GraphNode, use: _Use) -> tuple[Any, Any, Any]:
        """(local derivative or None, this use's share of ∂L/∂node, the share before un-broadcasting)."""
        tensor, consumer = use.tensor, use.consumer
        engine_node = tensor.node
        prim = engine_node.prim
        rule = prim.vjps.get(use.argnum) or prim.vjp_rule(use.argnum)
        share = rule(consumer.grad, tensor.value, *engine_node.values, **engine_node.kwargs)
        local = None
        if prim.broadcasts:  # elementwise: the VJP of a ones cotangent is the local derivative itself
            local = rule(np.ones_like(tensor.value), tensor.value, *engine_node.values, **engine_node.kwargs)
        full = share
        if np.shape(share) != node.shape:
            share = unbroadcast(np.asarray(share), node.shape)
        return local, np.asarray(share), np.asarray(full)

    def _term(self, node: GraphNode, use: _Use) -> tuple[str, list[str], np.ndarray]:
        """One use's share of ∂L/∂node: in words and numbers, the rule line (unless the formula shows
        it already) and the share itself."""
        consumer, operands = use.consumer, use.operands
        prim = use.tensor.node.prim
        local, share, full = self._contribution(node, use)
        g = f"∂L/∂{consumer.id}"
        if local is not None:
            formula = _local_formula(prim.name, prim.derivative, use.argnum, operands)
            product = _times(consumer.grad, local)
            rule = []
            if formula is None:
                formula, rule = f"∂{consumer.id}/∂{node.id}", _rule_line(prim)
            if formula == "1":  # e.g. add: the gradient passes through unchanged
                text = f"{g} · 1 = {compact(full)}"
            else:
                text = (f"{g} {product} {_wrap(formula)} = {compact(consumer.grad)} {product} "
                        f"{compact(local)} = {compact(full)}")
            if full.shape != share.shape:
                text += f", summed over the broadcast axes to shape {node.shape}: {compact(share)}"
            return text, rule, share
        templates = VJP_FORMULAS.get(prim.name)
        if templates is not None and use.argnum < len(templates):
            return f"{templates[use.argnum].format(*operands, g=g)} = {compact(share)}", [], share
        return f"(∂{consumer.id}/∂{node.id})ᵀ {g} = {compact(share)}", _rule_line(prim), share

    # -- pictures ---------------------------------------------------------------------------------
    def to_dot(self) -> str:
        """Graphviz DOT text: one box per node (op, shape, value, gradient), an edge per parent link.

        Render it with ``dot -Tsvg graph.dot -o graph.svg`` or ``graphviz.Source(g.to_dot())``.
        """
        lines = ["digraph calcml {", "  rankdir=TB;",
                 '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];']
        for node in self.nodes:
            shown = node.name or (node.expression if node.expression != node.id else "")
            title = node.id + (f" = {shown}" if shown else "") + f"  ({node.op})"
            label = "\n".join([title, f"shape {node.shape} {node.dtype}", f"value {compact(node.value)}",
                               f"grad {compact(node.grad) if node.grad is not None else '—'}"])
            fill = NODE_FILLS.get(node.op)
            style = "" if fill is None else f', style="rounded,{DOT_STYLES.get(node.op, "filled")}", fillcolor="{fill}"'
            if node is self.output:
                style += ", peripheries=2"
            lines.append(f'  {node.id} [label="{_dot_escape(label)}"{style}];')
        for node in self.nodes:
            for parent in node.parents:
                lines.append(f"  {parent} -> {node.id};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """A table for Jupyter: one row per node."""
        columns = ("node", "op", "computed as", "shape", "dtype", "value", "∂L/∂node")
        head = "".join(f"<th>{h}</th>" for h in columns)
        rows = []
        for node in self.nodes:
            grad = compact(node.grad) if node.grad is not None else "—"
            cells = (node.id + (" ← output" if node is self.output else ""), node.op, node.expression,
                     str(node.shape), str(node.dtype), compact(node.value), grad)
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        return (f'<table class="calcml-graph"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")


# ---- building the graph ----------------------------------------------------------------------------
def trace(f: Callable, *args: Any, gradient: Any = None) -> Graph:
    """The computational graph of ``f(*args)``: every node's op, shape, value and gradient ∂L/∂node.

    The arguments become Tensors that require gradients, named after ``f``'s parameters (else x0, x1, …).
    L is the output; a non-scalar output needs ``gradient=u`` (then L = Σ u ⊙ output).

    >>> g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    >>> [node.op for node in g.nodes]
    ['input', 'input', 'multiply', 'sin', 'power', 'add']
    >>> g["v0"].grad                       # ∂L/∂x = y cos(xy) + 2x
    array(2.08060461)
    >>> print(g.explain())                 # forward values, then the chain rule at every node
    Forward pass: each node computed from its parents, in order.
    <BLANKLINE>
      v0 = x = 0.5    (input)
      v1 = y = 2    (input)
      v2 = v0 · v1 = 1
    ...
    Gradients of L:
      ∂L/∂x = 2.081
      ∂L/∂y = 0.2702
    """
    names = _input_names(f, len(args))
    inputs = [Tensor(as_float_array(a.value if isinstance(a, Tensor) else a), requires_grad=True, name=n)
              for a, n in zip(args, names, strict=True)]
    recorded: list[Tensor] = []
    outer_recorder = STATE.recorder
    STATE.set_recorder(recorded)
    STATE.reverse_depth += 1  # transforms called inside f stay traced, so their steps are nodes too
    try:
        with enable_grad():
            out = f(*inputs)
    finally:
        STATE.reverse_depth -= 1
        STATE.set_recorder(outer_recorder)
        if outer_recorder is not None:
            outer_recorder.extend(recorded)
    out = _as_output_tensor(out, "cm.trace")
    if gradient is None and out.value.size != 1:
        raise NonScalarOutputError(
            f"cm.trace needs a scalar output to start the backward pass, but f returned shape {out.shape}.\n"
            f"  pass the cotangent: cm.trace(f, ..., gradient=np.ones({out.shape})) (then L = Σ gradient ⊙ "
            "output), or reduce the output in f (np.sum, np.mean)."
        )
    seed = seed_for(out, gradient, "cm.trace")
    grads: dict[int, Any] = {id(out): seed}
    if out.requires_grad:
        grads, _ = backward_pass(out, seed, keep_all=True)
    return _build(inputs, recorded, out, grads, seeded=gradient is not None)


def _input_names(f: Callable, count: int) -> list[str]:
    """``f``'s positional parameter names for the arguments, x0, x1, … where it has none."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for p in parameters:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    names = names[:count]
    taken = set(names)
    for i in range(len(names), count):
        name = f"x{i}"
        while name in taken:
            name += "_"
        names.append(name)
    return names


def _is_array_argument(value: Any) -> bool:
    """Arrays and Tensors among a primitive's arguments are nodes (constants if nothing traced them).

    They are numbered by ``id``: safe, since the recorded Tensors' nodes keep every one of them alive."""
    return isinstance(value, np.ndarray) or (type(value) is Tensor)


def _build(inputs: list[Tensor], recorded: list[Tensor], out: Tensor, grads: dict[int, Any],
           seeded: bool) -> Graph:
    """Number the Tensors the output depends on (and the constants they used) in the order computed."""
    created = {id(t) for t in recorded}
    needed: set[int] = set()
    stack = [out]
    while stack:  # what the output depends on; the walk stops at Tensors made before this call
        tensor = stack.pop()
        if id(tensor) in needed:
            continue
        needed.add(id(tensor))
        if id(tensor) in created and tensor.node is not None:
            stack.extend(arg for arg in tensor.node.args if type(arg) is Tensor)

    nodes: list[GraphNode] = []
    labels: dict[int, str] = {}
    by_key: dict[int, GraphNode] = {}
    uses: dict[str, list[_Use]] = {}

    def add(key: int, op: str, value: Any, grad: Any, parents: tuple[str, ...] = (), derivative: str = "",
            expression: str = "", name: str | None = None) -> GraphNode:
        node_id = f"v{len(nodes)}"
        value = np.asarray(value)
        if grad is not None:
            grad = np.asarray(grad.value if type(grad) is Tensor else grad)
        node = GraphNode(node_id, op, parents, value.shape, value.dtype, value, grad, derivative,
                         expression or name or node_id, name)
        nodes.append(node)
        labels[key] = node_id
        by_key[key] = node
        return node

    def add_leaf(arg: Any) -> None:
        if id(arg) in labels:
            return
        if type(arg) is Tensor and arg.requires_grad:
            add(id(arg), "parameter", arg.value, grads.get(id(arg), np.zeros_like(arg.value)), name=arg.name)
        else:
            add(id(arg), "constant", arg.value if type(arg) is Tensor else arg, None)

    for tensor in inputs:
        add(id(tensor), "input", tensor.value, grads.get(id(tensor), np.zeros_like(tensor.value)),
            name=tensor.name)
    for tensor in [t for t in recorded if id(t) in needed] + [out]:
        if id(tensor) in labels:
            continue
        node = tensor.node
        if node is None or id(tensor) not in created:
            add_leaf(tensor)
            continue
        for arg in node.args:
            if _is_array_argument(arg) and not (id(arg) in created and arg.node is not None):
                add_leaf(arg)
        parents = tuple(labels[id(arg)] for arg in node.args if _is_array_argument(arg))
        added = add(id(tensor), node.prim.name, tensor.value, grads.get(id(tensor)), parents,
                    node.prim.derivative, _expression(tensor, labels))
        operands = _operand_labels(tensor, labels)
        for i in node.parents:
            uses.setdefault(labels[id(node.args[i])], []).append(_Use(added, i, tensor, operands))
    return Graph(nodes, by_key[id(out)], [by_key[id(t)] for t in inputs], uses, seeded)


# ---- text ----------------------------------------------------------------------------------------
def _operand_labels(tensor: Tensor, labels: dict[int, str]) -> list[str]:
    """How a node's arguments read: node ids for arrays and Tensors, literals for the rest."""
    return [labels[id(arg)] if _is_array_argument(arg) else _literal(arg) for arg in tensor.node.args]


def _expression(tensor: Tensor, labels: dict[int, str]) -> str:
    """``v0 · v1``, ``tanh(v2)``, ``sum(v4, axis=1)``: how a node was computed from its parents."""
    node = tensor.node
    operands = _operand_labels(tensor, labels)
    if node.prim.name == "getitem" and len(operands) == 2 and not node.kwargs:
        index = node.args[1] if isinstance(node.args[1], tuple) else (node.args[1],)
        return f"{operands[0]}[{', '.join(_literal(part) for part in index)}]"
    infix = INFIX.get(node.prim.name)
    if infix is not None and not node.kwargs and infix.count("{") == len(operands):
        return infix.format(*operands)
    options = [f"{key}={_literal(value)}" for key, value in node.kwargs.items()]
    return f"{node.prim.name}({', '.join(operands + options)})"


def _forward_line(node: GraphNode) -> str:
    if node.op == "input":
        return f"{node.id} = {node.name} = {compact(node.value)}    (input)"
    if node.op == "parameter":
        return f"{node.id} = {node.name or 'parameter'} = {compact(node.value)}    (parameter: a leaf Tensor)"
    if node.op == "constant":
        return f"{node.id} = {compact(node.value)}    (constant)"
    return f"{node.id} = {node.expression} = {compact(node.value)}"


def _local_formula(name: str, derivative: str, argnum: int, operands: list[str]) -> str | None:
    """∂out/∂arg written with the operands (``1 − tanh² v2``), or None when the rule has no such form."""
    partials = LOCAL_PARTIALS.get(name)
    if partials is not None:
        return partials[argnum].format(*operands) if argnum < len(partials) else None
    match = UNARY_DERIVATIVE.match(derivative)
    if match is None or len(operands) != 1:
        return None
    rhs = match.group(1).split(", ")[0]
    operand = operands[0]

    def substitute(m: re.Match) -> str:
        if m.group(0) == "ˣ":
            return f"^{operand}"
        before = m.string[m.start() - 1] if m.start() else ""
        return ("·" if before.isdigit() else "") + operand

    return VARIABLE_X.sub(substitute, rhs)


def _rule_line(prim: Any) -> list[str]:
    """The primitive's derivative rule as a line under a chain-rule step (none if it has no rule text)."""
    return [f"  ({prim.name}: {prim.derivative.replace('``', '')})"] if prim.derivative else []


def _wrap(formula: str) -> str:
    return f"({formula})" if re.search(r"[\s+−\-/]", formula) else formula


def _times(a: Any, b: Any) -> str:
    return "·" if np.size(a) == 1 and np.size(b) == 1 else "⊙"


def format_number(x: Any) -> str:
    """A number as calcml's graph texts print it: four significant digits, a signed zero as ``0``.

    >>> format_number(0.76159), format_number(-0.0), format_number(3)
    ('0.7616', '0', '3')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if x == 0:  # −0.0 (e.g. x · 0 with x < 0) is zero: it prints as 0, not "-0"
        x = x + 0.0
    return format(x, ".4g")


def _literal(value: Any) -> str:
    """An argument that is not a node, as it reads in code: ``2``, ``None``, ``1:3``, ``(0, -1)``."""
    if isinstance(value, (int, float, complex, np.number, np.bool_)):
        return format_number(value)
    if isinstance(value, slice):
        parts = ["" if v is None else _literal(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, np.ndarray):
        return compact(value)
    text = repr(value)
    return text if len(text) <= 30 else type(value).__name__


def compact(value: Any) -> str:
    """A short text for a value: ``0.7616``; ``[1, 2, 3]``; ``(32, 16) [0.1, -0.2, 0.3, 0.4, …]``."""
    array = np.asarray(value)
    if array.ndim == 0:
        return format_number(array.item())
    if array.size <= SHOWN_ENTRIES:
        return _nested(array.tolist())
    entries = ", ".join(format_number(v) for v in array.reshape(-1)[:SHOWN_ENTRIES].tolist())
    return f"{array.shape} [{entries}, …]"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return format_number(items)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
