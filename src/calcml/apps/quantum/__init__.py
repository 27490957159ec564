"""Quantum machine learning: a differentiable statevector simulator and the parameter-shift rule."""

from calcml.apps.quantum.circuit import Circuit, Operation, random_circuit
from calcml.apps.quantum.parameter_shift import SHIFT_RULES, naive_two_term_error_example, parameter_shift_gradient
from calcml.apps.quantum.statevector import (
    CNOT,
    HADAMARD,
    Gate,
    QuantumCircuitError,
    State,
    apply_gate,
    controlled,
    expectation,
    observable_matrix,
    pauli_expectation,
    rotation,
    zero_state,
)
from calcml.apps.quantum.variational import VariationalFit, fit_expectation

__all__ = [
    "CNOT", "HADAMARD", "SHIFT_RULES", "Circuit", "Gate", "Operation", "QuantumCircuitError", "State",
    "VariationalFit", "apply_gate", "controlled", "expectation", "fit_expectation", "naive_two_term_error_example",
    "observable_matrix", "parameter_shift_gradient", "pauli_expectation", "random_circuit", "rotation", "zero_state",
]
