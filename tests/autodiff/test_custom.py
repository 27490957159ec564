"""Functions with their own derivatives (custom_vjp, custom_jvp) and recomputed blocks (checkpoint)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import calcml as cm


def test_custom_vjp_uses_its_residuals_and_stays_right_at_second_order():
    calls = []

    @cm.custom_vjp
    def stable_sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def fwd(x):
        s = 1 / (1 + np.exp(-x))
        calls.append("fwd")
        return s, s  # the residual: σ(x) itself

    stable_sigmoid.defvjp(fwd, lambda s, g: (g * s * (1 - s),))
    x = np.array([-2.0, 0.0, 3.0])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(stable_sigmoid(x)))(x), s * (1 - s), rtol=1e-14)
    assert calls == ["fwd"]  # first order: the saved residual, no recomputation
    second = cm.grad(lambda x: np.sum(cm.grad(lambda y: np.sum(stable_sigmoid(y)))(x)))(x)
    np.testing.assert_allclose(second, s * (1 - s) * (1 - 2 * s), rtol=1e-12)  # residual differentiated too


def test_custom_vjp_can_change_the_gradient_on_purpose_and_refuses_forward_mode():
    @cm.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(5.0 * clip_gradient(x)))(np.ones(2)), [1.0, 1.0])
    with pytest.raises(cm.NoRuleError, match="forward-mode"):
        cm.jvp(clip_gradient, (np.ones(2),), (np.ones(2),))


def test_custom_jvp_gives_both_modes_and_is_stable_where_the_naive_rule_overflows():
    @cm.custom_jvp
    def softplus(x):
        return np.logaddexp(0.0, x)

    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] * 0.5 * (1 + np.tanh(p[0] / 2))))  # σ without overflow
    x = np.array([-800.0, -1.0, 0.5, 800.0])
    sigma = 0.5 * (1 + np.tanh(x / 2))
    np.testing.assert_allclose(cm.grad(lambda x: np.sum(softplus(x)))(x), sigma, rtol=1e-14)
    np.testing.assert_allclose(cm.jvp(softplus, (x,), (np.ones(4),))[1], sigma, rtol=1e-14)
    np.testing.assert_allclose(cm.jacobian(softplus, mode="fwd")(x), np.diag(sigma), rtol=1e-14)
    xs = np.array([-1.0, 0.5])
    s = 1 / (1 + np.exp(-xs))
    np.testing.assert_allclose(cm.hessian(lambda x: np.sum(softplus(x)))(xs), np.diag(s * (1 - s)), rtol=1e-12)


def test_custom_jvp_of_two_arguments_transposes_to_torchs_gradients():
    @cm.custom_jvp
    def weighted(a, b):
        return a * np.sin(b)

    weighted.defjvp(lambda p, t: (weighted(*p), t[0] * np.sin(p[1]) + p[0] * np.cos(p[1]) * t[1]))
    a, b = np.array([1.5, -0.5]), np.array([0.3, 2.0])
    ga, gb = cm.grad(lambda a, b: np.sum(weighted(a, b) ** 2), argnums=(0, 1))(a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ((ta * torch.sin(tb)) ** 2).sum().backward()
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-13)


def _deep_mlp(depth: int, width: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    weights = [cm.Tensor(rng.normal(size=(width, width)) / np.sqrt(width), requires_grad=True) for _ in range(depth)]
    return weights, rng.normal(size=(128, width))


def _loss(weights, x, checkpointed: bool):
    h = cm.Tensor(x)
    for i in range(0, len(weights), 2):
        def block(h, W1=weights[i], W2=weights[i + 1]):
            return np.tanh(np.tanh(h @ W1) @ W2)
        h = cm.checkpoint(block)(h) if checkpointed else block(h)
    return np.mean(h ** 2)


def test_checkpoint_gives_the_same_gradients_and_keeps_fewer_bytes():
    weights, x = _deep_mlp(depth=12, width=64)
    kept, gradients = {}, {}
    for checkpointed in (False, True):
        for w in weights:
            w.grad = None
        loss = _loss(weights, x, checkpointed)
        kept[checkpointed] = cm.memory.graph_bytes(loss)
        loss.backward()
        gradients[checkpointed] = [w.grad.copy() for w in weights]
    for plain, recomputed in zip(gradients[False], gradients[True]):
        np.testing.assert_allclose(recomputed, plain, rtol=1e-12)
    # each block of two layers keeps its input and output instead of four intermediate activations
    assert kept[True] < 0.6 * kept[False], kept


def test_checkpoint_works_in_the_functional_transforms_and_at_second_order():
    W = np.array([[0.5, -0.2], [0.1, 0.8]])
    block = cm.checkpoint(lambda h, W: np.tanh(h @ W))
    f = lambda x: np.sum(block(x, W) ** 2)
    g = lambda x: np.sum(np.tanh(x @ W) ** 2)
    x = np.array([[0.3, -1.0]])
    np.testing.assert_allclose(cm.grad(f)(x), cm.grad(g)(x), rtol=1e-13)
    np.testing.assert_allclose(cm.hessian(f)(x), cm.hessian(g)(x), rtol=1e-12)
    np.testing.assert_allclose(cm.jvp(f, (x,), (np.ones_like(x),))[1], cm.jvp(g, (x,), (np.ones_like(x),))[1])


@cm.custom_vjp
def clip_gradient(x):
    return x * 1.0


clip_gradient.defvjp(lambda x: (clip_gradient(x), None), lambda _, g: (np.clip(g, -0.5, 0.5),))  # fwd calls it


@cm.custom_jvp
def softplus_with_rule(x, scale):
    return np.logaddexp(0.0, x) * scale


softplus_with_rule.defjvp(lambda p, t: (softplus_with_rule(*p),
                                       t[0] * p[1] / (1 + np.exp(-p[0])) + t[1] * np.logaddexp(0.0, p[0])))
CHECKPOINTED = cm.checkpoint(lambda h, w, b: np.tanh(h @ w + b))
CUSTOM_UNDER_VMAP = {  # name: loss of (w, one example x); w shared, x per example
    "custom_vjp (a clipped gradient)": lambda w, x: np.sum(clip_gradient(np.sin(x * w)) ** 2),
    "custom_jvp": lambda w, x: np.sum(softplus_with_rule(x * w, w[0])),
    "checkpoint": lambda w, x: np.sum(CHECKPOINTED(x, np.outer(w, w), np.ones(3)) ** 2),
}


@pytest.mark.parametrize("name", CUSTOM_UNDER_VMAP)
def test_custom_functions_under_vmap_are_one_replay_with_their_own_rules(name, monkeypatch):
    """Per-example gradients through a custom_vjp (whose fwd calls the function itself), a custom_jvp and a
    checkpointed block: the forward is vmap of the function, the backward the recorded custom rule — no
    step example by example — and equal to the loop. (The checkpoint's recomputation used a fresh copy of
    each example, which the record could not follow: vmap ran f example by example.)"""
    from calcml.autodiff.batching import rules, transform
    loss = CUSTOM_UNDER_VMAP[name]
    rng = np.random.default_rng(13)
    w, X = rng.normal(size=3), rng.normal(size=(5, 3)) * 2
    X[-1] = X[0]
    per_example = cm.grad(loss)
    expected = np.stack([per_example(w, x) for x in X])
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    monkeypatch.setattr(rules, "loop", None)
    np.testing.assert_allclose(cm.vmap(per_example, in_axes=(None, 0))(w, X), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cm.vmap(loss, in_axes=(None, 0))(w, X), [loss(w, x) for x in X], rtol=1e-12)
