r"""Measurement recipes for shot-based estimates of Pauli-sum observables.

A Hermitian ``SparsePauliOp`` O = c₀·1 + Σ_t c_t P_t is estimated from shots measured in a few
per-qubit bases.  The Pauli terms are split into qubit-wise commuting groups; each group is
measured in one basis string B (Qiskit label order: the rightmost character is qubit 0),
obtained by rotating each qubit before a computational-basis measurement (H for X, S†·H for Y,
nothing for Z or I).  On a shot with bits s_q (bit q = qubit q, 0 ↔ eigenvalue +1) a term P_t
of the group takes the value Π_{q ∈ supp P_t} (−1)^{s_q}.

Estimator (one group g measured with n_g shots): per shot, o_g = Σ_{t∈g} c_t P_t(shot); the
terms of one basis are correlated, so the group's mean ō_g has variance Var(o_g)/n_g with the
sample variance of the per-shot sums.  Independent bases add:
⟨O⟩ ≈ c₀ + Σ_g ō_g,  σ² = Σ_g s²_g/n_g,  the identity coefficient c₀ is exact.

For the Schwinger Hamiltonian the groups are the diagonal terms (basis Z…Z), the XX terms
(X…X) and the YY terms (Y…Y): three bases for any N.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError, require, require_int

__all__ = [
    "basis_rotation",
    "estimate_from_samples",
    "measurement_bases",
    "measurement_probabilities",
    "observable_bases",
    "sample_bitstrings_from_statevector",
]

_LETTERS = "IXYZ"
_HERMITIAN_ATOL = 1e-10


def _term_letters(op: SparsePauliOp) -> list[str]:
    """Per-term per-qubit letters, index q = qubit q (i.e. each Qiskit label reversed)."""
    return [label[::-1] for label in op.paulis.to_labels()]


def _qubit_wise_groups(op: SparsePauliOp) -> tuple[list[int], list[tuple[str, list[int]]]]:
    """Identity term indices and [(basis, term indices)] of a deterministic qubit-wise grouping.

    Diagonal (I/Z) terms form one group measured in Z…Z.  The other terms, taken by decreasing
    weight then label, go first-fit into the first basis that agrees with them on every qubit
    where both act; qubits a group leaves free are measured in Z.  Bases are returned in
    Qiskit label order.
    """
    n = op.num_qubits
    letters = _term_letters(op)
    identity: list[int] = []
    diagonal: list[int] = []
    others: list[int] = []
    for t, lt in enumerate(letters):
        if set(lt) <= {"I"}:
            identity.append(t)
        elif set(lt) <= {"I", "Z"}:
            diagonal.append(t)
        else:
            others.append(t)
    groups: list[tuple[list[str], list[int]]] = []
    if diagonal:
        groups.append((["Z"] * n, diagonal))
    others.sort(key=lambda t: (-sum(c != "I" for c in letters[t]), letters[t]))
    open_groups: list[tuple[list[str], list[int]]] = []
    for t in others:
        lt = letters[t]
        for basis, members in open_groups:
            if all(c == "I" or b in ("", c) for b, c in zip(basis, lt)):
                for q, c in enumerate(lt):
                    if c != "I":
                        basis[q] = c
                members.append(t)
                break
        else:
            open_groups.append(([c if c != "I" else "" for c in lt], [t]))
    for basis, members in open_groups:
        groups.append(([b or "Z" for b in basis], members))
    return identity, [("".join(basis)[::-1], members) for basis, members in groups]


def measurement_bases(operator: SparsePauliOp) -> list[str]:
    """The measurement bases (one per qubit-wise commuting group) that estimate ``operator``.

    Each basis is a string of X/Y/Z of length N in Qiskit label order (rightmost = qubit 0).
    The diagonal terms share the single basis ``"Z"*N``; an operator that is a multiple of the
    identity needs no basis (empty list).  The Schwinger Hamiltonian needs exactly
    ``["Z"*N, "X"*N, "Y"*N]``.
    """
    require(isinstance(operator, SparsePauliOp), "operator", "must be a SparsePauliOp", type(operator).__name__)
    _, groups = _qubit_wise_groups(operator)
    return [basis for basis, _ in groups]


def observable_bases(observable: Any) -> list[str]:
    """The bases that estimate every component of a qubit observable (``.operators``: SparsePauliOps).

    The union, in first-seen order, of :func:`measurement_bases` over the components; a diagonal
    observable needs the single basis ``"Z"*N``.
    """
    bases: list[str] = []
    for op in observable.operators:
        for basis in measurement_bases(op):
            if basis not in bases:
                bases.append(basis)
    return bases


def _check_basis(basis: str, n_qubits: int | None = None) -> str:
    require(
        isinstance(basis, str) and len(basis) >= 1 and set(basis) <= set(_LETTERS),
        "basis",
        "must be a non-empty string of I, X, Y, Z (Qiskit label order)",
        basis,
    )
    if n_qubits is not None:
        require(len(basis) == n_qubits, "basis", f"must have one letter per qubit ({n_qubits})", basis)
    return basis


def basis_rotation(basis: str) -> QuantumCircuit:
    """The circuit to append before a Z measurement so that it measures ``basis``.

    Per qubit q (the character ``basis[-1 - q]``): H for X, S† then H for Y (maps the +1
    eigenstate of Y to |0⟩), nothing for Z or I.
    """
    _check_basis(basis)
    n = len(basis)
    qc = QuantumCircuit(n, name=f"measure_{basis}")
    for q in range(n):
        letter = basis[n - 1 - q]
        if letter == "X":
            qc.h(q)
        elif letter == "Y":
            qc.sdg(q)
            qc.h(q)
    return qc


_H = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=complex) / math.sqrt(2.0)
_SDG = np.diag([1.0, -1j])
_ROTATIONS = {"X": _H, "Y": _H @ _SDG}


def measurement_probabilities(state: np.ndarray, basis: str) -> np.ndarray:
    """Born probabilities of the 2^N outcomes of measuring ``state`` in ``basis``.

    ``state`` is a normalized statevector of length 2^N (Qiskit little-endian order); the
    :func:`basis_rotation` unitaries are applied and |amplitude|² returned, index k = outcome
    whose bit q is the measured bit of qubit q.
    """
    psi = np.asarray(state, dtype=complex).reshape(-1)
    n = int(round(math.log2(psi.shape[0]))) if psi.shape[0] > 0 else 0
    require(n >= 1 and psi.shape[0] == 2**n, "state", "must have length 2^N with N >= 1", psi.shape[0])
    norm = float(np.vdot(psi, psi).real)
    require(abs(norm - 1.0) < 1e-8, "state", "must be normalized", norm)
    _check_basis(basis, n)
    # C-order reshape: axis k holds qubit N-1-k (index = Σ_q bit_q 2^q).
    tensor = psi.reshape((2,) * n)
    for q in range(n):
        letter = basis[n - 1 - q]
        if letter in _ROTATIONS:
            axis = n - 1 - q
            tensor = np.moveaxis(np.tensordot(_ROTATIONS[letter], tensor, axes=([1], [axis])), 0, axis)
    probs = np.abs(tensor.reshape(-1)) ** 2
    return probs / probs.sum()


def sample_bitstrings_from_statevector(
    state: np.ndarray, basis: str, shots: int, *, rng: np.random.Generator
) -> np.ndarray:
    """Exact sampling of ``shots`` measurements of ``state`` in ``basis``.

    Draws outcomes from :func:`measurement_probabilities`.  Returns an int8 array of shape
    (shots, N), column q = bit of qubit q (0 ↔ eigenvalue +1).
    """
    require_int(shots, "shots", minimum=1)
    require(isinstance(rng, np.random.Generator), "rng", "must be a numpy Generator", type(rng).__name__)
    probs = measurement_probabilities(state, basis)
    n = len(basis)
    outcomes = rng.choice(probs.shape[0], size=int(shots), p=probs)
    return ((outcomes[:, None] >> np.arange(n)) & 1).astype(np.int8)


def _compatible(basis_letters: str, term_letters: str) -> bool:
    """Whether a term (per-qubit letters) is diagonal in a basis (per-qubit letters)."""
    return all(c == "I" or c == b or (c == "Z" and b == "I") for b, c in zip(basis_letters, term_letters))


def estimate_from_samples(operator: SparsePauliOp, samples: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """Mean and standard error of ⟨operator⟩ from shots measured in several bases.

    ``samples[basis]`` is an integer array of shape (shots, N) of measured bits, column q =
    qubit q, 0 ↔ eigenvalue +1, for each basis of :func:`measurement_bases` (Qiskit label
    order).  Each non-identity term is assigned to its group's basis, or, if that basis was not
    measured, to the first measured basis in which it is diagonal (so a condensate can be read
    from the Z…Z shots of an energy run).  See the module docstring for the estimator.

    Raises :class:`ParameterError` when a needed basis is missing, when a sample array has the
    wrong shape or fewer than 2 shots, or when the operator is not Hermitian.
    """
    require(isinstance(operator, SparsePauliOp), "operator", "must be a SparsePauliOp", type(operator).__name__)
    n = operator.num_qubits
    coeffs = np.asarray(operator.coeffs)
    require(
        bool(np.all(np.abs(coeffs.imag) <= _HERMITIAN_ATOL * max(1.0, float(np.max(np.abs(coeffs), initial=0.0))))),
        "operator",
        "must be Hermitian (real Pauli coefficients)",
    )
    coeffs = coeffs.real
    identity, groups = _qubit_wise_groups(operator)
    letters = _term_letters(operator)

    available = {}
    for basis, bits in samples.items():
        _check_basis(basis, n)
        arr = np.asarray(bits)
        require(
            arr.ndim == 2 and arr.shape[1] == n and arr.shape[0] >= 2,
            f"samples[{basis!r}]",
            f"must be an array of shape (shots >= 2, {n})",
            arr.shape,
        )
        require(
            np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool,
            f"samples[{basis!r}]",
            "must hold integer bits 0/1",
            arr.dtype,
        )
        available[basis] = arr
    available_letters = {b: b[::-1] for b in available}

    assigned: dict[str, list[int]] = {}
    for basis, members in groups:
        for t in members:
            if basis in available:
                target = basis
            else:
                found = next((b for b in available if _compatible(available_letters[b], letters[t])), None)
                if found is not None:
                    target = found
                if found is None:
                    have = ", ".join(sorted(available)) or "none"
                    raise ParameterError(
                        "samples",
                        f"missing measurement basis {basis!r} needed for term "
                        f"{operator.paulis[t].to_label()} (measured bases: {have})",
                    )
            assigned.setdefault(target, []).append(t)

    mean = float(np.sum(coeffs[identity]))
    variance = 0.0
    for basis, members in assigned.items():
        bits = available[basis].astype(np.int64)
        support = np.array([[c != "I" for c in letters[t]] for t in members], dtype=np.int64)  # (T, N)
        values = 1.0 - 2.0 * ((bits @ support.T) % 2)  # (shots, T), ±1 per term
        per_shot = values @ coeffs[members]
        shots = per_shot.shape[0]
        mean += float(per_shot.mean())
        variance += float(per_shot.var(ddof=1)) / shots
    return mean, math.sqrt(variance)
