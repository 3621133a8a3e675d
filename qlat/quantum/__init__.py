"""Quantum module: the Schwinger model on qubits, adiabatic circuits, simulator and hardware backends.

The qubit realizations of the common observables are declared (and registered) by the model
layer, :mod:`qlat.theories.schwinger_observables`.  The main
entry points are importable from here (loaded on first use, so ``import qlat.quantum`` stays
light)::

    from qlat.quantum import SchwingerModel, default_schedule, run_adiabatic, exact_estimates
"""

from importlib import import_module
from typing import Any

from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms, schwinger_terms

_LAZY = {
    "AdiabaticSchedule": "qlat.quantum.adiabatic",
    "default_schedule": "qlat.quantum.adiabatic",
    "adiabatic_circuit": "qlat.quantum.trotter",
    "evolve_statevector": "qlat.quantum.statevector",
    "run_adiabatic": "qlat.quantum.adiabatic_run",
    "AdiabaticResult": "qlat.quantum.adiabatic_run",
    "exact_estimates": "qlat.quantum.exact_backend",
    "qubit_observable": "qlat.theories.schwinger_observables",
}

__all__ = ["SchwingerModel", "SchwingerTerms", "schwinger_terms", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qlat.quantum' has no attribute '{name}'")
