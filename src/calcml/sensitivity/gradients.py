"""Attributions from gradients at the input: saliency, gradient × input and SmoothGrad.

For a model output f(x) (a scalar: one class's logit, a regression output) the input gradient ∂f/∂x_i says
how much f moves per unit change of feature i near x (Simonyan et al. 2014); gradient × input x_i ∂f/∂x_i
weighs that by the feature's value (exact attribution for a linear f with zero bias); SmoothGrad (Smilkov et
al. 2017) averages the gradient over x + ε, ε ~ N(0, σ² I), to wash out the gradient's local noise. These
follow Captum's definitions (Saliency with abs=False, InputXGradient, NoiseTunnel(Saliency, "smoothgrad")).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml.autodiff import grad, no_grad, vmap
from calcml.autodiff.tensor import Tensor
from calcml.sensitivity.errors import SensitivityInputError


def plain(value: Any) -> np.ndarray:
    """A plain float64 array (a Tensor's value)."""
    return np.asarray(value.value if type(value) is Tensor else value, dtype=np.float64)


def input_gradient(f: Callable[[Any], Any], x: Any) -> np.ndarray:
    """∇_x f(x) as a plain array shaped like x (f must return a scalar)."""
    with no_grad():  # plain arrays out even when f closes over a model's trainable weights
        return plain(grad(f)(plain(x)))


def input_gradients(f: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    """∇f at every row of ``points`` (shape (m, *x.shape)), by cm.vmap of cm.grad: one pass, not m."""
    with no_grad():
        return plain(vmap(grad(f))(plain(points)))


def saliency(f: Callable[[Any], Any], x: Any, absolute: bool = False) -> np.ndarray:
    """∂f/∂x at x, shaped like x (|∂f/∂x| with ``absolute=True``, Captum's default).

    >>> w = np.array([0.5, -2.0, 3.0])
    >>> cm.sensitivity.saliency(lambda x: x @ w + 1.0, np.ones(3))     # a linear model's saliency: its weights
    array([ 0.5, -2. ,  3. ])
    """
    g = input_gradient(f, x)
    return np.abs(g) if absolute else g


def gradient_x_input(f: Callable[[Any], Any], x: Any) -> np.ndarray:
    """x ⊙ ∂f/∂x at x, shaped like x.

    >>> cm.sensitivity.gradient_x_input(lambda x: x[0] * x[1], np.array([2.0, 3.0]))   # (x₁x₂, x₁x₂)
    array([6., 6.])
    """
    return plain(x) * input_gradient(f, x)


def smoothgrad(f: Callable[[Any], Any], x: Any, noise: float = 0.1, samples: int = 50,
               seed: int | None = 0) -> np.ndarray:
    """(1/N) Σ ∂f/∂x (x + ε_k), ε_k ~ N(0, noise² I), shaped like x (``noise`` is the absolute standard
    deviation, Captum's ``stdevs``). The N gradients are taken in one ``cm.vmap`` pass.

    >>> g = cm.sensitivity.smoothgrad(lambda x: np.sum(np.sin(x)), np.zeros(2), noise=0.5, samples=20000)
    >>> np.round(g, 2)                         # E[cos(ε)] = exp(−σ²/2) = 0.88
    array([0.88, 0.88])
    """
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise SensitivityInputError(f"smoothgrad: samples must be an integer ≥ 1, got {samples!r}.")
    if noise < 0:
        raise SensitivityInputError(f"smoothgrad: noise must be ≥ 0, got {noise!r}.")
    x = plain(x)
    rng = np.random.default_rng(seed)
    points = x[None] + noise * rng.standard_normal((samples, *x.shape))
    return input_gradients(f, points).mean(axis=0)
