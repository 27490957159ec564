"""cm.viz pictures: what is drawn is what was computed (lines, slopes, rectangles, arrows, paths)."""

import numpy as np
import pytest

import calcml as cm
from calcml import viz
from calcml.optim.race import SURFACES, race
from tests.viz.conftest import by_gid


# ---- derivative ---------------------------------------------------------------------------------------
def test_tangent_slope_is_the_derivative_and_secants_are_difference_quotients():
    x0, secants = 0.7, (1.0, 0.5, 0.1)
    fig = viz.derivative(np.sin, x0, secants=secants)
    ax, bx = fig.axes
    assert len(ax.lines) == 2 + len(secants)
    x, y = by_gid(ax, "tangent").get_data()
    assert (y[-1] - y[0]) / (x[-1] - x[0]) == pytest.approx(np.cos(x0), rel=1e-12)
    assert y[np.argmin(abs(x - x0))] == pytest.approx(np.sin(x0) + np.cos(x0) * (x[np.argmin(abs(x - x0))] - x0))
    for h in secants:
        x, y = by_gid(ax, f"secant-{h:g}").get_data()
        assert (y[-1] - y[0]) / (x[-1] - x[0]) == pytest.approx((np.sin(x0 + h) - np.sin(x0)) / h, rel=1e-10)
    x, y = by_gid(bx, "derivative").get_data()
    np.testing.assert_allclose(y, np.cos(x), atol=1e-14)


def test_derivative_of_a_formula_and_its_labels_in_the_svg():
    fig = viz.derivative("x**3 - 2*x", 1.5, secants=(0.5,))
    x, y = by_gid(fig.axes[1], "derivative").get_data()
    np.testing.assert_allclose(y, 3 * x ** 2 - 2, atol=1e-12)
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "f(x) = $x^{3} - 2 x$"  # mathtext, not Python's x**3 - 2*x
    svg = viz.svg_text(fig)
    assert "slope f'(1.5) = 4.75" in svg and "secant h = 0.5" in svg


# ---- loss surface -------------------------------------------------------------------------------------
def test_loss_surface_paths_end_at_the_optimizers_final_iterates():
    names = ["gd", "momentum", "adam", "newton"]
    fig = viz.loss_surface("rosenbrock", names, start=(-1.2, 1.0), steps=300)
    contour = fig.axes[0]
    assert len(contour.lines) == len(names)
    # Adam driven by hand through cm.optim must end where the drawn path ends
    w = cm.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = cm.optim.Adam([w], lr=SURFACES["rosenbrock"].adaptive_lr)
    for _ in range(300):
        w.grad = cm.grad(SURFACES["rosenbrock"].loss)(w.value.copy())
        opt.step()
    xy = by_gid(contour, "path-adam").get_xydata()
    np.testing.assert_allclose(xy[-1], w.value, atol=1e-12)
    for run in fig.race.runs:
        np.testing.assert_array_equal(by_gid(contour, f"path-{run.name}").get_xydata(), run.path)
    assert fig.race["newton"].final_loss < 1e-20  # Newton reaches (1, 1) on Rosenbrock
    labels = [t.get_text() for t in contour.get_legend().get_texts()]
    assert any(label.startswith("Newton (η = 1)") for label in labels)


def test_loss_surface_views_and_3d_paths_lie_on_the_surface():
    fig = viz.loss_surface("himmelblau", ["gd", "adam"], steps=100, view="3d")
    assert len(fig.axes) == 1 and fig.axes[0].name == "3d"
    run = fig.race["gd"]
    x, y, z = by_gid(fig.axes[0], "path3d-gd").get_data_3d()
    np.testing.assert_allclose(z, [SURFACES["himmelblau"].loss(p) for p in zip(x, y)], rtol=1e-12)
    np.testing.assert_array_equal(x, run.path[:, 0])
    assert len(viz.loss_surface(fig.race, view="contour").axes) == 1
    assert [ax.name for ax in viz.loss_surface(fig.race).axes] == ["rectilinear", "3d"]
    with pytest.raises(ValueError, match="view"):
        viz.loss_surface(fig.race, view="top")


def test_learning_rates_picture_has_four_paths_and_their_losses():
    fig = viz.learning_rates("bowl", steps=40)
    contour, losses = fig.axes
    assert len(contour.lines) == 4 and len(losses.lines) == 4
    for run in fig.race.runs:
        np.testing.assert_allclose(by_gid(losses, f"loss-{run.label}").get_ydata(), run.losses, rtol=1e-15)
    svg = viz.svg_text(fig)
    for verdict in ("too small", "right", "too large", "divergent"):
        assert f"({verdict})" in svg


# ---- vector field -------------------------------------------------------------------------------------
def test_vector_field_arrows_point_along_minus_the_gradient():
    fig = viz.vector_field("x**2 + 3*y**2", bounds=((-2, 2), (-1, 1)), density=9)
    arrows = by_gid(fig.axes[0], "negative-gradient")
    X, Y = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-1, 1, 9))
    U, V = -2 * X, -6 * Y
    norm = np.hypot(U, V)
    norm[norm == 0] = 1
    np.testing.assert_allclose(arrows.U.ravel(), (U / norm).ravel(), atol=1e-14)
    np.testing.assert_allclose(arrows.V.ravel(), (V / norm).ravel(), atol=1e-14)
    np.testing.assert_allclose(arrows.get_offsets(), np.column_stack([X.ravel(), Y.ravel()]))


# ---- integral -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["left", "midpoint", "right"])
def test_riemann_rectangles_count_and_area(rule):
    # ∫₀¹ x² = 1/3; left sum 1/3 − 1/(2n) + 1/(6n²), midpoint 1/3 − 1/(12n²), right 1/3 + 1/(2n) + 1/(6n²)
    closed = {"left": lambda n: 1 / 3 - 1 / (2 * n) + 1 / (6 * n * n), "midpoint": lambda n: 1 / 3 - 1 / (12 * n * n),
              "right": lambda n: 1 / 3 + 1 / (2 * n) + 1 / (6 * n * n)}[rule]
    ns = (4, 16, 64)
    fig = viz.integral("x**2", 0, 1, ns=ns, rule=rule)
    for ax, n in zip(fig.axes, ns):
        bars = by_gid(ax, f"riemann-{n}")
        assert len(bars) == n
        area = sum(p.get_width() * p.get_height() for p in bars.patches)
        assert area == pytest.approx(closed(n), rel=1e-12)
        assert viz.riemann_sum(lambda x: x ** 2, 0, 1, n, rule) == pytest.approx(closed(n), rel=1e-12)
    assert "= 0.3333333333" in fig._suptitle.get_text() and "SymPy" in fig._suptitle.get_text()
    errors = by_gid(fig.axes[-1], "error-midpoint").get_ydata()
    counts = by_gid(fig.axes[-1], "error-midpoint").get_xdata()
    np.testing.assert_allclose(errors, 1 / (12 * counts.astype(float) ** 2), rtol=1e-6)


def test_integral_of_a_function_uses_quadrature_for_the_exact_value():
    fig = viz.integral(np.sin, 0, np.pi, ns=(8,))
    assert "dx = 2$" in fig._suptitle.get_text() and "quad" in fig._suptitle.get_text()


# ---- ODEs ---------------------------------------------------------------------------------------------
def test_solution_curves_end_at_the_solvers_answer():
    fig = viz.solution_curves(lambda t, y: -0.5 * y, [1.0, 2.0], (0.0, 4.0),
                                exact=lambda t: np.exp(-0.5 * t) * np.array([1.0, 2.0]))
    ax = fig.axes[0]
    assert {line.get_gid() for line in ax.lines} == {"y0", "y1", "steps-y0", "steps-y1", "exact-y0", "exact-y1"}
    x, y = by_gid(ax, "y1").get_data()
    assert x[-1] == 4.0 and y[-1] == pytest.approx(2 * np.exp(-2.0), rel=1e-5)
    np.testing.assert_array_equal(by_gid(ax, "steps-y0").get_ydata(), fig.solution.y[:, 0])


def test_phase_portrait_trajectories_follow_the_flow():
    # x'' = −x: orbits are circles of the start's radius
    starts = [(1.0, 0.0), (0.0, 2.0)]
    fig = viz.phase_portrait(lambda t, y: np.array([y[1], -y[0]]), starts, (0.0, 2 * np.pi))
    ax = fig.axes[0]
    assert len(ax.lines) == len(starts)
    for i, start in enumerate(starts):
        x, y = by_gid(ax, f"trajectory-{i}").get_data()
        np.testing.assert_allclose(np.hypot(x, y), np.hypot(*start), rtol=1e-5)
    arrows = by_gid(ax, "direction-field")
    assert arrows.U.size == 21 * 21


# ---- training -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def history():
    data = cm.data.spirals(n_per_class=40, seed=0)
    model = cm.nn.Sequential(cm.nn.Linear(2, 8, rng=0), cm.nn.Tanh(), cm.nn.Linear(8, 8, rng=1), cm.nn.Tanh(),
                             cm.nn.Linear(8, 2, rng=2))
    return cm.train.fit(model, cm.nn.losses.cross_entropy, cm.optim.Adam(model.parameters(), lr=0.01),
                        (data.X, data.y), epochs=4, batch_size=20, progress=False,
                        callbacks=[cm.train.GradNormMonitor(warn=False)])


def test_grad_norms_one_line_per_layer_with_the_recorded_norms(history):
    fig = viz.grad_norms(history)
    ax = fig.axes[0]
    assert len(ax.lines) == len(history.grad_norms) == 3
    for layer, values in history.grad_norms.items():
        np.testing.assert_allclose(by_gid(ax, f"layer-{layer}").get_ydata(), values)
    assert "layer 0" in viz.svg_text(fig)


def test_training_curves_show_the_history(history):
    fig = viz.training_curves(history)
    loss_ax, accuracy_ax = fig.axes
    np.testing.assert_allclose(by_gid(loss_ax, "loss").get_ydata(), history.loss)
    np.testing.assert_array_equal(by_gid(loss_ax, "loss").get_xdata(), np.arange(1, history.epochs + 1))
    np.testing.assert_allclose(by_gid(accuracy_ax, "accuracy").get_ydata(), 100 * np.array(history.accuracy))


def test_empty_history_is_a_clear_error():
    with pytest.raises(ValueError, match="no epochs"):
        viz.training_curves(cm.train.History())
    with pytest.raises(ValueError, match="GradNormMonitor"):
        viz.grad_norms(cm.train.History())


# ---- saving and determinism ---------------------------------------------------------------------------
def test_saved_files_are_byte_for_byte_reproducible(tmp_path):
    result = race("beale", ["adam"], steps=50)
    for suffix in ("svg", "png"):
        a = viz.save(viz.loss_surface(result, view="contour"), tmp_path / f"a.{suffix}").read_bytes()
        b = viz.save(viz.loss_surface(result, view="contour"), tmp_path / f"b.{suffix}").read_bytes()
        assert a == b
    svg = (tmp_path / "a.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    png = (tmp_path / "a.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in png
    with pytest.raises(ValueError, match=".png, .svg or .pdf"):
        viz.save(viz.derivative(np.sin), tmp_path / "picture.jpeg")
