import numpy as np
import pytest
import torch
import torch.nn.functional as F

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
