r"""A Pauli sum O = Σ_t c_t P_t on N qubits, without Qiskit (the model layer's operator form).

Qubit observables and Hamiltonians are written as sparse lists of terms ``(label, qubits, c)``,
``label`` a string over ``XYZ`` acting on the listed qubits (little-endian, qubit n = site n, as
in Qiskit's ``SparsePauliOp.from_sparse_list``), the empty label being the identity.  Exact
diagonalization reads the terms as bit masks (:meth:`PauliSum.masks`), so it never imports
Qiskit (≈ 0.25 s of start-up for ``qlat schwinger exact``, issue 12); simulators and hardware
convert once with :meth:`PauliSum.to_sparse_pauli_op`.

Mask form.  With x, z the bit masks of the X/Y and Z/Y positions of a term,

.. math::  P = (-i)^{n_Y}\, Z^{z} X^{x},

since Y = −i Z X on one qubit; :meth:`masks` returns (x, z, c·(−i)^{n_Y}), the form the sector
kernels of :mod:`qlat.exact.sector_operators` evaluate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

__all__ = ["PauliSum"]

Term = tuple[str, tuple[int, ...], complex]


def _canonical(label: str, qubits: Sequence[int]) -> tuple[str, tuple[int, ...]]:
    """The term's label and qubits sorted by qubit, identity factors dropped."""
    pairs = sorted((int(q), p) for p, q in zip(label, qubits) if p != "I")
    return "".join(p for _, p in pairs), tuple(q for q, _ in pairs)


#: Single-qubit products P·Q = phase · R ("" for the identity).
_PRODUCT: dict[tuple[str, str], tuple[complex, str]] = {
    ("X", "X"): (1.0, ""), ("Y", "Y"): (1.0, ""), ("Z", "Z"): (1.0, ""),
    ("X", "Y"): (1j, "Z"), ("Y", "Z"): (1j, "X"), ("Z", "X"): (1j, "Y"),
    ("Y", "X"): (-1j, "Z"), ("Z", "Y"): (-1j, "X"), ("X", "Z"): (-1j, "Y"),
}


@dataclass(frozen=True)
class PauliSum:
    """Σ_t c_t P_t on ``num_qubits`` qubits; ``terms`` are canonical ``(label, qubits, c)``.

    Build with :meth:`from_sparse_list`; ``+``, ``−``, scalar ``*`` and ``/`` give new sums
    (terms concatenated; :meth:`simplify` merges equal Pauli strings).
    """

    terms: tuple[Term, ...]
    num_qubits: int

    @classmethod
    def from_sparse_list(cls, terms: Iterable[tuple[str, Sequence[int], complex | float]], *,
                         num_qubits: int) -> PauliSum:
        """From ``(label, qubits, coefficient)`` triples, as ``SparsePauliOp.from_sparse_list``."""
        require(isinstance(num_qubits, (int, np.integer)) and num_qubits >= 1, "num_qubits", "must be >= 1",
                num_qubits)
        out: list[Term] = []
        for label, qubits, coeff in terms:
            qubits = [int(q) for q in qubits]
            require(len(label) == len(qubits), "terms", "each label needs one qubit per letter", (label, qubits))
            require(set(label) <= set("IXYZ"), "terms", "labels are made of I, X, Y, Z", label)
            require(len(set(qubits)) == len(qubits), "terms", "a term names each qubit at most once", qubits)
            require(all(0 <= q < num_qubits for q in qubits), "terms", f"qubits must lie in [0, {num_qubits})",
                    qubits)
            canon_label, canon_qubits = _canonical(label, qubits)
            out.append((canon_label, canon_qubits, complex(coeff)))
        return cls(tuple(out), int(num_qubits))

    # --- algebra -----------------------------------------------------------------------------
    def _check_same_size(self, other: PauliSum) -> None:
        require(other.num_qubits == self.num_qubits, "other", f"must act on {self.num_qubits} qubits",
                other.num_qubits)

    def __add__(self, other: PauliSum) -> PauliSum:
        self._check_same_size(other)
        return PauliSum(self.terms + other.terms, self.num_qubits)

    def __sub__(self, other: PauliSum) -> PauliSum:
        return self + other * -1.0

    def __mul__(self, factor: complex | float) -> PauliSum:
        return PauliSum(tuple((p, q, c * factor) for p, q, c in self.terms), self.num_qubits)

    __rmul__ = __mul__

    def __truediv__(self, divisor: complex | float) -> PauliSum:
        return self * (1.0 / divisor)

    def compose(self, other: PauliSum) -> PauliSum:
        """The operator product self·other (terms multiplied pairwise with the Pauli phases; not simplified)."""
        self._check_same_size(other)
        out: list[Term] = []
        for la, qa, ca in self.terms:
            left = dict(zip(qa, la))
            for lb, qb, cb in other.terms:
                letters = dict(left)
                phase: complex = 1.0
                for q, p in zip(qb, lb):
                    if q not in letters:
                        letters[q] = p
                        continue
                    factor, product = _PRODUCT[(letters[q], p)]
                    phase *= factor
                    if product:
                        letters[q] = product
                    else:
                        del letters[q]
                qubits = tuple(sorted(letters))
                out.append(("".join(letters[q] for q in qubits), qubits, ca * cb * phase))
        return PauliSum(tuple(out), self.num_qubits)

    def z_linear(self) -> tuple[float, np.ndarray] | None:
        """(c₀, c) with O = c₀ + Σ_n c_n Z_n (real parts), or None when O has any other term."""
        constant, linear = 0.0, np.zeros(self.num_qubits)
        for label, qubits, c in self.terms:
            if label == "":
                constant += float(c.real)
            elif label == "Z":
                linear[qubits[0]] += float(c.real)
            else:
                return None
        return constant, linear

    def simplify(self, *, atol: float = 1e-14) -> PauliSum:
        """Equal Pauli strings merged (first-seen order); terms with |c| ≤ atol dropped."""
        merged: dict[tuple[str, tuple[int, ...]], complex] = {}
        for label, qubits, coeff in self.terms:
            merged[(label, qubits)] = merged.get((label, qubits), 0.0) + coeff
        kept = tuple((p, q, c) for (p, q), c in merged.items() if abs(c) > atol)
        return PauliSum(kept or (("", (), 0j),), self.num_qubits)

    # --- views ---------------------------------------------------------------------------------
    @property
    def is_diagonal(self) -> bool:
        """Whether every term is made of I and Z only."""
        return all(set(label) <= {"Z"} for label, _, _ in self.terms)

    def masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x masks, z masks, coefficients) with O = Σ_t c'_t Z^{z_t} X^{x_t}, c' = c·(−i)^{n_Y}."""
        x = np.zeros(len(self.terms), dtype=np.int64)
        z = np.zeros(len(self.terms), dtype=np.int64)
        coeff = np.empty(len(self.terms), dtype=np.complex128)
        for t, (label, qubits, c) in enumerate(self.terms):
            n_y = 0
            for p, q in zip(label, qubits):
                bit = 1 << q
                if p in "XY":
                    x[t] |= bit
                if p in "ZY":
                    z[t] |= bit
                n_y += p == "Y"
            coeff[t] = c * (-1j) ** n_y
        return x, z, coeff

    def to_sparse_pauli_op(self) -> SparsePauliOp:
        """The same operator as a Qiskit ``SparsePauliOp`` (imports Qiskit)."""
        from qiskit.quantum_info import SparsePauliOp

        terms: list[Any] = [(p, list(q), c) for p, q, c in self.terms]
        return SparsePauliOp.from_sparse_list(terms, num_qubits=self.num_qubits)
