"""Jupyter shows results as pictures: formatters registered from here, so that the lower layers
(the engine, training) never import the picture layer.

Registered for the running IPython kernel (nothing happens outside Jupyter/IPython):
a traced ``Graph`` as its graph drawing, a training ``History`` as its curves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calcml.autodiff.graph import Graph
from calcml.train.history import History
from calcml.viz.graph import graph
from calcml.viz.output import svg_text
from calcml.viz.training import training_curves

SVG_PICTURES: dict[type, Callable[[Any], str]] = {
    Graph: lambda g: str(graph(g)),
    History: lambda history: svg_text(training_curves(history)),
}


def register_svg_formatters(shell: Any = None) -> bool:
    """Teach IPython's SVG formatter the pictures above; returns False when no IPython shell runs."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["image/svg+xml"]
    for cls, draw in SVG_PICTURES.items():
        formatter.for_type(cls, draw)
    return True
