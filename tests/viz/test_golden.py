"""Golden pictures: SVGs of deterministic pictures (ids normalized, metadata dropped, compared exactly) and PNGs of
the house-style figures (compared within a tolerance, with their legends asserted as artists too).

Regenerate after an intended change, then look at every rewritten PNG before committing:
    CALCML_UPDATE_GOLDEN=1 pytest tests/viz/test_golden.py
"""

import numpy as np
import pytest

import calcml as cm
from calcml import viz
from calcml.optim.race import Surface
from calcml.viz.theme import LEGEND_FONTSIZE
from tests.viz.conftest import GOLDEN, PNG_TOLERANCE, UPDATE, png_difference

QUADRATIC = Surface("quadratic", "5x² + ½y² − x − y", lambda x, y: 5.0 * x ** 2 + 0.5 * y ** 2 - x - y,
                    bounds=((-1.5, 1.5), (-1.0, 3.0)), start=(-1.0, 2.0), minima=((0.1, 1.0),), minimum_value=-0.55,
                    lr=0.1, adaptive_lr=0.1)


def race_figure():
    return viz.loss_surface(QUADRATIC, ["gd", "momentum", "adam", "newton"], steps=50)


def assert_readable_legend(ax, entries: int) -> None:
    legend = ax.get_legend()
    assert legend is not None, "the legend was dropped"
    assert len(legend.get_texts()) == entries
    assert all(text.get_fontsize() >= LEGEND_FONTSIZE for text in legend.get_texts())


def test_derivative_of_sine(golden):
    golden("derivative-sin", viz.svg_text(viz.derivative(np.sin, 1.0, secants=(1.0, 0.5, 0.25), points=120)))


def test_riemann_midpoint(golden):
    golden("integral-x-squared", viz.svg_text(viz.integral("x**2", 0, 1, ns=(4, 8))))


def test_builtin_graph_layout(golden):
    g = cm.trace(lambda x, y: np.sin(x * y) + x ** 2, 0.5, 2.0)
    golden("graph-builtin", viz.graph(g, engine="builtin"), depends_on_matplotlib=False)


def test_optimizer_race(golden_png):
    figure = race_figure()
    golden_png("race", figure)
    assert_readable_legend(figure.axes[0], 6)  # four optimizers, the start, the minimum


def test_losses_and_their_derivatives(golden_png):
    figure = viz.losses()
    golden_png("losses", figure)
    assert_readable_legend(figure.axes[0], 4)
    assert_readable_legend(figure.axes[1], 6)  # four slopes, the one-sided limits, cm.grad at the jump


def test_confusion_matrix(golden_png):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 300)
    y_pred = np.where(rng.random(300) < 0.85, y_true, rng.integers(0, 10, 300))
    golden_png("confusion-matrix", viz.confusion_matrix(y_true, y_pred))


def test_digits_classifier(golden_png):
    history = cm.train.History(loss=[1.2, 0.45, 0.25, 0.17, 0.12], accuracy=[0.70, 0.89, 0.94, 0.96, 0.97],
                               val_loss=[0.60, 0.38, 0.27, 0.22, 0.20], val_accuracy=[0.84, 0.90, 0.93, 0.94, 0.95])
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 10, 360)
    y_pred = np.where(rng.random(360) < 0.95, y_true, rng.integers(0, 10, 360))
    figure = viz.classifier(history, y_true, y_pred)
    golden_png("digits-classifier", figure)
    assert_readable_legend(figure.axes[0], 2)  # training and test, on both curve panels
    assert_readable_legend(figure.axes[1], 2)


@pytest.mark.skipif(UPDATE, reason="compares against the goldens being rewritten")
def test_a_dropped_legend_fails_the_png_comparison(tmp_path):
    figure = race_figure()
    assert png_difference(figure, GOLDEN / "race.png", tmp_path) <= PNG_TOLERANCE
    figure.axes[0].get_legend().remove()
    assert png_difference(figure, GOLDEN / "race.png", tmp_path) > 5 * PNG_TOLERANCE
