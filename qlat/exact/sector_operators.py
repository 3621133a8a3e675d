r"""Kernels on a fixed-popcount sector: basis, diagonals, the Hamiltonian, Pauli expectations.

**Sorted sector basis.**  The states with p of N bits set, in increasing order.  The rank of a
state x with set bits b_1 < … < b_p is Σ_i C(b_i, i) (combinatorial number system), so moving
the i-th set bit from b to b + 1 — one hopping term X_bX_{b+1} + Y_bY_{b+1} — changes the rank
by C(b + 1, i) − C(b, i) = C(b, i − 1): the partner of a state follows from its rank and the
number of set bits below b, with no index search (:func:`sector_hamiltonian_csr`).

**Diagonal** c + Σ μ_n Z_n + Σ_{i<j} K_ij Z_i Z_j from tables over the two halves of the bit
string (:func:`sector_diagonal`): N/2 multiply-adds per state instead of N²/2.

**Pauli expectations** ⟨ψ|Z^z X^x|ψ⟩ = Σ_k ψ_k^* (−1)^{|k∧z|} ψ_{k⊕x}, on a full 2^N vector over
its support (:func:`pauli_expectations`) or on sector vectors (:func:`sector_pauli_expectations`);
no 2^N operator matrix.  Above :data:`COMPILED_MIN_STATES` states the compiled loops of
:mod:`qlat.exact.pauli_kernels` (numba) run, below it vectorized numpy (there numba's import
and cache load, ~0.3 s, would cost more than the sums).

This module needs only numpy: exact diagonalization does not import numba for its spectrum.
"""

from __future__ import annotations

import sys
from math import comb
from typing import Any

import numpy as np

from qlat.theories.pauli_sum import PauliSum

__all__ = [
    "COMPILED_MIN_STATES",
    "binomial_table",
    "pauli_expectations",
    "pauli_masks",
    "sector_basis",
    "sector_diagonal",
    "sector_hamiltonian_csr",
    "sector_pauli_expectations",
]

#: From this many states on, expectation values use the compiled kernels.
COMPILED_MIN_STATES = 4096

#: Basis states per chunk of the vectorized diagonal (bounds its (chunk × N/2) temporaries).
_CHUNK = 1 << 16


def sector_basis(n: int, popcount: int) -> np.ndarray:
    """Sorted int64 indices of the N-bit states with ``popcount`` set bits (no 2^N array)."""
    n_lo = n // 2
    lo = np.arange(1 << n_lo, dtype=np.int64)
    lo_count = np.bitwise_count(lo).astype(np.int64)
    hi = np.arange(1 << (n - n_lo), dtype=np.int64)
    hi_count = np.bitwise_count(hi).astype(np.int64)
    parts = [(h << n_lo) + lo[lo_count == popcount - hc] for h, hc in zip(hi, hi_count)
             if 0 <= popcount - hc <= n_lo]
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    assert out.size == comb(n, popcount)
    return out



def _spins(n_bits: int) -> np.ndarray:
    """Z eigenvalues (±1, +1 for bit 0) of all 2^n_bits states, shape (2^n_bits, n_bits)."""
    states = np.arange(1 << n_bits, dtype=np.int64)
    return 1.0 - 2.0 * ((states[:, None] >> np.arange(n_bits)) & 1)


def sector_diagonal(basis: np.ndarray, *, constant: float, z: np.ndarray, zz: np.ndarray) -> np.ndarray:
    r"""c + Σ_n μ_n Z_n + Σ_{i<j} K_ij Z_i Z_j on the basis states (Z_n = +1 for bit n = 0).

    Split z = (z_lo, z_hi) at N_lo = N/2 bits: D = d_lo(lo) + d_hi(hi) + z_loᵀ K_{lo,hi} z_hi,
    with d_lo, d_hi and A = Z_lo K_{lo,hi} tabulated over 2^{N/2} states, so a basis state
    costs N/2 multiply-adds instead of N²/2.
    """
    n = int(np.asarray(z).size)
    n_lo = n // 2
    z = np.asarray(z, dtype=np.float64)
    zz = np.asarray(zz, dtype=np.float64)
    s_lo, s_hi = _spins(n_lo), _spins(n - n_lo)
    d_lo = constant + s_lo @ z[:n_lo] + np.einsum("ki,ij,kj->k", s_lo, zz[:n_lo, :n_lo], s_lo)
    d_hi = s_hi @ z[n_lo:] + np.einsum("ki,ij,kj->k", s_hi, zz[n_lo:, n_lo:], s_hi)
    cross = np.ascontiguousarray(s_lo @ (zz[:n_lo, n_lo:] + zz[n_lo:, :n_lo].T))
    basis = np.asarray(basis, dtype=np.int64)
    out = np.empty(basis.size)
    mask = (1 << n_lo) - 1
    for start in range(0, basis.size, _CHUNK):
        x = basis[start:start + _CHUNK]
        lo, hi = x & mask, x >> n_lo
        out[start:start + _CHUNK] = d_lo[lo] + d_hi[hi] + np.einsum("kt,kt->k", cross[lo], s_hi[hi])
    return out


def binomial_table(n: int) -> np.ndarray:
    """C(b, i) for 0 ≤ b, i ≤ n as int64 (n + 1, n + 1)."""
    return np.array([[comb(b, i) for i in range(n + 1)] for b in range(n + 1)], dtype=np.int64)


def sector_hamiltonian_csr(basis: np.ndarray, diag: np.ndarray, hopping: np.ndarray, *, full: bool = False
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of H = diag + Σ_b h_b (X_bX_{b+1} + Y_bY_{b+1}), columns ascending.

    ``basis``: a complete sorted fixed-popcount sector (:func:`sector_basis`; the partner of the
    state at position r is r ± C(b, i), i the number of set bits below b), or with ``full=True``
    all 2^N states in order (partner r ± 2^b).  Every hopping matrix element is 2 h_b.
    """
    import scipy.sparse

    basis = np.asarray(basis, dtype=np.int64)
    dim = basis.size
    n = int(np.asarray(hopping).size) + 1
    binom = binomial_table(n)
    rows, cols, data = [np.arange(dim)], [np.arange(dim)], [np.asarray(diag, dtype=np.float64)]
    for bond, h in enumerate(np.asarray(hopping, dtype=np.float64)):
        if h == 0.0:
            continue
        lo = (basis >> bond) & 1
        r = np.flatnonzero(lo != ((basis >> (bond + 1)) & 1))
        if full:
            offset = np.int64(1) << bond
        else:
            offset = binom[bond, np.bitwise_count(basis[r] & ((1 << bond) - 1)).astype(np.int64)]
        rows.append(r)
        cols.append(r + np.where(lo[r] == 1, offset, -offset))  # the set bit moves up (+) or down (−)
        data.append(np.full(r.size, 2.0 * h))
    index_type = np.int32 if dim < 2**31 else np.int64
    matrix = scipy.sparse.coo_matrix(
        (np.concatenate(data), (np.concatenate(rows).astype(index_type), np.concatenate(cols).astype(index_type))),
        shape=(dim, dim)).tocsr()
    matrix.sort_indices()
    return matrix.indptr, matrix.indices, matrix.data


def is_pauli_operator(op: Any) -> bool:
    """Whether ``op`` is a :class:`~qlat.theories.pauli_sum.PauliSum` or a Qiskit ``SparsePauliOp``.

    The Qiskit type is checked only when Qiskit is already imported (an object of it cannot
    exist otherwise), so exact diagonalization never imports Qiskit.
    """
    if isinstance(op, PauliSum):
        return True
    quantum_info = sys.modules.get("qiskit.quantum_info")
    return quantum_info is not None and isinstance(op, quantum_info.SparsePauliOp)


def pauli_masks(op: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x masks, z masks, coefficients) with op = Σ_t c_t Z^{z_t} X^{x_t}.

    ``op`` is a :class:`~qlat.theories.pauli_sum.PauliSum` (:meth:`~PauliSum.masks`) or a Qiskit
    ``SparsePauliOp``.
    """
    if isinstance(op, PauliSum):
        return op.masks()
    paulis = op.paulis
    weights = 1 << np.arange(op.num_qubits, dtype=np.int64)
    x = paulis.x.astype(np.int64)
    z = paulis.z.astype(np.int64)
    # Qiskit: P = (−i)^{phase} · label, and the label's Y = −i Z X, so P = (−i)^{phase + #Y} Z^z X^x
    n_y = np.sum(x & z, axis=1)
    coeff = np.asarray(op.coeffs, dtype=np.complex128) * (-1j) ** ((paulis.phase + n_y) % 4)
    return x @ weights, z @ weights, np.ascontiguousarray(coeff)


def pauli_expectations(state: np.ndarray, support: np.ndarray, x_mask: np.ndarray, z_mask: np.ndarray,
                       coeff: np.ndarray) -> float:
    """Re Σ_t c_t ⟨ψ|Z^{z_t} X^{x_t}|ψ⟩ summed over ``support`` (the nonzero entries of a full 2^N ``state``).

    Masks as int64 bit masks (:func:`pauli_masks`); the coefficient of a diagonal term (x = 0)
    must be real (Hermitian operator).
    """
    state = np.ascontiguousarray(state, dtype=np.complex128)
    support = np.ascontiguousarray(support, dtype=np.int64)
    if support.size >= COMPILED_MIN_STATES:
        from qlat.exact.pauli_kernels import full_state_expectation

        return full_state_expectation(state, support, x_mask, z_mask, coeff)
    amp = state[support]
    prob = amp.real**2 + amp.imag**2
    total = 0.0
    for x, z, c in zip(x_mask, z_mask, coeff):
        sign = 1 - 2 * (np.bitwise_count(support & z).astype(np.int64) & 1)
        if x == 0:
            total += c.real * float(np.dot(prob, sign))
        else:
            total += float(np.real(c * np.sum(np.conj(amp) * sign * state[support ^ x])))
    return total


def sector_pauli_expectations(vector: np.ndarray, basis: np.ndarray, x_mask: np.ndarray, z_mask: np.ndarray,
                              coeff: np.ndarray) -> float:
    """Re Σ_t c_t ⟨ψ|Z^{z_t} X^{x_t}|ψ⟩ for ψ given on a complete sorted sector ``basis``.

    Terms that leave the sector contribute nothing; the coefficient of a diagonal term must be
    real (Hermitian operator).
    """
    vector = np.ascontiguousarray(vector, dtype=np.complex128)
    basis = np.ascontiguousarray(basis, dtype=np.int64)
    if basis.size >= COMPILED_MIN_STATES:
        from qlat.exact.pauli_kernels import sector_expectation

        n = max(int(basis.max()).bit_length(), int(np.max(x_mask, initial=0)).bit_length(), 1)
        return sector_expectation(vector, basis, binomial_table(n + 1), x_mask, z_mask, coeff)
    prob = vector.real**2 + vector.imag**2
    total = 0.0
    for x, z, c in zip(x_mask, z_mask, coeff):
        sign = 1 - 2 * (np.bitwise_count(basis & z).astype(np.int64) & 1)
        if x == 0:
            total += c.real * float(np.dot(prob, sign))
            continue
        partner = basis ^ x
        pos = np.minimum(np.searchsorted(basis, partner), basis.size - 1)
        inside = basis[pos] == partner
        total += float(np.real(c * np.sum((np.conj(vector) * sign * vector[pos])[inside])))
    return total
