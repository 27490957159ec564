"""Topics of chapters 8, 9 and 20: expectations by integration, Bayesian updates, gradient flow, and the
score-function (REINFORCE) gradient of a softmax policy."""

from __future__ import annotations

import random

import sympy as sp

from calcml.exercises.drawing import fraction, integers
from calcml.exercises.exercise import Problem, Topic
from calcml.exercises.notation import unicode_math

X, Y, T = sp.symbols("x y t", real=True)


def _expectations(rng: random.Random, level: int) -> Problem:
    if level == 1:
        a, b = sorted(rng.sample(range(-2, 5), 2))
        density, support = sp.Integer(1) / (b - a), (a, b)
        name = f"X is uniform on [{a}, {b}]"
    elif level == 2:
        k = rng.randint(1, 4)
        density, support = (k + 1) * X**k, (0, 1)
        name = "X has density p(x) = "
    else:
        rate = rng.choice((1, 2, 3, sp.Rational(1, 2)))
        density, support = rate * sp.exp(-rate * X), (0, sp.oo)
        name = "X has density p(x) = "
    g = rng.choice([X**2, X**3, X, 2 * X + 1]) if level < 3 else rng.choice([X**2, X**3, sp.exp(-X)])
    expected = sp.integrate(g * density, (X, *support))
    ask = (". Find E[g(X)] = ∫ g(x) p(x) dx for g(x) = ", g, ".")
    segments = (name, density, f" on [{support[0]}, {'∞)' if support[1] == sp.oo else f'{support[1]}]'}", *ask) \
        if level > 1 else (name, *ask)
    mean_only = sp.integrate(X * density, (X, *support))
    return Problem(segments, "value", expected, question=(g, density, support),
                   steps=(f"E[g(X)] = ∫ {sp.sstr(g)} · {sp.sstr(density)} dx over [{support[0]}, {support[1]}]",
                          f"= {sp.sstr(expected)}"),
                   mistakes=((g.subs(X, mean_only), "E[g(X)] is not g(E[X]): integrate g(x)p(x)"),)
                   if g != X and g.subs(X, mean_only) != expected else (),
                   given={"g": g, "density": density, "support": support, "variable": X})


def _bayesian_updates(rng: random.Random, level: int) -> Problem:
    if level == 1:
        a, b = integers(rng, 2, 1, 4)
        n = rng.randint(3, 10)
        k = rng.randint(0, n)
        expected = (a + k) / (a + b + n)
        return Problem((f"A coin's bias θ has the prior Beta({a}, {b}). You see {k} heads in {n} flips. Find the "
                        "posterior mean E[θ | data]."), "value", sp.Rational(expected),
                       steps=(f"posterior = Beta({a} + {k}, {b} + {n - k})",
                              f"mean = ({a} + {k})/({a} + {b} + {n}) = {sp.Rational(expected)}"),
                       mistakes=((sp.Rational(k, n), "that is the maximum-likelihood estimate k/n: add the prior's "
                                  "pseudo-counts"),),
                       given={"model": "beta-binomial", "prior": (a, b), "heads": k, "flips": n})
    if level == 2:
        prior = fraction(rng, ("1/100", "1/50", "1/20", "1/10"))
        sensitivity = fraction(rng, ("9/10", "19/20", "99/100"))
        false_positive = fraction(rng, ("1/20", "1/10", "1/50"))
        evidence = sensitivity * prior + false_positive * (1 - prior)
        expected = sensitivity * prior / evidence
        return Problem((f"A condition has prior probability {prior}. A test detects it with probability "
                        f"{sensitivity} and gives a false positive with probability {false_positive}. The test is "
                        "positive: find P(condition | positive)."), "value", expected,
                       steps=(f"P(+) = {sensitivity}·{prior} + {false_positive}·(1 − {prior}) = {evidence}",
                              f"P(condition | +) = {sensitivity}·{prior}/P(+) = {expected}"),
                       mistakes=((sensitivity, "that is P(positive | condition): Bayes' rule turns it around"),),
                       given={"model": "diagnostic test", "prior": prior, "sensitivity": sensitivity,
                              "false_positive": false_positive})
    m0, s0 = integers(rng, 1, -2, 2)[0], rng.choice((1, 2))
    sigma = rng.choice((1, 2, 3))
    data = integers(rng, rng.randint(2, 4), -3, 5)
    n, mean = len(data), sp.Rational(sum(data), len(data))
    precision = sp.Rational(1, s0**2) + sp.Rational(n, sigma**2)
    expected = (sp.Rational(m0, s0**2) + n * mean / sigma**2) / precision
    return Problem((f"A mean μ has the prior N({m0}, {s0 ** 2}); the observations {', '.join(map(str, data))} are "
                    f"drawn from N(μ, {sigma ** 2}). Find the posterior mean of μ."), "value", expected,
                   steps=(f"posterior precision = 1/{s0 ** 2} + {n}/{sigma ** 2} = {precision}",
                          f"posterior mean = ({m0}/{s0 ** 2} + {n}·{mean}/{sigma ** 2})/{precision} = {expected}"),
                   mistakes=((mean, "that is the sample mean alone: the prior pulls it toward its own mean"),),
                   given={"model": "normal-normal", "prior_mean": m0, "prior_variance": s0**2,
                          "noise_variance": sigma**2, "data": data})


def _gradient_flow(rng: random.Random, level: int) -> Problem:
    x0 = integers(rng, 1, -4, 4, nonzero=True)[0]
    rate = rng.randint(1, 3)
    if level == 1:
        expected = x0 * sp.exp(-rate * T)
        segments, velocity = ("Solve dx/dt = ", -rate * X, f" with x(0) = {x0}: give x(t)."), -rate * X
    elif level == 2:
        c = integers(rng, 1, -3, 3, nonzero=True)[0]
        f = sp.Rational(rate, 2) * (X - c) ** 2
        expected = c + (x0 - c) * sp.exp(-rate * T)
        segments = ("Gradient flow dx/dt = −f′(x) on f(x) = ", f, f", from x(0) = {x0}: give x(t).")
        velocity = -sp.diff(f, X)
    else:
        y0 = integers(rng, 1, -4, 4, nonzero=True)[0]
        b = rng.choice([r for r in (1, 2, 3, 4) if r != rate])
        f = (rate * X**2 + b * Y**2) / 2
        expected = sp.Matrix([x0 * sp.exp(-rate * T), y0 * sp.exp(-b * T)])
        return Problem(("Gradient flow d(x, y)/dt = −∇f on f(x, y) = ", f, f", from (x, y)(0) = ({x0}, {y0}): give "
                        "(x(t), y(t))."), "vector", expected, question=f, variables=(T,), domain={"t": (0, 3)},
                       steps=(f"−∇f = ({unicode_math(-rate * X)}, {unicode_math(-b * Y)}): each coordinate decays "
                              "on its own", f"x(t) = {unicode_math(expected[0])}, y(t) = {unicode_math(expected[1])}"),
                       mistakes=((expected.subs(T, -T), "the sign of the exponent: the flow runs downhill and "
                                  "decays"),),
                       given={"velocity": (-rate * X, -b * Y), "state": (X, Y), "start": (x0, y0)})
    return Problem(segments, "expression", expected, question=segments[1], variables=(T,), domain={"t": (0, 3)},
                   steps=("the equation is linear: x(t) − x* = (x(0) − x*)·exp(−rate·t)",
                          f"x(t) = {sp.sstr(expected)}"),
                   mistakes=((expected.subs(T, -T), "the sign of the exponent: the solution decays toward the "
                              "minimum"),),
                   given={"velocity": (velocity,), "state": (X,), "start": (x0,)})


def _policy_gradients(rng: random.Random, level: int) -> Problem:
    actions = 2 if level == 1 else 3
    theta = [sp.Integer(0)] * actions if level == 1 else integers(rng, actions, -2, 2)
    chosen = rng.randrange(actions)
    reward = integers(rng, 1, -3, 5, nonzero=True)[0]
    total = sum(sp.exp(t) for t in theta)
    pi = sp.Matrix([sp.exp(t) / total for t in theta])
    onehot = sp.Matrix([int(i == chosen) for i in range(actions)])
    expected = reward * (onehot - pi)
    if level == 3:
        baseline = integers(rng, 1, 1, 3)[0]
        expected = (reward - baseline) * (onehot - pi)
        extra = f" with the baseline b = {baseline}, i.e. (R − b)∇θ log π(a)"
    else:
        extra, baseline = ", i.e. R·∇θ log π(a)", 0
    return Problem((f"A softmax policy π = softmax(θ) over {actions} actions has θ = ", sp.Tuple(*theta),
                    f". Action a = {chosen + 1} was taken and earned the return R = {reward}. Give the REINFORCE "
                    f"gradient estimate{extra}."), "vector", expected,
                   steps=(f"π = softmax(θ) = {sp.sstr(list(pi))}",
                          f"∇θ log π(a) = e_a − π = {sp.sstr(list(onehot - pi))}",
                          f"estimate = {sp.sstr(list(expected))}"),
                   mistakes=((expected.applyfunc(lambda v: -v), "the sign is flipped: ∇θ log π(a) = e_a − π"),
                             (reward * onehot, "∇θ log π(a) = e_a − π: the softmax's normalizer contributes −π")),
                   given={"theta": theta, "action": chosen, "reward": reward,
                          "baseline": baseline if level == 3 else 0})


TOPICS = (
    Topic("expectations", 8, "expectations by integration", _expectations),
    Topic("bayesian-updates", 8, "Bayesian posterior updates", _bayesian_updates),
    Topic("gradient-flow", 9, "ODEs and gradient flow", _gradient_flow),
    Topic("policy-gradients", 20, "the score-function (REINFORCE) gradient", _policy_gradients),
)
