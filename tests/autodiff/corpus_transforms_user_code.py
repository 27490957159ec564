"""A corpus of user code under calcml's function transforms, each with an answer that does not come from calcml.

The first two corpora differentiate ~270 plain functions with grad, jacobian, backward and hessian. This one
covers what people do *with* the transforms: ``cm.vmap`` (in_axes None / int / negative / pytrees, out_axes),
per-example gradients ``cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))``, ``cm.jvp``, ``cm.vjp``, ``cm.hvp``,
``cm.jacobian(mode="fwd" | "rev")``, ``cm.hessian`` with argnums tuples and has_aux, ``cm.stop_gradient``,
``cm.custom_vjp`` / ``cm.custom_jvp`` and ``cm.checkpoint``, applied to model code: losses that index
``z[y]`` with a label, softmax and logsumexp written out, ``np.where`` guards, masks, reductions with
keepdims, normalization layers, attention written with einsum, RNN loops, Python control flow on values.

Each case is a function returning two thunks, ``(ours, truth)``:

  ours    calcml's answer (a pytree of arrays);
  truth   the same quantity from somewhere else: a Python loop over the examples of the plain transform
          (that is what vmap means), a ``torch.func`` twin (float64), central differences of the same code
          on plain NumPy arrays, or a closed form.

``test_corpus_transforms_user_code.py`` compares them leaf by leaf and holds top-level results to be plain
NumPy values (DESIGN: transforms return plain arrays at the top level; a Tensor that leaks out refuses
``np.asarray`` with a message about differentiation). Cases with ``wrong`` are the bugs this corpus found
that are not fixed yet: strict xfails naming where the bug lies. ``REFUSALS`` are calls that must raise a
clear calcml error (a refusal, never a wrong number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

import calcml as cm

VMAP, PER_EXAMPLE, FORWARD_REVERSE, CURVATURE, STOP, CUSTOM, CHECKPOINT, LOSSES = (
    "vmap", "per-example gradients", "jvp / vjp / jacobian", "hessian / hvp", "stop_gradient",
    "custom_vjp / custom_jvp", "checkpoint", "nn losses under transforms")


@dataclass(frozen=True)
class Case:
    """One piece of user code under a transform: calcml's answer, the answer from elsewhere, the tolerance."""

    name: str
    area: str
    build: Callable[[], tuple[Callable, Callable]]
    rtol: float = 1e-9
    wrong: str = ""  # a known wrong answer or leak: the test is a strict xfail with this reason
    plain: bool = True  # the result must be plain NumPy values (no Tensor) at the top level


CASES: list[Case] = []


def case(area: str, rtol: float = 1e-9, wrong: str = "", plain: bool = True) -> Callable:
    """Register ``build() -> (ours, truth)`` under its function name."""

    def register(build: Callable) -> Callable:
        CASES.append(Case(build.__name__, area, build, rtol, wrong, plain))
        return build

    return register


# ---- truth from elsewhere ------------------------------------------------------------------------
torch.set_num_threads(1)
F = torch.nn.functional


def T(a) -> torch.Tensor:
    """A float64 torch tensor (integers stay integers, for labels)."""
    a = np.array(a)  # a copy: torch warns about read-only arrays
    return torch.as_tensor(a) if a.dtype.kind in "iu" else torch.as_tensor(a, dtype=torch.float64)


def numpy_of(tree):
    """torch results as NumPy, in the same structure."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().numpy()
    if isinstance(tree, dict):
        return {k: numpy_of(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(numpy_of(v) for v in tree)
    return tree


def loop(transformed: Callable, *batched, constants: tuple = (), stack_axis: int = 0):
    """What vmap means: the transform run example by example (batch axis 0 of every ``batched``) and stacked;
    ``constants`` come first in the call, unbatched."""
    results = [transformed(*constants, *[b[i] for b in batched]) for i in range(len(batched[0]))]
    return stack(results, stack_axis)


def stack(results: list, axis: int = 0):
    first = results[0]
    if isinstance(first, dict):
        return {k: stack([r[k] for r in results], axis) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(stack([r[i] for r in results], axis) for i in range(len(first)))
    return np.stack([np.asarray(r) for r in results], axis=axis)


def numeric_gradient(f: Callable, x: np.ndarray) -> np.ndarray:
    """Fourth-order central differences of a scalar f of plain arrays: ∂f/∂x_i ≈ (−f(x+2h) + 8f(x+h) − 8f(x−h)
    + f(x−2h)) / 12h, error O(h⁴)."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        h = 1e-3 * max(1.0, abs(x[index]))

        def at(delta, index=index):
            moved = x.copy()
            moved[index] += delta
            return float(f(moved))

        g[index] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return g


# ---- data the user code closes over ----------------------------------------------------------------
_rng = np.random.default_rng(20261201)
N, D, C, H = 5, 4, 3, 6
X = _rng.standard_normal((N, D))            # a batch of 5 examples, 4 features
Y = np.array([0, 2, 1, 2, 0])              # integer class labels
Y_ONEHOT = np.eye(C)[Y]
W = _rng.standard_normal((D, C)) * 0.7
B = _rng.standard_normal(C) * 0.1
W1 = _rng.standard_normal((D, H)) * 0.5
B1 = _rng.standard_normal(H) * 0.1
W2 = _rng.standard_normal((H, C)) * 0.5
B2 = _rng.standard_normal(C) * 0.1
MLP = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
TARGETS = _rng.standard_normal(N)
MASK = (_rng.random((N, D)) > 0.35).astype(np.float64)
MASK[0, 0] = 1.0  # every row keeps at least one entry
SEQUENCES = _rng.standard_normal((N, 6, D))
WX = _rng.standard_normal((D, 3)) * 0.5
WH = _rng.standard_normal((3, 3)) * 0.5
QUERIES = _rng.standard_normal((N, 3, D))
KEYS = _rng.standard_normal((N, 3, D))
VALUES = _rng.standard_normal((N, 3, 2))
IMAGES = _rng.standard_normal((3, 1, 5, 5))
KERNEL = _rng.standard_normal((2, 1, 3, 3)) * 0.5
KERNEL_BIAS = _rng.standard_normal(2) * 0.1
V_DIR = _rng.standard_normal((N, D))       # tangent directions
w_vec = _rng.standard_normal(D)


# ---- the user code (plain NumPy, as written in notebooks) --------------------------------------------
def example_cross_entropy(params, x, y):
    """One example's loss: logits, max-shifted logsumexp written out, minus the label's logit z[y]."""
    z = x @ params["W"] + params["b"]
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) - z[y]


def torch_example_cross_entropy(params, x, onehot):
    z = x @ params["W"] + params["b"]
    return torch.logsumexp(z, -1) - torch.sum(z * onehot)


def mlp_loss(params, x, y):
    """Two-layer tanh network, softmax cross-entropy on one example (labels index the log-probabilities)."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    log_p = z - np.log(np.sum(np.exp(z - np.max(z)))) - np.max(z)
    return -log_p[y]


def torch_mlp_loss(params, x, onehot):
    """The twin takes the label one-hot: torch.func.vmap cannot batch F.one_hot."""
    h = torch.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return -torch.sum(F.log_softmax(z, -1) * onehot)


def layer_norm(x, eps=1e-5):
    """(x − mean) / √(var + ε) over the last axis, keepdims so it broadcasts back."""
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def attention(q, k, v):
    """Scaled dot-product attention, softmax written out with the max shift."""
    scores = np.einsum("id,jd->ij", q, k) / np.sqrt(q.shape[-1])
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    p = np.exp(scores)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return p @ v


def torch_attention(q, k, v):
    return torch.softmax(q @ k.T / np.sqrt(q.shape[-1]), -1) @ v


def rnn_last_state_loss(Wh, seq):
    """An Elman RNN over one sequence, h₀ = 0, loss ‖h_T‖²."""
    h = np.zeros(Wh.shape[0])
    for t in range(seq.shape[0]):
        h = np.tanh(seq[t] @ WX + h @ Wh)
    return np.sum(h ** 2)


def torch_rnn_last_state_loss(Wh, seq):
    h = torch.zeros(Wh.shape[0], dtype=torch.float64)
    for t in range(seq.shape[0]):
        h = torch.tanh(seq[t] @ T(WX) + h @ Wh)
    return torch.sum(h ** 2)


# ==== vmap ==========================================================================================
@case(VMAP)
def vmap_layer_norm_per_example():
    A = _rng.standard_normal((N, 3, D))
    return (lambda: cm.vmap(layer_norm)(A),
            lambda: numpy_of(F.layer_norm(T(A), (D,), eps=1e-5)))


@case(VMAP)
def vmap_attention_einsum():
    return (lambda: cm.vmap(attention)(QUERIES, KEYS, VALUES),
            lambda: numpy_of(torch.func.vmap(torch_attention)(T(QUERIES), T(KEYS), T(VALUES))))


@case(VMAP)
def vmap_in_axes_one_out_axes_one():
    f = lambda x, w: np.tanh(x * w)
    return (lambda: cm.vmap(f, in_axes=(1, None), out_axes=1)(X.T, w_vec),
            lambda: loop(lambda x: f(x, w_vec), X, stack_axis=1))


@case(VMAP)
def vmap_negative_in_axes_and_out_axes():
    f = lambda x: x / np.sum(np.abs(x))
    return (lambda: cm.vmap(f, in_axes=-1, out_axes=-1)(X.T),
            lambda: np.stack([f(x) for x in X], axis=-1))


@case(VMAP)
def vmap_dict_in_axes_with_a_shared_entry():
    params = {"a": X, "b": w_vec}
    return (lambda: cm.vmap(lambda p: np.sum(p["a"] * p["b"]), in_axes=({"a": 0, "b": None},))(params),
            lambda: X @ w_vec)


@case(VMAP)
def vmap_tuple_prefix_in_axes():
    f = lambda pair, c: np.sum(pair[0] * pair[1]) + c
    return (lambda: cm.vmap(f, in_axes=((1, 0), None))((X.T, X), 0.5),
            lambda: np.sum(X * X, axis=1) + 0.5)


@case(VMAP)
def vmap_tuple_out_axes():
    f = lambda x: (np.sum(x ** 2), 2.0 * x)
    return (lambda: cm.vmap(f, out_axes=(0, 1))(X),
            lambda: (np.sum(X ** 2, axis=1), 2.0 * X.T))


@case(VMAP)
def vmap_out_axes_none_for_an_unbatched_output():
    f = lambda x, c: (np.sum(x), 2.0 * c)
    return (lambda: cm.vmap(f, in_axes=(0, None), out_axes=(0, None))(X, np.ones(2)),
            lambda: (np.sum(X, axis=1), 2.0 * np.ones(2)))


@case(VMAP)
def vmap_batch_of_one():
    return (lambda: cm.vmap(lambda x: np.sum(x ** 2))(X[:1]), lambda: np.sum(X[:1] ** 2, axis=1))


@case(VMAP)
def vmap_python_if_on_a_batched_value():
    def f(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.sin(x))
    return lambda: cm.vmap(f)(X), lambda: np.array([f(x) for x in X])


@case(VMAP)
def vmap_python_if_on_an_unbatched_setting():
    def f(x, scale):
        return np.sum(x) * scale if scale > 1 else np.sum(x)
    return lambda: cm.vmap(f, in_axes=(0, None))(X, 2.0), lambda: 2.0 * np.sum(X, axis=1)


@case(VMAP)
def vmap_loop_over_elements_with_if():
    def f(x):
        total = 0.0
        for xi in x:
            if xi > 0:
                total = total + xi ** 2
        return total
    return lambda: cm.vmap(f)(X), lambda: np.sum(np.where(X > 0, X ** 2, 0.0), axis=1)


@case(VMAP)
def nested_vmap_pairwise_distances():
    A, Bp = _rng.standard_normal((4, 2)), _rng.standard_normal((3, 2))
    dist = lambda a, b: np.sqrt(np.sum((a - b) ** 2))
    return (lambda: cm.vmap(cm.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(A, Bp),
            lambda: numpy_of(torch.cdist(T(A), T(Bp))))


@case(VMAP)
def grad_of_nested_vmap_pairwise_distances():
    A, Bp = _rng.standard_normal((4, 2)), _rng.standard_normal((3, 2))
    dist = lambda a, b: np.sqrt(np.sum((a - b) ** 2))
    total = lambda A: np.sum(cm.vmap(cm.vmap(dist, in_axes=(None, 0)), in_axes=(0, None))(A, Bp))
    return (lambda: cm.grad(total)(A),
            lambda: numpy_of(torch.func.grad(lambda A: torch.sum(torch.cdist(A, T(Bp))))(T(A))))


@case(VMAP)
def jacobian_of_vmap_is_block_diagonal():
    f = lambda x: np.sum(x ** 2 * MASK[0])
    expected = np.zeros((N, N, D))
    for i in range(N):
        expected[i, i] = 2 * X[i] * MASK[0]
    return lambda: (cm.jacobian(cm.vmap(f))(X), cm.jacobian(cm.vmap(f), mode="fwd")(X)), lambda: (expected, expected)


@case(VMAP)
def vmap_of_jvp_directional_derivatives():
    f = lambda x: np.tanh(x) * np.sum(x)
    tf = lambda x: torch.tanh(x) * torch.sum(x)
    return (lambda: cm.vmap(lambda x, v: cm.jvp(f, (x,), (v,))[1])(X, V_DIR),
            lambda: numpy_of(torch.func.vmap(lambda x, v: torch.func.jvp(tf, (x,), (v,))[1])(T(X), T(V_DIR))))


@case(VMAP)
def vmap_of_hessian():
    f = lambda x: np.sum(np.exp(x) * x[0]) + np.prod(x)
    tf = lambda x: torch.sum(torch.exp(x) * x[0]) + torch.prod(x)
    return lambda: cm.vmap(cm.hessian(f))(X), lambda: numpy_of(torch.func.vmap(torch.func.hessian(tf))(T(X)))


@case(VMAP)
def vmap_of_forward_and_reverse_jacobians():
    f = lambda x: np.tanh(x) * x[0]
    tf = lambda x: torch.tanh(x) * x[0]
    expected = numpy_of(torch.func.vmap(torch.func.jacrev(tf))(T(X)))
    return (lambda: (cm.vmap(cm.jacobian(f, mode="fwd"))(X), cm.vmap(cm.jacobian(f, mode="rev"))(X)),
            lambda: (expected, expected))


# ==== per-example gradients ========================================================================
@case(PER_EXAMPLE)
def per_example_cross_entropy_with_label_index():
    params = {"W": W, "b": B}
    return (lambda: cm.vmap(cm.grad(example_cross_entropy), in_axes=(None, 0, 0))(params, X, Y),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(torch_example_cross_entropy), in_dims=(None, 0, 0))(
                {k: T(v) for k, v in params.items()}, T(X), T(Y_ONEHOT))))


@case(PER_EXAMPLE)
def per_example_mlp_gradients_equal_a_loop():
    return (lambda: cm.vmap(cm.grad(mlp_loss), in_axes=(None, 0, 0))(MLP, X, Y),
            lambda: loop(cm.grad(mlp_loss), X, Y, constants=(MLP,)))


@case(PER_EXAMPLE)
def per_example_mlp_gradients_match_torch():
    return (lambda: cm.vmap(cm.grad(mlp_loss), in_axes=(None, 0, 0))(MLP, X, Y),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(torch_mlp_loss), in_dims=(None, 0, 0))(
                {k: T(v) for k, v in MLP.items()}, T(X), T(Y_ONEHOT))))


@case(PER_EXAMPLE)
def per_example_gradient_mean_is_the_batch_gradient():
    return (lambda: tree_mean(cm.vmap(cm.grad(mlp_loss), in_axes=(None, 0, 0))(MLP, X, Y)),
            lambda: {k: numeric_gradient(lambda v, k=k: plain_batch_mlp({**MLP, k: v}), MLP[k]) for k in MLP})


def tree_mean(grads: dict) -> dict:
    return {k: np.mean(v, axis=0) for k, v in grads.items()}


def plain_batch_mlp(params) -> float:
    return float(np.mean([mlp_loss(params, x, y) for x, y in zip(X, Y)]))


@case(PER_EXAMPLE)
def per_example_value_and_grad_with_aux_predictions():
    def loss(params, x, y):
        z = x @ params["W"] + params["b"]
        return example_cross_entropy(params, x, y), {"prediction": np.argmax(z), "logits": z}
    params = {"W": W, "b": B}
    vg = cm.value_and_grad(loss, has_aux=True)
    return (lambda: cm.vmap(vg, in_axes=(None, 0, 0))(params, X, Y),
            lambda: loop(vg, X, Y, constants=(params,)))


@case(PER_EXAMPLE)
def per_example_masked_mean_with_where():
    def loss(w, x, m):
        r = (x * w) ** 2
        return np.sum(np.where(m > 0, r, 0.0)) / np.maximum(np.sum(m), 1.0)
    return (lambda: cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))(w_vec, X, MASK),
            lambda: np.stack([2 * x * x * w_vec * m / max(m.sum(), 1.0) for x, m in zip(X, MASK)]))


@case(PER_EXAMPLE)
def per_example_where_guarded_log():
    def f(x):
        safe = np.where(x > 0, x, 1.0)
        return np.sum(np.where(x > 0, np.log(safe), 0.0))
    return lambda: cm.vmap(cm.grad(f))(X), lambda: np.where(X > 0, 1.0 / np.where(X > 0, X, 1.0), 0.0)


@case(PER_EXAMPLE)
def per_example_gradient_through_python_if():
    def f(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.sin(x))
    return (lambda: cm.vmap(cm.grad(f))(X),
            lambda: np.stack([2 * x if np.sum(x) > 0 else np.cos(x) for x in X]))


@case(PER_EXAMPLE)
def per_example_gradient_through_loop_with_if():
    def f(x):
        total = 0.0
        for xi in x:
            if xi > 0:
                total = total + xi ** 2
        return total
    return lambda: cm.vmap(cm.grad(f))(X), lambda: np.where(X > 0, 2 * X, 0.0)


@case(PER_EXAMPLE)
def per_example_layer_norm_gradient():
    A = _rng.standard_normal((N, 3, D))
    weights = np.arange(D, dtype=np.float64)
    return (lambda: cm.vmap(cm.grad(lambda a: np.sum(layer_norm(a) * weights)))(A),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(
                lambda a: torch.sum(F.layer_norm(a, (D,), eps=1e-5) * T(weights))))(T(A))))


@case(PER_EXAMPLE)
def per_example_attention_gradients():
    f = lambda q, k, v: np.sum(attention(q, k, v) ** 2)
    tf = lambda q, k, v: torch.sum(torch_attention(q, k, v) ** 2)
    return (lambda: cm.vmap(cm.grad(f, argnums=(0, 1, 2)))(QUERIES, KEYS, VALUES),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(tf, argnums=(0, 1, 2)))(T(QUERIES), T(KEYS), T(VALUES))))


@case(PER_EXAMPLE)
def per_example_rnn_gradients_equal_a_loop():
    return (lambda: cm.vmap(cm.grad(rnn_last_state_loss), in_axes=(None, 0))(WH, SEQUENCES),
            lambda: loop(cm.grad(rnn_last_state_loss), SEQUENCES, constants=(WH,)))


@case(PER_EXAMPLE)
def per_example_rnn_gradients_match_torch():
    return (lambda: cm.vmap(cm.grad(rnn_last_state_loss), in_axes=(None, 0))(WH, SEQUENCES),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(torch_rnn_last_state_loss), in_dims=(None, 0))(
                T(WH), T(SEQUENCES))))


@case(PER_EXAMPLE)
def per_example_gradient_of_a_weight_used_twice():
    """sum(x · w · w): the cotangent reaching one use of w does not depend on the example."""
    f = lambda w, x: np.sum(x * w * w)
    return lambda: cm.vmap(cm.grad(f), in_axes=(None, 0))(w_vec, X), lambda: 2 * X * w_vec


@case(PER_EXAMPLE)
def per_example_gradients_with_negative_in_axes_and_argnums_tuple():
    f = lambda a, b: np.sum(np.sin(a) * b)
    return (lambda: cm.vmap(cm.grad(f, argnums=(0, 1)), in_axes=(-1, None))(X.T, w_vec),
            lambda: (np.cos(X) * w_vec, np.sin(X)))


@case(PER_EXAMPLE)
def per_example_logsumexp_and_softmax_helpers_with_label():
    softmax = np.exp(X[:, :C]) / np.sum(np.exp(X[:, :C]), axis=1, keepdims=True)
    f = lambda z, y: cm.logsumexp(z) - z[y]
    g = lambda z, y: -np.log(cm.softmax(z)[y])
    return (lambda: (cm.vmap(cm.grad(f))(X[:, :C], Y), cm.vmap(cm.grad(g))(X[:, :C], Y)),
            lambda: (softmax - Y_ONEHOT, softmax - Y_ONEHOT))


@case(PER_EXAMPLE)
def per_example_label_given_as_a_float():
    f = lambda z, y: -z[int(y)]
    return lambda: cm.vmap(cm.grad(f))(X[:, :C], Y.astype(float)), lambda: -Y_ONEHOT


@case(PER_EXAMPLE)
def per_example_conv_net_gradients_equal_a_loop():
    def loss(w, b, image):
        h = cm.nn.convolve2d(image[None], w, b, padding=1)
        return np.sum(cm.nn.max_pool2d(np.maximum(h, 0), 2) ** 2)
    per_example = cm.grad(loss, argnums=(0, 1))
    return (lambda: cm.vmap(per_example, in_axes=(None, None, 0))(KERNEL, KERNEL_BIAS, IMAGES),
            lambda: loop(per_example, IMAGES, constants=(KERNEL, KERNEL_BIAS)))


@case(PER_EXAMPLE)
def per_example_conv_net_gradients_match_torch():
    def loss(w, b, image):
        return np.sum(cm.nn.avg_pool2d(np.tanh(cm.nn.convolve2d(image[None], w, b, stride=2, padding=1)), 2) ** 2)

    def torch_loss(w, b, image):
        return torch.sum(F.avg_pool2d(torch.tanh(F.conv2d(image[None], w, b, stride=2, padding=1)), 2) ** 2)
    return (lambda: cm.vmap(cm.grad(loss, argnums=(0, 1)), in_axes=(None, None, 0))(KERNEL, KERNEL_BIAS, IMAGES),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(torch_loss, argnums=(0, 1)), in_dims=(None, None, 0))(
                T(KERNEL), T(KERNEL_BIAS), T(IMAGES))))


@case(PER_EXAMPLE)
def per_example_gradients_of_the_input_saliency():
    """∂loss/∂x per example (saliency), the parameters fixed."""
    return (lambda: cm.vmap(cm.grad(mlp_loss, argnums=1), in_axes=(None, 0, 0))(MLP, X, Y),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(torch_mlp_loss, argnums=1), in_dims=(None, 0, 0))(
                {k: T(v) for k, v in MLP.items()}, T(X), T(Y_ONEHOT))))


# ---- a cm.nn model's own weights (user leaves: results stay linked to them, so they may be Tensors) ----
def twin_models():
    """A calcml MLP and its torch twin (float64) with the same weights."""
    model = cm.nn.Sequential(cm.nn.Linear(D, H, rng=0, dtype=np.float64), cm.nn.Tanh(),
                             cm.nn.Linear(H, C, rng=1, dtype=np.float64))
    model[0].bias.copy_(B1)
    twin = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, C)).double()
    with torch.no_grad():
        for i in (0, 2):
            twin[i].weight.copy_(T(model[i].weight.value.T))
            twin[i].bias.copy_(T(model[i].bias.value))
    return model, twin


def values_of(tree):
    """Arrays of a result that may hold Tensors linked to a model's weights."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(values_of(t) for t in tree)
    return tree.value if type(tree) is cm.Tensor else tree


def torch_grads_as_ours(twin) -> list:
    """torch's parameter gradients in calcml's layout (Linear weights transposed)."""
    return [p.grad.numpy().T if p.ndim == 2 else p.grad.numpy() for p in twin.parameters()]


@case(PER_EXAMPLE, plain=False)
def per_example_gradients_of_a_models_own_parameters():
    model, twin = twin_models()
    loss = lambda params, x, y: cm.nn.losses.cross_entropy(model(x[None]), y[None])

    def truth():
        rows = []
        for x, y in zip(X, Y):
            twin.zero_grad()
            F.cross_entropy(twin(T(x)[None]), T(y)[None]).backward()
            rows.append(torch_grads_as_ours(twin))
        return [np.stack([r[i] for r in rows]) for i in range(4)]
    return lambda: values_of(cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))(model.parameters(), X, Y)), truth


@case(VMAP, plain=False)
def vmap_of_a_model_then_backward_into_its_weights():
    model, twin = twin_models()

    def ours():
        out = cm.vmap(model)(X)
        np.sum(out * V_DIR[:, :C]).backward()
        return out.value, [p.grad for p in model.parameters()]

    def truth():
        out = twin(T(X))
        torch.sum(out * T(V_DIR[:, :C])).backward()
        return numpy_of(out), torch_grads_as_ours(twin)
    return ours, truth


@case(CURVATURE, plain=False)
def gradient_penalty_backpropagates_into_the_model():
    """‖∂loss/∂x‖², then backward() into the weights (double backward, as WGAN-GP writes it)."""
    model, twin = twin_models()

    def ours():
        gx = cm.grad(lambda x: cm.nn.losses.cross_entropy(model(x), Y))(X)
        np.sum(gx ** 2).backward()
        return [p.grad for p in model.parameters()]

    def truth():
        x = T(X).requires_grad_()
        (gx,) = torch.autograd.grad(F.cross_entropy(twin(x), T(Y)), x, create_graph=True)
        torch.sum(gx ** 2).backward()
        return torch_grads_as_ours(twin)
    return ours, truth


@case(CURVATURE, plain=False)
def hvp_in_a_models_own_parameters():
    model, twin = twin_models()
    v = [_rng.standard_normal(p.shape) for p in model.parameters()]

    def torch_loss(w0, b0, w2, b2):
        return F.cross_entropy(torch.tanh(T(X) @ w0 + b0) @ w2 + b2, T(Y))
    primals = tuple(T(p.value) for p in model.parameters())
    return (lambda: values_of(cm.hvp(lambda ps: cm.nn.losses.cross_entropy(model(X), Y), model.parameters(), v)),
            lambda: list(numpy_of(torch.func.jvp(torch.func.grad(torch_loss, argnums=(0, 1, 2, 3)), primals,
                                                 tuple(T(a) for a in v))[1])))


@case(VMAP, plain=False)
def vmap_over_a_batched_leaf_then_backward():
    """An ensemble kept as one leaf Tensor (members along axis 0), mapped by vmap, then loss.backward()."""
    members = _rng.standard_normal((4, D, 2))

    def ours():
        leaf = cm.Tensor(members.copy(), requires_grad=True)
        np.sum(cm.vmap(lambda w: np.tanh(X @ w))(leaf) ** 2).backward()
        return leaf.grad

    def truth():
        leaf = T(members).requires_grad_()
        torch.sum(torch.tanh(T(X) @ leaf) ** 2).backward()
        return leaf.grad.numpy()
    return ours, truth


@case(PER_EXAMPLE, plain=False)
def per_example_gradient_penalty_into_a_leaf():
    """Σ_i ‖∇_w ℓ(w, x_i)‖², the per-example gradients from vmap(grad), backpropagated into the leaf w."""
    start = _rng.standard_normal((D, 2))
    loss = lambda w, x: np.sum(np.tanh(x @ w) ** 2)

    def ours():
        leaf = cm.Tensor(start.copy(), requires_grad=True)
        per_example = cm.vmap(cm.grad(loss), in_axes=(None, 0))(leaf, X)
        np.sum(per_example ** 2).backward()
        return per_example.value, leaf.grad

    def truth():
        leaf = T(start).requires_grad_()
        per_example = torch.func.vmap(torch.func.grad(lambda w, x: torch.sum(torch.tanh(x @ w) ** 2)),
                                      in_dims=(None, 0))(leaf, T(X))
        torch.sum(per_example ** 2).backward()
        return per_example.detach().numpy(), leaf.grad.numpy()
    return ours, truth


# ==== jvp / vjp / jacobian ======================================================================
def row_logsumexp_minus(a):
    """Σ_rows (logsumexp(a_row) − a_row): keepdims broadcasting back over the row."""
    return np.sum(np.log(np.sum(np.exp(a), axis=-1, keepdims=True)) - a, axis=0)


def torch_row_logsumexp_minus(a):
    return torch.sum(torch.logsumexp(a, -1, keepdim=True) - a, 0)


A34 = _rng.standard_normal((3, 4))
V34 = _rng.standard_normal((3, 4))


@case(FORWARD_REVERSE)
def jvp_of_keepdims_logsumexp():
    return (lambda: cm.jvp(row_logsumexp_minus, (A34,), (V34,)),
            lambda: numpy_of(torch.func.jvp(torch_row_logsumexp_minus, (T(A34),), (T(V34),))))


@case(FORWARD_REVERSE)
def vjp_of_keepdims_logsumexp():
    u = _rng.standard_normal(4)
    return (lambda: cm.vjp(row_logsumexp_minus, A34)[1](u),
            lambda: numpy_of(torch.func.vjp(torch_row_logsumexp_minus, T(A34))[1](T(u))))


@case(FORWARD_REVERSE)
def vjp_with_tuple_outputs_pulled_back_twice():
    f = lambda x, w: (x @ w, np.sum(x ** 2, axis=1))
    u = (_rng.standard_normal((N, C)), _rng.standard_normal(N))

    def ours():
        _, pullback = cm.vjp(f, X, W)
        return pullback(u), pullback(u)

    def truth():
        _, pullback = torch.func.vjp(lambda x, w: (x @ w, torch.sum(x ** 2, 1)), T(X), T(W))
        once = numpy_of(pullback((T(u[0]), T(u[1]))))
        return once, once
    return ours, truth


@case(FORWARD_REVERSE)
def vjp_with_aux():
    f = lambda x: (np.tanh(x), {"norm": np.sum(x ** 2)})
    u = _rng.standard_normal(D)
    return (lambda: (lambda out: (out[1](u), out[2]))(cm.vjp(f, w_vec, has_aux=True)),
            lambda: (((1 - np.tanh(w_vec) ** 2) * u,), {"norm": np.sum(w_vec ** 2)}))


@case(FORWARD_REVERSE)
def jvp_with_two_primals():
    tangents = (_rng.standard_normal(X.shape), _rng.standard_normal(W.shape))
    return (lambda: cm.jvp(lambda x, w: np.tanh(x @ w), (X, W), tangents),
            lambda: numpy_of(torch.func.jvp(lambda x, w: torch.tanh(x @ w), (T(X), T(W)), tuple(map(T, tangents)))))


@case(FORWARD_REVERSE)
def jvp_with_dict_primals():
    params = {"W": W, "b": B}
    tangent = {"W": np.ones_like(W), "b": np.zeros_like(B)}
    f = lambda p: np.sum(np.tanh(X @ p["W"] + p["b"]))
    return (lambda: cm.jvp(f, (params,), (tangent,))[1],
            lambda: np.sum((1 - np.tanh(X @ W + B) ** 2) * np.sum(X, axis=1, keepdims=True)))


@case(FORWARD_REVERSE)
def jacobian_fwd_and_rev_of_keepdims_logsumexp():
    expected = numpy_of(torch.func.jacrev(torch_row_logsumexp_minus)(T(A34)))
    return (lambda: (cm.jacobian(row_logsumexp_minus, mode="fwd")(A34), cm.jacobian(row_logsumexp_minus)(A34)),
            lambda: (expected, expected))


@case(FORWARD_REVERSE)
def jacobian_of_dict_outputs_with_argnums_tuple():
    f = lambda x, w: {"y": x @ w, "n": np.sum(x ** 2)}
    expected = {"y": (w_vec, X[0]), "n": (2 * X[0], np.zeros(D))}
    return (lambda: (cm.jacobian(f, argnums=(0, 1))(X[0], w_vec),
                     cm.jacobian(f, argnums=(0, 1), mode="fwd")(X[0], w_vec)),
            lambda: (expected, expected))


@case(FORWARD_REVERSE)
def jacobian_with_aux_and_argnums_tuple():
    f = lambda x, c: (x * c, np.sum(x))
    return (lambda: cm.jacobian(f, argnums=(0, 1), has_aux=True)(w_vec, 3.0),
            lambda: ((3.0 * np.eye(D), w_vec), np.sum(w_vec)))


@case(FORWARD_REVERSE)
def jacobian_of_softmax_layer_matches_torch():
    f = lambda z: np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))
    expected = numpy_of(torch.func.jacrev(lambda z: torch.softmax(z, -1))(T(X[0])))
    return (lambda: (cm.jacobian(f)(X[0]), cm.jacobian(f, mode="fwd")(X[0])), lambda: (expected, expected))


# ==== hessian / hvp ==============================================================================
def batch_norm_cubed(a, gamma, beta):
    """Training-mode batch norm over the batch axis (keepdims), affine, then a cubic readout."""
    mu = a.mean(axis=0, keepdims=True)
    var = a.var(axis=0, keepdims=True)
    return np.sum(((a - mu) / np.sqrt(var + 1e-5) * gamma + beta) ** 3)


def torch_batch_norm_cubed(a, gamma, beta):
    return torch.sum(F.batch_norm(a, None, None, gamma, beta, training=True, eps=1e-5) ** 3)


BN_INPUT = _rng.standard_normal((6, 3))
GAMMA = _rng.standard_normal(3)
BETA = _rng.standard_normal(3)


@case(CURVATURE)
def batch_norm_gradients_match_torch():
    return (lambda: cm.grad(batch_norm_cubed, argnums=(0, 1, 2))(BN_INPUT, GAMMA, BETA),
            lambda: numpy_of(torch.func.grad(torch_batch_norm_cubed, argnums=(0, 1, 2))(
                T(BN_INPUT), T(GAMMA), T(BETA))))


@case(CURVATURE)
def batch_norm_hessian_blocks_with_argnums_tuple():
    return (lambda: cm.hessian(batch_norm_cubed, argnums=(1, 2))(BN_INPUT, GAMMA, BETA),
            lambda: numpy_of(torch.func.hessian(torch_batch_norm_cubed, argnums=(1, 2))(
                T(BN_INPUT), T(GAMMA), T(BETA))))


@case(CURVATURE)
def batch_norm_hessian_of_the_input():
    return (lambda: cm.hessian(batch_norm_cubed)(BN_INPUT, GAMMA, BETA),
            lambda: numpy_of(torch.func.hessian(torch_batch_norm_cubed)(T(BN_INPUT), T(GAMMA), T(BETA))))


@case(CURVATURE)
def hessian_argnums_tuple_with_aux():
    def f(w, b):
        z = X @ w + b
        return np.sum(np.tanh(z) ** 2), {"z": z}
    tf = lambda w, b: torch.sum(torch.tanh(T(X) @ w + b) ** 2)
    return (lambda: cm.hessian(f, argnums=(0, 1), has_aux=True)(w_vec, 0.3),
            lambda: (numpy_of(torch.func.hessian(tf, argnums=(0, 1))(T(w_vec), T(0.3))), {"z": X @ w_vec + 0.3}))


@case(CURVATURE)
def hessian_of_logistic_regression_loss():
    labels = (TARGETS > 0).astype(np.float64)

    def loss(w):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - labels * z)
    p = 1 / (1 + np.exp(-(X @ w_vec)))
    return lambda: cm.hessian(loss)(w_vec), lambda: (X.T * (p * (1 - p))) @ X / N


@case(CURVATURE)
def hvp_of_mlp_loss_in_dict_parameters():
    v = {k: _rng.standard_normal(p.shape) for k, p in MLP.items()}
    batch = lambda p: np.mean(cm.vmap(mlp_loss, in_axes=(None, 0, 0))(p, X, Y))
    torch_batch = lambda p: torch.mean(torch.stack([torch_mlp_loss(p, T(x), T(y)) for x, y in zip(X, Y_ONEHOT)]))
    return (lambda: cm.hvp(batch, MLP, v),
            lambda: numpy_of(torch.func.jvp(torch.func.grad(torch_batch), ({k: T(a) for k, a in MLP.items()},),
                                            ({k: T(a) for k, a in v.items()},))[1]))


@case(CURVATURE)
def hvp_with_tuple_parameters():
    f = lambda p: np.sum(np.tanh(X @ p[0] + p[1]) ** 2)
    p, v = (w_vec, np.array(0.2)), (_rng.standard_normal(D), np.array(1.0))
    tf = lambda a, b: torch.sum(torch.tanh(T(X) @ a + b) ** 2)
    return (lambda: cm.hvp(f, p, v),
            lambda: numpy_of(torch.func.jvp(torch.func.grad(tf, argnums=(0, 1)), tuple(map(T, p)),
                                            tuple(map(T, v)))[1]))


@case(CURVATURE)
def hvp_with_aux():
    f = lambda x: (np.sum(x ** 3), np.sum(x))
    return lambda: cm.hvp(f, w_vec, np.ones(D), has_aux=True), lambda: (6 * w_vec, np.sum(w_vec))


@case(CURVATURE)
def hessian_with_aux_and_a_constant_argument():
    f = lambda x, c: (np.sum(x ** 3) * c, np.sum(x))
    return lambda: cm.hessian(f, has_aux=True)(w_vec, 2.0), lambda: (np.diag(12 * w_vec), np.sum(w_vec))


@case(CURVATURE)
def grad_with_aux_is_plain_at_the_top_level():
    f = lambda x: (np.sum(x ** 3), {"twice": 2 * x, "total": np.sum(x)})
    return (lambda: cm.grad(f, has_aux=True)(w_vec),
            lambda: (3 * w_vec ** 2, {"twice": 2 * w_vec, "total": np.sum(w_vec)}))


@case(CURVATURE)
def value_and_grad_with_aux_is_plain_at_the_top_level():
    def loss(params):
        z = X @ params["W"] + params["b"]
        return np.mean((z[:, 0] - TARGETS) ** 2), {"z": z}
    residual = X @ W[:, 0] + B[0] - TARGETS
    grad_w = np.zeros_like(W)
    grad_w[:, 0] = 2 * X.T @ residual / N
    grad_b = np.array([2 * np.mean(residual), 0.0, 0.0])
    return (lambda: cm.value_and_grad(loss, has_aux=True)({"W": W, "b": B}),
            lambda: ((np.mean(residual ** 2), {"z": X @ W + B}), {"W": grad_w, "b": grad_b}))


# ---- transforms of transforms: Hessians from hvp rows, meta-learning, implicit steps ---------------------
A3x4 = _rng.standard_normal((3, D))


def curved(x):
    return np.sum(np.tanh(A3x4 @ x) ** 2) + np.prod(x[:2])


def torch_curved(x):
    return torch.sum(torch.tanh(T(A3x4) @ x) ** 2) + torch.prod(x[:2])


def maml_outer(w):
    """One inner gradient step, then the loss: the meta-gradient differentiates through the inner grad."""
    return curved(w - 0.1 * cm.grad(curved)(w))


def torch_maml_outer(w):
    return torch_curved(w - 0.1 * torch.func.grad(torch_curved)(w))


@case(CURVATURE)
def hessian_from_vmap_of_hvp_over_directions():
    return (lambda: cm.vmap(lambda v: cm.hvp(curved, w_vec, v))(np.eye(D)),
            lambda: numpy_of(torch.func.hessian(torch_curved)(T(w_vec))))


@case(CURVATURE)
def jacobian_from_vmap_of_a_pullback_and_of_jvp():
    g = lambda x: np.tanh(A3x4 @ x) * x[0]
    tg = lambda x: torch.tanh(T(A3x4) @ x) * x[0]
    J = numpy_of(torch.func.jacrev(tg)(T(w_vec)))
    return (lambda: (cm.vmap(lambda u: cm.vjp(g, w_vec)[1](u)[0])(np.eye(3)),
                     cm.vmap(lambda v: cm.jvp(g, (w_vec,), (v,))[1], out_axes=1)(np.eye(D))),
            lambda: (J, J))


@case(CURVATURE)
def third_derivatives_and_mixed_orders():
    H = numpy_of(torch.func.hessian(torch_curved)(T(w_vec)))
    ones = np.ones(D)
    return (lambda: (cm.jacobian(cm.hessian(curved))(w_vec), cm.jvp(cm.grad(curved), (w_vec,), (ones,))[1],
                     cm.grad(lambda x: cm.jvp(curved, (x,), (ones,))[1])(w_vec), cm.jacobian(cm.grad(curved))(w_vec)),
            lambda: (numpy_of(torch.func.jacrev(torch.func.hessian(torch_curved))(T(w_vec))), H @ ones, H @ ones, H))


@case(CURVATURE)
def meta_gradient_through_an_inner_step():
    tasks = np.stack([w_vec, -w_vec, 0.5 * w_vec])
    return (lambda: (cm.grad(maml_outer)(w_vec), cm.vmap(cm.grad(maml_outer))(tasks), cm.hessian(maml_outer)(w_vec)),
            lambda: (numpy_of(torch.func.grad(torch_maml_outer)(T(w_vec))),
                     numpy_of(torch.func.vmap(torch.func.grad(torch_maml_outer))(T(tasks))),
                     numpy_of(torch.func.hessian(torch_maml_outer)(T(w_vec)))))


@case(CURVATURE)
def gradient_through_a_solve_with_the_hessian():
    """Differentiating a damped Newton step (implicit-function style): needs third derivatives of ``curved``."""
    def step(x):
        return np.sum(np.linalg.solve(cm.hessian(curved)(x) + 10 * np.eye(D), x))

    def torch_step(x):
        damped = torch.func.hessian(torch_curved)(x) + 10 * torch.eye(D, dtype=torch.float64)
        return torch.sum(torch.linalg.solve(damped, x))
    return lambda: cm.grad(step)(w_vec), lambda: numpy_of(torch.func.grad(torch_step)(T(w_vec)))


@case(VMAP)
def vmap_over_an_ensemble_of_conv_and_linear_weights():
    images = _rng.standard_normal((2, 2, 6, 6))
    kernels, biases = _rng.standard_normal((3, 4, 2, 3, 3)), _rng.standard_normal((3, 4))
    weights = _rng.standard_normal((3, D, 2))
    mse = lambda w: np.mean((np.tanh(X @ w) - 0.5) ** 2)
    strided = lambda k: cm.nn.convolve2d(images, k, None, stride=2)
    return (lambda: (cm.vmap(lambda k, b: cm.nn.convolve2d(images, k, b, padding=1))(kernels, biases),
                     cm.grad(lambda ks: np.sum(cm.vmap(strided)(ks) ** 2))(kernels),
                     cm.vmap(cm.grad(mse))(weights)),
            lambda: (numpy_of(torch.func.vmap(lambda k, b: F.conv2d(T(images), k, b, padding=1))(
                         T(kernels), T(biases))),
                     numpy_of(torch.func.grad(lambda ks: torch.sum(torch.func.vmap(
                         lambda k: F.conv2d(T(images), k, None, stride=2))(ks) ** 2))(T(kernels))),
                     numpy_of(torch.func.vmap(torch.func.grad(
                         lambda w: torch.mean((torch.tanh(T(X) @ w) - 0.5) ** 2)))(T(weights)))))


@case(CURVATURE)
def conv_layer_under_jvp_hvp_and_hessian():
    images = _rng.standard_normal((2, 2, 6, 6))
    k0, k1, bias = _rng.standard_normal((4, 2, 3, 3)), _rng.standard_normal((4, 2, 3, 3)), _rng.standard_normal(4)
    ours_f = lambda k, b: np.sum(np.tanh(cm.nn.convolve2d(images, k, b, stride=2, padding=1)) ** 2)
    torch_f = lambda k, b: torch.sum(torch.tanh(F.conv2d(T(images), k, b, stride=2, padding=1)) ** 2)
    return (lambda: (cm.jvp(lambda k: ours_f(k, bias), (k0,), (k1,))[1], cm.hvp(lambda k: ours_f(k, bias), k0, k1),
                     cm.hessian(lambda b: ours_f(k0, b))(bias)),
            lambda: (numpy_of(torch.func.jvp(lambda k: torch_f(k, T(bias)), (T(k0),), (T(k1),))[1]),
                     numpy_of(torch.func.jvp(torch.func.grad(lambda k: torch_f(k, T(bias))), (T(k0),), (T(k1),))[1]),
                     numpy_of(torch.func.hessian(lambda b: torch_f(T(k0), b))(T(bias)))))


# ==== stop_gradient =============================================================================
@case(STOP)
def stop_gradient_in_per_example_gradients():
    f = lambda x: np.sum(x * cm.stop_gradient(x) ** 2)
    return lambda: cm.vmap(cm.grad(f))(X), lambda: X ** 2


@case(STOP)
def stop_gradient_in_hessian_jvp_and_forward_jacobian():
    f = lambda x: np.sum(x ** 2 * cm.stop_gradient(np.exp(x)))
    return (lambda: (cm.hessian(f)(w_vec), cm.jvp(f, (w_vec,), (np.ones(D),))[1],
                     cm.jacobian(lambda x: x * cm.stop_gradient(x), mode="fwd")(w_vec)),
            lambda: (np.diag(2 * np.exp(w_vec)), np.sum(2 * w_vec * np.exp(w_vec)), np.diag(w_vec)))


@case(STOP)
def stop_gradient_of_a_parameter_pytree_target_network():
    params = {"a": w_vec, "b": np.array(0.5)}
    f = lambda p: np.sum((p["a"] * p["b"] - cm.stop_gradient(p)["a"]) ** 2)
    r = w_vec * 0.5 - w_vec
    return lambda: cm.grad(f)(params), lambda: {"a": 2 * r * 0.5, "b": np.sum(2 * r * w_vec)}


@case(STOP)
def stop_gradient_straight_through_estimator():
    """Rounding in the forward pass, identity in the backward pass: x + stop_gradient(round(x) − x)."""
    f = lambda x: np.sum((x + cm.stop_gradient(np.round(x) - x)) * w_vec)
    return lambda: (cm.grad(f)(X[0]), cm.vmap(cm.grad(f))(X)), lambda: (w_vec, np.tile(w_vec, (N, 1)))


@case(STOP)
def stop_gradient_baseline_in_a_policy_gradient():
    """REINFORCE with a baseline: ∇ Σ log π(a) (R − stop_gradient(b)) leaves b out of the gradient."""
    actions, returns = np.array([0, 2, 1]), np.array([1.0, -0.5, 2.0])

    def surrogate(logits):
        log_p = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
        baseline = cm.stop_gradient(np.mean(log_p))
        return np.sum(log_p[np.arange(3), actions] * (returns - baseline))
    fixed_log_p = A34[:, :3] - np.log(np.sum(np.exp(A34[:, :3]), axis=1, keepdims=True))
    baseline = np.mean(fixed_log_p)  # the baseline is held at its value: differences must not move it

    def plain(z):
        log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return float(np.sum(log_p[np.arange(3), actions] * (returns - baseline)))
    return lambda: cm.grad(surrogate)(A34[:, :3]), lambda: numeric_gradient(plain, A34[:, :3])


@case(STOP, plain=False)
def stop_gradient_target_in_a_td_loss_into_model_weights():
    """Q-learning: r + γ·stop_gradient(Q(s′)) is a constant target; only Q(s) backpropagates into the weights."""
    model, twin = twin_models()
    rewards, next_states = TARGETS, X[::-1].copy()

    def ours():
        q = model(X)[:, 0]
        target = rewards + 0.9 * cm.stop_gradient(model(next_states)[:, 0])
        np.mean((q - target) ** 2).backward()
        return [p.grad for p in model.parameters()]

    def truth():
        q = twin(T(X))[:, 0]
        target = T(rewards) + 0.9 * twin(T(next_states))[:, 0].detach()
        torch.mean((q - target) ** 2).backward()
        return torch_grads_as_ours(twin)
    return ours, truth


# ==== custom_vjp / custom_jvp ===================================================================
@cm.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda residuals, g: (np.clip(g, -0.5, 0.5),))


@cm.custom_vjp
def stable_cross_entropy(z, t):
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) + m - np.sum(t * z)


def _stable_cross_entropy_fwd(z, t):
    m = np.max(z)
    e = np.exp(z - m)
    s = np.sum(e)
    return np.log(s) + m - np.sum(t * z), (e / s, t, z)


def _stable_cross_entropy_bwd(residuals, g):
    p, t, z = residuals
    return g * (p - t), -g * z


stable_cross_entropy.defvjp(_stable_cross_entropy_fwd, _stable_cross_entropy_bwd)


@cm.custom_jvp
def softplus(x):
    return np.logaddexp(0.0, x)


softplus.defjvp(lambda primals, tangents: (softplus(primals[0]),  # ṫ·σ(x), σ written with tanh: no overflow
                                           tangents[0] * (1 + np.tanh(primals[0] / 2)) / 2))


@cm.custom_jvp
def safe_norm(x, eps):
    return np.sqrt(np.sum(x ** 2) + eps)


safe_norm.defjvp(lambda p, t: (safe_norm(*p), np.sum(p[0] * t[0]) / safe_norm(*p) + t[1] / (2 * safe_norm(*p))))

SOFTMAX_X = np.exp(X[:, :C]) / np.sum(np.exp(X[:, :C]), axis=1, keepdims=True)
SIGMOID_X = 1 / (1 + np.exp(-X))


@case(CUSTOM)
def custom_vjp_gradient_clipping_per_example():
    f = lambda x: np.sum(3.0 * clip_gradient(x) ** 2)
    return (lambda: (cm.grad(f)(X[0]), cm.vmap(cm.grad(f))(X)),
            lambda: (np.clip(6 * X[0], -0.5, 0.5), np.clip(6 * X, -0.5, 0.5)))


@case(CUSTOM)
def custom_vjp_cross_entropy_with_residuals():
    return (lambda: (cm.grad(stable_cross_entropy)(X[0, :C], Y_ONEHOT[0]),
                     cm.vmap(cm.grad(stable_cross_entropy, argnums=(0, 1)))(X[:, :C], Y_ONEHOT),
                     cm.jacobian(lambda z: stable_cross_entropy(z, Y_ONEHOT[0]))(X[0, :C])),
            lambda: (SOFTMAX_X[0] - Y_ONEHOT[0], (SOFTMAX_X - Y_ONEHOT, -X[:, :C]), SOFTMAX_X[0] - Y_ONEHOT[0]))


@case(CUSTOM)
def custom_vjp_second_derivative_by_reverse_over_reverse():
    """Hessian by jacobian(grad) in reverse mode: bwd is run on traced residuals, so it differentiates."""
    p = SOFTMAX_X[0]
    return (lambda: cm.jacobian(cm.grad(lambda z: stable_cross_entropy(z, Y_ONEHOT[0])))(X[0, :C]),
            lambda: np.diag(p) - np.outer(p, p))


@case(CUSTOM)
def custom_jvp_softplus_everywhere():
    s = SIGMOID_X
    return (lambda: (cm.grad(lambda x: np.sum(softplus(x)))(X), cm.vmap(cm.grad(lambda x: np.sum(softplus(x))))(X),
                     cm.jacobian(softplus, mode="fwd")(X[0]), cm.hessian(lambda x: np.sum(softplus(x)))(X[0])),
            lambda: (s, s, np.diag(s[0]), np.diag(s[0] * (1 - s[0]))))


@case(CUSTOM)
def custom_jvp_stays_finite_where_the_plain_rule_overflows():
    big = np.array([-800.0, 0.0, 800.0])
    return lambda: cm.grad(lambda x: np.sum(softplus(x)))(big), lambda: np.array([0.0, 0.5, 1.0])


@case(CUSTOM)
def custom_jvp_with_two_arguments():
    n = np.sqrt(np.sum(X[0] ** 2) + 0.1)
    return (lambda: (cm.grad(safe_norm, argnums=(0, 1))(X[0], 0.1),
                     cm.vmap(cm.grad(safe_norm), in_axes=(0, None))(X, 0.1),
                     cm.hessian(safe_norm)(X[0], 0.1)),
            lambda: ((X[0] / n, 1 / (2 * n)), X / np.sqrt(np.sum(X ** 2, axis=1, keepdims=True) + 0.1),
                     np.eye(D) / n - np.outer(X[0], X[0]) / n ** 3))


@case(CUSTOM)
def custom_jvp_in_jvp_and_vjp():
    s = SIGMOID_X[0]
    return (lambda: (cm.jvp(softplus, (X[0],), (V_DIR[0],))[1], cm.vjp(softplus, X[0])[1](V_DIR[0])),
            lambda: (s * V_DIR[0], (s * V_DIR[0],)))


@cm.custom_vjp
def square_with_residual(x):
    return x ** 2


square_with_residual.defvjp(lambda x: (x ** 2, x), lambda x, g: (2 * x * g,))


@cm.custom_vjp
def leaky_with_residual(x):
    return np.where(x > 0, x, 0.1 * x)


leaky_with_residual.defvjp(lambda x: (leaky_with_residual(x), x), lambda x, g: (np.where(x > 0, g, 0.1 * g),))


@case(CUSTOM)
def grad_of_vmap_of_custom_vjp_uses_each_examples_residuals():
    """vmap replays the custom call once per example; the backward pass must use each example's residuals
    (it used the last example's for every example)."""
    total = lambda A: np.sum(cm.vmap(lambda x: np.sum(square_with_residual(x)))(A))

    def backward():
        leaf = cm.Tensor(X.copy(), requires_grad=True)
        total(leaf).backward()
        return leaf.grad
    return lambda: (cm.grad(total)(X), backward()), lambda: (2 * X, 2 * X)


@case(CUSTOM)
def grad_of_vmap_of_custom_vjp_with_where_in_bwd():
    f = lambda x: np.sum(leaky_with_residual(x) * x)
    return (lambda: (cm.grad(lambda A: np.sum(cm.vmap(f)(A)))(X), cm.vmap(cm.grad(f))(X)),
            lambda: (np.where(X > 0, 2 * X, 0.2 * X), np.where(X > 0, 2 * X, 0.2 * X)))


# ==== checkpoint ================================================================================
WSQ = _rng.standard_normal((D, D)) * 0.5


@case(CHECKPOINT)
def checkpoint_two_blocks_gradient_and_hessian():
    block = cm.checkpoint(lambda h, w: np.tanh(h @ w))
    ours_f = lambda w: np.sum(block(block(X, w), w) ** 2)
    plain_f = lambda w: np.sum(np.tanh(np.tanh(X @ w) @ w) ** 2)
    return (lambda: (cm.grad(ours_f)(WSQ), cm.hessian(ours_f)(WSQ)),
            lambda: (numeric_gradient(plain_f, WSQ), numpy_of(torch.func.hessian(
                lambda w: torch.sum(torch.tanh(torch.tanh(T(X) @ w) @ w) ** 2))(T(WSQ)))))


@case(CHECKPOINT)
def checkpoint_closing_over_model_weights_backward():
    def ours():
        layer = cm.nn.Linear(D, D, rng=0, dtype=np.float64)
        block = cm.checkpoint(lambda h: np.tanh(layer(h)))
        np.sum(block(block(cm.Tensor(X))) ** 2).backward()
        return layer.weight.grad, layer.bias.grad

    def truth():
        layer = cm.nn.Linear(D, D, rng=0, dtype=np.float64)
        w = T(layer.weight.value).requires_grad_()
        b = T(layer.bias.value).requires_grad_()
        torch.sum(torch.tanh(torch.tanh(T(X) @ w + b) @ w + b) ** 2).backward()
        return w.grad.numpy(), b.grad.numpy()
    return ours, truth


@case(CHECKPOINT)
def checkpoint_under_jvp_and_per_example_grad():
    block = cm.checkpoint(lambda h, w, b: np.tanh(h @ w + b))
    bias = B1[:D]
    tangent = np.ones_like(WSQ)
    per_example = cm.grad(lambda x, w: np.sum(block(x, w, bias) ** 2), argnums=1)
    torch_f = lambda w, x: torch.sum(torch.tanh(x @ w + T(bias)) ** 2)
    return (lambda: (cm.jvp(lambda w: np.sum(block(X, w, bias) ** 2), (WSQ,), (tangent,))[1],
                     cm.vmap(per_example, in_axes=(0, None))(X, WSQ)),
            lambda: (numpy_of(torch.func.jvp(lambda w: torch_f(w, T(X)), (T(WSQ),), (T(tangent),))[1]),
                     numpy_of(torch.func.vmap(torch.func.grad(torch_f), in_dims=(None, 0))(T(WSQ), T(X)))))


@case(CHECKPOINT)
def checkpoint_rnn_cell_in_a_loop():
    cell = cm.checkpoint(lambda h, x, wh: np.tanh(x @ WX + h @ wh))

    def loss(wh):
        h = np.zeros(3)
        for x in SEQUENCES[0]:
            h = cell(h, x, wh)
        return np.sum(h ** 2)
    return (lambda: cm.grad(loss)(WH),
            lambda: numpy_of(torch.func.grad(torch_rnn_last_state_loss)(T(WH), T(SEQUENCES[0]))))


@case(CHECKPOINT)
def vmap_of_checkpoint_with_padding_rows_first_and_last():
    """A padded batch (zero rows first and last): the replay gave every example the first example's output."""
    padded = np.concatenate([np.zeros((1, D)), X[1:4], np.zeros((1, D))])
    block = cm.checkpoint(lambda x: np.sin(x) * x)
    per_example = lambda x: np.sum(block(x))
    return (lambda: (cm.vmap(per_example)(padded), cm.vmap(cm.grad(per_example))(padded),
                     cm.grad(lambda A: np.sum(cm.vmap(per_example)(A)))(padded)),
            lambda: (np.sum(np.sin(padded) * padded, axis=1), np.cos(padded) * padded + np.sin(padded),
                     np.cos(padded) * padded + np.sin(padded)))


@case(CHECKPOINT, plain=False)
def vmap_of_checkpoint_closing_over_model_weights():
    """The output stays linked to the model's weights (a Tensor, as the model's own output): its values per
    example, and backward() from it into the weights, against torch."""
    padded = np.concatenate([np.zeros((1, D)), X[1:4], np.zeros((1, D))])

    def ours():
        layer = cm.nn.Linear(D, 3, rng=0, dtype=np.float64)
        block = cm.checkpoint(lambda x: np.tanh(layer(x)))
        per_example = cm.vmap(lambda x: np.sum(block(x) ** 2))(padded)
        np.sum(per_example * np.arange(1.0, 6.0)).backward()
        return per_example, layer.weight.grad

    def truth():
        layer = cm.nn.Linear(D, 3, rng=0, dtype=np.float64)
        w, b = T(layer.weight.value).requires_grad_(), T(layer.bias.value)
        per_example = torch.sum(torch.tanh(T(padded) @ w + b) ** 2, 1)
        torch.sum(per_example * T(np.arange(1.0, 6.0))).backward()
        return numpy_of(per_example), w.grad.numpy()
    return ours, truth


# ==== nn losses under transforms =============================================================
LOGITS = _rng.standard_normal((N, C))
LABELS = np.array([1, 0, 2, 2, 1])
PROBS = np.exp(LOGITS[::-1]) / np.sum(np.exp(LOGITS[::-1]), axis=1, keepdims=True)
V_LOGITS = _rng.standard_normal((N, C))


@case(LOSSES)
def cross_entropy_with_labels_hvp_jvp_hessian():
    ce = lambda z: cm.nn.losses.cross_entropy(z, LABELS)
    tce = lambda z: F.cross_entropy(z, T(LABELS))
    return (lambda: (cm.hvp(ce, LOGITS, V_LOGITS), cm.jvp(ce, (LOGITS,), (V_LOGITS,))[1], cm.hessian(ce)(LOGITS)),
            lambda: (numpy_of(torch.func.jvp(torch.func.grad(tce), (T(LOGITS),), (T(V_LOGITS),))[1]),
                     numpy_of(torch.func.jvp(tce, (T(LOGITS),), (T(V_LOGITS),))[1]),
                     numpy_of(torch.func.hessian(tce)(T(LOGITS)))))


@case(LOSSES)
def cross_entropy_reductions_under_forward_jacobian():
    out = lambda red: cm.jacobian(lambda z: cm.nn.losses.cross_entropy(z, LABELS, reduction=red), mode="fwd")(LOGITS)
    theirs = lambda red: numpy_of(torch.func.jacrev(lambda z: F.cross_entropy(z, T(LABELS), reduction=red))(T(LOGITS)))
    reductions = ("none", "sum", "mean")
    return lambda: tuple(out(r) for r in reductions), lambda: tuple(theirs(r) for r in reductions)


@case(LOSSES)
def cross_entropy_of_squared_per_sample_losses_hessian():
    f = lambda z: np.sum(cm.nn.losses.cross_entropy(z, LABELS, reduction="none") ** 2)
    tf = lambda z: torch.sum(F.cross_entropy(z, T(LABELS), reduction="none") ** 2)
    return lambda: cm.hessian(f)(LOGITS), lambda: numpy_of(torch.func.hessian(tf)(T(LOGITS)))


@case(LOSSES)
def cross_entropy_with_probability_targets_hvp_and_per_example():
    ce = lambda z: cm.nn.losses.cross_entropy(z, PROBS)
    tce = lambda z: F.cross_entropy(z, T(PROBS))
    row = lambda z, p: cm.nn.losses.cross_entropy(z[None], p[None])
    return (lambda: (cm.hvp(ce, LOGITS, V_LOGITS), cm.vmap(cm.grad(row))(LOGITS, PROBS)),
            lambda: (numpy_of(torch.func.jvp(torch.func.grad(tce), (T(LOGITS),), (T(V_LOGITS),))[1]),
                     numpy_of(torch.func.vmap(torch.func.grad(lambda z, p: F.cross_entropy(z[None], p[None])))(
                         T(LOGITS), T(PROBS)))))


@case(LOSSES)
def per_example_cross_entropy_module_with_labels():
    row = lambda z, y: cm.nn.CrossEntropyLoss()(z[None], y[None])
    return (lambda: cm.vmap(cm.grad(row))(LOGITS, LABELS),
            lambda: numpy_of(torch.func.vmap(torch.func.grad(lambda z, y: F.cross_entropy(z[None], y[None])))(
                T(LOGITS), T(LABELS))))


@case(LOSSES)
def huber_hessian_and_per_example_bce_mse():
    targets01 = (V_LOGITS > 0).astype(np.float64)
    return (lambda: (cm.hessian(lambda z: cm.nn.losses.huber(z, V_LOGITS, delta=0.7))(LOGITS),
                     cm.vmap(cm.grad(cm.nn.losses.binary_cross_entropy_with_logits))(LOGITS, targets01),
                     cm.vmap(cm.grad(cm.nn.losses.mse))(LOGITS, V_LOGITS)),
            lambda: (numpy_of(torch.func.hessian(lambda z: F.huber_loss(z, T(V_LOGITS), delta=0.7))(T(LOGITS))),
                     numpy_of(torch.func.vmap(torch.func.grad(F.binary_cross_entropy_with_logits))(
                         T(LOGITS), T(targets01))),
                     2 * (LOGITS - V_LOGITS) / C))


@case(LOSSES)
def multi_margin_loss_jvp():
    f = lambda z: cm.nn.losses.multiclass_hinge(z, LABELS, margin=0.5)
    tf = lambda z: F.multi_margin_loss(z, T(LABELS), margin=0.5)
    J = numpy_of(torch.func.jacrev(tf)(T(LOGITS)))
    return lambda: cm.jvp(f, (LOGITS,), (V_LOGITS,))[1], lambda: np.sum(J * V_LOGITS)


@case(LOSSES)
def activations_under_forward_mode_and_hessian():
    z = X[0]
    return (lambda: (cm.hessian(lambda z: cm.nn.log_softmax(z)[2])(z),
                     cm.vmap(cm.grad(lambda z: cm.nn.softmax(z)[1] * 3.0))(X),
                     cm.jacobian(lambda z: cm.nn.softplus(z) + cm.nn.leaky_relu(z), mode="fwd")(z)),
            lambda: (numpy_of(torch.func.hessian(lambda z: F.log_softmax(z, -1)[2])(T(z))),
                     numpy_of(torch.func.vmap(torch.func.grad(lambda z: F.softmax(z, -1)[1] * 3.0))(T(X))),
                     numpy_of(torch.func.jacfwd(lambda z: F.softplus(z) + F.leaky_relu(z, 0.01))(T(z)))))


# ---- sequences: per-position labels picked with logp[np.arange(T), y] ------------------------------------
SEQUENCE_LOGITS = _rng.standard_normal((N, 6, C))
SEQUENCE_LABELS = _rng.integers(0, C, (N, 6))


def sequence_cross_entropy(z, y):
    """Mean over the positions of a sequence of −log softmax(z_t)[y_t], the labels picked with arange."""
    log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return -np.mean(log_p[np.arange(z.shape[0]), y])


def torch_sequence_cross_entropy(z, y):
    return F.cross_entropy(z, y)


@case(PER_EXAMPLE)
def per_sequence_cross_entropy_with_arange_label_index():
    return (lambda: (cm.vmap(sequence_cross_entropy)(SEQUENCE_LOGITS, SEQUENCE_LABELS),
                     cm.vmap(cm.grad(sequence_cross_entropy))(SEQUENCE_LOGITS, SEQUENCE_LABELS)),
            lambda: (np.array([torch_sequence_cross_entropy(T(z), T(y)).item()
                               for z, y in zip(SEQUENCE_LOGITS, SEQUENCE_LABELS)]),
                     numpy_of(torch.func.vmap(torch.func.grad(torch_sequence_cross_entropy))(
                         T(SEQUENCE_LOGITS), T(SEQUENCE_LABELS)))))


@case(PER_EXAMPLE)
def per_sequence_cross_entropy_with_take_along_axis_and_the_loss_module():
    def picked(z, y):
        log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
        return -np.mean(np.take_along_axis(log_p, y[:, None], axis=1))
    module = lambda z, y: cm.nn.losses.cross_entropy(z, y)
    expected = numpy_of(torch.func.vmap(torch.func.grad(torch_sequence_cross_entropy))(
        T(SEQUENCE_LOGITS), T(SEQUENCE_LABELS)))
    hessians = np.stack([numpy_of(torch.func.hessian(torch_sequence_cross_entropy)(T(z), T(y)))
                         for z, y in zip(SEQUENCE_LOGITS, SEQUENCE_LABELS)])
    return (lambda: (cm.vmap(cm.grad(picked))(SEQUENCE_LOGITS, SEQUENCE_LABELS),
                     cm.vmap(cm.grad(module))(SEQUENCE_LOGITS, SEQUENCE_LABELS),
                     cm.vmap(cm.hessian(module))(SEQUENCE_LOGITS, SEQUENCE_LABELS)),
            lambda: (expected, expected, hessians))


# ---- indexing idioms under vmap: a per-example integer index with constant ones beside it ------------------
INDEX_ROWS = _rng.integers(0, 6, (N, 2))   # two positions per example
INDEX_CLASS = _rng.integers(0, C, N)        # one class per example
INDEXING = {  # name: f(z, y, rows, k) for one example
    "column_of_the_examples_class": lambda z, y, rows, k: z[:, k],
    "rows_picked_per_example": lambda z, y, rows, k: z[rows],
    "rows_and_class_per_example": lambda z, y, rows, k: z[rows, k],
    "rows_per_example_then_first_column": lambda z, y, rows, k: z[rows, 0],
    "first_row_then_class": lambda z, y, rows, k: z[0, k],
    "constant_rows_then_class": lambda z, y, rows, k: z[np.array([0, 2]), k],
    "arange_then_labels": lambda z, y, rows, k: z[np.arange(6), y],
    "labels_shifted_beside_arange": lambda z, y, rows, k: z[np.arange(6), (y + 1) % C],
    "ellipsis_then_class": lambda z, y, rows, k: z[..., k],
    "take_rows": lambda z, y, rows, k: np.take(z, rows, axis=0),
    "boolean_mask_of_labels": lambda z, y, rows, k: np.sum(z[y == 1]),
}


def _register_indexing_case(name: str, pick: Callable) -> None:
    def build():
        args = (SEQUENCE_LOGITS, SEQUENCE_LABELS, INDEX_ROWS, INDEX_CLASS)
        smooth = lambda z, y, rows, k: np.sum(np.sin(pick(z, y, rows, k)))
        return (lambda: (cm.vmap(pick)(*args), cm.vmap(cm.grad(smooth))(*args)),
                lambda: (loop(pick, *args), loop(cm.grad(smooth), *args)))
    build.__name__ = f"vmap_index_{name}"
    case(PER_EXAMPLE)(build)


for _name, _pick in INDEXING.items():
    _register_indexing_case(_name, _pick)


# ==== refusals: a clear calcml error, never a wrong number ===================================

@cm.custom_vjp
def stable_cross_entropy_one_gradient(z, t):
    return np.sum(z * t)


stable_cross_entropy_one_gradient.defvjp(lambda z, t: (np.sum(z * t), (z, t)), lambda residuals, g: (g * residuals[1],))


def unrolled_steps(params):
    """A model whose depth is a setting kept with its weights (a common notebook habit)."""
    h = params["w"]
    for _ in range(params["steps"]):
        h = np.tanh(h)
    return np.sum(h)


def unrolled_steps_gradient(w, steps):
    h, slope = w, np.ones_like(w)
    for _ in range(steps):
        h = np.tanh(h)
        slope = slope * (1 - h ** 2)
    return slope

@dataclass(frozen=True)
class Refusal:
    """A call that must raise ``error`` whose message contains every phrase of ``says`` — or, when it has an
    ``answer``, may instead return that answer (calcml may support the idiom or refuse it clearly, never
    answer wrongly or fail with a bare Python error). ``wrong``: a known unclear error (a strict xfail)."""

    name: str
    call: Callable[[], object]
    error: type[BaseException]
    says: tuple[str, ...]
    answer: Callable[[], object] | None = None
    wrong: str = ""


REFUSALS = [
    Refusal("hessian_of_a_custom_vjp_function",
            lambda: cm.hessian(lambda z: stable_cross_entropy(z, Y_ONEHOT[0]))(X[0, :C]),
            cm.CalcmlError, ("custom_vjp(stable_cross_entropy)", "reverse mode")),
    Refusal("forward_jacobian_of_a_custom_vjp_function",
            lambda: cm.jacobian(lambda z: stable_cross_entropy(z, Y_ONEHOT[0]), mode="fwd")(X[0, :C]),
            cm.CalcmlError, ("custom_vjp(stable_cross_entropy)", "defjvp")),
    Refusal("vmap_with_mismatched_batch_sizes",
            lambda: cm.vmap(lambda a, b: np.sum(a * b))(X, X[:3]),
            cm.BatchingError, ("batch sizes differ", "5", "3")),
    Refusal("vmap_in_axes_beyond_the_rank",
            lambda: cm.vmap(np.sum, in_axes=2)(X),
            cm.BatchingError, ("in_axes=2", "no such axis")),
    Refusal("vmap_in_axes_of_the_wrong_length",
            lambda: cm.vmap(lambda a, b: a * b, in_axes=(0,))(X, X),
            cm.BatchingError, ("in_axes", "one entry per argument")),
    Refusal("grad_of_a_per_example_loss_vector",
            lambda: cm.grad(lambda w: X @ w)(w_vec),
            cm.NonScalarOutputError, ("scalar", "cm.jacobian")),
    Refusal("grad_argnums_out_of_range",
            lambda: cm.grad(mlp_loss, argnums=3)(MLP, X[0], Y[0]),
            ValueError, ("argnums=3", "3 positional")),
    Refusal("jvp_tangent_of_the_wrong_shape",
            lambda: cm.jvp(np.tanh, (X,), (X[0],)),
            cm.ShapeError, ("shape", "must match")),
    Refusal("hessian_of_a_vector_valued_function",
            lambda: cm.hessian(lambda x: x ** 2)(w_vec),
            cm.NonScalarOutputError, ("hessian needs a function with a scalar output", "cm.jacobian")),
    Refusal("hvp_of_a_vector_valued_function",
            lambda: cm.hvp(lambda x: x ** 2, w_vec, w_vec),
            cm.NonScalarOutputError, ("hvp needs a function with a scalar output", "cm.jacobian")),
    Refusal("hessian_argnums_out_of_range",
            lambda: cm.hessian(lambda x: np.sum(x ** 2), argnums=1)(w_vec),
            ValueError, ("hessian: argnums=1", "1 positional")),
    Refusal("custom_vjp_bwd_returning_too_few_gradients",
            lambda: cm.grad(lambda x: np.sum(stable_cross_entropy_one_gradient(x, x)))(w_vec),
            TypeError, ("bwd returned 1 gradient(s) for 2 argument(s)", "one gradient per argument")),
    Refusal("an_integer_setting_inside_the_parameters_used_as_a_count",
            lambda: cm.grad(unrolled_steps)({"w": w_vec, "steps": 3}),
            cm.CalcmlError, ("range()", "steps", "argnums"),
            answer=lambda: {"w": unrolled_steps_gradient(w_vec, 3), "steps": 0.0}),
    Refusal("vmap_called_with_a_keyword_argument",
            lambda: cm.vmap(lambda x, scale=1.0: np.sum(x ** 2) * scale)(X, scale=3.0),
            cm.CalcmlError, ("keyword",), answer=lambda: 3.0 * np.sum(X ** 2, axis=1)),
    Refusal("vmap_of_an_empty_batch",
            lambda: cm.vmap(lambda x: np.sum(x ** 2))(np.zeros((0, D))),
            cm.CalcmlError, ("empty",), answer=lambda: np.zeros(0)),
    Refusal("vmap_out_axes_beyond_the_rank",
            lambda: cm.vmap(lambda x: x * 2.0, out_axes=3)(X),
            cm.CalcmlError, ("out_axes",)),
]
