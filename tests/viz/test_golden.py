"""Golden SVGs of deterministic pictures (ids normalized; metadata dropped).

Regenerate after an intended change:  CALCML_UPDATE_GOLDEN=1 pytest tests/viz/test_golden.py
"""

import numpy as np

import calcml as cm
from calcml import viz


def test_derivative_of_sine(golden):
    golden("derivative-sin", viz.svg_text(viz.derivative(np.sin, 1.0, secants=(1.0, 0.5, 0.25), points=120)))


def test_riemann_midpoint(golden):
    golden("integral-x-squared", viz.svg_text(viz.integral("x**2", 0, 1, ns=(4, 8))))


def test_builtin_graph_layout(golden):
    g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    golden("graph-builtin", viz.graph(g, engine="builtin"), depends_on_matplotlib=False)
