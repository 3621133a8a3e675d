"""Ground-state methods are one plug-in mechanism: registered backends with a ``ground_state`` factory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.core.registry import BACKENDS
from qlat.exact.ground_state import EDSolver, ground_state_methods, solver_from_spec
from qlat.theories.schwinger_qubit import SchwingerModel

pytest.importorskip("tenpy")


def test_ed_and_dmrg_are_the_ground_state_methods():
    methods = ground_state_methods()
    assert {"ed", "dmrg"} <= set(methods)
    assert not {"statevector", "aer", "mps", "tdvp", "fake"} & set(methods)


def test_specs_round_trip_through_the_registry():
    from qlat.exact.dmrg import DMRGSolver

    for solver in (EDSolver(), DMRGSolver(12)):
        assert solver_from_spec(solver.spec()) == solver
    assert solver_from_spec(None) == EDSolver()
    assert solver_from_spec({"method": "dmrg"}) == DMRGSolver(64)
    for bad in ({"method": "statevector"}, {"method": "no-such-method"}):
        with pytest.raises(ParameterError, match="ground_state"):
            solver_from_spec(bad)


def test_dmrg_solver_equals_ed():
    model = SchwingerModel(6, 0.5, 0.2, theta=0.4)
    ed, dmrg = solver_from_spec({"method": "ed"}), solver_from_spec({"method": "dmrg", "bond_dim": 16})
    ed_state, dmrg_state = ed.solve(model), dmrg.solve(model)
    assert abs(ed.energy(ed_state) - dmrg.energy(dmrg_state)) < 1e-9
    assert np.allclose(ed.site_condensate(ed_state, model), dmrg.site_condensate(dmrg_state, model), atol=1e-7)
    terms = model.terms()
    assert abs(dmrg.expectation(dmrg_state, terms) - ed.energy(ed_state)) < 1e-9


@dataclass(frozen=True)
class _ToySolver(EDSolver):
    name: str = "toy-gs"

    def spec(self) -> dict:
        return {"method": "toy-gs"}


class _ToyGroundBackend:
    name = "toy-gs"
    label = "toy-gs"
    description = "test double: ED under another name"
    ground_state = _ToySolver

    def supports(self, target):
        return isinstance(target, SchwingerModel)

    def observables(self, target):
        return []

    def estimate(self, target, observables, **options):
        return {}


def test_a_registered_backend_with_a_factory_is_a_ground_state_method():
    BACKENDS.register("toy-gs", _ToyGroundBackend)
    try:
        assert "toy-gs" in ground_state_methods()
        solver = solver_from_spec({"method": "toy-gs"})
        assert isinstance(solver, _ToySolver) and solver.spec() == {"method": "toy-gs"}
        model = SchwingerModel(4, 0.5, 0.1)
        assert solver.energy(solver.solve(model)) == EDSolver().energy(EDSolver().solve(model))
    finally:
        BACKENDS.unregister("toy-gs")
    assert "toy-gs" not in ground_state_methods()
