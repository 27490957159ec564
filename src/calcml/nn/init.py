"""Weight initializers that keep signal variance steady through depth.

Fans: a 2-D weight of calcml's ``Linear`` is (fan_in, fan_out); a convolution weight
(out_channels, in_channels, kh, kw) has fan_in = in·kh·kw and fan_out = out·kh·kw.
Each takes ``rng`` (a ``np.random.Generator``, a seed, or None) and a ``dtype``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from calcml.autodiff.errors import CalcmlError


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (see the module docstring for the layouts)."""
    if len(shape) < 2:
        raise CalcmlError(f"fans need a weight with at least 2 axes, got shape {shape}.")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _generator(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def xavier_uniform(shape, rng=None, gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    """U(−a, a), a = gain·√(6/(fan_in + fan_out)).

    Var(W) = 2/(fan_in + fan_out) balances forward and backward variance (tanh, sigmoid).
    """
    fan_in, fan_out = fans(tuple(shape))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _generator(rng).uniform(-bound, bound, size=shape).astype(dtype)


def xavier_normal(shape, rng=None, gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    """N(0, σ²), σ = gain·√(2/(fan_in + fan_out)).

    Var(W) = 2/(fan_in + fan_out) balances forward and backward variance (tanh, sigmoid).
    """
    fan_in, fan_out = fans(tuple(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return (_generator(rng).standard_normal(shape) * std).astype(dtype)


def he_uniform(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """U(−a, a), a = √(6/fan_in).

    Var(W) = 2/fan_in keeps the forward variance of ReLU layers constant (ReLU halves it).
    """
    fan_in, _ = fans(tuple(shape))
    bound = math.sqrt(6.0 / fan_in)
    return _generator(rng).uniform(-bound, bound, size=shape).astype(dtype)


def he_normal(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """N(0, 2/fan_in).

    Var(W) = 2/fan_in keeps the forward variance of ReLU layers constant (ReLU halves it).
    """
    fan_in, _ = fans(tuple(shape))
    return (_generator(rng).standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(dtype)


def zeros(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """All zeros (biases)."""
    return np.zeros(shape, dtype=dtype)


glorot_uniform, glorot_normal = xavier_uniform, xavier_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal

INITIALIZERS: dict[str, Callable] = {
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform, "glorot_normal": xavier_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "kaiming_uniform": he_uniform, "kaiming_normal": he_normal, "zeros": zeros,
}


def initializer(init: str | Callable) -> Callable:
    """The initializer called ``init`` (or ``init`` itself when it is a callable(shape, rng, dtype))."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise CalcmlError(f"unknown initializer {init!r}; choose one of {sorted(INITIALIZERS)} or pass a "
                          "function (shape, rng, dtype) -> array.")
    return INITIALIZERS[init]
