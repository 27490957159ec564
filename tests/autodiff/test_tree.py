"""Pytrees: flatten/unflatten round trips, and transforms that take and return them."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import calcml as cm

Pair = namedtuple("Pair", ["a", "b"])


@cm.tree.register_dataclass
@dataclass
class Params:
    w: np.ndarray
    b: np.ndarray


def test_flatten_and_unflatten_round_trip_every_node_kind():
    tree = {"z": [1.0, (2.0, None)], "a": Pair(np.ones(2), 3.0), "p": Params(np.zeros(3), np.ones(1))}
    leaves, treedef = cm.tree.flatten(tree)
    assert len(leaves) == treedef.num_leaves == 6
    rebuilt = cm.tree.unflatten(treedef, leaves)
    assert isinstance(rebuilt["a"], Pair) and isinstance(rebuilt["p"], Params)
    assert rebuilt["z"][1][1] is None
    doubled = cm.tree.map(lambda x: 2 * np.asarray(x), tree)
    np.testing.assert_allclose(doubled["p"].b, [2.0])
    assert cm.tree.leaves(doubled)[1] == 6.0  # keys sorted: "a" first, and in it Pair.a (ones) then Pair.b (3)


def test_mismatched_structures_give_a_clear_error():
    with pytest.raises(cm.StructureError, match="structure"):
        cm.tree.map(lambda x, y: x + y, {"w": 1.0}, {"v": 1.0})
    with pytest.raises(cm.StructureError):
        cm.jvp(lambda p: p["w"] * 2, ({"w": np.ones(2)},), ({"w": np.ones(2), "b": 1.0},))


def _mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return np.mean((h @ params["W2"] - y) ** 2)


def test_grad_of_a_dict_of_parameters_equals_torch_per_leaf():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 1))}
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    grads = cm.grad(_mlp_loss)(params, x, y)
    assert set(grads) == set(params)
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    loss = ((torch.tanh(torch.tensor(x) @ theirs["W1"] + theirs["b1"]) @ theirs["W2"] - torch.tensor(y)) ** 2).mean()
    loss.backward()
    for k in params:
        np.testing.assert_allclose(grads[k], theirs[k].grad.numpy(), rtol=1e-12)


def test_dataclass_and_namedtuple_arguments_get_gradients_in_their_own_type():
    g = cm.grad(lambda p: np.sum(p.w ** 2) + 3 * np.sum(p.b))(Params(np.array([1.0, 2.0]), np.array([0.0])))
    assert isinstance(g, Params)
    np.testing.assert_allclose(g.w, [2.0, 4.0])
    np.testing.assert_allclose(g.b, [3.0])
    g = cm.grad(lambda p: p.a * p.b)(Pair(2.0, 5.0))
    assert isinstance(g, Pair) and g == (5.0, 2.0)


def test_non_numeric_leaves_are_constants_with_no_gradient():
    g = cm.grad(lambda p: p["x"] ** 2 if p["mode"] == "square" else p["x"])({"x": 3.0, "mode": "square"})
    assert g == {"mode": None, "x": 6.0}


def test_tuple_outputs_in_every_mode_agree():
    f = lambda x: (np.sin(x), {"s": np.sum(x ** 2)})
    x = np.array([0.3, -1.2])
    J_rev = cm.jacobian(f)(x)
    J_fwd = cm.jacobian(f, mode="fwd")(x)
    np.testing.assert_allclose(J_rev[0], np.diag(np.cos(x)))
    np.testing.assert_allclose(J_fwd[0], np.diag(np.cos(x)))
    np.testing.assert_allclose(J_rev[1]["s"], 2 * x)
    np.testing.assert_allclose(J_fwd[1]["s"], 2 * x)
    out, tangent = cm.jvp(f, (x,), (np.array([1.0, 0.0]),))
    np.testing.assert_allclose(tangent[0], [np.cos(0.3), 0.0])
    assert tangent[1]["s"] == pytest.approx(0.6)
    _, pullback = cm.vjp(f, x)
    (g,) = pullback((np.array([1.0, 1.0]), {"s": 2.0}))
    np.testing.assert_allclose(g, np.cos(x) + 4 * x)
    with pytest.raises(cm.StructureError):
        pullback(np.ones(2))


def test_grad_of_a_tuple_output_is_refused_with_the_way_out():
    with pytest.raises(TypeError, match="has_aux"):
        cm.grad(lambda x: (x, x))(1.0)


def test_grad_of_a_models_parameters_as_a_pytree_equals_backward():
    model = cm.nn.Sequential(cm.nn.Linear(4, 8, dtype=np.float64), cm.nn.Tanh(), cm.nn.Linear(8, 3, dtype=np.float64))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 4)), np.array([0, 1, 2, 1, 0])
    loss = lambda params, X, y: cm.nn.losses.cross_entropy(model(X), y)
    with cm.no_grad():  # plain arrays: no graph is wanted from the gradient itself
        gradients = cm.grad(loss)(model.parameters(), X, y)  # the weights the model really uses
    cm.nn.losses.cross_entropy(model(X), y).backward()
    assert isinstance(gradients, list) and len(gradients) == len(model.parameters())
    for g, p in zip(gradients, model.parameters()):
        np.testing.assert_allclose(g, p.grad, rtol=1e-13)
    assert all(p.requires_grad for p in model.parameters())  # the model is left as it was
    named = dict(model.named_parameters())
    by_name = cm.grad(lambda params: cm.nn.losses.cross_entropy(model(X), y))(named)
    for name, p in named.items():  # while recording, linked to the weights: a Tensor with the same values
        assert isinstance(by_name[name], cm.Tensor) and by_name[name].requires_grad
        np.testing.assert_allclose(by_name[name].value, p.grad, rtol=1e-13)


def test_hvp_and_hessian_of_a_closure_over_the_users_leaves_are_not_zero():
    """A leaf made with requires_grad=True is one variable wherever it is used: passing it to a forward-
    or nested transform differentiates its uses inside the model too (was a quiet zero in hvp)."""
    w = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    f = lambda params: np.sum(w ** 3)
    for recording in (True, False):
        with cm.enable_grad() if recording else cm.no_grad():
            hv = cm.hvp(f, w, np.array([1.0, 0.0]))
            H = cm.hessian(f)(w)
        np.testing.assert_allclose(getattr(hv, "value", hv), [6.0, 0.0])
        np.testing.assert_allclose(getattr(H, "value", H), [[6.0, 0.0], [0.0, 12.0]])
    assert w.tangent is None  # the leaf carried a tangent only during the call

    model = cm.nn.Sequential(cm.nn.Linear(3, 4, dtype=np.float64), cm.nn.Tanh(), cm.nn.Linear(4, 1, dtype=np.float64))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), np.ones((5, 1))
    loss = lambda params: np.mean((model(X) - y) ** 2)
    params = model.parameters()
    v = [rng.standard_normal(p.shape) for p in params]
    with cm.no_grad():
        hv = cm.hvp(loss, params, v)
        start = [p.value.copy() for p in params]
        h = 1e-5

        def gradient_at(sign):
            for p, p0, d in zip(params, start, v):
                p.copy_(p0 + sign * h * d)
            return cm.grad(loss)(params)

        numeric = [(a - b) / (2 * h) for a, b in zip(gradient_at(+1), gradient_at(-1))]
        for p, p0 in zip(params, start):
            p.copy_(p0)
    for a, n in zip(hv, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


def test_arrays_are_fresh_variables_but_a_requires_grad_leaf_is_one_variable():
    """The documented rule: JAX's semantics for arrays, PyTorch's for requires_grad Tensors."""
    values = np.array([1.0, 2.0])
    leaf = cm.Tensor(values, requires_grad=True)
    np.testing.assert_allclose(cm.grad(lambda v: np.sum(values * v))(values), values)       # w held fixed
    np.testing.assert_allclose(cm.grad(lambda v: np.sum(leaf * v))(leaf).value, 2 * values)  # d/dw Σ w·w


def test_a_dataclass_of_parameters_is_a_node_without_registering():
    """A dataclass of parameters gets a gradient of the same dataclass (it used to be a leaf: grad gave None)."""
    import dataclasses

    @dataclasses.dataclass
    class Model:
        w: np.ndarray
        b: float

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        w: np.ndarray
        steps: int = dataclasses.field(default=3, init=False)

    model = Model(np.array([1.0, 2.0, 3.0]), 0.5)
    g = cm.grad(lambda m: np.sum(m.w ** 2) * m.b)(model)
    assert type(g) is Model
    np.testing.assert_allclose(g.w, 2 * model.w * model.b)
    np.testing.assert_allclose(g.b, np.sum(model.w ** 2))
    value, g = cm.value_and_grad(lambda m: np.sum(np.sin(m.w)))(model)
    np.testing.assert_allclose(g.w, np.cos(model.w))
    h = cm.hessian(lambda m: np.sum(m.w ** 3))(Model(np.array([1.0, 2.0]), 0.0))
    np.testing.assert_allclose(h.w.w, np.diag([6.0, 12.0]))
    _, tangent = cm.jvp(lambda m: np.sum(m.w ** 2), (model,), (Model(np.ones(3), 0.0),))
    np.testing.assert_allclose(tangent, 12.0)
    frozen = cm.grad(lambda m: np.sum(m.w ** 2))(Frozen(np.array([1.0, 2.0])))
    assert type(frozen) is Frozen
    np.testing.assert_allclose(frozen.w, [2.0, 4.0])
