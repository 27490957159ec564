"""Newton–CG, Gauss–Newton and gradient descent on L2-regularized multinomial logistic regression, against a
dense Newton solve and the dense Hessian's spectrum; CG against np.linalg.solve."""

import numpy as np
import pytest

import calcml as cm
from calcml.curvature import (
    CurvatureInputError,
    GaussNewtonOperator,
    HessianOperator,
    condition_number,
    conjugate_gradient,
    gauss_newton,
    gradient_descent,
    newton_cg,
)
from tests.curvature import logistic_regression as lr
from tests.curvature.small_network import network


def test_conjugate_gradient_matches_a_dense_solve_and_stops_at_negative_curvature():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((30, 30))
    A = M @ M.T + 0.5 * np.eye(30)
    b = rng.standard_normal(30)
    r = conjugate_gradient(lambda v: A @ v, b, rtol=1e-12)
    np.testing.assert_allclose(r.x, np.linalg.solve(A, b), rtol=1e-8)
    assert np.linalg.norm(A @ r.x - b) <= 1e-12 * np.linalg.norm(b) and not r.negative_curvature
    assert r.iterations <= 60
    indefinite = np.diag([1.0, 2.0, -1.0])
    r = conjugate_gradient(lambda v: indefinite @ v, np.ones(3))
    assert r.negative_curvature


def test_newton_cg_reaches_gradient_norm_1e6_at_the_dense_newton_solution():
    run = newton_cg(lr.loss, lr.start(), tol=1e-6)
    assert run.converged and run.grad_norms[-1] < 1e-6
    H = HessianOperator(lr.loss, lr.start())
    theta = H.flatten(run.params)
    exact = lr.dense_newton_solution()
    # ‖θ − θ*‖ ≤ ‖∇L‖/λ_min with λ_min ≥ α: a gradient below 1e-6 puts θ within 1e-4 of θ*
    assert np.linalg.norm(theta - exact) <= run.grad_norms[-1] / lr.ALPHA
    tight = newton_cg(lr.loss, lr.start(), tol=1e-10)
    np.testing.assert_allclose(H.flatten(tight.params), exact, atol=1e-8)
    assert tight.iterations <= run.iterations + 2  # quadratic convergence: a few more steps for 4 more digits


def test_gauss_newton_products_equal_hessian_products_for_logistic_regression():
    """z = XW + b is linear in θ, so the Hessian's second term Σ (∂ℓ/∂z_k) ∇²z_k vanishes: GGN = Hessian."""
    rng = np.random.default_rng(1)
    point = {"W": 0.1 * rng.standard_normal((64, 10)), "b": 0.1 * rng.standard_normal(10)}
    G = GaussNewtonOperator(lr.outputs, lr.output_loss, point)
    H = HessianOperator(lr.loss, point)
    for _ in range(3):
        v = rng.standard_normal(H.size)
        np.testing.assert_allclose(G(v), H(v), rtol=1e-10, atol=1e-13)
    assert G.hvps == 3


def test_gauss_newton_differs_from_the_hessian_of_a_tanh_network_and_is_positive_semidefinite():
    model, X, y = network()
    loss, params = cm.curvature.model_loss(model, cm.nn.losses.cross_entropy, X, y)

    def outputs(p):
        with cm.nn.neural_ode.parameters_replaced(model, [p[name] for name, _ in model.named_parameters()]):
            return model(X)

    G = GaussNewtonOperator(outputs, lambda z: cm.nn.losses.cross_entropy(z, y), params)
    H = HessianOperator(loss, params)
    basis = np.eye(H.size)[:, :: 8]  # every 8th column of the dense matrices is enough to tell them apart
    G_cols, H_cols = np.stack([G(e) for e in basis.T], 1), np.stack([H(e) for e in basis.T], 1)
    assert np.linalg.norm(G_cols - H_cols) > 1e-2 * np.linalg.norm(H_cols)
    v = np.random.default_rng(2).standard_normal(H.size)
    assert v @ G(v) > 0  # Jᵀ∇²ℓJ with a convex ℓ
    assert np.linalg.eigvalsh((lambda d: (d + d.T) / 2)(basis.T @ G_cols)).min() > -1e-12


def test_gauss_newton_converges_like_newton_on_logistic_regression():
    newton = newton_cg(lr.loss, lr.start(), tol=1e-8)
    gn = gauss_newton(lr.outputs, lr.output_loss, lr.start(), tol=1e-8)
    assert gn.converged and gn.iterations == newton.iterations
    np.testing.assert_allclose(gn.losses, newton.losses, rtol=1e-9)


def test_condition_number_matches_the_dense_spectrum_and_the_l2_bound():
    theta = lr.dense_newton_solution()
    H = HessianOperator(lr.loss, lr.start())
    exact = np.linalg.eigvalsh(lr.dense_hessian(H.unflatten(theta)))
    cond = condition_number(lr.loss, H.unflatten(theta), iters=100)
    assert cond.lambda_max == pytest.approx(exact[-1], rel=1e-8)
    assert cond.lambda_min == pytest.approx(exact[0], rel=1e-4)
    # adding one vector to every class's weights leaves softmax unchanged: only the L2 term curves those
    # 65 directions, so λ_min = α exactly
    assert exact[0] == pytest.approx(lr.ALPHA, rel=1e-10)
    assert cond.kappa == pytest.approx(exact[-1] / exact[0], rel=1e-4)
    assert cond.hvps == 100


def test_gradient_descent_contracts_at_the_condition_number_rate_and_needs_far_more_steps_than_newton():
    """With η = 2/(λ_min + λ_max), θ − θ* shrinks by (κ − 1)/(κ + 1) per step near θ* (here κ ≈ 81, so 0.9755):
    the observed rate of ‖∇L‖ over the second half of the run must match it to 1% of 1 − rate."""
    newton = newton_cg(lr.loss, lr.start(), tol=1e-6)
    cond = condition_number(lr.loss, newton.params)
    gd = gradient_descent(lr.loss, lr.start(), lr=cond.gd_step, tol=1e-6, max_iter=5000)
    assert gd.converged and newton.iterations <= 10
    assert gd.iterations >= 20 * newton.iterations
    np.testing.assert_allclose(gd.losses[-1], newton.losses[-1], rtol=1e-10)
    observed = gd.rate()
    assert abs((1 - observed) - (1 - cond.gd_rate)) < 0.01 * (1 - cond.gd_rate)
    # and the iterations it took are those the rate predicts for shrinking ‖∇L‖ from its start to 1e-6
    predicted = np.log(gd.grad_norms[0] / 1e-6) / -np.log(cond.gd_rate)
    assert 0.8 * predicted <= gd.iterations <= 1.2 * predicted


def test_newton_cg_on_the_nonconvex_rosenbrock_function_finds_its_minimum():
    rosenbrock = lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    run = newton_cg(rosenbrock, np.array([-1.2, 1.0]), tol=1e-10)
    assert run.converged
    np.testing.assert_allclose(run.params, [1.0, 1.0], atol=1e-9)
    assert min(run.step_lengths) < 1  # the line search had to shorten some steps


@pytest.mark.parametrize("call", [
    lambda: newton_cg(lambda w: np.sum(w ** 2), np.ones(2), tol=0.0),
    lambda: newton_cg(lambda w: np.sum(w ** 2), np.ones(2), max_iter=0),
    lambda: gradient_descent(lambda w: np.sum(w ** 2), np.ones(2), lr=-1.0),
    lambda: condition_number(lambda w: np.sum(w ** 2), np.ones(2), iters=1),
    lambda: conjugate_gradient(lambda v: v, np.ones(2), rtol=0.0),
    lambda: newton_cg(lambda w: np.sum(w ** 2), np.array([np.nan, 0.0])),  # was a "not converged" NaN run
    lambda: gradient_descent(lambda w: np.sum(w ** 2), np.array([0.0, np.inf]), lr=0.1),
])
def test_bad_arguments_are_refused_with_a_curvature_input_error(call):
    with pytest.raises(CurvatureInputError):
        call()


def test_lanczos_on_the_shifted_operator_has_the_same_ritz_values_shifted():
    """condition_number reads λ_min from the plain run: Krylov spaces do not change under H → σI − H."""
    from calcml.curvature import lanczos

    H = HessianOperator(lr.loss, HessianOperator(lr.loss, lr.start()).unflatten(lr.dense_newton_solution()))
    start = np.random.default_rng(3).standard_normal(H.size)
    plain = lanczos(H, start, 40).eigh()[0]
    sigma = plain[-1]
    shifted = lanczos(lambda v: sigma * v - H(v), start, 40).eigh()[0]
    np.testing.assert_allclose(np.sort(sigma - shifted), plain, rtol=1e-7, atol=1e-10)
