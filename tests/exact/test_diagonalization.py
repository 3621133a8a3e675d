"""Exact diagonalization: sparse matrices against Qiskit's Pauli sum, sectors, spectra, errors."""

from math import comb

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError
from qlat.exact.diagonalization import (
    Spectrum,
    diagonalize,
    diagonalize_sector,
    expectation,
    gap_along_path,
    physical_sector_indices,
    sparse_hamiltonian,
)
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index, schwinger_terms

MODELS = [
    SchwingerModel(2, 0.9, 0.4, theta=0.3),
    SchwingerModel(6, 0.7, 0.3, theta=1.1),
    SchwingerModel(8, 0.5, 0.2, theta=2.5, formulation="electric"),
    SchwingerModel(10, 0.4, 0.1, theta=0.7, mass_shift=True),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}")
def test_full_matrix_equals_pauli_sum(model):
    terms = model.terms()
    ours, basis = sparse_hamiltonian(terms, sector="full")
    assert np.array_equal(basis, np.arange(2**model.n_sites))
    reference = terms.to_sparse_pauli_op().to_matrix(sparse=True)
    assert abs(ours - reference).max() < 1e-12


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}")
def test_physical_block_and_charge_conservation(model):
    terms = model.terms()
    reference = terms.to_sparse_pauli_op().to_matrix(sparse=True).tocsr()
    block, basis = sparse_hamiltonian(terms)
    assert abs(block - reference[basis][:, basis]).max() < 1e-12
    # H does not connect the sector to its complement: the sector is invariant.
    others = np.setdiff1d(np.arange(2**model.n_sites), basis)
    assert abs(reference[others][:, basis]).max() == 0.0


def test_physical_sector_indices():
    for n in (2, 4, 6, 12):
        idx = physical_sector_indices(n)
        assert idx.dtype == np.int64
        assert idx.size == comb(n, n // 2)
        assert np.all(np.diff(idx) > 0)
        assert all(bin(int(i)).count("1") == n // 2 for i in idx)
        # Σ_n Q_n = ½ Σ_n Z_n = 0 on every state.
        z = 1 - 2 * ((idx[:, None] >> np.arange(n)) & 1)
        assert np.all(z.sum(axis=1) == 0)
        assert bare_vacuum_index(n) in set(idx.tolist())


def test_spectrum_matches_dense_and_is_embedded_little_endian():
    model = SchwingerModel(8, 0.6, 0.25, theta=0.9)
    dense = model.hamiltonian().to_matrix()
    basis = physical_sector_indices(8)
    expected = np.linalg.eigvalsh(dense[np.ix_(basis, basis)])
    spec = diagonalize(model, k=4)
    assert isinstance(spec, Spectrum)
    assert spec.vectors.shape == (2**8, 4) and spec.vectors.dtype == np.complex128
    assert np.allclose(spec.energies, expected[:4], atol=1e-10)
    assert spec.gap == pytest.approx(expected[1] - expected[0], abs=1e-10)
    for j in range(4):
        v = spec.vectors[:, j]
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        assert np.linalg.norm(dense @ v - spec.energies[j] * v) < 1e-8
    # ⟨ψ|H|ψ⟩ through the Pauli operator reproduces E₀.
    assert expectation(spec.ground_state, model.hamiltonian()) == pytest.approx(spec.ground_energy, abs=1e-10)
    # The full sector contains the physical ground state energy (or lower).
    full = diagonalize(model, k=1, sector="full")
    assert full.ground_energy <= spec.ground_energy + 1e-10


def test_lanczos_path_matches_dense():
    model = SchwingerModel(10, 0.5, 0.1, theta=0.4)  # sector dim 252 > DENSE_LIMIT: Lanczos
    spec = diagonalize_sector(model, k=3)
    block, _ = sparse_hamiltonian(model.terms())
    expected = np.linalg.eigvalsh(block.toarray())[:3]
    assert np.allclose(spec.energies, expected, atol=1e-9)


def test_expectation_on_asymmetric_product_state():
    # |ψ⟩ = |q0 = 1, q1 = 0, q2 = 0⟩: Z_0 = −1, Z_1 = +1, Z_2 = +1 (little-endian index 1).
    state = np.zeros(8, dtype=complex)
    state[1] = 1.0
    assert expectation(state, SparsePauliOp.from_sparse_list([("Z", [0], 1.0)], 3)) == -1.0
    assert expectation(state, SparsePauliOp.from_sparse_list([("Z", [2], 1.0)], 3)) == 1.0
    with pytest.raises(ParameterError, match="state"):
        expectation(np.ones(4), SparsePauliOp("ZZZ"))


def test_gap_along_path_matches_diagonalize():
    def terms_at(s):
        return schwinger_terms(6, w=s * 1.0, J=0.25, mass=0.5, theta=s * 0.8)

    s_values = [0.0, 0.5, 1.0]
    gaps = gap_along_path(terms_at, s_values)
    for s, gap in zip(s_values, gaps):
        assert gap == pytest.approx(diagonalize(terms_at(s), k=2).gap, abs=1e-12)
    # At s = 0 there is no hopping: H is diagonal and the gap is that of the sorted diagonal.
    block, _ = sparse_hamiltonian(terms_at(0.0))
    lowest = np.sort(block.diagonal())[:2]
    assert gaps[0] == pytest.approx(lowest[1] - lowest[0], abs=1e-12) and gaps[0] > 0


def test_bad_input():
    with pytest.raises(ParameterError, match="k"):
        diagonalize(SchwingerModel(4, 1.0, 0.1), k=0)
    with pytest.raises(ParameterError, match="sector"):
        diagonalize(SchwingerModel(4, 1.0, 0.1), sector="charged")
    with pytest.raises(ParameterError, match="n_qubits"):
        physical_sector_indices(5)
    with pytest.raises(ParameterError, match="target"):
        diagonalize("not a model")
    with pytest.raises(ParameterError, match="sector"):
        sparse_hamiltonian(SchwingerModel(4, 1.0, 0.1).terms(), sector="nope")
