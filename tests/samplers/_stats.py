"""Error estimates for the statistical sampler tests.

The Γ-method of :mod:`qlat.analysis.statistics` (pyerrors; independent chains as replicas);
:func:`chain_spread_error` is the independent cross-check from the spread of per-chain means.
"""

from __future__ import annotations

import math

import numpy as np


def mean_and_error(series) -> tuple[float, float]:
    """Mean and one-σ error of a Monte Carlo series of shape ``(n, chains)``."""
    arr = np.asarray(series.detach().numpy() if hasattr(series, "detach") else series, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    from qlat.analysis.statistics import gamma_estimate

    est = gamma_estimate(arr)
    return est.value, est.error


def chain_spread_error(series) -> tuple[float, float]:
    """Mean and error from the spread of independent per-chain means (no Γ-method)."""
    arr = np.asarray(series.detach().numpy() if hasattr(series, "detach") else series, dtype=float)
    chain_means = arr.mean(0)
    return float(chain_means.mean()), float(chain_means.std(ddof=1) / math.sqrt(arr.shape[1]))


def z_score(series, exact: float) -> float:
    mean, err = mean_and_error(series)
    assert err > 0, "a Monte Carlo error of zero means the chain did not move"
    return (mean - exact) / err
