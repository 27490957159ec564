"""``cm.trace``: the computational graph of one call, with every node's value and gradient.

    g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    g.explain()     # the forward pass, then the chain rule at every node, with the numbers
    g.to_dot()      # Graphviz text; in Jupyter the graph shows as a table

Each node is an input, a constant (a plain array the function used), a parameter (a leaf Tensor with
``requires_grad`` that the function captured) or the result of one primitive. Its gradient is
∂L/∂node, where L is the output (or Σ u ⊙ output for a non-scalar output seeded with ``gradient=u``).
This module records the graph; ``explanation`` writes its words and ``graph_drawing`` its pictures.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from calcml.autodiff.errors import NonScalarOutputError
from calcml.autodiff.explanation import explain
from calcml.autodiff.graph_drawing import html_table, to_dot
from calcml.autodiff.graph_node import GraphNode, Use
from calcml.autodiff.in_place import as_used_at
from calcml.autodiff.notation import call_text, literal
from calcml.autodiff.reverse import backward_pass, seed_for
from calcml.autodiff.state import STATE, enable_grad
from calcml.autodiff.tensor import Tensor, as_float_array
from calcml.autodiff.transforms.arguments import as_output_tensor

__all__ = ["Graph", "GraphNode", "trace"]


class Graph:
    """The computational graph of one call of a function: nodes in the order they were computed.

    ``graph.nodes`` (list of GraphNode), ``graph.output``, ``graph.inputs``, ``graph["v3"]``,
    ``len(graph)``; ``explain()``, ``to_dot()`` and ``_repr_html_()`` show it. ``graph.uses[v]`` are the
    uses other nodes made of node v (what the chain rule sums over).
    """

    def __init__(self, nodes: list[GraphNode], output: GraphNode, inputs: list[GraphNode],
                 uses: dict[str, list[Use]], seeded: bool):
        self.nodes = nodes
        self.output = output
        self.inputs = inputs
        self.uses = uses
        self.seeded = seeded  # the output's gradient was given (gradient=u), not 1
        self._by_id = {node.id: node for node in nodes}

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

    def explain(self) -> str:
        """The forward pass, then the backward pass, step by step, with the numbers.

        Forward: ``v3 = tanh(v2) = 0.7616``. Backward: the chain rule at each node,
        ``∂L/∂v2 = ∂L/∂v3 · (1 − tanh² v2) = 1 · 0.42 = 0.42``; a node used by several others receives
        the sum of their contributions.
        """
        return explain(self.nodes, self.output, self.uses, self.seeded)

    def to_dot(self) -> str:
        """Graphviz DOT text: one box per node (op, shape, value, gradient), an edge per parent link.

        Render it with ``dot -Tsvg graph.dot -o graph.svg`` or ``graphviz.Source(g.to_dot())``.
        """
        return to_dot(self.nodes, self.output)

    def _repr_html_(self) -> str:
        """A table for Jupyter: one row per node."""
        return html_table(self.nodes, self.output)


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
    out = as_output_tensor(out, "cm.trace")
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


def _as_used_by(arg: Any, tensor: Tensor) -> Any:
    """An argument of ``tensor``'s operation as that operation saw it (a Tensor updated in place since has
    kept its state then)."""
    return as_used_at(arg, tensor.seq) if type(arg) is Tensor and arg.seq >= tensor.seq else arg


def _tensor_args(tensor: Tensor) -> list[Tensor]:
    return [_as_used_by(arg, tensor) for arg in tensor.node.args if type(arg) is Tensor]


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
            stack.extend(_tensor_args(tensor))

    nodes: list[GraphNode] = []
    labels: dict[int, str] = {}
    by_key: dict[int, GraphNode] = {}
    uses: dict[str, list[Use]] = {}

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
        node = node._replace(args=tuple(_as_used_by(arg, tensor) for arg in node.args))
        for arg in node.args:
            if _is_array_argument(arg) and not (id(arg) in created and arg.node is not None):
                add_leaf(arg)
        parents = tuple(labels[id(arg)] for arg in node.args if _is_array_argument(arg))
        operands = [labels[id(arg)] if _is_array_argument(arg) else literal(arg) for arg in node.args]
        added = add(id(tensor), node.prim.name, tensor.value, grads.get(id(tensor)), parents,
                    node.prim.derivative, call_text(node.prim, operands, node.args, node.kwargs))
        for i in node.parents:
            uses.setdefault(labels[id(node.args[i])], []).append(Use(added, i, tensor, operands))
    return Graph(nodes, by_key[id(out)], [by_key[id(t)] for t in inputs], uses, seeded)
