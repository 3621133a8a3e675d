"""Adiabatic schedules: validation, couplings, the component decomposition, and the acceptance
point of the adiabatic preparation (N = 8, a = 0.5, m = 0.1) against exact diagonalization."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact.diagonalization import diagonalize
from qlat.quantum.adiabatic import RAMPS, AdiabaticSchedule, default_schedule
from qlat.quantum.diagnostics import fidelity
from qlat.quantum.observables import condensate_operator
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index


def _assert_terms_close(a, b, tol=1e-12):
    np.testing.assert_allclose(a.hopping, b.hopping, atol=tol, rtol=0)
    np.testing.assert_allclose(a.z, b.z, atol=tol, rtol=0)
    np.testing.assert_allclose(a.zz, b.zz, atol=tol, rtol=0)
    assert abs(a.constant - b.constant) < tol


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"total_time": 1.0, "dt": 0.3}, "dt"),
        ({"total_time": 1.0, "dt": 2.0}, "dt"),
        ({"total_time": 1.0, "dt": 0.0}, "dt"),
        ({"total_time": -1.0, "dt": 0.1}, "total_time"),
        ({"total_time": math.inf, "dt": 0.1}, "total_time"),
        ({"total_time": 1.0, "dt": 0.1, "ramp": "cubic"}, "ramp"),
        ({"total_time": 1.0, "dt": 0.1, "initial_mass": -0.1}, "initial_mass"),
    ],
)
def test_schedule_rejects_bad_input(kwargs, parameter):
    with pytest.raises(ParameterError) as err:
        AdiabaticSchedule(**kwargs)
    assert err.value.parameter == parameter


def test_n_steps_and_times():
    sch = AdiabaticSchedule(total_time=2.0, dt=0.1)
    assert sch.n_steps == 20
    np.testing.assert_allclose(sch.times(), np.arange(21) * 0.1, atol=1e-14)
    with pytest.raises(ParameterError):
        sch.ramp_value(2.5)


@pytest.mark.parametrize("ramp", RAMPS)
def test_ramp_shape(ramp):
    T = 3.0
    sch = AdiabaticSchedule(total_time=T, dt=0.1, ramp=ramp)
    t = np.linspace(0, T, 301)
    s = np.array([sch.ramp_value(x) for x in t])
    assert s[0] == 0.0 and abs(s[-1] - 1.0) < 1e-15
    assert np.all(np.diff(s) > 0)
    # smooth ramps start and end with zero slope: s(h) = O(h²)
    h = 1e-4 * T
    slope0 = sch.ramp_value(h) / h * T
    slope1 = (1.0 - sch.ramp_value(T - h)) / h * T
    if ramp == "linear":
        assert abs(slope0 - 1.0) < 1e-9 and abs(slope1 - 1.0) < 1e-9
    else:
        assert slope0 < 1e-3 and slope1 < 1e-3


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
def test_couplings_at_the_ends(formulation):
    model = SchwingerModel(6, 0.4, 0.3, theta=1.1, formulation=formulation, mass_shift=True)
    sch = AdiabaticSchedule(total_time=5.0, dt=0.5, initial_mass=0.7, ramp="sin2")
    start = sch.couplings(model, 0.0)
    assert start == {"w": 0.0, "J": model.J, "mass": 0.7, "theta": 0.0, "mass_offset": 0.0}
    end = sch.couplings(model, 5.0)
    assert end["w"] == pytest.approx(model.w, abs=1e-15)
    assert end["mass"] == pytest.approx(model.mass, abs=1e-15)
    assert end["mass_offset"] == pytest.approx(model.mass_offset, abs=1e-15) and model.mass_offset > 0
    assert end["theta"] == pytest.approx(model.theta, abs=1e-15)
    assert sch.couplings(model, 2.5)["J"] == model.J
    _assert_terms_close(sch.terms_at(model, 5.0), model.terms())


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
@pytest.mark.parametrize("ramp", ["linear", "smootherstep"])
def test_terms_basis_reproduces_terms_at(formulation, ramp):
    rng = np.random.default_rng(7)
    model = SchwingerModel(8, 0.35, 0.45, theta=2.3, formulation=formulation)
    sch = AdiabaticSchedule(total_time=4.0, dt=0.25, initial_mass=0.8, ramp=ramp)
    basis = sch.terms_basis(model)
    assert len(basis.components) == len(basis.labels) == len(basis.static)
    for t in np.concatenate([[0.0, 4.0], rng.uniform(0, 4.0, 5)]):
        _assert_terms_close(basis.terms_at(t), sch.terms_at(model, t))


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
def test_bare_vacuum_is_the_initial_ground_state(formulation):
    """At t = 0 (w = 0) the bare vacuum is the unique ground state, gap 2 m₀ + J."""
    model = SchwingerModel(6, 0.5, 0.1, theta=0.9, formulation=formulation)
    sch = AdiabaticSchedule(total_time=1.0, dt=0.1, initial_mass=0.5)
    spec = diagonalize(sch.terms_at(model, 0.0), k=2)
    ground = spec.ground_state
    assert abs(ground[bare_vacuum_index(6)]) ** 2 == pytest.approx(1.0, abs=1e-12)
    assert spec.gap == pytest.approx(2 * 0.5 + model.J, abs=1e-10)


ACCEPTANCE = [("rotated", 0.0), ("rotated", math.pi / 4), ("rotated", math.pi / 2), ("electric", 0.0)]


@pytest.mark.parametrize("formulation, theta", ACCEPTANCE)
def test_default_schedule_prepares_the_vacuum(formulation, theta):
    """Acceptance point: N = 8, a = 0.5, m = 0.1 with default_schedule: F ≥ 0.99 with the exact
    physical-sector ground state, condensate (1/(2aN)) Σ(−1)^n ⟨Z_n⟩ within 1e-3 of ED."""
    model = SchwingerModel(8, 0.5, 0.1, theta=theta, formulation=formulation)
    psi = evolve_statevector(model, default_schedule(model))
    ground = diagonalize(model, k=1).ground_state
    op = {"condensate": condensate_operator(model)}
    prepared = expectation_values(psi, op)["condensate"]
    exact = expectation_values(ground, op)["condensate"]
    assert fidelity(psi, ground) >= 0.99
    assert abs(prepared - exact) < 1e-3


def test_short_linear_ramp_is_not_adiabatic():
    """The acceptance test can fail: a linear ramp with T = 2 leaves the ground state."""
    model = SchwingerModel(8, 0.5, 0.1, theta=math.pi / 4)
    psi = evolve_statevector(model, AdiabaticSchedule(total_time=2.0, dt=0.1, ramp="linear"))
    assert fidelity(psi, diagonalize(model, k=1).ground_state) < 0.9
