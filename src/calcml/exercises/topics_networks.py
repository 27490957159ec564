"""Topics of chapters 4 and 13-17 with numbers: the chain rule through activations, backpropagation in matrix
form, a 2-layer network's backward pass, activation derivatives, vanishing-gradient products, convolution
outputs and gradients, and backpropagation through time."""

from __future__ import annotations

import random

import sympy as sp

from calcml.exercises.drawing import fraction, integers
from calcml.exercises.exercise import Problem, Topic
from calcml.symbolic.ml_functions import relu, sigmoid, softplus

_W = sp.Symbol("w", real=True)
_ACTIVATIONS = {"σ": sigmoid, "tanh": sp.tanh, "relu": relu, "softplus": softplus}


def _activation_chain_rule(rng: random.Random, level: int) -> Problem:
    x, b, t = integers(rng, 3, -2, 2, nonzero=True)
    w0 = integers(rng, 1, -2, 2, nonzero=True)[0]
    if level == 1:
        name = "relu"
        while w0 * x + b == 0:
            b += 1
    else:
        name = rng.choice(("σ", "tanh", "softplus"))
    phi = _ACTIVATIONS[name]
    if level == 3:
        v = integers(rng, 1, -2, 2, nonzero=True)[0]
        output = phi(v * phi(_W * x + b))
        network = f"ŷ = {name}(v·{name}(w·x + b)) with v = {v}"
    else:
        output = phi(_W * x + b)
        network = f"ŷ = {name}(w·x + b)"
    loss = (output - t) ** 2 / 2
    expected = sp.diff(loss, _W).subs(_W, w0)
    forgot = ((output - t) * sp.diff(_W * x + b, _W)).subs(_W, w0)
    return Problem((f"A neuron computes {network}, with x = {x}, b = {b}, and the loss L = ½(ŷ − t)² with t = {t}. "
                    f"Find ∂L/∂w at w = {w0}."), "value", expected, question=loss,
                   steps=(f"z = w·x + b = {w0 * x + b}", "∂L/∂w = (ŷ − t)·φ′(z)·x (one factor per link of the chain)",
                          f"= {sp.sstr(expected)}"),
                   mistakes=((forgot, "multiply by the activation's derivative φ′(z) too"),) if level < 3 else (),
                   given={"activation": name, "x": x, "b": b, "t": t, "w": w0, "v": v if level == 3 else None})


def _backprop_matrix(rng: random.Random, level: int) -> Problem:
    inputs = 2 if level == 1 else 3
    W = sp.Matrix(2, inputs, integers(rng, 2 * inputs, -2, 2))
    x, t = sp.Matrix(integers(rng, inputs, -2, 2, nonzero=True)), sp.Matrix(integers(rng, 2, -2, 2))
    y = W * x
    delta = y - t
    if level == 3:
        expected, wanted = W.T * delta, "∂L/∂x (the gradient sent to the layer below)"
        mistake = (-expected, "the sign is flipped: ∂L/∂y = y − t")
        steps = (f"y = Wx = {sp.sstr(list(y))}", f"∂L/∂y = y − t = {sp.sstr(list(delta))}",
                 f"∂L/∂x = Wᵀ(y − t) = {sp.sstr(list(expected))}")
    else:
        expected, wanted = delta * x.T, "∂L/∂W (a matrix shaped like W)"
        mistake = ((x * delta.T), "that is the transpose: ∂L/∂W = (y − t)xᵀ has the shape of W") if inputs == 2 \
            else (-expected, "the sign is flipped: ∂L/∂y = y − t")
        steps = (f"y = Wx = {sp.sstr(list(y))}", f"∂L/∂y = y − t = {sp.sstr(list(delta))}",
                 f"∂L/∂W = (y − t)xᵀ = {sp.sstr(expected.tolist())}")
    kind = "vector" if level == 3 else "matrix"
    return Problem(("A linear layer y = Wx has W = ", W, ", x = ", x, ", and the loss L = ½‖y − t‖² with t = ", t,
                    f". Find {wanted}."), kind, expected, steps=steps, mistakes=(mistake,),
                   given={"W": W, "x": x, "t": t, "wrt": "x" if level == 3 else "W"})


def _two_layer_network(rng: random.Random, level: int) -> Problem:
    while True:
        W1 = sp.Matrix(2, 2, integers(rng, 4, -2, 2))
        b1, w2 = sp.Matrix(integers(rng, 2, -1, 1)), sp.Matrix(integers(rng, 2, -2, 2, nonzero=True))
        x, b2, y = sp.Matrix(integers(rng, 2, -2, 2, nonzero=True)), *integers(rng, 2, -1, 2)
        z1 = W1 * x + b1
        if 0 not in z1 and any(v > 0 for v in z1) and (level < 3 or any(v < 0 for v in z1)):
            break
    h = z1.applyfunc(lambda v: max(v, 0))
    yhat = (w2.T * h)[0] + b2
    error = yhat - y
    mask = z1.applyfunc(lambda v: 1 if v > 0 else 0)
    delta1 = sp.Matrix([error * w * m for w, m in zip(w2, mask, strict=True)])
    unmasked = error * w2
    wanted, expected, mistakes = {
        1: ("∂L/∂w₂", error * h, ((error * z1, "w₂ multiplies h = relu(z₁), not z₁"),)),
        2: ("∂L/∂b₁", delta1, ((unmasked, "ReLU′ is 0 where z₁ ≤ 0: mask the gradient"),)),
        3: ("∂L/∂W₁ (a 2×2 matrix)", delta1 * x.T, ((unmasked * x.T, "ReLU′ is 0 where z₁ ≤ 0: mask the gradient"),
                                                     (x * delta1.T, "that is the transpose: ∂L/∂W₁ = δ₁xᵀ"))),
    }[level]
    return Problem(("A 2-layer network computes z₁ = W₁x + b₁, h = relu(z₁), ŷ = w₂·h + b₂, L = ½(ŷ − y)², with x = ",
                    x, ", W₁ = ", W1, ", b₁ = ", b1, ", w₂ = ", w2, f", b₂ = {b2} and y = {y}. Find {wanted}."),
                   "matrix" if level == 3 else "vector", expected,
                   steps=(f"forward: z₁ = {sp.sstr(list(z1))}, h = {sp.sstr(list(h))}, ŷ = {yhat}, "
                          f"L = {error ** 2 / 2}",
                          f"backward: ∂L/∂ŷ = ŷ − y = {error}, ∂L/∂w₂ = (ŷ − y)h = {sp.sstr(list(error * h))}",
                          f"δ₁ = ∂L/∂z₁ = (ŷ − y)w₂ ⊙ relu′(z₁) = {sp.sstr(list(delta1))} = ∂L/∂b₁",
                          f"∂L/∂W₁ = δ₁xᵀ = {sp.sstr((delta1 * x.T).tolist())}"),
                   mistakes=mistakes, given={"x": x, "W1": W1, "b1": b1, "w2": w2, "b2": b2, "y": y,
                                             "wrt": {1: "w2", 2: "b1", 3: "W1"}[level]})


def _activation_derivatives(rng: random.Random, level: int) -> Problem:
    a = sp.Integer(0) if level == 1 else integers(rng, 1, -3, 3, nonzero=True)[0]
    u = sp.Symbol("u", real=True)
    pool = {1: ["σ", "tanh", "relu"], 2: ["σ", "tanh", "softplus", "relu"], 3: ["silu", "gelu-tanh", "σ-second"]}
    name = rng.choice(pool[level])
    if name == "relu" and a == 0:
        a = sp.Integer(rng.choice((-1, 1)) * rng.randint(1, 3))
    functions = {"silu": u * sigmoid(u), "gelu-tanh": u * (1 + sp.tanh(u)) / 2, "σ-second": sigmoid(u)}
    f = functions[name] if name in functions else _ACTIVATIONS[name](u)
    order = 2 if name == "σ-second" else 1
    expected = sp.diff(f, u, order).subs(u, a)
    question = {"silu": f"Find the derivative of SiLU(u) = u·σ(u) at u = {a}.",
                "gelu-tanh": f"Find the derivative of g(u) = u·(1 + tanh u)/2 at u = {a}.",
                "σ-second": f"Find σ″(u), the second derivative of the sigmoid, at u = {a}."}.get(
        name, f"Find the slope {name}′(u) of the activation {name} at u = {a}.")
    return Problem((question,), "value", expected, question=f,
                   steps=(f"{sp.sstr(sp.diff(f, u, order))} at u = {a}", f"= {sp.sstr(expected)}"),
                   mistakes=((f.subs(u, a), "that is the activation's value, not its slope"),) if order == 1 else (),
                   given={"function": f, "variable": u, "order": order, "at": a})


def _vanishing_gradients(rng: random.Random, level: int) -> Problem:
    depth = {1: rng.randint(3, 6), 2: rng.randint(3, 5), 3: 3}[level]
    if level == 1:
        w = rng.choice((1, 2, 4, 8))
        weights, pre = [sp.Integer(w)] * depth, [sp.Integer(0)] * depth
    elif level == 2:
        weights, pre = integers(rng, depth, -4, 4, nonzero=True), [sp.Integer(0)] * depth
    else:
        weights, pre = integers(rng, depth, -3, 3, nonzero=True), integers(rng, depth, -2, 2)
    slopes = [sigmoid(z) * (1 - sigmoid(z)) for z in pre]
    expected = sp.Mul(*[w * s for w, s in zip(weights, slopes, strict=True)])
    return Problem((f"A chain of {depth} sigmoid layers computes h_k = σ(z_k), z_k = w_k·h_(k−1) + b_k, with weights "
                    f"w = ({', '.join(map(str, weights))}) and pre-activations z = ({', '.join(map(str, pre))}). "
                    f"Find ∂h_{depth}/∂h_0, the product of the local slopes."), "value", expected,
                   steps=("∂h_k/∂h_(k−1) = σ′(z_k)·w_k, and σ′(z) = σ(z)(1 − σ(z)) ≤ 1/4",
                          f"∂h_{depth}/∂h_0 = Π σ′(z_k)w_k = {sp.sstr(expected)}"),
                   mistakes=((sp.Mul(*weights), "multiply each weight by the activation's slope σ′(z_k) too"),
                             (sp.Add(*[w * s for w, s in zip(weights, slopes, strict=True)]),
                              "the chain rule multiplies the local slopes, it does not add them")),
                   given={"weights": weights, "pre_activations": pre})


def _convolution(rng: random.Random, level: int) -> Problem:
    x = integers(rng, 5, -2, 3)
    k = integers(rng, 3, -2, 2, nonzero=True)
    y = [sum(k[j] * x[i + j] for j in range(3)) for i in range(3)]
    intro = (f"A 1-D convolution layer (cross-correlation, no padding, stride 1, as in CNNs) computes "
             f"y_i = Σ_j k_j x_(i+j) for the input x = ({', '.join(map(str, x))}) and the kernel "
             f"k = ({', '.join(map(str, k))}).")
    if level == 1:
        flipped = [sum(k[2 - j] * x[i + j] for j in range(3)) for i in range(3)]
        return Problem((intro + " Find the output y.",), "vector", sp.Matrix(y),
                       steps=(f"y_i = k·(x_i, x_(i+1), x_(i+2)): y = ({', '.join(map(str, y))})",),
                       mistakes=((sp.Matrix(flipped), "CNN layers do not flip the kernel: y_i = Σ_j k_j x_(i+j)"),)
                       if flipped != y else (), given={"x": x, "k": k, "g": None, "wrt": None})
    g = integers(rng, 3, -2, 2, nonzero=True)
    upstream = f" The loss L has ∂L/∂y = g = ({', '.join(map(str, g))})."
    if level == 2:
        grad_k = [sum(g[i] * x[i + j] for i in range(3)) for j in range(3)]
        return Problem((intro + upstream + " Find ∂L/∂k.",), "vector", sp.Matrix(grad_k),
                       steps=(f"∂L/∂k_j = Σ_i g_i x_(i+j): ({', '.join(map(str, grad_k))})",),
                       mistakes=((sp.Matrix(y), "that is the output y, not ∂L/∂k = Σ_i g_i x_(i+j)"),),
                       given={"x": x, "k": k, "g": g, "wrt": "k"})
    grad_x = [sum(g[i] * k[n - i] for i in range(3) if 0 <= n - i < 3) for n in range(5)]
    return Problem((intro + upstream + " Find ∂L/∂x (5 components).",), "vector", sp.Matrix(grad_x),
                   steps=("∂L/∂x_n = Σ_i g_i k_(n−i): a full convolution of g with k",
                          f"∂L/∂x = ({', '.join(map(str, grad_x))})"),
                   given={"x": x, "k": k, "g": g, "wrt": "x"})


def _bptt(rng: random.Random, level: int) -> Problem:
    steps = 2 if level < 3 else 3
    u = integers(rng, 1, -2, 2, nonzero=True)[0]
    w0 = fraction(rng, ("1/2", "-1/2", "2", "1"))
    xs = integers(rng, steps, -2, 2, nonzero=True)
    activation = sp.tanh if level == 2 else (lambda v: v)
    h, previous = sp.Integer(0), sp.Integer(0)
    for x in xs:
        previous, h = h, activation(_W * h + u * x)
    expected = sp.diff(h, _W).subs(_W, w0)
    rule = "h_t = tanh(w·h_(t−1) + u·x_t)" if level == 2 else "h_t = w·h_(t−1) + u·x_t"
    held = sp.Symbol("held", real=True)  # h_(T−1) held constant: only the last step's direct dependence on w
    last_only = sp.diff(activation(_W * held + u * xs[-1]), _W).subs({held: previous.subs(_W, w0), _W: w0})
    return Problem((f"A recurrent cell {rule} starts from h_0 = 0 with u = {u} and reads x = "
                    f"({', '.join(map(str, xs))}). With L = h_{steps}, find ∂L/∂w at w = {w0} (backpropagation "
                    "through time)."), "value", expected, question=h,
                   steps=(f"unrolled: h_{steps} = {sp.sstr(h)}", f"∂h_{steps}/∂w at w = {w0}: {sp.sstr(expected)}"),
                   mistakes=((last_only, "w acts at every time step: BPTT sums the contributions of all steps"),)
                   if last_only != expected else (),
                   given={"u": u, "w": w0, "inputs": xs, "activation": "tanh" if level == 2 else "identity"})


TOPICS = (
    Topic("activation-chain-rule", 4, "the chain rule through activations", _activation_chain_rule),
    Topic("backprop-matrix", 13, "backpropagation in matrix form", _backprop_matrix),
    Topic("two-layer-network", 14, "a 2-layer network's backward pass", _two_layer_network),
    Topic("activation-derivatives", 15, "activation derivatives", _activation_derivatives),
    Topic("vanishing-gradients", 15, "vanishing and exploding gradient products", _vanishing_gradients),
    Topic("convolution", 16, "convolution outputs and their gradients", _convolution),
    Topic("bptt", 17, "backpropagation through time", _bptt),
)
