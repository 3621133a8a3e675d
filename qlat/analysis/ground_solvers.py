"""Ground-state solvers for the θ-scan studies (import path kept; they live with their backends).

One plug-in mechanism (issue 22): a registered backend whose ``ground_state`` attribute is a solver
factory is a ground-state method (:mod:`qlat.exact.ground_state`); ``ed`` gives
:class:`~qlat.exact.ground_state.EDSolver`, ``dmrg`` :class:`~qlat.exact.dmrg.DMRGSolver`, and
:func:`solver_from_spec` finds any of them by name through the registry.
"""

from __future__ import annotations

from qlat.exact.dmrg import DMRGSolver
from qlat.exact.ground_state import EDSolver, GroundStateSolver, ground_state_methods, solver_from_spec

__all__ = ["DMRGSolver", "EDSolver", "GroundStateSolver", "ground_state_methods", "solver_from_spec"]
