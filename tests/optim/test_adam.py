import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401
from tests.optim.against_torch import assert_matches_torch_step_by_step

ADAM_OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, betas=(0.5, 0.8)),
    dict(lr=0.1, eps=0.3),                        # ε after the bias-corrected square root
    dict(lr=0.1, weight_decay=0.3),               # L2: added to the gradient
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, amsgrad=True),
]

ADAMW_OPTIONS = [
    dict(lr=0.1),                                 # torch's default weight_decay=1e-2
    dict(lr=0.1, weight_decay=0.3),               # decoupled: w ← w (1 − ηλ)
    dict(lr=0.1, weight_decay=0.0),
    dict(lr=0.1, weight_decay=0.2, amsgrad=True, eps=0.3),
    dict(lr=0.05, betas=(0.6, 0.95), weight_decay=0.5),
]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_matches_torch_for_ten_steps(options):
    assert_matches_torch_step_by_step(cm.optim.Adam, torch.optim.Adam, options)


@pytest.mark.parametrize("options", ADAMW_OPTIONS, ids=str)
def test_adamw_matches_torch_for_ten_steps(options):
    assert_matches_torch_step_by_step(cm.optim.AdamW, torch.optim.AdamW, options)


@pytest.mark.parametrize("ours, theirs", [(cm.optim.Adam, torch.optim.Adam), (cm.optim.AdamW, torch.optim.AdamW)])
def test_bias_correction_counts_each_parameters_own_steps_like_torch(ours, theirs):
    skipped = frozenset({(0, 1), (1, 1), (2, 1), (5, 0), (6, 3)})
    assert_matches_torch_step_by_step(ours, theirs, dict(lr=0.1, amsgrad=True, weight_decay=0.1),
                                      skipped=skipped)


def test_adam_and_adamw_differ_only_in_where_weight_decay_goes():
    w0 = np.array([1.0, -3.0])
    results = []
    for cls in (cm.optim.Adam, cm.optim.AdamW):
        w = cm.Tensor(w0.copy(), requires_grad=True)
        w.grad = np.array([0.5, 0.5])
        cls([w], lr=0.1, weight_decay=0.5).step()
        results.append(w.value)
    # Adam's first step is ±η whatever the gradient's scale: sign(g + λw) = (+, −)
    np.testing.assert_allclose(results[0], w0 - 0.1 * np.array([1.0, -1.0]), rtol=1e-7)
    # AdamW shrinks w by (1 − ηλ) first, then steps along sign(g) = (+, +)
    np.testing.assert_allclose(results[1], w0 * (1 - 0.05) - 0.1, rtol=1e-7)


@pytest.mark.parametrize("cls", [cm.optim.Adam, cm.optim.AdamW])
@pytest.mark.parametrize("options, words", [
    (dict(lr=-1e-3), "lr must be >= 0"),
    (dict(betas=(1.0, 0.999)), "betas[0] must be in [0, 1)"),
    (dict(betas=(0.9, -0.1)), "betas[1] must be in [0, 1)"),
    (dict(betas=(0.9, 1.0)), "betas[1] must be in [0, 1)"),
    (dict(betas=(0.9,)), "betas must be a pair"),
    (dict(betas=0.9), "betas must be a pair"),
    (dict(eps=-1e-8), "eps must be >= 0"),
    (dict(weight_decay=-0.1), "weight_decay must be >= 0"),
])
def test_adam_rejects_invalid_hyperparameters(cls, options, words):
    w = cm.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(cm.optim.HyperparameterError, match=cls.__name__) as info:
        cls([w], **options)
    assert words in str(info.value)
