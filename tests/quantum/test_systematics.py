"""Systematic errors of adiabatic Estimates: they cover the distance to ED, and the Trotter part
agrees with the actual dt → 0 shift."""

from __future__ import annotations

import dataclasses
import math

import pytest

from qlat.quantum.adiabatic import AdiabaticSchedule, default_schedule
from qlat.quantum.exact_backend import exact_estimates
from qlat.quantum.run import run_adiabatic
from qlat.theories.schwinger_qubit import SchwingerModel


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
@pytest.mark.parametrize("theta", [0.0, math.pi / 4, math.pi / 2])
def test_total_error_covers_the_distance_to_ed(formulation, theta):
    """N = 8, T = 30, dt = 0.1: |value − ED| ≤ 2 × √(stat² + syst²) (issue 7, acceptance 3)."""
    model = SchwingerModel(8, 0.5, 0.1, theta=theta, formulation=formulation)
    schedule = dataclasses.replace(default_schedule(model), total_time=30.0, dt=0.1)
    result = run_adiabatic(model, schedule, observables=("energy", "condensate"))
    exact = exact_estimates(model, observables=("energy", "condensate"))
    for key in ("energy", "condensate"):
        est = result.estimates[key]
        assert est.systematic > 0
        assert abs(est.value - exact[key].value) <= 2 * est.total_error, (key, est, exact[key])
        assert abs(est.z_score(exact[key])) <= 2


def test_trotter_estimate_matches_the_actual_step_size_error():
    """Second order: the Richardson estimate |O(dt) − O(2dt)|/3 is the shift to dt → 0 (to ~30 %)."""
    model = SchwingerModel(6, 0.5, 0.2, theta=0.7)
    schedule = AdiabaticSchedule(total_time=8.0, dt=0.2, ramp="smootherstep")
    est = run_adiabatic(model, schedule, observables=("condensate",)).estimates["condensate"]
    fine = run_adiabatic(model, dataclasses.replace(schedule, dt=0.0125), observables=("condensate",),
                         systematics="none").estimates["condensate"]
    actual = abs(est.value - fine.value)  # the T is the same: only the step size differs
    predicted = est.provenance["systematic_sources"]["trotter"]
    assert 0.7 < predicted / actual < 1.3, (predicted, actual)


def test_systematics_none_says_so_in_the_provenance():
    model = SchwingerModel(4, 0.5, 0.1)
    est = run_adiabatic(model, AdiabaticSchedule(2.0, 0.5), systematics="none").estimates["energy"]
    assert est.systematic == 0.0 and "not estimated" in est.provenance["warning_systematic"]
