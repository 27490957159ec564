"""Topics of chapters 10, 11, 18 and 19: losses and their derivatives, the softmax/cross-entropy gradient,
gradient descent (batch and mini-batch), a linear digit classifier's weight gradient, stable step sizes."""

from __future__ import annotations

import random

import sympy as sp

from calcml.exercises.drawing import fraction, integers
from calcml.exercises.exercise import Problem, Topic
from calcml.symbolic.ml_functions import sigmoid

P, Z, W = sp.symbols("p z w", real=True)


def _losses(rng: random.Random, level: int) -> Problem:
    if level == 1:
        y, scale = integers(rng, 1, -3, 3)[0], rng.choice((1, sp.Rational(1, 2)))
        loss = scale * (P - y) ** 2
        name, variable, domain = "the squared error L(p) = ", P, {}
        mistakes = ((scale * (P - y), "the power rule brings the exponent 2 down as a factor"),)
    elif level == 2:
        y = fraction(rng, ("0", "1", "9/10", "1/10"))
        loss = -y * sp.log(P) - (1 - y) * sp.log(1 - P)
        name, variable, domain = "the binary cross-entropy L(p) = ", P, {"p": (0.01, 0.99)}
        mistakes = ((y / P - (1 - y) / (1 - P), "the sign is flipped: L has a minus sign in front"),)
    else:
        y = fraction(rng, ("0", "1", "9/10"))
        loss = -y * sp.log(sigmoid(Z)) - (1 - y) * sp.log(1 - sigmoid(Z))
        name, variable, domain = "the binary cross-entropy of a logit, L(z) = ", Z, {}
        mistakes = ((sigmoid(Z) * (1 - sigmoid(Z)), "that is σ′(z): the log cancels it, leaving σ(z) − y"),
                    (y - sigmoid(Z), "the sign is flipped: dL/dz = σ(z) − y"))
    expected = sp.simplify(sp.diff(loss, variable).rewrite(sigmoid)) if level < 3 else sigmoid(Z) - y
    return Problem(("Differentiate ", name, loss, f" with respect to {variable}."), "derivative", expected,
                   question=loss, variables=(variable,), domain=domain,
                   steps=(f"dL/d{variable} = {sp.sstr(expected)}",), mistakes=mistakes,
                   given={"loss": loss, "variable": variable})


def _softmax(values) -> sp.Matrix:
    total = sum(sp.exp(v) for v in values)
    return sp.Matrix([sp.exp(v) / total for v in values])


def _softmax_cross_entropy(rng: random.Random, level: int) -> Problem:
    classes = {1: 3, 2: 3, 3: 4}[level]
    logits = [sp.Integer(0)] * classes if level == 1 else integers(rng, classes, -2, 3)
    label = rng.randrange(classes)
    p = _softmax(logits)
    onehot = sp.Matrix([int(i == label) for i in range(classes)])
    expected = p - onehot
    return Problem(("The logits z = ", sp.Tuple(*logits), f" go through softmax and the cross-entropy loss "
                    f"L = −log softmax(z)_{label + 1} (the true class is {label + 1}). Find the gradient ∂L/∂z."),
                   "vector", expected,
                   steps=(f"p = softmax(z) = {sp.sstr(list(p))}", f"∂L/∂z = p − y = {sp.sstr(list(expected))}"),
                   mistakes=((p, "subtract the one-hot label: ∂L/∂z = softmax(z) − y"),
                             (onehot - p, "the sign is flipped: ∂L/∂z = softmax(z) − y")),
                   given={"logits": logits, "label": label})


def _gradient_descent(rng: random.Random, level: int) -> Problem:
    eta = fraction(rng, ("1/10", "1/20", "1/4", "1/5"))
    if level == 1:
        a, c = rng.randint(1, 3), integers(rng, 1, -3, 3)[0]
        w0 = integers(rng, 1, -3, 3)[0]
        f = a * (W - c) ** 2
        g = sp.diff(f, W).subs(W, w0)
        expected = w0 - eta * g
        return Problem(("One step of gradient descent on f(w) = ", f, f" from w₀ = {w0} with learning rate "
                        f"η = {eta}: find w₁."), "value", expected, question=f,
                       steps=(f"f′(w₀) = {g}", f"w₁ = w₀ − η f′(w₀) = {w0} − {eta}·{g} = {expected}"),
                       mistakes=((w0 + eta * g, "a step along the gradient goes uphill: subtract η f′(w₀)"),),
                       given={"f": f, "w0": w0, "eta": eta})
    points = [(x, y) for x, y in zip(integers(rng, 4, -2, 3, nonzero=True), integers(rng, 4, -3, 4), strict=True)]
    w0, b0 = integers(rng, 2, -1, 2)
    if level == 2:
        data = points[:3]
        grad = sp.Rational(2, len(data)) * sum((w0 * x - y) * x for x, y in data)
        expected = w0 - eta * grad
        summed = w0 - eta * 2 * sum((w0 * x - y) * x for x, y in data)
        return Problem((f"Fit y ≈ w·x to the points {', '.join(f'({x}, {y})' for x, y in data)} with the mean "
                        f"squared error L(w) = (1/{len(data)}) Σ (w xᵢ − yᵢ)². One full-batch gradient step from "
                        f"w₀ = {w0} with η = {eta}: find w₁."), "value", expected,
                       steps=(f"dL/dw = (2/{len(data)}) Σ (w₀xᵢ − yᵢ)xᵢ = {grad}", f"w₁ = {w0} − {eta}·{grad} = "
                              f"{expected}"),
                       mistakes=((summed, "the loss is a mean: divide the summed gradient by the number of points"),
                                 (w0 + eta * grad, "a step along the gradient goes uphill: subtract η∇L")),
                       given={"points": data, "w0": w0, "b0": 0, "batch": list(range(len(data))), "eta": eta})
    batch = sorted(rng.sample(range(4), 2))

    def step(indices) -> sp.Matrix:
        chosen = [points[i] for i in indices]
        gw = sp.Rational(2, len(chosen)) * sum((w0 * x + b0 - y) * x for x, y in chosen)
        gb = sp.Rational(2, len(chosen)) * sum((w0 * x + b0 - y) for x, y in chosen)
        return sp.Matrix([w0 - eta * gw, b0 - eta * gb])

    expected = step(batch)
    return Problem((f"The model ŷ = w·x + b has the data {', '.join(f'({x}, {y})' for x, y in points)} (examples "
                    f"1 to 4) and the loss L = mean of (ŷᵢ − yᵢ)². One mini-batch SGD step on examples "
                    f"{batch[0] + 1} and {batch[1] + 1} only, from (w, b) = ({w0}, {b0}) with η = {eta}: "
                    "find (w₁, b₁)."), "vector", expected,
                   steps=("the mini-batch gradient averages over the 2 chosen examples only",
                          f"(w₁, b₁) = {sp.sstr(list(expected))}"),
                   mistakes=((step(range(4)), "use only the mini-batch's examples, not the whole data set"),),
                   given={"points": points, "w0": w0, "b0": b0, "batch": batch, "eta": eta})


def _digit_classifier(rng: random.Random, level: int) -> Problem:
    pixels = [sp.Integer(rng.randint(0, 1)) for _ in range(4)]
    if not any(pixels):
        pixels[rng.randrange(4)] = sp.Integer(1)
    label = rng.randrange(3)
    W0 = sp.zeros(3, 4) if level < 3 else sp.Matrix(3, 4, integers(rng, 12, -1, 1))
    b0 = sp.zeros(3, 1) if level == 1 else sp.Matrix(integers(rng, 3, -1, 1))
    x = sp.Matrix(pixels)
    p = _softmax(list(W0 * x + b0))
    y = sp.Matrix([int(i == label) for i in range(3)])
    expected = (p - y) * x.T
    return Problem(("A linear classifier of 2×2 images into digits 0, 1, 2 computes z = Wx + b, p = softmax(z), "
                    "L = −log p_y. The image, flattened, is x = ", sp.Tuple(*pixels), f", its label is digit {label}, "
                    "and W = ", W0, ", b = ", b0, ". Find ∂L/∂W (a 3×4 matrix)."), "matrix", expected,
                   steps=(f"z = {sp.sstr(list(W0 * x + b0))}, p = {sp.sstr(list(p))}",
                          "∂L/∂W = (p − y) xᵀ: row k is (p_k − y_k) times the image"),
                   mistakes=((p * x.T, "subtract the one-hot label: ∂L/∂z = p − y"),),
                   given={"x": pixels, "label": label, "W": W0, "b": b0})


def _loss_surfaces(rng: random.Random, level: int) -> Problem:
    if level < 3:
        a, b = rng.sample(range(1, 11), 2)
        f = (a * sp.Symbol("x", real=True) ** 2 + b * sp.Symbol("y", real=True) ** 2) / 2
        low, high = sorted((sp.Integer(a), sp.Integer(b)))
        hessian_text = f"H = diag({a}, {b})"
    else:
        p, r = rng.randint(2, 5), rng.randint(2, 5)
        q = rng.randint(1, min(p, r) - 1)
        xs, ys = sp.symbols("x y", real=True)
        f = (p * xs**2 + 2 * q * xs * ys + r * ys**2) / 2
        low, high = sorted(sp.Matrix([[p, q], [q, r]]).eigenvals(), key=float)
        hessian_text = f"H = [{p}, {q}; {q}, {r}]"
    if level == 2:
        expected = 2 / (low + high)
        question = "the learning rate η* = 2/(λ_min + λ_max) that makes gradient descent contract fastest"
        mistakes = ((1 / high, "1/λ_max is safe but not the fastest: balance both directions"),)
    else:
        expected = 2 / high
        question = "the largest learning rate η for which gradient descent converges (the edge of stability)"
        mistakes = ((1 / high, "GD on a quadratic converges for η < 2/λ_max, not 1/λ_max"),
                    (2 / low, "the largest curvature λ_max sets the limit, not the smallest"))
    return Problem(("Gradient descent on f(x, y) = ", f, f": find {question}."), "value", sp.simplify(expected),
                   question=f, steps=(f"{hessian_text}: λ_min = {sp.sstr(low)}, λ_max = {sp.sstr(high)}",
                                      f"answer = {sp.sstr(sp.simplify(expected))}"),
                   mistakes=mistakes, given={"hessian": sp.hessian(f, sorted(f.free_symbols, key=str)),
                                             "asked": "fastest" if level == 2 else "stable"})


TOPICS = (
    Topic("losses", 10, "losses and their derivatives", _losses),
    Topic("softmax-cross-entropy", 10, "the softmax/cross-entropy gradient", _softmax_cross_entropy),
    Topic("gradient-descent", 11, "gradient descent: batch and mini-batch steps", _gradient_descent),
    Topic("digit-classifier", 18, "the weight gradient of a linear digit classifier", _digit_classifier),
    Topic("loss-surfaces", 19, "curvature and stable learning rates", _loss_surfaces),
)
