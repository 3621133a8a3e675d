"""Local testing mode on the active qubits only: the restricted device has the device's noise on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qlat.core.errors import ParameterError
from qlat.quantum.ibm.active import (
    active_qubits,
    remap_circuit,
    remap_observable,
    restrict_pubs,
    restricted_device,
    restricted_target,
)
from qlat.quantum.ibm.backend import run_on_device
from qlat.quantum.ibm.compile import best_line, error_map, readout_calibration_circuits
from qlat.quantum.ibm.devices import fake_device
from qlat.quantum.ibm.store import JobStore


def test_restricted_target_keeps_every_property_of_the_kept_qubits():
    device = fake_device("fake_sherbrooke")
    target = device.target
    qubits = best_line(error_map(target), 6)  # a path of 6 qubits, in path (not sorted) order
    qubits = qubits if qubits != sorted(qubits) else qubits[::-1]
    assert qubits != sorted(qubits)  # qubit qubits[i] becomes i: the relabelling is exercised
    small = restricted_target(target, qubits)
    assert small.num_qubits == 6 and small.dt == target.dt
    assert set(small.operation_names) == set(target.operation_names)
    for i, q in enumerate(qubits):
        assert small.qubit_properties[i].t1 == target.qubit_properties[q].t1
        assert small.qubit_properties[i].t2 == target.qubit_properties[q].t2
    index = {q: i for i, q in enumerate(qubits)}
    seen = 0
    for name in target.operation_names:
        if target[name] is None or None in target[name]:
            continue
        expected = {tuple(index[q] for q in qargs): props for qargs, props in target[name].items()
                    if all(q in index for q in qargs)}
        got = dict(small[name].items())
        assert set(got) == set(expected), name
        for qargs, props in expected.items():
            if props is None:
                assert got[qargs] is None
                continue
            assert got[qargs].error == props.error and got[qargs].duration == props.duration
            seen += 1
    # a 6-qubit path: its 5 ECR edges, and per-qubit sx/x/measure
    assert len(small["ecr"]) == 5 and len(small["measure"]) == 6 and seen > 30
    with pytest.raises(ParameterError, match="distinct"):
        restricted_target(target, [1, 1])
    with pytest.raises(ParameterError, match="distinct"):
        restricted_target(target, [200])


def test_aer_noise_model_of_the_restricted_device_equals_the_devices_on_those_qubits():
    """Aer builds its noise model from the Target: channel by channel, the restricted device's
    noise model is the device's on the kept qubits (NoiseModel has no public per-qubit getter)."""
    from qiskit_aer.noise import NoiseModel

    device = fake_device("fake_lagos")  # qubit 6 reads out with ~17 % error, the others ~1-3 %
    qubits = [1, 3, 5, 6]
    full = NoiseModel.from_backend(device)
    small = NoiseModel.from_backend(restricted_device(device, qubits))
    index = {q: i for i, q in enumerate(qubits)}
    compared = 0
    for name, by_qargs in full._local_quantum_errors.items():
        for qargs, error in by_qargs.items():
            if all(q in index for q in qargs):
                assert small._local_quantum_errors[name][tuple(index[q] for q in qargs)] == error
                compared += 1
    assert compared == sum(len(v) for v in small._local_quantum_errors.values()) > 10
    for i, q in enumerate(qubits):
        assert small._local_readout_errors[(i,)] == full._local_readout_errors[(q,)]


def test_local_sampler_on_the_restricted_device_sees_each_qubits_readout_error():
    """Through the runtime's local testing mode: prepare |0…0⟩ and |1…1⟩ on four lagos qubits and
    read the flip rates; each must be its own qubit's readout error (binomial z < 4)."""
    from qiskit_ibm_runtime.executor_sampler import Sampler
    from qiskit_ibm_runtime.options_models import SamplerOptions

    device = fake_device("fake_lagos")
    qubits = [6, 1, 3, 5]
    shots = 4000
    small, pubs, kept = restrict_pubs(device, [(qc,) for qc in readout_calibration_circuits(device, qubits)])
    assert kept == sorted(qubits) and small.num_qubits == 4 and all(p[0].num_qubits == 4 for p in pubs)
    options = SamplerOptions()
    options.default_shots = shots
    options.simulator.seed_simulator = 11
    result = Sampler(mode=small, options=options).run(pubs).result()
    zeros, ones = (np.asarray(r.data.meas.to_bool_array(order="little")) for r in result)
    for bit, q in enumerate(qubits):
        flips = (zeros[:, bit].sum() + (~ones[:, bit]).sum()) / (2 * shots)
        expected = device.target["measure"][(q,)].error
        z = (flips - expected) / math.sqrt(expected * (1 - expected) / (2 * shots))
        assert abs(z) < 4, (q, flips, expected)
    assert device.target["measure"][(6,)].error > 0.1  # the test can tell the qubits apart


def test_remapping_refuses_work_on_dropped_qubits_and_keeps_the_state():
    qc = QuantumCircuit(5)
    qc.h(1)
    qc.cx(1, 3)
    qc.barrier()
    qc.rz(0.3, 3)
    assert active_qubits([qc]) == [1, 3]
    small = remap_circuit(qc, [1, 3])
    assert small.num_qubits == 2
    obs = SparsePauliOp(["IXIXI", "IZIZI", "IIIZI"], [0.5, 1.0, -2.0])  # label order: qubit 4 … 0
    reduced = remap_observable(obs, [1, 3])
    assert reduced.num_qubits == 2
    full_value = Statevector(qc).expectation_value(obs)
    assert Statevector(small).expectation_value(reduced) == pytest.approx(full_value, abs=1e-12)
    with pytest.raises(ParameterError, match="dropped qubit"):
        remap_circuit(qc, [1])
    with pytest.raises(ParameterError, match="does not use"):
        remap_observable(SparsePauliOp("ZIIZI"), [1, 3])
    with pytest.raises(ParameterError, match="no qubit"):
        restrict_pubs(fake_device("fake_manila"), [(QuantumCircuit(5),)])


def test_active_and_all_qubit_simulations_agree(model4, one_step):
    """fake_manila (5 qubits, N = 4 uses 4): the two local simulations agree within shot noise."""
    store = JobStore()
    runs = {lq: run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=2000, seed=seed,
                              mitigation="postselect", local_qubits=lq, store=store)
            for lq, seed in (("active", 3), ("all", 4))}
    for key in ("energy", "condensate", "discarded_fraction"):
        a, b = runs["active"].estimates[key], runs["all"].estimates[key]
        assert abs(a.value - b.value) < 4 * math.hypot(a.error, b.error), key
    assert runs["active"].estimates["energy"].provenance["local_qubits"] == "active"
    assert store.get(runs["all"].ref).params["local_qubits"] == "all"
    legacy = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, seed=1, primitive="v2",
                           store=store)
    assert legacy.estimates["energy"].provenance["local_qubits"] == "all"  # V2 simulates with backend.run
    with pytest.raises(ParameterError, match="local_qubits"):
        run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, local_qubits="some")


def test_a_127_qubit_device_runs_locally_on_its_active_qubits(model4, one_step):
    run = run_on_device(model4, backend="fake:fake_sherbrooke", schedule=one_step, shots=200, seed=1,
                        mitigation="trex")
    assert run.status == "done"
    for est in run.estimates.values():
        assert est.backend == "fake:fake_sherbrooke+trex" and math.isfinite(est.value) and 0 < est.error < 1
