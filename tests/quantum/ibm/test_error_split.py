"""Device runs split their error: noiseless value, schedule error (vs ED), noise model, warnings, seeds.

Values are compared with references computed here independently: qlat's statevector kernel on the
same schedule (the noiseless circuit), exact diagonalization, and Tr(O)/2^N.  A noiseless fake
device must reproduce the statevector value within its shot noise, so a device-path value off by
25 % cannot pass (the power check asserts the shot noise is far below that).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qlat.core.errors import QlatWarning
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.exact_backend import exact_estimates
from qlat.quantum.ibm import reference as reference_module
from qlat.quantum.ibm.backend import hardware_schedule, run_on_device
from qlat.quantum.ibm.store import JobStore
from qlat.quantum.observables import qubit_observable
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel

KEYS = ("energy", "condensate")


def _references(model, schedule):
    """(noiseless, exact, maximally mixed) values of energy and condensate, computed here."""
    ops = {k: qubit_observable(k, model).operators[0] for k in KEYS}
    noiseless = expectation_values(evolve_statevector(model, schedule, order=2), ops)
    exact = {k: e.value for k, e in exact_estimates(model, observables=KEYS).items()}
    mixed = {k: float(np.trace(op.to_matrix()).real) / 2**model.n_qubits for k, op in ops.items()}
    return noiseless, exact, mixed


@pytest.mark.parametrize("kind", ["estimator", "sampler"])
def test_a_noiseless_fake_device_reproduces_the_statevector_value(model4, kind):
    schedule = hardware_schedule()
    noiseless, exact, _ = _references(model4, schedule)
    run = run_on_device(model4, backend="fake:fake_manila", shots=2000, seed=3, device_noise=False, kind=kind)
    for key in KEYS:
        est = run.estimates[key]
        assert est.backend == "fake:fake_manila/noiseless" and est.provenance["device_noise"] is False
        z = (est.value - noiseless[key]) / est.error
        assert abs(z) < 4, (key, est.value, noiseless[key], est.error)
        assert 5 * est.error < 0.25 * abs(noiseless[key])  # power: a value off by 25 % would sit > 5 sigma out
        assert est.provenance["noiseless_value"] == pytest.approx(noiseless[key], abs=1e-10)
        sources = est.provenance["systematic_sources"]
        assert sources["noise"] == 0.0 and est.provenance["error_free_fraction"] == 1.0
        assert sources["schedule"] == pytest.approx(abs(noiseless[key] - exact[key]), abs=1e-10)
        assert est.provenance["schedule_error"] == pytest.approx(noiseless[key] - exact[key], abs=1e-10)
        assert est.systematic == pytest.approx(sources["schedule"])


def test_a_noisy_fake_run_sits_between_noiseless_and_mixed_and_within_its_error_model(model4):
    schedule = hardware_schedule()
    noiseless, exact, mixed = _references(model4, schedule)
    with pytest.warns(QlatWarning, match="error-free fraction") as caught:
        run = run_on_device(model4, backend="fake:fake_manila", shots=2000, seed=4)
    assert not any("schedule's error" in str(w.message) for w in caught)  # the noise, not the schedule, dominates
    for key in KEYS:
        est = run.estimates[key]
        prov = est.provenance
        f = prov["error_free_fraction"]
        assert 0.2 < f < prov["estimated_success_probability"] < 1  # readout errors lower it further
        # depolarized towards Tr(O)/2^N: strictly between the noiseless and the maximally mixed value
        pulled = (est.value - mixed[key]) / (noiseless[key] - mixed[key])
        assert 3 * est.error / abs(noiseless[key] - mixed[key]) < pulled < 1 - 3 * est.error / abs(
            noiseless[key] - mixed[key])
        sources = prov["systematic_sources"]
        assert sources["schedule"] == pytest.approx(abs(noiseless[key] - exact[key]), abs=1e-10)
        assert sources["noise"] == pytest.approx((1 / f - 1) * abs(est.value - mixed[key]), rel=1e-12)
        assert prov["mixed_value"] == pytest.approx(mixed[key], abs=1e-12)
        assert abs(est.z_score(exact[key])) < 3
        assert any("error-free fraction" in w for w in est.warnings)


def test_the_schedule_warning_when_the_schedule_dominates(model4, one_step):
    noiseless, exact, _ = _references(model4, one_step)
    assert abs(noiseless["energy"] - exact["energy"]) > 0.1  # one Trotter step is far from adiabatic
    with pytest.warns(QlatWarning, match="schedule's error"):
        run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=500, seed=2,
                            device_noise=False)
    assert any("schedule's error" in w for w in run.estimates["energy"].warnings)
    assert run.estimates["energy"].systematic >= abs(noiseless["energy"] - exact["energy"]) - 1e-12


def test_seed_is_drawn_recorded_and_repeats_a_fake_run_bit_for_bit(model4, one_step):
    store = JobStore()
    first = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=200, mitigation="twirling",
                          store=store)
    seeds = first.estimates["energy"].provenance["seeds"]
    seed = first.estimates["energy"].provenance["seed"]
    assert isinstance(seed, int) and seeds == {"seed": seed, "transpiler": seed, "simulator": seed, "twirling": seed}
    assert first.seeds == seeds and store.get(first.ref).params["seed"] == seed
    again = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=200, mitigation="twirling",
                          seed=seed, store=store)
    for key in KEYS:
        a, b = first.estimates[key], again.estimates[key]
        assert (a.value, a.error, a.systematic) == (b.value, b.error, b.systematic)
    assert store.get(first.ref).circuit_hash == store.get(again.ref).circuit_hash
    other = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, dry_run=True)
    assert other.seeds is not None and other.seeds["seed"] != seed  # a fresh draw (collision probability 2^-31)


def test_header_and_json_state_the_schedule_used_the_split_and_the_seeds(capsys):
    from qlat.cli.main import main

    assert main(["schwinger", "adiabatic", "--backend", "fake:fake_manila", "--sites", "4", "--spacing", "1",
                 "--mass", "0.5", "--shots", "300", "--seed", "9", "--time", "1.5"]) == 0
    text = capsys.readouterr().out
    assert "schedule T = 1.5, dt = 0.75 (2 Trotter steps), ramp linear, m0 = 1, order 2" in text
    assert "repeat with seed=9" in text and "noiseless circuit" in text and "schedule error" in text
    assert main(["schwinger", "adiabatic", "--backend", "fake:fake_manila", "--sites", "4", "--shots", "100",
                 "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "qlat: warning: fake:fake_manila energy, condensate: estimated error-free fraction" in captured.err
    sched = hardware_schedule()
    assert out["schedule"]["default"] is True and out["schedule"]["n_steps"] == sched.n_steps == 4
    assert (out["schedule"]["total_time"], out["schedule"]["dt"], out["schedule"]["ramp"],
            out["schedule"]["initial_mass"]) == (sched.total_time, sched.dt, sched.ramp, sched.initial_mass)
    assert isinstance(out["seeds"]["seed"], int)
    energy = out["estimates"]["energy"]
    assert energy["provenance"]["seed"] == out["seeds"]["seed"]
    assert math.isfinite(energy["provenance"]["noiseless_value"])
    assert set(energy["provenance"]["systematic_sources"]) == {"schedule", "noise"}


def test_help_states_the_device_schedule():
    from qlat.cli.main import build_parser

    parser = build_parser(["schwinger", "adiabatic", "--help"])
    sub = parser._subparsers._group_actions[0].choices["schwinger"]
    text = sub._subparsers._group_actions[0].choices["adiabatic"].format_help()
    sched = hardware_schedule()
    flat = " ".join(text.split())
    assert f"device runs (fake:/ibm:): default {sched.total_time:g}," in flat
    assert f"default {sched.dt:g} ({sched.n_steps} Trotter steps" in flat
    assert f"default {sched.ramp}," in flat and f"default {sched.initial_mass:g}," in flat


def test_reference_branches_beyond_exact_diagonalization(monkeypatch):
    import qlat.exact.diagonalization as diag
    import qlat.quantum.statevector as sv

    model = SchwingerModel(4, 0.8, 0.3, 0.5)
    schedule = AdiabaticSchedule(total_time=3.0, dt=0.75, initial_mass=1.0)
    comps = [(k, k, "g", qubit_observable(k, model).operators[0]) for k in KEYS]
    ed = reference_module.noiseless_reference(model, schedule, comps, order=2)
    assert ed["schedule_method"].startswith("|noiseless - exact|") and not ed["warnings"]
    monkeypatch.setattr(diag, "ED_ROUTINE_MAX_QUBITS", 2)  # as if N were beyond exact diagonalization
    est = reference_module.noiseless_reference(model, schedule, comps, order=2)
    assert "adiabatic_systematics" in est["schedule_method"] and not est["warnings"]
    for key in KEYS:
        assert est["keys"][key]["noiseless"] == ed["keys"][key]["noiseless"]
        assert est["keys"][key]["exact"] is None and est["keys"][key]["schedule"] > 0
    monkeypatch.setattr(sv, "MAX_QUBITS", 2)  # as if N were beyond the statevector kernel
    none = reference_module.noiseless_reference(model, schedule, comps, order=2)
    assert none["keys"]["energy"]["noiseless"] is None and "not computed" in none["warnings"][0]


def test_calibration_cases_of_fake_devices_run_at_test_size():
    from qlat.analysis.calibration import run_calibration

    report = run_calibration(estimators=["fake"], size="test", seed=0)
    points = report.points_of("fake")
    assert [p.observable for p in points] == list(KEYS)
    for p in points:
        assert p.reference == "ed" and math.isfinite(p.z) and p.point["device"] == "fake_torino"
        assert set(p.estimate.provenance["systematic_sources"]) == {"schedule", "noise"}
        assert p.exact == pytest.approx(p.estimate.provenance["exact_value"], abs=1e-10)


def test_split_errors_model_and_its_warnings():
    from qlat.core.estimate import Estimate

    reference = {"keys": {"x": {"noiseless": -1.0, "mixed": 0.5, "scale": 2.0, "exact": -1.2, "schedule": 0.2,
                                "schedule_signed": 0.2}},
                 "error_free_fraction": 0.8, "noiseless_method": "m", "schedule_method": "s", "warnings": []}
    raw = {"x": Estimate(-0.7, 0.01, name="x", unit="g"), "discarded_fraction": Estimate(0.1, 0.01, unit="1")}
    out = reference_module.split_errors(raw, reference, label="fake:test", emit=False)
    assert out["discarded_fraction"] == raw["discarded_fraction"]  # not an observable of the reference
    est = out["x"]
    assert est.value == -0.7 and est.error == 0.01  # the value is reported, not corrected
    assert est.provenance["systematic_sources"] == pytest.approx({"noise": 0.25 * 1.2, "schedule": 0.2})
    assert est.systematic == pytest.approx(math.hypot(0.3, 0.2)) and est.warnings == ()
    # the schedule dominating, a small error-free fraction, a value at Tr(O)/2^N: each warns
    big_schedule = {**reference, "keys": {"x": {**reference["keys"]["x"], "schedule": 0.5}}}
    assert "schedule's error" in reference_module.split_errors(raw, big_schedule, label="l", emit=False)["x"].warnings[0]
    noisy = {**reference, "error_free_fraction": 0.3}
    assert "error-free fraction" in reference_module.split_errors(raw, noisy, label="l", emit=False)["x"].warnings[0]
    at_mixed = {"x": Estimate(0.5 + 0.09, 0.01, name="x", unit="g")}
    warned = reference_module.split_errors(at_mixed, reference, label="l", emit=False)["x"]
    assert any("maximally mixed" in w for w in warned.warnings)
    with pytest.warns(QlatWarning, match="fake:test x: .*maximally mixed"):
        reference_module.split_errors(at_mixed, reference, label="fake:test")


def test_the_constant_part_carries_no_noise_error_and_a_state_caps_it():
    """The identity coefficient of O is exact (a shift of O by c·𝟙 shifts value and Tr O/2^N alike and leaves the
    noise error as it is); at a tiny error-free fraction the white-noise factor (1/f − 1) is capped by the
    non-identity Pauli weights: the noiseless value is a state's, within ‖O − Tr O/2^N‖ ≤ Σ|c_P| of Tr O/2^N."""
    from qiskit.quantum_info import SparsePauliOp

    from qlat.core.estimate import Estimate

    op = SparsePauliOp.from_list([("IZ", 0.25), ("XX", -0.5), ("ZZ", 0.125)])
    radius = float(np.max(np.abs(np.linalg.eigvalsh(op.to_matrix()))))  # Tr op = 0
    assert reference_module.operator_bound(op) == pytest.approx(0.875) and radius <= 0.875 + 1e-12

    def noise(operator, value, f):
        keys = {"x": {"noiseless": None, "mixed": reference_module.mixed_value(operator),
                      "scale": reference_module.operator_scale(operator), "bound": reference_module.operator_bound(operator),
                      "exact": None, "schedule": None, "schedule_signed": None}}
        ref = {"keys": keys, "error_free_fraction": f, "warnings": []}
        est = reference_module.split_errors({"x": Estimate(value, 0.01, name="x", unit="1")}, ref, label="l", emit=False)
        return est["x"].provenance["systematic_sources"]["noise"], est["x"].provenance["noise_error_method"]

    shifted = op + SparsePauliOp.from_list([("II", 40.0)])
    for f in (0.9, 0.6, 1e-4):
        assert noise(shifted, 40.3, f)[0] == pytest.approx(noise(op, 0.3, f)[0], rel=1e-12)
    assert noise(op, 0.3, 0.8)[0] == pytest.approx(0.25 * 0.3)  # the white-noise model, uncapped above f = 1/2
    capped, method = noise(shifted, 40.3, 1e-4)  # (1/f - 1) * 0.3 = 3000 before the cap
    assert capped == pytest.approx(0.3 + 0.875) and "cap" in method
    assert capped <= 1.5 * (0.3 + radius)  # the power check: a bar 100x too wide cannot pass
