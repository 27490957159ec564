"""cm.viz.graph: one SVG node per graph node, on Graphviz's path and on calcml's own layout."""

import re
import shutil

import numpy as np
import pytest

import calcml as cm
from calcml import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def two_layer_graph():
    x, y = np.array([[0.5, -1.0]]), np.array([[0.8]])
    return cm.trace(lambda W1, b1, W2: np.sum((np.tanh(x @ W1 + b1) @ W2 - y) ** 2),
                    np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]]), np.array([0.05, -0.05, 0.1]),
                    np.array([[0.7], [-0.6], [0.2]]))


def node_titles(svg: str) -> list[str]:
    return re.findall(r'<g id="[^"]*" class="node">\s*<title>([^<]+)</title>|<g class="node" id="[^"]*">'
                      r"<title>([^<]+)</title>", svg)


@pytest.mark.parametrize("engine", [pytest.param("graphviz", marks=needs_dot), "builtin"])
def test_one_svg_node_per_graph_node(engine, tmp_path):
    g = two_layer_graph()
    svg = viz.graph(g, tmp_path / "graph.svg", engine=engine)
    titles = [a or b for a, b in node_titles(svg)]
    assert sorted(titles) == sorted(node.id for node in g.nodes)
    assert svg.count('class="node"') == len(g)
    edges = sum(len(set(node.parents)) if engine == "builtin" else len(node.parents) for node in g.nodes)
    assert svg.count('class="edge"') == edges
    assert (tmp_path / "graph.svg").read_text() == svg
    assert svg._repr_svg_() == svg and svg.lstrip().startswith("<svg")


@pytest.mark.parametrize("engine", [pytest.param("graphviz", marks=needs_dot), "builtin"])
def test_nodes_show_values_and_gradients(engine):
    g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    svg = viz.graph(g, engine=engine)
    # ∂L/∂x = y cos(xy) + 2x = 2.081 at (0.5, 2); the product node's value is 1
    assert "grad 2.081" in svg and "value 1" in svg and "v2 = v0 · v1" in svg


def test_auto_falls_back_to_the_builtin_layout_without_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = two_layer_graph()
    svg = viz.graph(g)
    assert svg == viz.graph(g, engine="builtin")
    with pytest.raises(FileNotFoundError, match="graphviz"):
        viz.graph(g, engine="graphviz")


def test_builtin_layout_puts_every_node_below_its_parents():
    g = two_layer_graph()
    svg = viz.graph(g, engine="builtin")
    top = {m.group(1): float(m.group(2)) for m in
           re.finditer(r'<g class="node" id="([^"]+)"><title>[^<]+</title><rect x="[^"]+" y="([^"]+)"', svg)}
    for node in g.nodes:
        for parent in node.parents:
            assert top[parent] < top[node.id]


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="cm.trace"):
        viz.graph(lambda x: x)
    with pytest.raises(ValueError, match="engine"):
        viz.graph(two_layer_graph(), engine="neato")
