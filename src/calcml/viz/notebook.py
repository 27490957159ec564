"""Jupyter shows results as pictures: formatters registered from here, so that the lower layers
(the engine, training) never import the picture layer.

Registered for the running IPython kernel (nothing happens outside Jupyter/IPython):
a traced ``Graph`` as its graph drawing, a training ``History`` as its curves, an ODE solution
(``OdeResult``) as its components against time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff.graph import Graph
from calcml.ode.solve import OdeResult
from calcml.train.history import History
from calcml.viz.graph import graph
from calcml.viz.output import new_figure, svg_text
from calcml.viz.theme import themed
from calcml.viz.training import training_curves


@themed
def ode_solution_picture(result: OdeResult) -> str:
    """Each component y_i(t) of a solved ODE against t, with the solver's steps marked."""
    figure = new_figure(6.0, 3.5)
    axes = figure.add_subplot()
    components = np.asarray(result.y).reshape(len(result.t), -1)
    for i in range(components.shape[1]):
        axes.plot(result.t, components[:, i], marker=".", markersize=3, label=f"y[{i}]")
    axes.set_xlabel("t")
    axes.set_title(f"{result.method}: {result.steps} steps, {result.nfev} evaluations")
    axes.legend()
    return svg_text(figure)


SVG_PICTURES: dict[type, Callable[[Any], str]] = {
    Graph: lambda g: str(graph(g)),
    History: lambda history: svg_text(training_curves(history)),
    OdeResult: ode_solution_picture,
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
