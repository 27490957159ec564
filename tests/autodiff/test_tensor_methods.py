"""Tensor methods and operators with ndarray's signatures: the same values as the ndarray method, the same
gradient as the NumPy-function route (and as PyTorch where it has the method), in-place methods refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import calcml as cm
from tests.autodiff.checks import as_scalar, assert_grad_matches_finite_differences, torch_gradients

W = np.array([[0.3, -1.2], [0.7, 0.4], [-0.5, 1.1]])

# name: (method call — the same code on an ndarray and on a Tensor, the NumPy-function route, input shape,
#        PyTorch's version or None)
METHODS = {
    "transpose(1, 0)": (lambda a: a.transpose(1, 0), lambda a: np.transpose(a, (1, 0)), (2, 3),
                        lambda t: t.permute(1, 0)),
    "transpose((1, 0))": (lambda a: a.transpose((1, 0)), lambda a: np.transpose(a, (1, 0)), (2, 3), None),
    "transpose()": (lambda a: a.transpose(), lambda a: np.transpose(a), (2, 3, 2), lambda t: t.permute(2, 1, 0)),
    "transpose(2, 0, 1)": (lambda a: a.transpose(2, 0, 1), lambda a: np.transpose(a, (2, 0, 1)), (2, 3, 2),
                           lambda t: t.permute(2, 0, 1)),
    "T": (lambda a: a.T, lambda a: np.transpose(a), (2, 3), lambda t: t.T),
    "mT": (lambda a: a.mT, lambda a: np.swapaxes(a, -1, -2), (2, 2, 3), lambda t: t.mT),
    "swapaxes(0, 1)": (lambda a: a.swapaxes(0, 1), lambda a: np.swapaxes(a, 0, 1), (2, 3), None),
    "flatten()": (lambda a: a.flatten(), lambda a: np.ravel(a), (2, 3), lambda t: t.flatten()),
    "flatten('F')": (lambda a: a.flatten("F"), lambda a: np.ravel(a, order="F"), (2, 3),
                     lambda t: t.T.flatten()),
    "ravel()": (lambda a: a.ravel(), lambda a: np.ravel(a), (2, 3), None),
    "reshape(-1)": (lambda a: a.reshape(-1), lambda a: np.reshape(a, -1), (2, 3), lambda t: t.reshape(-1)),
    "reshape(3, 2)": (lambda a: a.reshape(3, 2), lambda a: np.reshape(a, (3, 2)), (2, 3), None),
    "reshape((3, 2))": (lambda a: a.reshape((3, 2)), lambda a: np.reshape(a, (3, 2)), (2, 3), None),
    "reshape(3, 2, order='F')": (lambda a: a.reshape(3, 2, order="F"), lambda a: np.reshape(a, (3, 2), order="F"),
                                 (2, 3), None),
    "squeeze()": (lambda a: a.squeeze(), lambda a: np.squeeze(a), (2, 1, 3), lambda t: t.squeeze()),
    "squeeze(1)": (lambda a: a.squeeze(1), lambda a: np.squeeze(a, 1), (2, 1, 3), None),
    "sum()": (lambda a: a.sum(), lambda a: np.sum(a), (2, 3), lambda t: t.sum()),
    "sum(1, keepdims=True)": (lambda a: a.sum(1, keepdims=True), lambda a: np.sum(a, axis=1, keepdims=True),
                              (2, 3), lambda t: t.sum(1, keepdim=True)),
    "mean(axis=0, keepdims=True)": (lambda a: a.mean(axis=0, keepdims=True), lambda a: np.mean(a, 0, keepdims=True),
                                    (2, 3), lambda t: t.mean(0, keepdim=True)),
    "std(ddof=1)": (lambda a: a.std(ddof=1), lambda a: np.std(a, ddof=1), (2, 3), lambda t: t.std()),
    "var(axis=1, ddof=1)": (lambda a: a.var(axis=1, ddof=1), lambda a: np.var(a, 1, ddof=1), (2, 3),
                            lambda t: t.var(1)),
    "max(axis=1)": (lambda a: a.max(axis=1), lambda a: np.max(a, axis=1), (2, 3), lambda t: t.amax(1)),
    "min()": (lambda a: a.min(), lambda a: np.min(a), (2, 3), lambda t: t.min()),
    "prod()": (lambda a: a.prod(), lambda a: np.prod(a), (2, 3), lambda t: t.prod()),
    "prod(axis=1)": (lambda a: a.prod(axis=1), lambda a: np.prod(a, axis=1), (2, 3), lambda t: t.prod(1)),
    "cumsum(axis=1)": (lambda a: a.cumsum(axis=1), lambda a: np.cumsum(a, axis=1), (2, 3), lambda t: t.cumsum(1)),
    "cumprod()": (lambda a: a.cumprod(), lambda a: np.cumprod(a), (2, 3), lambda t: t.flatten().cumprod(0)),
    "cumprod(axis=0)": (lambda a: a.cumprod(axis=0), lambda a: np.cumprod(a, axis=0), (2, 3),
                        lambda t: t.cumprod(0)),
    "dot(W)": (lambda a: a.dot(W), lambda a: np.dot(a, W), (2, 3), lambda t: t @ torch.tensor(W)),
    "clip(0.8, 1.5)": (lambda a: a.clip(0.8, 1.5), lambda a: np.clip(a, 0.8, 1.5), (2, 3),
                       lambda t: t.clamp(0.8, 1.5)),
    "diagonal()": (lambda a: a.diagonal(), lambda a: np.diagonal(a), (3, 3), lambda t: t.diagonal()),
    "diagonal(1)": (lambda a: a.diagonal(1), lambda a: np.diagonal(a, 1), (2, 3), lambda t: t.diagonal(1)),
    "trace()": (lambda a: a.trace(), lambda a: np.trace(a), (3, 3), lambda t: t.trace()),
    "repeat(2, axis=0)": (lambda a: a.repeat(2, axis=0), lambda a: np.repeat(a, 2, axis=0), (2, 3),
                          lambda t: t.repeat_interleave(2, 0)),
    "take([0, 2], axis=1)": (lambda a: a.take([0, 2], axis=1), lambda a: np.take(a, [0, 2], axis=1), (2, 3), None),
    "conj()": (lambda a: a.conj(), lambda a: np.conjugate(a), (2, 3), lambda t: t.conj_physical()),
    "conjugate()": (lambda a: a.conjugate(), lambda a: np.conjugate(a), (2, 3), None),
    "real": (lambda a: a.real * 1.0, lambda a: np.real(a) * 1.0, (2, 3), None),
    "copy()": (lambda a: a.copy(), lambda a: np.copy(a), (2, 3), lambda t: t.clone()),
    "a % 0.7": (lambda a: a % 0.7, lambda a: np.remainder(a, 0.7), (2, 3), lambda t: t % 0.7),
    "2.5 % a": (lambda a: 2.5 % a, lambda a: np.remainder(2.5, a), (2, 3), lambda t: torch.full_like(t, 2.5) % t),
    "a // 0.7 * a": (lambda a: a // 0.7 * a, lambda a: np.floor_divide(a, 0.7) * a, (2, 3),
                     lambda t: torch.floor(t / 0.7).detach() * t),
    "divmod(a, 0.7)[1]": (lambda a: divmod(a, 0.7)[1], lambda a: np.divmod(a, 0.7)[1], (2, 3),
                          lambda t: t % 0.7),
    "divmod(3.0, a)[1]": (lambda a: divmod(3.0, a)[1], lambda a: np.remainder(3.0, a), (2, 3),
                          lambda t: torch.full_like(t, 3.0) % t),
    "a @ W": (lambda a: a @ W, lambda a: np.matmul(a, W), (2, 3), lambda t: t @ torch.tensor(W)),
    "W.T @ a": (lambda a: W.T @ a, lambda a: np.matmul(W.T, a), (3, 2), lambda t: torch.tensor(W.T) @ t),
    "abs(a - 1.2)": (lambda a: abs(a - 1.2), lambda a: np.abs(a - 1.2), (2, 3), lambda t: (t - 1.2).abs()),
    "-a ** 2": (lambda a: -a ** 2, lambda a: np.negative(np.power(a, 2)), (2, 3), lambda t: -t ** 2),
    "2 ** a": (lambda a: 2 ** a, lambda a: np.power(2, a), (2, 3), lambda t: 2 ** t),
}


def sample(shape, seed=0):
    """Values in (0.5, 2): clear of 0 and spread, so max/min/clip/% have no ties and no kinks nearby."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.uniform(0.5, 2.0, size=shape)
        flat = np.sort(np.ravel(x))
        near_kink = np.abs(x - 0.8).min() < 0.03 or np.abs(x - 1.5).min() < 0.03
        near_jump = np.min(np.abs(x / 0.7 - np.round(x / 0.7))) < 0.05
        if np.all(np.diff(flat) > 0.02) and not near_kink and not near_jump:
            return x


@pytest.mark.parametrize("name", list(METHODS))
def test_method_value_equals_the_ndarray_method(name):
    call, _, shape, _ = METHODS[name]
    x = sample(shape)
    ours = call(cm.Tensor(x))
    assert isinstance(ours, cm.Tensor)
    np.testing.assert_array_equal(ours.value, call(x))


@pytest.mark.parametrize("name", list(METHODS))
def test_method_gradient_equals_the_numpy_function_route_and_finite_differences(name):
    call, route, shape, _ = METHODS[name]
    x = sample(shape, seed=1)
    ours = cm.grad(as_scalar(call))(x)
    np.testing.assert_allclose(ours, cm.grad(as_scalar(route))(x), rtol=1e-15)
    assert_grad_matches_finite_differences(as_scalar(call), x)
    _, tangent = cm.jvp(call, (x,), (np.ones_like(x),))  # forward mode through the same method
    np.testing.assert_allclose(tangent, cm.jvp(route, (x,), (np.ones_like(x),))[1], rtol=1e-15)


@pytest.mark.parametrize("name", [n for n in METHODS if METHODS[n][3] is not None])
def test_method_gradient_matches_torch(name):
    call, _, shape, torch_call = METHODS[name]
    x = sample(shape, seed=2)
    (theirs,) = torch_gradients(torch_call, x)
    np.testing.assert_allclose(cm.grad(as_scalar(call))(x), theirs, rtol=1e-10, atol=1e-12)


def test_backward_through_methods_on_a_leaf():
    x = sample((2, 3), seed=3)
    t = cm.Tensor(x, requires_grad=True)
    loss = (t.transpose(1, 0).flatten("F") % 0.7).sum() + t.std(ddof=1) + t.max(axis=1).mean()
    loss.backward()
    tt = torch.tensor(x, requires_grad=True)
    (tt.T.T.flatten() % 0.7).sum().add(tt.std()).add(tt.amax(1).mean()).backward()
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12)


# ---- methods whose results do not depend smoothly on the values: plain arrays, equal to ndarray's ----
PLAIN_METHODS = {
    "all()": lambda a: a.all(),
    "any(axis=0)": lambda a: (a > 1).any(axis=0),
    "argsort()": lambda a: a.argsort(),
    "argsort(axis=0)": lambda a: a.argsort(axis=0),
    "argmax(axis=1)": lambda a: a.argmax(axis=1),
    "argmin()": lambda a: a.argmin(),
    "argpartition(1)": lambda a: a.argpartition(1),
    "nonzero()": lambda a: (a - 1.0).clip(0, None).nonzero(),
    "round(1)": lambda a: a.round(1),
    "round()": lambda a: a.round(),
    "searchsorted(1.0)": lambda a: a.ravel().searchsorted(1.0),
    "a // 0.7": lambda a: a // 0.7,
    "divmod(a, 0.7)[0]": lambda a: divmod(a, 0.7)[0],
}


@pytest.mark.parametrize("name", list(PLAIN_METHODS))
def test_zero_derivative_methods_give_ndarrays_values_as_plain_arrays(name):
    call = PLAIN_METHODS[name]
    x = sample((2, 3), seed=4)
    seen = []

    def f(x):
        seen.append(call(x))
        return np.sum(x * x)

    np.testing.assert_allclose(cm.grad(f)(x), 2 * x)
    outputs = seen[0] if isinstance(seen[0], tuple) else (seen[0],)
    expected = call(x)
    for ours, theirs in zip(outputs, expected if isinstance(expected, tuple) else (expected,)):
        assert not isinstance(ours, cm.Tensor)
        np.testing.assert_array_equal(ours, theirs)


def test_array_attributes_are_ndarrays():
    x = sample((2, 3))
    t = cm.Tensor(x)
    for attribute in ("shape", "ndim", "size", "dtype", "itemsize", "nbytes"):
        assert getattr(t, attribute) == getattr(x, attribute), attribute
    np.testing.assert_array_equal(t.imag, x.imag)
    assert len(t) == len(x)
    assert (x[1, 2] in t) and (x[1, 2] + 10 not in t)  # ndarray's `in`: any entry equal


@pytest.mark.parametrize(("name", "args", "suggestion"), [
    ("sort", (), "np.sort(t"),
    ("partition", (1,), "np.partition(t"),
    ("fill", (0.0,), "np.full_like(t"),
    ("resize", ((3, 2),), "np.reshape(t"),
    ("put", ([0], [1.0]), "np.where"),
    ("itemset", (0, 1.0), "np.where"),
])
def test_in_place_methods_are_refused_with_the_way_around(name, args, suggestion):
    x = sample((2, 3))
    t = cm.Tensor(x, requires_grad=True)
    with pytest.raises(cm.InPlaceError, match=f"in place.*\n.*\n.*{suggestion.replace('(', '[(]')}"):
        getattr(t, name)(*args)
    np.testing.assert_array_equal(t.value, x)  # untouched


def test_augmented_assignment_on_computed_tensors_updates_every_name_as_numpy_does():
    """``t += 1`` changes t for every name bound to it (NumPy's meaning); the graph follows: the operations
    that used t before see its earlier value, the ones after its new value."""
    x = sample((3,))
    leaf = cm.Tensor(x, requires_grad=True)
    t = leaf * 1.0
    alias = t
    used_before = t * 3.0
    t += 1.0
    t %= 0.7
    t **= 2
    assert alias is t and isinstance(t, cm.Tensor)
    np.testing.assert_allclose(alias.value, np.remainder(x + 1.0, 0.7) ** 2)
    np.testing.assert_allclose(used_before.value, 3 * x)
    (t.sum() + used_before.sum()).backward()
    np.testing.assert_allclose(leaf.grad, 2 * np.remainder(x + 1.0, 0.7) + 3.0)
    t //= 0.5  # ⌊t/0.5⌋ is piecewise constant: t is a constant from here on, for every name
    assert alias is t and not t.requires_grad and t.node is None
    np.testing.assert_array_equal(alias.value, np.floor_divide(np.remainder(x + 1.0, 0.7) ** 2, 0.5))


def test_item_flat_and_exact_ratios_read_like_numpy_or_refuse_clearly():
    import statistics

    A = cm.Tensor(np.arange(6.0).reshape(2, 3))
    assert A.item(4) == 4.0 and A.item(1, 2) == 5.0
    assert float(A.flat[4].value) == 4.0 and len(A.flat) == 6 and [float(v.value) for v in A.flat] == list(range(6))
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(cm.grad(lambda x: x.flat[2] * x.flat[0])(x), [3.0, 0.0, 1.0])
    with pytest.raises(cm.GraphEscapeError, match="item"):
        cm.grad(lambda x: x.item(1) * np.sum(x))(x)
    with pytest.raises(cm.GraphEscapeError, match="statistics"):
        cm.grad(lambda x: statistics.mean(x) * np.sum(x))(x)
    with pytest.raises(cm.GraphEscapeError, match="np.mean"):
        statistics.mean(cm.Tensor(x))
    with pytest.raises(cm.InPlaceError):
        A.flat[0] = 1.0


def test_an_unsupported_function_reached_through_a_numpy_one_names_both():
    with pytest.raises(cm.NoRuleError, match=r"trim_zeros \(reached from numpy\.poly1d, which you called\)"):
        cm.grad(lambda c: np.poly1d(c)(2.0))(np.array([1.0, 2.0, 3.0]))
