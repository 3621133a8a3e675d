"""Every unreliable error bar warns on stderr and says so in the JSON provenance (issue 7, acceptance 4)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qlat.analysis.extrapolation import extrapolate
from qlat.analysis.statistics import MIN_SAMPLES_PER_TAU, gamma_estimate
from qlat.core.errors import QlatWarning


def test_frozen_chain_warns_and_has_no_error():
    with pytest.warns(QlatWarning, match="did not move"):
        est = gamma_estimate(np.ones((50, 2)), name="q2")
    assert est.error == math.inf and "warning" in est.provenance
    assert "did not move" in json.loads(est.to_json())["provenance"]["warning"]


def test_short_chain_relative_to_tau_int_warns():
    rng = np.random.default_rng(0)
    x = np.zeros((400, 2))
    for t in range(1, 400):  # AR(1), ρ = 0.98: τ_int = (1 + ρ)/(2(1 − ρ)) ≈ 50, so N/τ_int ≈ 8
        x[t] = 0.98 * x[t - 1] + rng.normal(size=2)
    with pytest.warns(QlatWarning, match="samples per τ_int"):
        est = gamma_estimate(x, name="slow")
    assert 400 / est.tau_int < MIN_SAMPLES_PER_TAU and "τ_int" in est.provenance["warning"]


def test_long_chain_does_not_warn(recwarn):
    gamma_estimate(np.random.default_rng(1).normal(size=(2000, 2)), name="fine")
    assert not [w for w in recwarn if issubclass(w.category, QlatWarning)]


def test_extrapolation_from_two_points_warns():
    with pytest.warns(QlatWarning, match="2 points"):
        est = extrapolate([0.1, 0.2], [1.0, 1.1], sigma=[0.01, 0.01], degree=1)
    assert "not reliable" in est.provenance["warning"]


def test_cli_prints_the_warning_on_stderr_and_in_json(capsys):
    from qlat.cli.main import main

    assert main(["sample", "u1", "--L", "4", "--beta", "6", "--n", "8", "--chains", "1", "--thermalize", "0",
                 "--tau", "0.05", "--steps", "1", "--start", "cold", "--no-progress", "--json"]) == 0
    captured = capsys.readouterr()
    assert "qlat: warning:" in captured.err and "Traceback" not in captured.err
    out = json.loads(captured.out)
    assert any("warning" in entry.get("provenance", {}) for key, entry in out.items() if key != "ensemble")


def _gaussian_independence_chain(variance, n, chains, seed):
    """Independence Metropolis from q = N(0, 1) to p = N(0, s²) (weights with a Pareto tail k = 1 − 1/s²)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + 1, chains))
    log_w = (1 - 1 / variance) / 2 * x**2
    cur, cur_lw = x[0].copy(), log_w[0].copy()
    states, stay = np.empty((n, chains)), np.zeros((n, chains), dtype=bool)
    for t in range(n):
        accept = np.log(rng.random(chains)) < log_w[t + 1] - cur_lw
        cur, cur_lw = np.where(accept, x[t + 1], cur), np.where(accept, log_w[t + 1], cur_lw)
        states[t], stay[t] = cur, ~accept
    return states, stay, log_w[1:]


def test_heavy_tailed_independence_chain_warns_on_stderr_and_in_json():
    from qlat.analysis.statistics import IndependenceDiagnostics, independence_chain_estimate

    states, stay, log_w = _gaussian_independence_chain(4.0, 2000, 4, seed=1)
    diagnostics = IndependenceDiagnostics(stay, proposal_log_weights=log_w, thermalization=500)
    with pytest.warns(QlatWarning, match="heavy-tailed"):
        est = independence_chain_estimate(gamma_estimate(states**2, name="x2"), diagnostics)
    assert any("heavy-tailed" in w for w in est.warnings)
    data = json.loads(est.to_json())
    assert any("heavy-tailed" in w for w in data["provenance"]["warnings"])
    assert data["provenance"]["independence_chain"]["pareto_k"] >= 0.5
    # the flow's own evaluation (model card) is enough when this run's proposals miss the tail
    light_states, light_stay, light_w = _gaussian_independence_chain(1.2, 2000, 4, seed=2)
    flagged = IndependenceDiagnostics(light_stay, proposal_log_weights=light_w, thermalization=500, flow_pareto_k=0.8)
    assert any("when it was evaluated" in w for w in flagged.warnings())
    assert not IndependenceDiagnostics(light_stay, proposal_log_weights=light_w, thermalization=500).warnings()


def test_independence_chain_with_short_runs_or_thermalization_warns():
    from qlat.analysis.statistics import IndependenceDiagnostics

    stay = np.zeros((200, 4), dtype=bool)
    stay[20:180, 0] = True  # one rejection run of 80 % of a chain: τ_repeat ≈ 16.7, 200/16.7 < 20 samples per τ
    d = IndependenceDiagnostics(stay, thermalization=1000)
    assert d.longest_repeat == 160 and d.tau_repeat == pytest.approx(0.5 + 160 * 161 / 2 / (199 * 4), rel=1e-12)
    assert any("samples per τ_int" in w for w in d.warnings())
    quiet = np.zeros((2000, 4), dtype=bool)
    quiet[::3] = True  # τ_repeat ≈ 0.83
    assert not IndependenceDiagnostics(quiet, thermalization=100).warnings()
    assert any("thermalize longer" in w for w in IndependenceDiagnostics(quiet, thermalization=2).warnings())


def test_a_rarely_changing_discrete_series_warns():
    """Q² stuck at 0 in 8 chains but for one short excursion: the Γ-method sees τ_int ≈ 1 and a tiny error."""
    q2 = np.zeros((100, 8))
    q2[40:43, 2] = 1.0
    with pytest.warns(QlatWarning, match="changed value only 2 times"):
        est = gamma_estimate(q2, name="q2")
    assert any("changed value only 2 times" in w for w in est.warnings)
    rng = np.random.default_rng(3)
    moving = rng.integers(0, 3, size=(100, 8)).astype(float) ** 2  # a charge that changes all the time
    assert not [w for w in gamma_estimate(moving).warnings if "changed value" in w]


def test_a_chain_that_stays_put_gets_the_repeat_bound_and_warns():
    """HMC-like chains that accept 1 % of their updates (exact τ_int ≈ 100 for fresh values at each move):
    every observable is constant in long runs; where the window gives τ ≈ 26, the runs give ≈ 100."""
    from qlat.analysis.statistics import repeat_bound_estimate

    rng = np.random.default_rng(2)
    n, chains = 500, 2
    moved = rng.random((n, chains)) < 0.01
    values = np.empty((n, chains))
    current = rng.normal(size=chains)
    for t in range(n):
        current = np.where(moved[t], rng.normal(size=chains), current)
        values[t] = current
    stay = ~moved
    stay[0] = False
    est = gamma_estimate(values, name="x")
    with pytest.warns(QlatWarning, match="stayed put"):
        bounded = repeat_bound_estimate(est, stay)
    tau_repeat = bounded.provenance["tau_repeat"]
    assert est.tau_int < 40 and 70 < tau_repeat < 140
    assert bounded.tau_int == pytest.approx(tau_repeat)
    assert bounded.error == pytest.approx(est.error * np.sqrt(tau_repeat / est.tau_int))
    assert any("stayed put" in w for w in json.loads(bounded.to_json())["provenance"]["warnings"])
    fine = repeat_bound_estimate(gamma_estimate(rng.normal(size=(500, 2))), np.zeros((500, 2), dtype=bool))
    assert not fine.warnings and fine.provenance["tau_repeat"] == 0.5


def test_a_fast_observable_warns_when_a_slow_one_on_the_same_chains_does():
    from qlat.analysis.statistics import slowest_mode_warnings
    from qlat.core.estimate import Estimate

    estimates = {"plaquette": Estimate(0.8, 0.001, tau_int=4.8), "q2": Estimate(1.1, 0.2, tau_int=37.0),
                 "acceptance": Estimate(0.5, 0.01, tau_int=80.0)}
    with pytest.warns(QlatWarning, match=r"slowest observable on the same chains \(q2"):
        out = slowest_mode_warnings(estimates, 250)
    assert out["plaquette"].warnings and not out["q2"].warnings and not out["acceptance"].warnings
    assert not slowest_mode_warnings(estimates, 1000)["plaquette"].warnings  # 1000/37 > 20
