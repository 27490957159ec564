"""The user-code corpus: NumPy as people write it gets the right derivative, or a clear refusal.

Each entry of ``corpus_user_code.py`` is run through every way of asking for a derivative:
cm.jacobian (mode="rev" and mode="fwd"), cm.jvp, cm.grad (scalar outputs) and the Tensor API
(``loss.backward()``). The expected Jacobian comes from the entry's PyTorch twin (torch.func.jacrev,
float64) or from fourth-order central differences of the same code run on plain NumPy arrays, so no
expected number ever comes from calcml. A wrong number fails; so does a refusal that is not a
``cm.CalcmlError`` naming a fix, and an answer where a refusal is owed.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import calcml as cm
from tests.autodiff.corpus_judging import judge
from tests.autodiff.corpus_user_code import DERIVATIVE, EITHER, ENTRIES, REFUSED, Entry

STEP = np.finfo(np.float64).eps ** (1 / 5)  # balances truncation and rounding in a 4-point difference
FIX_PHRASES = ("np.stack", "np.concatenate", "np.where", "detach", "np.exp", "cm.primitive", "instead")
ids = [entry.name for entry in ENTRIES]
each_entry = pytest.mark.parametrize("entry", ENTRIES, ids=ids)


def _scalar_output(entry: Entry) -> bool:
    out = entry.fn(*[a.copy() for a in entry.args])
    return not isinstance(out, (tuple, list, dict)) and np.ndim(out) == 0


grad_entries = [e for e in ENTRIES if e.expect == REFUSED or _scalar_output(e)]  # refusals: through a sum


# ---- pytrees of outputs (our own walk, so the expectation does not lean on cm.tree) ---------------
def leaves(tree: Any) -> list:
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in leaves(child)]
    return [tree]


def rebuild(tree: Any, values: list) -> Any:
    """``tree``'s structure with its leaves replaced, in order, by ``values``."""
    values = iter(values)

    def walk(node):
        if isinstance(node, dict):
            return {key: walk(node[key]) for key in sorted(node)}
        if isinstance(node, (tuple, list)):
            children = [walk(child) for child in node]
            return type(node)(*children) if hasattr(node, "_fields") else type(node)(children)
        return next(values)

    return walk(tree)


def assert_tree_close(actual: Any, expected: Any, rtol: float, what: str) -> None:
    """Same structure (dict keys, tuple/list/namedtuple types, lengths) and leaves close elementwise."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{what}: expected a dict, got {type(actual).__name__}"
        assert sorted(actual) == sorted(expected), f"{what}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_tree_close(actual[key], expected[key], rtol, f"{what}[{key!r}]")
        return
    if isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected), (
            f"{what}: expected a {type(expected).__name__}, got {type(actual).__name__}")
        assert len(actual) == len(expected), f"{what}: {len(actual)} elements, expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_close(a, e, rtol, f"{what}[{i}]")
        return
    assert not isinstance(actual, (tuple, list, dict)), f"{what}: expected one array, got a {type(actual).__name__}"
    assert not isinstance(actual, cm.Tensor), f"{what}: a top-level transform returned a Tensor"
    expected = np.asarray(expected, dtype=np.float64)
    assert np.shape(actual) == expected.shape, f"{what}: shape {np.shape(actual)}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=rtol * scale,
                               err_msg=what)


# ---- the reference: torch twin or central differences of the plain code -------------------------
class Reference:
    """The plain output, the Jacobian of every output leaf w.r.t. every argument, and fixed u, v."""

    def __init__(self, entry: Entry):
        self.entry = entry
        self.args = [a.copy() for a in entry.args]
        self.output = entry.fn(*[a.copy() for a in entry.args])
        self.out_leaves = [np.asarray(leaf, dtype=np.float64) for leaf in leaves(self.output)]
        if entry.torch_fn is not None:
            self.rtol = 1e-9
            self.jacobians = self._torch_jacobians()
        else:
            self.rtol = 1e-6
            self.jacobians = self._numeric_jacobians()
        rng = np.random.default_rng(zlib.crc32(entry.name.encode()))
        self.tangents = [rng.standard_normal(a.shape) for a in self.args]
        self.cotangents = [rng.standard_normal(leaf.shape) for leaf in self.out_leaves]

    def _numeric_jacobians(self) -> list[list[np.ndarray]]:
        """jacobians[leaf][arg], shaped leaf.shape + arg.shape."""
        result = [[np.zeros(leaf.shape + a.shape) for a in self.args] for leaf in self.out_leaves]
        for k, x in enumerate(self.args):
            for index in np.ndindex(x.shape):
                h = STEP * max(1.0, abs(x[index]))

                def shifted(delta, k=k, index=index):
                    moved = [a.copy() for a in self.args]
                    moved[k][index] += delta
                    return [np.asarray(leaf, dtype=np.float64) for leaf in leaves(self.entry.fn(*moved))]

                points = {c: shifted(c * h) for c in (2, 1, -1, -2)}
                for i in range(len(self.out_leaves)):
                    derivative = (-points[2][i] + 8 * points[1][i] - 8 * points[-1][i] + points[-2][i]) / (12 * h)
                    result[i][k][(...,) + index] = derivative
        return result

    def _torch_jacobians(self) -> list[list[np.ndarray]]:
        tensors = [torch.tensor(a) for a in self.args]
        theirs = leaves(self.entry.torch_fn(*tensors))
        assert len(theirs) == len(self.out_leaves), f"{self.entry.name}: the torch twin has another structure"
        for i, (t, ours) in enumerate(zip(theirs, self.out_leaves)):  # the twin must compute the same thing
            np.testing.assert_allclose(t.detach().numpy(), ours, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{self.entry.name}: the torch twin's output {i} differs")
        nums = tuple(range(len(tensors)))
        jac = torch.func.jacrev(lambda *xs: tuple(leaves(self.entry.torch_fn(*xs))), argnums=nums)(*tensors)
        return [[j.detach().numpy().reshape(leaf.shape + a.shape) for j, a in zip(per_leaf, self.args)]
                for per_leaf, leaf in zip(jac, self.out_leaves)]

    def jacobian_tree(self, argnums: int | tuple) -> Any:
        """What cm.jacobian(fn, argnums) must return: the output's structure, each leaf a Jacobian
        (or, with a tuple of argnums, a tuple of Jacobians, one per argument)."""
        if isinstance(argnums, int):
            return rebuild(self.output, [per_leaf[argnums] for per_leaf in self.jacobians])
        return rebuild(self.output, [tuple(per_leaf[k] for k in argnums) for per_leaf in self.jacobians])

    def jvp_tree(self) -> Any:
        tangents = []
        for per_leaf, leaf in zip(self.jacobians, self.out_leaves):
            total = np.zeros(leaf.shape)
            for J, v in zip(per_leaf, self.tangents):
                total = total + np.tensordot(J, v, axes=v.ndim)
            tangents.append(total)
        return rebuild(self.output, tangents)

    def vjp(self) -> list[np.ndarray]:
        """Σ over output leaves of uᵀ J, for each argument."""
        result = [np.zeros(a.shape) for a in self.args]
        for per_leaf, u in zip(self.jacobians, self.cotangents):
            for k, J in enumerate(per_leaf):
                result[k] = result[k] + np.tensordot(u, J, axes=u.ndim)
        return result


@functools.lru_cache(maxsize=None)
def reference(index: int) -> Reference:
    return Reference(ENTRIES[index])


def argnums_of(entry: Entry) -> int | tuple:
    return 0 if len(entry.args) == 1 else tuple(range(len(entry.args)))


NUMPY_REFUSAL = "setting an array element with a sequence"


def run(entry: Entry, compute: Callable[[], Any], check: Callable[[Any], None], mode: str,
        expect: str | None = None) -> None:
    """Call ``compute`` and judge it by the entry's expectation (``expect`` overrides it for one mode)."""
    refusals = (cm.CalcmlError, ValueError) if entry.numpy_refuses else cm.CalcmlError
    judge(expect or entry.expect, compute, check, lambda error: assert_names_a_fix(error, entry, mode),
          f"{entry.name}: {mode}", refusals)


def assert_names_a_fix(error: Exception, entry: Entry, mode: str) -> None:
    message = str(error)
    if not isinstance(error, cm.CalcmlError):  # NumPy's own refusal of a traced scalar (entry.numpy_refuses)
        assert NUMPY_REFUSAL in message, f"{entry.name}: {mode} raised an unrelated {type(error).__name__}: {message}"
        return
    assert any(phrase in message for phrase in FIX_PHRASES), (
        f"{entry.name}: {mode} refused without naming a fix ({', '.join(FIX_PHRASES)}):\n{message}")


# ---- the tests ----------------------------------------------------------------------------------
def test_corpus_is_large_and_names_are_unique():
    assert len(ENTRIES) >= 150
    assert len(set(ids)) == len(ids)
    assert {e.expect for e in ENTRIES} <= {DERIVATIVE, REFUSED, EITHER}


@each_entry
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian(entry: Entry, mode: str):
    ref = reference(ENTRIES.index(entry))
    argnums = argnums_of(entry)
    run(entry, lambda: cm.jacobian(entry.fn, argnums=argnums, mode=mode)(*[a.copy() for a in entry.args]),
        lambda J: assert_tree_close(J, ref.jacobian_tree(argnums), ref.rtol, f"{entry.name}: jacobian {mode}"),
        f"cm.jacobian(mode={mode!r})")


@each_entry
def test_jvp(entry: Entry):
    ref = reference(ENTRIES.index(entry))

    def check(result):
        out, tangent = result
        assert_tree_close(out, ref.output, 1e-12, f"{entry.name}: jvp value")
        assert_tree_close(tangent, ref.jvp_tree(), ref.rtol, f"{entry.name}: jvp tangent")

    run(entry, lambda: cm.jvp(entry.fn, tuple(a.copy() for a in entry.args), tuple(ref.tangents)), check, "cm.jvp")


@pytest.mark.parametrize("entry", grad_entries, ids=[e.name for e in grad_entries])
def test_grad(entry: Entry):
    ref = reference(ENTRIES.index(entry))
    argnums = argnums_of(entry)

    def scalar(*xs):
        out = entry.fn(*xs)
        return out if entry.expect != REFUSED else sum(np.sum(leaf) for leaf in leaves(out))

    def check(result):
        grads = (result,) if isinstance(argnums, int) else result
        assert isinstance(grads, tuple) and len(grads) == len(entry.args)
        for k, g in enumerate(grads):
            expected = ref.jacobians[0][k].reshape(entry.args[k].shape)
            assert_tree_close(g, expected, ref.rtol, f"{entry.name}: cm.grad w.r.t. argument {k}")

    run(entry, lambda: cm.grad(scalar, argnums=argnums)(*[a.copy() for a in entry.args]), check, "cm.grad")


@each_entry
def test_tensor_backward(entry: Entry):
    ref = reference(ENTRIES.index(entry))
    params = [cm.Tensor(a.copy(), requires_grad=True) for a in entry.args]

    def compute():
        out = entry.fn(*params)
        loss = None
        for leaf, u in zip(leaves(out), ref.cotangents):
            term = np.sum(u * leaf)
            loss = term if loss is None else loss + term
        assert isinstance(loss, cm.Tensor) and loss.requires_grad, (
            f"{entry.name}: the output does not depend on the parameters any more (the graph was lost)")
        loss.backward()
        return [p.grad for p in params]

    def check(grads):
        for k, (g, e) in enumerate(zip(grads, ref.vjp())):
            assert g is not None, f"{entry.name}: parameter {k} received no gradient"
            assert_tree_close(np.asarray(g.value if isinstance(g, cm.Tensor) else g), e, ref.rtol,
                              f"{entry.name}: Tensor.backward() gradient of parameter {k}")

    run(entry, compute, check, "Tensor.backward()", expect=entry.tensor_api)


# ---- parameters as pytrees, the way model code passes them ----------------------------------------
def _mlp_loss(params, inputs, target):
    hidden = np.tanh(inputs @ params["W1"] + params["b1"])
    out = hidden @ params["W2"] + params["b2"]
    return np.mean((out - target) ** 2)


def _mlp_loss_torch(params, inputs, target):
    hidden = torch.tanh(inputs @ params["W1"] + params["b1"])
    return torch.mean((hidden @ params["W2"] + params["b2"] - target) ** 2)


def _params():
    from tests.autodiff.corpus_user_code import W1, W2, b1, b2

    return {"W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}


def test_grad_of_a_loss_of_dict_parameters_matches_torch():
    from tests.autodiff.corpus_user_code import X, targets

    params = _params()
    value, grads = cm.value_and_grad(_mlp_loss)(params, X, targets[:, None])
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    loss = _mlp_loss_torch(theirs, torch.tensor(X), torch.tensor(targets[:, None]))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-12)
    assert isinstance(grads, dict) and sorted(grads) == sorted(params)
    for key in params:
        assert_tree_close(grads[key], theirs[key].grad.numpy(), 1e-10, f"gradient of {key}")


def test_grad_of_a_list_of_layer_tuples_matches_torch():
    from tests.autodiff.corpus_user_code import X, targets

    p = _params()
    layers = [(p["W1"], p["b1"]), (p["W2"], p["b2"])]

    def loss(layers):
        a = X
        for i, (W, b) in enumerate(layers):
            a = a @ W + b
            if i < len(layers) - 1:
                a = np.tanh(a)
        return np.mean((a - targets[:, None]) ** 2)

    grads = cm.grad(loss)(layers)
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    _mlp_loss_torch(theirs, torch.tensor(X), torch.tensor(targets[:, None])).backward()
    assert isinstance(grads, list) and len(grads) == 2 and all(isinstance(g, tuple) for g in grads)
    for (gW, gb), (kW, kb) in zip(grads, [("W1", "b1"), ("W2", "b2")]):
        assert_tree_close(gW, theirs[kW].grad.numpy(), 1e-10, f"gradient of {kW}")
        assert_tree_close(gb, theirs[kb].grad.numpy(), 1e-10, f"gradient of {kb}")


def test_per_example_gradients_with_vmap_match_torch():
    from tests.autodiff.corpus_user_code import X, targets

    params = _params()
    per_example = cm.vmap(cm.grad(_mlp_loss), in_axes=(None, 0, 0))(params, X, targets[:, None])
    theirs = torch.func.vmap(torch.func.grad(_mlp_loss_torch), in_dims=(None, 0, 0))(
        {k: torch.tensor(v) for k, v in params.items()}, torch.tensor(X), torch.tensor(targets[:, None]))
    assert isinstance(per_example, dict) and sorted(per_example) == sorted(params)
    for key in params:
        assert_tree_close(per_example[key], theirs[key].numpy(), 1e-10, f"per-example gradients of {key}")
