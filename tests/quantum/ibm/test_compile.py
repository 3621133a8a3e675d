"""Compilation for fake devices: ISA circuits, the line of good qubits, observables mapped with the full layout."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import Statevector

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.ibm.compile import (
    best_line,
    compile_adiabatic,
    error_map,
    logical_circuit,
    permute_operator,
    success_probability,
)
from qlat.quantum.ibm.devices import fake_device, fake_device_names, parse_device_spec
from qlat.quantum.ibm.dryrun import dry_run_report, line_reference_cnots
from qlat.quantum.ibm.mitigation import parse_mitigation
from qlat.quantum.ibm.postselect import PAIR_BASES, split_operator
from qlat.quantum.observables import qubit_observable
from qlat.quantum.statevector import evolve_statevector
from qlat.quantum.trotter import adiabatic_circuit, gate_counts
from qlat.theories.schwinger_qubit import SchwingerModel


def test_device_names():
    assert parse_device_spec("fake:fake_manila") == ("fake", "fake_manila")
    assert parse_device_spec("ibm:ibm_torino") == ("ibm", "ibm_torino")
    for bad in ("manila", "aer:fake_manila", "fake:", "fake:Fake Manila"):
        with pytest.raises(ParameterError):
            parse_device_spec(bad)
    names = fake_device_names()
    assert {"fake_manila", "fake_sherbrooke", "fake_torino"} <= set(names)
    assert fake_device("fake_manila").num_qubits == 5
    with pytest.raises(ParameterError, match="unknown fake device"):
        fake_device("fake_atlantis")


def test_logical_circuit_tracks_the_swap_network_order():
    model = SchwingerModel(n_sites=4, spacing=1.0, mass=0.5, theta=0.3)
    schedule = AdiabaticSchedule(total_time=1.5, dt=0.75)  # 2 steps, 3 ZZ layers: reversed order at the end
    bare, pos = logical_circuit(model, schedule, order=2, layout="line")
    assert pos == [3, 2, 1, 0]
    psi = evolve_statevector(model, schedule, order=2)
    state = Statevector(bare)
    for name in ("energy", "condensate", "electric_field"):
        for op in qubit_observable(name, model).operators:
            exact = float(np.real(np.vdot(psi, op.to_matrix() @ psi)))
            assert state.expectation_value(permute_operator(op, pos)).real == pytest.approx(exact, abs=1e-10)


@pytest.mark.parametrize("layout", ["line", "default"])
def test_isa_estimator_observables_match_the_exact_state(layout):
    model = SchwingerModel(n_sites=4, spacing=1.0, mass=0.5, theta=0.4)
    schedule = AdiabaticSchedule(total_time=1.5, dt=0.75)
    device = fake_device("fake_manila")
    ops = [qubit_observable(n, model).operators[0] for n in ("energy", "condensate")]
    compiled = compile_adiabatic(model, schedule, device, operators=ops, layout=layout, seed=3)
    isa = compiled.circuits[0]
    allowed = set(device.target.operation_names)
    assert set(isa.count_ops()) <= allowed
    psi = evolve_statevector(model, schedule, order=2)
    state = Statevector(isa)  # 5 device qubits, noiseless
    for op, mapped in zip(ops, compiled.observables):
        exact = float(np.real(np.vdot(psi, op.to_matrix() @ psi)))
        assert mapped.num_qubits == device.num_qubits
        assert state.expectation_value(mapped).real == pytest.approx(exact, abs=1e-9)


def test_isa_sampler_circuits_measure_logical_bits_in_pair_bases():
    model = SchwingerModel(n_sites=4, spacing=1.0, mass=0.5, theta=0.4)
    schedule = AdiabaticSchedule(total_time=1.5, dt=0.75)
    device = fake_device("fake_manila")
    compiled = compile_adiabatic(model, schedule, device, kind="sampler", bases=PAIR_BASES, layout="line", seed=1)
    psi = evolve_statevector(model, schedule, order=2)
    op = qubit_observable("energy", model).operators[0]
    split = split_operator(op)
    total = split["const"]
    for basis, isa in zip(compiled.bases, compiled.circuits):
        measured = {isa.find_bit(i.clbits[0]).index: isa.find_bit(i.qubits[0]).index
                    for i in isa.data if i.operation.name == "measure"}
        qargs = [measured[clbit] for clbit in range(model.n_qubits)]
        probs = Statevector(isa.remove_final_measurements(inplace=False)).probabilities(qargs=qargs)
        outcomes = (np.arange(probs.size)[:, None] >> np.arange(model.n_qubits)) & 1
        for label, coeff in split["parts"].get(basis, []):
            support = np.array([c == "Z" for c in label[::-1]])
            total += coeff * float(np.sum(probs * (1 - 2 * (outcomes[:, support].sum(1) % 2))))
    assert total == pytest.approx(float(np.real(np.vdot(psi, op.to_matrix() @ psi))), abs=1e-9)


def _line_cost(errors, path):
    uses = 1.5 * len(path) + 2
    c = sum(uses * -np.log(1 - errors.edges[(min(a, b), max(a, b))]) for a, b in zip(path, path[1:]))
    return c + sum(-np.log(1 - errors.readout[q]) - 2 * np.log(1 - errors.single[q]) for q in path)


def _all_paths(errors, n):
    adjacency = {}
    for a, b in errors.edges:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    out = []

    def grow(path):
        if len(path) == n:
            out.append(list(path))
            return
        for nxt in adjacency.get(path[-1], []):
            if nxt not in path:
                grow(path + [nxt])

    for q in adjacency:
        grow([q])
    return out


def test_best_line_is_the_cheapest_path_of_good_qubits():
    errors = error_map(fake_device("fake_guadalupe").target)
    for n in (4, 6):
        line = best_line(errors, n)
        assert len(set(line)) == n
        assert all((min(a, b), max(a, b)) in errors.edges for a, b in zip(line, line[1:]))
        exhaustive = min(_line_cost(errors, p) for p in _all_paths(errors, n))
        assert _line_cost(errors, line) == pytest.approx(exhaustive, rel=1e-12)
    heavy_hex = error_map(fake_device("fake_sherbrooke").target)
    line = best_line(heavy_hex, 8)
    rng = np.random.default_rng(0)
    adjacency = {}
    for a, b in heavy_hex.edges:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    tried = 0
    while tried < 300:  # random self-avoiding walks are never cheaper
        path = [int(rng.choice(sorted(adjacency)))]
        while len(path) < 8:
            options = [q for q in adjacency[path[-1]] if q not in path]
            if not options:
                break
            path.append(int(rng.choice(options)))
        if len(path) == 8:
            tried += 1
            assert _line_cost(heavy_hex, line) <= _line_cost(heavy_hex, path) + 1e-12
    with pytest.raises(ParameterError, match="no line"):
        best_line(error_map(fake_device("fake_manila").target), 6)


def test_127_qubit_isa_layout_path_and_dry_run():
    """Eagle heavy-hex: transpile only (never simulate 127 qubits)."""
    model = SchwingerModel(n_sites=6, spacing=1.0, mass=0.5)
    schedule = AdiabaticSchedule(total_time=1.5, dt=0.75)
    device = fake_device("fake_sherbrooke")
    ops = [qubit_observable(n, model).operators[0] for n in ("energy", "condensate")]
    compiled = compile_adiabatic(model, schedule, device, operators=ops, layout="auto", seed=0)
    assert set(compiled.candidates) == {"line", "default"}
    isa = compiled.circuits[0]
    assert isa.num_qubits == 127 and set(isa.count_ops()) <= set(device.target.operation_names)
    edges = error_map(device.target).edges
    for inst in isa.data:
        if inst.operation.num_qubits == 2:
            a, b = (isa.find_bit(q).index for q in inst.qubits)
            assert (min(a, b), max(a, b)) in edges
    assert all(o.num_qubits == 127 for o in compiled.observables)
    # the kept candidate has the fewest two-qubit gates
    counts = {k: v["two_qubit_gates"] for k, v in compiled.candidates.items()}
    assert compiled.candidates[compiled.chosen.name]["two_qubit_gates"] == min(counts.values())
    # the line candidate needs no routing: no more two-qubit gates than the logical swap network
    line = compile_adiabatic(model, schedule, device, operators=ops, layout="line", seed=0)
    logical = gate_counts(adiabatic_circuit(model, schedule, layout="line", measure=True))["two_qubit"]
    assert line.chosen.two_qubit <= logical
    assert 0.0 < success_probability(isa, device.target) < 1.0
    report = dry_run_report(compiled, device, backend="fake:fake_sherbrooke", shots=1000, primitive="executor",
                            mode="batch", mitigation=parse_mitigation("trex"))
    text = str(report)
    assert "fake:fake_sherbrooke" in text and "success probability" in text and "QPU time" in text
    data = report.to_dict()
    assert data["line_reference_cnots_per_step"] == line_reference_cnots(6) == 55
    assert data["chosen"]["two_qubit_gates"] == compiled.chosen.two_qubit
    assert data["estimated_qpu_seconds"] > 0


@pytest.mark.parametrize("level", [2, 3])
def test_line_candidate_stays_on_its_line_at_every_level(level):
    """The swap network's SWAPs must not be elided (levels 2, 3 elide permutations by default):
    elided, routing brings them back through qubits off the line (N = 10 on fake_torino: 14 qubits)."""
    from qlat.quantum.ibm.active import active_qubits

    model = SchwingerModel(n_sites=10, spacing=1.0, mass=0.5)
    device = fake_device("fake_torino")
    compiled = compile_adiabatic(model, AdiabaticSchedule(total_time=1.5, dt=0.75), device, kind="sampler",
                                 bases=["Z"], layout="line", optimization_level=level, seed=0)
    line = best_line(error_map(device.target), 10)
    assert compiled.chosen.physical_qubits == line
    assert active_qubits(compiled.circuits) == sorted(line)


def test_bad_compile_requests():
    model = SchwingerModel(n_sites=6, spacing=1.0, mass=0.5)
    schedule = AdiabaticSchedule(total_time=0.75, dt=0.75)
    device = fake_device("fake_manila")
    with pytest.raises(ParameterError, match="only 5 qubits"):
        compile_adiabatic(model, schedule, device)
    with pytest.raises(ParameterError, match="layout"):
        compile_adiabatic(SchwingerModel(4, 1.0, 0.5), schedule, device, layout="ring")
    with pytest.raises(ParameterError, match="optimization_level"):
        compile_adiabatic(SchwingerModel(4, 1.0, 0.5), schedule, device, optimization_level=7)


def test_hardware_schedule_prepares_the_vacuum_without_noise():
    """The default device schedule (4 Trotter steps) is adiabatic enough that noise, not the ramp,
    dominates on hardware: fidelity ≥ 0.99 at N = 4 and 6 (a = 1, m = 0.5)."""
    from qlat.quantum.adiabatic_run import run_adiabatic
    from qlat.quantum.ibm.backend import hardware_schedule

    schedule = hardware_schedule()
    assert schedule.n_steps == 4
    for n in (4, 6):
        assert run_adiabatic(SchwingerModel(n, 1.0, 0.5), schedule).fidelity.value >= 0.99
