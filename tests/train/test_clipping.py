"""Clipping by global norm and by value, step for step against torch.nn.utils."""

import numpy as np
import pytest

import calcml as cm
from calcml.train import clip_grad_norm, clip_grad_value, grad_norm

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def parameters_with_gradients(seed, scale, dtype=np.float64):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        g = (rng.standard_normal(shape) * scale).astype(dtype)
        p = cm.Tensor(np.zeros(shape, dtype), requires_grad=True)
        p.grad = g.copy()
        t = torch.zeros(shape, dtype=torch.float64 if dtype == np.float64 else torch.float32, requires_grad=True)
        t.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 5.0), (100.0, 0.1), (0.5, 0.5)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale):
    ours, theirs = parameters_with_gradients(0, scale)
    total = clip_grad_norm(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=0)
    assert grad_norm(ours, norm_type) <= max_norm * (1 + 1e-9)


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = parameters_with_gradients(1, 1.0)
    clip_grad_value(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_float32_stays_float32_and_parameters_without_gradients_are_skipped():
    ours, theirs = parameters_with_gradients(2, 10.0, dtype=np.float32)
    ours[1].grad = None
    theirs[1].grad = None
    clip_grad_norm(ours, 1.0)
    torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert ours[0].grad.dtype == np.float32 and ours[1].grad is None
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=1e-6)
    clip_grad_value(ours, 0.01)
    assert ours[2].grad.dtype == np.float32 and np.abs(ours[2].grad).max() <= 0.01


def test_nonfinite_gradients_raise_when_asked():
    p = cm.Tensor(np.zeros(2), requires_grad=True)
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(cm.CalcmlError, match="NaN or infinite"):
        clip_grad_norm([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError):
        clip_grad_value([p], -1.0)
