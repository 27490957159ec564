"""``graph``: a traced computational graph as SVG, each node with its op, value and gradient.

With Graphviz's ``dot`` on the PATH the layout is Graphviz's (from ``Graph.to_dot()``); without it calcml lays
the graph out itself: each node on the row of its longest path from an input, edges as straight lines. Both
give one ``<g class="node">`` per graph node, titled with the node's id.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from calcml.autodiff.graph import Graph
from calcml.autodiff.graph_drawing import NODE_FILLS, node_numbers, node_title
from calcml.viz.output import SvgImage

ENGINES = ("auto", "graphviz", "builtin")
NODE_WIDTH, NODE_HEIGHT, GAP_X, GAP_Y, LINE = 190, 64, 24, 46, 14


def graph(g: Graph, path: str | Path | None = None, *, engine: str = "auto", timeout: float = 20.0) -> SvgImage:
    """The graph as SVG text (shown as a picture in Jupyter), written to ``path`` when given.

    ``engine``: "graphviz" (``dot -Tsvg``; an error if it is missing), "builtin" (calcml's layered layout) or
    "auto" (Graphviz when installed, else built in).

    >>> svg = cm.viz.graph(cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0), "graph.svg")
    """
    if not isinstance(g, Graph):
        raise TypeError(f"graph takes the Graph of cm.trace(f, *args), not {type(g).__name__}.")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}.")
    dot = shutil.which("dot")
    if engine == "graphviz" and dot is None:
        raise FileNotFoundError("Graphviz's `dot` is not on the PATH: install graphviz (apt-get install graphviz) "
                                "or use engine='builtin'.")
    if dot is not None and engine != "builtin":
        svg = _graphviz(g, dot, timeout)
    else:
        svg = layered_svg(g)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(svg, encoding="utf-8")
    return SvgImage(svg)


def _graphviz(g: Graph, dot: str, timeout: float) -> str:
    done = subprocess.run([dot, "-Tsvg"], input=g.to_dot(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed (exit {done.returncode}): {done.stderr.strip()}")
    svg = done.stdout
    return svg[svg.index("<svg"):]  # drop the XML prolog and the comment naming Graphviz's version


def _rows(g: Graph) -> list[list[str]]:
    """Node ids by depth: inputs, parameters and constants at depth 0, every other node one below its
    deepest parent (nodes come in the order they were computed, so parents are placed first)."""
    depth: dict[str, int] = {}
    for node in g.nodes:
        depth[node.id] = 1 + max((depth[p] for p in node.parents), default=-1)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for node in g.nodes:
        rows[depth[node.id]].append(node.id)
    return rows


def layered_svg(g: Graph) -> str:
    """calcml's own drawing: rows by depth, a box per node (id, expression, value, gradient), edges."""
    rows = _rows(g)
    widest = max(len(row) for row in rows)
    width = widest * (NODE_WIDTH + GAP_X) + GAP_X
    height = len(rows) * (NODE_HEIGHT + GAP_Y) + GAP_Y
    centre: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        offset = (width - len(row) * (NODE_WIDTH + GAP_X) + GAP_X) / 2
        for c, node_id in enumerate(row):
            centre[node_id] = (offset + c * (NODE_WIDTH + GAP_X) + NODE_WIDTH / 2,
                               GAP_Y + r * (NODE_HEIGHT + GAP_Y) + NODE_HEIGHT / 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="10">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for node in g.nodes:
        x2, y2 = centre[node.id]
        for parent in dict.fromkeys(node.parents):
            x1, y1 = centre[parent]
            parts.append(f'<g class="edge"><title>{parent}-&gt;{node.id}</title>'
                         f'<line x1="{x1:.1f}" y1="{y1 + NODE_HEIGHT / 2:.1f}" x2="{x2:.1f}" '
                         f'y2="{y2 - NODE_HEIGHT / 2:.1f}" stroke="#555" marker-end="url(#arrow)"/></g>')
    for node in g.nodes:
        x, y = centre[node.id]
        left, top = x - NODE_WIDTH / 2, y - NODE_HEIGHT / 2
        fill = NODE_FILLS.get(node.op, "#ffffff")
        stroke = ' stroke-width="2.5"' if node is g.output else ""
        lines = [node_title(node), *node_numbers(node)]
        weights = [' font-weight="bold"'] + [""] * (len(lines) - 1)
        texts = "".join(f'<text x="{x:.1f}" y="{top + 17 + i * LINE:.1f}" text-anchor="middle"{weight}>'
                        f"{html.escape(_clip(line))}</text>"
                        for i, (line, weight) in enumerate(zip(lines, weights)))
        parts.append(f'<g class="node" id="{node.id}"><title>{node.id}</title>'
                     f'<rect x="{left:.1f}" y="{top:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" '
                     f'fill="{fill}" stroke="#333"{stroke}/>{texts}</g>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _clip(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"

