"""Compiled sector ED: the Hamiltonian build and observables against the paths they replaced."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError
from qlat.exact import sector_operators
from qlat.exact.diagonalization import (
    diagonalize,
    diagonalize_sector,
    expectation,
    physical_sector_indices,
    sector_expectations,
    sparse_hamiltonian,
    sparse_on,
)
from qlat.theories.schwinger_qubit import SchwingerModel

MODELS = [
    SchwingerModel(8, 0.5, 0.2, theta=2.5, formulation="electric"),
    SchwingerModel(12, 0.4, 0.1, theta=0.7, mass_shift=True),
]


def _searchsorted_matrix(terms, basis: np.ndarray) -> scipy.sparse.csr_matrix:
    """The build the kernel replaced: exact diagonal, pair search by np.searchsorted, COO → CSR."""
    dim = basis.size
    rows, cols, data = [np.arange(dim)], [np.arange(dim)], [terms.diagonal(basis)]
    for bond, h in enumerate(terms.hopping):
        differ = np.flatnonzero(((basis >> bond) ^ (basis >> (bond + 1))) & 1)
        rows.append(differ)
        cols.append(np.searchsorted(basis, basis[differ] ^ (np.int64(3) << bond)))
        data.append(np.full(differ.size, 2.0 * h))
    return scipy.sparse.coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(dim, dim)).tocsr()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}")
@pytest.mark.parametrize("sector", ["physical", "full"])
def test_matrix_equals_the_searchsorted_build(model, sector):
    terms = model.terms()
    ours, basis = sparse_hamiltonian(terms, sector=sector)
    reference = _searchsorted_matrix(terms, basis)
    assert abs(ours - reference).max() < 1e-12
    assert ours.has_sorted_indices


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}")
def test_energies_equal_the_previous_lanczos(model):
    """ED energies to 1e-10 against scipy's eigsh with its defaults on the searchsorted matrix."""
    basis = physical_sector_indices(model.n_sites)
    reference = np.sort(scipy.sparse.linalg.eigsh(_searchsorted_matrix(model.terms(), basis), k=3, which="SA",
                                                  v0=np.ones(basis.size))[0])
    spectrum = diagonalize_sector(model, k=3)
    np.testing.assert_allclose(spectrum.energies, reference, atol=1e-10, rtol=0)


def _dense_expectation(state: np.ndarray, op: SparsePauliOp) -> float:
    return float(np.real(np.vdot(state, op.to_matrix() @ state)))


def _observables(model: SchwingerModel) -> dict[str, SparsePauliOp]:
    from qlat.quantum.observables import qubit_observable

    ops = {"H": model.hamiltonian()}
    for name in ("energy", "condensate", "electric_field", "charge_density"):
        obs = qubit_observable(name, model)
        ops.update(dict(zip(obs.keys, obs.operators)))
    n = model.n_sites
    ops["hop_far"] = SparsePauliOp.from_sparse_list([("XX", [0, 3], 0.4), ("YY", [0, 3], 0.4),
                                                     ("XZY", [1, 2, 4], 0.3), ("YZX", [1, 2, 4], -0.3)], n)
    ops["leaves_sector"] = SparsePauliOp.from_sparse_list([("X", [1], 0.7), ("XXXX", [0, 1, 2, 3], 0.2)], n)
    return ops


@pytest.fixture(params=["numpy", "compiled"])
def kernels(request, monkeypatch):
    """Both implementations of the expectation values: vectorized numpy and the numba loops."""
    monkeypatch.setattr(sector_operators, "COMPILED_MIN_STATES", 0 if request.param == "compiled" else 10**9)
    return request.param


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}")
def test_sector_observables_equal_the_full_space_matrices(model, kernels):
    spectrum = diagonalize_sector(model, k=2)
    ops = _observables(model)
    for column in (0, 1):
        full_state = spectrum.embed(column)
        values = sector_expectations(spectrum, ops, column=column)
        for name, op in ops.items():
            reference = _dense_expectation(full_state, op)
            assert values[name] == pytest.approx(reference, abs=1e-12), name
            assert expectation(full_state, op) == pytest.approx(reference, abs=1e-12), name
    assert sector_expectations(spectrum, {"H": model.hamiltonian()})["H"] == pytest.approx(spectrum.energies[0],
                                                                                           abs=1e-10)


def test_full_sector_spectrum_and_a_state_without_a_sector(kernels):
    model = SchwingerModel(6, 0.6, 0.3, theta=1.0)
    spectrum = diagonalize_sector(model, k=2, sector="full")
    ops = _observables(model)
    values = sector_expectations(spectrum, ops)
    for name, op in ops.items():
        assert values[name] == pytest.approx(_dense_expectation(spectrum.embed(0), op), abs=1e-12), name
    rng = np.random.default_rng(4)
    state = rng.standard_normal(64) + 1j * rng.standard_normal(64)
    for name, op in ops.items():
        assert expectation(state, op) == pytest.approx(_dense_expectation(state, op), abs=1e-11), name
    assert diagonalize(model, k=1).ground_energy == pytest.approx(spectrum.energies[0], abs=1e-10)


def test_rank_offsets_reach_every_partner():
    """The partner of a swap at bond b is r ± C(b, i): checked against the sorted basis itself."""
    n, p = 11, 5
    basis = sector_operators.sector_basis(n, p)
    indptr, indices, _ = sector_operators.sector_hamiltonian_csr(basis, np.zeros(basis.size), np.ones(n - 1))
    for r in range(0, basis.size, 37):
        cols = set(indices[indptr[r]:indptr[r + 1]].tolist()) - {r}
        expected = {int(np.searchsorted(basis, basis[r] ^ (3 << b))) for b in range(n - 1)
                    if ((basis[r] >> b) ^ (basis[r] >> (b + 1))) & 1}
        assert cols == expected


def test_bad_basis_and_column():
    terms = SchwingerModel(6, 0.5, 0.1).terms()
    with pytest.raises(ParameterError, match="basis"):
        sparse_on(terms, physical_sector_indices(6)[:-1])
    with pytest.raises(ParameterError, match="basis"):
        sparse_on(terms, np.arange(10), full=True)
    spectrum = diagonalize_sector(SchwingerModel(6, 0.5, 0.1), k=1)
    with pytest.raises(ParameterError, match="column"):
        sector_expectations(spectrum, {"H": SchwingerModel(6, 0.5, 0.1).hamiltonian()}, column=1)
    with pytest.raises(ParameterError, match="operators"):
        sector_expectations(spectrum, {"bad": SparsePauliOp("ZZ")})
