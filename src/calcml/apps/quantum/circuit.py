"""A parameterized circuit: a list of gates, some of them rotations by entries of a parameter vector.

>>> circuit = Circuit(2).ry(0).crx(0, 1).cnot(0, 1)      # parameters 0 and 1, numbered in order
>>> float(circuit.expectation([0.3, 1.2], "ZZ"))          # ⟨ψ(θ)|Z⊗Z|ψ(θ)⟩, differentiable by cm.grad
0.9857603293165479
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from calcml.apps.quantum.statevector import (
    CNOT,
    HADAMARD,
    QuantumCircuitError,
    State,
    apply_gate,
    check_wires,
    controlled,
    expectation,
    rotation,
    zero_state,
)

ROTATIONS = ("RX", "RY", "RZ")
CONTROLLED_ROTATIONS = ("CRX", "CRY", "CRZ")
FIXED_GATES = {"H": HADAMARD, "CNOT": CNOT}


@dataclass(frozen=True)
class Operation:
    """One gate: ``name`` (RX, CRY, CNOT, H, ...), the ``wires`` it acts on, and the index of its
    angle in the parameter vector (None for fixed gates)."""

    name: str
    wires: tuple[int, ...]
    param: int | None = None


class Circuit:
    """Gates applied in order to |0…0⟩ on ``n_qubits`` qubits (1 to 3).

    Each builder method returns the circuit, so calls chain. A rotation takes the next free parameter
    index unless ``param=`` names one (several gates may share a parameter).
    """

    def __init__(self, n_qubits: int):
        zero_state(n_qubits)  # validates n_qubits
        self.n_qubits = n_qubits
        self.operations: list[Operation] = []

    @property
    def n_params(self) -> int:
        indices = [op.param for op in self.operations if op.param is not None]
        return max(indices) + 1 if indices else 0

    def add(self, name: str, wires: tuple[int, ...], param: int | None = None) -> Circuit:
        """Append the gate ``name`` on ``wires``; rotations get a parameter index."""
        arity = 2 if name in CONTROLLED_ROTATIONS or name == "CNOT" else 1
        if name not in ROTATIONS + CONTROLLED_ROTATIONS + tuple(FIXED_GATES):
            raise QuantumCircuitError(f"unknown gate {name!r}; known: {', '.join(ROTATIONS + CONTROLLED_ROTATIONS)}, "
                                      "H, CNOT.")
        if len(wires) != arity:
            raise QuantumCircuitError(f"{name} acts on {arity} wire(s), got wires={wires}.")
        check_wires(wires, self.n_qubits, name)
        if name in FIXED_GATES:
            param = None
        elif param is None:
            param = self.n_params
        self.operations.append(Operation(name, tuple(wires), param))
        return self

    def rx(self, wire: int, param: int | None = None) -> Circuit:
        return self.add("RX", (wire,), param)

    def ry(self, wire: int, param: int | None = None) -> Circuit:
        return self.add("RY", (wire,), param)

    def rz(self, wire: int, param: int | None = None) -> Circuit:
        return self.add("RZ", (wire,), param)

    def crx(self, control: int, target: int, param: int | None = None) -> Circuit:
        return self.add("CRX", (control, target), param)

    def cry(self, control: int, target: int, param: int | None = None) -> Circuit:
        return self.add("CRY", (control, target), param)

    def crz(self, control: int, target: int, param: int | None = None) -> Circuit:
        return self.add("CRZ", (control, target), param)

    def cnot(self, control: int, target: int) -> Circuit:
        return self.add("CNOT", (control, target))

    def h(self, wire: int) -> Circuit:
        return self.add("H", (wire,))

    def state(self, params: Any, shift: tuple[int, float] | None = None) -> State:
        """The final state ψ(θ). ``shift=(k, s)`` adds s to the angle of operation k only (parameter shift)."""
        if np.shape(params) != (self.n_params,):
            raise QuantumCircuitError(f"this circuit has {self.n_params} parameter(s); got params of shape "
                                      f"{np.shape(params)}.")
        psi = zero_state(self.n_qubits)
        for k, op in enumerate(self.operations):
            if op.name in FIXED_GATES:
                gate = FIXED_GATES[op.name]
            else:
                theta = params[op.param]
                if shift is not None and shift[0] == k:
                    theta = theta + shift[1]
                gate = rotation(op.name[-1], theta)
                if op.name in CONTROLLED_ROTATIONS:
                    gate = controlled(gate)
            psi = apply_gate(psi, gate, op.wires)
        return psi

    def expectation(self, params: Any, observable: str | dict[str, float],
                    shift: tuple[int, float] | None = None) -> Any:
        """⟨ψ(θ)|O|ψ(θ)⟩; traced when ``params`` is a Tensor (so ``cm.grad`` differentiates it)."""
        return expectation(self.state(params, shift), observable)

    def __repr__(self) -> str:
        gates = ", ".join(f"{op.name}{op.wires}" + ("" if op.param is None else f"[θ{op.param}]")
                          for op in self.operations)
        return f"Circuit(n_qubits={self.n_qubits}: {gates})"


def random_circuit(n_qubits: int, n_gates: int, rng: Any = None,
                   gates: tuple[str, ...] = ROTATIONS + CONTROLLED_ROTATIONS + ("CNOT", "H")) -> Circuit:
    """A circuit of ``n_gates`` gates drawn uniformly from ``gates`` on random wires (for tests and demos)."""
    rng = np.random.default_rng(rng)
    circuit = Circuit(n_qubits)
    for _ in range(n_gates):
        options = [g for g in gates if n_qubits > 1 or g in ROTATIONS + ("H",)]
        name = options[rng.integers(len(options))]
        two = name in CONTROLLED_ROTATIONS or name == "CNOT"
        wires = tuple(int(w) for w in rng.choice(n_qubits, size=2 if two else 1, replace=False))
        circuit.add(name, wires)
    return circuit
