r"""⟨O⟩ of any qubit observable of the model on a TeNPy MPS (the DMRG and TDVP backends' one reader).

An observable is a :class:`~qlat.theories.pauli_sum.PauliSum` O = Σ_t c_t P_t (declared once in
:mod:`qlat.theories.schwinger_observables`); this module contracts it on an MPS of
:func:`qlat.exact.schwinger_mpo.spin_site` sites (qubit |0⟩ = spin up, Z = ``Sigmaz``), so the MPS
backends serve every observable the model declares, plug-ins included.  Per term:

- identity: c·⟨ψ|φ⟩ (1 for ⟨ψ|ψ⟩);
- Z_n: c·⟨Z_n⟩ from one sweep of ``expectation_value("Sigmaz")``;
- Z_m Z_n: c·⟨Z_m Z_n⟩ from one ``correlation_function("Sigmaz", "Sigmaz")`` (built on first need);
- anything else: X and Y are expanded in the charge-carrying ladder operators of the U(1)-conserving
  site, X = S⁺ + S⁻ and Y = −i(S⁺ − S⁻) (S⁺ = ``Sp`` = |0⟩⟨1|), and every product with as many S⁺
  as S⁻ is contracted by ``expectation_value_term`` (the others change the charge ½ Σ Z, which the
  MPS holds fixed, and vanish).

``mps_pauli_expectations(psi, ops)`` gives the real ⟨ψ|O|ψ⟩; ``mps_pauli_expectations(psi, ops, ket=phi)`` the
complex ⟨ψ|O|φ⟩ of two MPS of the same chain (the TDVP state model needs ⟨ψ|O|Hψ⟩).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.theories.pauli_sum import PauliSum

if TYPE_CHECKING:  # pragma: no cover
    from tenpy.networks.mps import MPS

__all__ = ["mps_pauli_expectations"]

#: X and Y on one site as (coefficient, ladder operator) pairs; S⁺ raises the charge ½ Z by one.
_LADDER: dict[str, tuple[tuple[complex, str, int], ...]] = {
    "X": ((1.0, "Sp", +1), (1.0, "Sm", -1)),
    "Y": ((-1j, "Sp", +1), (1j, "Sm", -1)),
    "Z": ((1.0, "Sigmaz", 0),),
}


class _Reader:
    """Cached one- and two-point Z expectations of ⟨bra| · |ket⟩, and generic terms."""

    def __init__(self, bra: MPS, ket: MPS | None) -> None:
        from tenpy.networks.mps import MPSEnvironment

        self.env: Any = bra if ket is None else MPSEnvironment(bra, ket)
        self.overlap: complex = 1.0 if ket is None else complex(bra.overlap(ket))
        self._z: np.ndarray | None = None
        self._zz: np.ndarray | None = None

    @property
    def z(self) -> np.ndarray:
        if self._z is None:
            self._z = np.asarray(self.env.expectation_value("Sigmaz"), dtype=complex)
        return self._z

    @property
    def zz(self) -> np.ndarray:
        if self._zz is None:
            self._zz = np.asarray(self.env.correlation_function("Sigmaz", "Sigmaz"), dtype=complex)
        return self._zz

    def term(self, label: str, qubits: tuple[int, ...]) -> complex:
        if label == "":
            return self.overlap
        if label == "Z":
            return complex(self.z[qubits[0]])
        if label == "ZZ":
            return complex(self.zz[qubits[0], qubits[1]])
        total = 0j
        for choice in itertools.product(*(_LADDER[p] for p in label)):
            if sum(charge for _, _, charge in choice) != 0:
                continue  # changes the conserved charge: zero on a charge eigenstate
            coeff = complex(np.prod([c for c, _, _ in choice]))
            ops = [(op, int(q)) for (_, op, _), q in zip(choice, qubits)]
            total += coeff * complex(self.env.expectation_value_term(ops))
        return total


def mps_pauli_expectations(
    psi: MPS, ops: Mapping[str, PauliSum], *, ket: MPS | None = None
) -> dict[str, Any]:
    """``{key: ⟨ψ|O|ψ⟩}`` (real) for Pauli sums ``ops`` on the MPS ``psi``; with ``ket``, ``{key: ⟨ψ|O|φ⟩}`` (complex).

    Every operator must act on ``psi.L`` qubits.  Terms are read as described in the module
    docstring; the one- and two-point Z expectations are computed once for all operators.
    """
    from qlat.exact.schwinger_mpo import quiet_tenpy

    n = int(psi.L)
    for key, op in ops.items():
        require(isinstance(op, PauliSum) and op.num_qubits == n, f"ops[{key!r}]",
                f"must be a PauliSum on {n} qubits", getattr(op, "num_qubits", type(op).__name__))
    out: dict[str, Any] = {}
    with quiet_tenpy():
        reader = _Reader(psi, ket)
        for key, op in ops.items():
            value = sum((c * reader.term(label, qubits) for label, qubits, c in op.terms), 0j)
            out[key] = complex(value) if ket is not None else float(np.real(value))
    return out
