"""Deterministic figures: one style for every picture, and saving to PNG/SVG with no dates or versions inside.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``, drawn by Agg), never through
pyplot, so nothing global changes and no figure stays open. SVG text is kept as text (``svg.fonttype =
"none"``) so labels can be searched, and ids come from a fixed salt, so the same figure gives the same bytes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

STYLE = {
    "svg.hashsalt": "calcml",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100.0,
    "savefig.dpi": 100.0,
    "path.simplify": False,  # keep every point of a trajectory
    "axes.prop_cycle": matplotlib.cycler(color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]),
}
METADATA = {
    ".svg": {"Date": None, "Creator": "calcml"},
    ".png": {"Software": None},
    ".pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "calcml"},
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """calcml's plotting style, for building and for saving a figure."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A figure of its own (not registered with pyplot), with constrained layout."""
    with style():
        return Figure(figsize=(width, height), layout="constrained")


def save(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` to ``path`` (.png, .svg or .pdf, by the suffix), creating folders; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in METADATA:
        raise ValueError(f"cannot tell the picture format of {str(path)!r}: end the name in .png, .svg or .pdf.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with style():
        figure.savefig(path, format=suffix[1:], metadata=METADATA[suffix])
    return path


def svg_text(figure: Figure) -> str:
    """The figure as SVG text (deterministic)."""
    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg", metadata=METADATA[".svg"])
    return buffer.getvalue()


def finish(figure: Figure, path: str | Path | None) -> Figure:
    """Save when a path was given; return the figure."""
    if path is not None:
        save(figure, path)
    return figure


class SvgImage(str):
    """SVG text that Jupyter shows as a picture (``_repr_svg_``); otherwise an ordinary string."""

    def _repr_svg_(self) -> str:
        return str(self)
