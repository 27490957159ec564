"""The optimizer race (calcml.optim.race): paths equal the optimizers' own iterates, outcomes are honest."""

import numpy as np
import pytest

import calcml as cm
from calcml.optim.race import (
    SURFACES,
    RaceError,
    Surface,
    learning_rate_comparison,
    race,
    run_optimizer,
    surface,
)
from calcml.symbolic import ParseError


def iterate_by_hand(f, start, make, steps):
    """The same optimizer driven directly through cm.optim and cm.grad."""
    w = cm.Tensor(np.array(start, dtype=float), requires_grad=True)
    opt = make([w])
    points = [w.value.copy()]
    for _ in range(steps):
        w.grad = cm.grad(f)(w.value.copy())
        opt.step()
        points.append(w.value.copy())
    return np.array(points)


@pytest.mark.parametrize("name, make", [
    ("gd", lambda p: cm.optim.SGD(p, lr=1e-3)),
    ("nesterov", lambda p: cm.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True)),
    ("adam", lambda p: cm.optim.Adam(p, lr=0.05)),
])
def test_path_is_the_optimizers_sequence_of_iterates(name, make):
    rosenbrock = SURFACES["rosenbrock"]
    lr = 0.05 if name == "adam" else 1e-3
    result = race("rosenbrock", [name], start=(-1.2, 1.0), lr=lr, steps=300)
    expected = iterate_by_hand(lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, (-1.2, 1.0), make, 300)
    np.testing.assert_allclose(result.runs[0].path, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.runs[0].losses, [rosenbrock.loss(p) for p in expected], rtol=1e-12)


def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    # f = ½(x² + 20y²): p_k = (I − ηA)^k p₀ with A = diag(1, 20)
    run = race("quadratic", ["gd"], start=(-4.5, 1.5), lr=0.05, steps=40).runs[0]
    factors = np.array([1 - 0.05 * 1.0, 1 - 0.05 * 20.0])
    expected = np.array([[-4.5, 1.5] * factors ** k for k in range(41)])
    np.testing.assert_allclose(run.path, expected, atol=1e-14)


def test_newton_lands_on_a_quadratics_minimum_in_one_step():
    run = race("quadratic", ["newton"], start=(3.0, -2.0), steps=5).runs[0]
    np.testing.assert_allclose(run.path[1], [0.0, 0.0], atol=1e-14)
    assert run.steps_to_tolerance == 1 and run.status == "converged"


def test_newton_on_the_saddle_fails_cleanly():
    run = race("saddle", ["newton"], steps=10).runs[0]
    assert run.status == "failed" and "not positive definite" in run.reason
    assert run.steps == 0 and not run.diverged


def test_learning_rate_comparison_too_small_right_too_large_divergent():
    result = learning_rate_comparison("bowl", steps=60)
    small, right, large, divergent = result.runs
    eig = np.linalg.eigvalsh(cm.hessian(SURFACES["bowl"].loss)(np.array(SURFACES["bowl"].start)))
    assert right.lr == pytest.approx(2 / (eig[0] + eig[-1]))
    assert right.status == "converged" and right.final_loss < 1e-20
    assert small.status == "unconverged" and small.final_loss < small.losses[0]
    assert large.status == "unconverged" and 0 < large.final_loss < 1e-3
    # zig-zag: the steep coordinate changes sign every step when η > 1/λ_max
    signs = np.sign(large.path[1:20, 1])
    assert np.all(signs[1:] == -signs[:-1])
    assert divergent.diverged and np.all(np.isfinite(divergent.path))
    assert np.linalg.norm(divergent.path[-1]) > 1e6


def test_diverged_run_keeps_only_finite_points():
    where = Surface.from_expression("exp(x**2)", bounds=((-2, 2), (-2, 2)))
    run = run_optimizer(where, "gd", np.array([1.5, 0.0]), 1.0, 50, 1e-6)
    assert run.diverged
    assert np.all(np.isfinite(run.path)) and np.all(np.isfinite(run.losses))
    assert len(run.path) == len(run.losses)


def test_steps_to_tolerance_is_the_step_from_which_the_run_stays_within_it():
    run = race("quadratic", ["gd"], steps=400, lr=0.05, tolerance=1e-8).runs[0]
    k = run.steps_to_tolerance
    assert np.all(run.losses[k:] <= 1e-8) and run.losses[k - 1] > 1e-8


def test_user_surfaces_from_a_formula_and_from_a_function_agree():
    by_text = race("x**2 + 3*y**2 + x*y", ["momentum"], start=(1.0, 2.0), lr=0.05, steps=50).runs[0]
    by_function = race(lambda x, y: x ** 2 + 3 * y ** 2 + x * y, ["momentum"], start=(1.0, 2.0), lr=0.05,
                       steps=50).runs[0]
    by_vector = race(lambda p: p[0] ** 2 + 3 * p[1] ** 2 + p[0] * p[1], ["momentum"], start=(1.0, 2.0),
                     lr=0.05, steps=50).runs[0]
    np.testing.assert_allclose(by_text.path, by_function.path, atol=1e-14)
    np.testing.assert_allclose(by_vector.path, by_function.path, atol=1e-14)
    # f* is unknown for user functions, so tolerance is measured on ‖∇f‖
    assert race("x**2 + y**2", ["gd"], lr=0.1, steps=200).criterion == "‖∇f‖ ≤ tol"


def test_formulas_are_parsed_never_evaluated():
    with pytest.raises(ParseError):
        surface("__import__('os').system('echo hacked')")
    with pytest.raises(RaceError, match="x and y"):
        surface("x**2 + z**2")


def test_unknown_names_and_bad_starts_are_clear_errors():
    with pytest.raises(RaceError, match="rosenbrock"):
        race("rosenbrok", ["gd"])
    with pytest.raises(RaceError, match="adam"):
        race("rosenbrock", ["adamm"])
    with pytest.raises(RaceError, match="two finite numbers"):
        race("rosenbrock", ["gd"], start=(1.0, np.nan))
    with pytest.raises(RaceError, match="not finite at the start"):
        race("log(x) + y**2", ["gd"], start=(-1.0, 0.0))


def test_race_result_table_and_html():
    result = race("himmelblau", ["gd", "adam"], steps=200)
    rows = result.rows()
    assert [r[0] for r in rows] == ["GD", "Adam"]
    assert rows[0][2] == f"{result['gd'].final_loss:.3e}"
    assert "<table" in result._repr_html_() and "Adam" in result._repr_html_()
