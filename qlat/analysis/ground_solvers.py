r"""Ground-state solvers for the θ-scan studies: exact diagonalization or DMRG, one interface.

:func:`qlat.analysis.schwinger_studies.theta_scan_exact` needs three numbers of the ground state
ψ₀ of each chain: the energy E₀, the staggered sum Σ_n c_n with c_n = (−1)^n ⟨Z_n⟩/(2a) (whose
mean is the condensate of docs/conventions.md), and ⟨O⟩ for operators O in Schwinger-terms form
(∂H/∂m, Hellmann–Feynman).  A solver provides them:

- :class:`EDSolver` — the zero-charge sector by sparse exact diagonalization (N ≤ 24);
- :class:`DMRGSolver` — TeNPy DMRG with the compact automaton MPO (:mod:`qlat.exact.dmrg`),
  ⟨O⟩ = ⟨ψ|W_O|ψ⟩ with W_O the compact MPO of O's terms (exact algebra, no truncation of O);
  reaches N ~ 200.  Its truncation error is estimated by the caller from a second solver at
  half the bond dimension (``qlat schwinger scan --backend dmrg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qlat.core.errors import require
from qlat.theories.schwinger_observables import site_condensate_values
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms

__all__ = ["DMRGSolver", "EDSolver", "GroundStateSolver", "solver_from_spec"]


class GroundStateSolver(Protocol):
    """What a θ scan asks of a ground state (module docstring)."""

    @property
    def name(self) -> str:
        """``"ed"`` or ``"dmrg"``."""

    def solve(self, model: SchwingerModel) -> Any:
        """The ground state of the zero-charge sector (an opaque handle)."""

    def energy(self, state: Any) -> float:
        """E₀ (the constant of H included)."""

    def site_condensate(self, state: Any, model: SchwingerModel) -> np.ndarray:
        """c_n = (−1)^n ⟨Z_n⟩/(2a) on every site."""

    def expectation(self, state: Any, terms: SchwingerTerms) -> float:
        """⟨ψ₀|O|ψ₀⟩ for O given as Schwinger terms."""

    def spec(self) -> dict[str, Any]:
        """JSON description (method and settings) for provenance and task payloads."""


@dataclass(frozen=True)
class EDSolver:
    """Exact diagonalization of the zero-charge sector (:func:`~qlat.exact.diagonalization.diagonalize_sector`)."""

    name: str = "ed"

    def solve(self, model: SchwingerModel) -> Any:
        from qlat.exact.diagonalization import diagonalize_sector

        return diagonalize_sector(model, k=1)

    def energy(self, state: Any) -> float:
        return float(state.energies[0])

    def site_condensate(self, state: Any, model: SchwingerModel) -> np.ndarray:
        from qlat.exact.diagonalization import site_condensate

        return site_condensate(state, model.spacing)

    def expectation(self, state: Any, terms: SchwingerTerms) -> float:
        from qlat.exact.diagonalization import sector_expectation

        return sector_expectation(terms, state)

    def spec(self) -> dict[str, Any]:
        return {"method": "ed"}


@dataclass(frozen=True)
class DMRGSolver:
    """Two-site DMRG at bond dimension ``bond_dim`` (:func:`qlat.exact.dmrg.ground_state`)."""

    bond_dim: int = 64
    name: str = "dmrg"

    def __post_init__(self) -> None:
        require(isinstance(self.bond_dim, (int, np.integer)) and 2 <= self.bond_dim <= 4096, "bond_dim",
                "must be an integer in [2, 4096]", self.bond_dim)

    def solve(self, model: SchwingerModel) -> Any:
        from qlat.exact.dmrg import ground_state

        return ground_state(model, bond_dim=int(self.bond_dim))

    def energy(self, state: Any) -> float:
        return float(state.energy)

    def site_condensate(self, state: Any, model: SchwingerModel) -> np.ndarray:
        from qlat.exact.schwinger_mpo import quiet_tenpy

        with quiet_tenpy():
            z = np.real(np.asarray(state.psi.expectation_value("Sigmaz"), dtype=complex))
        return site_condensate_values(z, model.spacing)

    def expectation(self, state: Any, terms: SchwingerTerms) -> float:
        from qlat.exact.schwinger_mpo import quiet_tenpy, tenpy_model

        with quiet_tenpy():
            return float(np.real(tenpy_model(terms).H_MPO.expectation_value(state.psi)))

    def spec(self) -> dict[str, Any]:
        return {"method": "dmrg", "bond_dim": int(self.bond_dim)}


def solver_from_spec(spec: dict[str, Any] | None) -> EDSolver | DMRGSolver:
    """The solver a :meth:`GroundStateSolver.spec` dict describes (None: ED)."""
    if not spec or spec.get("method", "ed") == "ed":
        return EDSolver()
    require(spec.get("method") == "dmrg", "ground_state", "method must be ed or dmrg", spec.get("method"))
    return DMRGSolver(int(spec.get("bond_dim", 64)))
