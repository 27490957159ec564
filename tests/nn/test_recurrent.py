import numpy as np
import pytest
import torch

import calcml as cm
import calcml.nn as nn
from tests.nn.torch_reference import assert_matches_torch


def _torch_rnn(module, size_in, hidden):
    rnn = torch.nn.RNN(size_in, hidden, batch_first=True).double()
    lstm = torch.nn.LSTM(size_in, hidden, batch_first=True).double()
    return rnn if module == "rnn" else lstm


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_recurrent_layers_match_torch_values_and_all_gradients(kind):
    rng = np.random.default_rng(0)
    size_in, hidden = 3, 4
    gates = 1 if kind == "rnn" else 4
    x = rng.standard_normal((2, 6, size_in))
    w_ih = rng.standard_normal((size_in, gates * hidden)) * 0.5
    w_hh = rng.standard_normal((hidden, gates * hidden)) * 0.5
    b_ih, b_hh = rng.standard_normal(gates * hidden), rng.standard_normal(gates * hidden)
    ours = (nn.RNN if kind == "rnn" else nn.LSTM)(size_in, hidden, dtype=np.float64)

    def f(x, w_ih, w_hh, b_ih, b_hh):
        ours.weight_ih, ours.weight_hh, ours.bias = w_ih, w_hh, b_ih + b_hh
        outputs, last = ours(x)
        last_h = last if kind == "rnn" else last[0] + 2 * last[1]
        return np.concatenate([np.reshape(outputs, (-1,)), np.reshape(last_h, (-1,))])

    def f_torch(x, w_ih, w_hh, b_ih, b_hh):
        theirs = _torch_rnn(kind, size_in, hidden)
        outputs, last = torch.func.functional_call(
            theirs, {"weight_ih_l0": w_ih.T, "weight_hh_l0": w_hh.T, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}, (x,))
        last_h = last[0] if kind == "rnn" else last[0][0] + 2 * last[1][0]
        return torch.cat([outputs.reshape(-1), last_h.reshape(-1)])

    assert_matches_torch(f, f_torch, [x, w_ih, w_hh, b_ih, b_hh])


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM])
def test_bptt_gradients_match_finite_differences(layer):
    rng = np.random.default_rng(1)
    model = layer(2, 3, rng=1, dtype=np.float64)
    x = rng.standard_normal((2, 5, 2))

    def loss(x, w_hh):
        model.weight_hh = w_hh
        outputs, _ = model(x)
        return np.sum(outputs[:, -1] ** 2) + np.sum(outputs)

    cm.check_grad(loss, x, model.weight_hh.value.copy())


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM])
def test_truncated_bptt_cuts_gradients_beyond_the_window(layer):
    rng = np.random.default_rng(2)
    steps, window = 10, 3
    x = cm.Tensor(rng.standard_normal((2, steps, 2)), requires_grad=True)
    truncated = layer(2, 3, truncate=window, rng=2, dtype=np.float64)
    outputs, _ = truncated(x)
    np.sum(outputs[:, -1]).backward()
    last_window_start = (steps - 1) // window * window  # 9: the last window holds only t = 9
    assert np.all(x.grad[:, :last_window_start] == 0)
    assert np.all(np.abs(x.grad[:, last_window_start:]) > 0)
    full = layer(2, 3, rng=2, dtype=np.float64)  # same weights, no truncation: gradients reach t = 0
    y = cm.Tensor(x.value, requires_grad=True)
    np.sum(full(y)[0][:, -1]).backward()
    assert np.all(np.abs(y.grad[:, 0]) > 0)
    np.testing.assert_allclose(full(x.value)[0].value, outputs.value)  # truncation changes gradients, not values


def test_recurrent_layers_keep_float32():
    for layer in (nn.RNN(2, 3, rng=0), nn.LSTM(2, 3, rng=0)):
        outputs, _ = layer(np.ones((1, 4, 2), dtype=np.float32))
        np.sum(outputs).backward()
        assert outputs.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in layer.parameters())
