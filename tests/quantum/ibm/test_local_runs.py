"""The full path in local testing mode on a small fake device: compile, submit, store, fetch, Estimates."""

from __future__ import annotations

import math

import pytest

from qlat.core.backend import Backend, estimate, get_backend
from qlat.core.errors import ParameterError
from qlat.core.estimate import Estimate
from qlat.core.registry import BACKENDS
from qlat.quantum.ibm.backend import FakeDeviceBackend, IBMDeviceBackend, run_on_device
from qlat.quantum.ibm.store import JobStore
from qlat.quantum.ibm.submit import fetch

SHOTS = 300


def _within_error_model(estimates, model):
    """Each value sits within 3 of its total errors (shot noise, schedule, noise model) of ED, with the split."""
    from qlat.quantum.exact_backend import exact_estimates

    keys = [k for k in estimates if k != "discarded_fraction"]
    exact = exact_estimates(model, observables=sorted({k.split("[")[0] for k in keys}))
    for key in keys:
        est = estimates[key]
        assert set(est.provenance["systematic_sources"]) == {"schedule", "noise"}, key
        assert abs(est.z_score(exact[key].value)) < 3, (key, est, exact[key].value)
        assert est.provenance["exact_value"] == pytest.approx(exact[key].value, abs=1e-10)


def test_estimator_run_is_stored_and_fetch_is_idempotent(model4, one_step):
    store = JobStore()
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=SHOTS, seed=5, store=store)
    assert run.status == "done" and run.job_id and run.ref
    assert set(run.estimates) == {"energy", "condensate"}
    for key, est in run.estimates.items():
        assert isinstance(est, Estimate) and est.name == key and est.unit == "g"
        assert est.backend == "fake:fake_manila" and est.n_samples == SHOTS
        assert math.isfinite(est.value) and 0 < est.error < 1
        assert est.provenance["noiseless_value"] is not None and 0 < est.provenance["error_free_fraction"] < 1
        prov = est.provenance
        assert prov["device"] == "fake_manila" and prov["mitigation"] == "none" and prov["local_testing_mode"]
        assert prov["job_id"] == run.job_id and prov["ref"] == run.ref and prov["layout"] in ("line", "default")
        assert prov["model"] == model4.params() and prov["schedule"]["n_steps"] == 1
    rec = store.get(run.ref)
    assert rec.status == "done" and rec.local and rec.kind == "estimator" and rec.primitive == "executor"
    assert len(rec.circuit_hash) == 64 and rec.params["shots"] == SHOTS
    # fetch (from a fresh store object, as another process would) twice: same Estimates, one result set
    other = JobStore(store.path)
    first = fetch(other, run.job_id)
    second = fetch(other, run.ref[:10])
    assert first == second == run.estimates
    assert other.count_results(run.ref) == 1 and len(other.list()) == 1
    _within_error_model(run.estimates, model4)
    # the simulator seed makes a local run reproducible
    again = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=SHOTS, seed=5, store=store)
    assert again.estimates["energy"].value == run.estimates["energy"].value
    assert len(store.list()) == 2


def test_trex_zne_twirling_dd_run_locally(model4, one_step):
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=200, seed=1,
                        mitigation="trex+zne+twirling+dd")
    assert run.status == "done"
    for est in run.estimates.values():
        assert est.backend == "fake:fake_manila+dd+trex+twirling+zne"
        assert est.provenance["mitigation"] == "dd+trex+twirling+zne"
        assert math.isfinite(est.value) and math.isfinite(est.error) and est.error > 0
        assert "not reduced for the mitigation" in est.provenance["noise_error_method"]
        assert "readout errors left out" in est.provenance["noise_error_method"]  # trex mitigates the readout
    _within_error_model(run.estimates, model4)


def test_postselected_sampler_run_reports_the_discarded_fraction(model4, one_step):
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=SHOTS, seed=2,
                        mitigation="postselect", observables=("energy", "condensate", "electric_field"))
    est = run.estimates
    assert set(est) == {"energy", "condensate", "electric_field[0]", "electric_field[1]", "electric_field[2]",
                        "discarded_fraction"}
    frac = est["discarded_fraction"]
    assert 0.0 < frac.value < 1.0 and frac.error > 0 and frac.n_samples == 3 * SHOTS and frac.unit == "1"
    assert est["condensate"].n_samples < SHOTS  # the kept shots
    assert est["energy"].backend == "fake:fake_manila+postselect"
    assert JobStore().get(run.ref).kind == "sampler"
    _within_error_model(est, model4)


@pytest.mark.parametrize("mode,primitive,mitigation", [("batch", "executor", "postselect+readout"),
                                                        ("session", "v2", None),
                                                        ("job", "v2", "postselect")])
def test_modes_and_legacy_primitives(model4, one_step, mode, primitive, mitigation):
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, seed=3, mode=mode,
                        primitive=primitive, mitigation=mitigation)
    rec = JobStore().get(run.ref)
    assert rec.mode == mode and rec.primitive == primitive and rec.status == "done"
    _within_error_model(run.estimates, model4)


def test_dry_run_submits_and_stores_nothing(model4, one_step):
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, dry_run=True, mitigation="trex")
    assert run.estimates is None and run.ref is None and run.status == "dry-run"
    assert "two-qubit gates" in str(run) and run.to_dict()["report"]["mitigation"] == "trex"
    assert JobStore().list() == []


def test_registered_backends_answer_the_protocol(model4, one_step):
    assert BACKENDS.get("fake") is FakeDeviceBackend and BACKENDS.get("ibm") is IBMDeviceBackend
    backend = get_backend("fake")
    assert isinstance(backend, Backend) and backend.supports(model4) and not backend.supports("a string")
    assert {"energy", "condensate", "electric_field"} <= set(backend.observables(model4))
    assert "plaquette" not in backend.observables(model4)
    result = estimate(model4, ["condensate", "electric_field"], backend="fake", device="fake_manila",
                      schedule=one_step, shots=100, seed=4)
    assert set(result) == {"condensate", "electric_field[0]", "electric_field[1]", "electric_field[2]"}
    assert FakeDeviceBackend(device="fake_manila").label == "fake:fake_manila"
    with pytest.raises(ParameterError, match="device"):
        IBMDeviceBackend().estimate(model4, ["energy"])


def test_hardware_row_in_a_crosscheck_table(model4, one_step):
    from qlat.analysis.crosscheck import CrossCheck
    from qlat.quantum.exact_backend import exact_estimates

    exact = exact_estimates(model4, observables=("energy", "condensate"))
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, seed=1)
    table = CrossCheck(reference="exact")
    table.add("exact", {k: exact[k] for k in ("energy", "condensate")})
    table.add(run.estimates["energy"].backend, run.estimates)
    rows = table.rows(["energy", "condensate"])
    assert [r["label"] for r in rows] == ["fake:fake_manila", "fake:fake_manila"]
    assert all(r["z"] is not None for r in rows)


def test_bad_requests_are_one_line_parameter_errors(model4):
    for kwargs, name in [({"backend": "aer:fake_manila"}, "backend"), ({"backend": "fake:fake_atlantis"}, "backend"),
                         ({"backend": "fake:fake_manila", "shots": 0}, "shots"),
                         ({"backend": "fake:fake_manila", "mitigation": "magic"}, "mitigation"),
                         ({"backend": "fake:fake_manila", "mitigation": "trex+postselect"}, "mitigation"),
                         ({"backend": "fake:fake_manila", "mode": "party"}, "mode"),
                         ({"backend": "fake:fake_manila", "primitive": "v1"}, "primitive"),
                         ({"backend": "fake:fake_manila", "observables": ("plaquette",)}, None)]:
        with pytest.raises(Exception) as info:
            run_on_device(model4, **kwargs)
        assert "\n" not in str(info.value)
        if name is not None:
            assert isinstance(info.value, ParameterError) and info.value.parameter == name
    assert JobStore().list() == []


@pytest.mark.parametrize("name", ["fake", "ibm"])
def test_backend_examples_run_offline_and_deterministically(name, tmp_path):
    backend = get_backend(name)
    target, options = backend.example(tmp_path)
    first = backend.estimate(target, ["energy", "condensate"], **options)
    again = backend.estimate(target, ["energy", "condensate"], **options)
    assert first.keys() == {"energy", "condensate"}
    assert all(first[k].value == again[k].value and first[k].error == again[k].error for k in first)
    assert first["energy"].backend == f"{name}:fake_manila"
    with pytest.raises(ParameterError):
        backend.estimate(target, ["no_such_observable"], **options)


def test_sampler_without_mitigation_and_kind_conflicts(model4, one_step):
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, seed=1, kind="sampler")
    assert "discarded_fraction" not in run.estimates and JobStore().get(run.ref).kind == "sampler"
    with pytest.raises(ParameterError, match="kind"):
        run_on_device(model4, backend="fake:fake_manila", kind="estimator", mitigation="postselect")
    with pytest.raises(ParameterError, match="kind"):
        run_on_device(model4, backend="fake:fake_manila", kind="sampler", mitigation="trex")
