"""The house style (cm.viz.theme): readable text, one look per optimizer in every panel, paths that cannot hide
each other, visible level lines, formulas as mathematics, jumps drawn as jumps, reference lines that show."""

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.mathtext import MathTextParser

import calcml as cm
from calcml import viz
from calcml.apps import rnn_dynamics
from calcml.viz.theme import LEGEND_FONTSIZE, OPTIMIZER_STYLES
from tests.viz.conftest import by_gid

RACE = ["gd", "momentum", "adam", "newton"]


@pytest.fixture(scope="module")
def race_figure():
    return viz.loss_surface("rosenbrock", RACE, steps=150)


@pytest.fixture(scope="module")
def history():
    data = cm.data.digits()
    model = cm.nn.Sequential(cm.nn.Linear(64, 16, rng=0), cm.nn.ReLU(), cm.nn.Linear(16, 10, rng=1))
    fitted = cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=1e-2), data,
                          epochs=2, validation=data, progress=False)
    with cm.no_grad():
        predicted = np.asarray(model(data.X_test)).argmax(axis=1)
    return fitted, data.y_test, predicted


def legends(figure):
    return [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]


def _drawn(kind):
    return {
        "derivative": lambda: viz.derivative(np.sin, 1.0, secants=(0.5,), points=80),
        "loss_surface": lambda: viz.loss_surface("bowl", ["gd", "adam"], steps=20),
        "learning_rates": lambda: viz.learning_rates("bowl", steps=20),
        "integral": lambda: viz.integral(np.exp, 0.0, 1.0, ns=(4,), exact=float(np.e - 1)),
        "solution_curves": lambda: viz.solution_curves(lambda t, y: -y, [1.0], (0.0, 1.0)),
        "losses": lambda: viz.losses(),
        "confusion_matrix": lambda: viz.confusion_matrix([0, 1, 1], [0, 1, 0]),
    }[kind]()


@pytest.mark.parametrize("kind", ["derivative", "loss_surface", "learning_rates", "integral", "solution_curves",
                                  "losses"])
def test_every_legend_is_readable_when_printed(kind):
    figure = _drawn(kind)
    assert legends(figure), f"{kind} has no legend"
    for legend in legends(figure):
        assert min(text.get_fontsize() for text in legend.get_texts()) >= LEGEND_FONTSIZE


@pytest.mark.parametrize("kind", ["derivative", "integral", "losses", "confusion_matrix"])
def test_titles_and_ticks_are_at_least_ten_points(kind):
    for ax in _drawn(kind).axes:
        assert ax.title.get_fontsize() >= 11
        ticks = ax.xaxis.get_major_ticks() + ax.yaxis.get_major_ticks()
        assert min(tick.label1.get_fontsize() for tick in ticks) >= 10


def test_each_optimizer_has_one_colour_in_the_2d_and_3d_panels(race_figure):
    contour, surface3d = race_figure.axes
    for name in RACE:
        flat, lifted = by_gid(contour, f"path-{name}"), by_gid(surface3d, f"path3d-{name}")
        assert to_rgba(flat.get_color()) == to_rgba(lifted.get_color()) == to_rgba(OPTIMIZER_STYLES[name].color)
        assert flat.get_linestyle() == lifted.get_linestyle()
    colours = {to_rgba(by_gid(contour, f"path-{name}").get_color()) for name in RACE}
    assert len(colours) == len(RACE)


def test_learning_rates_keep_one_colour_per_run_in_both_panels():
    contour, losses = viz.learning_rates("bowl", steps=20).axes
    paths = [line.get_color() for line in contour.lines]
    assert [line.get_color() for line in losses.lines] == paths and len(set(paths)) == 4


def test_gradient_descent_is_drawn_on_top_dashed(race_figure):
    contour, surface3d = race_figure.axes
    for ax, prefix in ((contour, "path-"), (surface3d, "path3d-")):
        orders = {name: by_gid(ax, prefix + name).get_zorder() for name in RACE}
        assert orders["gd"] == max(orders.values()) and len(set(orders.values())) == len(RACE)
        assert by_gid(ax, prefix + "gd").get_linestyle() == "--"
    widths = {name: by_gid(contour, f"path-{name}").get_linewidth() for name in RACE}
    assert widths["gd"] == min(widths.values())  # wider lines lie below: each stays visible around the next
    assert {by_gid(contour, f"path-{name}").get_marker() for name in RACE} == {
        OPTIMIZER_STYLES[name].marker for name in RACE}


def test_3d_paths_are_drawn_over_the_surface(race_figure):
    surface3d = race_figure.axes[1]
    assert surface3d.computed_zorder is False
    surface_order = max(c.get_zorder() for c in surface3d.collections)
    assert all(by_gid(surface3d, f"path3d-{name}").get_zorder() > surface_order for name in RACE)


def test_level_lines_are_dark_enough_to_see(race_figure):
    lines = by_gid(race_figure.axes[0], "level-lines")
    red, green, blue, alpha = to_rgba(lines.get_edgecolor()[0])
    assert max(red, green, blue) < 0.3 and lines.get_alpha() >= 0.5
    assert min(lines.get_linewidths()) >= 0.6


def test_the_race_legend_names_every_optimizer(race_figure):
    labels = [text.get_text() for text in race_figure.axes[0].get_legend().get_texts()]
    for label in ("GD", "momentum 0.9", "Adam", "Newton"):
        assert any(text.startswith(label + " (η") for text in labels)


def test_formula_titles_are_mathtext_not_python():
    title = viz.vector_field("x**2*y + 3*x*y**2", bounds=((-1, 3), (-1, 4)), density=5).axes[0].get_title()
    assert "**" not in title and "$x^{2} y + 3 x y^{2}$" in title
    MathTextParser("path").parse(title[title.index("$"):])  # typesets
    suptitle = viz.loss_surface("x**2 + 10*y**2", ["gd"], steps=5)._suptitle.get_text()
    assert "$x^{2} + 10 y^{2}$" in suptitle


def test_math_text_reads_through_the_safe_parser_and_never_evaluates(monkeypatch):
    import sympy

    monkeypatch.setattr(sympy, "sympify", lambda *a, **k: pytest.fail("sympify was called"))
    assert viz.math_text("sigmoid(w*x + b)") == r"$\sigma\left(b + w x\right)$"
    assert viz.math_text("__import__('os').system('echo hi')") == "__import__('os').system('echo hi')"
    assert viz.math_text("cost in $") == r"cost in \$"
    assert viz.math_text(sympy.Symbol("x") ** 2) == "$x^{2}$"


# ---- losses ---------------------------------------------------------------------------------------------
def test_losses_have_a_legend_on_both_panels():
    fig = viz.losses()
    values, slopes = fig.axes
    for ax in (values, slopes):
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert any(label.startswith("hinge") for label in labels) and any(label.startswith("MSE") for label in labels)


def test_the_hinge_slope_jumps_without_a_vertical_line():
    fig = viz.losses(["hinge"])
    slopes = fig.axes[1]
    m, slope = by_gid(slopes, "slope-hinge").get_data()
    assert np.isnan(slope[m == 1.0]).all()
    finite = np.isfinite(slope)
    steps = np.abs(np.diff(slope))[finite[:-1] & finite[1:]]
    assert steps.max() < 1e-9  # pieces are flat: no segment climbs from −1 to 0
    np.testing.assert_allclose(slope[finite & (m < 1)], -1.0)
    np.testing.assert_allclose(slope[finite & (m > 1)], 0.0)
    limits = by_gid(slopes, "limits-hinge")
    np.testing.assert_allclose(limits.get_ydata(), [-1.0, 0.0])
    assert limits.get_markerfacecolor() == "white"  # open circles
    at = by_gid(slopes, "at-jump-hinge")
    expected = float(cm.grad(lambda m: cm.nn.losses.hinge(m, np.ones(1)))(np.array([1.0]))[0])
    assert at.get_ydata()[0] == expected and to_rgba(at.get_markerfacecolor()) == to_rgba(at.get_color())


def test_losses_refuse_an_unknown_name():
    with pytest.raises(ValueError, match="hinge"):
        viz.losses(["hnge"])


# ---- digits: curves and confusion matrix ----------------------------------------------------------------
def test_classifier_draws_training_and_test_curves_and_the_confusion_matrix(history):
    fitted, y_true, predicted = history
    fig = viz.classifier(fitted, y_true, predicted)
    loss_ax, accuracy_ax, matrix_ax = fig.axes
    np.testing.assert_allclose(by_gid(loss_ax, "val_loss").get_ydata(), fitted.val_loss)
    np.testing.assert_allclose(by_gid(accuracy_ax, "val_accuracy").get_ydata(), 100 * np.array(fitted.val_accuracy))
    for ax in (loss_ax, accuracy_ax):
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "test"]
    counts = matrix_ax.images[0].get_array()
    assert counts.sum() == len(y_true) and np.trace(counts) == np.sum(y_true == predicted)
    assert counts[3, 5] == np.sum((y_true == 3) & (predicted == 5))
    assert f"{np.mean(y_true == predicted):.2%}" in matrix_ax.get_title()


def test_without_test_curves_the_test_accuracy_is_a_point(history):
    fitted, y_true, predicted = history
    fig = viz.classifier(cm.train.History(loss=fitted.loss, accuracy=fitted.accuracy), y_true, predicted)
    point = by_gid(fig.axes[1], "test-accuracy")
    assert point.get_ydata()[0] == pytest.approx(100 * np.mean(y_true == predicted))


def test_confusion_matrix_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="must match"):
        viz.confusion_matrix([0, 1], [0])


# ---- the RNN picture's reference lines ------------------------------------------------------------------
def test_rnn_reference_lines_are_drawn_over_their_measured_lines_and_named():
    studies = rnn_dynamics.through_time_study(radii=(0.9, 1.1), steps=12, hidden=4, windows=2)
    runs = [rnn_dynamics.train_next_value(0.9, steps=3, hidden=4, windows=4, length=10),
            rnn_dynamics.train_next_value(2.5, 5.0, steps=3, hidden=4, windows=4, length=10)]
    fig = viz.rnn_gradients(studies, studies, runs)
    small = fig.axes[0]
    for study in studies:
        reference = by_gid(small, f"reference-{study.radius:g}")
        measured = next(line for line in small.lines if line.get_label().startswith(f"ρ = {study.radius:.2g}"))
        assert reference.get_zorder() > measured.get_zorder()
        assert to_rgba(reference.get_color()) != to_rgba(measured.get_color())
    assert any("rho^{T-t}" in text.get_text() for text in small.get_legend().get_texts())
    bound = by_gid(fig.axes[3], "bound-1")
    assert bound.get_ydata()[0] == pytest.approx(runs[1].lr * 5.0)
    assert any("lr·c" in text.get_text() for text in fig.axes[3].get_legend().get_texts())


# ---- the graph drawing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["builtin", "graphviz"])
def test_graph_prints_a_negative_zero_as_zero(engine):
    import shutil

    if engine == "graphviz" and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    g = cm.trace(lambda x: np.sum(-x * np.tanh(x)), 0.0)
    assert np.signbit(g["v1"].value)  # −x at x = 0 is −0.0: the picture prints the graph's own "0"
    svg = viz.graph(g, engine=engine)
    assert "value 0" in svg and "value -0" not in svg and "value &#45;0<" not in svg
