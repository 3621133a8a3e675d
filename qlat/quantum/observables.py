r"""Qiskit views of the qubit observables declared in :mod:`qlat.theories.schwinger_observables`.

The observables themselves (their Pauli sums, units and keys) live in the model layer, once; this
module re-exports them under their historical import path (``from qlat.quantum.observables import
qubit_observable`` keeps working) and adds the ``SparsePauliOp`` forms used by circuits and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlat.theories.schwinger_observables import (
    QubitObservable,
    charge_terms,
    condensate_terms,
    electric_field_terms,
    free_condensate,
    free_condensate_infinite_volume,
    physical_condensate_terms,
    qubit_observable,
    qubit_observable_names,
)
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

__all__ = [
    "QubitObservable",
    "charge_operators",
    "charge_terms",
    "condensate_operator",
    "condensate_terms",
    "electric_field_operators",
    "electric_field_terms",
    "free_condensate",
    "free_condensate_infinite_volume",
    "physical_condensate_operator",
    "physical_condensate_terms",
    "qubit_observable",
    "qubit_observable_names",
]


def condensate_operator(model: SchwingerModel) -> SparsePauliOp:
    """:func:`~qlat.theories.schwinger_observables.condensate_terms` as a Qiskit ``SparsePauliOp``."""
    return condensate_terms(model).to_sparse_pauli_op()


def physical_condensate_operator(model: SchwingerModel) -> SparsePauliOp:
    """:func:`~qlat.theories.schwinger_observables.physical_condensate_terms` as a Qiskit ``SparsePauliOp``."""
    return physical_condensate_terms(model).to_sparse_pauli_op()


def charge_operators(model: SchwingerModel) -> tuple[SparsePauliOp, ...]:
    """:func:`~qlat.theories.schwinger_observables.charge_terms` as Qiskit ``SparsePauliOp``."""
    return tuple(t.to_sparse_pauli_op() for t in charge_terms(model))


def electric_field_operators(model: SchwingerModel) -> tuple[SparsePauliOp, ...]:
    """:func:`~qlat.theories.schwinger_observables.electric_field_terms` as Qiskit ``SparsePauliOp``."""
    return tuple(t.to_sparse_pauli_op() for t in electric_field_terms(model))
