"""Gradients through time in a recurrent network: vanishing, exploding, and clipping.

An Elman RNN, h_t = tanh(a_t) with a_t = x_t W_ih + h_{t−1} W_hh + b, reads a noisy sine and predicts its next
value, ŷ_t = h_t w + c. Backpropagation through time carries the gradient from the last step back:

    ∂L/∂h_{t−1} = (∂L/∂h_t ⊙ tanh'(a_t)) W_hhᵀ,        tanh'(a) = 1 − tanh(a)² ∈ (0, 1]

so ‖∂L/∂h_t‖ is ‖∂L/∂h_T‖ times T − t factors. With W_hh = ρ·Q (Q orthogonal: every singular value is ρ, so
the spectral radius is ρ too) each factor lies between ρ·min tanh' and ρ·max tanh'. While the tanh works in its
linear range (small inputs, tanh' ≈ 1) the norm goes as ρ^(T−t): it *vanishes* geometrically for ρ < 1 and
*explodes* for ρ > 1. With inputs of size 1 the tanh saturates, tanh' < 1 damps every factor, and ρ must
be well above 1 before the explosion wins (ρ > 1 is necessary, not sufficient: Pascanu et al., 2013).

When it does, one SGD step of size η‖∇θ‖ throws the weights off a cliff. Clipping the gradient to a norm c
(``cm.train.clip_grad_norm``) bounds every step by η·c and keeps the direction: training then proceeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from calcml import nn, optim
from calcml.autodiff.transforms import grad
from calcml.train.clipping import clip_grad_norm, grad_norm


def recurrent_matrix(size: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    """ρ·Q with Q a random orthogonal matrix (QR of a Gaussian, signs fixed): spectral radius = ‖·‖₂ = ρ."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return radius * q * np.sign(np.diag(r))


def noisy_sine(rng: np.random.Generator, windows: int, steps: int, scale: float = 1.0, noise: float = 0.05,
               dt: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Windows of scale·(sin(t + φ) + noise), shape (windows, steps, 1), and the next clean values sin(t + dt + φ)
    (the targets, same shape), each window with its own random phase φ."""
    phase = rng.uniform(0.0, 2 * np.pi, size=(windows, 1))
    clean = np.sin(np.arange(steps + 1) * dt + phase)
    noisy = clean + noise * rng.standard_normal(clean.shape)
    return scale * noisy[:, :-1, None], clean[:, 1:, None]


class NextValuePredictor(nn.Module):
    """An RNN (1 → ``hidden``, tanh) with recurrent matrix ``recurrent_matrix(hidden, radius)``, zero bias (so
    that h = 0 is a fixed point and small inputs keep the tanh in its linear range) and a linear read-out
    ŷ_t = h_t w + c, in float64."""

    def __init__(self, hidden: int = 16, radius: float = 0.9, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.rnn = nn.RNN(1, hidden, rng=rng, dtype=np.float64)
        self.rnn.weight_hh = nn.parameter(recurrent_matrix(hidden, radius, rng), "weight_hh")
        self.rnn.bias = nn.parameter(np.zeros(hidden), "bias")
        self.readout = nn.Linear(hidden, 1, rng=rng, dtype=np.float64)

    def forward(self, x):
        states, _ = self.rnn(x)
        return self.readout(states)


# ---- gradient norms through time ----------------------------------------------------------------
@dataclass(frozen=True)
class GradientsThroughTime:
    """‖∂L/∂h_t‖ (over the batch, Frobenius) for t = 1…T, for the loss at the last step, and the hidden states."""

    radius: float
    norms: np.ndarray  # (T,)
    states: np.ndarray  # (T, N, H)

    @property
    def rate(self) -> float:
        """The factor r per step back in time, fitted as log ‖∂L/∂h_t‖ ≈ c + (T − t)·log r (least squares)."""
        steps_back = np.arange(len(self.norms))[::-1]
        return float(np.exp(np.polyfit(steps_back, np.log(self.norms), 1)[0]))

    @property
    def step_ratios(self) -> np.ndarray:
        """‖∂L/∂h_{t−1}‖ / ‖∂L/∂h_t‖ for t = T…2 (ordered as t = 2…T)."""
        return self.norms[:-1] / self.norms[1:]

    @property
    def tanh_slopes(self) -> np.ndarray:
        """tanh'(a_t) = 1 − h_t² at every step, (T, N, H)."""
        return 1.0 - self.states ** 2


def gradients_through_time(model: NextValuePredictor, x: np.ndarray, y: np.ndarray) -> GradientsThroughTime:
    """∂L/∂h_t for every t, with L = ½·mean over the batch of (ŷ_T − y_T)², by the engine.

    The recurrence is unrolled again with a zero "probe" δ_t added to each state, h_t = tanh(a_t) + δ_t:
    then ∂L/∂δ_t = ∂L/∂h_t, and one reverse pass gives all of them (the forward values are the model's).
    """
    # the weights are constants here: the derivative wanted is the one with respect to the probes
    w_ih, w_hh, b = (p.value for p in (model.rnn.weight_ih, model.rnn.weight_hh, model.rnn.bias))
    w_out, c = model.readout.weight.value, model.readout.bias.value
    batch, steps, _ = x.shape
    states = []

    def last_step_loss(probes):
        inputs = x @ w_ih + b
        h = np.zeros((batch, w_hh.shape[0]))
        states.clear()
        for t in range(steps):
            h = np.tanh(inputs[:, t] + h @ w_hh) + probes[t]
            states.append(h.value)  # the forward values, recorded for the picture
        return 0.5 * np.mean((h @ w_out + c - y[:, -1]) ** 2)

    probe_grads = grad(last_step_loss)(np.zeros((steps, batch, w_hh.shape[0])))
    norms = np.linalg.norm(probe_grads.reshape(steps, -1), axis=1)
    radius = float(np.max(np.abs(np.linalg.eigvals(w_hh))))
    return GradientsThroughTime(radius, norms, np.array(states))


def through_time_study(radii: Sequence[float] = (0.8, 0.9, 1.0, 1.1, 1.2), steps: int = 50, scale: float = 1e-6,
                       hidden: int = 16, windows: int = 8, seed: int = 0) -> list[GradientsThroughTime]:
    """Gradient norms through time for each spectral radius, same weights otherwise and the same inputs of size
    ``scale`` (the default 1e-6 keeps every state below ~0.05 for ρ ≤ 1.2 over 50 steps: the linear range)."""
    x, y = noisy_sine(np.random.default_rng(seed), windows, steps, scale)
    return [gradients_through_time(NextValuePredictor(hidden, radius, seed), x, y) for radius in radii]


# ---- training with and without clipping ---------------------------------------------------------
BLOW_UP = 1e3  # a loss this many times its starting value means the run has diverged
@dataclass
class TrainingRun:
    """Per step: the loss, the gradient norm before clipping, and the norm of the update ‖θ_new − θ_old‖.
    ``diverged_at`` is the first step whose loss blew up (not finite, or above ``BLOW_UP`` × the first loss;
    the run stops there), or None."""

    radius: float
    lr: float
    max_norm: float | None
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    update_norm: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.diverged_at is None else math.inf

    def __str__(self) -> str:
        clip = "no clipping" if self.max_norm is None else f"clip ‖g‖ ≤ {self.max_norm:g}"
        end = (f"diverged at step {self.diverged_at}" if self.diverged_at is not None
               else f"final loss {self.final_loss:.4f}")
        return (f"ρ = {self.radius:g}, lr {self.lr:g}, {clip:15}: loss {self.loss[0]:.3f} → {end}; "
                f"max ‖∇θ‖ {max(self.grad_norm):.3g}, max ‖Δθ‖ {max(self.update_norm):.3g}")


def train_next_value(radius: float, max_norm: float | None = None, lr: float = 0.1, steps: int = 200,
                     hidden: int = 16, windows: int = 32, length: int = 40, seed: int = 0) -> TrainingRun:
    """Full-batch SGD with BPTT on next-value prediction of a noisy sine (mean squared error over every step),
    the recurrent matrix starting at spectral radius ``radius``; gradients clipped to ``max_norm`` if given."""
    x, y = noisy_sine(np.random.default_rng(seed), windows, length)
    model = NextValuePredictor(hidden, radius, seed)
    params = model.parameters()
    optimizer = optim.SGD(params, lr=lr)
    run = TrainingRun(radius, lr, max_norm)
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps):
            optimizer.zero_grad()
            loss = nn.losses.mse(model(x), y)
            if not np.isfinite(loss.value) or (run.loss and loss.value > BLOW_UP * run.loss[0]):
                run.diverged_at = step
                break
            loss.backward()
            before = [p.value.copy() for p in params]
            run.grad_norm.append(grad_norm(params))
            if max_norm is not None:
                clip_grad_norm(params, max_norm)
            optimizer.step()
            run.loss.append(float(loss.value))
            run.update_norm.append(math.sqrt(sum(float(np.sum((p.value - v) ** 2)) for p, v in zip(params, before))))
    return run
