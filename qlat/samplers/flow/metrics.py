r"""Quality metrics of a flow q against the target p ∝ e^{−S}: reweighting factors, ESS, acceptance.

With log-weights log w_i = −S(x_i) − log q(x_i) of N independent flow samples:

- effective sample size per sample (arXiv:2101.08176 eq. (27)):
  ESS = (Σ w)² / (N Σ w²) ∈ (0, 1], with a bootstrap error (resampling the N weights);
- independence-Metropolis acceptance: the chain x → x' (x' a fresh flow sample) accepted with
  min(1, w(x')/w(x)), run over the samples in order (the same test :class:`FlowSampler` makes).

Everything is plain numpy on float64 log-weights; errors of autocorrelated chain quantities
(acceptance, observables) come from the Γ-method in :mod:`qlat.analysis.statistics` (callers
above the samplers layer build those Estimates).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qlat.core.errors import require


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


def acceptance(log_w: Any, *, seed: int = 0) -> float:
    """Mean independence-Metropolis acceptance over the samples (NaN for a single sample)."""
    acc = independence_metropolis(log_w, seed=seed)
    return float(acc.mean()) if acc.size else math.nan
