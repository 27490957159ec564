"""The book's chapters 5 and 6: Jacobians, Hessians and Newton's method (with the curvature of a network's loss),
and critical points and convexity — each made of sections checked against closed forms."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml import nn
from calcml.tour.chapter import Chapter


def jacobians_hessians_newton() -> Chapter:
    """Chapter 5: first and second derivatives of many variables, Newton's method, and curvature in deep learning."""
    ch = Chapter("Jacobians, Hessians and Newton's method")
    ch.say("The Jacobian collects the first derivatives of a vector function, the Hessian the second derivatives of "
           "a scalar one. The Hessian's eigenvalues are the curvatures: Newton's method divides by them, and a "
           "network's largest one limits the learning rate.")
    ch.include(jacobian())
    ch.include(hessian())
    ch.include(newton_method())
    ch.include(network_curvature())
    return ch


def jacobian() -> Chapter:
    """The Jacobian of polar coordinates (r, θ) ↦ (r cos θ, r sin θ), by reverse and forward mode."""
    ch = Chapter("The Jacobian of polar coordinates")
    polar = lambda p: np.stack([p[0] * np.cos(p[1]), p[0] * np.sin(p[1])])
    p = np.array([2.0, np.pi / 6])
    rev, fwd = cm.jacobian(polar, mode="rev")(p), cm.jacobian(polar, mode="fwd")(p)
    ch.table("J at (r, θ) = (2, π/6)", ("", "∂/∂r", "∂/∂θ"),
             [(name, f"{row[0]:.12f}", f"{row[1]:.12f}") for name, row in zip(("x", "y"), rev)])
    ch.say("Reverse mode builds J a row at a time (one backward pass per output), forward mode a column at a time; "
           "det J = r is the area factor of the change of variables.")
    ch.check("reverse mode = forward mode", np.max(np.abs(rev - fwd)), 0.0, 1e-15)
    ch.check("det J = r = 2", np.linalg.det(rev), 2.0, 1e-14)
    return ch


def hessian() -> Chapter:
    """The Hessian of Rosenbrock's function at its minimum, by forward-over-reverse."""
    ch = Chapter("Second derivatives: the Hessian")
    rosenbrock = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    H = cm.hessian(rosenbrock)(np.array([1.0, 1.0]))
    eigenvalues = np.linalg.eigvalsh(H)
    ch.say("Rosenbrock f(x, y) = (1 − x)² + 100(y − x²)² at its minimum (1, 1):")
    ch.table("∇²f(1, 1)", ("", "∂/∂x", "∂/∂y"),
             [("∂/∂x", f"{H[0, 0]:g}", f"{H[0, 1]:g}"), ("∂/∂y", f"{H[1, 0]:g}", f"{H[1, 1]:g}")])
    ch.say(f"Eigenvalues {eigenvalues[0]:.4f} and {eigenvalues[1]:.1f}: both positive, so (1, 1) is a "
           f"minimum; their ratio {eigenvalues[1] / eigenvalues[0]:.0f} is why gradient descent crawls here.")
    ch.check("∂²f/∂x² = 1200x² − 400y + 2 = 802", H[0, 0], 802.0)
    ch.check("∂²f/∂x∂y = −400x = −400", H[0, 1], -400.0)
    ch.check("∂²f/∂y² = 200", H[1, 1], 200.0)
    return ch


def newton_method() -> Chapter:
    """Newton's method x ← x − f'(x)/f''(x) on f(x) = eˣ − 2x: the error is squared at every step."""
    ch = Chapter("Newton's method: quadratic convergence")
    f = lambda x: np.exp(x) - 2 * x
    df, d2f = cm.grad(f), cm.grad(cm.grad(f))
    x, exact, rows, errors = 2.0, np.log(2.0), [], []
    for k in range(6):
        errors.append(abs(x - exact))
        rows.append((str(k), f"{x:.16f}", f"{errors[-1]:.2e}"))
        x = x - df(x) / d2f(x)
    ch.table("f(x) = eˣ − 2x, minimum at ln 2, x₀ = 2", ("step", "x", "|x − ln 2|"), rows)
    ch.say("Near the minimum e_{k+1} ≈ (f‴/2f″) e_k² = ½ e_k²: the number of correct digits doubles per step.")
    ch.check("Newton's x after 6 steps = ln 2", x, exact, 1e-15)
    ch.check("e₃/e₂² ≈ f‴(ln 2)/2f″(ln 2) = ½", errors[3] / errors[2] ** 2, 0.5, 0.1)
    return ch


def network_curvature() -> Chapter:
    """The top Hessian eigenvalues of a small network's loss by Lanczos on Hessian-vector products, against the
    eigenvalues of the dense Hessian."""
    ch = Chapter("Curvature of a network's loss")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    net = nn.Sequential(nn.Linear(5, 4, rng=0, dtype=np.float64), nn.Tanh(), nn.Linear(4, 3, rng=1, dtype=np.float64))
    loss_of, weights = cm.curvature.model_loss(net, nn.losses.cross_entropy, X, y)
    leaves, treedef = cm.tree.flatten(weights)
    shapes = [np.shape(leaf) for leaf in leaves]
    cuts = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]

    def flat_loss(v):
        parts = [np.reshape(part, shape) for part, shape in zip(np.split(v, cuts), shapes)]
        return loss_of(cm.tree.unflatten(treedef, parts))

    v0 = np.concatenate([np.ravel(leaf) for leaf in leaves])
    dense = np.linalg.eigvalsh(cm.hessian(flat_loss)(v0))[::-1]
    top = cm.curvature.hessian_eigs(loss_of, weights, k=3)
    ch.say(f"A 5–4–3 tanh network, cross-entropy on 40 examples: {v0.size} weights, so the dense Hessian is "
           f"{v0.size}×{v0.size}. Lanczos needs only Hessian-vector products ({top.hvps} of them).")
    ch.table("largest Hessian eigenvalues", ("", "Lanczos (cm.curvature.hessian_eigs)", "dense (numpy eigvalsh)"),
             [(f"λ{i + 1}", f"{top.eigenvalues[i]:.12f}", f"{dense[i]:.12f}") for i in range(3)])
    ch.say(f"Gradient descent on this loss is stable near here only for η < 2/λ_max = {2 / dense[0]:.3f}.")
    for i in range(3):
        ch.check(f"λ{i + 1}: Lanczos = dense eigvalsh", top.eigenvalues[i], dense[i], 1e-8)
    return ch


def critical_points_and_convexity() -> Chapter:
    """Chapter 6: where the gradient vanishes, what the Hessian says there, and losses with a single minimum."""
    ch = Chapter("Critical points and convexity")
    ch.say("At a critical point ∇f = 0; the Hessian's eigenvalues classify it (all positive: a minimum, mixed signs: "
           "a saddle). A convex function has a Hessian that is positive semidefinite everywhere, so every critical "
           "point is a global minimum.")
    ch.include(critical_points())
    ch.include(convexity())
    return ch


def critical_points() -> Chapter:
    """f(x, y) = x³ − 3x + y²: ∇f = 0 at (±1, 0); the Hessian diag(6x, 2) makes one a minimum, one a saddle."""
    ch = Chapter("Critical points, classified by the Hessian")
    f = lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2
    rows = []
    for point, kind in (((1.0, 0.0), "minimum"), ((-1.0, 0.0), "saddle")):
        p = np.array(point)
        g, eig = cm.grad(f)(p), np.linalg.eigvalsh(cm.hessian(f)(p))
        rows.append((str(point), f"{np.linalg.norm(g):.1e}", np.array2string(eig, precision=6), kind))
        ch.check(f"∇f{point} = (3x² − 3, 2y) = 0", np.linalg.norm(g), 0.0, 1e-15)
        ch.check(f"Hessian eigenvalues at {point}: sorted (6x, 2)", eig[0] * eig[1], 6 * point[0] * 2, 1e-12)
    ch.table("f(x, y) = x³ − 3x + y²", ("point", "‖∇f‖", "Hessian eigenvalues", "kind"), rows)
    ch.check("f at the minimum (1, 0) = −2", f(np.array([1.0, 0.0])), -2.0, 1e-15)
    return ch


def convexity() -> Chapter:
    """logsumexp is convex: its Hessian diag(p) − ppᵀ (p = softmax) is positive semidefinite, computed by the
    engine and compared with the closed form."""
    ch = Chapter("Convexity: logsumexp")
    rng = np.random.default_rng(1)
    worst, smallest = 0.0, np.inf
    for _ in range(5):
        z = rng.standard_normal(4) * 2
        p = np.exp(z - np.max(z))
        p /= p.sum()
        H = cm.hessian(cm.logsumexp)(z)
        worst = max(worst, np.max(np.abs(H - (np.diag(p) - np.outer(p, p)))))
        smallest = min(smallest, np.linalg.eigvalsh(H)[0])
    ch.say("logsumexp(z) = log Σ e^{z_i} (cross-entropy's log-partition) has ∇ = softmax(z) = p and ∇² = diag(p) − "
           "ppᵀ: a covariance matrix, so vᵀ∇²v = Var_p(v) ≥ 0 and the function is convex (flat along (1, …, 1)).")
    ch.check("cm.hessian(logsumexp) = diag(p) − ppᵀ at 5 random points", worst, 0.0, 1e-14)
    ch.check("smallest Hessian eigenvalue = 0 (up to rounding): positive semidefinite", smallest, 0.0, 1e-14)
    return ch
