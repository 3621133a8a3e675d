"""The ``tdvp`` backend: two-site TDVP on an MPS against the exact time evolution (statevector).

At N = 6 a bond dimension of 8 holds every state exactly, so the only error of TDVP is the time
step (the exponential midpoint rule with a symmetric sweep, second order); the reference is the
statevector fast path at dt = 0.002, whose second-order Trotter error is ~1e-7 here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.adiabatic_run import run_adiabatic
from qlat.theories.schwinger_qubit import SchwingerModel

pytest.importorskip("tenpy")

MODEL = SchwingerModel(6, 0.5, 0.2, theta=0.7)
NAMES = ("energy", "condensate", "electric_field")


@pytest.fixture(scope="module")
def exact_evolution():
    schedule = AdiabaticSchedule(total_time=2.0, dt=0.002, ramp="sin2")
    return run_adiabatic(MODEL, schedule, observables=NAMES, backend="statevector", systematics="none").estimates


def _tdvp(dt, **options):
    schedule = AdiabaticSchedule(total_time=2.0, dt=dt, ramp="sin2")
    return run_adiabatic(MODEL, schedule, observables=NAMES, backend="tdvp", max_bond_dimension=8, **options)


def test_tdvp_converges_to_the_exact_evolution_at_second_order(exact_evolution):
    coarse = _tdvp(0.2, systematics="none").estimates
    fine = _tdvp(0.1, systematics="none").estimates
    assert set(fine) == set(exact_evolution)
    for key in ("energy", "condensate", "electric_field[2]"):
        err_coarse = abs(coarse[key].value - exact_evolution[key].value)
        err_fine = abs(fine[key].value - exact_evolution[key].value)
        assert err_fine < 5e-3, key
        assert 3.0 < err_coarse / err_fine < 5.0, (key, err_coarse, err_fine)  # dt² scaling


def test_mps_state_model_equals_the_statevector_one():
    """The Lanczos-step model from MPO/MPS contractions equals the statevector model of the same state:
    the energies through their ``hamiltonian_factor``, the Z-linear observables through ⟨Z_n⟩ and
    ⟨Z_mZ_n⟩, and a hopping-type observable through the generic term-by-term path."""
    from qlat.exact.schwinger_mpo import product_mps, quiet_tenpy
    from qlat.quantum.systematics import state_model
    from qlat.quantum.tdvp import evolve_tdvp, mps_state_model
    from qlat.theories.pauli_sum import PauliSum
    from qlat.theories.schwinger_observables import qubit_observable

    for formulation in ("rotated", "electric"):
        model = SchwingerModel(6, 0.5, 0.3, theta=0.7, formulation=formulation)
        run = evolve_tdvp(model, AdiabaticSchedule(total_time=2.0, dt=0.5, ramp="sin2"), bond_dim=8)
        ops, factors = {}, {}
        for name in ("energy", "energy_density", "condensate", "electric_field", "charge_density"):
            obs = qubit_observable(name, model)
            ops.update(obs.keyed_terms)
            if obs.hamiltonian_factor is not None:
                factors[name] = obs.hamiltonian_factor
        ops["hop"] = PauliSum.from_sparse_list([("XX", [2, 3], 0.4), ("YY", [2, 3], 0.4), ("ZXX", [0, 1, 2], -0.3),
                                                ("ZYY", [0, 1, 2], -0.3), ("Z", [4], 0.2)], num_qubits=6)
        state = np.zeros(2**6, dtype=complex)
        with quiet_tenpy():
            for index in range(2**6):
                bits = [(index >> k) & 1 for k in range(6)]
                if sum(bits) == 3:
                    state[index] = product_mps(bits).overlap(run.psi)
        mps = mps_state_model(model, run, ops, factors)
        exact = state_model(model, state, {key: op.to_sparse_pauli_op() for key, op in ops.items()})
        assert mps.leaked_weight == pytest.approx(exact.leaked_weight, abs=1e-10) and mps.leaked_weight > 0.05
        assert mps.variance == pytest.approx(exact.variance, abs=1e-10)
        assert abs(exact.corrections["hop"]) > 1e-3 and abs(exact.values["hop"]) > 1e-2  # the check can fail
        for key in ops:
            assert mps.values[key] == pytest.approx(exact.values[key], abs=1e-10), key
            assert mps.corrections[key] == pytest.approx(exact.corrections[key], abs=1e-9), key
            assert mps.spreads[key] == pytest.approx(exact.spreads[key], abs=1e-9), key


#: TDVP points against ED: exact bond dimension and truncating (χ = 4 < 8 at N = 6, 16 at N = 8).
TDVP_POINTS = [
    # N, a, m, theta, formulation, ramp, T, dt, chi
    (6, 0.6, 0.3, 1.5, "electric", "smootherstep", 6.0, 0.5, 4),
    (6, 0.5, 0.2, 0.7, "rotated", "sin2", 4.0, 0.5, 8),
    (6, 0.4, 0.1, 0.3, "rotated", "smoothstep", 5.0, 0.5, 4),
    (8, 0.6, 0.3, 1.5, "electric", "smootherstep", 8.0, 0.5, 4),
]


def _tdvp_calibration(points):
    from qlat.quantum.exact_backend import exact_estimates

    zs, ratios = [], []
    for n, a, m, theta, formulation, ramp, total, dt, chi in points:
        model = SchwingerModel(n, a, m, theta=theta, formulation=formulation)
        result = run_adiabatic(model, AdiabaticSchedule(total, dt, ramp=ramp), observables=NAMES, backend="tdvp",
                               max_bond_dimension=chi)
        exact = exact_estimates(model, observables=NAMES)
        for key in ("energy", "condensate", f"electric_field[{n // 2 - 1}]"):
            est = result.estimates[key]
            assert set(est.provenance["systematic_sources"]) == {"time_step", "truncation", "adiabatic"}
            assert not est.warnings
            delta = est.value - exact[key].value
            zs.append(delta / est.total_error)
            ratios.append(est.total_error / abs(delta))
    return zs, ratios


def test_tdvp_systematic_is_calibrated_against_ed():
    """|z| ≤ 2 against the ground state (ED) and the median total error ≤ 3× the distance at a
    truncating point (issue 17 measured the former bare differences at 25–660×); ×20 or ÷20 fails."""
    zs, ratios = _tdvp_calibration(TDVP_POINTS[:1])
    assert max(abs(z) for z in zs) <= 2.0, zs
    assert 0.8 <= float(np.median(ratios)) <= 3.0, ratios


@pytest.mark.slow
def test_tdvp_systematic_is_calibrated_against_ed_at_more_points():
    zs, ratios = _tdvp_calibration(TDVP_POINTS)
    assert max(abs(z) for z in zs) <= 2.0, zs
    assert 0.8 <= float(np.median(ratios)) <= 3.0, ratios


def test_tdvp_from_the_command_line(capsys):
    from qlat.cli.main import main

    code = main(["schwinger", "adiabatic", "--backend", "tdvp", "--bond-dim", "8", "--sites", "6", "--time", "1",
                 "--dt", "0.25", "--mass", "0.2", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "tdvp" and out["params"]["schedule"]["dt"] == 0.25
    assert out["energy"]["backend"] == "tdvp" and out["energy"]["systematic"] > 0
    assert "exact" in out  # compared with ED (N ≤ 20)


def test_bond_dimension_is_refused_on_backends_without_one():
    from qlat.core.errors import ParameterError

    schedule = AdiabaticSchedule(total_time=1.0, dt=0.5)
    with pytest.raises(ParameterError, match="MPS backends"):
        run_adiabatic(MODEL, schedule, backend="statevector", max_bond_dimension=8)


def test_default_schedule_of_tdvp_takes_ten_times_fewer_steps():
    """Issue 23 (slow default tdvp): tdvp has no Trotter splitting, so its default schedule is the
    default path (T = 60, smootherstep, m₀ = 0.5) at dt = 0.5 — 120 steps, not 1200; the other
    simulators keep dt = 0.05, and an unknown name falls back to it."""
    from qlat.quantum.adiabatic import backend_default_schedule, default_schedule

    tdvp = backend_default_schedule(MODEL, "tdvp")
    base = default_schedule(MODEL)
    assert (tdvp.dt, tdvp.n_steps) == (0.5, 120) and (base.dt, base.n_steps) == (0.05, 1200)
    assert (tdvp.total_time, tdvp.ramp, tdvp.initial_mass) == (base.total_time, base.ramp, base.initial_mass)
    assert backend_default_schedule(MODEL, "statevector") == base == backend_default_schedule(MODEL, "no-such")


@pytest.mark.parametrize(("backend", "time", "dt"), [("tdvp", "1", 0.5), ("tdvp", "1.2", 0.4),
                                                     ("statevector", "1", 0.05)])
def test_command_line_default_step_follows_the_backend_and_divides_the_time(capsys, backend, time, dt):
    from qlat.cli.main import main

    argv = ["schwinger", "adiabatic", "--backend", backend, "--sites", "4", "--time", time, "--mass", "0.2",
            "--json"] + (["--bond-dim", "4"] if backend == "tdvp" else [])
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["schedule"]["dt"] == pytest.approx(dt, rel=1e-12)
