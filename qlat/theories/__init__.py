"""Lattice theories (φ⁴, U(1), the qubit Schwinger model …) and their realizations of the common observables."""

from qlat.theories import observables as observables  # registers the classical realizations
from qlat.theories import schwinger_observables as schwinger_observables  # registers the qubit realizations
from qlat.theories.base import Theory, theory_from_params
from qlat.theories.phi4 import Phi4Theory, hopping_from_phi4, phi4_from_hopping
from qlat.theories.u1 import U1Theory

__all__ = [
    "Phi4Theory",
    "Theory",
    "U1Theory",
    "hopping_from_phi4",
    "observables",
    "phi4_from_hopping",
    "schwinger_observables",
    "theory_from_params",
]
