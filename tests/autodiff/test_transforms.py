"""Transforms: grad/value_and_grad/vjp/jvp/jacobian/hessian/hvp, composition, and Tensor.backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import calcml as cm

RNG = np.random.default_rng(0)


def f(x):
    return np.sum(np.tanh(x) ** 2) + np.sum(np.sin(x) * x)


def f_torch(x):
    return torch.sum(torch.tanh(x) ** 2) + torch.sum(torch.sin(x) * x)


def test_grad_value_and_grad_agree_with_torch():
    x = RNG.standard_normal(5)
    xt = torch.tensor(x, requires_grad=True)
    f_torch(xt).backward()
    np.testing.assert_allclose(cm.grad(f)(x), xt.grad.numpy(), rtol=1e-12)
    value, gradient = cm.value_and_grad(f)(x)
    assert value == pytest.approx(float(f_torch(torch.tensor(x))), rel=1e-14)
    np.testing.assert_allclose(gradient, xt.grad.numpy(), rtol=1e-12)


def test_grad_accepts_python_numbers_and_lists():
    assert cm.grad(lambda x: x ** 3)(2.0) == pytest.approx(12.0)
    assert cm.grad(lambda x: x ** 3)(2) == pytest.approx(12.0)  # ints become floats
    gradient = cm.grad(lambda xs: xs[0] ** 2 + 3 * xs[1])([1.0, 2.0])  # a list is a pytree, not an array
    assert isinstance(gradient, list)
    np.testing.assert_allclose(gradient, [2.0, 3.0])
    assert cm.grad(lambda x: x * x)(np.float32(3.0)).dtype == np.float32


def test_argnums_and_has_aux():
    g = cm.grad(lambda a, b: np.sum(a * b ** 2), argnums=(0, 1))
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    ga, gb = g(a, b)
    np.testing.assert_allclose(ga, b ** 2)
    np.testing.assert_allclose(gb, 2 * a * b)
    gb_only = cm.grad(lambda a, b: np.sum(a * b ** 2), argnums=1)(a, b)
    np.testing.assert_allclose(gb_only, 2 * a * b)
    gradient, aux = cm.grad(lambda x: (np.sum(x ** 2), "note"), has_aux=True)(a)
    np.testing.assert_allclose(gradient, 2 * a)
    assert aux == "note"


def test_grad_of_constant_function_is_zero():
    np.testing.assert_array_equal(cm.grad(lambda x: 3.0)(np.ones(2)), [0.0, 0.0])


def test_higher_derivatives_by_nesting():
    d = cm.grad
    x = 0.7
    assert d(d(np.sin))(x) == pytest.approx(-np.sin(x), rel=1e-12)
    assert d(d(d(np.sin)))(x) == pytest.approx(-np.cos(x), rel=1e-12)
    assert d(d(d(d(lambda x: x ** 5))))(x) == pytest.approx(120 * x, rel=1e-12)


def test_nested_grad_closing_over_outer_variable_is_not_confused():
    # d/dx [ x · d/dy (x y) |_{y=2} ] = d/dx x² = 2x   (perturbation confusion would give x)
    outer = cm.grad(lambda x: x * cm.grad(lambda y: x * y)(2.0))
    assert outer(3.0) == pytest.approx(6.0)


def test_vjp_and_jvp_match_the_jacobian():
    A = RNG.standard_normal((3, 3))
    g = lambda x: np.tanh(x) * np.sum(x ** 2) + np.exp(x) * 0.1
    x = RNG.standard_normal(3)
    J = cm.jacobian(g)(x)
    u, v = RNG.standard_normal(3), RNG.standard_normal(3)
    out, pullback = cm.vjp(g, x)
    np.testing.assert_allclose(out, g(x))
    np.testing.assert_allclose(pullback(u)[0], u @ J, rtol=1e-12)
    _, jv = cm.jvp(g, (x,), (v,))
    np.testing.assert_allclose(jv, J @ v, rtol=1e-12)
    np.testing.assert_allclose(cm.jacobian(g, mode="fwd")(x), J, rtol=1e-12)
    del A


def test_jacobian_matches_torch_both_modes():
    x = RNG.standard_normal(4)
    g = lambda x: np.sin(x) * np.sum(np.exp(x))
    expected = torch.autograd.functional.jacobian(lambda x: torch.sin(x) * torch.exp(x).sum(),
                                                  torch.tensor(x)).numpy()
    np.testing.assert_allclose(cm.jacobian(g, mode="rev")(x), expected, rtol=1e-12)
    np.testing.assert_allclose(cm.jacobian(g, mode="fwd")(x), expected, rtol=1e-12)


def test_jacobian_of_several_arguments_in_one_forward_pass():
    g = lambda a, b: a * np.sum(b ** 2)
    a, b = RNG.standard_normal(2), RNG.standard_normal(3)
    ja, jb = cm.jacobian(g, argnums=(0, 1), mode="fwd")(a, b)
    np.testing.assert_allclose(ja, np.eye(2) * np.sum(b ** 2))
    np.testing.assert_allclose(jb, np.outer(a, 2 * b))
    ra, rb = cm.jacobian(g, argnums=(0, 1), mode="rev")(a, b)
    np.testing.assert_allclose(ra, ja)
    np.testing.assert_allclose(rb, jb)


def test_hessian_and_hvp_match_torch():
    x = RNG.standard_normal(6)
    expected = torch.autograd.functional.hessian(f_torch, torch.tensor(x)).numpy()
    np.testing.assert_allclose(cm.hessian(f)(x), expected, rtol=1e-10, atol=1e-12)
    v = RNG.standard_normal(6)
    np.testing.assert_allclose(cm.hvp(f, x, v), expected @ v, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_quadratic_form_is_symmetric_part_doubled():
    A = RNG.standard_normal((4, 4))
    x = RNG.standard_normal(4)
    H = cm.hessian(lambda x: np.sum(x * np.sum(A * x, axis=1)))(x)  # xᵀ A x without matmul
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12)


def test_tensor_backward_accumulates_like_torch():
    t = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (t * t).sum().backward()
    (t * t).sum().backward()
    np.testing.assert_allclose(t.grad, [4.0, 8.0])
    t.zero_grad()
    (t ** 3).sum().backward()
    np.testing.assert_allclose(t.grad, [3.0, 12.0])


def test_backward_with_create_graph_gives_differentiable_gradients():
    t = cm.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    np.sum(t ** 3).backward(create_graph=True)
    first = t.grad  # 3 t²
    assert isinstance(first, cm.Tensor)
    t.grad = None
    np.sum(first).backward()
    np.testing.assert_allclose(t.grad, 6 * t.value)


def test_backward_with_explicit_cotangent_and_no_grad():
    t = cm.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = t * 2.0
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(t.grad, [2.0, 0.0, -2.0])
    with cm.no_grad():
        z = t * 3.0
    assert not z.requires_grad


def test_check_grad_reports_and_raises():
    report = cm.check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1, 2.0]))
    assert report.passed and report.max_rel_error < 1e-8

    @cm.primitive
    def wrong_square(x):
        """A deliberately wrong rule: d/dx x² is 2x, this says 3x."""
        return x * x

    wrong_square.defvjp(lambda g, ans, x: 3 * g * x)
    with pytest.raises(cm.GradientMismatch, match="index"):
        cm.check_grad(lambda x: np.sum(wrong_square(x)), np.array([1.0, 2.0]))


def test_user_primitive_with_its_own_rules():
    @cm.primitive
    def softclip(x):
        """softclip(x) = x / (1 + |x|);  d/dx = 1 / (1 + |x|)²"""
        return x / (1 + np.abs(x))

    softclip.defvjp(lambda g, ans, x: g / (1 + np.abs(x)) ** 2)
    softclip.defjvp(lambda t, ans, x: t / (1 + np.abs(x)) ** 2)
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(softclip(x)))(x), 1 / (1 + np.abs(x)) ** 2)
    np.testing.assert_allclose(cm.jacobian(softclip, mode="fwd")(x), np.diag(1 / (1 + np.abs(x)) ** 2))
    cm.check_grad(lambda x: np.sum(softclip(x) ** 2), x)


def test_check_grad_accepts_a_size_one_output_of_any_rank():
    report = cm.check_grad(lambda a: a * 2, np.ones((1, 1)))
    assert report.passed
    np.testing.assert_allclose(report.autodiff[0], [[2.0]])


def test_grad_is_zero_when_output_depends_only_on_other_trainable_tensors():
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    np.testing.assert_array_equal(cm.grad(lambda x: np.sum(w * w))(np.array([1.0, 2.0])), [0.0, 0.0])
    gradient = cm.grad(lambda x: np.sum(w * x))(np.array([1.0, 2.0]))
    assert isinstance(gradient, cm.Tensor) and gradient.requires_grad  # it is w: still linked to w's graph
    np.testing.assert_allclose(gradient.value, [1.0, 2.0])
    with cm.no_grad():  # no graph wanted: a plain array
        np.testing.assert_allclose(cm.grad(lambda x: np.sum(w * x))(np.array([1.0, 2.0])), [1.0, 2.0])


def test_transforms_record_their_function_even_inside_no_grad_and_vjp_rules():
    with cm.no_grad():
        np.testing.assert_allclose(cm.grad(lambda x: np.sum(x ** 2))(np.array([1.0, 3.0])), [2.0, 6.0])

    @cm.primitive
    def cube(x):
        """x³, whose VJP is itself computed by cm.vjp: d/dx x³ = 3x²"""
        return x ** 3

    cube.defvjp(lambda g, ans, x: cm.vjp(lambda y: y ** 3, x)[1](g)[0])
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(cube(x)))(np.array([1.0, 2.0])), [3.0, 12.0])


def test_primitives_on_plain_arrays_return_plain_arrays():
    p = cm.softmax(np.array([1.0, 2.0, 3.0]))
    assert type(p) is np.ndarray
    np.testing.assert_allclose(p, np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum())
    assert type(cm.softmax(cm.Tensor(np.array([1.0, 2.0])))) is cm.Tensor


def test_complex_intermediates_are_refused_rather_than_differentiated_wrongly():
    with pytest.raises(cm.UnsupportedTransformError, match="complex"):
        cm.grad(lambda t: np.abs(1j * t) ** 2)(0.3)
    with pytest.raises(cm.UnsupportedTransformError, match="complex"):
        cm.jvp(lambda t: np.abs(1j * t), (0.3,), (1.0,))


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    import threading

    inside = threading.Event()
    release = threading.Event()

    def hold_no_grad():
        with cm.no_grad():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    inside.wait(5)
    try:
        t = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
        (t * t).sum().backward()
        np.testing.assert_allclose(t.grad, [2.0, 4.0])
    finally:
        release.set()
        worker.join()


def test_check_grad_says_where_rounding_noise_hides_the_difference():
    """A large constant in f leaves finite differences only its rounding noise to compare with: the check
    is not a false alarm, but it says it could not resolve those elements (and how many)."""
    with pytest.warns(cm.GradCheckWarning, match="2 element"):
        report = cm.check_grad(lambda x: np.sum(x ** 2) + 1e10, np.array([1.0, 2.0]))
    assert report.passed and report.unresolved == 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a well-scaled function resolves every element: no warning
        assert cm.check_grad(lambda x: np.sum(np.sin(x)), np.array([0.1, 2.0])).unresolved == 0
