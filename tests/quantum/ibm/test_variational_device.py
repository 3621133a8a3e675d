"""The variational preparation on the device path: compiled circuits, noiseless reference, ODR.

Every value is compared with a reference computed here: the exact ansatz state (qlat's sector
simulation, itself tested against Qiskit's Statevector) and exact diagonalization.
"""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.quantum.ibm.backend import bare_vacuum_value, run_on_device
from qlat.quantum.ibm.mitigation import odr_correct
from qlat.quantum.observables import qubit_observable
from qlat.quantum.statevector import expectation_values
from qlat.quantum.variational import PoolOperator, ScalableAnsatz
from qlat.theories.schwinger_qubit import SchwingerModel

MODEL = SchwingerModel(4, 1.0, 0.5)
#: Operators and parameters trained at N = 4 (fixed here so the test needs no training).
ANSATZ = ScalableAnsatz((PoolOperator("mh", 1), PoolOperator("h", 1)), (0.27, -0.05))
KEYS = ("energy", "condensate")


def _noiseless():
    ops = {k: qubit_observable(k, MODEL).operators[0] for k in KEYS}
    return expectation_values(ANSATZ.state(MODEL), ops)


def test_a_noiseless_device_reproduces_the_exact_ansatz_value():
    noiseless = _noiseless()
    run = run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, shots=4000, seed=5,
                        device_noise=False)
    assert "SC-ADAPT-VQE" in run.schedule["description"] and run.schedule["default"] is False
    for key in KEYS:
        est = run.estimates[key]
        assert est.provenance["preparation"] == "variational"
        assert est.provenance["noiseless_value"] == pytest.approx(noiseless[key], abs=1e-12)
        assert abs(est.value - noiseless[key]) < 4 * est.error
        assert 5 * est.error < 0.25 * abs(noiseless[key])  # power: 25 % off would be far outside
    assert run.report.preparation == "variational" and run.report.n_steps == 2


def test_odr_calibration_circuit_has_the_physics_circuit_structure_and_a_known_value():
    from qlat.quantum.ibm.compile import compile_adiabatic, two_qubit_count
    from qlat.quantum.ibm.devices import fake_device

    device = fake_device("fake_manila", parameter="backend")
    ops = [qubit_observable(k, MODEL).operators[0] for k in KEYS]
    compiled = compile_adiabatic(MODEL, ANSATZ, device, operators=ops, seed=3, calibration=True)
    physics, calibration = compiled.circuits[0], compiled.calibration_circuits[0]
    assert [i.operation.name for i in physics.data] == [i.operation.name for i in calibration.data]
    assert two_qubit_count(physics) == two_qubit_count(calibration) > 0
    from qiskit.quantum_info import Statevector

    # noiselessly the calibration circuit is the bare vacuum: its values are bare_vacuum_value
    state = Statevector(calibration)
    for op, key in zip(compiled.observables, KEYS):
        logical = qubit_observable(key, MODEL).operators[0]
        assert state.expectation_value(op).real == pytest.approx(bare_vacuum_value(logical, 4), abs=1e-9)
    assert bare_vacuum_value(qubit_observable("condensate", MODEL).operators[0], 4) == pytest.approx(-1 / (2 * 1.0))


def test_odr_correct_undoes_white_noise_exactly():
    ideal_value, cal_ideal, mixed = -0.4, -0.5, 0.1
    for f in (0.9, 0.5):
        raw = mixed + f * (ideal_value - mixed)
        cal = mixed + f * (cal_ideal - mixed)
        value, error, r = odr_correct(raw, 0.01, cal, 0.01, ideal=cal_ideal, mixed=mixed)
        assert value == pytest.approx(ideal_value, abs=1e-12) and r == pytest.approx(1 / f)
        assert error > 0.01 / f * 0.999
    with pytest.raises(ParameterError):
        odr_correct(0.1, 0.01, mixed, 0.01, ideal=cal_ideal, mixed=mixed)


def test_odr_on_a_noisy_device_moves_the_condensate_to_the_noiseless_value():
    noiseless = _noiseless()["condensate"]
    raw = run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, shots=4000, seed=11,
                        observables=["condensate"])
    odr = run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, shots=4000, seed=11,
                        observables=["condensate"], mitigation="odr")
    r, o = raw.estimates["condensate"], odr.estimates["condensate"]
    assert o.provenance["odr"]["applied"] is True and o.provenance["odr"]["rescale"] > 1
    assert o.provenance["odr"]["raw_value"] == pytest.approx(r.value)  # the same seed: the same raw shots
    assert abs(r.value - noiseless) > 5 * r.error  # the device is noisy
    assert abs(o.value - noiseless) < 0.5 * abs(r.value - noiseless)  # ODR moves the value most of the way
    assert abs(o.value - noiseless) < 4 * o.error + 0.02 * abs(noiseless)
    # the hardware part of its error bar: the non-white remainder of the correction, not the raw white-noise model
    from qlat.quantum.ibm.reference import ODR_RESIDUAL_FRACTION

    sources = o.provenance["systematic_sources"]
    assert sources["noise"] == pytest.approx(ODR_RESIDUAL_FRACTION * abs(o.value - r.value), rel=1e-12)
    assert sources["noise"] < 0.5 * r.provenance["systematic_sources"]["noise"]
    assert abs(o.value - noiseless) <= 3 * o.total_error


def test_odr_needs_a_variational_preparation():
    with pytest.raises(ParameterError, match="odr"):
        run_on_device(MODEL, backend="fake:fake_manila", mitigation="odr", dry_run=True)
    with pytest.raises(ParameterError, match="not both"):
        from qlat.quantum.ibm.backend import hardware_schedule

        run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, schedule=hardware_schedule(),
                      dry_run=True)
    assert np.isfinite(bare_vacuum_value(qubit_observable("energy", MODEL).operators[0], 4))


def test_a_run_records_its_seeds_and_circuits_and_repeats_bit_for_bit(tmp_path, capsys):
    from qiskit import qasm3

    from qlat.cli.main import main
    from qlat.quantum.ibm.compile import compile_adiabatic
    from qlat.quantum.ibm.devices import fake_device
    from qlat.quantum.ibm.store import JobStore

    store = JobStore(tmp_path / "jobs.sqlite")
    first = run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, shots=300, store=store,
                          observables=["condensate"], mitigation="odr+twirling")
    seed = first.seeds["seed"]
    assert first.seeds == {"seed": seed, "transpiler": seed, "simulator": seed, "twirling": seed}
    assert main(["circuits", "export", "--job", first.ref[:10], "--out", str(tmp_path / "out"),
                 "--store", str(store.path)]) == 0
    assert "odr_calibration" in capsys.readouterr().out
    files = sorted((tmp_path / "out").glob("*.qasm"))
    assert [f.name.split("_", 2)[2] for f in files] == ["estimator_0.qasm", "odr_calibration.qasm"]
    # the exported text is the circuit a fresh compilation with the recorded seed gives
    ops = [qubit_observable("condensate", MODEL).operators[0]]
    fresh = compile_adiabatic(MODEL, ANSATZ, fake_device("fake_manila", parameter="backend"), operators=ops,
                              seed=seed, calibration=True)
    assert files[0].read_text() == qasm3.dumps(fresh.circuits[0])
    assert files[1].read_text() == qasm3.dumps(fresh.calibration_circuits[0])
    assert fresh.circuit_hash() == store.get(first.ref).circuit_hash
    again = run_on_device(MODEL, backend="fake:fake_manila", preparation=ANSATZ, shots=300, store=store,
                          observables=["condensate"], mitigation="odr+twirling", seed=seed)
    a, b = first.estimates["condensate"], again.estimates["condensate"]
    assert (a.value, a.error, a.systematic) == (b.value, b.error, b.systematic)
    assert a.provenance["odr"]["calibration_value"] == b.provenance["odr"]["calibration_value"]


def test_a_line_of_112_qubits_on_a_156_qubit_heron():
    from qlat.quantum.ibm.compile import best_line, error_map
    from qlat.quantum.ibm.devices import fake_device

    errors = error_map(fake_device("fake_fez", parameter="backend").target)
    line = best_line(errors, 112)
    assert len(line) == len(set(line)) == 112
    for a, b in zip(line, line[1:]):
        assert (min(a, b), max(a, b)) in errors.edges  # consecutive qubits are coupled by a working gate


def test_cli_preparation_flags_conflict_cleanly(capsys):
    from qlat.cli.main import main

    for bad in (["--preparation", "sc-vqe", "--time", "2"], ["--budget", "150", "--dt", "0.5"],
                ["--backend", "statevector", "--preparation", "sc-vqe"]):
        args = ["schwinger", "adiabatic", "--backend", "fake:fake_manila", "--sites", "4", "--dry-run", *bad]
        assert main(args) == 2
        assert "qlat: error: --" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_preparations_on_the_device_path(capsys):
    from qlat.cli.main import main

    assert main(["schwinger", "adiabatic", "--backend", "fake:fake_manila", "--sites", "4", "--spacing", "1",
                 "--mass", "0.5", "--preparation", "sc-vqe", "--dry-run", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "SC-ADAPT-VQE training" in out and "ansatz operators" in out and "repeat with seed=1" in out
    assert main(["schwinger", "adiabatic", "--backend", "fake:fake_manila", "--sites", "4", "--spacing", "1",
                 "--mass", "0.5", "--budget", "150", "--dry-run", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "budget 150 two-qubit gates at N = 4" in out and "Trotter steps" in out
