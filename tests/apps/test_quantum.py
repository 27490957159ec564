"""The statevector simulator against an independent complex reference (PyTorch's complex autograd),
and the parameter-shift rule against the engine and finite differences."""

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import calcml as cm
from calcml.apps.quantum import (
    Circuit,
    QuantumCircuitError,
    controlled,
    fit_expectation,
    naive_two_term_error_example,
    observable_matrix,
    parameter_shift_gradient,
    random_circuit,
    rotation,
)

PAULI_COMPLEX = {"X": np.array([[0, 1], [1, 0]], dtype=complex), "Y": np.array([[0, -1j], [1j, 0]]),
                 "Z": np.diag([1.0, -1.0]).astype(complex)}


def as_complex(gate):
    imag = 0 if gate.imag is None else np.asarray(gate.imag)
    matrix = np.asarray(gate.real) + 1j * imag
    k = 2 ** (matrix.ndim // 2)
    return matrix.reshape(k, k)


def five_point_derivative(f, x, h=1e-3):
    """f′ with error O(h⁴): about 1e-13 here, far below the 1e-10 being tested."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return grad


# ---- an independent simulator: dense complex matrices in PyTorch ----------------------------------
def torch_gate(name, theta):
    eye = torch.eye(2, dtype=torch.complex128)
    if name in ("H", "CNOT"):
        base = (torch.tensor([[1, 1], [1, -1]], dtype=torch.complex128) / np.sqrt(2) if name == "H"
                else torch.tensor(PAULI_COMPLEX["X"]))
    else:
        pauli = torch.tensor(PAULI_COMPLEX[name[-1]])
        base = torch.cos(theta / 2) * eye - 1j * torch.sin(theta / 2) * pauli
    if name.startswith("C"):
        p0 = torch.tensor([[1, 0], [0, 0]], dtype=torch.complex128)
        p1 = torch.tensor([[0, 0], [0, 1]], dtype=torch.complex128)
        return torch.kron(p0, eye) + torch.kron(p1, base)
    return base


def embed(gate, wires, n):
    """The 2ⁿ×2ⁿ matrix of ``gate`` on ``wires`` (qubit 0 most significant), by permuting a Kronecker product."""
    k = len(wires)
    full = gate
    for _ in range(n - k):
        full = torch.kron(full, torch.eye(2, dtype=torch.complex128))
    order = list(wires) + [q for q in range(n) if q not in wires]  # full acts on qubits in this order
    inverse = np.argsort(order)
    full = full.reshape((2,) * 2 * n)
    full = full.permute(*inverse, *(n + inverse))
    return full.reshape(2**n, 2**n)


def torch_expectation(circuit, params, observable):
    n = circuit.n_qubits
    psi = torch.zeros(2**n, dtype=torch.complex128)
    psi[0] = 1
    for op in circuit.operations:
        theta = None if op.param is None else params[op.param].to(torch.complex128)
        psi = embed(torch_gate(op.name, theta), op.wires, n) @ psi
    matrix = torch.tensor(observable_matrix(observable, n))
    return torch.real(torch.vdot(psi, matrix @ psi))


def random_observable(n, rng):
    return {"".join(rng.choice(list("IXYZ"), size=n)): float(rng.standard_normal()) for _ in range(3)}


def random_case(n_qubits, n_gates, seed):
    rng = np.random.default_rng(seed)
    circuit = random_circuit(n_qubits, n_gates, rng=rng)
    if circuit.n_params == 0:
        circuit.ry(0)
    return circuit, rng.uniform(-np.pi, np.pi, circuit.n_params), random_observable(n_qubits, rng)


# ---- gates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", ["X", "Y", "Z"])
def test_rotations_are_matrix_exponentials_of_paulis(axis):
    theta = 0.83
    expected = scipy.linalg.expm(-0.5j * theta * PAULI_COMPLEX[axis])
    np.testing.assert_allclose(as_complex(rotation(axis, theta)), expected, atol=1e-14)
    np.testing.assert_allclose(as_complex(controlled(rotation(axis, theta))),
                               scipy.linalg.block_diag(np.eye(2), expected), atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(n_qubits=st.integers(1, 3), n_gates=st.integers(1, 10), seed=st.integers(0, 2**16))
def test_simulator_matches_dense_complex_reference(n_qubits, n_gates, seed):
    circuit, params, observable = random_case(n_qubits, n_gates, seed)
    amplitudes = circuit.state(params).amplitudes()
    assert np.linalg.norm(amplitudes) == pytest.approx(1.0, abs=1e-12)
    reference = torch_expectation(circuit, torch.tensor(params), observable).item()
    assert circuit.expectation(params, observable) == pytest.approx(reference, abs=1e-12)


# ---- gradients ------------------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(n_qubits=st.integers(1, 3), n_gates=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_parameter_shift_equals_engine_torch_and_finite_differences(n_qubits, n_gates, seed):
    circuit, params, observable = random_case(n_qubits, n_gates, seed)
    engine = cm.grad(lambda p: circuit.expectation(p, observable))(params)
    shift = parameter_shift_gradient(circuit, params, observable)
    numeric = five_point_derivative(lambda p: circuit.expectation(p, observable), params)
    theta = torch.tensor(params, requires_grad=True)
    torch_expectation(circuit, theta, observable).backward()
    np.testing.assert_allclose(shift, engine, rtol=0, atol=1e-10)
    np.testing.assert_allclose(numeric, engine, rtol=0, atol=1e-10)
    np.testing.assert_allclose(theta.grad.numpy(), engine, rtol=0, atol=1e-10)


@pytest.mark.parametrize("gate", ["CRX", "CRY", "CRZ"])
def test_four_term_rule_is_exact_on_each_controlled_rotation(gate):
    rng = np.random.default_rng(7)
    circuit = Circuit(3).h(0).ry(1).rx(2).cnot(1, 2).add(gate, (0, 1)).add(gate, (2, 0)).ry(1).cnot(0, 2)
    for _ in range(5):
        params = rng.uniform(-np.pi, np.pi, circuit.n_params)
        observable = random_observable(3, rng)
        engine = cm.grad(lambda p: circuit.expectation(p, observable))(params)
        np.testing.assert_allclose(parameter_shift_gradient(circuit, params, observable), engine, atol=1e-10)


def test_two_term_rule_on_crx_is_wrong_by_sqrt_two_in_closed_form():
    for theta in (0.3, 1.1, 2.5):
        result = naive_two_term_error_example(theta)
        engine = cm.grad(lambda p: Circuit(2).h(0).crx(0, 1).expectation(p, "XI"))(np.array([theta]))[0]
        assert engine == pytest.approx(result["exact"], abs=1e-12)
        assert result["four_term"] == pytest.approx(result["exact"], abs=1e-12)
        assert result["two_term"] == pytest.approx(np.sqrt(2) * result["exact"], abs=1e-12)
        assert abs(result["two_term"] - engine) > 0.02


def test_two_term_rule_is_wrong_on_random_circuits_with_controlled_rotations():
    errors = []
    for seed in range(5):
        circuit, params, observable = random_case(3, 10, seed)
        circuit.h(0).crx(0, 1)
        params = np.append(params, 0.9)
        engine = cm.grad(lambda p: circuit.expectation(p, observable))(params)
        naive = parameter_shift_gradient(circuit, params, observable, controlled_rule="two_term")
        errors.append(np.max(np.abs(naive - engine)))
    assert max(errors) > 1e-2


def test_shared_parameter_gets_the_sum_of_its_gates_contributions():
    circuit = Circuit(2).ry(0, param=0).crz(0, 1, param=0).rx(1, param=0).cry(1, 0, param=1)
    params = np.array([0.4, -1.3])
    engine = cm.grad(lambda p: circuit.expectation(p, {"XY": 1.0, "ZI": 0.3}))(params)
    np.testing.assert_allclose(parameter_shift_gradient(circuit, params, {"XY": 1.0, "ZI": 0.3}), engine, atol=1e-12)


def test_float_and_tensor_params_give_the_same_expectation():
    circuit = Circuit(2).rx(0).cry(0, 1).rz(1)
    params = np.array([0.1, 0.2, 0.3])
    value = circuit.expectation(cm.Tensor(params, requires_grad=True), "YZ")
    assert value.item() == pytest.approx(circuit.expectation(params, "YZ"), abs=1e-15)


# ---- training -------------------------------------------------------------------------------------
@pytest.mark.parametrize("gradient", ["parameter_shift", "engine"])
def test_variational_circuit_reaches_its_target(gradient):
    circuit = Circuit(2).ry(0).ry(1).cnot(0, 1).cry(0, 1).rx(0)
    observable = {"ZZ": 1.0, "XI": 0.5}
    fit = fit_expectation(circuit, observable, -0.8, np.full(circuit.n_params, 0.1), steps=200, lr=0.1,
                          gradient=gradient)
    assert abs(fit.expectations[0] + 0.8) > 1.5  # it starts far away
    assert fit.final == pytest.approx(-0.8, abs=1e-3)
    assert circuit.expectation(fit.params, observable) == pytest.approx(fit.final)


def test_variational_target_outside_the_spectrum_ends_at_the_nearest_eigenvalue():
    circuit = Circuit(1).ry(0).rz(0)
    lowest = np.linalg.eigvalsh(observable_matrix({"Z": 1.0, "X": 1.0}, 1))[0]  # −√2
    fit = fit_expectation(circuit, {"Z": 1.0, "X": 1.0}, -5.0, np.array([0.2, 0.1]), steps=300, lr=0.05)
    assert fit.final == pytest.approx(lowest, abs=1e-3)


# ---- errors ---------------------------------------------------------------------------------------
def test_bad_circuits_raise_clear_errors():
    with pytest.raises(QuantumCircuitError, match="1 to 3 qubits"):
        Circuit(4)
    with pytest.raises(QuantumCircuitError, match="distinct qubits"):
        Circuit(2).crx(0, 0)
    with pytest.raises(QuantumCircuitError, match="distinct qubits"):
        Circuit(2).rx(2)
    with pytest.raises(QuantumCircuitError, match="unknown gate"):
        Circuit(2).add("SWAP", (0, 1))
    with pytest.raises(QuantumCircuitError, match="one letter of I, X, Y, Z per qubit"):
        Circuit(2).ry(0).expectation(np.array([0.1]), "Z")
    with pytest.raises(QuantumCircuitError, match="1 parameter"):
        Circuit(2).ry(0).expectation(np.array([0.1, 0.2]), "ZZ")
