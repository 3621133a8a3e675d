"""Γ-method, derived quantities, jackknife and bootstrap against AR(1) processes with known answers.

An AR(1) process x_t = ρ x_{t−1} + √(1−ρ²) ε_t (unit variance) has ρ(t) = ρ^|t| and
τ_int = (1+ρ)/(2(1−ρ)); the variance of the mean of N samples is exactly
(1/N²) Σ_{|t|<N} (N−|t|) ρ^|t|.  Tolerances come from the spread expected of z-scores.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.stats import chi2

from qlat.analysis.statistics import (
    as_series,
    bootstrap_estimate,
    derived_estimate,
    gamma_estimate,
    jackknife_estimate,
)
from qlat.core.errors import ParameterError


def ar1(rho: float, n: int, chains: int, rng: np.random.Generator) -> np.ndarray:
    """Stationary AR(1) series, shape (n, chains), unit variance (started from the stationary law)."""
    eps = rng.normal(size=(n, chains)) * math.sqrt(1 - rho**2)
    eps[0] = rng.normal(size=chains)  # x_0 ~ N(0, 1): stationary from the first sample
    return lfilter([1.0], [1.0, -rho], eps, axis=0)


def exact_var_of_mean(rho: float, n: int, chains: int) -> float:
    t = np.arange(1, n)
    per_chain = (n + 2 * np.sum((n - t) * rho**t)) / n**2
    return per_chain / chains


def tau_exact(rho: float) -> float:
    return (1 + rho) / (2 * (1 - rho))


def spread_bounds(k: int, tail: float = 1e-4) -> tuple[float, float]:
    """Range of the sample standard deviation of k standard normals, two-sided probability 1 − 2·tail."""
    return math.sqrt(chi2.ppf(tail, k - 1) / (k - 1)), math.sqrt(chi2.ppf(1 - tail, k - 1) / (k - 1))


@pytest.mark.parametrize("rho", [0.5, 0.85])
def test_gamma_method_is_honest_on_ar1(rho):
    k, n, chains = 30, 4000, 4
    tau = tau_exact(rho)
    sigma_true = math.sqrt(exact_var_of_mean(rho, n, chains))
    z_value, z_tau, z_error = [], [], []
    for seed in range(k):
        est = gamma_estimate(ar1(rho, n, chains, np.random.default_rng(seed)), name="x")
        assert est.n_samples == n * chains and est.name == "x"
        z_value.append(est.value / est.error)
        z_tau.append((est.tau_int - tau) / est.tau_int_error)
        # relative error of the error is δτ/(2τ) (σ ∝ √τ_int)
        z_error.append((est.error - sigma_true) / (est.error * est.tau_int_error / (2 * est.tau_int)))
    lo, hi = spread_bounds(k)
    # the quoted errors are the real spread of the mean: z = value/error is standard normal
    assert lo < np.std(z_value, ddof=1) < hi
    assert abs(np.mean(z_value)) < 4 / math.sqrt(k)
    # τ_int and the error agree with the exact ones, seed by seed and on average
    for z in (z_tau, z_error):
        assert np.max(np.abs(z)) < 4
        assert abs(np.mean(z)) < 4 / math.sqrt(k)


@pytest.mark.slow
def test_gamma_method_is_honest_on_a_slow_ar1():
    """τ_int ≈ 19.5 (like topological charge near freezing): 60 seeds, 4 chains of 20000."""
    rho, k, n, chains = 0.95, 60, 20000, 4
    tau = tau_exact(rho)
    sigma_true = math.sqrt(exact_var_of_mean(rho, n, chains))
    z_value, z_tau = [], []
    for seed in range(k):
        est = gamma_estimate(ar1(rho, n, chains, np.random.default_rng(1000 + seed)))
        z_value.append(est.value / est.error)
        z_tau.append((est.tau_int - tau) / est.tau_int_error)
        assert abs(est.error / sigma_true - 1) < 4 * est.tau_int_error / (2 * est.tau_int)
    lo, hi = spread_bounds(k)
    assert lo < np.std(z_value, ddof=1) < hi
    assert np.max(np.abs(z_tau)) < 4 and abs(np.mean(z_tau)) < 4 / math.sqrt(k)


def test_iid_data_has_tau_half():
    for seed in range(5):
        est = gamma_estimate(np.random.default_rng(seed).normal(size=(5000, 2)))
        assert abs(est.tau_int - 0.5) < 4 * est.tau_int_error
        # the Γ-method's own uncertainty of the error, δσ/σ = δτ/(2τ), sets the tolerance
        assert abs(est.error / math.sqrt(1 / 10000) - 1) < 4 * est.tau_int_error / (2 * est.tau_int)


def test_chains_are_pooled_as_replicas():
    x = ar1(0.7, 3000, 3, np.random.default_rng(3))
    est = gamma_estimate(x)
    assert est.value == pytest.approx(x.mean(), rel=1e-12)
    assert est.provenance["chains"] == 3
    # one chain alone: three times fewer samples → error about √3 larger
    single = gamma_estimate(x[:, 0])
    assert single.n_samples == 3000
    ratio = single.error / est.error
    tol = 4 * math.hypot(single.tau_int_error / (2 * single.tau_int), est.tau_int_error / (2 * est.tau_int))
    assert abs(ratio / math.sqrt(3) * math.sqrt(np.var(x) / np.var(x[:, 0])) - 1) < tol


def test_single_chain_agrees_with_plain_pyerrors():
    pe = pytest.importorskip("pyerrors")
    x = ar1(0.6, 3000, 1, np.random.default_rng(8))[:, 0]
    ours = gamma_estimate(x)
    ref = pe.Obs([x], ["ref"])
    ref.gamma_method(S=2.0)
    assert ours.value == pytest.approx(ref.value, rel=1e-12)
    assert ours.error == pytest.approx(ref.dvalue, rel=1e-10)
    assert ours.tau_int == pytest.approx(ref.e_tauint["ref"], rel=1e-10)


def test_chains_that_did_not_mix_get_a_large_error():
    """Each chain frozen at its own value (like Q² in a frozen topological sector): the spread of
    the chain means must show up in the error (fluctuations about the pooled mean, as in UWerr)."""
    n, chains = 400, 4
    rng = np.random.default_rng(9)
    x = np.arange(chains, dtype=float)[None, :] + 1e-3 * rng.normal(size=(n, chains))
    est = gamma_estimate(x)
    between = np.std(x.mean(axis=0), ddof=1) / math.sqrt(chains)
    assert est.error > 0.5 * between
    assert est.tau_int > n / 20


def _derived_pair(seed: int, n: int = 4000, chains: int = 4, rho: float = 0.5):
    rng = np.random.default_rng(seed)
    x, w = ar1(rho, n, chains, rng), ar1(rho, n, chains, rng)
    a = 2.0 + x
    b = 3.0 + x + 0.3 * w
    # f = log(⟨a⟩/⟨b⟩): δf = δx/2 − (δx + 0.3 δw)/3 = δx/6 − 0.1 δw
    sigma_true = math.sqrt((1 / 36 + 0.01) * exact_var_of_mean(rho, n, chains))
    return a, b, math.log(2 / 3), sigma_true


def f_log_ratio(a, b):
    return np.log(a / b)


def test_derived_estimate_error_is_exact_propagation():
    a, b, exact, sigma_true = _derived_pair(0)
    est = derived_estimate(f_log_ratio, a, b, name="log_ratio")
    assert est.provenance["gradient"] == "autograd"
    assert abs(est.value - exact) < 4 * est.error
    rel = est.tau_int_error / (2 * est.tau_int)
    assert abs(est.error / sigma_true - 1) < 4 * rel
    assert est.tau_int == pytest.approx(tau_exact(0.5), abs=4 * est.tau_int_error)


def test_derived_linear_function_equals_gamma_of_combination():
    a, b, _, _ = _derived_pair(1)
    lin = derived_estimate(lambda u, v: u - 2 * v, a, b)
    direct = gamma_estimate(a - 2 * b)
    assert lin.value == pytest.approx(direct.value, rel=1e-12)
    assert lin.error == pytest.approx(direct.error, rel=1e-9)
    assert lin.tau_int == pytest.approx(direct.tau_int, rel=1e-9)


def test_derived_falls_back_to_finite_differences_when_not_traceable():
    a, b, _, _ = _derived_pair(2)
    auto = derived_estimate(f_log_ratio, a, b)
    numeric = derived_estimate(lambda u, v: math.log(float(u) / float(v)), a, b)
    assert numeric.provenance["gradient"] == "finite-difference"
    assert numeric.value == pytest.approx(auto.value, rel=1e-12)
    assert numeric.error == pytest.approx(auto.error, rel=1e-6)


def test_three_error_methods_agree_on_a_derived_quantity():
    a, b, exact, sigma_true = _derived_pair(3)
    n_bins = 20  # bins of 200 samples ≫ τ_int = 1.5
    gamma = derived_estimate(f_log_ratio, a, b)
    jack = jackknife_estimate(f_log_ratio, a, b, n_bins=n_bins)
    boot = bootstrap_estimate(f_log_ratio, a, b, n_bins=n_bins, n_boot=2000, seed=7)
    k = n_bins * a.shape[1]
    assert jack.provenance["bins"] == boot.provenance["bins"] == k
    assert gamma.value == jack.value == boot.value
    # relative error of an error: Γ-method δτ/(2τ); K-bin jackknife/bootstrap 1/√(2(K−1))
    rel_gamma = gamma.tau_int_error / (2 * gamma.tau_int)
    rel_bins = 1 / math.sqrt(2 * (k - 1))
    for est, rel in ((jack, rel_bins), (boot, math.hypot(rel_bins, 1 / math.sqrt(2 * 2000)))):
        assert abs(est.error / gamma.error - 1) < 4 * math.hypot(rel, rel_gamma)
        # binned errors are biased low by about τ_exp/b (AR(1), ρ = 0.5: τ_exp = 1/ln 2 ≈ 1.44)
        bias = (1 / math.log(2)) / (a.shape[0] / (n_bins))
        assert abs(est.error / sigma_true - 1) < 4 * rel + bias


def test_jackknife_of_the_mean_is_the_standard_error_of_bin_means():
    x = np.random.default_rng(4).normal(size=(103, 2))
    est = jackknife_estimate(lambda m: m, x, n_bins=10)
    bins = x[3:].reshape(10, 10, 2).mean(axis=1).ravel()
    assert est.error == pytest.approx(np.std(bins, ddof=1) / math.sqrt(bins.size), rel=1e-12)


def test_bootstrap_is_reproducible_by_seed():
    x = np.random.default_rng(5).normal(size=(200,))
    first = bootstrap_estimate(lambda m: m**2, x, seed=3, n_boot=200)
    assert bootstrap_estimate(lambda m: m**2, x, seed=3, n_boot=200).error == first.error
    assert bootstrap_estimate(lambda m: m**2, x, seed=4, n_boot=200).error != first.error


def test_constant_series_has_no_error_estimate():
    """A frozen chain must not look exact (review finding): error inf, τ_int unknown, a warning."""
    est = gamma_estimate(np.full((50, 3), 0.1))
    assert est.value == 0.1 and est.error == math.inf and est.tau_int is None
    assert "did not move" in est.provenance["warning"]
    d = derived_estimate(lambda u, v: u * v, np.full(20, 2.0), np.full(20, 3.0))
    assert d.value == 6.0 and d.error == math.inf


def test_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).normal(size=(100, 2))
    assert gamma_estimate(torch.from_numpy(x)).value == pytest.approx(x.mean(), rel=1e-12)


@pytest.mark.parametrize(
    "bad, parameter",
    [
        (np.array([]), "samples"),
        (np.ones(4), "samples"),
        (np.ones((10, 2, 2)), "samples"),
        (np.array([1.0, 2.0, np.nan, 3.0, 4.0, 5.0]), "samples"),
    ],
)
def test_bad_samples_give_a_clear_error(bad, parameter):
    with pytest.raises(ParameterError, match=parameter):
        gamma_estimate(bad)


def test_bad_options_give_a_clear_error():
    x = np.random.default_rng(7).normal(size=(100,))
    with pytest.raises(ParameterError, match="S"):
        gamma_estimate(x, S=0)
    with pytest.raises(ParameterError, match=r"series\[1\]"):
        derived_estimate(lambda u, v: u + v, x, x[:50])
    with pytest.raises(ParameterError, match="n_bins"):
        jackknife_estimate(lambda u: u, x, n_bins=1)
    with pytest.raises(ParameterError, match="n_boot"):
        bootstrap_estimate(lambda u: u, x, n_boot=1)
    with pytest.raises(ParameterError, match="fn"):
        derived_estimate(lambda u: np.array([u, u]), x)
    with pytest.raises(ParameterError, match="fn"), np.errstate(divide="ignore"):
        derived_estimate(lambda u: np.log(u - u), x)
    assert as_series(x).shape == (100, 1)


# ------------------------------------------------------------------ independence-Metropolis chains
def _independence_chain(log_w_of, draw, n, chains, rng):
    """An independence-Metropolis chain over fresh draws: (states, stay record, proposal log-weights)."""
    proposals = draw((n + 1, chains))
    log_w = log_w_of(proposals)
    cur, cur_lw = proposals[0].copy(), log_w[0].copy()
    states, stay = np.empty((n, chains)), np.zeros((n, chains), dtype=bool)
    log_u = np.log(rng.random((n, chains)))
    for t in range(n):
        accept = log_u[t] < log_w[t + 1] - cur_lw
        cur = np.where(accept, proposals[t + 1], cur)
        cur_lw = np.where(accept, log_w[t + 1], cur_lw)
        states[t], stay[t] = cur, ~accept
    return states, stay, log_w[1:]


def test_repeat_record_marks_repeated_configurations():
    from qlat.analysis.statistics import repeat_record

    configs = np.zeros((5, 2, 3))
    configs[:, 0] = [[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [2, 0, 0]]
    configs[:, 1] = [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 1]]
    np.testing.assert_array_equal(repeat_record(configs), [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0]])


def test_tau_repeat_and_the_ess_bound_on_a_two_weight_chain():
    """Proposals with w = 1 (prob 1 − ε) or W (prob ε), an observable independent of w: exactly
    ρ(t) = p_W r^t with p_W = εW/(εW + 1 − ε), r = (1 − ε)(1 − 1/W), so τ = ½ + p_W r/(1 − r), and
    1/ESS − ½ = E_q[w²]/E_q[w]² − ½ is a lower bound (tight here)."""
    from qlat.analysis.statistics import IndependenceDiagnostics

    eps, big = 0.01, 200.0
    rng = np.random.default_rng(5)
    p_w = eps * big / (eps * big + 1 - eps)
    r = (1 - eps) * (1 - 1 / big)
    tau = 0.5 + p_w * r / (1 - r)
    bound = (1 - eps + eps * big**2) / (1 - eps + eps * big) ** 2 - 0.5
    assert bound <= tau
    heavy = rng.random((3001, 48)) < eps
    _, stay, log_w = _independence_chain(lambda h: np.where(h, math.log(big), 0.0), lambda shape: heavy[: shape[0]],
                                         3000, 48, rng)
    d = IndependenceDiagnostics(stay, proposal_log_weights=log_w)
    assert d.tau_repeat == pytest.approx(tau, rel=0.1)
    assert d.tau_bound >= d.tau_repeat and 1 / d.ess - 0.5 == pytest.approx(bound, rel=0.1)
    assert d.acceptance == pytest.approx(1 - p_w * r, rel=0.05)


@pytest.mark.parametrize("variance, tail", [(1.25, 0.2), (4.0, 0.75)])
def test_gaussian_independence_chain_tail_and_error(variance, tail):
    """q = N(0, 1), p = N(0, s²): w ∝ exp((1 − 1/s²) x²/2) has a Pareto tail of shape k = 1 − 1/s².

    Light tail (s² = 1.25): the corrected error covers ⟨x²⟩ = s² and nothing warns; heavy tail
    (s² = 4, infinite variance of w): the diagnostics say so."""
    from qlat.analysis.statistics import IndependenceDiagnostics, independence_chain_estimate

    rng = np.random.default_rng(11)
    a = (1 - 1 / variance) / 2
    states, stay, log_w = _independence_chain(lambda x: a * x**2, lambda shape: rng.normal(size=shape), 2500, 8, rng)
    d = IndependenceDiagnostics(stay, proposal_log_weights=log_w, thermalization=200)
    assert d.pareto_k == pytest.approx(tail, abs=0.2)  # (the Gaussian tail is Pareto only asymptotically)
    assert (d.pareto_k >= 0.5) == (tail >= 0.5)
    est = independence_chain_estimate(gamma_estimate(states**2), d, emit=False)
    assert est.error >= est.provenance["error_gamma"] and est.tau_int >= d.tau_bound
    if tail < 0.5:
        assert not est.warnings
        assert abs(est.value - variance) < 3 * est.error
    else:
        assert any("heavy-tailed" in w for w in est.warnings)


def test_a_windowed_tau_below_the_rejection_bound_is_raised_to_it():
    """Short chains of the two-weight model (exact τ = 44.6 for an observable independent of w): where
    the Γ-method's window gives τ ≈ 24, the bound from the runs and the ESS (≈ 45) replaces it and the
    error grows by √(τ/τ_Γ)."""
    from qlat.analysis.statistics import IndependenceDiagnostics, independence_chain_estimate

    eps, big, n, chains = 0.01, 200.0, 400, 8
    p_w = eps * big / (eps * big + 1 - eps)
    r = (1 - eps) * (1 - 1 / big)
    exact_tau = 0.5 + p_w * r / (1 - r)
    rng = np.random.default_rng(1)
    heavy = rng.random((n + 1, chains)) < eps
    values = rng.normal(size=(n + 1, chains))
    log_w = np.where(heavy, math.log(big), 0.0)
    cur, cur_lw = values[0].copy(), log_w[0].copy()
    states, stay = np.empty((n, chains)), np.zeros((n, chains), dtype=bool)
    for t in range(n):
        accept = np.log(rng.random(chains)) < log_w[t + 1] - cur_lw
        cur, cur_lw = np.where(accept, values[t + 1], cur), np.where(accept, log_w[t + 1], cur_lw)
        states[t], stay[t] = cur, ~accept
    d = IndependenceDiagnostics(stay, proposal_log_weights=log_w[1:])
    gamma = gamma_estimate(states)
    est = independence_chain_estimate(gamma, d, emit=False)
    assert gamma.tau_int < d.tau_bound  # the window cut the tail here
    assert est.tau_int == pytest.approx(d.tau_bound) and abs(est.tau_int - exact_tau) < abs(gamma.tau_int - exact_tau)
    assert est.error == pytest.approx(gamma.error * math.sqrt(d.tau_bound / gamma.tau_int))
    assert est.provenance["tau_int_gamma"] == gamma.tau_int and est.provenance["error_gamma"] == gamma.error
