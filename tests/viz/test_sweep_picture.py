"""cm.viz.sweep: what is drawn is the sweep's table (mean over seeds, min–max band, every seed), and the
picture of a deterministic sweep matches its golden SVG.

Regenerate after an intended change:  CALCML_UPDATE_GOLDEN=1 pytest tests/viz/test_sweep_picture.py
"""

from __future__ import annotations

import numpy as np
import pytest

import calcml as cm
from calcml import viz
from tests.viz.conftest import by_gid


def final_loss(lr: float, optimizer: str, seed: int) -> float:
    """A made-up final loss: a valley in log lr per optimizer, shifted a little by the seed."""
    best = {"sgd": 1e-1, "adam": 3e-3}[optimizer]
    if optimizer == "sgd" and lr < 2e-3:
        raise FloatingPointError("too slow to say")
    return float(0.05 + 0.2 * np.log10(lr / best) ** 2 + 0.02 * np.sin(3 * seed + 10 * lr))


def race() -> cm.sweep.SweepResult:
    return cm.sweep(final_loss, {"lr": [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], "optimizer": ["sgd", "adam"]}, seeds=4,
                    backend="serial", progress=False)


def test_the_lines_are_the_mean_band_and_seeds_of_the_table():
    result = race()
    fig = viz.sweep(result, "value", "lr")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    for name in ("sgd", "adam"):
        rows = [r for r in result.summary("value") if r["optimizer"] == name and r["n"] > 0]
        x, y = by_gid(ax, f"mean-{name}").get_data()
        np.testing.assert_allclose(x, [r["lr"] for r in rows])
        np.testing.assert_allclose(y, [np.mean([final_loss(r["lr"], name, s) for s in range(4)]) for r in rows])
        band = by_gid(ax, f"spread-{name}").get_paths()[0].vertices
        assert band[:, 1].max() == pytest.approx(max(r["max"] for r in rows))
        assert band[:, 1].min() == pytest.approx(min(r["min"] for r in rows))
        _, seeds = by_gid(ax, f"seeds-{name}").get_data()
        assert len(seeds) == 4 * len(rows)
    assert "(4 failed runs left out)" in ax.get_title()  # sgd at lr 1e-3, every seed
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sgd", "adam"]


def test_a_categorical_parameter_and_bad_names():
    result = cm.sweep(lambda optimizer, seed: {"acc": 0.9 + 0.01 * seed + (optimizer == "adam") * 0.05},
                      {"optimizer": ["sgd", "adam"]}, seeds=3, backend="serial", progress=False)
    ax = viz.sweep(result).axes[0]
    x, y = by_gid(ax, "mean-").get_data()
    np.testing.assert_allclose(x, [0, 1])
    np.testing.assert_allclose(y, [0.91, 0.96])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "adam"]
    with pytest.raises(cm.sweep.SweepInputError, match="no output 'loss'"):
        viz.sweep(result, "loss")
    with pytest.raises(cm.sweep.SweepInputError, match="no parameter 'lr'"):
        viz.sweep(result, "acc", "lr")


def test_sweep_picture_golden(golden):
    golden("sweep-final-loss", viz.svg_text(viz.sweep(race(), "value", "lr")))
