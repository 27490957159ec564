import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
import calcml.nn as nn
from tests.nn.torch_reference import assert_matches_torch


@settings(max_examples=20, deadline=None)
@given(size=st.tuples(st.integers(4, 8), st.integers(4, 8)), kernel=st.integers(2, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 1), seed=st.integers(0, 1000))
def test_max_and_avg_pool_match_torch(size, kernel, stride, padding, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3) + size)
    assert_matches_torch(lambda x: nn.max_pool2d(x, kernel, stride, padding),
                         lambda x: torch.nn.functional.max_pool2d(x, kernel, stride, padding), [x])
    assert_matches_torch(lambda x: nn.avg_pool2d(x, kernel, stride, padding),
                         lambda x: torch.nn.functional.avg_pool2d(x, kernel, stride, padding), [x])


def test_max_pool_tie_gives_the_whole_gradient_to_the_first_maximum_like_torch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 0.0, 2.0, 2.0],
                    [3.0, 3.0, 3.0, 3.0],
                    [3.0, 3.0, 3.0, 3.0]]]])
    t = cm.Tensor(x, requires_grad=True)
    np.sum(nn.MaxPool2d(2)(t)).backward()
    expected = np.zeros_like(x)
    expected[0, 0, 0, 0] = expected[0, 0, 0, 3] = expected[0, 0, 2, 0] = expected[0, 0, 2, 2] = 1.0
    np.testing.assert_array_equal(t.grad, expected)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(t.grad, tx.grad.numpy())


def test_overlapping_pools_accumulate_gradients_and_match_finite_differences():
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    cm.check_grad(lambda x: np.sum(np.sin(nn.max_pool2d(x, 3, 1))), x)
    cm.check_grad(lambda x: np.sum(np.sin(nn.avg_pool2d(x, 3, 2, 1))), x)


def test_pools_keep_float32_and_halve_the_image():
    x = cm.Tensor(np.ones((2, 3, 8, 6), dtype=np.float32), requires_grad=True)
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
        out = pool(x)
        np.sum(out).backward()
        assert out.shape == (2, 3, 4, 3) and out.dtype == np.float32 and x.grad.dtype == np.float32


def test_pool_rejects_a_window_larger_than_the_image():
    with pytest.raises(cm.ShapeError):
        nn.max_pool2d(np.ones((1, 1, 2, 2)), 3)
