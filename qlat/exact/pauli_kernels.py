r"""Compiled (numba) Pauli expectation values on a full state's support or on sector vectors.

⟨ψ|Z^z X^x|ψ⟩ = Σ_k ψ_k^* (−1)^{|k∧z|} ψ_{k⊕x}.  On a full 2^N vector the partner amplitude is
read at index k ⊕ x; on vectors over a complete sorted sector at the rank of k ⊕ x
(combinatorial number system, Σ_i C(b_i, i) over the set bits b_1 < b_2 < …).  One pass over
the support per X-type term, one shared weighted sum for all diagonal terms.  Used by
:mod:`qlat.exact.sector_operators` above a few thousand states (numba's import and cache load
would dominate below), and by the statevector simulator.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["full_state_expectation", "sector_expectation"]


@nb.njit(cache=True, nogil=True, inline="always")
def _parity(v):  # pragma: no cover - compiled
    v ^= v >> 32
    v ^= v >> 16
    v ^= v >> 8
    v ^= v >> 4
    v ^= v >> 2
    v ^= v >> 1
    return v & 1


@nb.njit(cache=True, nogil=True)
def _expectation_kernel(state, support, x_mask, z_mask, coeff):  # pragma: no cover - compiled
    out = 0.0
    diag = np.zeros(support.size)
    has_diag = False
    for t in range(x_mask.size):
        x = x_mask[t]
        z = z_mask[t]
        c = coeff[t]
        if x == 0:
            has_diag = True
            for i in range(support.size):
                k = support[i]
                if _parity(k & z):
                    diag[i] -= c.real
                else:
                    diag[i] += c.real
        else:
            acc = 0j
            for i in range(support.size):
                k = support[i]
                v = state[k].conjugate() * state[k ^ x]
                if _parity(k & z):
                    acc -= v
                else:
                    acc += v
            out += (c * acc).real
    if has_diag:
        for i in range(support.size):
            v = state[support[i]]
            out += diag[i] * (v.real * v.real + v.imag * v.imag)
    return out


@nb.njit(cache=True, nogil=True)
def _rank(x, binom):  # pragma: no cover - compiled
    r = 0
    i = 1
    b = 0
    while x:
        if x & 1:
            r += binom[b, i]
            i += 1
        x >>= 1
        b += 1
    return r


@nb.njit(cache=True, nogil=True)
def _sector_expectation_kernel(vec, basis, binom, x_mask, z_mask, coeff):  # pragma: no cover - compiled
    out = 0.0
    diag = np.zeros(basis.size)
    has_diag = False
    for t in range(x_mask.size):
        x = x_mask[t]
        z = z_mask[t]
        c = coeff[t]
        if x == 0:
            has_diag = True
            for i in range(basis.size):
                if _parity(basis[i] & z):
                    diag[i] -= c.real
                else:
                    diag[i] += c.real
        else:
            acc = 0j
            for i in range(basis.size):
                k = basis[i]
                partner = k ^ x
                if _popcount(partner) != _popcount(k):
                    continue  # leaves the sector: no contribution
                v = np.conj(vec[i]) * vec[_rank(partner, binom)]
                if _parity(k & z):
                    acc -= v
                else:
                    acc += v
            out += (c * acc).real
    if has_diag:
        for i in range(basis.size):
            v = vec[i]
            out += diag[i] * (v.real * v.real + v.imag * v.imag)
    return out


@nb.njit(cache=True, nogil=True, inline="always")
def _popcount(v):  # pragma: no cover - compiled
    c = 0
    while v:
        v &= v - 1
        c += 1
    return c



def full_state_expectation(state: np.ndarray, support: np.ndarray, x_mask: np.ndarray, z_mask: np.ndarray,
                           coeff: np.ndarray) -> float:
    """Re Σ_t c_t ⟨ψ|Z^{z_t} X^{x_t}|ψ⟩ summed over ``support`` (full 2^N complex128 ``state``)."""
    return float(_expectation_kernel(state, support, x_mask, z_mask, coeff))


def sector_expectation(vector: np.ndarray, basis: np.ndarray, binom: np.ndarray, x_mask: np.ndarray,
                       z_mask: np.ndarray, coeff: np.ndarray) -> float:
    """Re Σ_t c_t ⟨ψ|Z^{z_t} X^{x_t}|ψ⟩ for ψ on a complete sorted sector (``binom``: C(b, i) table)."""
    return float(_sector_expectation_kernel(vector, basis, binom, x_mask, z_mask, coeff))
