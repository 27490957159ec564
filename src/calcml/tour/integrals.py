"""The book's chapters 7 and 8. Integrals: areas and their error orders, adaptive quadrature, multiple integrals,
differentiating integrals. Probability by integration: normalizing constants and expectations by quadrature,
softmax as a normalized density, and gradients of expectations by sampling."""

from __future__ import annotations

import math

import numpy as np

import calcml as cm
from calcml.integrate import convergence_table, montecarlo, nquad, qmc, quad
from calcml.prob import beta_binomial, cdf, entropy, grad_expectation, kl_divergence, normalize, posterior
from calcml.tour.chapter import Chapter

SQRT2PI = math.sqrt(2 * math.pi)


def _normal(m: float, s: float):
    return lambda x: np.exp(-((x - m) / s) ** 2 / 2) / (s * SQRT2PI)


def integrals() -> Chapter:
    """Chapter 7: definite integrals by rules of increasing order, adaptively, in several dimensions, and
    differentiated."""
    ch = Chapter("Integrals: definite, indefinite, multiple")
    ch.say("A definite integral is the limit of sums of areas; an antiderivative turns it into F(b) − F(a); "
           "multiple integrals nest one inside the other. calcml computes them by rules with known orders, by "
           "adaptive quadrature with an error estimate, and differentiates them.")
    for section in (riemann_to_gauss, adaptive_quadrature, multiple_integrals, differentiating_integrals):
        ch.include(section())
    return ch


def multiple_integrals() -> Chapter:
    """∫∫ over a triangle (inner limit depending on x) and the antiderivative of x eˣ, against closed forms."""
    ch = Chapter("Multiple and indefinite integrals")
    triangle = nquad(lambda x, y: x * y, [(0, 1), (0, lambda x: x)])
    disc = nquad(lambda x, y: 1.0, [(-1, 1), (lambda x: -np.sqrt(1 - x * x), lambda x: np.sqrt(1 - x * x))])
    ch.say("∫₀¹ ∫₀ˣ xy dy dx = ∫₀¹ x³/2 dx = 1/8, and the area of the unit disc as a double integral with limits "
           "±√(1 − x²) is π.")
    ch.check("∫₀¹ ∫₀ˣ xy dy dx = 1/8", float(triangle), 0.125, 1e-12)
    ch.check("area of the unit disc = π", float(disc), math.pi, 1e-8)
    by_parts = cm.symbolic.integrate("x*exp(x)", ("x", 0, 1))
    ch.say(f"Indefinite, then definite: ∫ x eˣ dx = (x − 1)eˣ by parts, so ∫₀¹ x eˣ dx = {by_parts.result}.")
    ch.check("∫₀¹ x eˣ dx = 1 (symbolic, by parts)", float(by_parts.result), 1.0, 1e-15)
    ch.check("∫₀¹ x eˣ dx = 1 (quad)", float(quad(lambda x: x * np.exp(x), 0.0, 1.0)), 1.0, 1e-13)
    return ch


def riemann_to_gauss() -> Chapter:
    """Left/right/midpoint sums, trapezoid, Simpson and Gauss–Legendre on ∫₀¹ eˣ: their measured orders."""
    ch = Chapter("Areas: from Riemann sums to Gauss")
    table = convergence_table(np.exp, 0.0, 1.0, math.e - 1, panels=(4, 8, 16, 32), gauss_points=(2, 3))
    ch.say("∫₀¹ eˣ dx = e − 1 with n panels of width h = 1/n. Halving h divides the error by 2^p: p is the order.")
    ch.table("|rule − (e − 1)|", table.columns(), table.rows())
    ch.say("Riemann sums are first order, midpoint and trapezoid second, Simpson fourth, and m-point "
           "Gauss–Legendre order 2m: the same number of evaluations buys far more digits.")
    for name, order in table.theory.items():
        ch.check(f"measured order of {name} = {order:g}", table.orders[name], order, 0.05)
    return ch


def adaptive_quadrature() -> Chapter:
    """quad on integrals with kinks of every kind, each error estimate against the true error."""
    ch = Chapter("Adaptive quadrature with an honest error")
    suite = [
        ("eˣ on [0, 1]", np.exp, 0, 1, math.e - 1),
        ("x sin 30x on [0, 2π]", lambda x: x * np.sin(30 * x), 0, 2 * math.pi, -math.pi / 15),
        ("1/√x on [0, 1]", lambda x: 1 / np.sqrt(x), 0, 1, 2.0),
        ("log x on [0, 1]", np.log, 0, 1, -1.0),
        ("Beta(½,½) normaliser", lambda x: x ** -0.5 * (1 - x) ** -0.5, 0, 1, math.pi),
        ("Φ(1.96)", _normal(0, 1), -np.inf, 1.96, 0.9750021048517795),
    ]
    rows = []
    for label, f, a, b, exact in suite:
        with np.errstate(divide="ignore"):
            r = quad(f, a, b, rtol=1e-10)
        true_error = abs(float(r) - exact)
        rows.append((label, f"{float(r):.15f}", f"{true_error:.1e}", f"{r.error:.1e}", str(r.evals)))
        ch.check(f"{label} to 1e-10", float(r), exact, 1e-10)
        ch.check(f"{label}: true error ≤ estimate", max(0.0, true_error - r.error), 0.0, 0.0)
    ch.table("quad, rtol = 1e-10", ("integral", "value", "true error", "estimate", "evaluations"), rows)
    ch.say("Gauss–Kronrod G10–K21 halves the worst panel until the estimated error is small enough; at a "
           "singular endpoint it integrates on panels shrinking geometrically toward it and extrapolates the "
           "partial sums with Wynn's ε-algorithm; infinite ranges are mapped to finite ones.")
    f3 = lambda x, y, z: np.exp(-(x * x + y * y + z * z))
    exact3 = (math.sqrt(math.pi) / 2 * math.erf(1)) ** 3
    mc = montecarlo(f3, [(0, 1)] * 3, n=2 ** 14, rng=0)
    rq = qmc(f3, [(0, 1)] * 3, n=2 ** 14, rng=0)
    ch.table("∫ over the unit cube of e^−|x|², 16384 points",
             ("method", "value", "standard error", "true error"),
             [(m.method, f"{m.value:.8f}", f"{m.stderr:.1e}", f"{abs(m.value - exact3):.1e}") for m in (mc, rq)])
    ch.say("In higher dimensions sampling takes over: Monte Carlo's error falls like n^(−1/2); scrambled "
           "Sobol points do far better on smooth integrands, and the spread of the scrambles measures it.")
    ch.check("Monte Carlo within 4 standard errors", abs(mc.value - exact3) / mc.stderr, 0.0, 4.0)
    ch.check("randomized QMC within 4 standard errors", abs(rq.value - exact3) / rq.stderr, 0.0, 4.0)
    return ch


def differentiating_integrals() -> Chapter:
    """Leibniz's rule for the limits and the gradient in a parameter of the integrand, through the engine."""
    ch = Chapter("Differentiating an integral")
    d_upper = cm.grad(lambda b: quad(np.sin, 0.0, b).value)(1.0)
    d_lower = cm.grad(lambda a: quad(np.sin, a, 2.0).value)(1.0)
    ch.say("d/db ∫_a^b f = f(b) and d/da ∫_a^b f = −f(a): the fundamental theorem of calculus, as a rule of "
           "calcml's engine, so cm.grad(lambda b: quad(f, 0, b).value) simply works.")
    ch.check("d/db ∫₀ᵇ sin = sin 1", d_upper, math.sin(1.0), 1e-14)
    ch.check("d/da ∫ₐ² sin = −sin 1", d_lower, -math.sin(1.0), 1e-14)
    gaussian_mass = lambda s: quad(lambda x: np.exp(-s * x * x), -np.inf, np.inf).value
    d_s = cm.grad(gaussian_mass)(2.0)
    ch.say("∫ e^(−s x²) dx = √(π/s). With s a traced input, quad chooses its nodes on numbers and "
           "differentiates the final weighted sum Σ wᵢ f(xᵢ; s): d/ds = −½ √π s^(−3/2).")
    ch.table("d/ds ∫ e^(−s x²) dx at s = 2", ("autodiff through quad", "closed form"),
             [(f"{d_s:.15f}", f"{-0.5 * math.sqrt(math.pi) * 2 ** -1.5:.15f}")])
    ch.check("d/ds √(π/s) at s = 2", d_s, -0.5 * math.sqrt(math.pi) * 2 ** -1.5, 1e-9)
    d_singular = cm.grad(lambda s: quad(lambda x: x ** s, 0.0, 1.0).value)(-0.5)
    ch.check("d/ds ∫₀¹ xˢ = −1/(s+1)² at s = −½ (singular at 0)", d_singular, -4.0, 1e-8)
    return ch


def probability() -> Chapter:
    """Chapter 8: probability as integration — normalizing densities, expectations, softmax, gradients of
    expectations."""
    ch = Chapter("Probability by integration")
    ch.say("A density must integrate to 1, an expectation is an integral against it, and softmax is the discrete "
           "case: exponentials divided by their sum. Gradients of expectations are estimated by sampling.")
    for section in (probability_by_quadrature, softmax_normalizes, gradients_of_expectations):
        ch.include(section())
    return ch


def softmax_normalizes() -> Chapter:
    """softmax(z/T) as the normalized density e^{z/T}/Σe^{z/T}: it sums to 1, is ∇ of T·logsumexp(z/T), and
    tends to the argmax as T → 0."""
    ch = Chapter("Softmax: a normalized density")
    z = np.array([2.0, 1.0, 0.1, -1.0])
    rows = []
    for T in (5.0, 1.0, 0.2, 0.01):
        p = cm.softmax(z / T)
        rows.append((f"{T:g}", np.array2string(np.asarray(p), precision=4)))
    ch.table(f"softmax(z/T) for z = {z.tolist()}", ("temperature T", "probabilities"), rows)
    p = cm.softmax(z)
    grad_lse = cm.grad(cm.logsumexp)(z)
    ch.say("High temperature flattens the distribution toward uniform; T → 0 puts all mass on the largest z.")
    ch.check("softmax sums to 1", float(np.sum(p)), 1.0, 1e-15)
    ch.check("∇ logsumexp(z) = softmax(z)", np.max(np.abs(grad_lse - np.exp(z) / np.exp(z).sum())), 0.0, 1e-15)
    ch.check("T = 0.01: the largest entry's probability → 1", float(cm.softmax(z / 0.01)[0]), 1.0, 1e-12)
    return ch


def probability_by_quadrature() -> Chapter:
    """Normalising constants, the normal CDF, KL divergence, entropy and a Bayesian posterior."""
    ch = Chapter("Probability by quadrature")
    _, Z, _ = normalize(lambda x: x ** -0.5 * (1 - x) ** -0.5, (0, 1))
    ch.check("Beta(½, ½) normaliser B(½, ½) = π", Z, math.pi, 1e-10)
    ch.check("Φ(1.96)", cdf(_normal(0, 1), 1.96), 0.9750021048517795, 1e-14)
    kl = kl_divergence(_normal(0.3, 1.0), _normal(-1.0, 2.0))
    ch.check("KL(N(0.3, 1) ‖ N(−1, 4)) = log 2 + (1 + 1.3²)/8 − ½", kl, math.log(2) + (1 + 1.3 ** 2) / 8 - 0.5, 1e-10)
    ch.check("entropy of N(0, 4) = ½ log(2πe·4)", entropy(_normal(0.0, 2.0)), 0.5 * math.log(2 * math.pi * math.e * 4),
             1e-10)
    a, b, k, n = 2.0, 3.0, 7, 20
    post = posterior(lambda p: k * np.log(p) + (n - k) * np.log1p(-p),
                     lambda p: (a - 1) * np.log(p) + (b - 1) * np.log1p(-p), (0, 1))
    exact = beta_binomial(a, b, k, n)
    ch.say(f"A coin: prior Beta({a:g}, {b:g}), {k} heads in {n} tosses. By quadrature the posterior mean is "
           f"{post.mean:.12f}; the conjugate answer Beta({a + k:g}, {b + n - k:g}) gives {exact.mean:.12f}.")
    ch.check("posterior mean = (α + k)/(α + β + n)", post.mean, exact.mean, 1e-10)
    ch.check("posterior variance (Beta)", post.variance, exact.variance, 1e-10)
    return ch


def gradients_of_expectations() -> Chapter:
    """∇μ E[x²] and ∇μ E[cos kx] under N(μ, σ²) by the reparameterization and score estimators."""
    ch = Chapter("Gradients of expectations: reparameterization vs score")
    mu, sigma, k = 1.5, 0.8, 2.0
    cases = [("x²", lambda x: x ** 2, 2 * mu),
             ("cos 2x", lambda x: np.cos(k * x), -k * math.sin(k * mu) * math.exp(-k * k * sigma ** 2 / 2))]
    rows = []
    for label, f, exact in cases:
        for estimator, baseline in (("reparam", None), ("score", None), ("score", "mean")):
            est = grad_expectation(f, "normal", (mu, sigma), estimator, n=20_000, rng=0, baseline=baseline)
            name = estimator + (" + baseline" if baseline else "")
            rows.append((label, name, f"{est.grad[0]:.4f}", f"{est.stderr[0]:.4f}", f"{est.variance[0]:.2f}",
                         f"{exact:.4f}"))
            ch.check(f"∂/∂μ E[{label}] by {name}, within 4 standard errors", abs(est.grad[0] - exact) / est.stderr[0],
                     0.0, 4.0)
    ch.table(f"∂/∂μ E[f(x)], x ~ N({mu}, {sigma}²), n = 20000",
             ("f", "estimator", "estimate", "std. error", "per-sample variance", "exact"), rows)
    ch.say("Reparameterization differentiates through the sample x = μ + σε; the score estimator weights "
           "f(x) by ∇ log p(x). Both are unbiased. For x² the score estimator is far noisier and a baseline "
           "helps; for cos 2x at this σ it is not: which estimator wins depends on f and σ.")
    return ch


CHAPTERS = [integrals, probability]
