"""run_adiabatic: Estimates, provenance, fidelity, and shot errors that match the scatter."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from qiskit.quantum_info import Statevector
from scipy import stats

from qlat.core.estimate import Estimate
from qlat.exact.diagonalization import diagonalize
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.adiabatic_run import AdiabaticResult, ground_state_fidelity, run_adiabatic
from qlat.quantum.observables import qubit_observable
from qlat.theories.schwinger_qubit import SchwingerModel


def _circuit_state(model, schedule, order=2):
    """|ψ(T)⟩ from the exported Trotter circuit by qiskit's own Statevector (not qlat's fast path)."""
    from qlat.quantum.trotter import adiabatic_circuit

    return Statevector(adiabatic_circuit(model, schedule, order=order)).data


def test_statevector_run_estimates_and_provenance():
    model = SchwingerModel(6, 0.5, 0.1, theta=0.4)
    schedule = AdiabaticSchedule(6.0, 0.25, ramp="sin2")
    result = run_adiabatic(model, schedule, observables=("energy", "condensate", "electric_field"), seed=3)
    assert isinstance(result, AdiabaticResult) and result.backend == "statevector"
    state = _circuit_state(model, schedule)  # independent of the fast path run_adiabatic uses
    for name in ("energy", "condensate"):
        op = qubit_observable(name, model).operators[0]
        value = float(np.real(Statevector(state).expectation_value(op)))
        est = result.estimates[name]
        assert isinstance(est, Estimate) and est.error == 0.0 and est.n_samples is None
        # the schedule's Trotter and adiabatic errors are estimated and named
        sources = est.provenance["systematic_sources"]
        assert set(sources) == {"trotter", "adiabatic"} and est.systematic == pytest.approx(math.hypot(*sources.values()))
        assert est.value == pytest.approx(value, abs=1e-12)
        assert est.backend == "statevector"
    assert [k for k in result.estimates if k.startswith("electric_field")] == [
        f"electric_field[{n}]" for n in range(model.n_sites - 1)
    ]
    prov = result.estimates["energy"].provenance
    assert prov["model"] == model.params()
    assert prov["schedule"]["total_time"] == 6.0 and prov["schedule"]["n_steps"] == 24
    assert prov["order"] == 2 and prov["layout"] == "all-to-all" and prov["seed"] == 3
    assert "qlat_version" in prov
    assert result.circuit["n_steps"] == 24 and result.circuit["n_qubits"] == 6
    assert result.circuit["gate_counts"]["two_qubit"] > 0
    json.loads(json.dumps(result.to_dict()))  # JSON-ready


def test_fidelity_with_exact_ground_state():
    model = SchwingerModel(6, 0.5, 0.1, theta=0.4)
    schedule = AdiabaticSchedule(6.0, 0.25, ramp="sin2")
    result = run_adiabatic(model, schedule)
    state = _circuit_state(model, schedule)
    ground = diagonalize(model, k=1).ground_state
    assert result.fidelity.value == pytest.approx(abs(np.vdot(ground, state)) ** 2, abs=1e-10)
    assert 0.0 < result.fidelity.value <= 1.0
    # the exact ground state has fidelity 1 with itself; an orthogonal state has 0
    assert ground_state_fidelity(model, ground) == pytest.approx(1.0, abs=1e-10)
    flipped = np.zeros_like(ground)
    flipped[0] = 1.0  # all qubits |0>: total charge N/2, outside the physical sector
    assert ground_state_fidelity(model, flipped) == 0.0


def test_aer_result_has_shots_and_no_fidelity():
    model = SchwingerModel(4, 0.5, 0.1)
    result = run_adiabatic(model, AdiabaticSchedule(1.0, 0.5), backend="aer", shots=300, seed=1)
    est = result.estimates["energy"]
    assert est.n_samples == 300 and est.error > 0 and est.backend == "aer-shots"
    assert result.fidelity is None
    again = run_adiabatic(model, AdiabaticSchedule(1.0, 0.5), backend="aer", shots=300, seed=1)
    assert again.estimates["energy"].value == est.value  # the seed fixes the shots


def _chi2_bounds(dof: int, level: float = 1e-3) -> tuple[float, float]:
    return float(stats.chi2.ppf(level / 2, dof)), float(stats.chi2.ppf(1 - level / 2, dof))


def test_shot_errors_match_scatter_over_seeds():
    """z-test: Σ z² over 30 seeds of the aer backend against the exact value is χ²(30).

    The two-sided 0.1 % interval of χ² with 30 degrees of freedom is [10.8, 62.2] (mean 30):
    errors underestimated by a factor ≳ 1.45 or overestimated by ≳ 1.7 (e.g. ignoring the
    correlations of the terms measured in one basis), or a bias in the estimator, fail it.
    """
    model = SchwingerModel(4, 0.5, 0.2, theta=0.8)
    schedule = AdiabaticSchedule(1.5, 0.5, ramp="sin2")
    names = ("energy", "condensate")
    # same schedule on both sides: shot noise only (the schedule's systematic is common to both)
    exact = run_adiabatic(model, schedule, observables=names, systematics="none")
    n_seeds = 30
    z = {name: [] for name in names}
    for seed in range(n_seeds):
        res = run_adiabatic(model, schedule, observables=names, backend="aer", shots=400, seed=seed,
                            systematics="none")
        for name in names:
            z[name].append(res.estimates[name].z_score(exact.estimates[name]))
    lo, hi = _chi2_bounds(n_seeds)
    for name in names:
        zz = np.array(z[name])
        assert lo < np.sum(zz**2) < hi, (name, np.sum(zz**2), (lo, hi))
        assert abs(np.mean(zz)) * math.sqrt(n_seeds) < 4, name  # no bias


def test_mps_sampling_consistent_with_exact():
    model = SchwingerModel(6, 0.5, 0.1, theta=0.2)
    schedule = AdiabaticSchedule(1.0, 0.5)
    exact = run_adiabatic(model, schedule)
    sampled = run_adiabatic(model, schedule, backend="mps", shots=2000, seed=5)
    for name, est in sampled.estimates.items():
        assert est.error > 0 and abs(est.z_score(exact.estimates[name])) < 4, name


@pytest.mark.slow
def test_mps_runs_at_forty_sites():
    """N = 40 (beyond statevector reach) on the MPS backend with a short schedule."""
    model = SchwingerModel(40, 0.5, 0.1)
    result = run_adiabatic(model, AdiabaticSchedule(2.0, 0.5, ramp="sin2"), backend="mps",
                           observables=("energy", "condensate", "total_charge"))
    assert abs(result.estimates["total_charge"].value) < 1e-8  # charge is conserved exactly
    # variational bound: no state lies below the ground state (independent TeNPy DMRG value,
    # docs/references.md); a mis-scaled energy operator or a lost constant term fails it.  The
    # ramp lowers the energy from that of the bare vacuum, ⟨vac|H|vac⟩ (the diagonal part only).
    from qlat.theories.schwinger_qubit import bare_vacuum_index

    e0_dmrg = -23.114621209719
    e_bare = float(model.terms().diagonal(np.array([bare_vacuum_index(40)]))[0])
    assert e0_dmrg - 1e-8 <= result.estimates["energy"].value < e_bare


@pytest.mark.parametrize(
    "layout, n_steps, order", [("line", 9, 2), ("line", 10, 2), ("all-to-all", 10, 2), ("all-to-all", 11, 1)]
)
def test_extrapolated_circuit_summary_is_exact(layout, n_steps, order):
    from qlat.quantum.adiabatic_run import circuit_summary, circuit_summary_extrapolated
    from qlat.quantum.trotter import adiabatic_circuit

    model = SchwingerModel(6, 0.5, 0.1, theta=0.3)
    schedule = AdiabaticSchedule(0.25 * n_steps, 0.25, ramp="sin2")
    full = circuit_summary(adiabatic_circuit(model, schedule, order=order, layout=layout), n_steps)
    guess = circuit_summary_extrapolated(model, schedule, order=order, layout=layout)
    assert guess.pop("extrapolated_from_steps")
    assert guess == full


def test_noisy_run_records_its_error_free_fraction_and_warns_only_when_noise_dominates():
    """(1 − p₁)^{n₁}(1 − p₂)^{n₂} over the circuit's one- and two-qubit gates; a warning (stderr and JSON) below 0.1."""
    from qlat.core.errors import QlatWarning

    model = SchwingerModel(4, 0.5, 0.2, theta=0.3)
    schedule = AdiabaticSchedule(2.0, 0.5, ramp="sin2")
    mild = run_adiabatic(model, schedule, backend="aer", shots=64, seed=1, noise="depolarizing:0.0005,0.001",
                         systematics="none")
    counts = mild.circuit["gate_counts"]["ops"]
    n1 = sum(v for k, v in counts.items() if k in ("sx", "x"))
    n2 = mild.circuit["two_qubit_cnot_cost"]
    assert n1 > 0 and n2 > 0
    fraction = mild.estimates["energy"].provenance["expected_noise_free_fraction"]
    assert fraction == pytest.approx(0.9995**n1 * 0.999**n2, rel=1e-12)
    assert "warning_noise" not in mild.estimates["energy"].provenance
    with pytest.warns(QlatWarning, match="dominated by noise"):
        heavy = run_adiabatic(model, schedule, backend="aer", shots=64, seed=1, noise="depolarizing:0.05,0.2",
                              systematics="none")
    prov = heavy.estimates["energy"].provenance
    assert prov["expected_noise_free_fraction"] == pytest.approx(0.95**n1 * 0.8**n2, rel=1e-12)
    assert prov["expected_noise_free_fraction"] < 0.1
    assert any("dominated by noise" in w for w in heavy.estimates["energy"].warnings)


def test_capped_mps_says_its_truncation_error_is_not_in_the_bar():
    model = SchwingerModel(6, 0.5, 0.1, theta=1.0)
    schedule = AdiabaticSchedule(2.0, 0.5, ramp="sin2")
    capped = run_adiabatic(model, schedule, backend="mps", max_bond_dimension=4, systematics="none")
    assert any("bond dimension capped at 4" in w for w in capped.estimates["energy"].warnings)
    assert capped.params["max_bond_dimension"] == 4
    free = run_adiabatic(model, schedule, backend="mps", systematics="none")
    assert not any("capped" in w for w in free.estimates["energy"].warnings)
