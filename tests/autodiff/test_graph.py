"""cm.trace: the graph of one call, each node's value and gradient, explain(), to_dot() and the HTML table."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import calcml as cm
from calcml.autodiff.state import STATE

X, Y = 0.7, 1.3


def sin_xy_plus_x_squared(x, y):
    return np.sin(x * y) + x ** 2


def central_difference(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


# ---- the nodes -------------------------------------------------------------------------------------
def test_sin_xy_plus_x_squared_has_one_node_per_input_and_operation_in_order():
    graph = cm.trace(sin_xy_plus_x_squared, X, Y)
    assert len(graph) == 6
    assert [node.op for node in graph.nodes] == ["input", "input", "multiply", "sin", "power", "add"]
    assert [node.id for node in graph.nodes] == [f"v{i}" for i in range(6)]
    assert [node.name for node in graph.inputs] == ["x", "y"]
    assert graph["v2"].parents == ("v0", "v1")
    assert graph["v3"].parents == ("v2",)
    assert graph["v4"].parents == ("v0",)
    assert graph["v5"].parents == ("v3", "v4")
    assert graph.output is graph.nodes[-1] is graph["v5"]
    assert graph["v3"].derivative == "d/dx sin x = cos x"


def test_every_node_has_its_forward_value_and_closed_form_gradient():
    graph = cm.trace(sin_xy_plus_x_squared, X, Y)
    c = np.cos(X * Y)
    values = [X, Y, X * Y, np.sin(X * Y), X ** 2, np.sin(X * Y) + X ** 2]
    grads = [Y * c + 2 * X, X * c, c, 1.0, 1.0, 1.0]  # ∂L/∂node, by hand
    for node, value, grad in zip(graph.nodes, values, grads, strict=True):
        np.testing.assert_allclose(node.value, value, rtol=1e-14, err_msg=node.id)
        np.testing.assert_allclose(node.grad, grad, rtol=1e-14, err_msg=node.id)
        assert node.shape == () and node.dtype == np.float64


def test_input_gradients_match_finite_differences_on_arrays():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    graph = cm.trace(lambda x, y: np.sum(sin_xy_plus_x_squared(x, y)), x, y)
    numeric_x = central_difference(lambda x_: np.sum(sin_xy_plus_x_squared(x_, y)), x)
    numeric_y = central_difference(lambda y_: np.sum(sin_xy_plus_x_squared(x, y_)), y)
    np.testing.assert_allclose(graph.inputs[0].grad, numeric_x, rtol=1e-7)
    np.testing.assert_allclose(graph.inputs[1].grad, numeric_y, rtol=1e-7)
    # the intermediate node u = x·y: ∂L/∂u = cos(u), elementwise
    (product,) = [node for node in graph.nodes if node.op == "multiply"]
    np.testing.assert_allclose(product.grad, np.cos(x * y), rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=3, max_side=4), elements=st.floats(-2, 2)))
def test_input_gradient_equals_cm_grad_for_drawn_shapes(x):
    f = lambda x: np.sum(np.tanh(x) * x + np.exp(-x * x))  # noqa: E731
    graph = cm.trace(f, x)
    np.testing.assert_allclose(graph.inputs[0].grad, cm.grad(f)(x), rtol=1e-14)
    assert all(node.shape == node.value.shape for node in graph.nodes)
    assert all(node.grad.shape == node.shape for node in graph.nodes if node.grad is not None)


def test_constants_appear_as_constant_nodes():
    c = np.array([1.0, -2.0, 3.0])
    graph = cm.trace(lambda x: np.sum(x * c), np.ones(3))
    (constant,) = [node for node in graph.nodes if node.op == "constant"]
    np.testing.assert_array_equal(constant.value, c)
    assert constant.grad is None
    (product,) = [node for node in graph.nodes if node.op == "multiply"]
    assert product.parents == ("v0", constant.id)
    np.testing.assert_array_equal(graph.inputs[0].grad, c)


def test_a_captured_tensor_with_requires_grad_is_a_parameter_node_with_its_gradient():
    w = cm.Tensor(np.array([2.0, -1.0]), requires_grad=True, name="w")
    graph = cm.trace(lambda x: np.sum(np.sin(w * x)), np.array([0.5, 0.25]))
    (parameter,) = [node for node in graph.nodes if node.op == "parameter"]
    assert parameter.name == "w"
    np.testing.assert_allclose(parameter.grad, np.array([0.5, 0.25]) * np.cos(w.value * [0.5, 0.25]))
    assert w.grad is None  # trace reports gradients; it does not accumulate them into .grad


def test_an_input_used_twice_by_one_op_gets_both_contributions():
    graph = cm.trace(lambda x: x * x, 3.0)
    assert graph["v1"].parents == ("v0", "v0")
    assert graph.inputs[0].grad == 6.0
    text = graph.explain()
    assert "v0 is used twice (by v1): the contributions add" in text
    assert "∂L/∂v0 = 3 + 3 = 6" in text


def test_input_names_fall_back_to_x0_x1():
    assert [n.name for n in cm.trace(lambda *xs: xs[0] * xs[1], 1.0, 2.0).inputs] == ["x0", "x1"]
    assert [n.name for n in cm.trace(np.sin, 1.0).inputs] == ["x"]  # NumPy 2 ufuncs have signatures
    assert [n.name for n in cm.trace(lambda a, *rest: a * rest[0], 1.0, 2.0).inputs] == ["a", "x1"]


def test_an_unused_input_has_zero_gradient_and_an_independent_output_is_allowed():
    graph = cm.trace(lambda x, y: np.sin(x), 1.0, 2.0)
    assert graph.inputs[1].grad == 0.0
    assert "L does not depend on v1" in graph.explain()
    constant = cm.trace(lambda x: np.float64(4.0), 1.0)
    assert constant.output.op == "constant" and constant.inputs[0].grad == 0.0


def test_float32_stays_float32_in_the_graph():
    graph = cm.trace(lambda x: np.sum(np.tanh(x) * 2.0), np.ones(3, dtype=np.float32))
    assert all(node.dtype == np.float32 for node in graph.nodes)
    assert all(node.grad.dtype == np.float32 for node in graph.nodes)


def test_a_gradient_computed_inside_f_is_part_of_the_graph():
    x = np.array([0.5, -1.0, 2.0])
    graph = cm.trace(lambda x: np.sum(cm.grad(lambda z: np.sum(z ** 3))(x)), x)  # Σ 3x²
    np.testing.assert_allclose(graph.output.value, np.sum(3 * x ** 2))
    np.testing.assert_allclose(graph.inputs[0].grad, 6 * x)


def test_the_recorder_is_switched_off_after_trace_even_when_f_fails():
    cm.trace(np.sin, 1.0)
    assert STATE.recorder is None

    def fails(x):
        raise RuntimeError("inside f")

    with pytest.raises(RuntimeError, match="inside f"):
        cm.trace(fails, 1.0)
    assert STATE.recorder is None and STATE.reverse_depth == 0


# ---- non-scalar outputs ----------------------------------------------------------------------------
def test_non_scalar_output_needs_a_gradient_seed():
    with pytest.raises(cm.NonScalarOutputError, match=r"(?s)shape \(3,\).*gradient="):
        cm.trace(lambda x: np.sin(x), np.ones(3))


def test_non_scalar_output_with_a_seed_gives_the_vector_jacobian_product():
    x = np.array([0.1, 0.2, 0.3])
    u = np.array([1.0, -2.0, 0.5])
    graph = cm.trace(lambda x: np.sin(x) * x, x, gradient=u)
    _, pullback = cm.vjp(lambda x: np.sin(x) * x, x)
    np.testing.assert_allclose(graph.inputs[0].grad, pullback(u)[0], rtol=1e-14)
    np.testing.assert_array_equal(graph.output.grad, u)
    assert "the gradient= you passed" in graph.explain()
    with pytest.raises(cm.ShapeError):
        cm.trace(lambda x: np.sin(x), x, gradient=np.ones(4))


# ---- a 2-layer network ------------------------------------------------------------------------------
RNG = np.random.default_rng(3)
DATA = RNG.standard_normal((6, 3))
TARGET = RNG.standard_normal((6, 1))
PARAMS = (RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 1)),
          RNG.standard_normal(1))


def two_layer_loss_by_broadcasting(W1, b1, W2, b2):
    hidden = np.tanh(np.sum(DATA[:, :, None] * W1, axis=1) + b1)
    out = np.sum(hidden[:, :, None] * W2, axis=1) + b2
    return np.mean((out - TARGET) ** 2)


def two_layer_loss_by_matmul(W1, b1, W2, b2):
    hidden = np.tanh(DATA @ W1 + b1)
    return np.mean((hidden @ W2 + b2 - TARGET) ** 2)


def _has(name: str) -> bool:
    return name in cm.supported_functions()


@pytest.mark.parametrize("loss", [
    two_layer_loss_by_broadcasting,
    pytest.param(two_layer_loss_by_matmul, marks=pytest.mark.skipif(
        not _has("numpy.matmul"), reason="np.matmul has no rule yet (contraction rules not landed)")),
])
def test_two_layer_network_gradients_equal_cm_grad(loss):
    graph = cm.trace(loss, *PARAMS)
    expected = cm.grad(loss, argnums=(0, 1, 2, 3))(*PARAMS)
    assert [node.name for node in graph.inputs] == ["W1", "b1", "W2", "b2"]
    for node, grad in zip(graph.inputs, expected, strict=True):
        np.testing.assert_allclose(node.grad, grad, rtol=1e-12, err_msg=node.name)
    np.testing.assert_allclose(graph.output.value, loss(*PARAMS))
    # the hidden activation: ∂L/∂h = ∂L/∂(pre-activation) / (1 − h²), elementwise
    (tanh,) = [node for node in graph.nodes if node.op == "tanh"]
    (pre,) = [graph[p] for p in tanh.parents]
    np.testing.assert_allclose(pre.grad, tanh.grad * (1 - tanh.value ** 2), rtol=1e-12)
    text = graph.explain()
    assert f"∂L/∂{pre.id} = ∂L/∂{tanh.id} ⊙ (1 − tanh² {pre.id})" in text
    assert "summed over the broadcast axes to shape (4,)" in text  # b1's gradient sums over the batch


# ---- explain -----------------------------------------------------------------------------------------
def test_explain_mentions_every_node_forward_and_backward():
    graph = cm.trace(sin_xy_plus_x_squared, X, Y)
    text = graph.explain()
    forward, backward = text.split("Backward pass")
    for node in graph.nodes:
        assert re.search(rf"^  {node.id} = ", forward, re.MULTILINE), node.id
        assert f"∂L/∂{node.id} = " in backward, node.id


def g4(value: float) -> str:
    return format(value, ".4g")


def test_explain_gives_the_right_numbers_for_sin_xy_plus_x_squared():
    text = cm.trace(sin_xy_plus_x_squared, X, Y).explain()
    c = np.cos(X * Y)
    assert "v0 = x = 0.7    (input)" in text
    assert f"v2 = v0 · v1 = {g4(X * Y)}" in text
    assert f"v3 = sin(v2) = {g4(np.sin(X * Y))}" in text
    assert f"v5 = v3 + v4 = {g4(np.sin(X * Y) + X ** 2)}    ← output L" in text
    assert f"∂L/∂v2 = ∂L/∂v3 · (cos v2) = 1 · {g4(c)} = {g4(c)}" in text
    assert f"∂L/∂v1 = ∂L/∂v2 · v0 = {g4(c)} · 0.7 = {g4(X * c)}" in text
    assert "v0 is used twice (by v2, v4): the contributions add" in text
    assert f"∂L/∂v2 · v1 = {g4(c)} · 1.3 = {g4(Y * c)}" in text
    assert f"∂L/∂v4 · (2·v0^(2−1)) = 1 · {g4(2 * X)} = {g4(2 * X)}" in text
    assert f"∂L/∂v0 = {g4(Y * c)} + {g4(2 * X)} = {g4(Y * c + 2 * X)}" in text
    assert f"∂L/∂x = {g4(Y * c + 2 * X)}" in text


def test_explain_shows_the_chain_rule_through_tanh_with_its_local_derivative():
    w = 0.8
    graph = cm.trace(lambda x: np.tanh(w * x), 1.5)
    a = w * 1.5
    local = 1 - np.tanh(a) ** 2
    text = graph.explain()
    assert f"v2 = tanh(v1) = {g4(np.tanh(a))}" in text
    assert f"∂L/∂v1 = ∂L/∂v2 · (1 − tanh² v1) = 1 · {g4(local)} = {g4(local)}" in text
    assert f"∂L/∂v0 = ∂L/∂v1 · 0.8 = {g4(local)} · 0.8 = {g4(local * w)}" in text


def test_explain_shows_arrays_compactly_with_shape_and_first_entries():
    x = np.arange(12.0).reshape(3, 4) / 10
    text = cm.trace(lambda x: np.sum(np.sin(x)), x).explain()
    assert "v0 = x = (3, 4) [0, 0.1, 0.2, 0.3, …]    (input)" in text
    expected = ", ".join(g4(v) for v in np.cos(x).ravel()[:4])
    assert f"⊙ (3, 4) [{expected}, …]" in text  # the local derivative cos x, as numbers
    assert "(sum: ∂(Σ_j x_j)/∂x_i = 1)" in text  # a non-elementwise step names its rule
    assert "v2 = sum(v1) = " in text
    small = cm.trace(lambda x: np.sum(x * x), np.array([[1.0, 2.0], [3.0, 4.0]])).explain()
    assert "v0 = x = [[1, 2], [3, 4]]    (input)" in small


# ---- to_dot and HTML -----------------------------------------------------------------------------
NODE_LINE = re.compile(r'^\s*(v\d+) \[label="((?:[^"\\]|\\.)*)"[^\]]*\];$')
EDGE_LINE = re.compile(r"^\s*(v\d+) -> (v\d+);$")


def test_to_dot_has_one_node_line_per_node_and_one_edge_per_parent_link():
    graph = cm.trace(lambda x, y: np.sum(np.sin(x * y) + x * x * np.array([1.0, 2.0])),
                     np.array([0.3, 0.4]), np.array([1.0, -1.0]))
    dot = graph.to_dot()
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph calcml {" and lines[-1] == "}"
    node_lines = [NODE_LINE.match(line) for line in lines if NODE_LINE.match(line)]
    edge_lines = [EDGE_LINE.match(line).groups() for line in lines if EDGE_LINE.match(line)]
    assert [m.group(1) for m in node_lines] == [node.id for node in graph.nodes]
    assert Counter(edge_lines) == Counter((p, node.id) for node in graph.nodes for p in node.parents)
    assert len(edge_lines) == sum(len(node.parents) for node in graph.nodes)
    for match, node in zip(node_lines, graph.nodes, strict=True):
        label = match.group(2)
        assert node.op in label and f"shape {node.shape}" in label and "value " in label and "grad " in label
    assert dot.count("{") == dot.count("}")


def test_to_dot_escapes_quotes_in_labels():
    graph = cm.trace(lambda x: x * 2.0, 1.0)
    graph.nodes[0] = dataclasses.replace(graph.nodes[0], name='say "hi"')
    line = graph.to_dot().splitlines()[3]
    assert NODE_LINE.match(line) and '\\"hi\\"' in line


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` binary is not installed")
def test_to_dot_is_accepted_by_graphviz():
    dot = cm.trace(sin_xy_plus_x_squared, X, Y).to_dot()
    result = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout


def test_repr_html_is_a_table_with_one_row_per_node():
    graph = cm.trace(sin_xy_plus_x_squared, X, Y)
    table = graph._repr_html_()
    assert table.startswith("<table") and table.endswith("</table>")
    assert table.count("<tr>") == len(graph) + 1  # header + nodes
    assert "sin(v2)" in table and "← output" in table
    assert "v0 · v1" in table
    assert repr(graph) == "Graph(6 nodes, 4 operations, output v5 = v3 + v4, shape ())"


def test_explain_writes_the_power_rule_even_when_its_value_is_one():
    # at x = 0.5, d(x²)/dx = 2·0.5 = 1: the text must still show the rule, not a bare "· 1"
    text = cm.trace(lambda x: x ** 2, 0.5).explain()
    assert "2·v0^(2−1)" in text


SIGNED_ZERO = re.compile(r"(?<![\w.])-0(?![\w.])")


def test_a_signed_zero_prints_as_zero_in_every_text():
    # −max(x, 0) at x = −2: the value is −0.0 and ∂L/∂x = −1 · ReLU′(−2) = −0.0
    graph = cm.trace(lambda x: -np.maximum(x, 0.0), -2.0)
    assert np.signbit(graph.output.value) and np.signbit(graph.inputs[0].grad)
    texts = {"explain": graph.explain(), "to_dot": graph.to_dot(), "html": graph._repr_html_()}
    for name, text in texts.items():
        assert SIGNED_ZERO.search(text) is None, name
    assert "v2 = −v1 = 0    ← output L" in texts["explain"] and "∂L/∂x = 0" in texts["explain"]
    assert "value 0\\ngrad 1" in texts["to_dot"] and "value -2\\ngrad 0" in texts["to_dot"]
    assert "v1 = v0 · 0 = 0    ← output L" in cm.trace(lambda x: x * 0.0, -2.0).explain()  # −2 · 0 = −0.0


# ---- formulas: declared on each primitive, never read from docstrings ----------------------------------
def test_every_registered_primitive_declares_its_formula():
    import calcml.integrate.quad  # noqa: F401  (primitives declared outside the engine register on import)
    import calcml.nn.conv  # noqa: F401
    import calcml.ode.odeint  # noqa: F401
    from calcml.autodiff.primitive import REGISTRY

    ours = {name: prim for name, prim in REGISTRY.items()  # not the ones tests declare
            if getattr(prim.forward, "__module__", "").split(".")[0] in ("calcml", "numpy")}
    assert len(ours) > 90
    missing = sorted(name for name, prim in ours.items() if prim.formula is None or not prim.formula.rule)
    assert not missing, f"declare a Formula for {missing}"
    no_partial = sorted(name for name, prim in ours.items()
                        if prim.broadcasts and name != "where" and prim.formula.partial(0, ["a", "b", "c"]) is None)
    assert not no_partial, f"elementwise primitives without ∂out/∂x: {no_partial}"


def _softclip(x):
    """softclip(x) = x / (1 + |x|).  d/dx softclip(x) = 1 / (1 + |x|)² (a docstring is never read for rules)."""
    return x / (1 + np.abs(x))


def _softclip_primitive(**declared):
    prim = cm.primitive(_softclip, name="softclip", **declared)
    prim.defvjp(lambda g, ans, x: g / (1 + np.abs(x)) ** 2)
    return prim


def test_a_user_primitive_without_formula_is_explained_by_its_numbers_only():
    softclip = _softclip_primitive()
    assert softclip.formula is None and softclip.derivative == ""
    graph = cm.trace(lambda x: np.sum(softclip(x)), np.array([1.0]))
    text = graph.explain()
    assert graph["v1"].derivative == "" and "(∂v1/∂v0)ᵀ ∂L/∂v1 = [0.25]" in text and "(softclip:" not in text


def test_a_user_primitive_with_derivative_shows_its_rule_under_the_step():
    softclip = _softclip_primitive(derivative="d/dx softclip(x) = 1/(1 + |x|)²")
    text = cm.trace(lambda x: np.sum(softclip(x)), np.array([1.0])).explain()
    assert "(∂v1/∂v0)ᵀ ∂L/∂v1 = [0.25]\n    (softclip: d/dx softclip(x) = 1/(1 + |x|)²)" in text


def test_a_user_primitive_with_partials_shows_its_local_derivative_with_the_operands():
    from calcml.autodiff.formula import Formula

    softclip = _softclip_primitive(formula=Formula("d/dx softclip(x) = 1/(1 + |x|)²", partials=("1/(1 + |{0}|)²",)))
    text = cm.trace(lambda x: softclip(x) * 3.0, 1.0).explain()
    assert "∂L/∂v0 = ∂L/∂v1 · (1/(1 + |v0|)²) = 3 · 0.25 = 0.75" in text
    assert "(softclip:" not in text  # the formula shows the rule already
