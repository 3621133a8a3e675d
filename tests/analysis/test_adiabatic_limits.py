"""T → ∞ and dt → 0 extrapolations of adiabatic expectation values against exact references."""

import numpy as np
import pytest

from qlat.analysis.adiabatic_limits import extrapolate_step_size, extrapolate_total_time
from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.exact_backend import exact_estimates
from qlat.quantum.observables import qubit_observable
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel


@pytest.mark.parametrize("ramp", ["linear", "smootherstep"])
def test_total_time_extrapolation_is_consistent_with_ed(ramp):
    """The adiabatic error oscillates with T (linear ramp: it changes sign); the fit's residual
    error must cover the distance to the exact ground-state value (z-test, |z| < 3)."""
    model = SchwingerModel(6, 0.5, 0.1, 0.5)
    exact = exact_estimates(model, observables=("condensate",))["condensate"].value
    sched = AdiabaticSchedule(20.0, 0.02, initial_mass=0.5, ramp=ramp)
    ext = extrapolate_total_time(model, sched, times=[28, 40, 56, 80, 112, 160])
    assert ext.estimate.error > 0
    assert abs(ext.estimate.z_score(exact)) < 3
    # not trivially true: the values spread by more than the quoted error
    assert np.ptp(ext.values) > 2 * ext.estimate.error
    assert ext.estimate.provenance["extrapolation"] == "T -> infinity (fit in 1/T^1)"


def test_step_size_extrapolation_removes_the_trotter_bias():
    model = SchwingerModel(6, 0.5, 0.2, 1.0)
    sched = AdiabaticSchedule(4.0, 0.2, initial_mass=0.5, ramp="sin2")
    ext = extrapolate_step_size(model, sched, dts=[0.1, 0.2, 0.4], order=2)
    # reference: the same schedule with a 16x finer step (Trotter bias 1/256 of dt = 0.1's)
    op = qubit_observable("condensate", model).operators[0]
    fine = expectation_values(evolve_statevector(model, AdiabaticSchedule(4.0, 0.00625, initial_mass=0.5, ramp="sin2")),
                              {"c": op})["c"]
    coarsest_best = ext.values[0]
    assert abs(ext.estimate.value - fine) < 0.3 * abs(coarsest_best - fine)
    assert abs(ext.estimate.value - fine) < 3 * ext.estimate.error + 1e-6


def test_too_few_points_is_a_parameter_error():
    model = SchwingerModel(4, 0.5, 0.1)
    sched = AdiabaticSchedule(4.0, 0.5)
    with pytest.raises(ParameterError, match="times"):
        extrapolate_total_time(model, sched, times=[4, 8, 12])
    with pytest.raises(ParameterError, match="dts"):
        extrapolate_step_size(model, sched, dts=[0.5, 1.0], degree=1)
