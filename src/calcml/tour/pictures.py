"""Drawings for the tour's chapters on checking gradients, gradients through time, quadrature, probability and
continuous time — each
computes its chapter's key idea afresh (seeded, under a second) and draws it in the house style of
``calcml.viz.theme``.

Every function returns the matplotlib Figure (its lines keep the data drawn, labelled) and saves it when given
``path=``; ``calcml.tour.report.PICTURES`` names the files.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import calcml as cm
from calcml.viz.output import finish, new_figure
from calcml.viz.theme import themed

EPS = np.finfo(float).eps


# ---- Checking a gradient --------------------------------------------------------------------------------
def gradient_check_f(x):
    """The function of the chapter "Checking a gradient": Σ tanh²(xᵢ) e^(−xᵢ)."""
    return np.sum(np.tanh(x) ** 2 * np.exp(-x))


GRADIENT_CHECK_X = np.array([0.5, -1.2, 2.0])


def difference_errors(hs: np.ndarray, x: np.ndarray = GRADIENT_CHECK_X, i: int = 0) -> dict[str, np.ndarray]:
    """|forward − exact| and |central − exact| for ∂f/∂xᵢ at each step h (exact: calcml's reverse mode)."""
    exact = cm.grad(gradient_check_f)(x)[i]
    f0, e = gradient_check_f(x), np.eye(x.size)[i]
    forward = np.array([(gradient_check_f(x + h * e) - f0) / h for h in hs])
    central = np.array([(gradient_check_f(x + h * e) - gradient_check_f(x - h * e)) / (2 * h) for h in hs])
    return {"forward": np.abs(forward - exact), "central": np.abs(central - exact)}


@themed
def gradient_check_v(path: str | Path | None = None) -> Figure:
    """The classic V: truncation error (slope 1 forward, 2 central) falling with h until rounding, ~ε/h, rises."""
    hs = np.logspace(-14, -1, 53)
    errors = difference_errors(hs)
    fig = new_figure(7.0, 4.8)
    ax = fig.add_subplot()
    floor = 1e-17  # an error that is exactly 0 by luck still needs a place on a log axis
    for name, marker in (("forward", "o"), ("central", "s")):
        ax.loglog(hs, np.maximum(errors[name], floor), marker=marker, ms=3.5, label=name)
    h0 = 1e-2  # reference slopes, drawn 5× above the measured errors at h0
    for name, order, style in (("forward", 1, ":"), ("central", 2, "--")):
        e0 = np.interp(np.log(h0), np.log(hs), errors[name])
        ref = hs[hs >= 10 ** (-5 + order)]
        ax.loglog(ref, 5 * e0 * (ref / h0) ** order, style, color="0.35",
                  label=f"slope {order}: O(h{'²' if order == 2 else ''})")
    rounding = hs[hs <= 1e-6]
    ax.loglog(rounding, EPS / rounding, "-.", color="0.6", label="rounding ε/h")
    ax.set_xlabel("step h")
    ax.set_ylabel("|difference quotient − autodiff|")
    ax.set_ylim(1e-13, 1e1)
    ax.set_title(r"$\partial f/\partial x_0$ of $\sum_i \tanh^2(x_i)\,e^{-x_i}$: truncation falls with h, "
                 "rounding rises")
    ax.legend(loc="upper center", ncols=2)
    return finish(fig, path)


# ---- Gradients through time -----------------------------------------------------------------------------
@themed
def gradients_through_time(path: str | Path | None = None) -> Figure:
    """‖∂L/∂h_t‖ over the 50 steps of an RNN for spectral radii ρ from 0.8 to 1.2, inputs of size 1e-6 (tanh in
    its linear range): a straight line on the log axis, the gradient scaling like ρ^(50 − t)."""
    from calcml.apps import rnn_dynamics

    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    for study in rnn_dynamics.through_time_study(radii=(0.8, 0.9, 1.0, 1.1, 1.2), scale=1e-6):
        ax.semilogy(np.arange(1, len(study.norms) + 1), study.norms, label=f"ρ = {study.radius:g}")
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.set_title("backpropagation through 50 steps: the gradient scales like ρ^(50 − t)")
    ax.legend()
    return finish(fig, path)


# ---- Adaptive quadrature with an honest error -------------------------------------------------------------
@themed
def adaptive_quadrature(path: str | Path | None = None) -> Figure:
    """x·sin 30x on [0, 2π] with the points quad evaluated, and its error estimate against tolerance and truth."""
    from calcml.integrate import quad

    exact = -math.pi / 15
    nodes: list[np.ndarray] = []

    def integrand(x):
        nodes.append(np.array(x, dtype=float).ravel())
        return x * np.sin(30 * x)

    result = quad(integrand, 0.0, 2 * math.pi, rtol=1e-10)
    xs = np.concatenate(nodes)
    fig = new_figure(8.0, 6.4)
    top, bottom = fig.subplots(2, 1, height_ratios=(1.1, 1.0))
    grid = np.linspace(0.0, 2 * math.pi, 3000)
    top.plot(grid, grid * np.sin(30 * grid), lw=0.8, label="x·sin 30x")
    top.plot(xs, np.full_like(xs, -7.4), "|", ms=9, color="#d62728", alpha=0.35,
             label=f"the {result.evals} points quad evaluated ({result.intervals} panels of G10–K21)")
    top.set_ylim(-8.0, 8.0)
    top.set_xlabel("x")
    top.set_title(rf"$\int_0^{{2\pi}} x \sin 30x\,dx = -\pi/15$: quad gives {float(result):.15f}")
    top.legend(loc="upper left")
    rtols = np.logspace(-2, -12, 21)  # below ~1e-12·|I| float64 cannot resolve this integral
    estimates, true_errors = [], []
    for rtol in rtols:
        r = quad(lambda x: x * np.sin(30 * x), 0.0, 2 * math.pi, rtol=rtol)
        estimates.append(r.error)
        true_errors.append(abs(float(r) - exact))
    bottom.loglog(rtols, rtols * abs(exact), "--", color="0.4", label="asked for: rtol·|I|")
    bottom.loglog(rtols, estimates, "o-", ms=4, label="quad's error estimate")
    bottom.loglog(rtols, np.maximum(true_errors, 1e-18), "s", ms=4, label="true error")
    bottom.invert_xaxis()
    bottom.set_xlabel("rtol (tighter →)")
    bottom.set_ylabel("absolute error")
    bottom.set_title("an honest estimate: the true error never exceeds it")
    bottom.legend()
    return finish(fig, path)


# ---- Differentiating an integral ------------------------------------------------------------------------
@themed
def leibniz_rule(path: str | Path | None = None, b: float = 1.0) -> Figure:
    """F(b) = ∫₀ᵇ sin: the area up to b, and dF/db = sin b (cm.grad through quad) as the slope of F at b."""
    from calcml.integrate import quad

    F = lambda b: quad(np.sin, 0.0, b).value
    slope = float(cm.grad(F)(b))
    fig = new_figure(9.0, 4.0)
    left, right = fig.subplots(1, 2)
    x = np.linspace(0.0, math.pi, 400)
    left.plot(x, np.sin(x), label="f(x) = sin x")
    under = x[x <= b]
    left.fill_between(under, np.sin(under), alpha=0.3, label=rf"$F({b:g}) = \int_0^{{{b:g}}} \sin x\,dx$ = {F(b):.4f}")
    left.plot([b, b], [0.0, math.sin(b)], color="#d62728", lw=2, label=f"f(b) = sin {b:g} = {math.sin(b):.4f}")
    left.set_xlabel("x")
    left.set_title("the area up to b")
    left.legend(loc="lower center")
    bs = np.linspace(0.0, math.pi, 61)
    right.plot(bs, [F(v) for v in bs], label="F(b) by quad")
    near = np.linspace(b - 0.7, b + 0.7, 2)
    right.plot(near, F(b) + slope * (near - b), "--", color="#d62728",
               label=f"slope cm.grad(F)({b:g}) = {slope:.4f}")
    right.plot([b], [F(b)], "o", color="#d62728")
    right.set_xlabel("b")
    right.set_title("dF/db = f(b): Leibniz's rule, by autodiff")
    right.legend(loc="upper left")
    return finish(fig, path)


# ---- Probability by quadrature --------------------------------------------------------------------------
@themed
def normalized_density(path: str | Path | None = None) -> Figure:
    """The coin's unnormalized posterior p^8(1 − p)^15, its pdf p̃/Z (Z by quad) and its CDF (by quad)."""
    from calcml.prob import cdf, normalize

    kernel = lambda p: p ** 8 * (1 - p) ** 15  # prior Beta(2, 3) × likelihood of 7 heads in 20 tosses
    pdf, Z, _ = normalize(kernel, (0, 1))
    p = np.linspace(0.0, 1.0, 301)
    ps = np.linspace(0.0, 1.0, 41)
    fig = new_figure(10.0, 3.6)
    raw, density, distribution = fig.subplots(1, 3)
    raw.plot(p, kernel(p))
    raw.set_title("unnormalized p̃(p) = p⁸(1 − p)¹⁵")
    density.plot(p, pdf(p), color="#2ca02c", label="p̃ / Z")
    density.fill_between(p, pdf(p), alpha=0.2, color="#2ca02c")
    density.set_title(f"pdf: Z = ∫ p̃ = {float(Z):.4e}")
    density.legend(title=f"B(9, 16) = {math.exp(math.lgamma(9) + math.lgamma(16) - math.lgamma(25)):.4e}")
    distribution.plot(ps, cdf(pdf, ps, (0, 1)), "o-", ms=3, color="#ff7f0e")
    distribution.set_title("CDF F(p) = ∫₀ᵖ p̃/Z")
    for ax in (raw, density, distribution):
        ax.set_xlabel("p (probability of heads)")
    return finish(fig, path)


# ---- Gradients of expectations --------------------------------------------------------------------------
MU, SIGMA = 1.5, 0.8


def estimator_samples(n: int = 20_000, rng: int = 0) -> dict[str, np.ndarray]:
    """Per-sample values of the two estimators of ∂/∂μ E[x²], x ~ N(μ, σ²) (true value 2μ).

    reparam: d/dμ (μ + σε)² = f'(x), by cm.grad;  score: f(x)·∂/∂μ log p(x) = x²(x − μ)/σ², the same x.
    """
    x = MU + SIGMA * np.random.default_rng(rng).standard_normal(n)
    f = lambda x: x ** 2
    reparam = cm.grad(lambda x: np.sum(f(x)))(x)
    score = f(x) * (x - MU) / SIGMA ** 2
    return {"reparameterization": np.asarray(reparam, dtype=float), "score": score}


@themed
def estimator_histograms(path: str | Path | None = None) -> Figure:
    """Histograms of the two estimators' per-sample values around the true gradient 2μ."""
    samples = estimator_samples()
    exact = 2 * MU
    fig = new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    bins = np.linspace(-3.0, 25.0, 113)
    for name, values in samples.items():
        stderr = values.std(ddof=1) / math.sqrt(values.size)
        ax.hist(np.clip(values, bins[0], bins[-1]), bins=bins, density=True, alpha=0.5,
                label=f"{name}: mean {values.mean():.3f} ± {stderr:.3f}, sd {values.std(ddof=1):.2f}")
    ax.axvline(exact, color="k", lw=1.5, label=f"true ∂/∂μ E[x²] = 2μ = {exact:g}")
    ax.set_xlabel("one sample's gradient estimate (values beyond the axis are piled at its ends)")
    ax.set_ylabel("density")
    ax.set_title(f"∂/∂μ E[x²], x ~ N({MU}, {SIGMA}²), {samples['score'].size} samples: same mean, different spread")
    ax.legend()
    return finish(fig, path)


# ---- Stiffness ------------------------------------------------------------------------------------------
@themed
def stiffness_steps(path: str | Path | None = None) -> Figure:
    """Robertson's kinetics: the solution, rosenbrock23's growing steps, and dopri5's steps until it stops."""
    from calcml import ode
    from calcml.ode import problems

    p = problems.robertson(t_end=40.0)
    reached = [0.0]

    def watched(t, y):
        reached[0] = max(reached[0], float(t))
        return p.f(t, y)

    try:
        ode.solve(watched, p.y0, p.t_span)
        stall = p.t_span[1]
    except ode.StiffnessError:
        stall = reached[0]
    explicit = ode.solve(p.f, p.y0, (0.0, stall))  # the same steps, up to where it stopped
    stiff = ode.solve(p.f, p.y0, p.t_span, method="rosenbrock23", rtol=1e-6, atol=1e-10)
    fig = new_figure(8.0, 6.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    t = stiff.t[1:]
    for k, (label, scale) in enumerate((("y₁", 1.0), ("y₂ × 10⁴", 1e4), ("y₃", 1.0))):
        top.semilogx(t, stiff.y[1:, k] * scale, label=label)
    top.set_title("Robertson's kinetics, solved by rosenbrock23")
    top.legend()
    bottom.loglog(stiff.t[1:], np.diff(stiff.t), ".-", ms=3, label=f"rosenbrock23: {stiff.steps} steps to t = 40")
    bottom.loglog(explicit.t[1:-1], np.diff(explicit.t)[:-1], ".-", ms=3,
                  label=f"dopri5: {explicit.steps} steps, held at h ≈ {np.diff(explicit.t)[-2]:.1e}")
    bottom.axvline(stall, color="#d62728", ls="--", label=f"dopri5 stops: stiff at t ≈ {stall:.3g}")
    bottom.set_xlabel("t")
    bottom.set_ylabel("step size h")
    bottom.set_title("an explicit method's step is capped by stability; an implicit one's grows with t")
    bottom.legend()
    return finish(fig, path)


# ---- Differentiating through an ODE solve ---------------------------------------------------------------
@themed
def ode_sensitivity(path: str | Path | None = None, w: float = 0.5) -> Figure:
    """y' = −wy: y(t) and ∂y(t)/∂w by autodiff through odeint, by central differences, and in closed form."""
    from calcml import ode

    f = lambda t, y, w: -w * y
    ts = np.linspace(0.0, 6.0, 61)
    solve = lambda w: ode.odeint(f, np.array([1.0]), ts, w, rtol=1e-10, atol=1e-12)[:, 0]
    y = np.asarray(solve(np.array(w)), dtype=float)
    by_autodiff = np.asarray(cm.jacobian(solve, mode="fwd")(np.array(w)), dtype=float).ravel()
    delta = 1e-5
    by_differences = (np.asarray(solve(np.array(w + delta))) - np.asarray(solve(np.array(w - delta)))) / (2 * delta)
    fig = new_figure(9.0, 4.0)
    left, right = fig.subplots(1, 2)
    left.plot(ts, y, label=f"y(t), w = {w:g}")
    left.set_title("y' = −w y, y(0) = 1")
    left.set_xlabel("t")
    left.legend()
    right.plot(ts, by_autodiff, lw=2, label="forward-mode autodiff through odeint")
    right.plot(ts[::3], by_differences[::3], "o", ms=4, label="central differences, δ = 1e-5")
    right.plot(ts, -ts * np.exp(-w * ts), "--", color="k", lw=1, label=r"closed form $-t\,e^{-wt}$")
    right.set_title("sensitivity ∂y(t)/∂w")
    right.set_xlabel("t")
    right.legend()
    return finish(fig, path)


# ---- Stochastic differential equations and Langevin sampling ---------------------------------------------
OU = {"theta": 2.0, "mu": 1.0, "sigma": 0.5, "x0": 3.0}


def ou_closed_form(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean μ + (x₀ − μ)e^(−θt) and variance σ²(1 − e^(−2θt))/2θ of dX = θ(μ − X)dt + σdW."""
    theta, mu, sigma, x0 = OU["theta"], OU["mu"], OU["sigma"], OU["x0"]
    return mu + (x0 - mu) * np.exp(-theta * ts), sigma ** 2 * (1 - np.exp(-2 * theta * ts)) / (2 * theta)


@themed
def ou_and_langevin(path: str | Path | None = None) -> Figure:
    """Ornstein–Uhlenbeck paths with their mean ± 2 sd (sampled and closed form); MALA samples of N(1, 4)."""
    from calcml import sde

    theta, mu, sigma, x0 = OU["theta"], OU["mu"], OU["sigma"], OU["x0"]
    ts = np.linspace(0.0, 2.0, 201)
    paths = sde.euler_maruyama(lambda t, x: theta * (mu - x), lambda t, x: sigma, np.array([x0]), ts, rng=0,
                               n_paths=4000)[:, :, 0]
    mean, var = ou_closed_form(ts)
    fig = new_figure(10.0, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=(1.3, 1.0))
    left.plot(ts, paths[:, :25], color="#1f77b4", lw=0.5, alpha=0.45)
    sampled_mean, sampled_sd = paths.mean(axis=1), paths.std(axis=1)
    for sign in (1, -1):
        left.plot(ts, sampled_mean + sign * 2 * sampled_sd, color="#d62728", lw=2,
                  label="sampled mean ± 2 sd (4000 paths)" if sign > 0 else None)
        left.plot(ts, mean + sign * 2 * np.sqrt(var), "--", color="k", lw=1,
                  label=r"closed form $\mu + (x_0 - \mu)e^{-\theta t} \pm 2\sqrt{\sigma^2(1 - e^{-2\theta t})/2\theta}$"
                  if sign > 0 else None)
    left.set_title(f"Ornstein–Uhlenbeck: θ = {theta:g}, μ = {mu:g}, σ = {sigma:g}, x₀ = {x0:g}")
    left.set_xlabel("t")
    left.legend(loc="upper right")
    chain = sde.langevin(lambda x: -0.5 * np.sum((x - 1.0) ** 2, axis=-1) / 4.0, np.zeros((2000, 1)), 0.5, 200,
                         rng=0, burn_in=200, mala=True)
    samples = np.ravel(chain.samples)
    right.hist(samples, bins=80, density=True, alpha=0.5, label=f"MALA, {samples.size} samples")
    x = np.linspace(-7.0, 9.0, 400)
    right.plot(x, np.exp(-(x - 1.0) ** 2 / 8.0) / math.sqrt(8 * math.pi), color="k", label="target N(1, 4)")
    right.set_title("MALA on N(1, 4), ∇log p by cm.grad")
    right.set_xlabel("x")
    right.legend(loc="upper left")
    return finish(fig, path)
