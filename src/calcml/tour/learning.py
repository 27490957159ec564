"""Tour chapters 7–9: regression by gradient descent, a two-layer network traced step by step, and
optimizers compared on one problem — each checked against a closed form."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import data, nn, optim
from calcml.tour.chapter import Chapter
from calcml.train import fit


def regression_by_gradient_descent() -> Chapter:
    """Least squares two ways: the normal equations XᵀX w = Xᵀy in one solve, and gradient descent on the
    mean squared error, whose gradient (2/n) Xᵀ(Xw − y) is computed by backpropagation."""
    ch = Chapter("Linear regression: gradient descent meets the normal equations")
    sample = data.linear_regression(n=100, n_features=2, noise=0.2, seed=0)
    design = np.column_stack([sample.X, np.ones(len(sample.X))])
    closed_form = np.linalg.solve(design.T @ design, design.T @ sample.y)
    ch.say(f"Data: y = X w + b + 0.2·noise with true w = {np.round(sample.coef, 4)}, b = {sample.intercept:.4f}.")
    ch.say("Normal equations: minimizing (1/n)‖Xw + b − y‖² sets the gradient (2/n) Xᵀ(Xw + b − y) to zero.")
    model = nn.Linear(2, 1, rng=0, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)
    start = np.append(model.weight.value[:, 0], model.bias.value[0])
    H = 2 / len(design) * design.T @ design  # the Hessian of the loss: constant for least squares
    rows = []
    steps_done = 0
    for target in (1, 5, 20, 80, 300):
        history = fit(model, nn.losses.mse, opt, (sample.X, sample.y[:, None]), epochs=target - steps_done,
                      batch_size=None, progress=False)
        steps_done = target
        w = np.append(model.weight.value[:, 0], model.bias.value[0])
        rows.append((str(target), *(f"{v:.8f}" for v in w), f"{history.loss[-1]:.8f}",
                     f"{np.max(np.abs(w - closed_form)):.1e}"))
        if target == 20:
            predicted_20 = closed_form + np.linalg.matrix_power(np.eye(3) - 0.1 * H, 20) @ (start - closed_form)
            ch.check("after 20 steps, w − w* = (I − ηH)²⁰ (w₀ − w*) exactly", np.max(np.abs(w - predicted_20)),
                     0.0, 1e-12)
    rows.append(("normal eq.", *(f"{v:.8f}" for v in closed_form),
                 f"{np.mean((design @ closed_form - sample.y) ** 2):.8f}", "0"))
    ch.table("full-batch gradient descent, η = 0.1", ("steps", "w₁", "w₂", "b", "loss", "max |error|"), rows)
    rate = np.max(np.abs(1 - 0.1 * np.linalg.eigvalsh(H)))
    ch.say("The loss is quadratic with Hessian H = (2/n)XᵀX, so each step maps the error e to (I − ηH)e: it shrinks "
           f"along every eigenvector by |1 − ηλ|, at worst by {rate:.4f} per step here.")
    w = np.append(model.weight.value[:, 0], model.bias.value[0])
    for i, name in enumerate(("w₁", "w₂", "b")):
        ch.check(f"gradient descent {name} = normal equations {name}", w[i], closed_form[i], 1e-10)
    return ch


def two_layer_network() -> Chapter:
    """Backpropagation through ŷ = W₂ᵀ tanh(W₁ᵀx + b₁) with L = (ŷ − y)², node by node, against the
    chain rule written out by hand; then one gradient step, against the first-order prediction."""
    ch = Chapter("A two-layer network, traced step by step")
    x, y = np.array([[0.5, -1.0]]), np.array([[0.8]])
    W1 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]])
    b1 = np.array([0.05, -0.05, 0.1])
    W2 = np.array([[0.7], [-0.6], [0.2]])

    def loss(W1, b1, W2):
        h = np.tanh(x @ W1 + b1)
        return np.sum((h @ W2 - y) ** 2)

    ch.say("x = (0.5, −1), target y = 0.8; h = tanh(x W₁ + b₁) has 3 units; ŷ = h W₂; L = (ŷ − y)².")
    if hasattr(cm, "trace"):
        graph = cm.trace(loss, W1, b1, W2)
        ch.say("The traced graph — forward values, then the chain rule at every node:")
        ch.lines.extend(line for line in graph.explain().splitlines() if line.strip())
        g_W1, g_b1, g_W2 = (node.grad for node in graph.inputs)
    else:
        g_W1, g_b1, g_W2 = cm.grad(loss, argnums=(0, 1, 2))(W1, b1, W2)
    # the same gradients by hand: δ₂ = ∂L/∂ŷ, δ₁ = ∂L/∂(pre-activation)
    h = np.tanh(x @ W1 + b1)
    delta2 = 2 * (h @ W2 - y)
    delta1 = (delta2 @ W2.T) * (1 - h ** 2)
    by_hand = {"W₂": (g_W2, h.T @ delta2), "b₁": (g_b1, delta1[0]), "W₁": (g_W1, x.T @ delta1)}
    rows = []
    for name, (auto, hand) in by_hand.items():
        rows.append((f"∂L/∂{name}", *(np.array2string(g.ravel(), precision=6) for g in (auto, hand))))
        ch.check(f"backpropagated ∂L/∂{name} = hand-derived chain rule", np.max(np.abs(auto - hand)), 0.0, 1e-14)
    ch.table("gradients", ("", "calcml (backpropagation)", "by hand: δ₂ = 2(ŷ − y), δ₁ = δ₂W₂ᵀ ⊙ (1 − h²)"), rows)
    eta = 1e-3
    before = loss(W1, b1, W2)
    after = loss(W1 - eta * g_W1, b1 - eta * g_b1, W2 - eta * g_W2)
    squared_norm = sum(np.sum(g ** 2) for g in (g_W1, g_b1, g_W2))
    ch.say(f"One gradient step with η = {eta}: L goes from {before:.10f} to {after:.10f}; to first order it drops by "
           f"η‖∇L‖² = {eta * squared_norm:.10f}.")
    ch.check("L(θ − η∇L) = L(θ) − η‖∇L‖² + O(η²)", after, before - eta * squared_norm, 50 * eta ** 2 * squared_norm)
    return ch


def optimizers_compared() -> Chapter:
    """Gradient descent, momentum, Adam and Newton on the same ill-conditioned quadratic
    L(θ) = ½ θᵀAθ − bᵀθ, minimized at θ* = A⁻¹b."""
    ch = Chapter("Optimizers compared on one problem")
    A = np.array([[10.0, 0.0], [0.0, 1.0]])
    b = np.array([1.0, 1.0])
    theta_star = np.linalg.solve(A, b)
    start = np.array([-1.0, 2.0])

    def quadratic(theta):
        return 0.5 * theta @ A @ theta - b @ theta

    ch.say("L(θ) = ½ θᵀAθ − bᵀθ with A = diag(10, 1): curvature 10 across the valley, 1 along it. "
           f"θ* = A⁻¹b = {theta_star}.")
    makers = {
        "gradient descent η=0.1": lambda p: optim.SGD(p, lr=0.1),
        "momentum 0.5, η=0.1": lambda p: optim.SGD(p, lr=0.1, momentum=0.5),
        "Adam η=0.1": lambda p: optim.Adam(p, lr=0.1),
        "Newton": lambda p: optim.Newton(p),
    }
    checkpoints = (1, 5, 20, 50)
    rows, final = [], {}
    for name, make in makers.items():
        theta = cm.Tensor(start.copy(), requires_grad=True)
        opt = make([theta])
        distances = []
        for step in range(1, checkpoints[-1] + 1):
            if isinstance(opt, optim.Newton):
                opt.step(quadratic)
            else:
                opt.zero_grad()
                quadratic(theta).backward()
                opt.step()
            if step in checkpoints:
                distances.append(f"{np.linalg.norm(theta.value - theta_star):.2e}")
            if step == 1:
                final[name, 1] = theta.value.copy()
        final[name] = theta.value.copy()
        rows.append((name, *distances))
    ch.table("‖θ_k − θ*‖ after k steps", ("optimizer", *(f"k = {k}" for k in checkpoints)), rows)
    ch.say("Gradient descent is limited by the flat direction: the error there shrinks by 1 − η·1 = 0.9 per step. "
           "Momentum speeds the flat direction up; Adam rescales each coordinate; Newton uses A itself and lands "
           "on θ* in one step.")
    gd_predicted = theta_star + (np.eye(2) - 0.1 * A) @ np.linalg.matrix_power(np.eye(2) - 0.1 * A, 49) @ (
        start - theta_star)
    ch.check("gradient descent after 50 steps = θ* + (I − ηA)⁵⁰(θ₀ − θ*)",
             np.max(np.abs(final["gradient descent η=0.1"] - gd_predicted)), 0.0, 1e-14)
    ch.check("Newton after one step = A⁻¹b", np.max(np.abs(final["Newton", 1] - theta_star)), 0.0, 1e-12)
    ch.check("Adam after 50 steps: distance to θ* (must be below 0.05)",
             np.linalg.norm(final["Adam η=0.1"] - theta_star), 0.0, 0.05)
    return ch
