import math

import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.1)),
    ("StepLR", dict(step_size=7)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("ExponentialLR", dict(gamma=1.05)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),   # 40 epochs: down, back up, down again
]


@pytest.mark.parametrize("name, options", SCHEDULES, ids=str)
def test_schedule_matches_torch_epoch_by_epoch(name, options):
    base_lr = 0.3
    w = cm.Tensor(np.ones(2), requires_grad=True)
    q = torch.ones(2, dtype=torch.float64, requires_grad=True)
    ours_opt, torch_opt = cm.optim.SGD([w], lr=base_lr), torch.optim.SGD([q], lr=base_lr)
    ours = getattr(cm.optim, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    for epoch in range(40):
        expected = torch_opt.param_groups[0]["lr"]
        assert abs(ours_opt.lr - expected) <= 1e-12 * base_lr, f"epoch {epoch}: {ours_opt.lr} vs {expected}"
        assert ours.get_last_lr() == ours_opt.lr
        assert ours.last_epoch == epoch
        torch_opt.step()
        ours_opt.step()
        theirs.step()
        ours.step()


def test_schedule_changes_the_step_the_optimizer_takes():
    w = cm.Tensor(np.zeros(1), requires_grad=True)
    opt = cm.optim.SGD([w], lr=1.0)
    schedule = cm.optim.StepLR(opt, step_size=2, gamma=0.5)
    moves = []
    for _ in range(5):
        before = w.value.copy()
        w.grad = np.ones(1)
        opt.step()
        schedule.step()
        moves.append(float(before[0] - w.value[0]))
    assert moves == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_cosine_schedule_reaches_eta_min_at_t_max():
    opt = cm.optim.Adam([cm.Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    schedule = cm.optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.02)
    lrs = [opt.lr]
    for _ in range(4):
        schedule.step()
        lrs.append(opt.lr)
    expected = [0.02 + 0.04 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-14)
    assert lrs[-1] == pytest.approx(0.02, rel=1e-14)


def test_schedule_state_dict_resumes():
    opt = cm.optim.SGD([cm.Tensor(np.ones(1), requires_grad=True)], lr=0.2)
    schedule = cm.optim.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        schedule.step()
    saved = schedule.state_dict()
    other_opt = cm.optim.SGD([cm.Tensor(np.ones(1), requires_grad=True)], lr=0.2)
    other = cm.optim.ExponentialLR(other_opt, gamma=0.5)
    other.load_state_dict(saved)
    assert other_opt.lr == pytest.approx(0.025, rel=1e-15)
    other.step()
    assert other_opt.lr == pytest.approx(0.0125, rel=1e-15)


@pytest.mark.parametrize("name, options, words", [
    ("StepLR", dict(step_size=0), "step_size must be a positive whole number"),
    ("StepLR", dict(step_size=2.5), "step_size must be a positive whole number"),
    ("StepLR", dict(step_size=2, gamma=-0.1), "gamma must be >= 0"),
    ("ExponentialLR", dict(gamma=-1.0), "gamma must be >= 0"),
    ("CosineAnnealingLR", dict(T_max=0), "T_max must be a positive whole number"),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=-1e-3), "eta_min must be >= 0"),
])
def test_schedules_reject_invalid_settings(name, options, words):
    opt = cm.optim.SGD([cm.Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    with pytest.raises(cm.optim.HyperparameterError, match=name) as info:
        getattr(cm.optim, name)(opt, **options)
    assert words in str(info.value)


def test_schedule_needs_a_calcml_optimizer():
    q = torch.ones(1, requires_grad=True)
    with pytest.raises(TypeError, match="cm.optim optimizer"):
        cm.optim.StepLR(torch.optim.SGD([q], lr=0.1), step_size=2)
