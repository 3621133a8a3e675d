"""Trotter circuits: identical to the fast path, correct product-formula order, layouts, costs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Statevector

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.statevector import evolve_statevector
from qlat.quantum.trotter import (
    adiabatic_circuit,
    gate_counts,
    product_formula,
    trotter_step_circuit,
)
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms, schwinger_terms

SCHEDULE = AdiabaticSchedule(total_time=1.5, dt=0.25, initial_mass=0.6, ramp="smoothstep")


@pytest.mark.parametrize("n", [4, 6])
@pytest.mark.parametrize("formulation", ["rotated", "electric"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("layout", ["all-to-all", "line"])
def test_circuit_equals_fast_path(n, formulation, order, layout):
    """Statevector of the exported circuit = evolve_statevector, global phase included."""
    model = SchwingerModel(n, 0.45, 0.3, theta=0.7, formulation=formulation)
    circuit = adiabatic_circuit(model, SCHEDULE, order=order, layout=layout)
    expected = evolve_statevector(model, SCHEDULE, order=order)
    np.testing.assert_allclose(Statevector(circuit).data, expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
def test_parameterized_theta_binds_to_the_direct_build(formulation):
    model = SchwingerModel(4, 0.5, 0.4, theta=0.0, formulation=formulation)
    template = adiabatic_circuit(model, SCHEDULE, parameterized=True)
    (theta,) = template.parameters
    for value in (0.9, -2.0):
        bound = template.assign_parameters({theta: value})
        direct = adiabatic_circuit(model.with_(theta=value), SCHEDULE)
        np.testing.assert_allclose(Statevector(bound).data, Statevector(direct).data, atol=1e-10, rtol=0)
        assert gate_counts(bound)["two_qubit"] == gate_counts(direct)["two_qubit"]


def test_product_formula_layers():
    dt, n = 0.2, 3
    for order, per_step in ((1, 3), (2, 4)):
        layers = product_formula(n, dt, order=order)
        assert len(layers) == n * per_step + (1 if order == 2 else 0)
        for kind in ("diag", "hop_even", "hop_odd"):
            total = sum(tau for layer in layers if layer.kind == kind for _, tau in layer.slices)
            assert total == pytest.approx(n * dt, abs=1e-14)
        times = {t for layer in layers for t, _ in layer.slices}
        np.testing.assert_allclose(sorted(times), (np.arange(n) + 0.5) * dt, atol=1e-14)
    with pytest.raises(ParameterError):
        product_formula(3, dt, order=3)


def _exact_step(terms: SchwingerTerms, dt: float) -> np.ndarray:
    return scipy.linalg.expm(-1j * dt * terms.to_sparse_pauli_op().to_matrix())


@pytest.mark.parametrize("order", [1, 2])
def test_step_error_has_the_order_of_the_formula(order):
    """‖U_step(dt) − e^{−i dt H}‖ ∝ dt^{p+1}: halving dt divides it by 2^{p+1}."""
    terms = schwinger_terms(4, w=1.0, J=0.3, mass=0.5, theta=0.8)
    errors = []
    for dt in (0.1, 0.05):
        u = Operator(trotter_step_circuit(terms, dt, order=order)).data
        errors.append(np.linalg.norm(u - _exact_step(terms, dt), 2))
    ratio = errors[0] / errors[1]
    assert 2 ** (order + 1) * 0.8 < ratio < 2 ** (order + 1) * 1.25


def test_single_terms_are_exact():
    """One hopping bond or one ZZ pair alone: the step is the exact exponential (phase included)."""
    hop = SchwingerTerms(hopping=np.array([0.0, 0.37, 0.0]), z=np.zeros(4), zz=np.zeros((4, 4)), constant=0.2)
    zz = np.zeros((4, 4))
    zz[0, 3] = -0.55
    diag = SchwingerTerms(hopping=np.zeros(3), z=np.array([0.1, 0.0, -0.3, 0.2]), zz=zz, constant=-0.4)
    for terms in (hop, diag):
        for layout in ("all-to-all", "line"):
            u = Operator(trotter_step_circuit(terms, 0.7, order=1, layout=layout)).data
            np.testing.assert_allclose(u, _exact_step(terms, 0.7), atol=1e-12, rtol=0)


def test_line_layout_is_nearest_neighbour_and_equal_to_all_to_all():
    terms = schwinger_terms(6, w=0.8, J=0.4, mass=0.3, theta=0.5)
    line = trotter_step_circuit(terms, 0.3, layout="line")
    for inst in line.data:
        if inst.operation.num_qubits == 2:
            a, b = (line.find_bit(q).index for q in inst.qubits)
            assert abs(a - b) == 1
    full = trotter_step_circuit(terms, 0.3, layout="all-to-all")
    np.testing.assert_allclose(Operator(line).data, Operator(full).data, atol=1e-12, rtol=0)


def _per_step_cost(n: int, order: int, layout: str) -> int:
    model = SchwingerModel(n, 0.5, 0.2, theta=0.4)
    costs = [gate_counts(adiabatic_circuit(model, AdiabaticSchedule(k * 0.1, 0.1), order=order,
                                           layout=layout, measure=True))["two_qubit"] for k in (1, 2)]
    return costs[1] - costs[0]


@pytest.mark.parametrize("n", [4, 6, 8, 10])
def test_cnot_count_per_step(n):
    """All-to-all first order N(N−1); line 3N(N−1)/2 + 2(N−1); second order adds N (extra E half layer)."""
    assert _per_step_cost(n, 1, "all-to-all") == n * (n - 1)
    assert _per_step_cost(n, 1, "line") == 3 * n * (n - 1) // 2 + 2 * (n - 1)
    assert _per_step_cost(n, 2, "all-to-all") == n * (n - 1) + n
    assert _per_step_cost(n, 2, "line") == 3 * n * (n - 1) // 2 + 2 * (n - 1) + n


def test_theta_adds_no_two_qubit_gates():
    for formulation in ("rotated", "electric"):
        counts = [gate_counts(adiabatic_circuit(SchwingerModel(6, 0.5, 0.2, theta=th, formulation=formulation),
                                                SCHEDULE))["two_qubit"] for th in (0.0, 1.3)]
        assert counts[0] == counts[1]


def test_measured_line_circuit_maps_bits_back():
    """With measure=True the line layout skips the final reversal; the clbit map undoes it."""
    model = SchwingerModel(4, 0.5, 0.3, theta=0.6)
    sch = AdiabaticSchedule(total_time=0.75, dt=0.25)  # order 1: 3 steps = 3 ZZ layers (odd)
    circuit = adiabatic_circuit(model, sch, order=1, layout="line", measure=True)
    clbit_of = {}
    for inst in circuit.data:
        if inst.operation.name == "measure":
            clbit_of[circuit.find_bit(inst.qubits[0]).index] = circuit.find_bit(inst.clbits[0]).index
    assert sorted(clbit_of.values()) == [0, 1, 2, 3]
    assert any(p != c for p, c in clbit_of.items())  # 3 ZZ layers: the order is reversed
    probs = Statevector(circuit.remove_final_measurements(inplace=False)).probabilities()
    logical = np.zeros(16)
    for k, p in enumerate(probs):
        j = sum(((k >> q) & 1) << clbit_of[q] for q in range(4))
        logical[j] += p
    expected = np.abs(evolve_statevector(model, sch, order=1)) ** 2
    np.testing.assert_allclose(logical, expected, atol=1e-12)


def test_gate_counts_costs_and_errors():
    qc = QuantumCircuit(3)
    qc.cx(0, 1)
    qc.rzz(0.3, 1, 2)
    qc.swap(0, 2)
    qc.rz(0.1, 0)
    counts = gate_counts(qc)
    assert counts["two_qubit"] == 1 + 2 + 3
    assert counts["two_qubit_gates"] == 3
    assert counts["ops"] == {"cx": 1, "rzz": 1, "swap": 1, "rz": 1}
    assert counts["two_qubit_depth"] == 3
    bad = QuantumCircuit(3)
    bad.ccx(0, 1, 2)
    with pytest.raises(ParameterError):
        gate_counts(bad)


def test_bad_options_raise():
    model = SchwingerModel(4, 0.5, 0.1)
    with pytest.raises(ParameterError) as err:
        adiabatic_circuit(model, SCHEDULE, layout="ring")
    assert err.value.parameter == "layout"
    with pytest.raises(ParameterError) as err:
        adiabatic_circuit(model, SCHEDULE, order=4)
    assert err.value.parameter == "order"
