"""The picture of a sweep: an output against one parameter (final loss against learning rate), one line per
value of the other parameters (per optimizer), with the spread over seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from calcml.sweep.errors import SweepInputError
from calcml.sweep.result import SweepResult
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import CYCLE, optimizer_style, theme


def sweep(result: SweepResult, y: str | None = None, x: str | None = None, *, logx: bool | None = None,
          logy: bool | None = None, path: str | Path | None = None) -> Figure:
    """``y`` against the parameter ``x``, one line per combination of the other varied parameters: the line is the
    mean over seeds (gid ``mean-<label>``), the band their min–max (``spread-<label>``), the dots every seed
    (``seeds-<label>``). Failed runs are left out and counted in the title.

    Defaults: ``y`` the first output, ``x`` the first numeric parameter; log axes when the values are positive
    and span a decade or more.

    >>> result = cm.sweep(lambda lr, optimizer, seed: {"loss": lr * (1 + seed) * (2 if optimizer == "sgd" else 1)},
    ...                   {"lr": [0.01, 0.1, 1.0], "optimizer": ["sgd", "adam"]}, seeds=3, backend="serial",
    ...                   progress=False)
    >>> fig = cm.viz.sweep(result, "loss", "lr")
    >>> [line.get_gid() for line in fig.axes[0].lines if line.get_gid().startswith("mean")]
    ['mean-sgd', 'mean-adam']
    """
    y = y if y is not None else _first(result.outputs, "output")
    x = x if x is not None else _first([p for p in result.params if _numeric(result, p)] or result.params, "param")
    for name, kind, known in ((y, "output", result.outputs), (x, "parameter", result.params)):
        if name not in known:
            raise SweepInputError(f"the sweep has no {kind} {name!r}; its {kind}s are: {', '.join(known)}.")
    others = [p for p in result.params if p != x and len({repr(r.get(p)) for r in result.records}) > 1]
    summary = result.summary(y)
    rows = [r for r in summary if r["n"] > 0]
    if not rows:
        raise SweepInputError(f"no run of the sweep gave a number for {y!r} (failures: {len(result.failures)}); "
                              "nothing to draw.")
    numeric_x = _numeric(result, x)
    categories = list(dict.fromkeys(r[x] for r in summary))
    position = (lambda v: float(v)) if numeric_x else (lambda v: float(categories.index(v)))
    groups: dict[str, list[dict[str, Any]]] = {_label(row, others): [] for row in summary}  # in grid order
    for row in rows:
        groups[_label(row, others)].append(row)
    groups = {label: members for label, members in groups.items() if members}
    seeds = [r for r in result.records if r.get("error") is None and isinstance(r.get(y), (int, float))]
    with theme():
        fig = new_figure(7.5, 4.6)
        ax = fig.add_subplot()
        for index, (label, members) in enumerate(groups.items()):
            members = sorted(members, key=lambda r: position(r[x]))
            style = optimizer_style(label, index) if others == ["optimizer"] else None
            color = style.color if style else CYCLE[index % len(CYCLE)]
            xs = np.array([position(r[x]) for r in members])
            ax.fill_between(xs, [r["min"] for r in members], [r["max"] for r in members], color=color, alpha=0.18,
                            linewidth=0, gid=f"spread-{label}")
            ax.plot(xs, [r["mean"] for r in members], color=color, marker=style.marker if style else "o",
                    linestyle=style.linestyle if style else "-", label=label or y, gid=f"mean-{label}")
            own = [r for r in seeds if _label(r, others) == label]
            ax.plot([position(r.get(x)) for r in own], [float(r[y]) for r in own], linestyle="none", marker=".",
                    color=color, alpha=0.6, gid=f"seeds-{label}")
        _scale(ax, "x", logx, [position(r[x]) for r in rows] if numeric_x else [])
        _scale(ax, "y", logy, [float(r[y]) for r in seeds])
        if not numeric_x:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        n_seeds = len({r.get("seed") for r in result.records})
        failed = len(result.failures)
        ax.set_title(f"{y} against {x}: mean of {n_seeds} seed{'s' if n_seeds != 1 else ''}, band min–max"
                     + (f" ({failed} failed run{'s' if failed != 1 else ''} left out)" if failed else ""))
        if len(groups) > 1 or others:
            ax.legend(title=", ".join(others) or None)
    return finish(fig, path)


def _first(names: Any, kind: str) -> str:
    if not names:
        raise SweepInputError(f"the sweep has no {kind}s to draw.")
    return list(names)[0]


def _numeric(result: SweepResult, name: str) -> bool:
    values = [r.get(name) for r in result.records]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _label(row: dict[str, Any], names: list[str]) -> str:
    if len(names) == 1:
        return str(row.get(names[0]))
    return ", ".join(f"{name}={row.get(name)}" for name in names)


def _scale(ax: Any, axis: str, log: bool | None, values: list[float]) -> None:
    """A log axis when asked, or by default when the values are positive and span a decade or more."""
    finite = np.array([v for v in values if np.isfinite(v)])
    if log is None:
        log = bool(finite.size) and bool(np.all(finite > 0)) and finite.max() >= 10 * finite.min()
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
