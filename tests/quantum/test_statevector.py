"""The fast statevector path: exact evolution limit, charge sectors, expectation values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
from qiskit.quantum_info import SparsePauliOp, Statevector

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.statevector import evolve_plan, evolve_statevector, expectation_values
from qlat.quantum.trotter import plan_circuit, trotter_plan
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index

MODEL = SchwingerModel(4, 0.4, 0.35, theta=1.2)


def _exact_reference(model, schedule) -> np.ndarray:
    """i dψ/dt = H(t) ψ integrated to 1e-12 (no splitting, no midpoint rule)."""
    basis = schedule.terms_basis(model)
    mats = [c.to_sparse_pauli_op().to_matrix() for c in basis.components]
    psi0 = np.zeros(2**model.n_sites, dtype=complex)
    psi0[bare_vacuum_index(model.n_sites)] = 1.0

    def rhs(t, y):
        H = sum(g * m for g, m in zip(basis.weights(t), mats))
        return -1j * (H @ y)

    sol = scipy.integrate.solve_ivp(rhs, (0.0, schedule.total_time), psi0, method="DOP853",
                                    rtol=1e-12, atol=1e-12)
    return sol.y[:, -1]


@pytest.mark.parametrize("order", [1, 2])
def test_converges_to_the_exact_evolution_with_the_right_order(order):
    """Error vs the exact time-dependent evolution falls like dt^p (global error, order p)."""
    T = 2.0
    reference = _exact_reference(MODEL, AdiabaticSchedule(T, 0.1, ramp="smoothstep"))
    errors = []
    for dt in (0.05, 0.025):
        psi = evolve_statevector(MODEL, AdiabaticSchedule(T, dt, ramp="smoothstep"), order=order)
        errors.append(np.linalg.norm(psi - reference))
    ratio = errors[0] / errors[1]
    assert 2**order * 0.8 < ratio < 2**order * 1.25


def test_arbitrary_initial_state_in_every_charge_sector():
    """A random state over all sectors evolves like the plan's circuit (sectors never mix)."""
    rng = np.random.default_rng(11)
    n = 4
    model = SchwingerModel(n, 0.5, 0.2, theta=0.3, formulation="electric")
    plan = trotter_plan(model, AdiabaticSchedule(1.0, 0.25), order=2)
    initial = rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)
    initial /= np.linalg.norm(initial)
    expected = Statevector(initial).evolve(plan_circuit(plan)).data
    np.testing.assert_allclose(evolve_plan(plan, initial), expected, atol=1e-10, rtol=0)


def test_physical_sector_and_norm_are_preserved():
    model = SchwingerModel(10, 0.5, 0.1, theta=0.8)
    psi = evolve_statevector(model, AdiabaticSchedule(2.0, 0.2))
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-12)
    popcount = np.bitwise_count(np.arange(2**10))
    assert np.all(psi[popcount != 5] == 0)


def test_progress_bar_runs(capsys):
    a = evolve_statevector(MODEL, AdiabaticSchedule(0.5, 0.1), progress=True)
    b = evolve_statevector(MODEL, AdiabaticSchedule(0.5, 0.1))
    np.testing.assert_array_equal(a, b)


def test_bad_input():
    with pytest.raises(ParameterError) as err:
        evolve_statevector(MODEL, AdiabaticSchedule(1.0, 0.5), initial=np.ones(8))
    assert err.value.parameter == "initial"
    with pytest.raises(ParameterError) as err:
        evolve_statevector(SchwingerModel(28, 0.5, 0.1), AdiabaticSchedule(1.0, 0.5))
    assert err.value.parameter == "n_sites"


def test_expectation_values_match_dense():
    rng = np.random.default_rng(3)
    n = 5
    state = rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)
    state /= np.linalg.norm(state)
    observables = {
        "z": SparsePauliOp.from_list([("IIZIZ", 0.7), ("ZIIII", -1.3), ("IIIII", 0.25)]),
        "phase": SparsePauliOp.from_list([("IZIII", 1.0)]) * -1,
        "hop": SparsePauliOp.from_list([("IIXXI", 0.5), ("IIYYI", 0.5), ("ZIIIZ", 0.1)]),
    }
    values = expectation_values(state, observables)
    sv = Statevector(state)
    for name, op in observables.items():
        assert values[name] == pytest.approx(float(np.real(sv.expectation_value(op))), abs=1e-12)
    with pytest.raises(ParameterError):
        expectation_values(state, {"bad": SparsePauliOp("ZZ")})


def test_dense_phase_fallback_equals_phase_tables(monkeypatch):
    """Diagonal components with many distinct values use exp on the full diagonal: same result."""
    import qlat.quantum.statevector as sv

    model = SchwingerModel(6, 0.5, 0.3, theta=2.0, formulation="electric")
    schedule = AdiabaticSchedule(1.0, 0.25)
    tables = evolve_statevector(model, schedule)
    monkeypatch.setattr(sv, "_TABLE_LIMIT", 0)
    np.testing.assert_allclose(evolve_statevector(model, schedule), tables, atol=1e-13, rtol=0)
