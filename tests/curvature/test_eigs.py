import numpy as np
import pytest

import calcml as cm
from calcml.curvature import HessianOperator, hessian_eigs, model_loss
from tests.curvature.small_network import network, problem


def test_the_network_has_about_500_parameters_and_the_dense_hessian_is_symmetric():
    loss, params, dense, _ = problem()
    assert dense.shape == (514, 514)
    H = HessianOperator(loss, params)
    raw = cm.hessian(lambda theta: loss(H.unflatten(theta)))(H.flatten(params))
    assert np.allclose(raw, raw.T, atol=1e-10)
    v = np.random.default_rng(1).standard_normal(514)
    np.testing.assert_allclose(H(v), raw @ v, rtol=1e-9, atol=1e-12)  # the operator is the Hessian


def test_lanczos_top5_matches_eigvalsh_of_the_dense_hessian():
    loss, params, _, exact = problem()
    r = hessian_eigs(loss, params, k=5, iters=80)
    top = exact[::-1][:5]
    assert np.all(np.diff(r.eigenvalues) <= 0)
    np.testing.assert_allclose(r.eigenvalues, top, rtol=1e-6)
    assert r.hvps == 80


def test_lanczos_eigenvectors_are_pytrees_like_params_and_satisfy_hv_equals_lambda_v():
    loss, params, dense, _ = problem()
    r = hessian_eigs(loss, params, k=3, iters=80)
    H = HessianOperator(loss, params)
    for value, vector in zip(r.eigenvalues, r.eigenvectors):
        assert sorted(vector) == sorted(params)
        assert all(vector[name].shape == params[name].shape for name in params)
        v = H.flatten(vector)
        assert np.linalg.norm(v) == pytest.approx(1.0)
        assert np.linalg.norm(dense @ v - value * v) < 1e-6 * abs(value)
    assert np.max(r.residuals) < 1e-6 * abs(r.eigenvalues[0])


def test_power_iteration_top_eigenvalue_matches_eigvalsh():
    loss, params, _, exact = problem()
    assert abs(exact[-1]) > abs(exact[0])  # the largest eigenvalue is also the largest in magnitude here
    r = hessian_eigs(loss, params, k=1, method="power", iters=3000, tol=1e-13)
    assert r.eigenvalues[0] == pytest.approx(exact[-1], rel=1e-6)
    assert r.hvps <= 3000


def test_hessian_eigs_on_a_plain_array_and_a_nested_pytree():
    A = np.diag([1.0, 7.0, 3.0])
    r = hessian_eigs(lambda w: w @ A @ w / 2, np.ones(3), k=2)
    np.testing.assert_allclose(r.eigenvalues, [7.0, 3.0], rtol=1e-12)
    assert abs(r.eigenvectors[0][1]) == pytest.approx(1.0)
    tree = {"a": np.ones(2), "b": (np.ones(1), 2.0)}
    loss = lambda p: 2 * np.sum(p["a"] ** 2) + 5 * p["b"][0][0] ** 2 + 0.5 * p["b"][1] ** 2
    r = hessian_eigs(loss, tree, k=3)
    np.testing.assert_allclose(r.eigenvalues, [10.0, 4.0, 4.0], rtol=1e-12)
    assert r.eigenvectors[0]["b"][0].shape == (1,)


def test_model_loss_leaves_the_model_untouched_and_matches_its_own_loss():
    model, X, y = network()
    before = model.state_dict()
    loss, params = model_loss(model, cm.nn.losses.cross_entropy, X, y)
    hessian_eigs(loss, params, k=1, iters=5)
    with cm.no_grad():
        direct = cm.nn.losses.cross_entropy(model(X), y)
    assert float(np.asarray(loss(params))) == pytest.approx(float(np.asarray(getattr(direct, "value", direct))))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("bad", [dict(k=0), dict(method="arnoldi"), dict(k=600), dict(iters=0)])
def test_hessian_eigs_refuses_bad_arguments(bad):
    loss, params, _, _ = problem()
    with pytest.raises(ValueError):
        hessian_eigs(loss, params, **bad)


def test_a_loss_that_is_not_finite_is_named_not_a_linalg_failure():
    loss = lambda w: np.sum(np.exp(w) ** 2)
    with pytest.raises(cm.curvature.CurvatureInputError, match="not finite"), np.errstate(all="ignore"):
        hessian_eigs(loss, np.full(3, 400.0), k=1)
