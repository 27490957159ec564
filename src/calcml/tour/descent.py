"""The book's chapters 10–12: losses and their derivatives; gradient descent in its batch, stochastic and
mini-batch forms; momentum, AdaGrad, RMSProp and Adam — each made of sections checked against closed forms."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import data, nn, optim
from calcml.tour.chapter import Chapter
from calcml.train import fit


def losses() -> Chapter:
    """Chapter 10: the losses of regression and classification, and the derivatives that backpropagation starts
    from."""
    ch = Chapter("Losses and their derivatives")
    ch.say("Training starts from the derivative of the loss with respect to the model's output: for MSE it is the "
           "residual, for softmax cross-entropy the predicted probabilities minus the one-hot target, for the hinge "
           "loss −y on the examples inside the margin.")
    ch.include(loss_derivatives())
    return ch


def loss_derivatives() -> Chapter:
    """∂L/∂output of MSE, cross-entropy and hinge by cm.grad, against their closed forms."""
    ch = Chapter("MSE, cross-entropy and hinge, differentiated")
    prediction, target = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 1.5])
    logits, label = np.array([[2.0, 1.0, 0.0]]), np.array([0])
    scores, signs = np.array([0.3, 2.0, -0.5]), np.array([1.0, 1.0, -1.0])
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    cases = [
        ("MSE", "2(ŷ − y)/n", cm.grad(lambda q: nn.losses.mse(q, target))(prediction),
         2 * (prediction - target) / 3),
        ("cross-entropy", "softmax(z) − onehot(y)", cm.grad(lambda z: nn.losses.cross_entropy(z, label))(logits)[0],
         p - np.eye(3)[0]),
        ("hinge", "−y·[y ŷ < 1]/n", cm.grad(lambda s: nn.losses.hinge(s, signs))(scores),
         -signs * (signs * scores < 1) / 3),
    ]
    rows = []
    for name, formula, auto, closed in cases:
        rows.append((name, formula, np.array2string(auto, precision=6), np.array2string(closed, precision=6)))
        ch.check(f"∂{name}/∂output = {formula}", np.max(np.abs(auto - closed)), 0.0, 1e-15)
    ch.table("derivative of the loss with respect to the model's output", ("loss", "closed form", "cm.grad",
                                                                            "closed form, computed"), rows)
    ch.say(f"For z = (2, 1, 0) and class 0: ∂CE/∂z₀ = e²/(e² + e + 1) − 1 = {p[0] - 1:.10f}.")
    return ch


def gradient_descent_chapter() -> Chapter:
    """Chapter 11: gradient descent, the contraction it makes per step, and its batch, stochastic and mini-batch
    forms."""
    ch = Chapter("Gradient descent: batch, stochastic, mini-batch")
    ch.say("Gradient descent steps against the gradient: θ ← θ − η∇L(θ). Batch descent uses the whole data set's "
           "gradient; stochastic and mini-batch descent use one example's or a few: unbiased estimates that are far "
           "cheaper per step.")
    ch.include(gradient_descent())
    ch.include(regression_by_gradient_descent())
    ch.include(minibatch_gradients())
    return ch


def gradient_descent() -> Chapter:
    """θ ← θ − η L'(θ) on L(θ) = (θ − 3)²: the error shrinks by |1 − 2η| every step."""
    ch = Chapter("Gradient descent")
    loss = lambda theta: (theta - 3.0) ** 2
    step = cm.grad(loss)
    theta, lr = 0.0, 0.1
    rows = []
    for k in range(41):
        if k % 5 == 0:
            rows.append((str(k), f"{theta:.8f}", f"{loss(theta):.3e}"))
        theta = theta - lr * step(theta)
    ch.table("L(θ) = (θ − 3)², η = 0.1, θ₀ = 0", ("step", "θ", "L(θ)"), rows)
    ch.say("Each step multiplies the error θ − 3 by 1 − 2η = 0.8, so after k steps it is 3·0.8^k.")
    ch.check("θ after 41 steps = 3 − 3·0.8⁴¹", theta, 3 - 3 * 0.8 ** 41, 1e-12)
    return ch


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


def minibatch_gradients() -> Chapter:
    """Per-example gradients by cm.vmap: their mean is the batch gradient, and mini-batch gradients over a
    partition of the data average to it exactly."""
    ch = Chapter("Stochastic and mini-batch gradients")
    sample = data.linear_regression(n=64, n_features=3, noise=0.1, seed=1)
    w = np.array([0.5, -0.5, 0.25])
    loss = lambda w, x, y: (x @ w - y) ** 2
    batch_loss = lambda w: np.mean((sample.X @ w - sample.y) ** 2)
    full = cm.grad(batch_loss)(w)
    per_example = cm.vmap(cm.grad(loss), in_axes=(None, 0, 0))(w, sample.X, sample.y)
    minibatches = [per_example[i:i + 16].mean(axis=0) for i in range(0, 64, 16)]
    spread = np.linalg.norm(per_example - full, axis=1).mean()
    batch_spread = np.mean([np.linalg.norm(m - full) for m in minibatches])
    ch.say(f"64 examples: one example's gradient is off the batch gradient by {spread:.3f} on average (in norm), "
           f"a mini-batch of 16's by {batch_spread:.3f} — noise that shrinks like 1/√(batch size).")
    ch.check("mean of the 64 per-example gradients (cm.vmap) = the batch gradient",
             np.max(np.abs(per_example.mean(axis=0) - full)), 0.0, 1e-14)
    ch.check("mean of the 4 mini-batch gradients = the batch gradient", np.max(np.abs(np.mean(minibatches, 0) - full)),
             0.0, 1e-14)
    by_formula = 2 / 64 * sample.X.T @ (sample.X @ w - sample.y)
    ch.check("batch gradient = (2/n) Xᵀ(Xw − y)", np.max(np.abs(full - by_formula)), 0.0, 1e-14)
    return ch


def optimizers() -> Chapter:
    """Chapter 12: momentum, AdaGrad, RMSProp and Adam — their first steps and their race on one problem."""
    ch = Chapter("Momentum, AdaGrad, RMSProp, Adam")
    ch.say("Momentum accumulates past gradients; AdaGrad, RMSProp and Adam divide each coordinate's step by the size "
           "of its recent gradients, so badly scaled coordinates move at similar speeds.")
    ch.include(first_steps())
    ch.include(optimizers_compared())
    return ch


def first_steps() -> Chapter:
    """One step of each optimizer from the same point: AdaGrad and Adam move every coordinate by η, RMSProp by
    η/√(1 − ρ), SGD by η·g."""
    ch = Chapter("The first step of each optimizer")
    lr, g = 0.01, np.array([2000.0, 0.002])
    loss = lambda theta: 1000.0 * theta[0] ** 2 + 0.001 * theta[1] ** 2
    makers = {"SGD": (optim.SGD, lr * g), "momentum 0.9": (lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9), lr * g),
              "AdaGrad": (optim.Adagrad, lr * g / (np.abs(g) + 1e-10)),
              "RMSProp (ρ = 0.99)": (optim.RMSprop, lr * g / (np.sqrt(0.01) * np.abs(g) + 1e-8)),
              "Adam": (optim.Adam, lr * g / (np.abs(g) + 1e-8))}
    rows = []
    for name, (make, expected) in makers.items():
        theta = cm.Tensor(np.ones(2), requires_grad=True)
        optimizer = make([theta], lr=lr)
        loss(theta).backward()
        optimizer.step()
        step = 1.0 - theta.value
        rows.append((name, f"{step[0]:.8g}", f"{step[1]:.8g}", f"{expected[0]:.8g}", f"{expected[1]:.8g}"))
        ch.check(f"{name}: first step = its update equation", np.max(np.abs(step - expected) / expected), 0.0, 1e-9)
    ch.table(f"Δθ from θ = (1, 1) on 1000θ₁² + 0.001θ₂² (gradient (2000, 0.002)), η = {lr}",
             ("optimizer", "Δθ₁", "Δθ₂", "equation Δθ₁", "equation Δθ₂"), rows)
    ch.say("The gradient's two coordinates differ by 10⁶; SGD's steps do too, the adaptive optimizers' do not.")
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
