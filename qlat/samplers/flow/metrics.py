r"""Quality metrics of a flow q against the target p ∝ e^{−S}: reweighting factors, ESS, acceptance, tails.

With log-weights log w_i = −S(x_i) − log q(x_i) of N independent flow samples
(:func:`importance_log_weight`, the one place this difference is taken):

- effective sample size per sample (arXiv:2101.08176 eq. (27)):
  ESS = (Σ w)² / (N Σ w²) ∈ (0, 1], with a bootstrap error (resampling the N weights);
- the independence-Metropolis acceptance (:func:`acceptance`): the probability that the chain of
  :class:`~qlat.samplers.flow.sampler.FlowSampler` accepts a fresh proposal x' ~ q from a state
  x ~ p in equilibrium,

  .. math:: a = E_{x∼p,\,x'∼q}\big[\min(1, w(x')/w(x))\big]
              = \frac{E_{q×q}[\min(w, w')]}{E_q[w]}
              ≈ \frac{\sum_{i≠j} \min(w_i, w_j)}{(N − 1) \sum_i w_i},

  a U-statistic over all pairs of the N samples (no chain, no seed).  This is the *one*
  definition: ``qlat flow train``/``eval`` report it from fresh samples, and the fraction of
  accepted proposals of a stationary sampler chain estimates the same number.  (A single chain
  run over the samples, :func:`independence_metropolis`, estimates it too but with a huge
  variance when the weights are heavy-tailed: one sample of large w stops it for most of the run.)
- the Pareto shape k̂ of the upper tail of the weights (:func:`pareto_khat`; Vehtari, Simpson,
  Gelman, Yao, Gabry, "Pareto smoothed importance sampling", arXiv:1507.02646): a generalized
  Pareto fit to the largest M = min(N/5, 3√N) weights (Zhang & Stephens, Technometrics 51 (2009)
  316, with its weakly informative prior).  E_q[w²] < ∞ (the ESS exists) needs k < ½; above ½ the
  weights have infinite variance and an independence-Metropolis chain over the flow is not
  geometrically ergodic, so no finite run can show its error honestly.

Everything is plain numpy on float64 log-weights; errors of autocorrelated chain quantities
(acceptance, observables) come from the Γ-method in :mod:`qlat.analysis.statistics` (callers
above the samplers layer build those Estimates).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qlat.core.errors import require

#: Pareto tail shape of the weights at and above which their variance is infinite (k̂ >= ½): the ESS
#: does not exist and an independence-Metropolis chain over the flow is not geometrically ergodic.
HEAVY_TAIL_K = 0.5


def importance_log_weight(log_p: Any, log_q: Any) -> Any:
    """log w = log p − log q with log p = −S: the importance weight of a flow sample x ~ q against
    e^{−S} (up to log Z), whose ratio w(x')/w(x) is the independence-Metropolis acceptance ratio."""
    return log_p - log_q


def _as_log_weights(log_w: Any) -> np.ndarray:
    if hasattr(log_w, "detach"):
        log_w = log_w.detach().cpu().double().numpy()
    arr = np.asarray(log_w, dtype=np.float64).reshape(-1)
    require(arr.size >= 1, "log_weights", "need at least one sample", arr.shape)
    return arr


def ess(log_w: Any) -> float:
    """(Σw)²/(NΣw²), computed with the largest log-weight subtracted; 0 if no weight is finite."""
    arr = _as_log_weights(log_w)
    finite = np.isfinite(arr)
    if not finite.any():
        return 0.0
    w = np.where(finite, np.exp(arr - arr[finite].max()), 0.0)
    return float(w.sum() ** 2 / (arr.size * np.square(w).sum()))


def ess_with_error(log_w: Any, *, n_boot: int = 200, seed: int = 0) -> tuple[float, float]:
    """ESS and its bootstrap standard error (``n_boot`` resamples of the N weights, seeded)."""
    arr = _as_log_weights(log_w)
    require(isinstance(n_boot, int) and n_boot >= 2, "n_boot", "must be an integer >= 2", n_boot)
    rng = np.random.default_rng(seed)
    boots = [ess(arr[rng.integers(0, arr.size, arr.size)]) for _ in range(n_boot)]
    return ess(arr), float(np.std(boots, ddof=1))


def independence_metropolis(log_w: Any, *, seed: int = 0) -> np.ndarray:
    """Accept/reject record (bool, length N−1) of the independence-Metropolis chain over the samples.

    The chain starts at sample 0; sample i is accepted with probability min(1, w_i/w_current).
    """
    arr = _as_log_weights(log_w)
    rng = np.random.default_rng(seed)
    u = np.log(rng.random(max(arr.size - 1, 0))).tolist()
    values = arr.tolist()
    accepted = np.zeros(max(arr.size - 1, 0), dtype=bool)
    current = values[0]
    for i in range(1, arr.size):
        new = values[i]
        ok = math.isfinite(new) and (not math.isfinite(current) or u[i - 1] < new - current)
        if ok:
            accepted[i - 1] = True
            current = new
    return accepted


def acceptance(log_w: Any) -> float:
    """The equilibrium independence-Metropolis acceptance E_{p×q}[min(1, w'/w)] from N fresh samples.

    The U-statistic Σ_{i≠j} min(w_i, w_j) / ((N − 1) Σ_i w_i) (module docstring), computed in
    O(N log N) by sorting: with the weights in ascending order w_(1) ≤ … ≤ w_(N),
    Σ_{i≠j} min = 2 Σ_k (N − k) w_(k).  NaN for fewer than two samples or no finite weight.
    """
    arr = _as_log_weights(log_w)
    finite = np.sort(arr[np.isfinite(arr)])
    n = arr.size
    if n < 2 or finite.size == 0:
        return math.nan
    w = np.exp(finite - finite[-1])
    below = n - finite.size  # weights of −inf are 0: they add nothing to either sum
    ranks = np.arange(below + 1, n + 1, dtype=float)  # 1-based ranks of the finite weights among all n
    pairs = 2.0 * float(np.sum((n - ranks) * w))
    return float(pairs / ((n - 1) * float(w.sum())))


def acceptance_with_error(log_w: Any, *, n_boot: int = 200, seed: int = 0) -> tuple[float, float]:
    """:func:`acceptance` and its bootstrap standard error (``n_boot`` resamples of the N weights, seeded)."""
    arr = _as_log_weights(log_w)
    require(isinstance(n_boot, int) and n_boot >= 2, "n_boot", "must be an integer >= 2", n_boot)
    rng = np.random.default_rng(seed)
    boots = [acceptance(arr[rng.integers(0, arr.size, arr.size)]) for _ in range(n_boot)]
    return acceptance(arr), float(np.nanstd(boots, ddof=1))


def _gpd_shape(exceedances: np.ndarray) -> float:
    """Shape k of a generalized Pareto fit to positive exceedances (Zhang & Stephens 2009, profile
    posterior mean of θ = −k/σ on a grid, then k̂ = mean log(1 − θx), shrunk towards ½ with the
    weak prior of arXiv:1507.02646 App. C: k̂ ← (n k̂ + 5)/(n + 10)).  Positive k: heavy tail."""
    x = np.sort(exceedances)
    n = x.size
    m = 30 + int(math.sqrt(n))
    theta = 1.0 - np.sqrt(m / (np.arange(1, m + 1, dtype=float) - 0.5))
    theta = theta / (3.0 * x[int(n / 4 + 0.5) - 1]) + 1.0 / x[-1]
    k = np.log1p(-theta[:, None] * x).mean(axis=1)
    profile = n * (np.log(-theta / k) - k - 1.0)
    with np.errstate(over="ignore"):
        weights = 1.0 / np.exp(profile - profile[:, None]).sum(axis=1)
    weights /= weights.sum()
    theta_hat = float(np.sum(theta * weights))
    k_hat = float(np.log1p(-theta_hat * x).mean())
    return (n * k_hat + 10 * 0.5) / (n + 10)


def pareto_khat(log_w: Any) -> float:
    """Pareto shape k̂ of the upper tail of the importance weights (module docstring; NaN below 20 samples).

    k̂ < ½: finite variance of w; ½ ≤ k̂ < 0.7: infinite variance, slow convergence; k̂ ≥ 0.7:
    importance sampling and independence Metropolis over the flow cannot be trusted
    (arXiv:1507.02646 §3).  Checked on Pareto samples of known shape in the tests.
    """
    arr = _as_log_weights(log_w)
    finite = np.sort(arr[np.isfinite(arr)])
    n = finite.size
    if n < 20:
        return math.nan
    tail = int(min(0.2 * n, 3.0 * math.sqrt(n)))
    top = finite[-tail:]
    cut = finite[-tail - 1]
    exceed = np.exp(top - finite[-1]) - math.exp(cut - finite[-1])
    exceed = exceed[exceed > 0]
    if exceed.size < 5:
        return math.nan
    return _gpd_shape(exceed)
