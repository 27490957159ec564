import numpy as np

import calcml as cm
import calcml.nn as nn


def test_dropout_zeroes_a_fraction_p_and_scales_survivors_to_keep_the_mean():
    x = cm.Tensor(np.ones((200, 500)), requires_grad=True)
    layer = nn.Dropout(0.3, rng=0)
    out = layer(x)
    kept = out.value != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out.value[kept], 1 / 0.7)
    assert abs(out.value.mean() - 1.0) < 0.02
    np.sum(out).backward()
    np.testing.assert_allclose(x.grad, kept / 0.7)  # same mask in the backward pass


def test_dropout_is_the_identity_in_eval_mode_and_seedable():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    layer = nn.Dropout(0.5, rng=1).eval()
    assert layer(x) is x
    a, b = nn.Dropout(0.5, rng=3)(cm.Tensor(x)), nn.Dropout(0.5, rng=3)(cm.Tensor(x))
    np.testing.assert_array_equal(a.value, b.value)
    assert a.dtype == np.float32
    assert np.all(nn.dropout(cm.Tensor(x), 1.0).value == 0)
