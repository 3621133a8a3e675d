"""The OpenFermion construction of H equals the direct Pauli construction of schwinger.py.

Checks are on whole matrices and on asymmetric product states, never only on spectra
(a qubit relabelling or a sign flip of the hopping leaves the spectrum unchanged).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse.linalg as sla
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError
from qlat.theories.schwinger_qubit import FORMULATIONS, SchwingerModel
from tests.oracles.fermionic import (
    fermionic_hamiltonian,
    jordan_wigner_hamiltonian,
    qubit_operator_to_sparse_pauli_op,
)

SIZES = (2, 4, 6, 8, 10, 12)


def _random_model(n_sites: int, formulation: str, mass_shift: bool, seed: int) -> SchwingerModel:
    rng = np.random.default_rng(seed)
    return SchwingerModel(
        n_sites=n_sites,
        spacing=float(rng.uniform(0.2, 1.5)),
        mass=float(rng.uniform(-0.5, 2.0)),
        theta=float(rng.uniform(-math.pi, 2 * math.pi)),
        formulation=formulation,
        mass_shift=mass_shift,
    )


def _reverse_qubits(op: SparsePauliOp) -> SparsePauliOp:
    return SparsePauliOp([label[::-1] for label in op.paulis.to_labels()], op.coeffs)


def _hand_diagonal(model: SchwingerModel, occupation: np.ndarray) -> float:
    """⟨b|H|b⟩ from occupations: charges → links → electric + mass energy (hopping has no diagonal)."""
    n = np.arange(model.n_sites)
    sign = (-1.0) ** n
    m, offset = model.mass, model.mass_offset
    if model.formulation == "rotated":
        mu, vartheta = m * math.cos(model.theta) - offset, 0.0
    else:
        mu, vartheta = m - offset, model.theta / (2 * math.pi)
    charge = occupation - (1 - sign) / 2
    links = np.cumsum(charge)[:-1]
    return float(model.J * np.sum((links + vartheta) ** 2) + mu * np.sum(sign * occupation))


def _index(occupation: np.ndarray) -> int:
    """Little-endian basis index; qubit bit 0 = occupied (docs/conventions.md)."""
    bits = 1 - np.asarray(occupation, dtype=np.int64)
    return int(np.sum(bits << np.arange(bits.size)))


@pytest.mark.parametrize("mass_shift", [False, True])
@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("n_sites", SIZES)
def test_matrices_agree(n_sites, formulation, mass_shift):
    model = _random_model(n_sites, formulation, mass_shift, seed=100 * n_sites + 7 * mass_shift)
    direct = model.hamiltonian()
    mapped = jordan_wigner_hamiltonian(model)
    # same Pauli decomposition ...
    diff = (direct - mapped).simplify(atol=0.0)
    assert np.max(np.abs(diff.coeffs)) < 1e-10
    # ... and the same matrix (sparse for all N, dense as well for N <= 8)
    delta = direct.to_matrix(sparse=True) - mapped.to_matrix(sparse=True)
    assert (abs(delta).max() if delta.nnz else 0.0) < 1e-10
    if n_sites <= 8:
        np.testing.assert_allclose(mapped.to_matrix(), direct.to_matrix(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("n_sites", (4, 8, 12))
def test_ground_energies_agree(n_sites, formulation):
    model = _random_model(n_sites, formulation, mass_shift=n_sites == 8, seed=11 * n_sites)
    energies = []
    for op in (model.hamiltonian(), jordan_wigner_hamiltonian(model)):
        mat = op.to_matrix(sparse=True)
        if n_sites <= 4:
            energies.append(float(np.linalg.eigvalsh(mat.toarray())[0]))
        else:
            v0 = np.ones(mat.shape[0]) / math.sqrt(mat.shape[0])
            energies.append(float(sla.eigsh(mat, k=1, which="SA", v0=v0, tol=1e-13)[0][0]))
    assert abs(energies[0] - energies[1]) < 1e-10


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_asymmetric_product_states(formulation):
    """⟨b|H|b⟩ by hand, from schwinger.py and from OpenFermion (both matrix layouts) agree."""
    import openfermion

    model = SchwingerModel(6, spacing=0.8, mass=0.6, theta=1.3, formulation=formulation, mass_shift=True)
    rng = np.random.default_rng(5)
    single = np.zeros(6, dtype=np.int64)
    single[1] = 1  # only site 1 occupied
    states = [single, rng.integers(0, 2, size=6), np.array([1, 1, 0, 1, 0, 0])]
    direct = model.hamiltonian().to_matrix(sparse=True)
    mapped = jordan_wigner_hamiltonian(model).to_matrix(sparse=True)
    # OpenFermion's own matrix is big-endian: qubit 0 is the most significant bit.
    of_matrix = openfermion.get_sparse_operator(fermionic_hamiltonian(model), n_qubits=6)
    for occ in states:
        k = _index(occ)
        k_big = int(np.sum((1 - occ) << np.arange(6)[::-1]))
        expected = _hand_diagonal(model, occ)
        assert abs(direct[k, k] - expected) < 1e-12
        assert abs(mapped[k, k] - expected) < 1e-12
        assert abs(of_matrix[k_big, k_big] - expected) < 1e-12
    # the single-particle state is not mirror symmetric: its reflection has another energy
    assert abs(_hand_diagonal(model, single[::-1]) - _hand_diagonal(model, single)) > 0.1


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_reversed_qubits_break_equality(formulation):
    model = SchwingerModel(6, spacing=0.7, mass=0.4, theta=0.9, formulation=formulation)
    direct = model.hamiltonian().to_matrix()
    mapped = jordan_wigner_hamiltonian(model)
    assert np.max(np.abs(mapped.to_matrix() - direct)) < 1e-10
    assert np.max(np.abs(_reverse_qubits(mapped).to_matrix() - direct)) > 0.1


def test_openfermion_matrix_is_the_bit_reversal_of_qiskit():
    import openfermion

    model = SchwingerModel(4, spacing=0.6, mass=0.5, theta=2.0, formulation="electric")
    n = model.n_qubits
    of_matrix = openfermion.get_sparse_operator(openfermion.jordan_wigner(fermionic_hamiltonian(model)), n_qubits=n)
    qiskit_matrix = jordan_wigner_hamiltonian(model).to_matrix()
    idx = np.arange(2**n)
    reversed_idx = np.array([int(format(k, f"0{n}b")[::-1], 2) for k in idx])
    np.testing.assert_allclose(of_matrix.toarray()[np.ix_(reversed_idx, reversed_idx)], qiskit_matrix, atol=1e-12)
    assert np.max(np.abs(of_matrix.toarray() - qiskit_matrix)) > 0.1


def test_converter_places_qubit_n_at_label_position_from_the_right():
    import openfermion

    qop = openfermion.QubitOperator
    op = qop("X0 Z2", 0.5) + qop("Y1", -2.0) + qop((), 3.0)
    spo = qubit_operator_to_sparse_pauli_op(op, 4)
    as_dict = dict(zip(spo.paulis.to_labels(), spo.coeffs))
    assert as_dict == {"IZIX": 0.5, "IIYI": -2.0, "IIII": 3.0}
    empty = qubit_operator_to_sparse_pauli_op(openfermion.QubitOperator(), 2)
    assert np.all(empty.to_matrix() == 0)


def test_converter_rejects_bad_input():
    import openfermion

    with pytest.raises(ParameterError, match="n_qubits"):
        qubit_operator_to_sparse_pauli_op(openfermion.QubitOperator("Z3"), 3)
    with pytest.raises(ParameterError, match="op"):
        qubit_operator_to_sparse_pauli_op("Z0", 1)


def test_fermionic_hamiltonian_is_hermitian_and_conserves_particle_number():
    import openfermion

    model = SchwingerModel(6, spacing=0.5, mass=0.3, theta=0.4)
    ham = fermionic_hamiltonian(model)
    assert openfermion.is_hermitian(ham)
    for term in ham.terms:
        assert sum(1 if action else -1 for _, action in term) == 0
