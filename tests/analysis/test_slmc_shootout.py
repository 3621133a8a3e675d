"""The SLMC half of the shoot-out (qlat.analysis.slmc_shootout): arithmetic incl. the training data, a 4×4 run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from qlat.analysis import shootout as so
from qlat.analysis import slmc_shootout as ss
from qlat.core.errors import ParameterError

ROOT = Path(__file__).resolve().parents[2]


def _cost(**kw) -> so.ObservableCost:
    base = dict(sampler="x", observable=ss.OBSERVABLE, L=8, chains=2, n_per_chain=100, thermalization=10,
                cpu_seconds=2.2, samples=220, acceptance=1.0, tau_int=3.0, tau_int_error=0.3, value=0.5, error=0.01)
    base.update(kw)
    return so.ObservableCost(**base)  # type: ignore[arg-type]


def test_training_data_and_fit_are_both_charged_and_amortized():
    train = ss.training_cpu_seconds(140.0, 10.0)
    assert train == 150.0
    slmc = _cost(sampler="slmc", training_seconds=train)
    exact = _cost(sampler="exact-local", tau_int=1.5, tau_int_error=0.15, cpu_seconds=22.0)  # 10x per sample
    t = 2.2 / 220
    assert slmc.seconds_per_independent == pytest.approx((2 * 3.0 * t, 2 * 0.3 * t))
    rows = {r["variant"]: r for r in ss.ratios(exact, slmc)}
    assert set(rows) == {"sampling", *(f"amortized_{n}" for n in so.AMORTIZE_OVER)}
    assert rows["sampling"]["ratio"] == pytest.approx(2 * 1.5 * 10 * t / (2 * 3.0 * t))  # = 5
    assert rows["sampling"]["relative_error"] == pytest.approx(math.hypot(0.1, 0.1))
    for n in so.AMORTIZE_OVER:
        assert rows[f"amortized_{n}"]["ratio"] == pytest.approx(2 * 1.5 * 10 * t / (2 * 3.0 * (t + 150.0 / n)))
    # power: at N = 10^4 the training (data 140 s of it) halves the ratio; without the data it would not
    assert rows["amortized_10000"]["ratio"] < 0.5 * rows["sampling"]["ratio"]
    assert rows["amortized_10000"]["ratio"] < 0.6 * ss.ratios(exact, _cost(training_seconds=10.0))[1]["ratio"]
    d = slmc.to_dict()
    assert d["cpu_seconds_per_independent_amortized_10000"] == pytest.approx(6 * (t + 150.0 / 10_000))
    assert d["chain_length_in_tau_int"] == pytest.approx(100 / 3.0)
    with pytest.raises(ParameterError, match="training"):
        ss.training_cpu_seconds(-1.0, 1.0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    plan = ss.SLMCShootoutPlan(
        sizes=[4], exact=ss.ChainPlan(chains=2, thermalization=10, block=20, max_cpu_seconds=1.0, max_per_chain=40),
        slmc=ss.ChainPlan(chains=2, thermalization=5, block=20, max_cpu_seconds=1.0, max_per_chain=60),
        data_chains=2, data_sweeps=10, data_thermalization=10, epochs=5, seed=3, n_inner=8)
    return plan, ss.run_slmc_shootout(plan, tmp_path_factory.mktemp("slmc"))


def test_tiny_run_charges_the_training_chain_and_flags_short_chains(tiny):
    plan, out = tiny
    exact, slmc = out["costs"]
    rec = out["training"][0]
    assert (exact.sampler, slmc.sampler) == ("exact-local", "slmc")
    assert exact.observable == slmc.observable == "staggered_magnetization"
    assert rec["data_cpu_seconds"] > 0 and rec["configurations"] == 2 * 10
    assert rec["shells"] == 4 and slmc.extra["n_inner"] == 8 and rec["validation_mse"] >= 0
    assert slmc.training_seconds == pytest.approx(rec["data_cpu_seconds"] + rec["fit_cpu_seconds"])
    assert slmc.extra["training_data_cpu_seconds"] == rec["data_cpu_seconds"]
    assert exact.training_seconds == 0.0
    for c in (exact, slmc):
        assert c.samples == c.chains * (c.n_per_chain + c.thermalization)
        short = c.n_per_chain < ss.MIN_CHAIN_TAUS * c.tau_int
        assert short == any("tau_int(staggered_magnetization) (< 50)" in r for r in c.reasons)
        assert c.n_per_chain >= 20 and 0 < c.acceptance <= 1
    # SLMC is capped at 60 updates per chain: with tau_int >= 1.2 (it is ~10 at 4x4) that is < 50 tau_int
    assert slmc.n_per_chain == 60 and not slmc.reliable
    # both are exact chains of the same distribution: |m_s| agrees (loose: short chains)
    z = (exact.value - slmc.value) / math.hypot(exact.error, slmc.error)
    assert abs(z) < 4
    rows = {r["variant"]: r for r in out["ratios"]}
    assert rows["amortized_10000"]["ratio"] < rows["amortized_1000000"]["ratio"] <= rows["sampling"]["ratio"]
    assert rows["amortized_10000"]["ratio"] == pytest.approx(
        exact.seconds_per_independent[0] / slmc.amortized(10_000)[0])
    assert not rows["sampling"]["reliable"]


def test_benchmark_dry_run_times_and_estimates(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_slmc.py"), "shootout", "--preset", "test",
                          "--dry-run"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "L=4: exact sweep" in run.stdout and "CPU min" in run.stdout
    assert not list(tmp_path.iterdir())  # a dry run writes nothing
    json.dumps(ss.SLMCShootoutPlan(sizes=[4], exact=ss.ChainPlan(2, 1, 5, 1.0),
                                   slmc=ss.ChainPlan(2, 1, 5, 1.0)).to_dict())


def test_plan_every_shell_and_k_in_sweeps():
    """``shells=None``: a coupling per pair distance of the lattice; K = inner_sweeps × N unless n_inner is set."""
    from qlat.samplers.slmc.effective_hamiltonians import pair_distance_count

    chain = ss.ChainPlan(2, 1, 5, 1.0)
    plan = ss.SLMCShootoutPlan(sizes=[8], exact=chain, slmc=chain, shells=None, inner_sweeps=8)
    theory = plan.theory(8)
    assert plan.shells_for(theory) == pair_distance_count((8, 8), "periodic") == 14
    assert plan.inner_steps(theory) == 8 * 64
    assert ss.SLMCShootoutPlan(sizes=[8], exact=chain, slmc=chain, n_inner=100).inner_steps(theory) == 100
    assert ss.SLMCShootoutPlan(sizes=[8], exact=chain, slmc=chain).shells_for(theory) == 4
    assert plan.to_dict()["inner_sweeps"] == 8 and plan.to_dict()["model"]["shells"] is None
    with pytest.raises(ParameterError, match="inner_sweeps"):
        ss.SLMCShootoutPlan(sizes=[8], exact=chain, slmc=chain, inner_sweeps=0).inner_steps(theory)


def test_benchmark_plots_recorded_shootouts(tmp_path):
    record = ROOT / "benchmarks" / "results" / "slmc_shootout_L8.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_slmc.py"), "shootout", "--plot-from",
                          str(record), "--out", str(tmp_path / "plot.png")], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                                                         "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "plot.png").stat().st_size > 10_000
