import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.nn as nn
from calcml.nn import losses
from tests.autodiff.checks import assert_jvp_agrees_with_vjp, assert_second_derivatives
from tests.nn.torch_reference import assert_matches_torch

rng = np.random.default_rng(0)
PRED, TARGET = rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3))
LOGITS = rng.standard_normal((6, 4)) * 3
LABELS = np.array([0, 3, 1, 1, 2, 3])
BINARY = (rng.random((6, 4)) > 0.5).astype(np.float64)
SIGNS = 2 * BINARY - 1


REGRESSION = [
    (losses.mse, F.mse_loss, PRED, TARGET),
    (losses.mae, F.l1_loss, PRED, TARGET),
    (losses.huber, F.huber_loss, PRED, TARGET),
    (lambda p, t, reduction: losses.huber(p, t, delta=0.5, reduction=reduction),
     lambda p, t, reduction: F.huber_loss(p, t, reduction=reduction, delta=0.5), PRED, TARGET),
    (losses.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, LOGITS * 100, BINARY),
    (losses.cross_entropy, F.cross_entropy, LOGITS, LABELS),
    (losses.cross_entropy, F.cross_entropy, LOGITS, np.eye(4)[LABELS]),
    (losses.cross_entropy, F.cross_entropy, LOGITS * 300, LABELS),
    (losses.multiclass_hinge, F.multi_margin_loss, LOGITS, LABELS),
    (losses.hinge, lambda p, t, reduction: F.relu(1 - t * p).mean() if reduction == "mean" else
     (F.relu(1 - t * p).sum() if reduction == "sum" else F.relu(1 - t * p)), LOGITS, SIGNS),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ours, theirs, prediction, target", REGRESSION)
def test_loss_value_and_gradient_match_torch(ours, theirs, prediction, target, reduction):
    t = torch.tensor(target)
    assert_matches_torch(lambda p: ours(p, target, reduction=reduction),
                         lambda p: theirs(p, t, reduction=reduction), [prediction])


@pytest.mark.parametrize("loss, target", [
    (losses.mse, TARGET), (losses.huber, TARGET), (losses.cross_entropy, LABELS),
    (losses.binary_cross_entropy_with_logits, BINARY[:5, :3]), (losses.multiclass_hinge, LABELS[:5] % 3),
])
def test_losses_match_finite_differences(loss, target):
    prediction = PRED if loss is not losses.cross_entropy else LOGITS
    cm.check_grad(lambda p: loss(p, target), prediction)


def test_fused_cross_entropy_gradient_is_softmax_minus_onehot_over_n_and_differentiable_twice():
    logits = cm.Tensor(LOGITS, requires_grad=True)
    losses.cross_entropy(logits, LABELS).backward()
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (softmax - np.eye(4)[LABELS]) / len(LABELS), rtol=1e-12)
    soft = rng.dirichlet(np.ones(4), size=6)
    assert_jvp_agrees_with_vjp(losses.softmax_cross_entropy, LOGITS, soft)
    assert_second_derivatives(lambda z: losses.cross_entropy(z, LABELS), LOGITS)


def test_penalties_have_the_documented_gradients():
    w = cm.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    (losses.l2_penalty([w], 0.1) + losses.l1_penalty(w, 0.01)).backward()
    np.testing.assert_allclose(w.grad, 0.1 * w.value + 0.01 * np.sign(w.value), rtol=1e-12)
    model = nn.Linear(2, 2, dtype=np.float64)
    expected = 0.5 * sum(np.sum(p.value ** 2) for p in model.parameters())
    assert losses.l2_penalty(model).item() == pytest.approx(expected)


def test_module_forms_and_float32():
    logits = cm.Tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, LABELS)
    loss.backward()
    assert loss.dtype == logits.grad.dtype == np.float32
    assert float(nn.MSELoss(reduction="sum")(PRED, TARGET)) == pytest.approx(np.sum((PRED - TARGET) ** 2))
    assert float(nn.HuberLoss(delta=0.5)(PRED, TARGET)) == pytest.approx(
        float(F.huber_loss(torch.tensor(PRED), torch.tensor(TARGET), delta=0.5)))


def test_bad_targets_get_clear_errors():
    with pytest.raises(cm.CalcmlError, match="class indices"):
        losses.cross_entropy(LOGITS, np.array([0, 1, 2, 3, 4, 5]))
    with pytest.raises(cm.ShapeError, match="must match"):
        losses.mse(PRED, TARGET[:, 0])
    with pytest.raises(cm.CalcmlError, match="reduction"):
        losses.mse(PRED, TARGET, reduction="average")
    with pytest.raises(cm.CalcmlError, match="−1 or \\+1"):
        losses.hinge(LOGITS, BINARY)


# ---- the fused class-label cross-entropy (no one-hot; the forward's softmax reused by the backward) ----------
@settings(max_examples=40, deadline=None)
@given(samples=st.integers(1, 9), classes=st.integers(1, 7), scale=st.sampled_from([0.1, 3.0, 300.0]),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 1000))
def test_cross_entropy_with_class_labels_matches_torch(samples, classes, scale, reduction, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((samples, classes)) * scale
    labels = rng.integers(0, classes, size=samples)
    assert_matches_torch(lambda z: losses.cross_entropy(z, labels, reduction=reduction),
                         lambda z: F.cross_entropy(z, torch.tensor(labels), reduction=reduction), [logits])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_cross_entropy_float32_jvp_vjp_and_second_derivatives(reduction):
    logits32 = cm.Tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = losses.cross_entropy(logits32, LABELS, reduction=reduction)
    np.sum(loss).backward()
    reference = torch.tensor(LOGITS.astype(np.float32), requires_grad=True)
    F.cross_entropy(reference, torch.tensor(LABELS), reduction=reduction).sum().backward()
    assert loss.dtype == logits32.grad.dtype == np.float32
    np.testing.assert_allclose(logits32.grad, reference.grad.numpy(), rtol=1e-5, atol=1e-7)
    f = lambda z: losses.class_cross_entropy(z, LABELS, reduction=reduction)  # noqa: E731
    assert_jvp_agrees_with_vjp(f, LOGITS)
    assert_second_derivatives(lambda z: np.sum(np.sin(f(z))), LOGITS)


def test_class_cross_entropy_gradient_is_right_on_every_backward_of_the_same_graph():
    """The kept softmax serves one backward pass; a second pass over the graph computes its own."""
    logits = cm.Tensor(LOGITS, requires_grad=True)
    loss = losses.cross_entropy(logits, LABELS)
    loss.backward()
    loss.backward()
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, 2 * (softmax - np.eye(4)[LABELS]) / len(LABELS), rtol=1e-12)
    cm.check_grad(lambda z: np.sum(cm.grad(lambda u: losses.cross_entropy(u, LABELS))(z) ** 2), LOGITS)


def test_class_labels_out_of_range_are_refused_not_wrapped():
    for bad in (np.array([0, 4, 1, 1, 2, 3]), np.array([0, -1, 1, 1, 2, 3])):
        with pytest.raises(cm.CalcmlError, match="class indices must lie in"):
            losses.cross_entropy(LOGITS, bad)
    with pytest.raises(cm.CalcmlError, match="reduction"):
        losses.cross_entropy(LOGITS, LABELS, reduction="average")


# ---- per-example gradients: each example's target is its own, and every check runs on every example ------
B = 4
PER_EXAMPLE_LOGITS = rng.standard_normal((B, 3, 4)) * 2          # 4 examples of 3 samples, 4 classes
PER_EXAMPLE_LABELS = np.array([[0, 3, 1], [2, 2, 0], [1, 0, 3], [0, 3, 1]])
PER_EXAMPLE_LABELS[-1] = PER_EXAMPLE_LABELS[0] + 0  # the batch ends with its first example's labels
PER_EXAMPLE_SIGNS = 2.0 * (rng.random((B, 3, 4)) > 0.5) - 1
PER_EXAMPLE_TARGETS = rng.standard_normal((B, 3, 4))
PER_EXAMPLE = {  # name: (loss of one example's (logits, target), torch's, targets per example)
    "mse": (losses.mse, F.mse_loss, PER_EXAMPLE_TARGETS),
    "mae": (losses.mae, F.l1_loss, PER_EXAMPLE_TARGETS),
    "huber": (lambda z, t: losses.huber(z, t, delta=0.7), lambda z, t: F.huber_loss(z, t, delta=0.7),
              PER_EXAMPLE_TARGETS),
    "bce with logits": (losses.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                        (PER_EXAMPLE_SIGNS + 1) / 2),
    "cross-entropy, labels": (losses.cross_entropy, F.cross_entropy, PER_EXAMPLE_LABELS),
    "cross-entropy, one-hot": (losses.cross_entropy, F.cross_entropy, np.eye(4)[PER_EXAMPLE_LABELS]),
    "cross-entropy, sum": (lambda z, t: losses.cross_entropy(z, t, reduction="sum"),
                           lambda z, t: F.cross_entropy(z, t, reduction="sum"), PER_EXAMPLE_LABELS),
    "hinge": (losses.hinge, lambda z, t: torch.clamp(1 - t * z, min=0).mean(), PER_EXAMPLE_SIGNS),
    "multiclass hinge": (losses.multiclass_hinge, F.multi_margin_loss, PER_EXAMPLE_LABELS),
    "CrossEntropyLoss module": (nn.CrossEntropyLoss(), F.cross_entropy, PER_EXAMPLE_LABELS),
}


@pytest.mark.parametrize("name", PER_EXAMPLE)
def test_per_example_gradients_of_every_loss_match_torch_func_as_one_replay(name, monkeypatch):
    """cm.vmap(cm.grad(loss)) with per-example targets: the targets were read as plain arrays (the label check,
    the one-hot, the target itself), so vmap ran the loss example by example. Now one replay, equal to
    torch.func.vmap(torch.func.grad(...))."""
    from calcml.autodiff.batching import rules, transform
    loss, torch_loss, targets = PER_EXAMPLE[name]
    expected = torch.func.vmap(torch.func.grad(torch_loss))(torch.tensor(PER_EXAMPLE_LOGITS), torch.tensor(targets))
    monkeypatch.setattr(transform, "_example_by_example", None)  # must not be reached
    monkeypatch.setattr(rules, "loop", None)
    per_example = cm.vmap(cm.grad(loss))(PER_EXAMPLE_LOGITS, targets)
    np.testing.assert_allclose(per_example, expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss, targets, message", [
    (losses.cross_entropy, np.array([[0, 1, 2], [1, 4, 0], [0, 0, 0]]), "class indices must lie in"),
    (losses.multiclass_hinge, np.array([[0, 1, 2], [1, 2, 0], [0, -1, 0]]), "class indices must lie in"),
    (losses.hinge, np.array([[1.0, -1.0], [1.0, 1.0], [1.0, 0.0]]), "labels must be −1 or \\+1"),
])
def test_a_bad_target_in_any_example_is_refused_under_vmap(loss, targets, message):
    """The checks of the targets run on every example's, not only on the first one the trace saw."""
    logits = np.ones(targets.shape + ((4,) if targets.dtype.kind == "i" else ()))
    with pytest.raises(cm.CalcmlError, match=message):
        cm.vmap(cm.grad(loss))(logits, targets)
    with pytest.raises(cm.CalcmlError, match=message):
        cm.vmap(loss)(logits, targets)


@pytest.mark.parametrize("loss, torch_loss, soft", [
    (losses.mse, F.mse_loss, False), (losses.mae, F.l1_loss, False), (losses.huber, F.huber_loss, False),
    (losses.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, True),
    (losses.cross_entropy, F.cross_entropy, True),
])
def test_the_gradient_with_respect_to_a_float_target_is_pytorchs(loss, torch_loss, soft):
    """Soft targets are differentiated, as in PyTorch: the losses read them as plain arrays, so
    cm.grad(lambda t: loss(p, t)) was a quiet zero."""
    target = np.abs(TARGET) / np.abs(TARGET).sum(axis=1, keepdims=True) if soft else TARGET
    t = torch.tensor(target, requires_grad=True)
    torch_loss(torch.tensor(PRED), t).backward()
    np.testing.assert_allclose(cm.grad(lambda t: loss(PRED, t))(target), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    mixed = cm.jacobian(cm.grad(lambda p, t: loss(p, t)), argnums=1)(PRED, target)  # ∂²L/∂p∂t
    t_mixed = torch.autograd.functional.jacobian(
        lambda t: torch.autograd.grad(torch_loss(P := torch.tensor(PRED, requires_grad=True), t), P,
                                      create_graph=True)[0], torch.tensor(target))
    np.testing.assert_allclose(mixed, t_mixed.numpy(), rtol=1e-10, atol=1e-12)
