"""Result objects of one Schwinger point (qlat.analysis.schwinger_points): what `qlat schwinger exact|adiabatic`
print, usable from Python — the ED comparison, the schedule, the fidelity and what the adiabatic error rests on."""

from __future__ import annotations

import pytest

from qlat.analysis.schwinger_points import adiabatic_point, adiabaticity_line, describe_model, ground_state_point
from qlat.quantum.adiabatic import AdiabaticSchedule, schedule_for
from qlat.theories.schwinger_qubit import SchwingerModel

MODEL = SchwingerModel(4, 0.5, 0.2, theta=0.3)


def test_ground_state_point_table_and_json():
    point = ground_state_point(MODEL, method="ed")
    text = point.table()
    assert describe_model(MODEL) in text.splitlines()[0]
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines()[3:-1]}
    assert float(rows["gap"]) == pytest.approx(point.estimates["gap"].value) and point.estimates["gap"].value > 0
    assert float(rows["energy"]) == pytest.approx(point.estimates["energy"].value)
    assert "electric field L_n:" in text
    assert text.splitlines()[-1].count(" ") >= MODEL.n_sites - 1  # one value per link
    out = point.to_dict()
    assert out["params"] == MODEL.params() and out["energy"].unit
    assert out["energy"].value == pytest.approx(point.estimates["energy"].value)


def test_adiabatic_point_compares_with_ed_and_says_what_its_error_rests_on():
    schedule = AdiabaticSchedule(total_time=4.0, dt=0.5, ramp="sin2")
    point = adiabatic_point(MODEL, schedule, backend="statevector")
    out = point.to_dict()
    assert out["exact"]["energy"].value == pytest.approx(ground_state_point(MODEL).estimates["energy"].value)
    assert out["params"]["schedule"]["total_time"] == 4.0 and out["params"]["order"] == 2
    text = point.table()
    assert "T=4 dt=0.5 ramp=sin2" in text
    assert "exact (ED)" in text and "z statevector" in text
    assert "fidelity with the exact ground state:" in text
    assert text.splitlines()[-1].startswith("adiabaticity: energy variance")
    assert "leaked weight" in text and "Landau-Zener" in text


def test_adiabaticity_line_without_and_with_a_proxy():
    assert adiabaticity_line({}) == "adiabaticity: not estimated"
    lz = {"n_sites": 14, "proxy": True, "min_gap": 0.1, "u_min": 0.5, "probability": 0.25}
    assert "(N = 14 proxy)" in adiabaticity_line({"landau_zener": lz})


def test_schedule_for_replaces_only_the_parts_given():
    base = schedule_for(MODEL)
    assert schedule_for(MODEL, ramp="linear").ramp == "linear"
    assert schedule_for(MODEL, ramp="linear").total_time == base.total_time
    short = schedule_for(MODEL, total_time=0.01)  # shorter than the default step: one step
    assert short.dt == short.total_time == 0.01
    assert schedule_for(MODEL, total_time=2.0).dt == base.dt


def test_schedule_for_takes_the_backend_step_shortened_to_divide_the_time():
    assert schedule_for(MODEL, backend="tdvp").dt == 0.5  # the simulator's default_dt
    assert schedule_for(MODEL, backend="statevector").dt == schedule_for(MODEL).dt == 0.05
    odd = schedule_for(MODEL, backend="tdvp", total_time=7.3)  # 0.5 does not divide 7.3: 15 steps
    assert odd.n_steps == 15 and abs(odd.dt - 7.3 / 15) < 1e-12
    assert schedule_for(MODEL, total_time=1.01).n_steps == 21
    assert schedule_for(MODEL, backend="tdvp", total_time=7.3, dt=7.3).dt == 7.3  # a given dt wins


def test_model_request_checks_every_parameter_and_names_it_as_asked():
    from qlat.analysis.schwinger_points import check_model_request, qubit_model
    from qlat.core.errors import ParameterError

    good = {"n_sites": 4, "spacing": 0.5, "mass": 0.2, "coupling": 1.0, "theta": 0.3}
    check_model_request(**good)
    check_model_request(**{**good, "n_sites": [4, 6], "spacing": [0.5, 0.25]})  # a scan's lists
    for key, bad in (("n_sites", 5), ("n_sites", [4, 7]), ("spacing", 0.0), ("spacing", [0.5, float("nan")]),
                     ("mass", float("inf")), ("coupling", -1.0), ("theta", float("nan"))):
        with pytest.raises(ParameterError) as err:
            check_model_request(**{**good, key: bad}, names={key: f"--{key}"})
        assert err.value.parameter == f"--{key}"
    model = qubit_model(n_sites=4, spacing=0.5, mass=0.2, theta=0.3, formulation="electric", mass_shift=True)
    assert model.params() == SchwingerModel(4, 0.5, 0.2, 0.3, formulation="electric", mass_shift=True).params()


def test_adiabatic_request_checks_then_runs_the_point_it_describes():
    from qlat.analysis.schwinger_points import adiabatic_request
    from qlat.core.errors import ParameterError

    request = adiabatic_request(MODEL, backend="statevector", total_time=2.0, ramp="sin2")
    assert request.schedule == schedule_for(MODEL, backend="statevector", total_time=2.0, ramp="sin2")
    assert not request.samples_shots and adiabatic_request(MODEL, backend="aer", total_time=2.0).samples_shots
    ran = request.run().to_dict()
    direct = adiabatic_point(MODEL, request.schedule, backend="statevector").to_dict()
    assert ran["energy"].value == direct["energy"].value and ran["params"] == direct["params"]
    with pytest.raises(ParameterError) as err:
        adiabatic_request(MODEL, backend="statevector", shots=100, names={"shots": "--shots"})
    assert err.value.parameter == "--shots"
    with pytest.raises(ParameterError) as err:
        adiabatic_request(SchwingerModel(2000, 0.5, 0.1), backend="tdvp", bond_dim=4096,
                          names={"n_sites": "--sites", "bond_dim": "--bond-dim"})
    assert err.value.parameter in ("--sites", "--bond-dim")
