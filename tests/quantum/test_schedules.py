"""Budgeted adiabatic schedules (qlat.quantum.schedules): the cost is the circuit's, the fidelity is the kernel's,
and the chosen schedule is at least as good as every schedule of the grid within the budget."""

from __future__ import annotations

import pytest

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.adiabatic_run import ground_state_fidelity
from qlat.quantum.schedules import budget_schedule, line_two_qubit_cost, max_steps
from qlat.quantum.statevector import evolve_statevector
from qlat.quantum.trotter import adiabatic_circuit, gate_counts
from qlat.theories.schwinger_qubit import SchwingerModel

MODEL = SchwingerModel(4, 1.0, 0.5)


def test_cost_is_the_line_circuit_cost_and_the_budget_is_respected():
    for steps in (1, 3, 5):
        circuit = adiabatic_circuit(MODEL, AdiabaticSchedule(float(steps), 1.0), layout="line", measure=True)
        assert line_two_qubit_cost(MODEL, steps) == gate_counts(circuit)["two_qubit"]
    k = max_steps(MODEL, 200)
    assert line_two_qubit_cost(MODEL, k) <= 200 < line_two_qubit_cost(MODEL, k + 1)
    with pytest.raises(ParameterError, match="budget"):
        budget_schedule(MODEL, 10)


def test_the_chosen_schedule_is_the_best_of_the_grid_within_the_budget():
    grid = {"times": (1.5, 3.0), "ramps": ("linear", "sin2"), "initial_masses": (1.0,)}
    result = budget_schedule(MODEL, 140, **grid)
    sched = result.schedule
    assert result.two_qubit_gates <= 140 and sched.n_steps <= max_steps(MODEL, 140)
    fidelity = ground_state_fidelity(MODEL, evolve_statevector(MODEL, sched))
    assert result.fidelity == pytest.approx(fidelity, abs=1e-12)  # the reported fidelity is the schedule's
    # every grid point within the budget is no better (among them the 4-step device default T = 3, dt = 0.75)
    for steps in range(1, max_steps(MODEL, 140) + 1):
        for t in grid["times"]:
            for ramp in grid["ramps"]:
                other = AdiabaticSchedule(t, t / steps, initial_mass=1.0, ramp=ramp)
                assert ground_state_fidelity(MODEL, evolve_statevector(MODEL, other)) <= result.fidelity + 1e-12
    assert result.best_per_steps[sched.n_steps]["fidelity"] == pytest.approx(result.fidelity)
    assert "steps" in str(result) and result.to_dict()["two_qubit_gates"] == result.two_qubit_gates
