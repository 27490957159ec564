"""The book's chapters 19 and 20: pictures of loss surfaces, and beyond — policy gradients, stochastic calculus
and the parameter-shift rule — each made of sections checked against closed forms or a second computation."""

from __future__ import annotations

import numpy as np

import calcml as cm
from calcml.apps import quantum, rl
from calcml.optim.race import learning_rate_comparison
from calcml.tour.chapter import Chapter
from calcml.tour.differential_equations import stochastic_dynamics


def loss_surfaces() -> Chapter:
    """Chapter 19: what a loss surface's curvature says about the learning rate."""
    ch = Chapter("Pictures of loss surfaces")
    ch.say("Near a minimum every smooth loss looks like a bowl ½θᵀHθ; the Hessian's eigenvalues λ_min ≤ λ_max set "
           "the learning rates that work: η < 2/λ_max converges, η* = 2/(λ_min + λ_max) is fastest.")
    ch.include(learning_rates())
    return ch


def learning_rates() -> Chapter:
    """Gradient descent on ½(x² + 4y²) with four learning rates, against the bounds from the Hessian."""
    ch = Chapter("Learning rates from the Hessian")
    result = learning_rate_comparison("bowl", steps=40)
    lam_min, lam_max = result.extra["hessian_eigenvalues"]
    rows = []
    for run in result.runs:
        rate = max(abs(1 - run.lr * lam_min), abs(1 - run.lr * lam_max))
        rows.append((run.label, f"{rate:.4f}", f"{run.final_loss:.3e}", run.status))
    ch.table(f"f(x, y) = {result.surface.expression}, 40 steps", ("learning rate", "max |1 − ηλ|", "final f",
                                                                   "outcome"), rows)
    ch.check("Hessian eigenvalues (cm.hessian) λ_min = 1", lam_min, 1.0, 1e-12)
    ch.check("Hessian eigenvalues (cm.hessian) λ_max = 4", lam_max, 4.0, 1e-12)
    ch.check("η* = 2/(λ_min + λ_max) = 0.4", 2 / (lam_min + lam_max), 0.4, 1e-12)
    diverging = [run for run in result.runs if run.lr * lam_max > 2]
    ch.check("every run with η > 2/λ_max diverged", float(all(run.diverged for run in diverging) and bool(diverging)),
             1.0, 0.0)
    return ch


def beyond() -> Chapter:
    """Chapter 20: calculus beyond supervised learning — rewards, noise and quantum circuits."""
    ch = Chapter("Beyond: policy gradients, stochastic calculus, the parameter-shift rule")
    ch.say("The same derivatives reach further: the gradient of an expected reward (reinforcement learning), "
           "differential equations driven by noise (stochastic calculus, Langevin sampling), and exact gradients "
           "of quantum circuits from two shifted runs.")
    ch.include(policy_gradients())
    ch.include(stochastic_dynamics())
    ch.include(parameter_shift())
    return ch


def policy_gradients() -> Chapter:
    """∇J of a 3-state MDP by the policy-gradient theorem, against cm.grad through J = d₀ᵀ(I − γP_π)⁻¹r_π."""
    ch = Chapter("The policy-gradient theorem")
    mdp = rl.random_mdp(n_states=3, n_actions=2, rng=0)
    theta = np.random.default_rng(1).normal(size=(3, 2))
    theorem = rl.policy_gradient_theorem(mdp, theta)
    engine = rl.engine_gradient(mdp, theta)
    ch.table("∂J/∂θ[s, a], softmax policy, γ = 0.9", ("(s, a)", "theorem: d_π(s) π(a|s) A(s, a)", "cm.grad"),
             [(f"({s}, {a})", f"{theorem[s, a]:.10f}", f"{engine[s, a]:.10f}") for s in range(3) for a in range(2)])
    ch.say("REINFORCE estimates this gradient from sampled episodes; here the exact value is computed two ways.")
    ch.check("policy-gradient theorem = cm.grad of the exact return", np.max(np.abs(theorem - engine)), 0.0, 1e-10)
    return ch


def parameter_shift() -> Chapter:
    """Gradients of a random 2-qubit circuit by the parameter-shift rule, against reverse mode through the
    simulator."""
    ch = Chapter("The parameter-shift rule")
    rng = np.random.default_rng(0)
    circuit = quantum.random_circuit(2, 10, rng=rng).ry(0)
    params = rng.uniform(-np.pi, np.pi, circuit.n_params)
    observable = {"ZZ": 1.0, "XI": 0.5}
    shift = quantum.parameter_shift_gradient(circuit, params, observable)
    engine = cm.grad(lambda p: circuit.expectation(p, observable))(params)
    ch.say(f"{circuit}: for a rotation e^(−iθG/2) with G² = I, ∂⟨O⟩/∂θ = (⟨O⟩(θ + π/2) − ⟨O⟩(θ − π/2))/2 — exact, "
           "not a finite difference, and computable on quantum hardware.")
    ch.check("parameter shift = backpropagation through the simulator", np.max(np.abs(shift - engine)), 0.0, 1e-10)
    return ch
