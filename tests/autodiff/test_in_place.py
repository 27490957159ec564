"""In-place arithmetic on computed Tensors means what it means in NumPy: every name bound to the array sees
the update, and so does the derivative. Writes through shared memory (views) are refused, never half-followed.

Each case is checked against central differences of the same function run on plain NumPy arrays, so the
values and the derivatives are NumPy's own semantics, not calcml's idea of them."""

import copy

import numpy as np
import pytest

import calcml as cm

X = np.array([0.3, -1.2, 0.8])


def central_differences(f, x, eps=1e-6):
    rows = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        rows.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    return np.stack(rows, axis=-1)


def alias_then_update(x):
    y = x ** 2
    z = y
    z *= 3.0
    return np.sum(y + z)


def update_inside_a_helper(x):
    def normalize_(v):  # a helper that normalizes its argument in place, as NumPy code does
        v /= np.sqrt(np.sum(v * v))

    e = np.exp(x)
    normalize_(e)
    return e[1] + e[2] ** 2


def list_element_updated_through_another_name(x):
    layers = [np.tanh(x)]
    w = layers[0]
    w -= 0.1 * x
    return np.sum(layers[0] ** 2)


def used_before_and_after(x):
    y = np.sin(x)
    before = y * 2.0
    y += x ** 2
    y *= y
    return np.sum(before * y)


def every_operator(x):
    y = np.exp(x)
    y += 1.0
    y -= x
    y *= x
    y /= 2.0 + x ** 2
    y **= 2
    y %= 5.0
    return np.sum(y)


CASES = [alias_then_update, update_inside_a_helper, list_element_updated_through_another_name,
         used_before_and_after, every_operator]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_value_and_every_derivative_follow_numpy(f):
    np.testing.assert_allclose(f(cm.Tensor(X, requires_grad=True)).value, f(X))  # NumPy's value, on the graph
    expected = central_differences(f, X)
    np.testing.assert_allclose(cm.grad(f)(X), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cm.jacobian(f, mode="fwd")(X), expected, rtol=1e-6, atol=1e-8)
    leaf = cm.Tensor(X, requires_grad=True)
    f(leaf).backward()
    np.testing.assert_allclose(leaf.grad, expected, rtol=1e-6, atol=1e-8)
    hessian = cm.hessian(f)(X)
    np.testing.assert_allclose(hessian, central_differences(cm.grad(f), X, eps=1e-5), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-12)  # was asymmetric (stale operands)
    np.testing.assert_allclose(cm.jacobian(cm.grad(f), mode="rev")(X), hessian, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_vmap_follows_the_update(f):
    batch = np.stack([X, X + 0.5, -X])
    np.testing.assert_allclose(cm.vmap(cm.grad(f))(batch), [cm.grad(f)(row) for row in batch], rtol=1e-10)
    np.testing.assert_allclose(cm.vmap(f)(batch), [f(row) for row in batch], rtol=1e-12)


def test_trace_explains_an_update_in_place():
    graph = cm.trace(alias_then_update, X)
    np.testing.assert_allclose(graph.output.value, alias_then_update(X))
    np.testing.assert_allclose(graph.inputs[0].grad, central_differences(alias_then_update, X), rtol=1e-6)
    ops = [node.op for node in graph.nodes]
    assert ops == ["input", "power", "multiply", "add", "sum"], ops  # y = x²; z *= 3 (y too); y + z; Σ


@pytest.mark.parametrize("write", [
    lambda y: y[1:3].__imul__(2.0),                   # through a slice: y changes in NumPy
    lambda y: y.reshape(3, 1).__isub__(1.0),          # through a reshape
    lambda y: y.T.__iadd__(1.0),                      # through a transpose (1-D: itself a view)
])
def test_a_write_through_a_view_is_refused(write):
    def f(x):
        y = x * 1.0
        write(y)
        return np.sum(y)

    with pytest.raises(cm.InPlaceError, match="shared with another Tensor"):
        cm.grad(f)(X)


def test_updating_an_array_that_has_a_view_is_refused():
    def f(x):
        y = x * 1.0
        window = y[1:3]
        y *= 2.0  # NumPy doubles the window too
        return np.sum(window)

    with pytest.raises(cm.InPlaceError, match="shared with another Tensor"):
        cm.grad(f)(X)


def test_updating_an_input_in_place_is_refused_while_recording():
    def f(x):
        x += 1.0  # would change the caller's array in NumPy
        return np.sum(x ** 2)

    with pytest.raises(cm.InPlaceError, match="leaf"):
        cm.grad(f)(X)


def test_dtype_is_kept_as_numpy_does_and_shape_changes_are_refused():
    def f(x):
        y = np.tanh(x)
        y += np.ones(3)  # float64 into float32 stays float32 (same_kind casting)
        return y

    x32 = X.astype(np.float32)
    out = f(cm.Tensor(x32, requires_grad=True))
    assert out.dtype == np.float32
    with pytest.raises(cm.InPlaceError, match="shape"):
        y = cm.Tensor(np.ones((2, 1)), requires_grad=True) * 1.0
        y @= np.ones((1, 3))


def test_copy_and_deepcopy_keep_a_computed_value_on_the_graph_and_copy_leaves():
    def f(x):
        return np.sum(copy.deepcopy({"h": x ** 2})["h"] * copy.copy(np.sin(x)))

    np.testing.assert_allclose(cm.grad(f)(X), central_differences(f, X), rtol=1e-6)
    weight = cm.Tensor(X, requires_grad=True)
    np.sum(weight ** 2).backward()
    twin = copy.deepcopy(weight)
    assert twin.requires_grad and twin.node is None and not np.shares_memory(twin.value, weight.value)
    np.testing.assert_allclose(twin.grad, 2 * X)
    twin.grad[0] = 100.0
    assert weight.grad[0] == 2 * X[0]


def test_an_update_inside_no_grad_of_a_tensor_on_the_graph_is_refused():
    """Under no_grad the update would change the value but not the graph: y's gradient would silently be that of
    a constant (it was [x + 1] for 2x + 1)."""
    def f(x):
        y = x * 1.0
        z = y
        with cm.no_grad():
            z += 1.0
        return np.sum(y * x)

    with pytest.raises(cm.InPlaceError, match="no_grad"):
        cm.grad(f)(X)
    detached = cm.Tensor(X, requires_grad=True) * 1.0
    with cm.no_grad():
        detached = detached.detach()
        detached += 1.0  # a constant now: allowed, as NumPy would
    np.testing.assert_allclose(detached.value, X + 1.0)


def test_updating_a_detached_copy_leaves_the_graph_alone():
    """detach() shared the array: d += 1 changed the values y's graph had saved (gradient 12, 20 for 8, 16)."""
    x = cm.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    z = np.sum(y * y)
    d = y.detach()
    d += 1.0
    z.backward()
    np.testing.assert_allclose(x.grad, 8 * x.value)
    np.testing.assert_allclose(d.value, 2 * x.value + 1)
