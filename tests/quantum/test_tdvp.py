"""The ``tdvp`` backend: two-site TDVP on an MPS against the exact time evolution (statevector).

At N = 6 a bond dimension of 8 holds every state exactly, so the only error of TDVP is the time
step (the exponential midpoint rule with a symmetric sweep, second order); the reference is the
statevector fast path at dt = 0.002, whose second-order Trotter error is ~1e-7 here.
"""

from __future__ import annotations

import json

import pytest

from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.run import run_adiabatic
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


def test_tdvp_systematic_error_covers_its_distance_to_the_exact_evolution(exact_evolution):
    result = _tdvp(0.2)
    for key in ("energy", "condensate", "electric_field[2]"):
        est = result.estimates[key]
        sources = est.provenance["systematic_sources"]
        assert set(sources) == {"time_step", "truncation", "adiabatic"}
        distance = abs(est.value - exact_evolution[key].value)
        # the Richardson estimate |O(dt) − O(2dt)|/3 is the actual time-step error (χ = 8 is exact)
        assert sources["time_step"] == pytest.approx(distance, rel=0.3), key
        assert est.total_error >= distance
    assert result.params["backend"] == "tdvp"


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
