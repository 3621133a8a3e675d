"""Diagnostics: fidelity, the gap along the adiabatic path, the Trotter error estimate."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact.diagonalization import diagonalize
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.diagnostics import fidelity, minimum_gap_along_path, trotter_error
from qlat.quantum.observables import condensate_operator
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel


def test_fidelity():
    zero = np.array([1.0, 0.0])
    plus = np.array([1.0, 1.0]) / np.sqrt(2)
    assert fidelity(zero, plus) == pytest.approx(0.5, abs=1e-15)
    assert fidelity(3j * plus, plus) == pytest.approx(1.0, abs=1e-15)
    assert fidelity(zero, np.array([0.0, 1.0])) == 0.0
    with pytest.raises(ParameterError):
        fidelity(zero, np.ones(4))


def test_gap_along_path_ends():
    model = SchwingerModel(6, 0.5, 0.2, theta=1.0)
    sch = AdiabaticSchedule(total_time=10.0, dt=0.5, initial_mass=0.5, ramp="sin2")
    out = minimum_gap_along_path(model, sch, n_points=11)
    assert out["gaps"].shape == (11,) and out["times"][-1] == 10.0
    assert out["gaps"][0] == pytest.approx(2 * 0.5 + model.J, abs=1e-10)  # bare vacuum gap 2m₀ + J
    assert out["final_gap"] == pytest.approx(diagonalize(model, k=2).gap, abs=1e-10)
    assert out["min_gap"] == pytest.approx(out["gaps"].min()) and out["min_gap"] <= out["final_gap"]
    assert out["s_min"] == pytest.approx(sch.ramp_value(out["t_min"]))
    with pytest.raises(ParameterError) as err:
        minimum_gap_along_path(SchwingerModel(20, 0.5, 0.1), sch)
    assert err.value.parameter == "n_sites"


@pytest.mark.parametrize("order, levels", [(2, 2), (2, 3), (1, 3)])
def test_richardson_estimate_tracks_the_true_trotter_error(order, levels):
    """The estimated error of the run at dt matches the difference to a much finer dt (dt/64)."""
    model = SchwingerModel(6, 0.5, 0.2, theta=0.7)
    sch = AdiabaticSchedule(total_time=4.0, dt=0.2, ramp="smootherstep")
    op = condensate_operator(model)
    out = trotter_error(model, sch, order=order, observable=op, levels=levels)
    fine = AdiabaticSchedule(total_time=4.0, dt=0.2 / 64, ramp="smootherstep")
    reference = expectation_values(evolve_statevector(model, fine, order=order), {"c": op})["c"]
    true_error = reference - out["value"]
    assert abs(true_error) > 1e-4  # the check below is not vacuous
    assert out["error_estimate"] == pytest.approx(true_error, rel=0.1)
    if levels == 3:
        assert 1.0 < out["order_used"] < 2.5


def test_trotter_error_by_name():
    model = SchwingerModel(4, 0.5, 0.2)
    out = trotter_error(model, AdiabaticSchedule(total_time=1.0, dt=0.25), observable="energy")
    assert out["observable"] == "energy" and out["order"] == 2 and out["order_used"] == 2.0
    assert out["steps"] == [0.25, 0.125]
    # the Richardson value is closer to a 16x finer evolution than either input
    fine = trotter_error(model, AdiabaticSchedule(total_time=1.0, dt=0.25 / 16), observable="energy")["values"][0]
    assert abs(out["extrapolated"] - fine) < 0.2 * abs(out["values"][1] - fine)
    with pytest.raises(ParameterError):
        trotter_error(model, AdiabaticSchedule(total_time=1.0, dt=0.25), observable=3)
    with pytest.raises(ParameterError):
        trotter_error(model, AdiabaticSchedule(total_time=1.0, dt=0.25), levels=4)


def test_landau_zener_probability_scales_with_the_ramp_time():
    """At the narrow avoided crossing of the rotated path (θ near π, m above ~0.33) P is close to 1
    and P(T) = exp(−πΔ²T/2v): P(2T) = P(T)²; a path with wide gaps has P = 0."""
    import math

    from qlat.quantum.diagnostics import landau_zener

    model = SchwingerModel(8, 0.5, 0.5, theta=math.pi)
    short = landau_zener(model, AdiabaticSchedule(total_time=30.0, dt=0.5, ramp="smootherstep"))
    long = landau_zener(model, AdiabaticSchedule(total_time=60.0, dt=0.5, ramp="smootherstep"))
    assert 0.5 < long["probability"] < short["probability"] < 1.0
    assert long["probability"] == pytest.approx(short["probability"] ** 2, rel=1e-6)
    assert long["min_gap"] == pytest.approx(short["min_gap"]) and 0.4 < long["u_min"] < 0.8
    assert long["min_gap"] < 0.3 * long["final_gap"]
    assert long["s_min"] == pytest.approx(AdiabaticSchedule(60.0, 0.5, ramp="smootherstep").ramp_value(
        long["u_min"] * 60.0))
    easy = landau_zener(SchwingerModel(8, 0.5, 0.1, theta=0.5), AdiabaticSchedule(60.0, 0.5, ramp="smootherstep"))
    assert easy["probability"] < 1e-6 and easy["min_gap"] > 0.5
    with pytest.raises(ParameterError) as err:
        landau_zener(SchwingerModel(16, 0.5, 0.1), AdiabaticSchedule(60.0, 0.5))
    assert err.value.parameter == "n_sites"
