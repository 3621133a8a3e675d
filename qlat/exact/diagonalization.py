r"""Exact diagonalization of the qubit Schwinger Hamiltonian in a fixed-charge sector.

Every qubit Hamiltonian of :mod:`qlat.theories.schwinger_qubit` has the form (module docstring there)

.. math::
    H = c\,\mathbb 1 + \sum_n h_n (X_nX_{n+1} + Y_nY_{n+1}) + \sum_n \mu_n Z_n
        + \sum_{i<j} K_{ij} Z_i Z_j .

The Z terms are diagonal in the computational basis; on two neighbouring qubits
X_nX_{n+1} + Y_nY_{n+1} = 2(σ⁺_nσ⁻_{n+1} + σ⁻_nσ⁺_{n+1}) maps |…01…⟩ ↔ |…10…⟩ with matrix
element 2 and annihilates |…00…⟩, |…11…⟩.  So H conserves the number of set bits, i.e. the
total charge Σ_n Q_n = ½ Σ_n Z_n (with Q_n = (Z_n + (−1)^n)/2 and N even).  The *physical*
sector is Σ_n Q_n = 0, the N/2-bit states, of dimension C(N, N/2); the bare vacuum (odd sites
occupied) lies in it and the adiabatic evolution of arXiv:2001.00485 never leaves it.

The sparse matrix is built directly on the sorted basis of the sector by the compiled kernels
of :mod:`qlat.exact.sector_operators`: the diagonal from tables over the two halves of the bit
string, and the hopping as 2h_n on every pair of states that differ by swapping bits n and n+1,
the partner's position following from the rank in the combinatorial number system (no index
search).  Basis indices are Qiskit little-endian: bit n of the index is qubit n (Z_n = +1 for
bit 0, "occupied").  Spectra come from :func:`scipy.sparse.linalg.eigsh` (ARPACK Lanczos) with
one BLAS thread (threadpoolctl: its dense Krylov updates are too small to gain from threads,
and on a busy machine a second thread costs 2–3×), or dense :func:`numpy.linalg.eigh` for small
dimensions.  Observables are evaluated on the sector, term by term
(:func:`sector_expectations`, :func:`expectation`), never as a 2^N matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import comb
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from qlat.core.errors import ParameterError, require
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms

if TYPE_CHECKING:  # qiskit is not needed to diagonalize (and costs ~0.5 s to import)
    from qiskit.quantum_info import SparsePauliOp

SECTORS: tuple[str, ...] = ("physical", "full")

#: Chains whose zero-charge sector diagonalizes in seconds (C(20, 10) = 184 756 states): the
#: limit for ED done as a by-product (fidelities, reference values printed next to a run).
ED_ROUTINE_MAX_QUBITS = 20
#: Chains that still fit (N = 24: C(24, 12) = 2.7 M states, ~2 min and ~2 GB): the hard limit
#: of an explicit ED request.
ED_MAX_QUBITS = 24

#: Below this dimension the spectrum is computed densely (eigh), above it by Lanczos (eigsh).
DENSE_LIMIT = 128


def _check_qubits(n_qubits: int) -> None:
    require(
        isinstance(n_qubits, (int, np.integer)) and n_qubits >= 2 and n_qubits % 2 == 0,
        "n_qubits",
        "must be an even integer >= 2",
        n_qubits,
    )


def _check_sector(sector: str) -> None:
    if sector not in SECTORS:
        raise ParameterError("sector", f"must be one of {', '.join(SECTORS)}", sector)


_BYTE_POPCOUNT = np.array([i.bit_count() for i in range(256)], dtype=np.int64)


def _popcount(values: np.ndarray) -> np.ndarray:
    """Number of set bits of non-negative int64 values (numpy ≥ 1.26; no np.bitwise_count)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return _BYTE_POPCOUNT[values.view(np.uint8).reshape(values.shape + (8,))].sum(axis=-1)


def physical_sector_indices(n_qubits: int) -> np.ndarray:
    """Sorted int64 basis indices with exactly N/2 bits set (total charge Σ_n Q_n = 0).

    Built from the lower and upper halves of the bit string (index = hi·2^{N_lo} + lo with
    popcount(lo) = N/2 − popcount(hi)), so no array of length 2^N is formed.
    """
    _check_qubits(n_qubits)
    n = int(n_qubits)
    n_lo = n // 2
    half = n // 2
    lo = np.arange(1 << n_lo, dtype=np.int64)
    lo_count = _popcount(lo)
    lo_by_count = [lo[lo_count == c] for c in range(n_lo + 1)]
    hi = np.arange(1 << (n - n_lo), dtype=np.int64)
    hi_count = _popcount(hi)
    parts = []
    for h, hc in zip(hi, hi_count):
        need = half - hc
        if 0 <= need <= n_lo:
            parts.append((h << n_lo) + lo_by_count[need])
    out = np.concatenate(parts)
    assert out.size == comb(n, half)
    return out


def sector_indices(n_qubits: int, sector: str = "physical") -> np.ndarray:
    """Basis indices of ``sector``: ``"physical"`` (zero charge) or ``"full"`` (all 2^N)."""
    _check_qubits(n_qubits)
    _check_sector(sector)
    if sector == "full":
        return np.arange(1 << int(n_qubits), dtype=np.int64)
    return physical_sector_indices(n_qubits)


def z_values(basis: np.ndarray, qubit: int) -> np.ndarray:
    """Z_qubit on each basis index: +1 for bit 0 (occupied), −1 for bit 1."""
    return 1.0 - 2.0 * ((basis >> qubit) & 1).astype(float)


def sparse_on(terms: SchwingerTerms, basis: np.ndarray, *, full: bool = False) -> scipy.sparse.csr_matrix:
    """The Hamiltonian of ``terms`` as a CSR matrix on ``basis``.

    ``basis``: a complete sorted fixed-charge sector (e.g. :func:`physical_sector_indices`), or
    with ``full=True`` all 2^N states in order.
    """
    from qlat.exact import sector_operators  # numba: imported on first use

    basis = np.asarray(basis, dtype=np.int64)
    dim = basis.size
    n = terms.n_qubits
    if full:
        require(np.array_equal(basis, np.arange(1 << n)), "basis", "must be all 2^N states in order (full=True)",
                basis.shape)
    else:
        popcount = int(np.bitwise_count(basis[0])) if dim else 0
        require(dim == comb(n, popcount) and bool(np.all(np.diff(basis) > 0))
                and bool(np.all(np.bitwise_count(basis) == popcount)),
                "basis", "must be a complete sorted fixed-charge sector", basis.shape)
    diag = sector_operators.sector_diagonal(basis, constant=terms.constant, z=terms.z, zz=terms.zz)
    indptr, indices, data = sector_operators.sector_hamiltonian_csr(basis, diag, terms.hopping, full=full)
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(dim, dim))


def sparse_hamiltonian(
    terms: SchwingerTerms, *, sector: str = "physical"
) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """H as a real CSR matrix on ``sector`` and the sorted basis indices it acts on.

    ``sector="physical"``: the C(N, N/2) states of zero total charge; ``"full"``: all 2^N
    states (row k is basis index k).  Entry (i, j) is ⟨basis[i]|H|basis[j]⟩.
    """
    _check_sector(sector)
    _check_qubits(terms.n_qubits)
    basis = sector_indices(terms.n_qubits, sector)
    return sparse_on(terms, basis, full=(sector == "full")), basis


@dataclass(frozen=True)
class SectorSpectrum:
    """Lowest eigenpairs in a charge sector, with vectors on the sector basis.

    energies: (k,) ascending; vectors: (dim, k) real, columns normalized; basis: (dim,) sorted
    basis indices; n_qubits: N.
    """

    energies: np.ndarray
    vectors: np.ndarray
    basis: np.ndarray
    sector: str
    n_qubits: int

    def embed(self, column: int = 0) -> np.ndarray:
        """Eigenvector ``column`` as a full 2^N complex128 state (little-endian)."""
        out = np.zeros(1 << self.n_qubits, dtype=np.complex128)
        out[self.basis] = self.vectors[:, column]
        return out

    def to_spectrum(self) -> Spectrum:
        full = np.zeros((1 << self.n_qubits, self.energies.size), dtype=np.complex128)
        full[self.basis, :] = self.vectors
        return Spectrum(energies=self.energies.copy(), vectors=full, sector=self.sector)


@dataclass(frozen=True)
class Spectrum:
    """Lowest eigenpairs of H in ``sector``, vectors embedded in the full 2^N space.

    energies: (k,) ascending.  vectors: (2^N, k) complex128, Qiskit little-endian, normalized,
    zero outside the sector.
    """

    energies: np.ndarray
    vectors: np.ndarray
    sector: str

    @property
    def ground_energy(self) -> float:
        return float(self.energies[0])

    @property
    def gap(self) -> float:
        """E₁ − E₀ within the sector (needs k ≥ 2)."""
        require(self.energies.size >= 2, "k", "gap needs at least 2 eigenvalues", self.energies.size)
        return float(self.energies[1] - self.energies[0])

    @property
    def ground_state(self) -> np.ndarray:
        return self.vectors[:, 0]


def _as_terms(target: SchwingerModel | SchwingerTerms) -> SchwingerTerms:
    if isinstance(target, SchwingerModel):
        return target.terms()
    if isinstance(target, SchwingerTerms):
        return target
    raise ParameterError("target", "must be a SchwingerModel or SchwingerTerms", type(target).__name__)


#: Lanczos vectors kept by ARPACK (at least 2k + 2): measured fastest at N = 20–22, k = 2 (fewer
#: vectors: more restarts; more: each step orthogonalizes against a larger basis).
LANCZOS_VECTORS = 14


_BLAS_CONTROLLER = None


def _one_blas_thread():  # noqa: ANN202 - a threadpoolctl context manager
    """Context limiting BLAS to one thread (the threadpoolctl controller is built once: ~ms)."""
    global _BLAS_CONTROLLER
    from threadpoolctl import ThreadpoolController

    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def lowest_eigenpairs(matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest eigenpairs of a real symmetric sparse matrix, ascending.

    Lanczos runs with one BLAS thread (module docstring); small matrices go to dense ``eigh``.
    """
    dim = matrix.shape[0]
    require(isinstance(k, (int, np.integer)) and 1 <= k <= dim, "k", f"must be an integer in [1, {dim}]", k)
    if dim <= DENSE_LIMIT or k >= dim - 1:
        values, vectors = np.linalg.eigh(matrix.toarray())
        return values[:k], vectors[:, :k]
    # Deterministic start vector: Lanczos results are then reproducible run to run.
    v0 = np.random.default_rng(12345).standard_normal(dim)
    with _one_blas_thread():
        values, vectors = scipy.sparse.linalg.eigsh(
            matrix, k=int(k), which="SA", v0=v0, tol=1e-12, ncv=min(dim - 1, max(2 * int(k) + 2, LANCZOS_VECTORS))
        )
    order = np.argsort(values)
    return values[order], vectors[:, order]


def diagonalize_sector(
    target: SchwingerModel | SchwingerTerms, *, k: int = 2, sector: str = "physical"
) -> SectorSpectrum:
    """Lowest ``k`` eigenpairs with vectors on the sector basis (memory-light; N up to ~26)."""
    require(isinstance(k, (int, np.integer)) and k >= 1, "k", "must be an integer >= 1", k)
    _check_sector(sector)
    terms = _as_terms(target)
    matrix, basis = sparse_hamiltonian(terms, sector=sector)
    values, vectors = lowest_eigenpairs(matrix, int(k))
    return SectorSpectrum(
        energies=np.asarray(values, dtype=float), vectors=np.asarray(vectors, dtype=float),
        basis=basis, sector=sector, n_qubits=terms.n_qubits,
    )


def diagonalize(
    target: SchwingerModel | SchwingerTerms, *, k: int = 2, sector: str = "physical"
) -> Spectrum:
    """Lowest ``k`` eigenpairs of H in ``sector`` ("physical": zero charge; "full": all states).

    Returns a :class:`Spectrum` with full-space complex vectors (2^N × k): for N ≳ 22 prefer
    :func:`diagonalize_sector`, which keeps the vectors on the sector basis.
    """
    return diagonalize_sector(target, k=k, sector=sector).to_spectrum()


def expectation(state: np.ndarray, operator: PauliSum | SparsePauliOp) -> float:
    """⟨ψ|O|ψ⟩ (real part) for a full 2^N state and a Hermitian ``PauliSum`` or ``SparsePauliOp``.

    Summed term by term over the support of ψ (the occupied sector of an eigenvector), by
    :func:`qlat.exact.sector_operators.pauli_expectations`; no 2^N matrix is formed.
    """
    state = np.asarray(state)
    require(
        state.ndim == 1 and state.size == 2**operator.num_qubits,
        "state",
        f"must be a vector of length 2^{operator.num_qubits}",
        state.shape,
    )
    from qlat.exact import sector_operators

    vector = np.ascontiguousarray(state, dtype=np.complex128)
    support = np.flatnonzero(vector).astype(np.int64)
    return sector_operators.pauli_expectations(vector, support, *sector_operators.pauli_masks(operator))


def sector_expectations(spectrum: SectorSpectrum, operators: Mapping[str, PauliSum | SparsePauliOp], *,
                        column: int = 0) -> dict[str, float]:
    """{name: ⟨ψ|O|ψ⟩} (real part) for eigenvector ``column`` of ``spectrum``, on its sector basis.

    Diagonal (I/Z) terms are weighted by |ψ_k|²; a term with X/Y parts pairs each basis state
    with its image, found by rank (:func:`qlat.exact.sector_operators.sector_pauli_expectations`).
    Terms that leave the sector contribute zero.
    """
    require(isinstance(column, (int, np.integer)) and 0 <= column < spectrum.energies.size, "column",
            f"must be an integer in [0, {spectrum.energies.size})", column)
    from qlat.exact import sector_operators

    vec = np.ascontiguousarray(spectrum.vectors[:, column], dtype=np.complex128)
    out: dict[str, float] = {}
    for name, op in operators.items():
        require(sector_operators.is_pauli_operator(op) and op.num_qubits == spectrum.n_qubits, f"operators[{name!r}]",
                f"must be a PauliSum or SparsePauliOp on {spectrum.n_qubits} qubits",
                getattr(op, "num_qubits", type(op).__name__))
        masks = sector_operators.pauli_masks(op)
        if spectrum.sector == "full":
            out[name] = sector_operators.pauli_expectations(vec, spectrum.basis, *masks)
        else:
            out[name] = sector_operators.sector_pauli_expectations(vec, spectrum.basis, *masks)
    return out


def site_condensate(spectrum: SectorSpectrum, spacing: float, *, column: int = 0) -> np.ndarray:
    """c_n = (−1)^n ⟨Z_n⟩/(2a) in eigenstate ``column`` (:func:`~qlat.theories.schwinger_observables.site_condensate_values`)."""
    from qlat.theories.schwinger_observables import site_condensate_values

    prob = np.abs(spectrum.vectors[:, column]) ** 2
    z = np.array([prob @ z_values(spectrum.basis, q) for q in range(spectrum.n_qubits)])
    return site_condensate_values(z, spacing)


def sector_expectation(terms: SchwingerTerms, spectrum: SectorSpectrum, *, column: int = 0) -> float:
    """⟨ψ|O|ψ⟩ for an operator of Schwinger-terms form, evaluated on the sector basis."""
    matrix = sparse_on(terms, spectrum.basis, full=spectrum.sector == "full")
    vec = spectrum.vectors[:, column]
    return float(np.real(np.vdot(vec, matrix @ vec)))


def gap_along_path(
    terms_at: Callable[[float], SchwingerTerms],
    s_values: Sequence[float],
    *,
    sector: str = "physical",
) -> np.ndarray:
    """E₁(s) − E₀(s) in ``sector`` at each s of a path H(s) = terms_at(s)."""
    _check_sector(sector)
    s_values = list(s_values)
    require(len(s_values) >= 1, "s_values", "must contain at least one point", s_values)
    gaps = np.empty(len(s_values))
    for i, s in enumerate(s_values):
        matrix, _ = sparse_hamiltonian(terms_at(float(s)), sector=sector)
        values, _ = lowest_eigenpairs(matrix, 2)
        gaps[i] = values[1] - values[0]
    return gaps
