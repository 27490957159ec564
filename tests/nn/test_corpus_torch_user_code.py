"""cm.nn and cm.optim used the way a PyTorch user writes a training loop, step by step against torch.

Each case builds a calcml model and its torch.nn twin with the same initial weights (float64), runs the same
loop on both — ``zero_grad``, forward, a loss with its ``reduction``, ``backward``, clipping, ``step``, a
learning-rate schedule, ``train()`` / ``eval()`` — and compares the loss and every parameter after every step.
The truth is PyTorch's; nothing is copied from calcml's own output.

Layout conventions (README): calcml's Linear weight is (in, out), torch's is (out, in); RNN/LSTM weights are
transposed likewise and calcml's one bias is torch's bias_ih + bias_hh.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import calcml as cm

torch.set_num_threads(1)
RTOL = 1e-9
O, TO = cm.optim, torch.optim
F = torch.nn.functional

_rng = np.random.default_rng(20261201)
N, D, H, C = 8, 5, 6, 3
X = _rng.standard_normal((N, D))
Y = _rng.integers(0, C, N)
IMAGES = _rng.standard_normal((4, 1, 8, 8))
IMAGE_LABELS = np.array([0, 2, 1, 1])
SEQUENCES = _rng.standard_normal((3, 5, 2))


def T(a) -> torch.Tensor:
    a = np.array(a)
    return torch.as_tensor(a) if a.dtype.kind in "iu" else torch.as_tensor(a, dtype=torch.float64)


def assert_close(ours, theirs, what: str, rtol: float = RTOL) -> None:
    ours = np.asarray(ours.value if type(ours) is cm.Tensor else ours, dtype=np.float64)
    theirs = np.asarray(theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


# ---- twin models: (calcml model, torch model, [(calcml parameter, torch view of the same numbers)]) -----
@dataclass
class Twins:
    ours: cm.nn.Module
    theirs: torch.nn.Module
    pairs: list[tuple[cm.Tensor, Callable[[], torch.Tensor]]]

    def assert_parameters_agree(self, what: str) -> None:
        for i, (p, q) in enumerate(self.pairs):
            assert_close(p, q(), f"{what}: parameter {i}")

    def assert_gradients_agree(self, what: str) -> None:
        for i, (p, q) in enumerate(self.pairs):
            assert p.grad is not None, f"{what}: parameter {i} has no gradient"
            assert_close(p.grad, q_grad(q()), f"{what}: gradient of parameter {i}")


def q_grad(view: torch.Tensor) -> torch.Tensor:
    """The gradient of a (possibly transposed) view of a torch parameter, in the view's layout."""
    base = view._base if view._base is not None else view
    return base.grad.T if view._base is not None else base.grad


def linear_pair(ours: cm.nn.Linear, theirs: torch.nn.Linear) -> list:
    with torch.no_grad():
        theirs.weight.copy_(T(ours.weight.value.T))
        ours.bias.copy_(_rng.standard_normal(ours.bias.shape) * 0.1)  # nonzero biases: their gradient matters
        theirs.bias.copy_(T(ours.bias.value))
    return [(ours.weight, lambda: theirs.weight.T), (ours.bias, lambda: theirs.bias)]


def mlp_twins(dropout: float = 0.0, seed: int = 0) -> Twins:
    first, second = cm.nn.Linear(D, H, rng=seed, dtype=np.float64), cm.nn.Linear(H, C, rng=seed + 1, dtype=np.float64)
    t_first, t_second = torch.nn.Linear(D, H).double(), torch.nn.Linear(H, C).double()
    layers = [first, cm.nn.Tanh()] + ([cm.nn.Dropout(dropout, rng=0)] if dropout else []) + [second]
    t_layers = [t_first, torch.nn.Tanh()] + ([torch.nn.Dropout(dropout)] if dropout else []) + [t_second]
    return Twins(cm.nn.Sequential(*layers), torch.nn.Sequential(*t_layers),
                 linear_pair(first, t_first) + linear_pair(second, t_second))


def cnn_twins() -> Twins:
    """Conv2d(1→3, 3×3, padding 1) → ReLU → MaxPool2d(2) → Conv2d(3→2, 3×3, stride 2, padding 1) → Tanh →
    AvgPool2d(2) → Flatten → Linear(2 → 3)."""
    conv1 = cm.nn.Conv2d(1, 3, 3, padding=1, rng=0, dtype=np.float64)
    conv2 = cm.nn.Conv2d(3, 2, 3, stride=2, padding=1, rng=1, dtype=np.float64)
    head = cm.nn.Linear(2, C, rng=2, dtype=np.float64)
    ours = cm.nn.Sequential(conv1, cm.nn.ReLU(), cm.nn.MaxPool2d(2), conv2, cm.nn.Tanh(), cm.nn.AvgPool2d(2),
                            cm.nn.Flatten(), head)
    t_conv1 = torch.nn.Conv2d(1, 3, 3, padding=1).double()
    t_conv2 = torch.nn.Conv2d(3, 2, 3, stride=2, padding=1).double()
    t_head = torch.nn.Linear(2, C).double()
    theirs = torch.nn.Sequential(t_conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2), t_conv2, torch.nn.Tanh(),
                                 torch.nn.AvgPool2d(2), torch.nn.Flatten(), t_head)
    pairs = []
    for a, b in ((conv1, t_conv1), (conv2, t_conv2)):
        with torch.no_grad():
            a.bias.copy_(_rng.standard_normal(a.bias.shape) * 0.1)
            b.weight.copy_(T(a.weight.value))
            b.bias.copy_(T(a.bias.value))
        pairs += [(a.weight, lambda b=b: b.weight), (a.bias, lambda b=b: b.bias)]
    return Twins(ours, theirs, pairs + linear_pair(head, t_head))


class TorchRNNHead(torch.nn.Module):
    def __init__(self, recurrent: torch.nn.Module, head: torch.nn.Linear):
        super().__init__()
        self.recurrent, self.head = recurrent, head

    def forward(self, x):
        out, _ = self.recurrent(x)
        return self.head(out[:, -1])


class RNNHead(cm.nn.Module):
    """The last hidden state of a recurrent layer, then a linear read-out."""

    def __init__(self, recurrent, head):
        self.recurrent, self.head = recurrent, head

    def forward(self, x):
        out, _ = self.recurrent(x)
        return self.head(out[:, -1])


def recurrent_twins(kind: str) -> Twins:
    layer = (cm.nn.LSTM if kind == "lstm" else cm.nn.RNN)(2, 4, rng=0, dtype=np.float64)
    t_layer = (torch.nn.LSTM if kind == "lstm" else torch.nn.RNN)(2, 4, batch_first=True).double()
    with torch.no_grad():
        t_layer.weight_ih_l0.copy_(T(layer.weight_ih.value.T))
        t_layer.weight_hh_l0.copy_(T(layer.weight_hh.value.T))
        t_layer.bias_ih_l0.copy_(T(layer.bias.value))
        t_layer.bias_hh_l0.zero_()
    t_layer.bias_hh_l0.requires_grad_(False)  # calcml's one bias is bias_ih + bias_hh: torch trains bias_ih alone
    head, t_head = cm.nn.Linear(4, C, rng=1, dtype=np.float64), torch.nn.Linear(4, C).double()
    pairs = [(layer.weight_ih, lambda: t_layer.weight_ih_l0.T), (layer.weight_hh, lambda: t_layer.weight_hh_l0.T),
             (layer.bias, lambda: t_layer.bias_ih_l0)]
    return Twins(RNNHead(layer, head), TorchRNNHead(t_layer, t_head), pairs + linear_pair(head, t_head))


# ---- the training loop, written twice ------------------------------------------------------------
def batches(k: int):
    rows = slice(4 * (k % 2), 4 * (k % 2) + 4)  # two alternating mini-batches
    return X[rows], Y[rows]


def train_side_by_side(twins: Twins, make: Callable, make_torch: Callable, steps: int = 6,
                       loss: str = "cross_entropy", reduction: str = "mean", schedule=None, clip=None,
                       data: Callable = batches) -> None:
    """Run the same loop on both; after every step the loss, the learning rate and every parameter agree."""
    opt, t_opt = make(twins.ours.parameters()), make_torch(twins.theirs.parameters())
    sched, t_sched = (schedule[0](opt), schedule[1](t_opt)) if schedule else (None, None)
    for k in range(steps):
        xb, yb = data(k)
        opt.zero_grad()
        t_opt.zero_grad()
        value = our_loss(loss, reduction)(twins.ours(xb), yb)
        t_value = torch_loss(loss, reduction)(twins.theirs(T(xb)), T(yb))
        if reduction == "none":
            assert_close(value, t_value, f"step {k}: per-sample losses")
            value, t_value = np.sum(value), t_value.sum()
        assert_close(value, t_value, f"step {k}: loss")
        value.backward()
        t_value.backward()
        twins.assert_gradients_agree(f"step {k}")
        if clip is not None:
            clip(twins.ours.parameters(), twins.theirs.parameters())
        opt.step()
        t_opt.step()
        if sched is not None:
            sched.step()
            t_sched.step()
            assert_close(opt.lr, t_opt.param_groups[0]["lr"], f"step {k}: learning rate")
        twins.assert_parameters_agree(f"after step {k}")


def our_loss(name: str, reduction: str) -> Callable:
    if name == "cross_entropy":
        return cm.nn.CrossEntropyLoss(reduction=reduction)
    if name == "mse_onehot":
        return lambda z, y: cm.nn.MSELoss(reduction=reduction)(z, np.eye(C)[y])
    if name == "multi_margin":
        return cm.nn.MultiMarginLoss(margin=0.8, reduction=reduction)
    raise ValueError(name)


def torch_loss(name: str, reduction: str) -> Callable:
    if name == "cross_entropy":
        return torch.nn.CrossEntropyLoss(reduction=reduction)
    if name == "mse_onehot":
        return lambda z, y: torch.nn.MSELoss(reduction=reduction)(z, F.one_hot(y, C).double())
    if name == "multi_margin":
        return torch.nn.MultiMarginLoss(margin=0.8, reduction=reduction)
    raise ValueError(name)


OPTIMIZERS = {
    "sgd": ({"lr": 0.1}, O.SGD, TO.SGD),
    "sgd_momentum_weight_decay": ({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, O.SGD, TO.SGD),
    "sgd_nesterov": ({"lr": 0.05, "momentum": 0.8, "nesterov": True}, O.SGD, TO.SGD),
    "sgd_dampening": ({"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, O.SGD, TO.SGD),
    "adam": ({"lr": 0.01}, O.Adam, TO.Adam),
    "adam_l2_amsgrad": ({"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, O.Adam, TO.Adam),
    "adamw_default_decay": ({"lr": 0.01}, O.AdamW, TO.AdamW),
    "adamw_betas_amsgrad": ({"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.3, "amsgrad": True},
                            O.AdamW, TO.AdamW),
    "rmsprop": ({"lr": 0.01}, O.RMSprop, TO.RMSprop),
    "rmsprop_centered_momentum_decay": ({"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5,
                                         "weight_decay": 0.1}, O.RMSprop, TO.RMSprop),
    "adagrad_all_options": ({"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
                            O.Adagrad, TO.Adagrad),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_mlp_training_matches_torch_step_by_step(name: str):
    options, ours, theirs = OPTIMIZERS[name]
    train_side_by_side(mlp_twins(), lambda p: ours(p, **options), lambda p: theirs(p, **options))


@pytest.mark.parametrize("loss", ["cross_entropy", "mse_onehot", "multi_margin"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_reductions_train_like_torch(loss: str, reduction: str):
    train_side_by_side(mlp_twins(), lambda p: O.SGD(p, lr=0.05, momentum=0.5),
                       lambda p: TO.SGD(p, lr=0.05, momentum=0.5), steps=3, loss=loss, reduction=reduction)


SCHEDULES = {
    "step_lr": (lambda o: O.StepLR(o, step_size=2, gamma=0.5), lambda o: TO.lr_scheduler.StepLR(o, 2, 0.5)),
    "exponential_lr": (lambda o: O.ExponentialLR(o, gamma=0.7), lambda o: TO.lr_scheduler.ExponentialLR(o, 0.7)),
    "cosine_past_t_max": (lambda o: O.CosineAnnealingLR(o, T_max=3, eta_min=0.01),
                          lambda o: TO.lr_scheduler.CosineAnnealingLR(o, 3, 0.01)),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rate_schedules_train_like_torch(name: str):
    train_side_by_side(mlp_twins(), lambda p: O.SGD(p, lr=0.1, momentum=0.9), lambda p: TO.SGD(p, lr=0.1, momentum=0.9),
                       steps=8, schedule=SCHEDULES[name])


def test_schedule_with_adam_and_get_last_lr():
    twins = mlp_twins()
    opt, t_opt = O.Adam(twins.ours.parameters(), lr=0.1), TO.Adam(twins.theirs.parameters(), lr=0.1)
    sched, t_sched = O.StepLR(opt, step_size=3, gamma=0.1), TO.lr_scheduler.StepLR(t_opt, 3, 0.1)
    for _ in range(7):
        opt.step()  # no gradients yet: nothing moves, but torch wants a step before the schedule's
        t_opt.step()
        sched.step()
        t_sched.step()
        assert_close(sched.get_last_lr(), t_sched.get_last_lr()[0], "get_last_lr")


def clip_norm(ours, theirs) -> None:
    total = cm.train.clip_grad_norm(ours, max_norm=0.1)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm=0.1)
    assert_close(total, t_total, "norm before clipping")


def clip_inf_norm(ours, theirs) -> None:
    total = cm.train.clip_grad_norm(ours, max_norm=0.05, norm_type=np.inf)
    assert_close(total, torch.nn.utils.clip_grad_norm_(theirs, max_norm=0.05, norm_type=float("inf")), "max norm")


def clip_value(ours, theirs) -> None:
    cm.train.clip_grad_value(ours, 0.02)
    torch.nn.utils.clip_grad_value_(theirs, 0.02)


@pytest.mark.parametrize("clip", [clip_norm, clip_inf_norm, clip_value], ids=lambda c: c.__name__)
def test_gradient_clipping_trains_like_torch(clip):
    train_side_by_side(mlp_twins(), lambda p: O.SGD(p, lr=0.5, momentum=0.9), lambda p: TO.SGD(p, lr=0.5, momentum=0.9),
                       steps=4, clip=clip)


def image_batches(k: int):
    return IMAGES, IMAGE_LABELS


@pytest.mark.parametrize("name", ["sgd_momentum_weight_decay", "adam"])
def test_small_cnn_trains_like_torch(name: str):
    options, ours, theirs = OPTIMIZERS[name]
    train_side_by_side(cnn_twins(), lambda p: ours(p, **options), lambda p: theirs(p, **options), steps=3,
                       data=image_batches)


def sequence_batches(k: int):
    return SEQUENCES, np.array([2, 0, 1])


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_recurrent_classifier_trains_like_torch(kind: str):
    train_side_by_side(recurrent_twins(kind), lambda p: O.Adam(p, lr=0.05), lambda p: TO.Adam(p, lr=0.05), steps=4,
                       data=sequence_batches)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_recurrent_layer_with_initial_state_matches_torch(kind: str):
    twins = recurrent_twins(kind)
    layer, t_layer = twins.ours.recurrent, twins.theirs.recurrent
    h0 = _rng.standard_normal((3, 4))
    c0 = _rng.standard_normal((3, 4))
    if kind == "lstm":
        out, (h, c) = layer(SEQUENCES, (h0, c0))
        t_out, (t_h, t_c) = t_layer(T(SEQUENCES), (T(h0)[None], T(c0)[None]))
        assert_close(c, t_c[0], "last cell state")
        (np.sum(out ** 2) + np.sum(c)).backward()
        ((t_out ** 2).sum() + t_c.sum()).backward()
    else:
        out, h = layer(SEQUENCES, h0)
        t_out, t_h = t_layer(T(SEQUENCES), T(h0)[None])
        np.sum(out ** 2).backward()
        (t_out ** 2).sum().backward()
    assert_close(out, t_out, "all hidden states")
    assert_close(h, t_h[0], "last hidden state")
    assert_close(layer.weight_hh.grad, t_layer.weight_hh_l0.grad.T, "gradient of W_hh")
    assert_close(layer.bias.grad, t_layer.bias_ih_l0.grad, "gradient of the bias")


# ---- train / eval mode, gradient accumulation, frozen parameters, state dicts ---------------------------
def test_dropout_is_the_identity_in_eval_mode_through_sequential():
    twins = mlp_twins(dropout=0.5)
    twins.ours.eval()
    twins.theirs.eval()
    assert all(not m.training for m in twins.ours.modules())
    assert_close(twins.ours(X), twins.theirs(T(X)), "eval-mode output")
    train_side_by_side(twins, lambda p: O.SGD(p, lr=0.1), lambda p: TO.SGD(p, lr=0.1), steps=2)


def test_dropout_in_train_mode_scales_survivors_and_backpropagates_through_the_mask():
    layer = cm.nn.Dropout(0.4, rng=0)
    x = cm.Tensor(np.ones((200, 5)) * 2.0, requires_grad=True)
    out = layer(x)
    kept = out.value != 0
    np.testing.assert_allclose(out.value[kept], 2.0 / 0.6)
    assert 0.5 < kept.mean() < 0.7
    np.sum(out * 3.0).backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 3.0 / 0.6, 0.0))
    model = cm.nn.Sequential(cm.nn.Linear(5, 5, rng=0), layer)
    model.eval()
    model.train()
    assert layer.training and model.training


def test_gradients_accumulate_without_zero_grad_like_torch():
    twins = mlp_twins()
    opt = O.SGD(twins.ours.parameters(), lr=0.1, momentum=0.9)
    t_opt = TO.SGD(twins.theirs.parameters(), lr=0.1, momentum=0.9)
    for k in range(3):  # one optimizer step per two backward passes (gradient accumulation), zero_grad on the model
        for part in range(2):
            xb, yb = batches(part)
            cm.nn.CrossEntropyLoss()(twins.ours(xb), yb).backward()
            torch.nn.CrossEntropyLoss()(twins.theirs(T(xb)), T(yb)).backward()
        twins.assert_gradients_agree(f"accumulated, step {k}")
        opt.step()
        t_opt.step()
        twins.ours.zero_grad()
        twins.theirs.zero_grad()
        twins.assert_parameters_agree(f"after step {k}")


def test_weight_tying_accumulates_both_uses_like_torch():
    layer, t_layer = cm.nn.Linear(D, D, rng=0, dtype=np.float64), torch.nn.Linear(D, D).double()
    pairs = linear_pair(layer, t_layer)
    model = cm.nn.Sequential(layer, cm.nn.Tanh(), layer)
    assert len(model.parameters()) == 2
    opt, t_opt = O.Adam(model.parameters(), lr=0.05), TO.Adam(t_layer.parameters(), lr=0.05)
    for k in range(3):
        opt.zero_grad()
        t_opt.zero_grad()
        np.sum(model(X) ** 2).backward()
        (t_layer(torch.tanh(t_layer(T(X)))) ** 2).sum().backward()
        opt.step()
        t_opt.step()
        for i, (p, q) in enumerate(pairs):
            assert_close(p, q(), f"tied parameter {i} after step {k}")


def test_frozen_layer_is_skipped_like_torch():
    """The first layer's gradients are dropped (p.grad = None / requires_grad off in torch) after step 1: its
    weights and momentum buffers stay put, the rest trains on."""
    twins = mlp_twins()
    opt = O.SGD(twins.ours.parameters(), lr=0.1, momentum=0.9)
    t_opt = TO.SGD(twins.theirs.parameters(), lr=0.1, momentum=0.9)
    for k in range(4):
        opt.zero_grad()
        t_opt.zero_grad()
        xb, yb = batches(k)
        cm.nn.CrossEntropyLoss()(twins.ours(xb), yb).backward()
        torch.nn.CrossEntropyLoss()(twins.theirs(T(xb)), T(yb)).backward()
        if k >= 1:
            for p in twins.ours.parameters()[:2]:
                p.grad = None
            for q in list(twins.theirs.parameters())[:2]:
                q.grad = None
        opt.step()
        t_opt.step()
        twins.assert_parameters_agree(f"after step {k}")


def test_optimizer_fed_by_cm_grad_matches_torch():
    """A functional user: gradients from cm.grad written into p.grad, then the optimizer steps."""
    weight = cm.Tensor(_rng.standard_normal((D, C)), requires_grad=True)
    t_weight = T(weight.value).requires_grad_()
    opt, t_opt = O.AdamW([weight], lr=0.05, weight_decay=0.1), TO.AdamW([t_weight], lr=0.05, weight_decay=0.1)
    loss = lambda w: cm.nn.losses.cross_entropy(X @ w, Y)
    for k in range(5):
        weight.grad = cm.grad(loss)(weight.value)
        opt.step()
        t_opt.zero_grad()
        F.cross_entropy(T(X) @ t_weight, T(Y)).backward()
        t_opt.step()
        assert_close(weight, t_weight, f"after step {k}")


@pytest.mark.parametrize("name", ["sgd_momentum_weight_decay", "adam_l2_amsgrad", "rmsprop_centered_momentum_decay",
                                  "adagrad_all_options"])
def test_resuming_from_state_dicts_continues_like_torch(name: str):
    """Three steps, save model and optimizer, build fresh ones, load, three more steps: as torch does."""
    options, ours, theirs = OPTIMIZERS[name]
    twins = mlp_twins()
    opt, t_opt = ours(twins.ours.parameters(), **options), theirs(twins.theirs.parameters(), **options)
    run_steps(twins, opt, t_opt, range(3))
    saved_model, saved_opt = twins.ours.state_dict(), copy.deepcopy(opt.state_dict())
    fresh = mlp_twins(seed=7)
    fresh.ours.load_state_dict(saved_model)
    fresh.pairs = [(p, q) for (p, _), (_, q) in zip(fresh.pairs, twins.pairs)]  # torch keeps its own model
    resumed = ours(fresh.ours.parameters(), **options)
    resumed.load_state_dict(saved_opt)
    run_steps(Twins(fresh.ours, twins.theirs, fresh.pairs), resumed, t_opt, range(3, 6))


def run_steps(twins: Twins, opt, t_opt, steps) -> None:
    for k in steps:
        opt.zero_grad()
        t_opt.zero_grad()
        xb, yb = batches(k)
        cm.nn.CrossEntropyLoss()(twins.ours(xb), yb).backward()
        torch.nn.CrossEntropyLoss()(twins.theirs(T(xb)), T(yb)).backward()
        opt.step()
        t_opt.step()
        twins.assert_parameters_agree(f"after step {k}")


def test_learning_rate_changed_by_hand_mid_training():
    twins = mlp_twins()
    opt, t_opt = O.Adam(twins.ours.parameters(), lr=0.01), TO.Adam(twins.theirs.parameters(), lr=0.01)
    run_steps(twins, opt, t_opt, range(2))
    opt.lr = 0.003
    t_opt.param_groups[0]["lr"] = 0.003
    run_steps(twins, opt, t_opt, range(2, 4))


@pytest.mark.parametrize("loss", ["huber", "l1", "bce_with_logits"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_and_binary_losses_match_torch_in_value_and_gradient(loss: str, reduction: str):
    prediction, target = _rng.standard_normal((6, 2)), _rng.standard_normal((6, 2))
    if loss == "bce_with_logits":
        target = (target > 0).astype(np.float64)
    ours = {"huber": cm.nn.HuberLoss(delta=0.6, reduction=reduction), "l1": cm.nn.L1Loss(reduction=reduction),
            "bce_with_logits": cm.nn.BCEWithLogitsLoss(reduction=reduction)}[loss]
    theirs = {"huber": torch.nn.HuberLoss(delta=0.6, reduction=reduction), "l1": torch.nn.L1Loss(reduction=reduction),
              "bce_with_logits": torch.nn.BCEWithLogitsLoss(reduction=reduction)}[loss]
    p, q = cm.Tensor(prediction.copy(), requires_grad=True), T(prediction).requires_grad_()
    value, t_value = ours(p, target), theirs(q, T(target))
    assert_close(value, t_value, f"{loss} ({reduction})")
    u = _rng.standard_normal(np.shape(t_value.detach().numpy()))
    np.sum(value * u).backward()
    (t_value * T(u)).sum().backward()
    assert_close(p.grad, q.grad, f"gradient of {loss} ({reduction})")


def test_pooling_with_overlapping_windows_padding_and_ties_matches_torch():
    x = np.round(_rng.standard_normal((2, 2, 6, 6)), 1)  # rounding makes ties inside windows
    x[0, 0, :2, :2] = 1.0
    for ours, theirs in ((lambda a: cm.nn.max_pool2d(a, 3, 2, 1), lambda a: F.max_pool2d(a, 3, 2, 1)),
                         (lambda a: cm.nn.MaxPool2d((2, 3), 1)(a), lambda a: F.max_pool2d(a, (2, 3), 1)),
                         (lambda a: cm.nn.avg_pool2d(a, 3, 2, 1), lambda a: F.avg_pool2d(a, 3, 2, 1))):
        p, q = cm.Tensor(x.copy(), requires_grad=True), T(x).requires_grad_()
        out, t_out = ours(p), theirs(q)
        assert_close(out, t_out, "pooled values")
        u = _rng.standard_normal(tuple(t_out.shape))
        np.sum(out * u).backward()
        (t_out * T(u)).sum().backward()
        assert_close(p.grad, q.grad, "pooling gradient")


# ---- Newton's method, written by hand in torch ------------------------------------------------------------
LOGISTIC_X = _rng.standard_normal((20, 3))
LOGISTIC_Y = (_rng.random(20) > 0.5).astype(np.float64)


def test_damped_newton_on_logistic_regression_matches_a_hand_written_torch_newton():
    """w ← w − η (H + λI)⁻¹ ∇L with H and ∇L from torch.func, four steps, weights and bias as two parameters."""
    w, b = cm.Tensor(np.zeros(3), requires_grad=True), cm.Tensor(np.array(0.0), requires_grad=True)
    opt = O.Newton([w, b], lr=0.7, damping=0.1)
    loss = lambda w, b: cm.nn.losses.binary_cross_entropy_with_logits(LOGISTIC_X @ w + b, LOGISTIC_Y)

    def torch_loss(p):
        return F.binary_cross_entropy_with_logits(T(LOGISTIC_X) @ p[:3] + p[3], T(LOGISTIC_Y))
    p = torch.zeros(4, dtype=torch.float64)
    for k in range(4):
        value = opt.step(loss)
        assert_close(value, torch_loss(p), f"loss before step {k}")
        step = torch.linalg.solve(torch.func.hessian(torch_loss)(p) + 0.1 * torch.eye(4, dtype=torch.float64),
                                  torch.func.grad(torch_loss)(p))
        p = p - 0.7 * step
        assert_close(np.r_[w.value, b.value], p, f"after step {k}")


@pytest.mark.parametrize("uses", ["the model alone", "the model's bias"])
def test_newton_closure_written_with_the_models_own_tensors_is_refused_clearly(uses: str):
    """A PyTorch habit: a closure that calls model(X). With damping the Hessian is positive definite, and the
    step went on to a bare GraphEscapeError from float(loss) (model alone) or an InPlaceError about
    numpy.subtract (the bias): a clear error says to write the loss with the closure's arguments."""
    layer = cm.nn.Linear(3, 1, rng=0, dtype=np.float64)
    opt = O.Newton(layer.parameters(), damping=0.01)
    closure = {"the model alone": lambda W, b: cm.nn.losses.mse(layer(LOGISTIC_X)[:, 0], LOGISTIC_Y),
               "the model's bias": lambda W, b: cm.nn.losses.mse((LOGISTIC_X @ W + layer.bias)[:, 0], LOGISTIC_Y)}[uses]
    before = [p.value.copy() for p in layer.parameters()]
    with pytest.raises(cm.CalcmlError, match=r"closure's arguments.*opt\.step\(lambda W, b"):
        opt.step(closure)
    for p, value in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.value, value)  # nothing moved


def test_newton_with_the_closures_arguments_reaches_least_squares():
    layer = cm.nn.Linear(3, 1, rng=0, dtype=np.float64)
    O.Newton(layer.parameters()).step(lambda W, b: cm.nn.losses.mse((LOGISTIC_X @ W + b)[:, 0], LOGISTIC_Y))
    solution = np.linalg.lstsq(np.c_[LOGISTIC_X, np.ones(20)], LOGISTIC_Y, rcond=None)[0]
    assert_close(np.r_[layer.weight.value[:, 0], layer.bias.value], solution, "one Newton step on a quadratic")


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_truncated_backpropagation_through_time_matches_torch_with_detach(kind: str):
    """truncate=3: the state is cut at t = 3, 6 (as ``h = h.detach()`` in a torch loop); gradients of the weights
    and of the inputs agree, and forward mode agrees with reverse mode on the truncated graph."""
    layer = (cm.nn.LSTM if kind == "lstm" else cm.nn.RNN)(2, 4, truncate=3, rng=0, dtype=np.float64)
    xs = _rng.standard_normal((2, 7, 2))
    w_ih, w_hh, bias = (T(p.value).requires_grad_() for p in (layer.weight_ih, layer.weight_hh, layer.bias))
    x_t = T(xs).requires_grad_()
    h = c = torch.zeros(2, 4, dtype=torch.float64)
    states = []
    for t in range(7):
        if t > 0 and t % 3 == 0:
            h, c = h.detach(), c.detach()
        gates = x_t[:, t] @ w_ih + bias + h @ w_hh
        if kind == "rnn":
            h = torch.tanh(gates)
        else:
            i, f, g, o = gates.split(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        states.append(h)
    torch.sum(torch.stack(states, 1) ** 2).backward()
    x = cm.Tensor(xs.copy(), requires_grad=True)
    np.sum(layer(x)[0] ** 2).backward()
    assert_close(layer.weight_hh.grad, w_hh.grad, "gradient of W_hh")
    assert_close(layer.weight_ih.grad, w_ih.grad, "gradient of W_ih")
    assert_close(x.grad, x_t.grad, "gradient of the input")
    loss = lambda inputs: np.sum(layer(inputs)[0] ** 2)
    direction = _rng.standard_normal(xs.shape)
    with cm.no_grad():  # the weights are constants here: plain results
        tangent = cm.jvp(loss, (xs,), (direction,))[1]
    assert_close(tangent, np.sum(x_t.grad.numpy() * direction), "forward mode on the truncated graph")
