"""The parameter-shift rule: exact gradients of a circuit from the circuit itself, run at shifted angles.

A gate e^{−iθG} whose generator G has eigenvalues ±r makes f(θ) = ⟨O⟩ a sinusoid a + b cos(2rθ) + c sin(2rθ),
so its derivative is an exact finite difference with a large step (no h → 0 limit):

    RX, RY, RZ  (G = P/2, r = ½):   f′(θ) = [f(θ + π/2) − f(θ − π/2)] / 2.

A controlled rotation has G = |1⟩⟨1| ⊗ P/2 with eigenvalues {0, ±½}: two frequencies (½ and 1), so f has
four unknowns beyond its mean and needs four evaluations (Anselmetti et al. 2021; Wierichs et al. 2022):

    CRX, CRY, CRZ:  f′(θ) = d₊ [f(θ + π/2) − f(θ − π/2)] − d₋ [f(θ + 3π/2) − f(θ − 3π/2)],
                    d± = (√2 ± 1) / (4√2).

The two-term rule applied to a controlled rotation is exact only for the frequency-1 part: it is wrong
whenever the control qubit interferes with itself (see ``naive_two_term_error_example``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcml.apps.quantum.circuit import CONTROLLED_ROTATIONS, Circuit

D_PLUS = (np.sqrt(2.0) + 1) / (4 * np.sqrt(2.0))
D_MINUS = (np.sqrt(2.0) - 1) / (4 * np.sqrt(2.0))
SHIFT_RULES = {  # [(coefficient, shift)]: f′(θ) = Σ coefficient · f(θ + shift)
    "two_term": ((0.5, np.pi / 2), (-0.5, -np.pi / 2)),
    "four_term": ((D_PLUS, np.pi / 2), (-D_PLUS, -np.pi / 2), (-D_MINUS, 3 * np.pi / 2), (D_MINUS, -3 * np.pi / 2)),
}


def parameter_shift_gradient(circuit: Circuit, params: Any, observable: str | dict[str, float],
                             controlled_rule: str = "four_term") -> np.ndarray:
    """∇_θ ⟨O⟩ by the parameter-shift rule: 2 circuit runs per rotation, 4 per controlled rotation.

    A parameter shared by several gates gets the sum of their shifts' contributions (the product rule).
    ``controlled_rule="two_term"`` uses the (wrong) two-term rule on controlled rotations, for comparison.
    """
    if controlled_rule not in SHIFT_RULES:
        raise ValueError(f"controlled_rule must be one of {sorted(SHIFT_RULES)}, got {controlled_rule!r}.")
    params = np.asarray(params, dtype=float)
    gradient = np.zeros_like(params)
    for k, op in enumerate(circuit.operations):
        if op.param is None:
            continue
        rule = SHIFT_RULES[controlled_rule if op.name in CONTROLLED_ROTATIONS else "two_term"]
        gradient[op.param] += sum(c * circuit.expectation(params, observable, shift=(k, s)) for c, s in rule)
    return gradient


def naive_two_term_error_example(theta: float) -> dict[str, float]:
    """A circuit on which the two-term rule for CRX is provably wrong, with the exact answer in closed form.

    H on the control, CRX(θ) onto the target, measure X on the control: the state is
    (|0⟩|0⟩ + |1⟩RX(θ)|0⟩)/√2, so ⟨X ⊗ I⟩ = Re⟨0|RX(θ)|0⟩ = cos(θ/2) and f′(θ) = −½ sin(θ/2).
    The two-term rule gives [cos(θ/2 + π/4) − cos(θ/2 − π/4)]/2 = −(1/√2) sin(θ/2): √2 times too large.
    """
    circuit = Circuit(2).h(0).crx(0, 1)
    params = np.array([theta])
    return {
        "exact": -0.5 * np.sin(theta / 2),
        "four_term": parameter_shift_gradient(circuit, params, "XI")[0],
        "two_term": parameter_shift_gradient(circuit, params, "XI", controlled_rule="two_term")[0],
    }
