r"""Gauss-law post-selection: keep only the Sampler shots with total charge Σ_n Q_n = 0.

The adiabatic evolution starts in the bare vacuum, which has total charge
Q = Σ_n Q_n = ½ Σ_n Z_n = 0 (N even, :mod:`qlat.theories.schwinger_observables`), and every Trotter layer
conserves Q.  On hardware, gate and readout errors leak population into Q ≠ 0 sectors, which the
eliminated gauge field (Gauss's law) forbids.  A shot whose measured bits have Q ≠ 0, i.e. whose
number of 1-bits is not N/2, is unphysical and is discarded; the discarded fraction is reported.

Charge-conserving measurement bases.  Post-selection needs Q on *every* shot, but the energy's
hopping terms h_n (X_nX_{n+1} + Y_nY_{n+1}) are not diagonal in Z.  Measuring them in X…X / Y…Y
would destroy the charge information, so instead each bond pair (a, a+1) is rotated by the
number-conserving two-qubit gate V = XXPlusYY(π/2, −π/2) (a Givens rotation inside the
one-excitation subspace, |00⟩ and |11⟩ untouched), for which

.. math::  V\,(X_aX_b + Y_aY_b)\,V^\dagger = Z_b - Z_a, \qquad V\,(Z_a + Z_b)\,V^\dagger = Z_a + Z_b.

Three bases measure every term of the Schwinger Hamiltonian and keep Q on every shot:
``"Z"`` (all diagonal terms: electric energy, mass, condensate, charges, fields), ``"P0"`` (V on
the even bonds (0,1), (2,3) …) and ``"P1"`` (V on the odd bonds (1,2), (3,4) …; qubits 0 and
N−1 read in Z).  In each basis an observable is a diagonal operator, estimated from the kept
shots with the shot-noise error σ² = s²/n_kept per basis, independent bases adding in quadrature
(as in :func:`qlat.quantum.measurement.estimate_from_samples`).  Post-selection is the
symmetry-verification idea of Bonet-Monroig et al. (arXiv:1807.10050) with Gauss's law as the
symmetry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qlat.core.errors import NoRealizationError, ParameterError, require

#: The charge-conserving measurement bases (module docstring).
PAIR_BASES: tuple[str, ...] = ("Z", "P0", "P1")

_ATOL = 1e-12


def pair_rotation(n_qubits: int, basis: str) -> Any:
    """The circuit (on logical qubits 0..N−1) that rotates ``basis`` onto a Z measurement."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import XXPlusYYGate

    require(basis in PAIR_BASES, "basis", f"must be one of {', '.join(PAIR_BASES)}", basis)
    qc = QuantumCircuit(n_qubits, name=f"measure_{basis}")
    if basis == "Z":
        return qc
    parity = int(basis[1])
    for a in range(parity, n_qubits - 1, 2):
        qc.append(XXPlusYYGate(math.pi / 2, -math.pi / 2), [a, a + 1])
    return qc


def split_operator(operator: Any) -> dict[str, Any]:
    """Split a Hermitian ``SparsePauliOp`` into a constant and one diagonal part per basis.

    Returns ``{"const": c, "parts": {basis: [[label, coeff], ...]}}`` with Qiskit labels of I/Z
    only: the operator measured in the rotated frame of that basis.  Diagonal terms go to
    ``"Z"``; a hopping pair h(X_aX_{a+1} + Y_aY_{a+1}) becomes h(Z_{a+1} − Z_a) in ``"P<a mod 2>"``.
    Any other term raises :class:`NoRealizationError`.
    """
    from qiskit.quantum_info import SparsePauliOp

    require(isinstance(operator, SparsePauliOp), "operator", "must be a SparsePauliOp", type(operator).__name__)
    n = operator.num_qubits
    const = 0.0
    parts: dict[str, dict[str, float]] = {b: {} for b in PAIR_BASES}
    xx: dict[int, float] = {}
    yy: dict[int, float] = {}
    for label, coeff in operator.simplify(atol=0.0).to_list():
        if abs(coeff.imag) > _ATOL * max(1.0, abs(coeff)):
            raise ParameterError("operator", "must be Hermitian (real Pauli coefficients)", label)
        c = float(coeff.real)
        letters = label[::-1]  # index q = qubit q
        support = [q for q, ch in enumerate(letters) if ch != "I"]
        if not support:
            const += c
            continue
        if set(letters) <= {"I", "Z"}:
            parts["Z"][label] = parts["Z"].get(label, 0.0) + c
            continue
        if len(support) == 2 and support[1] == support[0] + 1 and letters[support[0]] == letters[support[1]]:
            kind = letters[support[0]]
            if kind == "X":
                xx[support[0]] = xx.get(support[0], 0.0) + c
                continue
            if kind == "Y":
                yy[support[0]] = yy.get(support[0], 0.0) + c
                continue
        raise NoRealizationError(
            f"term {label} is neither diagonal nor a hopping pair XX+YY on neighbours: "
            "the charge-conserving measurement cannot estimate it (use the Estimator)")
    for a in sorted(set(xx) | set(yy)):
        h = xx.get(a, 0.0)
        if abs(h - yy.get(a, 0.0)) > 1e-10 * max(1.0, abs(h)):
            raise NoRealizationError(f"bond ({a},{a + 1}) has XX and YY with different coefficients: not a hopping "
                                     "term the charge-conserving measurement can estimate")
        basis = f"P{a % 2}"
        z_b = ["I"] * n
        z_b[a + 1] = "Z"
        z_a = ["I"] * n
        z_a[a] = "Z"
        for letters, sign in ((z_b, 1.0), (z_a, -1.0)):
            label = "".join(letters)[::-1]
            parts[basis][label] = parts[basis].get(label, 0.0) + sign * h
    return {"const": const, "parts": {b: [[lab, c] for lab, c in sorted(p.items()) if c != 0.0]
                                      for b, p in parts.items() if p}}


def needed_bases(splits: Sequence[Mapping[str, Any]]) -> list[str]:
    """The bases (in :data:`PAIR_BASES` order) that any of the split operators needs."""
    used = {b for s in splits for b, terms in s["parts"].items() if terms}
    return [b for b in PAIR_BASES if b in used] or ["Z"]


def zero_charge_mask(bits: np.ndarray) -> np.ndarray:
    """True for the shots with total charge ½ Σ Z_n = 0, i.e. N/2 one-bits (bit 1 ↔ Z = −1)."""
    arr = np.asarray(bits)
    require(arr.ndim == 2 and arr.shape[1] % 2 == 0, "bits", "must have shape (shots, N) with N even", arr.shape)
    return arr.astype(np.int64).sum(axis=1) == arr.shape[1] // 2


def diagonal_values(terms: Sequence[Sequence[Any]], bits: np.ndarray) -> np.ndarray:
    """Per-shot value Σ_t c_t Π_{q∈t} (−1)^{bit_q} of a diagonal operator given as [[label, c], ...]."""
    arr = np.asarray(bits).astype(np.int64)
    n = arr.shape[1]
    out = np.zeros(arr.shape[0])
    for label, coeff in terms:
        require(len(label) == n and set(label) <= {"I", "Z"}, "terms", f"must be I/Z labels of length {n}", label)
        support = np.array([ch == "Z" for ch in label[::-1]], dtype=np.int64)
        out += float(coeff) * (1.0 - 2.0 * ((arr @ support) % 2))
    return out


def estimate_split(
    split: Mapping[str, Any], bits_by_basis: Mapping[str, np.ndarray], *, postselect: bool
) -> tuple[float, float, int]:
    """(mean, standard error, fewest shots used in a basis) of one split operator.

    With ``postselect`` only the zero-charge shots of each basis are used.
    """
    mean = float(split["const"])
    variance = 0.0
    used = None
    for basis, terms in split["parts"].items():
        if not terms:
            continue
        if basis not in bits_by_basis:
            raise ParameterError("samples", f"missing measurement basis {basis!r}", sorted(bits_by_basis))
        bits = np.asarray(bits_by_basis[basis])
        if postselect:
            bits = bits[zero_charge_mask(bits)]
        if bits.shape[0] < 2:
            raise ParameterError("shots", f"fewer than 2 shots left in basis {basis!r} after post-selection; "
                                 "use more shots", int(bits.shape[0]))
        values = diagonal_values(terms, bits)
        mean += float(values.mean())
        variance += float(values.var(ddof=1)) / values.shape[0]
        used = values.shape[0] if used is None else min(used, values.shape[0])
    return mean, math.sqrt(variance), int(used or 0)


def discarded_fraction(bits_by_basis: Mapping[str, np.ndarray]) -> tuple[float, float, int]:
    """Fraction of all shots with Q ≠ 0, its binomial error √(p(1−p)/n), and n."""
    total = 0
    bad = 0
    for bits in bits_by_basis.values():
        mask = zero_charge_mask(bits)
        total += int(mask.size)
        bad += int((~mask).sum())
    require(total > 0, "samples", "must hold at least one shot", total)
    p = bad / total
    return p, math.sqrt(max(p * (1.0 - p), 0.0) / total), total


# --------------------------------------------------------------------------- readout correction
def assignment_matrices(zeros: np.ndarray, ones: np.ndarray) -> np.ndarray:
    r"""Per-qubit readout assignment matrices from two calibration runs (all |0⟩, all |1⟩).

    ``zeros`` / ``ones``: bool arrays (shots, Q) measured after preparing every qubit in |0⟩ / |1⟩.
    Returns shape (Q, 2, 2) with A_q[i, j] = P(read i | prepared j) (columns sum to one).
    """
    z = np.asarray(zeros, dtype=float)
    o = np.asarray(ones, dtype=float)
    require(z.ndim == 2 and o.ndim == 2 and z.shape[1] == o.shape[1], "calibration",
            "must be two (shots, qubits) bit arrays", (z.shape, o.shape))
    p1_given0 = z.mean(axis=0)
    p1_given1 = o.mean(axis=0)
    mats = np.empty((z.shape[1], 2, 2))
    mats[:, 0, 0] = 1.0 - p1_given0
    mats[:, 1, 0] = p1_given0
    mats[:, 0, 1] = 1.0 - p1_given1
    mats[:, 1, 1] = p1_given1
    if np.any(np.abs(np.linalg.det(mats)) < 1e-3):
        raise ParameterError("calibration", "a readout assignment matrix is singular (readout error near 50 %)")
    return mats


def _apply_inverse_transpose(vector: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """(⊗_q A_q)^{-T} · vector for a vector over the 2^N outcomes (index Σ bit_q 2^q)."""
    n = mats.shape[0]
    tensor = np.asarray(vector, dtype=float).reshape((2,) * n)  # axis k holds qubit n-1-k
    for q in range(n):
        m = np.linalg.inv(mats[q]).T
        axis = n - 1 - q
        tensor = np.moveaxis(np.tensordot(m, tensor, axes=([1], [axis])), 0, axis)
    return tensor.reshape(-1)


#: Above this many qubits the 2^N readout correction is refused (memory and time).
READOUT_MAX_QUBITS = 20


def estimate_split_readout(
    split: Mapping[str, Any], bits_by_basis: Mapping[str, np.ndarray], mats_by_basis: Mapping[str, np.ndarray],
    *, postselect: bool,
) -> tuple[float, float, int]:
    r"""Readout-corrected (and optionally post-selected) estimate of one split operator.

    In each basis the measured outcome frequencies p are corrected with the tensored inverse of
    the calibrated assignment matrices, q = (⊗A_q)^{-1} p (a quasi-distribution); with
    post-selection the value is the ratio R = Σ_{x∈S} f(x) q(x) / Σ_{x∈S} q(x) over the
    zero-charge outcomes S.  Writing w = A^{-T}(f·1_S) and u = A^{-T} 1_S, R = (w·p)/(u·p), and
    the delta method gives the shot-noise variance Var_p[(w − R u)/(u·p)]/n (multinomial p).
    """
    mean = float(split["const"])
    variance = 0.0
    used = None
    for basis, terms in split["parts"].items():
        if not terms:
            continue
        bits = np.asarray(bits_by_basis[basis]).astype(np.int64)
        n_shots, n = bits.shape
        require(n <= READOUT_MAX_QUBITS, "n_sites", f"readout correction handles at most {READOUT_MAX_QUBITS} qubits",
                n)
        index = bits @ (1 << np.arange(n))
        p = np.bincount(index, minlength=1 << n) / n_shots
        outcomes = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(bool)
        f = diagonal_values(terms, outcomes)
        keep = zero_charge_mask(outcomes) if postselect else np.ones(1 << n, dtype=bool)
        mats = np.asarray(mats_by_basis[basis])
        w = _apply_inverse_transpose(np.where(keep, f, 0.0), mats)
        u = _apply_inverse_transpose(keep.astype(float), mats)
        denominator = float(u @ p)
        require(denominator > 0.05, "shots", "too few zero-charge shots survive the readout correction",
                denominator)
        ratio = float(w @ p) / denominator
        g = (w - ratio * u) / denominator
        mean += ratio
        variance += max(float(p @ g**2 - (p @ g) ** 2), 0.0) / n_shots
        kept = int(np.sum(keep[index]))
        used = kept if used is None else min(used, kept)
    return mean, math.sqrt(variance), int(used or 0)
