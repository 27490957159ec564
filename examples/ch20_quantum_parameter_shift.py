"""Chapter 20 — Beyond: quantum ML: the parameter-shift rule, exact gradients from the circuit.

    python examples/ch20_quantum_parameter_shift.py          # full run
    python examples/ch20_quantum_parameter_shift.py --fast   # CI settings

A quantum computer cannot backpropagate: it only returns expectations ⟨O⟩(θ). But a rotation gate makes
⟨O⟩ a sinusoid in its angle, so the derivative is an *exact* difference of two evaluations at θ ± π/2.
Here a small statevector simulator, written with NumPy that calcml traces, lets us check that claim
against backpropagation (cm.grad) and finite differences, and shows where the two-term rule breaks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import calcml as cm
from calcml.apps import quantum as q


def agreement_chapter(n_circuits: int) -> None:
    print("1. Parameter shift vs backpropagation vs finite differences on random 1–3-qubit circuits")
    rng = np.random.default_rng(0)
    worst_shift, worst_fd = 0.0, 0.0
    for k in range(n_circuits):
        n_qubits = 1 + k % 3
        circuit = q.random_circuit(n_qubits, 10, rng=rng).ry(0)  # RX/RY/RZ, CRX/CRY/CRZ, CNOT, H
        params = rng.uniform(-np.pi, np.pi, circuit.n_params)
        observable = {"Z" * n_qubits: 1.0, "X" + "I" * (n_qubits - 1): 0.5}

        def energy(p):
            return circuit.expectation(p, observable)

        engine = cm.grad(energy)(params)                                    # reverse mode through the simulator
        shift = q.parameter_shift_gradient(circuit, params, observable)     # 2 or 4 runs per gate
        h = 1e-3                                                             # 5-point stencil, error O(h⁴)
        eye = np.eye(len(params)) * h
        fd = np.array([(-energy(params + 2 * e) + 8 * energy(params + e) - 8 * energy(params - e)
                        + energy(params - 2 * e)) / (12 * h) for e in eye])
        worst_shift = max(worst_shift, np.max(np.abs(shift - engine)))
        worst_fd = max(worst_fd, np.max(np.abs(fd - engine)))
    print(f"   {n_circuits} circuits: max |shift − engine| = {worst_shift:.1e}, max |FD − engine| = {worst_fd:.1e}")
    print(f"   e.g. {circuit}")


def controlled_chapter() -> dict:
    print("\n2. Controlled rotations need four terms")
    print("   H on qubit 0, CRX(θ) from 0 to 1, measure X on qubit 0:  ⟨X⟩ = cos(θ/2), f′(θ) = −½ sin(θ/2)")
    print(f"   {'θ':>6}{'exact':>10}{'four-term':>11}{'two-term':>10}{'ratio':>8}")
    for theta in (0.3, 1.0, 2.0, 3.0):
        r = q.naive_two_term_error_example(theta)
        print(f"   {theta:6.2f}{r['exact']:10.5f}{r['four_term']:11.5f}{r['two_term']:10.5f}"
              f"{r['two_term'] / r['exact']:8.4f}")
    print("   the two-term rule is √2 = 1.4142 times too large. It is exact for frequency 1 only, but the generator")
    print("   |1⟩⟨1|⊗X/2 has eigenvalues 0 and ±½, so frequencies ½ and 1 can both appear (here: ½ alone).")
    thetas = np.linspace(-2 * np.pi, 2 * np.pi, 201)
    circuit = q.Circuit(2).h(0).crx(0, 1)
    return {
        "theta": thetas,
        "exact": [cm.grad(lambda p: circuit.expectation(p, "XI"))(np.array([t]))[0] for t in thetas],
        "two_term": [q.parameter_shift_gradient(circuit, np.array([t]), "XI", controlled_rule="two_term")[0]
                     for t in thetas],
    }


def variational_chapter(steps: int) -> q.VariationalFit:
    print("\n3. A variational circuit trained to a target expectation with parameter-shift gradients")
    circuit = q.Circuit(2).ry(0).ry(1).cnot(0, 1).cry(0, 1).rx(0)
    observable = {"ZZ": 1.0, "XI": 0.5}
    target = -0.8
    fit = q.fit_expectation(circuit, observable, target, np.full(circuit.n_params, 0.1), steps=steps, lr=0.1)
    for k in (0, steps // 4, steps // 2, steps):
        print(f"   step {k:4d}: ⟨ZZ + ½XI⟩ = {fit.expectations[k]: .5f}   (target {target})")
    spectrum = np.linalg.eigvalsh(q.observable_matrix(observable, 2))
    print(f"   reachable range: the observable's eigenvalues span [{spectrum[0]:.4f}, {spectrum[-1]:.4f}]")
    return fit


def draw(path: Path, curves: dict, fit: q.VariationalFit) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].plot(curves["theta"], curves["exact"], label="exact (cm.grad = four-term rule)")
    axes[0].plot(curves["theta"], curves["two_term"], "--", label="two-term rule")
    axes[0].set(title="d⟨X⟩/dθ after CRX(θ)", xlabel="θ")
    axes[0].legend()
    axes[1].plot(fit.expectations)
    axes[1].axhline(-0.8, color="k", ls="--", lw=0.8)
    axes[1].set(title="variational circuit: ⟨O⟩ during training", xlabel="Adam step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"\npicture: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The parameter-shift rule, checked.")
    parser.add_argument("--fast", action="store_true", help="fewer circuits and steps (for CI)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for quantum_parameter_shift.png")
    args = parser.parse_args(argv)
    agreement_chapter(n_circuits=6 if args.fast else 30)
    curves = controlled_chapter()
    fit = variational_chapter(steps=100 if args.fast else 200)
    args.out.mkdir(parents=True, exist_ok=True)
    draw(args.out / "quantum_parameter_shift.png", curves, fit)


if __name__ == "__main__":
    main()
