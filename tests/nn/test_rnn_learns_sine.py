"""An RNN trained by backpropagation through time learns to predict the next value of a noisy sine wave."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import nn


class NextStepPredictor(nn.Module):
    """h_t = tanh(x_t W_ih + h_{t−1} W_hh + b);  ŷ_{t+1} = h_t w + c."""

    def __init__(self, hidden: int, rng: np.random.Generator):
        self.rnn = nn.RNN(1, hidden, rng=rng, dtype=np.float64)
        self.readout = nn.Linear(hidden, 1, rng=rng, dtype=np.float64)

    def forward(self, x):
        states, _ = self.rnn(x)
        return self.readout(states)


def noisy_sine_windows(rng, n_windows, steps, noise=0.05):
    """Windows of sin(ω t + φ) + noise; the target is the next clean value at every step."""
    phase = rng.uniform(0, 2 * np.pi, size=(n_windows, 1))
    t = np.arange(steps + 1) * 0.3
    clean = np.sin(t + phase)
    noisy = clean + noise * rng.standard_normal(clean.shape)
    return noisy[:, :-1, None], clean[:, 1:, None]


def test_rnn_learns_next_step_prediction_of_a_noisy_sine():
    rng = np.random.default_rng(0)
    X_train, y_train = noisy_sine_windows(rng, 64, 20)
    X_test, y_test = noisy_sine_windows(rng, 32, 20)
    model = NextStepPredictor(16, rng)
    optimizer = cm.optim.Adam(model.parameters(), lr=0.01)
    before = float(nn.losses.mse(model(X_test), y_test).value)
    for _ in range(300):
        optimizer.zero_grad()
        nn.losses.mse(model(X_train), y_train).backward()
        optimizer.step()
    after = float(nn.losses.mse(model(X_test), y_test).value)
    assert after < 1e-2, (before, after)
    assert after < before / 10
