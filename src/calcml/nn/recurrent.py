"""Recurrent layers, batch first: x of shape (N, T, F).

RNN:   h_t = tanh(x_t W_ih + h_{t−1} W_hh + b)
LSTM:  [i, f, g, o] = x_t W_ih + h_{t−1} W_hh + b   (gate order of PyTorch)
       c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)

Backpropagation through time is the engine's reverse pass over the unrolled loop:
∂L/∂h_{t−1} = (∂L/∂h_t ⊙ tanh'(·)) W_hhᵀ + (direct terms), accumulated from t = T down to 1.
``truncate=k`` cuts the graph every k steps (h is detached at t = k, 2k, …): gradients then reach back
at most to the start of the current window — truncated BPTT, cheaper and blind to longer dependencies.
Weights use calcml's (in, out) layout: W_ih = torch weight_ih_l0.T, b = bias_ih_l0 + bias_hh_l0.
"""

from __future__ import annotations

import math

import numpy as np

from calcml.autodiff.errors import ShapeError
from calcml.autodiff.tensor import Tensor
from calcml.nn.activations import sigmoid
from calcml.nn.module import Module, parameter


def _uniform(rng, shape, bound, dtype):
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _check_input(x, input_size: int, layer: str) -> tuple[int, int]:
    shape = np.shape(x)
    if len(shape) != 3 or shape[2] != input_size:
        raise ShapeError(f"{layer} expects x of shape (batch, time, {input_size}) (batch first); got {shape}.")
    return shape[0], shape[1]


def _cut(state, t: int, truncate: int | None):
    """Detach the recurrent state at the start of every window of ``truncate`` steps (not at t = 0)."""
    if truncate and t > 0 and t % truncate == 0 and type(state) is Tensor:
        return state.detach()
    return state


class RNN(Module):
    """Elman RNN with tanh. ``forward(x, h0=None)`` -> (all hidden states (N, T, H), last state (N, H)).

    Initialized like PyTorch: every weight and the bias ~ U(−1/√H, 1/√H).
    """

    def __init__(self, input_size: int, hidden_size: int, truncate: int | None = None, rng=None,
                 dtype=np.float32):
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1.0 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size, self.truncate = input_size, hidden_size, truncate
        self.weight_ih = parameter(_uniform(rng, (input_size, hidden_size), bound, dtype), "weight_ih")
        self.weight_hh = parameter(_uniform(rng, (hidden_size, hidden_size), bound, dtype), "weight_hh")
        self.bias = parameter(_uniform(rng, (hidden_size,), bound, dtype), "bias")

    def forward(self, x, h0=None):
        batch, steps = _check_input(x, self.input_size, "RNN")
        inputs = x @ self.weight_ih + self.bias  # every time step's input term in one product
        h = np.zeros((batch, self.hidden_size), dtype=self.weight_hh.dtype) if h0 is None else h0
        states = []
        for t in range(steps):
            h = np.tanh(inputs[:, t] + _cut(h, t, self.truncate) @ self.weight_hh)
            states.append(h)
        return np.stack(states, axis=1), h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, truncate={self.truncate}"


class LSTM(Module):
    """Long short-term memory. ``forward(x, state=None)`` -> (all h (N, T, H), (h_T, c_T)).

    Weights (in, 4H) and (H, 4H), gates in PyTorch's order i, f, g, o; initialized ~ U(−1/√H, 1/√H).
    """

    def __init__(self, input_size: int, hidden_size: int, truncate: int | None = None, rng=None,
                 dtype=np.float32):
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1.0 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size, self.truncate = input_size, hidden_size, truncate
        self.weight_ih = parameter(_uniform(rng, (input_size, 4 * hidden_size), bound, dtype), "weight_ih")
        self.weight_hh = parameter(_uniform(rng, (hidden_size, 4 * hidden_size), bound, dtype), "weight_hh")
        self.bias = parameter(_uniform(rng, (4 * hidden_size,), bound, dtype), "bias")

    def forward(self, x, state=None):
        batch, steps = _check_input(x, self.input_size, "LSTM")
        size = self.hidden_size
        inputs = x @ self.weight_ih + self.bias
        if state is None:
            zeros = np.zeros((batch, size), dtype=self.weight_hh.dtype)
            state = (zeros, zeros)
        h, c = state
        states = []
        for t in range(steps):
            h, c = _cut(h, t, self.truncate), _cut(c, t, self.truncate)
            gates = inputs[:, t] + h @ self.weight_hh
            i, f = sigmoid(gates[:, :size]), sigmoid(gates[:, size:2 * size])
            g, o = np.tanh(gates[:, 2 * size:3 * size]), sigmoid(gates[:, 3 * size:])
            c = f * c + i * g
            h = o * np.tanh(c)
            states.append(h)
        return np.stack(states, axis=1), (h, c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, truncate={self.truncate}"
