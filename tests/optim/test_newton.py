import numpy as np
import pytest

import calcml as cm
import calcml.optim  # noqa: F401


def quadratic_problem(seed=0, n=5):
    """L(w) = ½ wᵀAw − bᵀw with A symmetric positive definite: ∇L = Aw − b, ∇²L = A, minimum A⁻¹b."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)
    b = rng.standard_normal(n)
    return A, b, rng.standard_normal(n)


def split_quadratic(A, b):
    """The same quadratic as a function of two parameters: a (2,) and a (3,) piece of w."""
    return lambda u, v: 0.5 * np.concatenate([u, v]) @ (A @ np.concatenate([u, v])) - b @ np.concatenate([u, v])


def test_one_newton_step_solves_a_quadratic():
    A, b, w0 = quadratic_problem()
    u = cm.Tensor(w0[:2].copy(), requires_grad=True)
    v = cm.Tensor(w0[2:].copy(), requires_grad=True)
    loss = cm.optim.Newton([u, v]).step(split_quadratic(A, b))
    assert loss == pytest.approx(0.5 * w0 @ A @ w0 - b @ w0, rel=1e-12)
    np.testing.assert_allclose(np.concatenate([u.value, v.value]), np.linalg.solve(A, b), rtol=1e-10)


@pytest.mark.parametrize("lr, damping", [(1.0, 0.0), (0.5, 0.0), (1.0, 2.5), (0.3, 10.0)])
def test_newton_step_is_damped_inverse_hessian_times_gradient(lr, damping):
    A, b, w0 = quadratic_problem(seed=3)
    u = cm.Tensor(w0[:2].copy(), requires_grad=True)
    v = cm.Tensor(w0[2:].copy(), requires_grad=True)
    cm.optim.Newton([u, v], lr=lr, damping=damping).step(split_quadratic(A, b))
    g = A @ w0 - b                                            # by hand: ∇L(w0)
    step = np.linalg.inv(A + damping * np.eye(5)) @ g         # (H + λI)⁻¹ g
    np.testing.assert_allclose(np.concatenate([u.value, v.value]), w0 - lr * step, rtol=1e-10)


def test_newton_minimizes_rosenbrock_from_the_classic_start():
    w = cm.Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = cm.optim.Newton([w])
    rosenbrock = lambda w: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    steps = 0
    while np.max(np.abs(w.value - 1.0)) >= 1e-10 and steps < 20:
        opt.step(rosenbrock)
        steps += 1
    np.testing.assert_allclose(w.value, [1.0, 1.0], atol=1e-10)
    assert steps <= 8, f"took {steps} Newton steps"     # plain Newton needs 6 from (−1.2, 1)


def test_newton_keeps_float32_parameters_float32():
    A, b, w0 = quadratic_problem()
    u = cm.Tensor(w0[:2].astype(np.float32), requires_grad=True)
    v = cm.Tensor(w0[2:].astype(np.float32), requires_grad=True)
    cm.optim.Newton([u, v]).step(split_quadratic(A.astype(np.float32), b.astype(np.float32)))
    assert u.value.dtype == np.float32 and v.value.dtype == np.float32
    np.testing.assert_allclose(np.concatenate([u.value, v.value]), np.linalg.solve(A, b), rtol=1e-4)


def test_saddle_point_needs_damping_and_the_error_says_how_much():
    w = cm.Tensor(np.array([1.0, 1.0]), requires_grad=True)
    saddle = lambda w: w[0] ** 2 - w[1] ** 2                  # H = diag(2, −2)
    with pytest.raises(cm.optim.NotPositiveDefiniteError, match=r"smallest eigenvalue of H = -2") as info:
        cm.optim.Newton([w]).step(saddle)
    assert "damping > 2" in str(info.value)
    np.testing.assert_array_equal(w.value, [1.0, 1.0])         # nothing moved
    cm.optim.Newton([w], damping=4.0).step(saddle)              # (H + 4I)⁻¹ g = (2/6, −2/2)
    np.testing.assert_allclose(w.value, [1.0 - 1 / 3, 2.0], rtol=1e-12)


def test_closure_that_ignores_its_arguments_gets_a_hint():
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(cm.optim.NotPositiveDefiniteError, match="does the closure use the parameters"):
        cm.optim.Newton([w]).step(lambda x: np.sum(w.value ** 2))


def test_closure_that_uses_the_optimizers_own_tensors_gets_a_hint():
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(cm.optim.NotPositiveDefiniteError, match="does the closure use the parameters"):
        cm.optim.Newton([w]).step(lambda x: np.sum(w * w))


def test_closure_must_take_the_parameters():
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=r"closure\(\*params\)"):
        cm.optim.Newton([w]).step(lambda: np.sum(w * w))


def test_too_many_parameters_for_a_hessian():
    w = cm.Tensor(np.zeros(5000), requires_grad=True)
    with pytest.raises(cm.optim.HessianTooLargeError, match=r"5000×5000 Hessian"):
        cm.optim.Newton([w])
    cm.optim.Newton([w], max_parameters=5000)                  # allowed when asked for explicitly


def test_newton_rejects_negative_damping_and_lr():
    w = cm.Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(cm.optim.HyperparameterError, match="damping must be >= 0"):
        cm.optim.Newton([w], damping=-1.0)
    with pytest.raises(cm.optim.HyperparameterError, match="lr must be >= 0"):
        cm.optim.Newton([w], lr=-1.0)


def test_newton_works_inside_no_grad():
    w = cm.Tensor(np.array([3.0]), requires_grad=True)
    with cm.no_grad():
        cm.optim.Newton([w]).step(lambda w: np.sum((w - 1.0) ** 2))
    np.testing.assert_allclose(w.value, [1.0], rtol=1e-12)
