"""Deterministic figures: new figures in the house style (``calcml.viz.theme``), saved as PNG/SVG/PDF with no
dates or versions inside.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``, drawn by Agg), never through
pyplot, so nothing global changes and no figure stays open. SVG text is kept as text (``svg.fonttype =
"none"``) so labels can be searched, and ids come from a fixed salt, so the same figure gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.figure import Figure

from calcml.viz.theme import theme

METADATA = {
    ".svg": {"Date": None, "Creator": "calcml"},
    ".png": {"Software": None},
    ".pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "calcml"},
}


def new_figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A figure of its own (not registered with pyplot), with constrained layout."""
    with theme():
        return Figure(figsize=(width, height), layout="constrained")


def save(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` to ``path`` (.png, .svg or .pdf, by the suffix), creating folders; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in METADATA:
        raise ValueError(f"cannot tell the picture format of {str(path)!r}: end the name in .png, .svg or .pdf.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with theme():
        figure.savefig(path, format=suffix[1:], metadata=METADATA[suffix])
    return path


def svg_text(figure: Figure) -> str:
    """The figure as SVG text (deterministic)."""
    buffer = io.StringIO()
    with theme():
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
