"""How a traced graph is shown: Graphviz DOT text, an HTML table for Jupyter, and what each node's box
says and how it is coloured (``cm.viz.graph`` draws its own layout with the same boxes and colours).
"""

from __future__ import annotations

import html

from calcml.autodiff.graph_node import GraphNode
from calcml.autodiff.notation import compact

# the colour of each kind of leaf; operations stay white
NODE_FILLS = {"input": "#dbeafe", "parameter": "#fef3c7", "constant": "#f3f4f6"}
DOT_STYLES = {"constant": "dashed,filled"}  # a constant's box is dashed as well


def node_title(node: GraphNode) -> str:
    """``v2 = v0 · v1  (multiply)``: the node, what it is, and its op."""
    shown = node.name or (node.expression if node.expression != node.id else "")
    return node.id + (f" = {shown}" if shown else "") + f"  ({node.op})"


def node_numbers(node: GraphNode) -> list[str]:
    """``value 0.7616`` and ``grad 0.42`` (``grad —`` for a constant)."""
    return [f"value {compact(node.value)}", f"grad {compact(node.grad) if node.grad is not None else '—'}"]


def to_dot(nodes: list[GraphNode], output: GraphNode) -> str:
    """Graphviz DOT text: one box per node (op, shape, value, gradient), an edge per parent link."""
    lines = ["digraph calcml {", "  rankdir=TB;",
             '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=10];']
    for node in nodes:
        label = "\n".join([node_title(node), f"shape {node.shape} {node.dtype}", *node_numbers(node)])
        fill = NODE_FILLS.get(node.op)
        style = "" if fill is None else f', style="rounded,{DOT_STYLES.get(node.op, "filled")}", fillcolor="{fill}"'
        if node is output:
            style += ", peripheries=2"
        lines.append(f'  {node.id} [label="{_dot_escape(label)}"{style}];')
    for node in nodes:
        for parent in node.parents:
            lines.append(f"  {parent} -> {node.id};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def html_table(nodes: list[GraphNode], output: GraphNode) -> str:
    """A table for Jupyter: one row per node (id, op, how it was computed, shape, dtype, value, gradient)."""
    columns = ("node", "op", "computed as", "shape", "dtype", "value", "∂L/∂node")
    head = "".join(f"<th>{h}</th>" for h in columns)
    rows = []
    for node in nodes:
        grad = compact(node.grad) if node.grad is not None else "—"
        cells = (node.id + (" ← output" if node is output else ""), node.op, node.expression,
                 str(node.shape), str(node.dtype), compact(node.value), grad)
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (f'<table class="calcml-graph"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
