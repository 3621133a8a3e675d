"""Quantum module: the Schwinger model on qubits, adiabatic circuits, simulator and hardware backends.

Importing this package registers the qubit realizations of the common observables.
"""

from qlat.quantum.schwinger import SchwingerModel, SchwingerTerms, schwinger_terms
import qlat.quantum.observables  # registers qubit realizations

__all__ = ["SchwingerModel", "SchwingerTerms", "schwinger_terms"]
