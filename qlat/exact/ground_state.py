r"""Ground-state methods of the qubit Schwinger model as plug-ins of the backend registry.

A θ scan (:func:`qlat.analysis.schwinger_studies.theta_scan_exact`) needs, of the ground state ψ₀ of
each chain, the energy E₀, the site condensate c_n (:mod:`qlat.theories.schwinger_observables`) and
⟨O⟩ for operators O in Schwinger-terms form (∂H/∂m, Hellmann–Feynman).  A *ground-state solver*
(:class:`GroundStateSolver`) provides them.  There is one plug-in mechanism: a registered backend
whose ``ground_state`` attribute is a solver factory — ``ground_state(**options) -> solver``, the
options being those of the solver's :meth:`~GroundStateSolver.spec` — is a ground-state method.
The ``ed`` backend's factory is :class:`qlat.exact.diagonalization.EDSolver`, the ``dmrg``
backend's :class:`qlat.exact.dmrg.DMRGSolver`; a new method is one backend with that attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qlat.core.errors import ParameterError
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms

__all__ = ["EDSolver", "GroundStateSolver", "ground_state_methods", "solver_from_spec"]


class GroundStateSolver(Protocol):
    """What a θ scan asks of a ground state (module docstring)."""

    @property
    def name(self) -> str:
        """The method's registry name (``"ed"``, ``"dmrg"`` …)."""

    def solve(self, model: SchwingerModel) -> Any:
        """The ground state of the zero-charge sector (an opaque handle)."""

    def energy(self, state: Any) -> float:
        """E₀ (the constant of H included)."""

    def site_condensate(self, state: Any, model: SchwingerModel) -> np.ndarray:
        """c_n = (−1)^n ⟨Z_n⟩/(2a) on every site."""

    def expectation(self, state: Any, terms: SchwingerTerms) -> float:
        """⟨ψ₀|O|ψ₀⟩ for O given as Schwinger terms."""

    def spec(self) -> dict[str, Any]:
        """JSON description: ``{"method": name, **options}`` with the options of its factory."""


@dataclass(frozen=True)
class EDSolver:
    """Exact diagonalization of the zero-charge sector (:func:`~qlat.exact.diagonalization.diagonalize_sector`);
    the ``ed`` backend's ground-state factory."""

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


def _factory(name: str) -> Any:
    """The ``ground_state`` solver factory of the registered backend ``name``, or None."""
    from qlat.core.backend import get_backend
    from qlat.core.registry import BACKENDS

    if name not in BACKENDS.names():
        return None
    try:
        factory = getattr(get_backend(name), "ground_state", None)
    except Exception:  # noqa: BLE001 — a broken plug-in is not offered
        return None
    return factory if callable(factory) else None


def ground_state_methods() -> list[str]:
    """The registered backends that are ground-state methods (imports every plug-in)."""
    from qlat.core.registry import BACKENDS

    return [name for name in BACKENDS.names() if _factory(name) is not None]


def solver_from_spec(spec: dict[str, Any] | None) -> GroundStateSolver:
    """The solver a :meth:`GroundStateSolver.spec` dict describes (None or no method: ``ed``)."""
    spec = dict(spec or {})
    method = spec.pop("method", "ed")
    factory = _factory(method) if isinstance(method, str) else None
    if factory is None:
        raise ParameterError("ground_state", f"method must be one of {', '.join(ground_state_methods())}", method)
    solver: GroundStateSolver = factory(**spec)
    return solver
