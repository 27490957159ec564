"""calcml's house style for every figure: sizes readable when printed, and one look per optimizer.

``theme()`` is the matplotlib style (a context manager; ``themed`` applies it to a whole drawing function);
``optimizer_style(name)`` is the colour, line style, marker and z-order of an optimizer's path — the same in
every panel, 2-D or 3-D, so "Adam" is the same orange line wherever it is drawn. Gradient descent is drawn on
top of the others, dashed and thinner, so a path running along its path cannot hide it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, ParamSpec, TypeVar

import matplotlib
from cycler import cycler

CYCLE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
         "#bcbd22"]
LEGEND_FONTSIZE = 10.0  # the smallest text of a figure: still readable on paper at 100 dpi
HOUSE_STYLE: dict[str, Any] = {
    "svg.hashsalt": "calcml",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 11.0,
    "axes.titlesize": 12.0,
    "axes.labelsize": 11.0,
    "figure.titlesize": 13.0,
    "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0,
    "legend.fontsize": LEGEND_FONTSIZE,
    "legend.title_fontsize": LEGEND_FONTSIZE,
    "legend.framealpha": 0.9,
    "lines.linewidth": 2.0,
    "lines.markersize": 5.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "mathtext.fontset": "dejavusans",
    "figure.dpi": 100.0,
    "savefig.dpi": 100.0,
    "path.simplify": False,  # keep every point of a trajectory
    "axes.prop_cycle": cycler(color=CYCLE),
}


class PathStyle(NamedTuple):
    """How one optimizer's path is drawn, in every panel (keyword arguments of ``Axes.plot``)."""

    color: str
    linestyle: str
    marker: str
    zorder: float
    linewidth: float

    def plot_kwargs(self) -> dict:
        """``color``, ``linestyle``, ``marker``, ``zorder`` and ``linewidth`` for ``ax.plot``."""
        return self._asdict()


# GD on top (highest z-order), dashed and thin; the others solid, wider the further down they are drawn
OPTIMIZER_STYLES: dict[str, PathStyle] = {
    "gd": PathStyle("#111111", "--", "s", 4.8, 1.8),
    "newton": PathStyle("#2ca02c", "-", "*", 4.7, 2.0),
    "momentum": PathStyle("#1f77b4", "-", "o", 4.6, 2.2),
    "nesterov": PathStyle("#17becf", "-", "v", 4.5, 2.4),
    "adagrad": PathStyle("#9467bd", "-", "D", 4.4, 2.6),
    "rmsprop": PathStyle("#8c564b", "-", "P", 4.3, 2.8),
    "adamw": PathStyle("#e377c2", "-", "X", 4.2, 3.0),
    "adam": PathStyle("#ff7f0e", "-", "^", 4.1, 3.2),
}
OTHER_MARKERS = "o^sDvP"


def optimizer_style(name: str, index: int = 0) -> PathStyle:
    """The look of optimizer ``name`` ("gd", "adam", an alias such as "sgd"); another name gets the
    ``index``-th colour of the house cycle.

    >>> cm.viz.optimizer_style("adam").color
    '#ff7f0e'
    """
    from calcml.optim.catalog import canonical_name

    key = canonical_name(name)
    if key in OPTIMIZER_STYLES:
        return OPTIMIZER_STYLES[key]
    return PathStyle(CYCLE[index % len(CYCLE)], "-", OTHER_MARKERS[index % len(OTHER_MARKERS)], 4.0 - 0.01 * index,
                     2.0)


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """calcml's house style, for building and for saving a figure.

    >>> import matplotlib
    >>> with cm.viz.theme():
    ...     print(matplotlib.rcParams["legend.fontsize"])
    10.0
    """
    with matplotlib.rc_context(HOUSE_STYLE):  # type: ignore[arg-type]  # keys checked by matplotlib
        yield


P = ParamSpec("P")
R = TypeVar("R")


def themed(draw: Callable[P, R]) -> Callable[P, R]:
    """``draw`` run inside ``theme()``: every axes, line and legend it makes takes the house style."""

    @functools.wraps(draw)
    def drawing(*args: P.args, **kwargs: P.kwargs) -> R:
        with theme():
            return draw(*args, **kwargs)

    return drawing
