"""What every first-order optimizer shares: the parameter list, zero_grad, skipping, state_dict, float32."""

import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401
from tests.optim.against_torch import assert_matches_torch_step_by_step

FIRST_ORDER = [
    (cm.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (cm.optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1)),
    (cm.optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    (cm.optim.Adam, torch.optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    (cm.optim.AdamW, torch.optim.AdamW, dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
]
IDS = [ours.__name__ for ours, _, _ in FIRST_ORDER]


@pytest.mark.parametrize("ours, theirs, options", FIRST_ORDER, ids=IDS)
def test_float32_parameters_stay_float32_and_follow_torch_in_float32(ours, theirs, options):
    assert_matches_torch_step_by_step(ours, theirs, options, dtype=np.float32, rtol=1e-5)


@pytest.mark.parametrize("ours, theirs, options", FIRST_ORDER, ids=IDS)
def test_float32_parameter_with_a_float64_gradient_stays_float32(ours, theirs, options):
    w = cm.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = ours([w], **options)
    for _ in range(3):
        w.grad = np.array([0.1, -0.2, 0.3])
        opt.step()
    assert w.value.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[0].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("ours, theirs, options", FIRST_ORDER, ids=IDS)
def test_parameter_without_gradient_is_left_alone(ours, theirs, options):
    a = cm.Tensor(np.ones(2), requires_grad=True)
    b = cm.Tensor(np.ones(3), requires_grad=True)
    opt = ours([a, b], **options)
    a.grad = np.array([1.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(b.value, np.ones(3))
    assert opt.state[1] == {}
    assert not np.array_equal(a.value, np.ones(2))


@pytest.mark.parametrize("ours, theirs, options", FIRST_ORDER, ids=IDS)
def test_state_dict_resumes_exactly(ours, theirs, options):
    rng = np.random.default_rng(1)
    start = [rng.standard_normal((2, 3)), rng.standard_normal(4)]
    gradients = [[rng.standard_normal((2, 3)), rng.standard_normal(4)] for _ in range(8)]

    def run(params, opt, grads):
        for step_grads in grads:
            for p, g in zip(params, step_grads, strict=True):
                p.grad = g
            opt.step()

    straight = [cm.Tensor(a.copy(), requires_grad=True) for a in start]
    straight_opt = ours(straight, **options)
    run(straight, straight_opt, gradients)

    first = [cm.Tensor(a.copy(), requires_grad=True) for a in start]
    first_opt = ours(first, **options)
    run(first, first_opt, gradients[:4])
    saved = first_opt.state_dict()
    run(first, first_opt, gradients[4:6])            # the saved copy must not change with these steps
    resumed = [cm.Tensor(a.copy(), requires_grad=True) for a in start]
    run(resumed, ours(resumed, **options), gradients[:4])   # the parameters as they were when saved
    resumed_opt = ours(resumed, lr=123.0)
    resumed_opt.load_state_dict(saved)
    assert resumed_opt.lr == options["lr"]
    run(resumed, resumed_opt, gradients[4:])
    for p, q in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(p.value, q.value)


def test_load_state_dict_rejects_another_optimizers_state():
    w = cm.Tensor(np.ones(2), requires_grad=True)
    saved = cm.optim.Adam([w]).state_dict()
    with pytest.raises(ValueError, match="Adam"):
        cm.optim.SGD([w]).load_state_dict(saved)


def test_zero_grad_sets_every_gradient_to_none():
    a = cm.Tensor(np.ones(2), requires_grad=True)
    b = cm.Tensor(np.ones(3), requires_grad=True)
    np.sum(a * a + 1.0).backward()
    np.sum(b * a[0]).backward()
    assert a.grad is not None and b.grad is not None
    opt = cm.optim.SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_gradient_of_the_wrong_shape_is_a_clear_error():
    w = cm.Tensor(np.ones((2, 3)), requires_grad=True)
    w.grad = np.ones(3)
    with pytest.raises(cm.ShapeError, match=r"shape \(2, 3\).*shape \(3,\)"):
        cm.optim.Adam([w]).step()


def test_lr_can_be_changed_and_is_checked():
    w = cm.Tensor(np.ones(2), requires_grad=True)
    opt = cm.optim.SGD([w], lr=0.1)
    opt.lr = 0.5
    w.grad = np.array([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(w.value, [0.5, 0.5])
    with pytest.raises(cm.optim.HyperparameterError, match="lr must be >= 0"):
        opt.lr = -0.5


@pytest.mark.parametrize("params, words", [
    ([], "empty parameter list"),
    (cm.Tensor(np.ones(2), requires_grad=True), "a list of parameters, not one Tensor"),
    ([np.ones(2)], "not a cm.Tensor"),
    ([cm.Tensor(np.ones(2))], "does not require grad"),
])
def test_bad_parameter_lists_are_clear_errors(params, words):
    with pytest.raises(cm.optim.ParameterListError, match="Adam") as info:
        cm.optim.Adam(params)
    assert words in str(info.value)


def test_duplicate_and_computed_parameters_are_refused():
    w = cm.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(cm.optim.ParameterListError, match="more than once"):
        cm.optim.SGD([w, w], lr=0.1)
    with pytest.raises(cm.optim.ParameterListError, match="only leaf Tensors"):
        cm.optim.SGD([w * 2.0], lr=0.1)
