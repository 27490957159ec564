import numpy as np
import pytest
import torch

import calcml as cm
import calcml.optim  # noqa: F401
from tests.optim.against_torch import assert_matches_torch_step_by_step

OPTIONS = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.8),
    dict(lr=0.01, eps=0.3),
    dict(lr=0.01, weight_decay=0.2),
    dict(lr=0.01, momentum=0.8),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-3),
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_rmsprop_matches_torch_for_ten_steps(options):
    assert_matches_torch_step_by_step(cm.optim.RMSprop, torch.optim.RMSprop, options)


def test_rmsprop_skips_parameters_without_gradient_like_torch():
    skipped = frozenset({(0, 2), (4, 0), (4, 1), (9, 3)})
    assert_matches_torch_step_by_step(cm.optim.RMSprop, torch.optim.RMSprop,
                                      dict(lr=0.01, centered=True, momentum=0.9), skipped=skipped)


@pytest.mark.parametrize("options, words", [
    (dict(lr=-0.01), "lr must be >= 0"),
    (dict(alpha=1.5), "alpha must be in [0, 1]"),
    (dict(alpha=-0.1), "alpha must be in [0, 1]"),
    (dict(eps=-1.0), "eps must be >= 0"),
    (dict(momentum=-0.9), "momentum must be >= 0"),
    (dict(weight_decay=-0.9), "weight_decay must be >= 0"),
])
def test_rmsprop_rejects_invalid_hyperparameters(options, words):
    w = cm.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(cm.optim.HyperparameterError, match="RMSprop") as info:
        cm.optim.RMSprop([w], **options)
    assert words in str(info.value)
