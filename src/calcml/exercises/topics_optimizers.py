"""Chapter 12: one step of each optimizer, with PyTorch's update equations and ε = 0.

momentum  b ← μb + g,  w ← w − ηb                      (torch.optim.SGD(momentum=μ))
AdaGrad   s ← s + g²,  w ← w − ηg/√s                   (torch.optim.Adagrad)
RMSProp   v ← αv + (1 − α)g²,  w ← w − ηg/√v           (torch.optim.RMSprop)
Adam      m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  w ← w − η·m_c/√v_c, m_c = m/(1 − β₁ᵗ), v_c = v/(1 − β₂ᵗ)

Difficulty 1: one scalar step from the given state; 2: one step on a vector with a given state; 3: two steps on
f(w) = (a/2)‖w‖² from a zero state (the gradient a·w is recomputed at the new point).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sympy as sp

from calcml.exercises.drawing import fraction, integers
from calcml.exercises.exercise import Problem, Topic

_MU, _ALPHA, _BETA1, _BETA2 = sp.Rational(9, 10), sp.Rational(9, 10), sp.Rational(9, 10), sp.Rational(99, 100)


def _momentum(w, g, state, eta, t):
    b = _MU * state["b"] + g
    return w - eta * b, {"b": b}


def _adagrad(w, g, state, eta, t):
    s = state["s"] + g.applyfunc(lambda v: v**2)
    return w - eta * sp.Matrix([gi / sp.sqrt(si) for gi, si in zip(g, s, strict=True)]), {"s": s}


def _rmsprop(w, g, state, eta, t):
    v = _ALPHA * state["v"] + (1 - _ALPHA) * g.applyfunc(lambda x: x**2)
    return w - eta * sp.Matrix([gi / sp.sqrt(vi) for gi, vi in zip(g, v, strict=True)]), {"v": v}


def _adam(w, g, state, eta, t):
    m = _BETA1 * state["m"] + (1 - _BETA1) * g
    v = _BETA2 * state["v"] + (1 - _BETA2) * g.applyfunc(lambda x: x**2)
    m_c, v_c = m / (1 - _BETA1**t), v / (1 - _BETA2**t)
    return w - eta * sp.Matrix([mi / sp.sqrt(vi) for mi, vi in zip(m_c, v_c, strict=True)]), {"m": m, "v": v}


def _adam_without_correction(w, g, state, eta, t):
    m = _BETA1 * state["m"] + (1 - _BETA1) * g
    v = _BETA2 * state["v"] + (1 - _BETA2) * g.applyfunc(lambda x: x**2)
    return w - eta * sp.Matrix([mi / sp.sqrt(vi) for mi, vi in zip(m, v, strict=True)]), {"m": m, "v": v}


_RULES = {
    "momentum": (_momentum, f"SGD with momentum μ = {_MU}: b ← μb + g, w ← w − ηb", ("b",)),
    "adagrad": (_adagrad, "AdaGrad: s ← s + g², w ← w − ηg/√s (ε = 0)", ("s",)),
    "rmsprop": (_rmsprop, f"RMSProp with α = {_ALPHA}: v ← αv + (1 − α)g², w ← w − ηg/√v (ε = 0)", ("v",)),
    "adam": (_adam, f"Adam with β₁ = {_BETA1}, β₂ = {_BETA2}: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², "
             "w ← w − η·m_c/√v_c with the bias corrections m_c = m/(1 − β₁ᵗ), v_c = v/(1 − β₂ᵗ) at step t (ε = 0)",
             ("m", "v")),
}
_MISTAKES: dict[str, tuple[Callable, str]] = {
    "momentum": (lambda w, g, state, eta, t: (w - eta * g, {}), "the step uses the momentum buffer b, not g alone"),
    "adagrad": (lambda w, g, state, eta, t: (w - eta * g, {}), "divide the gradient by √s, the root of the summed "
                "squares"),
    "rmsprop": (lambda w, g, state, eta, t: (w - eta * sp.Matrix([gi / abs(gi) if gi else 0 for gi in g]), {}),
                "v is a running average: (1 − α)g² is added to αv, not g² itself"),
    "adam": (_adam_without_correction, "apply the bias corrections m_c = m/(1 − β₁ᵗ), v_c = v/(1 − β₂ᵗ)"),
}


def _vector(values) -> sp.Matrix:
    return sp.Matrix(values)


def _one_step(name: str, rng: random.Random, level: int) -> Problem:
    rule, equations, state_names = _RULES[name]
    eta = fraction(rng, ("1/10", "1/2", "1/100"))
    size = 1 if level == 1 else 2
    if level < 3:
        w = _vector(integers(rng, size, -3, 3))
        g = _vector(integers(rng, size, -4, 4, nonzero=True))
        t = rng.randint(2, 5) if name == "adam" else 2
        state = {k: _vector([v**2 if k in ("s", "v") else v
                             for v in integers(rng, size, -2, 2, nonzero=k in ("s", "v"))]) for k in state_names}
        expected, new_state = rule(w, g, state, eta, t)
        wrong, _ = _MISTAKES[name][0](w, g, state, eta, t)
        known = ", ".join(f"{k} = {_show(state[k])}" for k in state_names)
        step = f" This is step t = {t}." if name == "adam" else ""
        segments = (f"{equations}. With η = {eta}, weights w = {_show(w)}, gradient g = {_show(g)} and the "
                    f"state {known}, take one step: find the new w.{step}",)
        steps = tuple(f"{k} ← {_show(v)}" for k, v in new_state.items()) + (f"w ← {_show(expected)}",)
        given = {"eta": eta, "w": list(w), "gradients": [list(g)], "state": {k: list(v) for k, v in state.items()},
                 "step": t}
    else:
        a = rng.choice((1, 2))
        w0 = _vector(integers(rng, size, -3, 3, nonzero=True))
        zero = {k: sp.zeros(size, 1) for k in state_names}
        w1, state = rule(w0, a * w0, zero, eta, 1)
        expected, _ = rule(w1, a * w1, state, eta, 2)
        wrong, _ = _MISTAKES[name][0](w1, a * w1, state, eta, 2)
        segments = (f"{equations}. Minimize f(w) = ({a}/2)‖w‖² (so g = {a}w) from w₀ = {_show(w0)} with η = {eta} "
                    f"and a zero state: take two steps and find w₂.",)
        steps = (f"step 1: g = {_show(a * w0)}, w₁ = {_show(w1)}",
                 f"step 2: g = {_show(a * w1)}, w₂ = {_show(expected)}")
        given = {"eta": eta, "w": list(w0), "curvature": a, "state": {}, "step": 1}
    kind, answer = ("value", expected[0]) if size == 1 else ("vector", expected)
    mistake = wrong[0] if size == 1 else wrong
    return Problem(segments, kind, answer, steps=steps, mistakes=((mistake, _MISTAKES[name][1]),),
                   given={"optimizer": name, **given})


def _show(vector: sp.Matrix) -> str:
    return sp.sstr(vector[0]) if len(vector) == 1 else "(" + ", ".join(sp.sstr(v) for v in vector) + ")"


TOPICS = tuple(
    Topic(name, 12, f"one {title} step", lambda rng, level, name=name: _one_step(name, rng, level))
    for name, title in (("momentum", "momentum"), ("adagrad", "AdaGrad"), ("rmsprop", "RMSProp"), ("adam", "Adam"))
)
