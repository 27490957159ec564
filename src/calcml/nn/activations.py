"""Activation functions, as functions and as modules, each stable for large |x|.

sigmoid and softplus are fused primitives (one NumPy pass forward, one backward); the rest are
written with the engine's NumPy rules. Kinks follow the ML convention: ReLU'(0) = 0, LeakyReLU'(0) = slope.
"""

from __future__ import annotations

import numpy as np

from calcml.autodiff.formula import Formula
from calcml.autodiff.primitive import primitive
from calcml.autodiff.rules.reductions import logsumexp
from calcml.autodiff.rules.reductions import softmax as engine_softmax
from calcml.nn.fused import call
from calcml.nn.module import Module


@primitive(broadcasts=True, formula=Formula("d/dx σ(x) = σ(x)(1 − σ(x))", partials=("σ({0})(1 − σ({0}))",)))
def sigmoid(x):
    """σ(x) = 1/(1 + e⁻ˣ), computed as ½(1 + tanh(x/2)) so it never overflows.  d/dx σ(x) = σ(x)(1 − σ(x))."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


sigmoid.defvjp(lambda g, ans, x: g * (ans * (1 - ans)))
sigmoid.defjvp(lambda t, ans, x: t * (ans * (1 - ans)))


@primitive(broadcasts=True, formula=Formula("d/dx softplus(x) = σ(x)", partials=("σ({0})",)))
def softplus(x):
    """softplus(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) (stable).  d/dx softplus(x) = σ(x)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


softplus.defvjp(lambda g, ans, x: g * call(sigmoid, x))
softplus.defjvp(lambda t, ans, x: t * sigmoid.forward(x))


def tanh(x):
    """tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ).  d/dx tanh(x) = 1 − tanh²(x)."""
    return np.tanh(x)


def relu(x):
    """relu(x) = max(x, 0).  d/dx relu(x) = 1 for x > 0, else 0 (0 at x = 0 by convention)."""
    return np.maximum(x, 0)


def leaky_relu(x, negative_slope: float = 0.01):
    """leaky_relu(x) = x for x > 0, else slope·x.  d/dx = 1 for x > 0, else slope (slope at 0)."""
    return np.where(np.asarray(x > 0), x, negative_slope * x)


def softmax(x, axis: int = -1):
    """softmax(x)_i = e^{x_i}/Σ_j e^{x_j} (shifted by max x).  ∂s_i/∂x_j = s_i(δ_ij − s_j)."""
    return engine_softmax(x, axis=axis)


def log_softmax(x, axis: int = -1):
    """log_softmax(x)_i = x_i − logsumexp(x) (never takes the log of an underflowed 0).
    ∂/∂x_j log_softmax(x)_i = δ_ij − softmax(x)_j."""
    return x - logsumexp(x, axis=axis, keepdims=True)


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ); d/dx σ(x) = σ(x)(1 − σ(x))."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """tanh(x); d/dx tanh(x) = 1 − tanh²(x)."""

    def forward(self, x):
        return tanh(x)


class ReLU(Module):
    """max(x, 0); d/dx = 1 for x > 0, else 0."""

    def forward(self, x):
        return relu(x)


class LeakyReLU(Module):
    """x for x > 0, else slope·x; d/dx = 1 for x > 0, else slope."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """ln(1 + eˣ); d/dx softplus(x) = σ(x)."""

    def forward(self, x):
        return softplus(x)


class Softmax(Module):
    """softmax along ``axis``; ∂s_i/∂x_j = s_i(δ_ij − s_j)."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        return softmax(x, self.axis)


class LogSoftmax(Module):
    """log_softmax along ``axis``; ∂/∂x_j log_softmax(x)_i = δ_ij − softmax(x)_j."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        return log_softmax(x, self.axis)
