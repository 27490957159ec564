"""Transforms compose to any depth: forward and reverse in all four orders, against torch.func and
closed forms, with no perturbation confusion between levels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import func as tf

import calcml as cm

RNG = np.random.default_rng(3)
X = RNG.uniform(-1, 1, size=4)
V = RNG.standard_normal(4)
W = RNG.standard_normal(4)


def f_np(x):
    return np.sum(np.tanh(x) ** 2 * np.sin(x[::-1])) + np.prod(np.cos(x[:2]))


def f_torch(x):
    return torch.sum(torch.tanh(x) ** 2 * torch.sin(x.flip(0))) + torch.prod(torch.cos(x[:2]))


def rev(f):
    return cm.grad(f)


def fwd(f):
    """x ↦ ⟨∇f(x), w⟩ by forward mode (w fixed): a scalar again, so it can be composed."""
    return lambda x: cm.jvp(f, (x,), (W,))[1]


def rev_torch(f):
    return lambda x: tf.grad(f)(x) @ torch.tensor(W)


def fwd_torch(f):
    return lambda x: tf.jvp(f, (x,), (torch.tensor(W),))[1]


def dot_w(f):
    return lambda x: np.sum(cm.grad(f)(x) * W)


ORDERS = {  # (calcml composition, torch.func composition), each a scalar function of x
    "fwd∘fwd": (fwd(fwd(f_np)), fwd_torch(fwd_torch(f_torch))),
    "fwd∘rev": (fwd(dot_w(f_np)), fwd_torch(rev_torch(f_torch))),
    "rev∘fwd": (dot_w(fwd(f_np)), rev_torch(fwd_torch(f_torch))),
    "rev∘rev": (dot_w(dot_w(f_np)), rev_torch(rev_torch(f_torch))),
    "fwd∘fwd∘fwd": (fwd(fwd(fwd(f_np))), fwd_torch(fwd_torch(fwd_torch(f_torch)))),
    "rev∘fwd∘rev": (dot_w(fwd(dot_w(f_np))), rev_torch(fwd_torch(rev_torch(f_torch)))),
    "fwd∘rev∘fwd": (fwd(dot_w(fwd(f_np))), fwd_torch(rev_torch(fwd_torch(f_torch)))),
    "rev∘rev∘rev": (dot_w(dot_w(dot_w(f_np))), rev_torch(rev_torch(rev_torch(f_torch)))),
    "fwd∘fwd∘rev": (fwd(fwd(dot_w(f_np))), fwd_torch(fwd_torch(rev_torch(f_torch)))),
    "rev∘rev∘fwd": (dot_w(dot_w(fwd(f_np))), rev_torch(rev_torch(fwd_torch(f_torch)))),
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_every_composition_to_third_order_matches_torch_func(order):
    ours, theirs = ORDERS[order]
    expected_value = theirs(torch.tensor(X)).item()
    assert float(ours(X)) == pytest.approx(expected_value, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(cm.grad(ours)(X), tf.grad(theirs)(torch.tensor(X)).numpy(), rtol=1e-9, atol=1e-12)
    forward = cm.jvp(ours, (X,), (V,))[1]
    assert float(forward) == pytest.approx(tf.jvp(theirs, (torch.tensor(X),), (torch.tensor(V),))[1].item(),
                                           rel=1e-9, abs=1e-12)


def test_no_perturbation_confusion_in_any_order():
    """d/dx [x · d/dy (x + y)] = 1 (Siskind and Pearlmutter's test), however the two derivatives are taken."""
    inner_fwd = lambda x: x * cm.jvp(lambda y: x + y, (2.0,), (1.0,))[1]
    inner_rev = lambda x: x * cm.grad(lambda y: x + y)(2.0)
    for inner in (inner_fwd, inner_rev):
        assert cm.grad(inner)(3.0) == pytest.approx(1.0)
        assert cm.jvp(inner, (3.0,), (1.0,))[1] == pytest.approx(1.0)
    nested_same_point = lambda x: cm.jvp(lambda y: x * y, (x,), (1.0,))[1]  # d/dy (x y) at y = x → x
    assert cm.grad(nested_same_point)(5.0) == pytest.approx(1.0)
    assert cm.jvp(nested_same_point, (5.0,), (1.0,))[1] == pytest.approx(1.0)


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7])
def test_third_and_fourth_derivatives_of_tanh_and_softplus_match_closed_forms(x):
    t = np.tanh(x)
    d3_tanh = -2 * (1 - t ** 2) * (1 - 3 * t ** 2)
    s = 1 / (1 + np.exp(-x))  # softplus' = σ, '' = σ(1−σ), ''' = σ(1−σ)(1−2σ)
    d3_softplus = s * (1 - s) * (1 - 2 * s)
    d4_softplus = s * (1 - s) * (1 - 6 * s + 6 * s ** 2)
    softplus = lambda z: np.logaddexp(0.0, z)
    assert cm.grad(cm.grad(cm.grad(np.tanh)))(x) == pytest.approx(d3_tanh, abs=1e-12)
    d = lambda g: (lambda z: cm.jvp(g, (z,), (1.0,))[1])
    assert d(d(d(np.tanh)))(x) == pytest.approx(d3_tanh, abs=1e-12)
    assert d(cm.grad(d(softplus)))(x) == pytest.approx(d3_softplus, abs=1e-12)
    assert cm.hessian(cm.grad(cm.grad(softplus)))(x) == pytest.approx(d4_softplus, abs=1e-12)


def test_grad_of_hessian_hessian_of_hessian_and_grad_of_hvp():
    f = lambda x: np.sum(np.tanh(x) ** 3) + x[0] * x[1] ** 2
    x = np.array([0.3, -0.5])
    xt = torch.tensor(x)
    ft = lambda z: torch.sum(torch.tanh(z) ** 3) + z[0] * z[1] ** 2
    np.testing.assert_allclose(cm.grad(lambda z: np.sum(cm.hessian(f)(z)))(x),
                               tf.grad(lambda z: tf.hessian(ft)(z).sum())(xt).numpy(), rtol=1e-10)
    np.testing.assert_allclose(cm.hessian(lambda z: np.sum(cm.hessian(f)(z) ** 2))(x),
                               tf.hessian(lambda z: (tf.hessian(ft)(z) ** 2).sum())(xt).numpy(), rtol=1e-9)
    v = np.array([1.0, -2.0])
    physics_like = lambda z: np.sum(cm.hvp(f, z, v) ** 2)  # the shape of a physics-informed loss
    hvp_t = lambda z: tf.jvp(tf.grad(ft), (z,), (torch.tensor(v),))[1]
    np.testing.assert_allclose(cm.grad(physics_like)(x), tf.grad(lambda z: (hvp_t(z) ** 2).sum())(xt).numpy(),
                               rtol=1e-10)


def test_jacobian_forward_inside_reverse_and_hessian_with_argnums_tuple():
    f = lambda a, b: np.sum(np.sin(a) * b ** 2)
    a, b = np.array([0.2, 0.4]), np.array([1.5, -0.5])
    outer = cm.grad(lambda a: np.sum(cm.jacobian(cm.grad(f, argnums=1), argnums=0, mode="fwd")(a, b)))(a)
    # ∂/∂a Σ_ij ∂²f/∂b_i∂a_j = ∂/∂a Σ_i 2 b_i cos(a_i) = −2 b sin a
    np.testing.assert_allclose(outer, -2 * b * np.sin(a))
    H = cm.hessian(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(H[0][0], np.diag(-np.sin(a) * b ** 2))
    np.testing.assert_allclose(H[0][1], np.diag(2 * b * np.cos(a)))
    np.testing.assert_allclose(H[1][0], H[0][1].T)
    np.testing.assert_allclose(H[1][1], np.diag(2 * np.sin(a)))


def test_derivatives_with_respect_to_a_pullbacks_cotangent_match_torch_func():
    """u ↦ uᵀ J_g(x) is linear in u: its Jacobian is Jᵀ, and ∂/∂x of ⟨pullback(u), c⟩ is a second derivative.
    The pullback used to turn a traced cotangent into a plain array: every derivative in u was a quiet 0."""
    A = RNG.standard_normal((3, 4))
    g = lambda x: np.tanh(A @ x) * x[0]
    g_torch = lambda x: torch.tanh(torch.tensor(A) @ x) * x[0]
    c, u = RNG.standard_normal(4), RNG.standard_normal(3)
    J = tf.jacrev(g_torch)(torch.tensor(X)).numpy()
    pulled = lambda u: cm.vjp(g, X)[1](u)[0]
    np.testing.assert_allclose(cm.jacobian(pulled)(u), J.T, rtol=1e-12)
    np.testing.assert_allclose(cm.jacobian(pulled, mode="fwd")(u), J.T, rtol=1e-12)
    np.testing.assert_allclose(cm.grad(lambda u: np.sum(pulled(u) * c))(u), J @ c, rtol=1e-12)

    def torch_pulled_dot_c(x):
        return (tf.vjp(g_torch, x)[1](torch.tensor(u))[0] * torch.tensor(c)).sum()
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(cm.vjp(g, x)[1](u)[0] * c))(X),
                               tf.grad(torch_pulled_dot_c)(torch.tensor(X)).numpy(), rtol=1e-10)


def test_backward_with_a_traced_cotangent_keeps_it_with_create_graph_and_refuses_without():
    A = RNG.standard_normal((3, 4))

    def sum_of_grads(u, create_graph):
        x = cm.Tensor(X, requires_grad=True)
        (np.tanh(A @ x) * x[0]).backward(gradient=u, create_graph=create_graph)
        return np.sum(x.grad)

    J = cm.jacobian(lambda x: np.tanh(A @ x) * x[0])(X)
    gradient = cm.grad(lambda u: sum_of_grads(u, True))(np.ones(3))  # stays on the graph of f's own leaf x
    np.testing.assert_allclose(gradient.value, J.sum(axis=1), rtol=1e-12)
    with pytest.raises(cm.GraphEscapeError, match="create_graph=True"):
        cm.grad(lambda u: sum_of_grads(u, False))(np.ones(3))
