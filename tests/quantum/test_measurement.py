"""Measurement recipes: bases, rotations, exact sampling, and honest shot-noise estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit.quantum_info import Operator, Pauli, SparsePauliOp, Statevector

from qlat.core.errors import ParameterError
from qlat.quantum.measurement import (
    basis_rotation,
    estimate_from_samples,
    measurement_bases,
    measurement_probabilities,
    sample_bitstrings_from_statevector,
)
from qlat.quantum.observables import condensate_operator
from qlat.theories.schwinger_qubit import FORMULATIONS, SchwingerModel


def _ground_state(model: SchwingerModel) -> np.ndarray:
    _, vecs = np.linalg.eigh(model.hamiltonian().to_matrix())
    return vecs[:, 0]


def _expectation(op: SparsePauliOp, state: np.ndarray) -> float:
    return float(np.real(np.vdot(state, op.to_matrix() @ state)))


def _samples(state, bases, shots, seed):
    rng = np.random.default_rng(seed)
    return {b: sample_bitstrings_from_statevector(state, b, shots, rng=rng) for b in bases}


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("n_sites", (2, 4, 6, 10))
def test_schwinger_energy_needs_three_bases(n_sites, formulation):
    model = SchwingerModel(n_sites, spacing=0.5, mass=0.3, theta=0.7, formulation=formulation)
    assert measurement_bases(model.hamiltonian()) == ["Z" * n_sites, "X" * n_sites, "Y" * n_sites]
    assert measurement_bases(condensate_operator(model)) == ["Z" * n_sites]


def test_measurement_bases_of_general_operators():
    assert measurement_bases(SparsePauliOp(["III"], [2.0])) == []
    # qubit-wise commuting non-diagonal terms share a basis; free qubits are measured in Z
    assert measurement_bases(SparsePauliOp(["IXI", "XXI"])) == ["XXZ"]
    op = SparsePauliOp(["XIZ", "IYZ", "ZZI", "III", "YII"])
    bases = measurement_bases(op)
    assert bases[0] == "ZZZ"
    for lab in op.paulis.to_labels():  # every term is diagonal in at least one basis
        assert any(all(c in ("I", b) for c, b in zip(lab, basis)) for basis in bases)
    # XIZ and IYZ agree where both act (Z on qubit 0) and share "XYZ"; YII clashes with X on qubit 2
    assert bases == ["ZZZ", "XYZ", "YZZ"]


@pytest.mark.parametrize("basis", ["X", "Y", "Z", "XYZI", "YYXZ"])
def test_basis_rotation_maps_the_basis_to_z(basis):
    u = Operator(basis_rotation(basis)).data
    z_label = "".join("I" if c == "I" else "Z" for c in basis)
    np.testing.assert_allclose(u @ Pauli(basis).to_matrix() @ u.conj().T, Pauli(z_label).to_matrix(), atol=1e-12)


def test_measurement_probabilities_match_qiskit():
    rng = np.random.default_rng(0)
    state = rng.normal(size=16) + 1j * rng.normal(size=16)
    state /= np.linalg.norm(state)
    for basis in ("ZZZZ", "XYZX", "YIXY"):
        expected = Statevector(state).evolve(basis_rotation(basis)).probabilities()
        np.testing.assert_allclose(measurement_probabilities(state, basis), expected, atol=1e-12)


def test_sampled_bits_are_little_endian_and_rotated():
    rng = np.random.default_rng(1)
    state = np.zeros(8, dtype=complex)
    state[0b010] = 1.0  # qubit 1 in |1⟩
    bits = sample_bitstrings_from_statevector(state, "ZZZ", 5, rng=rng)
    np.testing.assert_array_equal(bits, np.tile([0, 1, 0], (5, 1)))
    plus = np.full(8, 1 / math.sqrt(8), dtype=complex)  # |+++⟩
    assert not sample_bitstrings_from_statevector(plus, "XXX", 20, rng=rng).any()
    plus_i = np.array([1, 1j]) / math.sqrt(2)  # +1 eigenstate of Y
    minus_i = np.array([1, -1j]) / math.sqrt(2)
    assert not sample_bitstrings_from_statevector(plus_i, "Y", 20, rng=rng).any()
    assert sample_bitstrings_from_statevector(minus_i, "Y", 20, rng=rng).all()


def test_eigenstate_of_a_diagonal_operator_is_estimated_exactly():
    model = SchwingerModel(4, spacing=0.5, mass=0.3)
    op = condensate_operator(model) + SparsePauliOp("IIII", 0.25)
    state = np.zeros(16, dtype=complex)
    state[0b0101] = 1.0
    value, error = estimate_from_samples(op, _samples(state, ["ZZZZ"], 50, seed=2))
    assert value == pytest.approx(_expectation(op, state), abs=1e-12)
    assert error == 0.0


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_ground_state_estimates_agree_with_exact(formulation):
    model = SchwingerModel(6, spacing=0.6, mass=0.2, theta=1.0, formulation=formulation)
    state = _ground_state(model)
    energy_op = model.hamiltonian()
    samples = _samples(state, measurement_bases(energy_op), 4000, seed=3)
    for op in (energy_op, condensate_operator(model)):  # the condensate reads the Z…Z shots
        value, error = estimate_from_samples(op, samples)
        assert error > 0
        assert abs(value - _expectation(op, state)) / error < 4


def test_z_scores_are_standard_normal():
    """Over 200 seeds the z-scores of energy and condensate have mean ≈ 0 and spread ≈ 1.

    For 200 independent standard normal z's, the sample mean has σ = 0.071 and the sample
    standard deviation σ ≈ 0.05; the bounds below are about 4σ.
    """
    model = SchwingerModel(4, spacing=0.5, mass=0.3, theta=0.5)
    state = _ground_state(model)
    ops = {"energy": model.hamiltonian(), "condensate": condensate_operator(model)}
    exact = {k: _expectation(op, state) for k, op in ops.items()}
    bases = measurement_bases(ops["energy"])
    z = {k: [] for k in ops}
    for seed in range(200):
        samples = _samples(state, bases, 200, seed=1000 + seed)
        for k, op in ops.items():
            value, error = estimate_from_samples(op, samples)
            z[k].append((value - exact[k]) / error)
    for k in ops:
        zs = np.array(z[k])
        assert abs(zs.mean()) < 0.3, k
        assert abs(zs.std(ddof=1) - 1.0) < 0.2, k


def test_missing_basis_and_bad_samples_raise():
    model = SchwingerModel(4, spacing=0.5, mass=0.3)
    op = model.hamiltonian()
    state = _ground_state(model)
    samples = _samples(state, ["ZZZZ", "YYYY"], 10, seed=4)
    with pytest.raises(ParameterError, match="XXXX"):
        estimate_from_samples(op, samples)
    with pytest.raises(ParameterError, match="shape"):
        estimate_from_samples(op, {"ZZZZ": np.zeros((10, 3), dtype=int)})
    with pytest.raises(ParameterError, match="shape"):
        estimate_from_samples(op, {"ZZZZ": np.zeros((1, 4), dtype=int)})
    with pytest.raises(ParameterError, match="Hermitian"):
        estimate_from_samples(SparsePauliOp("ZZZZ", 1j), samples)
    with pytest.raises(ParameterError, match="normalized"):
        sample_bitstrings_from_statevector(2 * state, "ZZZZ", 10, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match="basis"):
        sample_bitstrings_from_statevector(state, "ZZZ", 10, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match="shots"):
        sample_bitstrings_from_statevector(state, "ZZZZ", 0, rng=np.random.default_rng(0))
