import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401
from tests.optim.against_torch import assert_matches_torch_step_by_step

OPTIONS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.3),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.1, initial_accumulator_value=0.5),
    dict(lr=0.1, eps=0.3),                       # a large ε: added after the square root, as in torch
    dict(lr=0.2, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-3),
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_adagrad_matches_torch_for_ten_steps(options):
    assert_matches_torch_step_by_step(cm.optim.Adagrad, torch.optim.Adagrad, options)


def test_adagrad_step_count_is_per_parameter_like_torch():
    skipped = frozenset({(0, 0), (1, 0), (2, 3), (5, 1)})
    assert_matches_torch_step_by_step(cm.optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.5),
                                      skipped=skipped)


@pytest.mark.parametrize("options, words", [
    (dict(lr=-1.0), "lr must be >= 0"),
    (dict(lr_decay=-0.1), "lr_decay must be >= 0"),
    (dict(weight_decay=-0.1), "weight_decay must be >= 0"),
    (dict(initial_accumulator_value=-1.0), "initial_accumulator_value must be >= 0"),
    (dict(eps=-1e-10), "eps must be >= 0"),
])
def test_adagrad_rejects_invalid_hyperparameters(options, words):
    w = cm.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(cm.optim.HyperparameterError, match="Adagrad") as info:
        cm.optim.Adagrad([w], **options)
    assert words in str(info.value)
