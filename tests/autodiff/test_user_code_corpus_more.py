"""The second user-code corpus: each function gets the right derivative, or a clear refusal.

Each entry of ``corpus_user_code_more.py`` is differentiated by cm.grad (of ``sum(u * f)``, u a fixed
random cotangent), cm.jacobian (mode="rev" and mode="fwd") and the Tensor API (``loss.backward()``);
entries with a PyTorch twin are also held against ``torch.func.jacrev`` (float64), and entries marked
``hessian`` against PyTorch's (or second differences') Hessian. The expected numbers always come from
fourth-order central differences of the same code run on plain float64 arrays, or from PyTorch (whose
twin is itself checked against those differences first) — never from calcml.

A wrong number fails; so does a refusal that is not a ``cm.CalcmlError`` naming the op, a missing
gradient where the true one is nonzero, and an answer where a refusal is owed. Entries with ``wrong``
are the quiet wrong answers this corpus found: strict xfails, so a fix makes them pass loudly.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import calcml as cm
from tests.autodiff.corpus_judging import judge
from tests.autodiff.corpus_user_code_more import DERIVATIVE, EITHER, ENTRIES, REFUSED, Entry

STEP = np.finfo(np.float64).eps ** (1 / 5)  # balances truncation and rounding in a 4-point difference
RTOL_FD = 1e-5
RTOL_TORCH = 1e-9
WAYS_OUT = ("instead", "to add one", "use ", "write it", "detach", "np.where", "np.stack", "a new value", "e.g.")


def params(mode: str, entries: list[Entry] = ENTRIES) -> list:
    """The entries as pytest params, strict xfails where the entry is known to be wrong in ``mode``."""
    result = []
    for entry in entries:
        marks = [pytest.mark.xfail(strict=True, reason=entry.wrong)] if entry.wrong and mode in entry.wrong_in else []
        result.append(pytest.param(entry, id=entry.name, marks=marks))
    return result


def argnums_of(entry: Entry) -> int | tuple:
    return 0 if len(entry.args) == 1 else tuple(range(len(entry.args)))


def fresh(entry: Entry) -> list[np.ndarray]:
    return [a.copy() for a in entry.args]


def assert_close(actual: Any, expected: np.ndarray, rtol: float, what: str) -> None:
    assert not isinstance(actual, (tuple, list, dict)), f"{what}: expected one array, got {type(actual).__name__}"
    assert actual is not None, f"{what}: no gradient (None) where the derivative is {expected!r}"
    actual = np.asarray(actual.value if isinstance(actual, cm.Tensor) else actual, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# ---- the reference: central differences of the plain code (and the torch twin, checked against them)
class Reference:
    def __init__(self, entry: Entry):
        self.entry = entry
        self.args = fresh(entry)
        self.output = np.asarray(entry.fn(*fresh(entry)), dtype=np.float64)
        self.jacobians = [self._numeric_jacobian(k) for k in range(len(self.args))]  # out.shape + arg.shape
        rng = np.random.default_rng(zlib.crc32(entry.name.encode()))
        self.cotangent = rng.standard_normal(self.output.shape)

    def _plain(self, moved: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.entry.fn(*moved), dtype=np.float64)

    def _numeric_jacobian(self, k: int) -> np.ndarray:
        x = self.args[k]
        result = np.zeros(self.output.shape + x.shape)
        for index in np.ndindex(x.shape):
            h = STEP * max(1.0, abs(x[index]))

            def shifted(delta, index=index):
                moved = [a.copy() for a in self.args]
                moved[k][index] += delta
                return self._plain(moved)

            result[(...,) + index] = (-shifted(2 * h) + 8 * shifted(h) - 8 * shifted(-h) + shifted(-2 * h)) / (12 * h)
        return result

    def gradient(self, k: int) -> np.ndarray:
        """∂/∂args[k] of sum(u * f)."""
        return np.tensordot(self.cotangent, self.jacobians[k], axes=self.cotangent.ndim)

    def scalar(self, fn: Callable) -> Callable:
        u = self.cotangent
        return lambda *xs: np.sum(u * fn(*xs))

    def numeric_hessian(self) -> np.ndarray:
        """Second differences of sum(u * f) in the one argument (hessian entries take one)."""
        f, x = self.scalar(self.entry.fn), self.args[0]
        n, h = x.size, np.finfo(np.float64).eps ** (1 / 4)
        H = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                def at(di, dj, i=i, j=j):
                    moved = x.copy().reshape(-1)
                    moved[i] += di * h
                    moved[j] += dj * h
                    return float(f(moved.reshape(x.shape)))

                H[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
        return H.reshape(x.shape + x.shape)


@functools.lru_cache(maxsize=None)
def reference(index: int) -> Reference:
    return Reference(ENTRIES[index])


def ref_of(entry: Entry) -> Reference:
    return reference(ENTRIES.index(entry))


# ---- judging an outcome by the entry's expectation ----------------------------------------------
def run(entry: Entry, compute: Callable[[], Any], check: Callable[[Any], None], mode: str) -> None:
    judge(entry.expect, compute, check, lambda error: assert_clear(error, entry, mode), f"{entry.name}: {mode}")


def assert_clear(error: Exception, entry: Entry, mode: str) -> None:
    """A refusal says what was wrong (it names the op or idiom) and what to do (a way out)."""
    message = str(error)
    assert entry.names.lower() in message.lower(), (
        f"{entry.name}: {mode} refused without naming {entry.names!r}:\n{message}")
    assert any(phrase in message for phrase in WAYS_OUT), (
        f"{entry.name}: {mode} refused without a way out ({', '.join(WAYS_OUT)}):\n{message}")


# ---- the tests ----------------------------------------------------------------------------------
def test_corpus_is_large_names_unique_and_new():
    from tests.autodiff.corpus_user_code import ENTRIES as FIRST_CORPUS

    names = [e.name for e in ENTRIES]
    assert len(ENTRIES) >= 60
    assert len(set(names)) == len(names)
    assert not set(names) & {e.name for e in FIRST_CORPUS}, "an entry repeats one of the first corpus"
    assert {e.expect for e in ENTRIES} <= {DERIVATIVE, REFUSED, EITHER}
    assert all(e.names for e in ENTRIES if e.expect == REFUSED), "a refusal must say what it names"


@pytest.mark.parametrize("entry", params("grad"))
def test_grad(entry: Entry):
    ref = ref_of(entry)
    argnums = argnums_of(entry)

    def check(result):
        grads = (result,) if isinstance(argnums, int) else result
        assert isinstance(grads, tuple) and len(grads) == len(entry.args), f"{entry.name}: got {result!r}"
        for k, g in enumerate(grads):
            assert_close(g, ref.gradient(k), RTOL_FD, f"{entry.name}: cm.grad w.r.t. argument {k}")

    run(entry, lambda: cm.grad(ref.scalar(entry.fn), argnums=argnums)(*fresh(entry)), check, "cm.grad")


jacobian_params = [pytest.param(p.values[0], mode, id=f"{p.id}-{mode}", marks=p.marks)
                   for mode in ("rev", "fwd") for p in params(mode)]


@pytest.mark.parametrize(("entry", "mode"), jacobian_params)
def test_jacobian(entry: Entry, mode: str):
    ref = ref_of(entry)
    argnums = argnums_of(entry)

    def check(result):
        jacobians = (result,) if isinstance(argnums, int) else result
        for k, J in enumerate(jacobians):
            assert_close(J, ref.jacobians[k], RTOL_FD, f"{entry.name}: cm.jacobian(mode={mode!r}) argument {k}")

    run(entry, lambda: cm.jacobian(entry.fn, argnums=argnums, mode=mode)(*fresh(entry)), check,
        f"cm.jacobian(mode={mode!r})")


@pytest.mark.parametrize("entry", params("backward"))
def test_tensor_backward(entry: Entry):
    ref = ref_of(entry)
    leaves = [cm.Tensor(a, requires_grad=True) for a in fresh(entry)]

    def compute():
        loss = np.sum(ref.cotangent * entry.fn(*leaves))
        assert isinstance(loss, cm.Tensor) and loss.requires_grad, (
            f"{entry.name}: the output does not depend on the parameters any more (the graph was lost)")
        loss.backward()
        return [p.grad for p in leaves]

    def check(grads):
        for k, g in enumerate(grads):
            expected = ref.gradient(k)
            if g is None and np.max(np.abs(expected), initial=0.0) < 1e-9:  # an unused input, as in PyTorch
                continue
            assert_close(g, expected, RTOL_FD, f"{entry.name}: Tensor.backward() gradient of parameter {k}")

    run(entry, compute, check, "Tensor.backward()")


twins = [e for e in ENTRIES if e.torch_fn is not None]


@pytest.mark.parametrize("entry", params("torch", twins))
def test_matches_torch_twin(entry: Entry):
    ref = ref_of(entry)
    tensors = [torch.tensor(a) for a in fresh(entry)]
    theirs = entry.torch_fn(*tensors)
    np.testing.assert_allclose(theirs.detach().numpy(), ref.output, rtol=1e-10, atol=1e-12,
                               err_msg=f"{entry.name}: the torch twin computes something else")
    nums = tuple(range(len(tensors)))
    torch_jacobians = [j.numpy() for j in torch.func.jacrev(entry.torch_fn, argnums=nums)(*tensors)]
    for k, J in enumerate(torch_jacobians):  # the twin is a reference only once it agrees with the differences
        assert_close(J, ref.jacobians[k], RTOL_FD, f"{entry.name}: the torch twin's Jacobian {k} vs differences")
    argnums = argnums_of(entry)

    def check(result):
        jacobians = (result,) if isinstance(argnums, int) else result
        for k, J in enumerate(jacobians):
            assert_close(J, torch_jacobians[k], RTOL_TORCH, f"{entry.name}: cm.jacobian vs torch, argument {k}")

    run(entry, lambda: cm.jacobian(entry.fn, argnums=argnums)(*fresh(entry)), check, "cm.jacobian vs torch")


hessian_entries = [e for e in ENTRIES if e.hessian]


@pytest.mark.parametrize("entry", params("hessian", hessian_entries))
def test_hessian(entry: Entry):
    ref = ref_of(entry)
    if entry.torch_fn is not None:
        u = torch.tensor(ref.cotangent)
        expected = torch.func.hessian(lambda x: torch.sum(u * entry.torch_fn(x)))(torch.tensor(ref.args[0])).numpy()
        rtol = RTOL_TORCH
    else:
        expected, rtol = ref.numeric_hessian(), 1e-4
    run(entry, lambda: cm.hessian(ref.scalar(entry.fn))(*fresh(entry)),
        lambda H: assert_close(H, expected, rtol, f"{entry.name}: cm.hessian"), "cm.hessian")


# ---- parameters held in a dataclass or a plain object (model code) --------------------------------
@dataclass
class LinearModel:
    w: np.ndarray
    b: np.ndarray


class PlainModel:
    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.w, self.b = w, b


def _model_loss(model) -> Any:
    from tests.autodiff.corpus_user_code_more import X43, y4

    return np.mean((X43 @ model.w + model.b - y4) ** 2)


def _model_loss_torch_grads(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from tests.autodiff.corpus_user_code_more import X43, y4

    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.mean((torch.tensor(X43) @ tw + tb - torch.tensor(y4)) ** 2).backward()
    return tw.grad.numpy(), tb.grad.numpy()


W0, B0 = np.array([0.4, -0.3, 0.8]), np.array(0.2)
def _judge_model_gradient(grads: Any) -> None:
    """Either the gradients in the model's structure, matching PyTorch, or a clear calcml refusal."""
    expected_w, expected_b = _model_loss_torch_grads(W0, B0)
    assert grads is not None, "the gradient of a loss of model parameters came back as None, with no error"
    assert_close(grads.w, expected_w, RTOL_TORCH, "gradient of w")
    assert_close(grads.b, expected_b, RTOL_TORCH, "gradient of b")


def test_grad_of_dataclass_parameters():
    try:
        grads = cm.grad(_model_loss)(LinearModel(W0.copy(), B0.copy()))
    except cm.CalcmlError as refusal:
        assert "LinearModel" in str(refusal)
        return
    _judge_model_gradient(grads)


def test_grad_of_plain_object_parameters():
    """A plain object is not a pytree node: refused with what to do (its gradient used to be None)."""
    for transform in (lambda m: cm.grad(_model_loss)(m), lambda m: cm.hessian(_model_loss)(m),
                      lambda m: cm.jvp(_model_loss, (m,), (m,))):
        with pytest.raises(cm.StructureError, match="PlainModel.*dataclass"):
            transform(PlainModel(W0.copy(), B0.copy()))


@pytest.mark.parametrize("transform", ["hessian", "jvp"])
def test_forward_transforms_of_dataclass_parameters(transform: str):
    """A dataclass is a pytree node: jvp is the directional derivative along a tangent of the same dataclass,
    and the Hessian's (w, w) block is the Jacobian of the w-gradient (both against PyTorch)."""
    model = LinearModel(W0.copy(), B0.copy())
    expected_w, expected_b = _model_loss_torch_grads(W0, B0)
    if transform == "jvp":
        tangent = LinearModel(np.ones_like(W0), np.array(1.0))
        _, derivative = cm.jvp(_model_loss, (model,), (tangent,))
        assert_close(derivative, np.sum(expected_w) + np.sum(expected_b), RTOL_TORCH, "directional derivative")
    else:
        hessian = cm.hessian(_model_loss)(model)
        assert type(hessian) is LinearModel and type(hessian.w) is LinearModel
        w_block = cm.jacobian(lambda w: cm.grad(_model_loss)(LinearModel(w, B0.copy())).w)(W0.copy())
        assert_close(hessian.w.w, w_block, RTOL_TORCH, "Hessian block (w, w)")


def test_tensor_backward_through_a_dataclass_of_tensors_matches_torch():
    model = LinearModel(cm.Tensor(W0.copy(), requires_grad=True), cm.Tensor(B0.copy(), requires_grad=True))
    _model_loss(model).backward()
    expected_w, expected_b = _model_loss_torch_grads(W0, B0)
    assert_close(model.w.grad, expected_w, RTOL_TORCH, "gradient of w")
    assert_close(model.b.grad, expected_b, RTOL_TORCH, "gradient of b")


def test_backward_twice_accumulates_like_torch():
    from tests.autodiff.corpus_user_code_more import x6

    p = cm.Tensor(x6.copy(), requires_grad=True)
    for _ in range(2):
        np.sum(np.sin(p) * p).backward()
    t = torch.tensor(x6, requires_grad=True)
    for _ in range(2):
        torch.sum(torch.sin(t) * t).backward()
    assert_close(p.grad, t.grad.numpy(), RTOL_TORCH, "accumulated gradient")
