"""Every topic's generated answer, recomputed independently: PyTorch's autograd and optimizers, calcml's engine,
quadrature and ODE solver, finite differences (mpmath) — for several seeds at every difficulty.

The generators compute in exact SymPy arithmetic; these checks use floating point and other code paths, so a
wrong formula in a generator (a missing bias correction, a transposed gradient) fails here.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from scipy.optimize import minimize_scalar

import calcml as cm
from calcml.exercises import TOPICS, generate
from calcml.symbolic.ml_functions import to_elementary

SEEDS = (0, 1, 2)
torch.set_default_dtype(torch.float64)


def floats(values) -> np.ndarray:
    """Exact SymPy numbers (a matrix, a list or one number) as float64."""
    if isinstance(values, sp.MatrixBase):
        return np.array(values.evalf(30).tolist(), dtype=float).reshape(values.shape).squeeze()
    if isinstance(values, (list, tuple)):
        return np.array([float(sp.N(v, 30)) for v in values])
    return np.array(float(sp.N(values, 30)))


def tensor(values, grad: bool = False) -> torch.Tensor:
    return torch.tensor(floats(values), requires_grad=grad)


def numeric(expr, variables):
    """A NumPy function of ``expr`` (the generator's own formula, never user text)."""
    return sp.lambdify(variables, to_elementary(expr), "numpy")


def mp_function(expr, variable):
    return sp.lambdify(variable, to_elementary(expr), "mpmath")


# -- classic topics: finite differences and calcml's engine ------------------------------------------------

def derivative_topic(ex):
    (x,) = ex.variables
    f = ex.question
    others = sorted(f.free_symbols - {x}, key=str)
    fixed = {s: sp.Rational(7, 10) for s in others}
    low, high = ex.domain.get(x.name, (-2, 2))
    expected = []
    computed = []
    for point in np.linspace(low, high, 6)[1:-1]:
        g = mp_function(f.subs(fixed), x)
        with mpmath.workdps(30):
            computed.append(float(mpmath.diff(g, mpmath.mpf(point))))
        expected.append(float(sp.N(ex.expected.subs(fixed).subs(x, sp.Float(point, 30)), 30)))
    return np.array(computed), np.array(expected)


def gradients_topic(ex):
    f = numeric(ex.question, ex.variables)
    point = np.array([0.3, -0.7, 1.1][: len(ex.variables)])
    computed = cm.grad(lambda v: f(*[v[i] for i in range(len(point))]))(point)
    at = dict(zip(ex.variables, point, strict=True))
    return computed, floats(ex.expected.subs(at))


def hessians_topic(ex):
    f = numeric(ex.question, ex.variables)
    point = np.array([0.4, -0.6])
    computed = cm.hessian(lambda v: f(v[0], v[1]))(point)
    return computed, floats(ex.expected.subs(dict(zip(ex.variables, point, strict=True))))


def critical_points_topic(ex):
    f = numeric(ex.question, ex.variables)
    gradient = cm.grad(lambda v: f(*[v[i] for i in range(len(ex.variables))]))
    norms = [np.abs(gradient(np.array([float(c) for c in p]))).max() for p in ex.expected]
    assert len(set(ex.expected)) == len(ex.expected) >= 1
    if ex.difficulty == 1:  # a cubic with two distinct real roots of f′
        assert len(ex.expected) == 2
    return np.array(norms), np.zeros(len(norms))


def integrals_topic(ex):
    (x,) = ex.variables
    antiderivative = numeric(ex.expected, [x])
    integrand = numeric(ex.question, [x])
    points = np.linspace(0.2, 2.8, 5)
    return np.array([cm.grad(antiderivative)(p) for p in points]), integrand(points) * np.ones(5)


def limits_topic(ex):
    (x,) = ex.variables
    f, point = mp_function(ex.given["f"], x), ex.given["point"]
    with mpmath.workdps(50):
        near = mpmath.mpf(10) ** 12 if point == sp.oo else mpmath.mpf(int(point)) + mpmath.mpf(10) ** -15
        value = float(f(near))
    return np.array(value), floats(ex.expected)


# -- the ML topics ---------------------------------------------------------------------------------------------

def directional_topic(ex):
    given = ex.given
    f = numeric(given["f"], given["variables"])
    point = floats(given["point"])
    v = floats(given["direction"])
    slope = cm.grad(lambda p: f(*[p[i] for i in range(len(point))]))(point)
    return np.array(slope @ v / np.linalg.norm(v)), floats(ex.expected)


def jacobians_topic(ex):
    F, point = ex.given["F"], ex.given["point"]
    x, y = sorted(F.free_symbols, key=str)
    functions = [numeric(c, [x, y]) for c in F]
    at = np.array([0.6, -0.8]) if point is None else floats(point)
    J = cm.jacobian(lambda v: np.stack([f(v[0], v[1]) + 0 * v[0] for f in functions]))(at)
    expected = ex.expected if point is not None else ex.expected.subs({x: at[0], y: at[1]})
    return J, floats(expected)


def newton_topic(ex):
    f = numeric(ex.given["f"], ex.given["variables"])
    x0 = floats(ex.given["x0"])
    g = cm.grad(lambda v: f(*[v[i] for i in range(len(x0))]))(x0)
    H = cm.hessian(lambda v: f(*[v[i] for i in range(len(x0))]))(x0)
    return x0 - np.linalg.solve(np.atleast_2d(H), np.atleast_1d(g)), floats(ex.expected)


def expectations_topic(ex):
    given = ex.given
    g, p = numeric(given["g"], [given["variable"]]), numeric(given["density"], [given["variable"]])
    low, high = (float(b) for b in given["support"])
    total = cm.integrate.quad(lambda x: p(x) * np.ones_like(x), low, high, rtol=1e-12).value
    assert total == pytest.approx(1, abs=1e-10)  # a density
    return np.array(cm.integrate.quad(lambda x: g(x) * p(x), low, high, rtol=1e-12).value), floats(ex.expected)


def bayes_topic(ex):
    given = ex.given
    if given["model"] == "beta-binomial":
        a, b = (float(v) for v in given["prior"])
        k, n = float(given["heads"]), float(given["flips"])
        posterior = lambda t: t ** (a - 1 + k) * (1 - t) ** (b - 1 + n - k)  # noqa: E731  prior × likelihood
        z = cm.integrate.quad(posterior, 0, 1, rtol=1e-12).value
        value = cm.integrate.quad(lambda t: t * posterior(t), 0, 1, rtol=1e-12).value / z
    elif given["model"] == "diagnostic test":
        prior, sens, fp = (float(given[k]) for k in ("prior", "sensitivity", "false_positive"))
        joint = np.array([[prior * sens, prior * (1 - sens)], [(1 - prior) * fp, (1 - prior) * (1 - fp)]])
        value = joint[0, 0] / joint[:, 0].sum()  # condition the joint table on the positive column
    else:
        data = floats(given["data"])
        m0, v0, noise = float(given["prior_mean"]), float(given["prior_variance"]), float(given["noise_variance"])

        def log_post(m):  # log prior + log likelihood, up to a constant; m may be an array of quadrature nodes
            m = np.asarray(m, dtype=float)
            squares = ((data.reshape(-1, *[1] * m.ndim) - m) ** 2).sum(axis=0)
            return -(m - m0) ** 2 / (2 * v0) - squares / (2 * noise)

        shift = log_post(data.mean())
        density = lambda m: np.exp(log_post(m) - shift)  # noqa: E731
        low, high = data.min() - 12, data.max() + 12  # the posterior lives between prior and data: a sure window
        z = cm.integrate.quad(density, low, high, rtol=1e-12).value
        value = cm.integrate.quad(lambda m: m * density(m), low, high, rtol=1e-12).value / z
    return np.array(value), floats(ex.expected)


def gradient_flow_topic(ex):
    given = ex.given
    fields = [numeric(v, list(given["state"])) for v in given["velocity"]]
    field = lambda t, y: np.array([f(*y) * np.ones(()) for f in fields])  # noqa: E731
    solution = cm.ode.solve(field, floats(given["start"]).astype(float), (0.0, 1.5), rtol=1e-11, atol=1e-12)
    (t,) = ex.variables
    return np.atleast_1d(solution.y[-1]), np.atleast_1d(floats(ex.expected.subs(t, sp.Rational(3, 2))))


def policy_topic(ex):
    given = ex.given
    theta = tensor(given["theta"], grad=True)
    log_pi = torch.log_softmax(theta, dim=0)[given["action"]]
    ((float(given["reward"]) - float(given["baseline"])) * log_pi).backward()
    return theta.grad.numpy(), floats(ex.expected)


def losses_topic(ex):
    variable = ex.given["variable"]
    loss = numeric(ex.given["loss"], [variable])
    derivative = numeric(ex.expected, [variable])
    points = np.array([0.15, 0.4, 0.7, 0.9]) if variable.name == "p" else np.array([-1.5, -0.2, 0.6, 2.0])
    return np.array([cm.grad(loss)(p) for p in points]), derivative(points) * np.ones(4)


def softmax_ce_topic(ex):
    z = tensor(ex.given["logits"], grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([ex.given["label"]])).backward()
    return z.grad.numpy(), floats(ex.expected)


def gradient_descent_topic(ex):
    given = ex.given
    eta = float(given["eta"])
    if "f" in given:
        (w_symbol,) = given["f"].free_symbols
        f = numeric(given["f"], [w_symbol])
        w = torch.tensor(float(given["w0"]), requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=eta)
        g = cm.grad(f)(float(given["w0"]))
        w.grad = torch.tensor(float(g))
        optimizer.step()
        return w.detach().numpy(), floats(ex.expected)
    points = np.array([[float(x), float(y)] for x, y in given["points"]])[given["batch"]]
    w = torch.tensor(float(given["w0"]), requires_grad=True)
    b = torch.tensor(float(given["b0"]), requires_grad=True)
    optimizer = torch.optim.SGD([w, b] if ex.kind == "vector" else [w], lr=eta)
    x, y = torch.tensor(points[:, 0]), torch.tensor(points[:, 1])
    torch.nn.functional.mse_loss(w * x + b, y).backward()
    optimizer.step()
    result = np.array([w.item(), b.item()]) if ex.kind == "vector" else np.array(w.item())
    return result, floats(ex.expected)


def digit_topic(ex):
    given = ex.given
    W, b = tensor(given["W"], grad=True), tensor(list(given["b"]))
    x = tensor(given["x"])
    logits = W @ x + b
    torch.nn.functional.cross_entropy(logits[None], torch.tensor([given["label"]])).backward()
    return W.grad.numpy(), floats(ex.expected)


def loss_surface_topic(ex):
    H = floats(ex.given["hessian"])
    eigenvalues = np.linalg.eigvalsh(H)
    answer = float(floats(ex.expected))
    if ex.given["asked"] == "stable":  # just below the answer GD converges, just above it diverges
        def run(eta):
            w = np.array([1.0, 1.0])
            for _ in range(3000):
                w = w - eta * H @ w
            return np.linalg.norm(w)

        assert run(0.99 * answer) < 1e-3 and run(1.01 * answer) > 1e3
        return np.array(answer), np.array(2 / eigenvalues.max())
    best = minimize_scalar(lambda eta: np.max(np.abs(1 - eta * eigenvalues)), bounds=(0, 2 / eigenvalues.max()),
                           method="bounded", options={"xatol": 1e-13})
    return np.array(best.x), np.array(answer)


def optimizer_topic(ex):
    given = ex.given
    name, eta = given["optimizer"], float(given["eta"])
    w = torch.tensor(floats(given["w"]), requires_grad=True)
    make = {
        "momentum": lambda: torch.optim.SGD([w], lr=eta, momentum=0.9),
        "adagrad": lambda: torch.optim.Adagrad([w], lr=eta, eps=0.0),
        "rmsprop": lambda: torch.optim.RMSprop([w], lr=eta, alpha=0.9, eps=0.0),
        "adam": lambda: torch.optim.Adam([w], lr=eta, betas=(0.9, 0.99), eps=0.0),
    }
    optimizer = make[name]()
    if given["state"]:  # PyTorch's own state, loaded as the exercise gives it
        state = {k: torch.tensor(floats(v)) for k, v in given["state"].items()}
        step = torch.tensor(float(given["step"] - 1))
        optimizer.state[w] = {
            "momentum": lambda: {"momentum_buffer": state["b"]},
            "adagrad": lambda: {"sum": state["s"], "step": step},
            "rmsprop": lambda: {"square_avg": state["v"], "step": step},
            "adam": lambda: {"exp_avg": state["m"], "exp_avg_sq": state["v"], "step": step},
        }[name]()
        w.grad = torch.tensor(floats(given["gradients"][0]))
        optimizer.step()
    else:  # two steps on f(w) = (a/2)‖w‖² from a fresh optimizer
        for _ in range(2):
            optimizer.zero_grad()
            (float(given["curvature"]) / 2 * (w * w).sum()).backward()
            optimizer.step()
    return w.detach().numpy().squeeze(), floats(ex.expected).squeeze()


_TORCH_ACTIVATIONS = {"σ": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                      "softplus": torch.nn.functional.softplus}


def activation_chain_topic(ex):
    given = ex.given
    phi = _TORCH_ACTIVATIONS[given["activation"]]
    w = torch.tensor(float(given["w"]), requires_grad=True)
    z = w * float(given["x"]) + float(given["b"])
    y = phi(float(given["v"]) * phi(z)) if given["v"] is not None else phi(z)
    (0.5 * (y - float(given["t"])) ** 2).backward()
    return np.array(w.grad.item()), floats(ex.expected)


def backprop_matrix_topic(ex):
    given = ex.given
    W = tensor(given["W"], grad=True)
    x = torch.tensor(floats(given["x"]).reshape(-1), requires_grad=True)
    t = torch.tensor(floats(given["t"]).reshape(-1))
    (0.5 * ((W @ x - t) ** 2).sum()).backward()
    return (x.grad if given["wrt"] == "x" else W.grad).numpy(), floats(ex.expected)


def two_layer_topic(ex):
    given = ex.given
    W1 = tensor(given["W1"], grad=True)
    b1 = torch.tensor(floats(given["b1"]).reshape(-1), requires_grad=True)
    w2 = torch.tensor(floats(given["w2"]).reshape(-1), requires_grad=True)
    x = torch.tensor(floats(given["x"]).reshape(-1))
    yhat = w2 @ torch.relu(W1 @ x + b1) + float(given["b2"])
    (0.5 * (yhat - float(given["y"])) ** 2).backward()
    return {"w2": w2, "b1": b1, "W1": W1}[given["wrt"]].grad.numpy(), floats(ex.expected)


def activation_derivative_topic(ex):
    given = ex.given
    f = mp_function(given["function"], given["variable"])
    with mpmath.workdps(40):
        value = mpmath.diff(f, mpmath.mpf(int(given["at"])), given["order"])
    return np.array(float(value)), floats(ex.expected)


def vanishing_topic(ex):
    weights, pre = floats(ex.given["weights"]), floats(ex.given["pre_activations"])
    h0 = 0.3
    biases, h = [], h0  # biases that give the stated pre-activations, found by running forward once
    for w, z in zip(weights, pre, strict=True):
        biases.append(z - w * h)
        h = 1 / (1 + np.exp(-z))

    def chain(h):
        for w, b in zip(weights, biases, strict=True):
            h = 1 / (1 + np.exp(-(w * h + b)))
        return h

    return np.array(cm.grad(chain)(h0)), floats(ex.expected)


def convolution_topic(ex):
    given = ex.given
    x = tensor(given["x"], grad=True)
    k = tensor(given["k"], grad=True)
    y = torch.nn.functional.conv1d(x[None, None], k[None, None])[0, 0]  # PyTorch's conv is cross-correlation
    if given["wrt"] is None:
        return y.detach().numpy(), floats(ex.expected)
    (y * tensor(given["g"])).sum().backward()
    return (k.grad if given["wrt"] == "k" else x.grad).numpy(), floats(ex.expected)


def bptt_topic(ex):
    given = ex.given
    u, inputs = float(given["u"]), floats(given["inputs"])
    act = np.tanh if given["activation"] == "tanh" else (lambda v: v)

    def last_state(w):
        h = 0.0
        for x in inputs:
            h = act(w * h + u * x)
        return h

    return np.array(cm.grad(last_state)(float(given["w"]))), floats(ex.expected)


VERIFY = {
    "limits": limits_topic, "power-rule": derivative_topic, "product-rule": derivative_topic,
    "quotient-rule": derivative_topic, "chain-rule": derivative_topic, "partial-derivatives": derivative_topic,
    "gradients": gradients_topic, "directional-derivatives": directional_topic,
    "activation-chain-rule": activation_chain_topic, "hessians": hessians_topic, "jacobians": jacobians_topic,
    "newton-step": newton_topic, "critical-points": critical_points_topic, "integrals": integrals_topic,
    "expectations": expectations_topic, "bayesian-updates": bayes_topic, "gradient-flow": gradient_flow_topic,
    "losses": losses_topic, "softmax-cross-entropy": softmax_ce_topic, "gradient-descent": gradient_descent_topic,
    "momentum": optimizer_topic, "adagrad": optimizer_topic, "rmsprop": optimizer_topic, "adam": optimizer_topic,
    "backprop-matrix": backprop_matrix_topic, "two-layer-network": two_layer_topic,
    "activation-derivatives": activation_derivative_topic, "vanishing-gradients": vanishing_topic,
    "convolution": convolution_topic, "bptt": bptt_topic, "digit-classifier": digit_topic,
    "loss-surfaces": loss_surface_topic, "policy-gradients": policy_topic,
}


def test_every_topic_has_an_independent_check():
    assert sorted(VERIFY) == sorted(TOPICS)


@pytest.mark.parametrize("level", (1, 2, 3))
@pytest.mark.parametrize("topic", TOPICS)
def test_generated_answers_agree_with_an_independent_computation(topic, level):
    for seed in SEEDS:
        exercise = generate(topic, level, seed)
        computed, expected = VERIFY[topic](exercise)
        np.testing.assert_allclose(computed, expected, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{topic} difficulty {level} seed {seed}: {exercise.prompt}")
