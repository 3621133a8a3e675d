"""Backends: input validation, noise models, Aer/MPS agreement with qlat's statevector path."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.adiabatic_run import run_adiabatic
from qlat.quantum.aer import (
    DEFAULT_SHOTS,
    aer_statevector,
    mps_friendly,
    transpile_for_aer,
)
from qlat.quantum.noise import NoiseSpec, depolarizing_noise, parse_noise_spec, resolve_noise
from qlat.quantum.simulation import check_request
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.quantum.trotter import adiabatic_circuit
from qlat.theories.schwinger_qubit import SchwingerModel


def _model(n: int = 4, theta: float = 0.7) -> SchwingerModel:
    return SchwingerModel(n, 0.5, 0.2, theta=theta)


SHORT = AdiabaticSchedule(2.0, 0.5, ramp="sin2")


# --- validation --------------------------------------------------------------------------------
def test_unknown_backend_names_parameter_and_lists_valid_ones():
    with pytest.raises(ParameterError) as info:
        run_adiabatic(_model(), SHORT, backend="qpu")
    assert info.value.parameter == "backend"
    from qlat.core.registry import BACKENDS

    for name in ("statevector", "aer", "mps", *BACKENDS.names()):
        assert name in str(info.value)


@pytest.mark.parametrize("backend, n", [("statevector", 28), ("aer", 32)])
def test_too_many_qubits_for_backend(backend, n):
    with pytest.raises(ParameterError) as info:
        run_adiabatic(SchwingerModel(n, 0.5, 0.1), SHORT, backend=backend, shots=100 if backend == "aer" else None)
    assert info.value.parameter == "n_sites"
    assert backend in str(info.value) and "mps" in str(info.value)


@pytest.mark.parametrize("shots", [0, -5, 2.5, True])
def test_bad_shots(shots):
    with pytest.raises(ParameterError) as info:
        run_adiabatic(_model(), SHORT, backend="aer", shots=shots)
    assert info.value.parameter == "shots"


def test_shots_on_exact_backend_rejected():
    with pytest.raises(ParameterError) as info:
        run_adiabatic(_model(), SHORT, backend="statevector", shots=100)
    assert info.value.parameter == "shots"


def test_noise_only_on_sampling_runs():
    with pytest.raises(ParameterError) as info:
        run_adiabatic(_model(), SHORT, backend="statevector", noise="depolarizing:0.001,0.01")
    assert info.value.parameter == "noise"
    with pytest.raises(ParameterError) as info:
        check_request("mps", 4, shots=None, noise="depolarizing:0.001,0.01")
    assert info.value.parameter == "noise"


def test_aer_default_shots():
    spec, shots = check_request("aer", 4)
    assert spec.name == "aer" and shots == DEFAULT_SHOTS
    assert check_request("mps", 40)[1] is None


@pytest.mark.parametrize(
    "spec", ["depolarizing", "depolarizing:0.1", "depolarizing:0.1,2", "depolarizing:a,b", "amplitude:0.1,0.1",
             "depolarizing:-0.1,0.1", "depolarizing:nan,0.1", ""],
)
def test_bad_noise_spec(spec):
    with pytest.raises(ParameterError) as info:
        parse_noise_spec(spec)
    assert info.value.parameter == "noise"
    with pytest.raises(ParameterError) as info:
        run_adiabatic(_model(), SHORT, backend="aer", shots=10, noise=spec)
    assert info.value.parameter == "noise"


def test_noise_spec_parses_and_builds():
    spec = parse_noise_spec(" depolarizing:0.001, 0.02 ")
    assert spec == NoiseSpec("depolarizing", 0.001, 0.02)
    model, desc = resolve_noise(str(spec))
    assert desc == {"kind": "depolarizing", "p1": 0.001, "p2": 0.02}
    assert set(model.noise_instructions) == {"sx", "x", "cx"}
    assert set(depolarizing_noise(0.0, 0.01).noise_instructions) == {"cx"}
    with pytest.raises(ParameterError) as info:
        depolarizing_noise(1.5, 0.0)
    assert info.value.parameter == "p1"
    with pytest.raises(ParameterError):
        resolve_noise(0.01)


# --- agreement of simulators --------------------------------------------------------------------
def test_fast_path_matches_aer_statevector_of_same_circuit():
    """qlat's statevector evolution and Aer's simulation of the exported circuit, N = 6."""
    model = _model(6)
    schedule = AdiabaticSchedule(3.0, 0.25, ramp="linear")
    ham = {"H": model.hamiltonian()}
    fast = evolve_statevector(model, schedule, order=2)
    for layout in ("all-to-all", "line"):
        aer = aer_statevector(adiabatic_circuit(model, schedule, order=2, layout=layout))
        assert abs(abs(np.vdot(fast, aer)) - 1.0) < 1e-10
        e_fast = expectation_values(fast, ham)["H"]
        e_aer = expectation_values(aer, ham)["H"]
        assert abs(e_fast - e_aer) < 1e-8
    run = run_adiabatic(model, schedule, observables=("energy",))
    assert abs(run.estimates["energy"].value - expectation_values(fast, ham)["H"]) < 1e-12


def test_mps_friendly_rewrite_is_the_same_unitary():
    from qiskit.quantum_info import Operator

    circuit = transpile_for_aer(adiabatic_circuit(_model(6), AdiabaticSchedule(1.0, 0.5), order=2),
                                method="matrix_product_state")
    rewritten = mps_friendly(circuit)
    assert "rzz" not in rewritten.count_ops()
    assert Operator(rewritten).equiv(Operator(circuit), atol=1e-10)
    # only nearest-neighbour two-qubit gates remain
    for inst in rewritten.data:
        if inst.operation.num_qubits == 2:
            a, b = (rewritten.find_bit(q).index for q in inst.qubits)
            assert abs(a - b) == 1


def test_mps_backend_matches_statevector():
    model = _model(8, theta=0.3)
    exact = run_adiabatic(model, SHORT, observables=("energy", "condensate", "electric_field"))
    mps = run_adiabatic(model, SHORT, observables=("energy", "condensate", "electric_field"), backend="mps",
                        layout="line")
    assert set(mps.estimates) == set(exact.estimates)
    for key, est in exact.estimates.items():
        assert abs(mps.estimates[key].value - est.value) < 1e-8, key
        assert mps.estimates[key].backend == "aer-mps" and mps.estimates[key].error == 0.0
    assert mps.fidelity is None


def test_noise_changes_result_measurably():
    """Depolarizing noise drives ⟨H⟩ towards the maximally mixed value Tr H / 2^N."""
    model = _model(4)
    # the same schedule on every backend: its Trotter/adiabatic systematic is common to all three
    # and must not enter these comparisons (systematics="none")
    exact = run_adiabatic(model, SHORT, systematics="none").estimates["energy"]
    clean = run_adiabatic(model, SHORT, backend="aer", shots=3000, seed=11, systematics="none").estimates["energy"]
    noisy_run = run_adiabatic(model, SHORT, backend="aer", shots=3000, seed=11, noise="depolarizing:0.002,0.05",
                              systematics="none")
    noisy = noisy_run.estimates["energy"]
    assert abs(clean.z_score(exact)) < 4
    assert noisy.z_score(exact) > 6  # mixed state has higher energy than the prepared vacuum
    mixed = float(np.real(np.trace(model.hamiltonian().to_matrix()))) / 2**model.n_qubits  # Tr H / 2^N
    assert noisy.value < mixed + 4 * noisy.error
    assert noisy_run.params["noise"] == {"kind": "depolarizing", "p1": 0.002, "p2": 0.05}
    assert noisy.provenance["noise"] == noisy_run.params["noise"]
