"""A statevector simulator for a few qubits, in real arithmetic so that calcml differentiates it.

An n-qubit state is a unit vector ψ ∈ ℂ^(2ⁿ), stored as a tensor of shape (2,)*n (axis k = qubit k).
calcml's engine works with real numbers, so ψ = ψ_re + i ψ_im is kept as two real arrays and a gate
U = A + iB acts by the complex product written out:

    U ψ = (A ψ_re − B ψ_im) + i (A ψ_im + B ψ_re).

A rotation about a Pauli axis P is R_P(θ) = e^{−iθP/2} = cos(θ/2) I − i sin(θ/2) P; with P = P_re + i P_im
that is A = cos(θ/2) I + sin(θ/2) P_im and B = −sin(θ/2) P_re. Every entry is a traced function of θ, so
``cm.grad`` of an expectation ⟨ψ(θ)|O|ψ(θ)⟩ is exact backpropagation through the circuit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.autodiff.errors import CalcmlError

MAX_QUBITS = 3
IN_LETTERS, OUT_LETTERS = "abc", "ABC"


class QuantumCircuitError(CalcmlError, ValueError):
    """A gate, wire, observable or parameter that does not fit the circuit."""


@dataclass(frozen=True)
class State:
    """ψ = real + i·imag, each of shape (2,)*n_qubits (NumPy arrays or calcml Tensors)."""

    real: Any
    imag: Any

    @property
    def n_qubits(self) -> int:
        return np.ndim(self.real)

    def amplitudes(self) -> np.ndarray:
        """ψ as a complex vector of length 2ⁿ (|q₀q₁…⟩ in binary order, qubit 0 most significant)."""
        return (np.asarray(self.real) + 1j * np.asarray(self.imag)).reshape(-1)

    def probabilities(self) -> Any:
        """|ψ|², shape (2,)*n: the Born-rule probabilities of each basis state."""
        return self.real**2 + self.imag**2


@dataclass(frozen=True)
class Gate:
    """U = real + i·imag on k qubits, shape (2,)*2k: output indices first, then input indices."""

    real: Any
    imag: Any = None  # None for real gates (RY, CNOT, H): saves half the arithmetic

    @property
    def n_qubits(self) -> int:
        return np.ndim(self.real) // 2


def zero_state(n_qubits: int) -> State:
    """|0…0⟩ on ``n_qubits`` qubits (1 to 3)."""
    if not 1 <= n_qubits <= MAX_QUBITS:
        raise QuantumCircuitError(f"this simulator handles 1 to {MAX_QUBITS} qubits, got n_qubits={n_qubits}.")
    real = np.zeros((2,) * n_qubits)
    real[(0,) * n_qubits] = 1.0
    return State(real, np.zeros_like(real))


# ---- gates ----------------------------------------------------------------------------------------
IDENTITY = np.eye(2)
PAULI = {  # (real part, imaginary part)
    "I": (IDENTITY, np.zeros((2, 2))),
    "X": (np.array([[0.0, 1.0], [1.0, 0.0]]), np.zeros((2, 2))),
    "Y": (np.zeros((2, 2)), np.array([[0.0, -1.0], [1.0, 0.0]])),
    "Z": (np.array([[1.0, 0.0], [0.0, -1.0]]), np.zeros((2, 2))),
}
PROJECTOR_0 = np.array([[1.0, 0.0], [0.0, 0.0]])  # |0⟩⟨0|
PROJECTOR_1 = np.array([[0.0, 0.0], [0.0, 1.0]])  # |1⟩⟨1|


def pauli_gate(axis: str) -> Gate:
    """The Pauli matrix X, Y or Z (or I) as a one-qubit gate."""
    real, imag = PAULI[axis]
    return Gate(real, imag if axis == "Y" else None)


def rotation(axis: str, theta: Any) -> Gate:
    """R_P(θ) = e^{−iθP/2} = cos(θ/2) I − i sin(θ/2) P for P = X, Y or Z; θ may be a traced Tensor.

    RX(θ) = [[c, −is], [−is, c]],  RY(θ) = [[c, −s], [s, c]],  RZ(θ) = diag(e^{−iθ/2}, e^{iθ/2}).
    """
    if axis not in ("X", "Y", "Z"):
        raise QuantumCircuitError(f"rotation axis must be 'X', 'Y' or 'Z', got {axis!r}.")
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    p_real, p_imag = PAULI[axis]
    real = c * IDENTITY + s * p_imag
    return Gate(real, None if axis == "Y" else -s * p_real)


def controlled(gate: Gate) -> Gate:
    """C-U = |0⟩⟨0| ⊗ I + |1⟩⟨1| ⊗ U: U acts on the target only when the control is |1⟩."""
    outer = "ac,bd->abcd"  # (control out, target out, control in, target in)
    real = np.einsum(outer, PROJECTOR_0, IDENTITY) + np.einsum(outer, PROJECTOR_1, gate.real)
    imag = None if gate.imag is None else np.einsum(outer, PROJECTOR_1, gate.imag)
    return Gate(real, imag)


CNOT = controlled(pauli_gate("X"))
HADAMARD = Gate(np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2.0))


# ---- applying gates and measuring -----------------------------------------------------------------
def check_wires(wires: tuple[int, ...], n_qubits: int, what: str) -> None:
    if len(set(wires)) != len(wires) or not all(0 <= w < n_qubits for w in wires):
        raise QuantumCircuitError(f"{what}: wires {wires} must be distinct qubits in 0..{n_qubits - 1}.")


def apply_gate(state: State, gate: Gate, wires: tuple[int, ...]) -> State:
    """U ψ with U acting on ``wires`` (in order: for a controlled gate, (control, target)).

    One einsum per real product: for gate indices "Aa" on wire 0 of a 2-qubit state "ab",
    (Uψ)_{Ab} = Σ_a U_{Aa} ψ_{ab}.
    """
    n = state.n_qubits
    check_wires(wires, n, "apply_gate")
    if len(wires) != gate.n_qubits:
        raise QuantumCircuitError(f"apply_gate: a {gate.n_qubits}-qubit gate was given wires {wires}.")
    letters = IN_LETTERS[:n]
    out = "".join(OUT_LETTERS[i] if i in wires else letters[i] for i in range(n))
    spec = "".join(OUT_LETTERS[w] for w in wires) + "".join(letters[w] for w in wires) + f",{letters}->{out}"

    def times(matrix, vector):
        return np.einsum(spec, matrix, vector)

    if gate.imag is None:
        return State(times(gate.real, state.real), times(gate.real, state.imag))
    return State(times(gate.real, state.real) - times(gate.imag, state.imag),
                 times(gate.real, state.imag) + times(gate.imag, state.real))


def inner_real(left: State, right: State) -> Any:
    """Re⟨left|right⟩ = Σ left_re·right_re + left_im·right_im."""
    return np.sum(left.real * right.real) + np.sum(left.imag * right.imag)


def pauli_expectation(state: State, pauli: str) -> Any:
    """⟨ψ|P|ψ⟩ for a Pauli string such as "ZI" or "XZY" (one letter per qubit, qubit 0 first).

    P is Hermitian, so ⟨ψ|P|ψ⟩ is real and equals Re⟨ψ|Pψ⟩.
    """
    if len(pauli) != state.n_qubits or set(pauli) - set(PAULI):
        raise QuantumCircuitError(f"Pauli string {pauli!r} must have one letter of I, X, Y, Z per qubit "
                                  f"({state.n_qubits} qubits).")
    if set(pauli) <= {"I", "Z"}:  # diagonal: Σ |ψ_k|² (±1) without applying any gate
        signs = np.ones((2,) * state.n_qubits)
        for wire, letter in enumerate(pauli):
            if letter == "Z":
                signs = signs * np.array([1.0, -1.0]).reshape((2,) + (1,) * (state.n_qubits - wire - 1))
        return np.sum(signs * state.probabilities())
    image = state
    for wire, letter in enumerate(pauli):
        if letter != "I":
            image = apply_gate(image, pauli_gate(letter), (wire,))
    return inner_real(state, image)


def observable_terms(observable: str | dict[str, float]) -> dict[str, float]:
    """An observable as {Pauli string: coefficient}; a single string means coefficient 1."""
    if isinstance(observable, str):
        return {observable: 1.0}
    if not observable:
        raise QuantumCircuitError("an observable needs at least one Pauli term, e.g. {'ZZ': 1.0, 'XI': 0.5}.")
    return dict(observable)


def expectation(state: State, observable: str | dict[str, float]) -> Any:
    """⟨ψ|O|ψ⟩ for O = Σ_k c_k P_k, given as a Pauli string ("ZI") or a dict {"ZZ": 1.0, "XI": 0.5}."""
    terms = observable_terms(observable)
    return sum(coefficient * pauli_expectation(state, pauli) for pauli, coefficient in terms.items())


def observable_matrix(observable: str | dict[str, float], n_qubits: int) -> np.ndarray:
    """O as a dense complex 2ⁿ × 2ⁿ matrix (Kronecker products of Paulis): for eigenvalues and checks."""
    matrix = np.zeros((2**n_qubits, 2**n_qubits), dtype=complex)
    for pauli, coefficient in observable_terms(observable).items():
        term = np.ones((1, 1), dtype=complex)
        for letter in pauli:
            real, imag = PAULI[letter]
            term = np.kron(term, real + 1j * imag)
        matrix += coefficient * term
    return matrix
