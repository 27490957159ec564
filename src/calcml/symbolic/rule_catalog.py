"""The stable rule ids that steps carry, with a human title and the rule's formula.

This table is the one home of the readable names: ``Step.title`` reads it, and through it the command
line's ``--steps``, the lab and every text, LaTeX and HTML explanation say "chain rule", never ``diff.chain``
(the id stays in JSON, as ``rule`` beside ``title``, for programs).

Ids never change meaning; new rules get new ids. Prefixes: ``diff.`` derivatives, ``ml.`` the
machine-learning functions, ``int.`` integrals, ``algebra.`` rewrites, ``sum.`` sums and products.
"""

from __future__ import annotations

RULES: dict[str, tuple[str, str]] = {
    # derivatives
    "diff.constant": ("constant rule", "d/dx c = 0"),
    "diff.identity": ("identity rule", "d/dx x = 1"),
    "diff.constant_multiple": ("constant multiple rule", "d/dx [c·f] = c·f'"),
    "diff.sum": ("sum rule", "d/dx [f + g] = f' + g'"),
    "diff.power": ("power rule", "d/dx x^n = n·x^(n−1)"),
    "diff.product": ("product rule", "d/dx [f·g] = f'·g + f·g'"),
    "diff.quotient": ("quotient rule", "d/dx [f/g] = (f'·g − f·g')/g²"),
    "diff.chain": ("chain rule", "d/dx f(u) = f'(u)·du/dx"),
    "diff.exp": ("exponential rule", "d/dx e^x = e^x"),
    "diff.exp_base": ("exponential rule, base a", "d/dx a^x = a^x·ln a"),
    "diff.log": ("logarithm rule", "d/dx ln x = 1/x"),
    "diff.log_base": ("logarithm rule, base a", "d/dx log_a x = 1/(x·ln a)"),
    "diff.log_diff": ("logarithmic differentiation", "y = u^v ⇒ ln y = v·ln u ⇒ y' = y·(v·ln u)'"),
    "diff.sin": ("derivative of sine", "d/dx sin x = cos x"),
    "diff.cos": ("derivative of cosine", "d/dx cos x = −sin x"),
    "diff.tan": ("derivative of tangent", "d/dx tan x = sec² x"),
    "diff.sec": ("derivative of secant", "d/dx sec x = sec x·tan x"),
    "diff.csc": ("derivative of cosecant", "d/dx csc x = −csc x·cot x"),
    "diff.cot": ("derivative of cotangent", "d/dx cot x = −csc² x"),
    "diff.asin": ("derivative of arcsine", "d/dx arcsin x = 1/√(1 − x²)"),
    "diff.acos": ("derivative of arccosine", "d/dx arccos x = −1/√(1 − x²)"),
    "diff.atan": ("derivative of arctangent", "d/dx arctan x = 1/(1 + x²)"),
    "diff.acot": ("derivative of arccotangent", "d/dx arccot x = −1/(1 + x²)"),
    "diff.sinh": ("derivative of sinh", "d/dx sinh x = cosh x"),
    "diff.cosh": ("derivative of cosh", "d/dx cosh x = sinh x"),
    "diff.tanh": ("derivative of tanh", "d/dx tanh x = 1 − tanh² x"),
    "diff.asinh": ("derivative of arsinh", "d/dx arsinh x = 1/√(x² + 1)"),
    "diff.acosh": ("derivative of arcosh", "d/dx arcosh x = 1/√(x² − 1)"),
    "diff.atanh": ("derivative of artanh", "d/dx artanh x = 1/(1 − x²)"),
    "diff.abs": ("derivative of absolute value", "d/dx |x| = sign(x), undefined at x = 0"),
    "diff.sign": ("derivative of sign", "d/dx sign(x) = 0 for x ≠ 0"),
    "diff.max": ("derivative of max/min", "d/du max(u, v) = 1 where u is the largest, else 0"),
    "diff.piecewise": ("piecewise rule", "differentiate each piece on its own interval"),
    "diff.function": ("SymPy's derivative of a named function", "d/dx f(x) = f'(x)"),
    "diff.result": ("derivative", "the rules below, then a simpler equal form"),
    "diff.higher_order": ("higher derivative", "d^n/dx^n f = d/dx (d^(n−1)/dx^(n−1) f)"),
    # machine learning
    "ml.sigmoid": ("derivative of the sigmoid", "σ'(x) = σ(x)·(1 − σ(x))"),
    "ml.relu": ("derivative of ReLU", "relu'(x) = 1 for x > 0, 0 for x ≤ 0 (subgradient 0 at 0)"),
    "ml.softplus": ("derivative of softplus", "softplus'(x) = σ(x)"),
    "ml.logsumexp": ("gradient of log-sum-exp", "∂/∂z_j logsumexp(z) = softmax_j(z)"),
    "ml.softmax": ("Jacobian of softmax", "∂p_k/∂z_j = p_k·(δ_kj − p_j)"),
    "ml.cross_entropy_softmax": (
        "cross-entropy after softmax",
        "∂/∂z_j [−log p_k(z)] = p_j − y_j, y = one-hot(k)",
    ),
    # rewrites
    "algebra.simplify": ("simplify", "an equal, shorter form"),
    # integrals
    "int.constant": ("constant rule", "∫ c dx = c·x"),
    "int.constant_multiple": ("constant multiple rule", "∫ c·f dx = c·∫ f dx"),
    "int.sum": ("sum rule", "∫ (f + g) dx = ∫ f dx + ∫ g dx"),
    "int.power": ("power rule", "∫ x^n dx = x^(n+1)/(n+1), n ≠ −1"),
    "int.reciprocal": ("reciprocal rule", "∫ 1/x dx = ln|x|"),
    "int.exp": ("exponential rule", "∫ a^x dx = a^x/ln a  (∫ e^x dx = e^x)"),
    "int.trig": ("trigonometric antiderivative", "∫ sin x dx = −cos x, ∫ cos x dx = sin x, …"),
    "int.hyperbolic": ("hyperbolic antiderivative", "∫ sinh x dx = cosh x, ∫ cosh x dx = sinh x"),
    "int.arctan": ("arctangent rule", "∫ 1/(a + b x²) dx = arctan(x·√(b/a))/√(ab)"),
    "int.inverse_trig": ("inverse-trigonometric antiderivative", "∫ 1/√(1 − x²) dx = arcsin x, …"),
    "int.substitution": ("substitution", "∫ f(g(x))·g'(x) dx = ∫ f(u) du, u = g(x)"),
    "int.parts": ("integration by parts", "∫ u dv = u·v − ∫ v du"),
    "int.cyclic_parts": ("integration by parts, twice (cyclic)", "the integral reappears; solve for it"),
    "int.rewrite": ("rewrite the integrand", "an equal form that is easier to integrate"),
    "int.piecewise": ("piecewise integrand", "integrate each piece"),
    "int.sympy": ("SymPy's integrator", "found by SymPy's algorithm (Risch/heuristics), no hand steps"),
    "int.definite": ("fundamental theorem of calculus", "∫_a^b f dx = F(b) − F(a), F' = f"),
    "int.iterated": ("iterated integral", "integrate the inner variable first, then the outer"),
    # sums and products
    "sum.closed_form": ("sum in closed form", "Σ_{k=1}^{n} k = n(n+1)/2, Σ k² = n(n+1)(2n+1)/6, …"),
    "product.closed_form": ("product in closed form", "Π_{k=1}^{n} k = n!, …"),
}


def rule_title(rule: str) -> str:
    """The human name of a rule id (the id itself when it has no entry)."""
    return RULES.get(rule, (rule, ""))[0]


def rule_formula(rule: str) -> str:
    """The formula of a rule id, in plain text ('' when it has no entry)."""
    return RULES.get(rule, ("", ""))[1]
