"""The Tensor API is as safe as PyTorch's: no value leaves a graph quietly, gradients never alias,
and a graph whose leaf changed in place refuses to backpropagate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import calcml as cm


def leaf(values):
    return cm.Tensor(np.array(values, dtype=float), requires_grad=True)


@pytest.mark.parametrize("escape", [
    np.asarray, float, int, math.exp, lambda t: t.tolist(), lambda t: t.numpy(), np.float64,
    lambda t: np.zeros((2, 1)).__setitem__(slice(None), t),
])
def test_a_recording_leaf_refuses_every_implicit_conversion(escape):
    t = leaf([0.5])
    with pytest.raises(cm.GraphEscapeError, match=r"np\.stack|detach"):
        escape(t)


def test_assigning_a_traced_scalar_into_a_plain_array_raises_too():
    # NumPy decides this one in C before asking the Tensor (it is indexable, so "a sequence"): its own
    # ValueError, not calcml's message, but never a quiet zero.
    out = np.zeros(2)
    with pytest.raises(ValueError, match="sequence"):
        cm.grad(lambda x: (out.__setitem__(0, x ** 2), np.sum(out))[1])(np.array(3.0))


def test_item_is_the_tensor_apis_deliberate_escape_but_not_inside_a_transform():
    loss = (leaf([1.0, 2.0]) ** 2).sum()
    assert loss.item() == 5.0 and f"{loss:.1f}" == "5.0"  # logging a loss, as in PyTorch
    with pytest.raises(cm.GraphEscapeError, match=r"\.item\(\)"):
        cm.grad(lambda x: x * x.item())(3.0)
    with pytest.raises(cm.GraphEscapeError):
        cm.jvp(lambda x: x * x.item(), (3.0,), (1.0,))


def test_conversions_are_allowed_outside_a_graph_and_inside_no_grad():
    assert float(cm.Tensor(2.0)) == 2.0
    t = leaf([1.0, 2.0])
    with cm.no_grad():
        np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert t.detach().tolist() == [1.0, 2.0]


def test_gradients_of_different_leaves_never_share_memory():
    t, s = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (t + s).sum().backward()
    assert not np.shares_memory(t.grad, s.grad)
    t.grad *= 10
    np.testing.assert_array_equal(s.grad, [1.0, 1.0])
    seed = np.array([1.0, 1.0])
    u = leaf([1.0, 2.0])
    u.reshape(2).backward(seed)
    u.grad[0] = 7.0
    assert seed[0] == 1.0  # the caller's cotangent is untouched


def test_a_pullback_of_the_identity_does_not_hand_back_the_callers_cotangent():
    cotangent = np.array([1.0, 2.0])
    _, pullback = cm.vjp(lambda x: x, np.array([3.0, 4.0]))
    (g,) = pullback(cotangent)
    np.testing.assert_array_equal(g, cotangent)
    g[0] = 99.0
    assert cotangent[0] == 1.0
    u = leaf([1.0, 1.0])
    (u + 0.0).backward(cotangent)  # add's VJP passes the cotangent itself through
    u.grad[1] = 77.0
    assert cotangent[1] == 2.0


def test_functional_gradients_of_two_arguments_never_alias():
    ga, gb = cm.grad(lambda a, b: np.sum(a + b), argnums=(0, 1))(np.ones(2), np.ones(2))
    ga[0] = 5.0
    assert gb[0] == 1.0


def test_a_leaf_owns_its_values_and_rejects_writes():
    data = np.array([1.0, 2.0])
    t = cm.Tensor(data, requires_grad=True)
    data[0] = 100.0  # the user's array is not the leaf's
    assert t.value[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        t.value[0] = 5.0


def test_backward_after_an_optimizer_step_refuses_the_stale_graph():
    w = leaf([1.0, -2.0])
    loss = (w ** 2).sum()
    (w ** 3).sum().backward()
    cm.optim.SGD([w], lr=0.1).step()  # w changes in place after `loss` used it
    with pytest.raises(cm.StaleGraphError, match="in place"):
        loss.backward()
    w.grad = None
    fresh = (w ** 2).sum()  # recomputed after the step: fine
    fresh.backward()
    np.testing.assert_allclose(w.grad, 2 * w.value)


def test_copy_into_a_leaf_is_stamped_too():
    w = leaf([1.0, 2.0])
    y = (w * w).sum()
    w.copy_(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(w.value, [3.0, 4.0])
    with pytest.raises(cm.StaleGraphError):
        y.backward()


def test_gradient_penalty_through_backward_equals_the_functional_result_and_torch():
    rng = np.random.default_rng(1)
    w0, x0 = rng.normal(size=3), rng.normal(size=3)

    def penalty_loss(w, x):
        g_w = lambda x: np.sum(np.tanh(w * x) ** 2)
        return np.sum(w ** 2) + np.sum(cm.grad(g_w)(x) ** 2)

    w = cm.Tensor(w0, requires_grad=True)
    penalty_loss(w, x0).backward()
    functional = cm.grad(penalty_loss)(w0, x0)
    np.testing.assert_allclose(w.grad, functional, rtol=1e-12)

    tw = torch.tensor(w0, requires_grad=True)
    tx = torch.tensor(x0, requires_grad=True)
    inner = torch.autograd.grad(torch.sum(torch.tanh(tw * tx) ** 2), tx, create_graph=True)[0]
    (torch.sum(tw ** 2) + torch.sum(inner ** 2)).backward()
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-10)


def test_no_grad_inside_f_is_a_constant_for_every_transform():
    def f(x):
        with cm.no_grad():
            scale = np.sum(x ** 2)  # treated as a constant, by every mode
        return np.sum(np.sin(x)) * scale

    x = np.array([0.3, -0.7, 1.1])
    c = np.sum(x ** 2)
    expected = np.diag(-np.sin(x) * c)
    np.testing.assert_allclose(cm.hessian(f)(x), expected, atol=1e-12)
    np.testing.assert_allclose(cm.jacobian(cm.grad(f))(x), expected, atol=1e-12)
    np.testing.assert_allclose(cm.jvp(f, (x,), (np.ones(3),))[1], np.sum(np.cos(x)) * c)


def test_stop_gradient_matches_jax_semantics_in_both_modes():
    f = lambda x: np.sum(x * cm.stop_gradient(x))
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(cm.grad(f)(x), x)
    np.testing.assert_allclose(cm.jacobian(f, mode="fwd")(x), x)


def test_an_integer_tensor_is_an_index_but_a_traced_number_is_not():
    """``range(t)`` and ``a[t]`` take an untraced Tensor of integers; a number being differentiated — an int
    leaf kept with the weights too — is refused with what to do (it was Python's bare TypeError)."""
    assert list(range(cm.Tensor(np.array(3)))) == [0, 1, 2]
    assert np.arange(5.0)[cm.Tensor(np.array(2))] == 2.0

    def unrolled(p):
        h = p["w"]
        for _ in range(p["steps"]):
            h = np.tanh(h)
        return np.sum(h)
    with pytest.raises(cm.GraphEscapeError, match=r"range\(\).*\n.*argnums"):
        cm.grad(unrolled)({"w": np.ones(2), "steps": 3})
    settings_apart = cm.grad(lambda w, steps: unrolled({"w": w, "steps": steps}))(np.ones(2), 3)
    np.testing.assert_allclose(settings_apart, (1 - np.tanh(np.tanh(np.tanh(1.0))) ** 2)
                               * (1 - np.tanh(np.tanh(1.0)) ** 2) * (1 - np.tanh(1.0) ** 2) * np.ones(2))
