"""batches: every sample exactly once per epoch, in batch, stochastic and mini-batch form."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcml.data import batches


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 50), batch_size=st.one_of(st.none(), st.integers(1, 60)), shuffle=st.booleans(),
       seed=st.integers(0, 2**16))
def test_every_sample_exactly_once_and_sizes(n, batch_size, shuffle, seed):
    X = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n)
    served = list(batches(X, y, batch_size, shuffle=shuffle, rng=seed))
    seen = np.concatenate([yb for _, yb in served])
    assert sorted(seen.tolist()) == list(range(n))
    for Xb, yb in served:
        np.testing.assert_array_equal(Xb[:, 0] // 2, yb)  # rows stay paired with their labels
    sizes = [len(yb) for _, yb in served]
    if batch_size is None:
        assert sizes == [n]
    else:
        assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if not shuffle or batch_size is None:
        np.testing.assert_array_equal(seen, y)


def test_stochastic_and_seeded_shuffles():
    y = np.arange(20)
    stochastic = [yb for _, yb in batches(y[:, None], y, 1, rng=3)]
    assert all(len(b) == 1 for b in stochastic) and len(stochastic) == 20
    first = np.concatenate([yb for _, yb in batches(y[:, None], y, 6, rng=3)])
    again = np.concatenate([yb for _, yb in batches(y[:, None], y, 6, rng=np.random.default_rng(3))])
    other = np.concatenate([yb for _, yb in batches(y[:, None], y, 6, rng=4)])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other) and not np.array_equal(first, y)


def test_one_generator_gives_a_new_order_each_epoch():
    rng = np.random.default_rng(0)
    y = np.arange(30)
    epoch1 = np.concatenate([yb for _, yb in batches(y, y, 8, rng=rng)])
    epoch2 = np.concatenate([yb for _, yb in batches(y, y, 8, rng=rng)])
    assert not np.array_equal(epoch1, epoch2)


def test_bad_arguments_fail_at_the_call():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        batches(np.zeros(3), np.zeros(2), 1)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="positive integer or None"):
            batches(np.zeros(3), np.zeros(3), bad)
