"""Monte Carlo error analysis: every number an :class:`~qlat.core.estimate.Estimate`.

Primary observables
    :func:`gamma_estimate` — the Γ-method with automatic windowing (U. Wolff, "Monte Carlo errors
    with less errors", hep-lat/0306017), computed by **pyerrors**, the lattice community's
    implementation.  With the autocorrelation function Γ(t) of a series of length N,

        ρ(t) = Γ(t)/Γ(0),   τ_int(W) = ½ + Σ_{t=1}^{W} ρ(t),   σ²(Ā) = 2 τ_int Γ(0)/N,

    where the window W is the first t at which g(W) = exp(−W/τ_W) − τ_W/√(W N) turns negative,
    τ_W = S / ln[(2τ_int(W)+1)/(2τ_int(W)−1)] (Wolff eq. 52, S = 2 by default), with the bias
    correction of eq. (49) and the error of τ_int from eq. (42),
    δτ_int ≈ 2 τ_int √((W + ½ − τ_int)/N).  Independent chains are replicas of one ensemble: their
    autocorrelation functions are summed before the windowing, so they share one τ_int, and the
    fluctuations are taken about the mean over all chains (as in Wolff's UWerr), so chains that
    disagree (have not mixed) raise the error instead of hiding in per-chain means.

Derived quantities
    :func:`derived_estimate` — f(⟨A₁⟩, ⟨A₂⟩, …), e.g. χ₂ = V(⟨m²⟩ − ⟨m⟩²), ⟨Q²⟩/V or an effective
    mass log(G(t)/G(t+1)).  The error is linear propagation through the Γ-method: the projected
    fluctuations Σ_i ∂f/∂Ā_i δA_i are analysed as one series (Wolff section 3.2), by pyerrors'
    ``derived_observable`` with the gradient from automatic differentiation (autograd).  ``fn``
    receives the means as scalars and may use arithmetic and numpy functions (``np.log``,
    ``np.exp``, ``np.sqrt`` …), which autograd traces.  If autograd cannot trace ``fn`` the
    gradient is taken by central finite differences instead; the provenance says which.

    :func:`jackknife_estimate` and :func:`bootstrap_estimate` are the binned resampling checks of
    the same quantity.  They are a few lines of our own on plain arrays: pyerrors' jackknife and
    bootstrap export works on its own ``Obs`` type with unbinned samples, whereas here the bins
    (which must be longer than τ_int for honest errors) are what matters.

Ensembles
    :func:`ensemble_series` evaluates the classical realizations of observables (registered on
    :mod:`qlat.core.observable_catalogue`) on a stored :class:`~qlat.core.ensemble.Ensemble`, block by
    block, and :func:`ensemble_estimates` turns them into Estimates (what ``qlat measure`` prints).

Independence-Metropolis chains (flows)
    Every proposal of an independence sampler is a fresh draw from q, so an observable decorrelates
    when the chain moves, and long runs of rejections are what make ρ(t) decay slowly — a tail the
    Γ-method's automatic window cuts.  :class:`IndependenceDiagnostics` reads the chain's rejection
    runs and the importance weights of its proposals and bounds τ_int from below
    (τ_repeat from the runs, 1/ESS − ½ from the weights); :func:`independence_chain_estimate` raises
    τ_int to that bound and warns (stderr and JSON) when the weights are heavy-tailed (Pareto
    k̂ ≥ ½: infinite variance, τ_int infinite), when a chain has fewer than 20 samples per τ_int, or
    when it discarded fewer than 5 τ_int after its start.  Measured on independence chains over
    fresh samples of 22 tiny trained flows (10 U(1) 4×4 flows, β = 1–6; 12 φ⁴ 4×4 flows, free and
    interacting; 10 runs of each of 3–4 chain shapes, 4–16 chains of 250–4000 samples; exact or
    long-HMC answers): the Γ-method alone covered |z| ≤ 2 for 84 % (U(1)) and 67 % (φ⁴) of the
    points it did not warn about; with the bound and these warnings, 92 % of the unwarned U(1)
    points (91 of 584) and 91 % of all unwarned points (106 of 1904).  Tiny φ⁴ flows nearly always
    have k̂ ≥ ½ and warn.
    :func:`ensemble_estimates` applies this to every ensemble whose sampler declares
    ``independent_proposals`` (the flow sampler).

Chain-level checks (every ensemble)
    :func:`repeat_bound_estimate` raises τ_int to τ_repeat of runs of repeated configurations and
    warns when the chains stayed put too long (an HMC with acceptance 0.008 gave ⟨Q²⟩ 21σ off with a
    windowed τ_int of 22, unwarned, before); :func:`gamma_estimate` warns when a series with few
    distinct values changed value fewer than :data:`MIN_VALUE_CHANGES` times (a frozen topological
    charge, 13σ off with τ_int = 1 before); :func:`slowest_mode_warnings` warns every observable of a
    set of chains too short for the slowest one measured on them.  Measured effect on the
    calibration of HMC, heatbath and local Metropolis (:mod:`qlat.analysis.calibration.montecarlo`,
    full size): |z| ≤ 2 for 90 %, 95 %, 91 % of the unwarned points before, 92 %, 97 %, 93 % after.

Degenerate cases
    A series whose entries are all equal gets error = inf, τ_int unknown and a ``warning`` in the
    provenance (a chain that never moved must not look exact); an empty, too short (fewer than 5 samples per chain) or non-finite series
    raises :class:`~qlat.core.errors.ParameterError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from qlat.core.errors import require, require_int, warn
from qlat.core.estimate import Estimate

#: Below this many samples per integrated autocorrelation time (per chain) the Γ-method error is
#: flagged as unreliable (Wolff hep-lat/0306017 recommends N ≫ τ_int; 20 is a common floor).
MIN_SAMPLES_PER_TAU = 20

#: A series with few distinct values (a topological charge, Q²) must change value at least this many
#: times, all chains together, for its Γ-method error to mean anything: a charge that stays in one
#: sector in every chain shows a tiny τ_int and error however wrong its mean (measured: local
#: Metropolis at β = 3.9 on 4×4, 8 chains × 100 sweeps, ⟨Q²⟩ 13σ below the exact value, τ_int = 1).
MIN_VALUE_CHANGES = 20

#: Provenance warning of an Estimate from a series that never changed.
CONSTANT_WARNING = ("constant series: the chains did not move (or the observable is constant); "
                    "no error can be estimated")
#: The smallest number of samples per chain pyerrors accepts.
MIN_SAMPLES_PER_CHAIN = 5

_ENSEMBLE = "qlat"


def as_series(samples: Any, *, parameter: str = "samples") -> np.ndarray:
    """``samples`` as a float64 array of shape ``(n, chains)``, validated.

    Accepts a 1-d series ``(n,)`` (one chain), a 2-d array ``(n, chains)`` or anything numpy can
    convert (lists, CPU torch tensors).  Raises :class:`ParameterError` for other shapes, fewer
    than 5 samples per chain or non-finite entries.
    """
    if hasattr(samples, "detach"):  # torch tensor
        samples = samples.detach().cpu().numpy()
    arr = np.asarray(samples, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    require(arr.ndim == 2, parameter, "must have shape (n,) or (n, chains)", arr.shape)
    require(arr.shape[1] >= 1, parameter, "needs at least one chain", arr.shape)
    require(
        arr.shape[0] >= MIN_SAMPLES_PER_CHAIN,
        parameter,
        f"needs at least {MIN_SAMPLES_PER_CHAIN} samples per chain",
        arr.shape,
    )
    require(bool(np.all(np.isfinite(arr))), parameter, "must be finite (found NaN or inf)")
    return arr


def _pyerrors():
    """pyerrors, imported lazily (about 1 s) and without its scipy.odr deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyerrors

    return pyerrors


def _obs(series: np.ndarray):
    """A pyerrors ``Obs`` with one replica per chain, fluctuations taken about the *pooled* mean.

    pyerrors' default takes each replica's fluctuations about that replica's own mean, which
    drops the spread between the chain means from Γ(0).  Chains that have not mixed (e.g. each
    stuck in its own topological sector, so that Q² is constant within every chain) would then
    get a tiny or zero error.  Like Wolff's UWerr we use δa = a − ā with ā the mean over all
    chains, so an unmixed set of chains shows up as a long autocorrelation and a large error.
    The Obs is built the way pyerrors builds its own derived observables (fluctuations plus
    ``means``, then the central value set explicitly).
    """
    pe = _pyerrors()
    chains = series.shape[1]
    mean = float(series.mean())
    names = [f"{_ENSEMBLE}|r{c}" for c in range(chains)]
    obs = pe.Obs([series[:, c] - mean for c in range(chains)], names, means=[mean] * chains)
    obs._value = mean
    return obs


def _gamma(obs, S: float) -> tuple[float, float, float, float, int]:
    """Run the Γ-method on ``obs``; returns value, error, τ_int, δτ_int, window."""
    obs.gamma_method(S=S)
    if obs.dvalue == 0.0:
        return float(obs.value), 0.0, 0.5, 0.0, 0
    return (
        float(obs.value),
        float(obs.dvalue),
        float(obs.e_tauint[_ENSEMBLE]),
        float(obs.e_dtauint[_ENSEMBLE]),
        int(obs.e_windowsize[_ENSEMBLE]),
    )


def _check_S(S: float) -> None:
    require(isinstance(S, (int, float)) and S > 0 and math.isfinite(S), "S", "must be a number > 0", S)


def gamma_estimate(
    samples: Any,
    *,
    name: str = "",
    unit: str = "",
    backend: str = "",
    S: float = 2.0,
    provenance: Mapping[str, Any] | None = None,
    check_changes: bool = True,
    ensemble: str | None = None,
    first: int = 0,
) -> Estimate:
    """Mean of a Monte Carlo series with its Γ-method error and integrated autocorrelation time.

    Parameters
    ----------
    samples:
        Shape ``(n,)`` (one chain) or ``(n, chains)``; chains are independent replicas of one
        ensemble (hep-lat/0306017 section 3.3).  At least 5 samples per chain.
    name, unit, backend, provenance:
        Copied into the :class:`Estimate`.
    S:
        Wolff's windowing parameter (eq. 52); S ≈ 1–2 is the usual range.
    check_changes:
        Warn when a series with few distinct values changed value fewer than
        :data:`MIN_VALUE_CHANGES` times (off for an acceptance record, whose rare rejections are
        counts, not a frozen mode).
    ensemble, first:
        The identity of the ensemble the series was measured on (e.g. its checksum) and the index
        of its first configuration: the estimate then carries its Monte Carlo history
        (:attr:`Estimate.history`, a pyerrors ``Obs`` with replicas ``ensemble|r<chain>`` and
        configurations ``first, first+1, …``), so that arithmetic between two estimates of one
        ensemble keeps their correlation (``P - P`` has error 0).

    Returns
    -------
    Estimate
        ``value`` = mean over all samples, ``error`` = σ from eq. (44) with the automatic window,
        ``tau_int`` and ``tau_int_error`` in units of the sample spacing, ``n_samples`` = n·chains.
        A constant Monte Carlo series gives **no** error estimate: error = inf, τ_int unknown
        (``None``) and a ``warning`` in the provenance — a chain that never moved (acceptance 0,
        topology frozen in every chain) must not look exact.
    """
    _check_S(S)
    series = as_series(samples)
    n_total = int(series.size)
    record = {"method": "gamma", "S": float(S), "chains": int(series.shape[1]), **dict(provenance or {})}
    label = name or "observable"
    if np.ptp(series) == 0.0:
        warn(f"{label}: {CONSTANT_WARNING}")
        return Estimate(
            float(series[0, 0]), math.inf, name=name, unit=unit, tau_int=None, tau_int_error=None,
            n_samples=n_total, backend=backend, provenance={**record, "window": 0, "warning": CONSTANT_WARNING},
        )
    value, error, tau, dtau, window = _gamma(_obs(series), S)
    extra: dict[str, Any] = {}
    n_per_chain = series.shape[0]
    if tau > 0 and n_per_chain / tau < MIN_SAMPLES_PER_TAU:
        extra["warning"] = (f"only {n_per_chain / tau:.1f} samples per τ_int per chain (< {MIN_SAMPLES_PER_TAU}): "
                            "the error and τ_int are unreliable; run longer")
        warn(f"{label}: {extra['warning']}")
    changes = int(np.count_nonzero(series[1:] != series[:-1]))
    if check_changes and changes < MIN_VALUE_CHANGES and np.unique(series).size <= max(2, series.size // 20):
        extra["warning_changes"] = (f"the series changed value only {changes} times in {series.shape[1]} chains "
                                    f"(< {MIN_VALUE_CHANGES}; it takes {np.unique(series).size} values): a rarely "
                                    "changing observable (a frozen topological charge) has no reliable error; run longer")
        warn(f"{label}: {extra['warning_changes']}")
    return Estimate(
        value, error, name=name, unit=unit, tau_int=tau, tau_int_error=dtau,
        n_samples=n_total, backend=backend, provenance={**record, "window": window, **extra},
        history=None if ensemble is None else mc_history(series, ensemble=ensemble, first=first, error=error, S=S),
    )


def mc_history(series: np.ndarray, *, ensemble: str, first: int = 0, error: float | None = None,
               S: float = 2.0) -> Any:
    """The Monte Carlo history of an ``(n, chains)`` series for :attr:`Estimate.history`: one
    pyerrors replica ``ensemble|r<c>`` per chain, configurations numbered from ``first + 1``
    (pyerrors correlates two Obs through these names); built into an Obs when first used."""
    from qlat.core.estimate_algebra import DeferredHistory

    n, chains = series.shape
    tag = str(ensemble).replace("|", "/")
    return DeferredHistory([np.array(series[:, c], dtype=np.float64) for c in range(chains)],
                           [f"{tag}|r{c}" for c in range(chains)], [range(first + 1, first + n + 1)] * chains,
                           error=error, S=S)


def _prepare(series: Sequence[Any]) -> list[np.ndarray]:
    require(len(series) >= 1, "series", "needs at least one series")
    arrays = [as_series(s, parameter=f"series[{i}]") for i, s in enumerate(series)]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        require(a.shape == shape, f"series[{i}]", f"must have the shape of series[0] {shape}", a.shape)
    return arrays


def _scalar(fn: Callable[..., Any], means: "Sequence[float] | np.ndarray") -> float:
    out = np.asarray(fn(*means), dtype=np.float64)
    require(out.shape == (), "fn", "must return one number", out.shape)
    return float(out)


def _numeric_gradient(fn: Callable[..., Any], means: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Central finite differences of ``fn`` at ``means`` (step 1e-4 of each series' spread)."""
    grad = np.empty(len(means))
    for i in range(len(means)):
        h = 1e-4 * (scales[i] if scales[i] > 0 else max(abs(means[i]), 1.0))
        up, down = means.copy(), means.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (_scalar(fn, up) - _scalar(fn, down)) / (2 * h)
    return grad


def derived_estimate(
    fn: Callable[..., Any],
    *series: Any,
    name: str = "",
    unit: str = "",
    backend: str = "",
    S: float = 2.0,
    provenance: Mapping[str, Any] | None = None,
) -> Estimate:
    """``fn(⟨A₁⟩, ⟨A₂⟩, …)`` with its Γ-method error (linear error propagation, hep-lat/0306017 §3.2).

    Parameters
    ----------
    fn:
        Function of the means, one scalar argument per series, returning one number; written
        with arithmetic and numpy functions so that autograd can differentiate it, e.g.
        ``lambda m, m2: V * (m2 - m**2)`` or ``lambda g0, g1: np.log(g0 / g1)``.
    series:
        The primary series, each ``(n,)`` or ``(n, chains)``, all of the same shape and measured on
        the same configurations (their correlations enter the error).
    name, unit, backend, S, provenance:
        As in :func:`gamma_estimate`.

    Returns
    -------
    Estimate
        value = ``fn`` of the means, error and τ_int of the projected fluctuations.
    """
    _check_S(S)
    arrays = _prepare(series)
    means = np.array([a.mean() for a in arrays])
    value = _scalar(fn, means)
    require(math.isfinite(value), "fn", "is not finite at the sample means", value)
    n_total = int(arrays[0].size)
    record = {"method": "gamma-derived", "S": float(S), "chains": int(arrays[0].shape[1]),
              **dict(provenance or {})}
    if all(np.ptp(a) == 0.0 for a in arrays):
        return Estimate(value, math.inf, name=name, unit=unit, tau_int=None, tau_int_error=None,
                        n_samples=n_total, backend=backend,
                        provenance={**record, "window": 0, "warning": CONSTANT_WARNING})

    pe = _pyerrors()
    observables = [_obs(a) for a in arrays]
    gradient = "autograd"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            derived = pe.derived_observable(lambda x, **kw: fn(*x), observables)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        # fn is not traceable by autograd (e.g. it converts to float): finite differences.
        gradient = "finite-difference"
        scales = np.array([a.std() for a in arrays])
        grad = _numeric_gradient(fn, means, scales)
        derived = pe.derived_observable(
            lambda x, **kw: np.float64(fn(*x)), observables, man_grad=list(grad)
        )
    val, error, tau, dtau, window = _gamma(derived, S)
    return Estimate(
        value, error, name=name, unit=unit, tau_int=tau, tau_int_error=dtau, n_samples=n_total,
        backend=backend, provenance={**record, "window": window, "gradient": gradient},
    )


def _bin_means(arrays: list[np.ndarray], n_bins: int) -> np.ndarray:
    """Bin means, shape ``(n_bins·chains, n_series)``; the first ``n mod n_bins`` samples dropped."""
    n, chains = arrays[0].shape
    require(isinstance(n_bins, (int, np.integer)) and 2 <= n_bins <= n, "n_bins",
            f"must be an integer in [2, {n}] (bins per chain)", n_bins)
    size = n // n_bins
    start = n - size * n_bins
    out = []
    for a in arrays:
        binned = a[start:].reshape(n_bins, size, chains).mean(axis=1)  # (n_bins, chains)
        out.append(binned.T.reshape(-1))
    return np.stack(out, axis=1)


def jackknife_estimate(
    fn: Callable[..., Any],
    *series: Any,
    n_bins: int = 20,
    name: str = "",
    unit: str = "",
    backend: str = "",
    provenance: Mapping[str, Any] | None = None,
) -> Estimate:
    """``fn(⟨A₁⟩, …)`` with a binned (blocked) jackknife error.

    Each chain is cut into ``n_bins`` bins of equal length b = ⌊n/n_bins⌋ (the first n mod n_bins
    samples are dropped); with K = n_bins·chains bins and f_k the function of the means without
    bin k, σ² = (K−1)/K Σ_k (f_k − f̄)².  Honest only when b ≫ τ_int.  The value is ``fn`` of the
    full means (no bias correction, like :func:`derived_estimate`).
    """
    arrays = _prepare(series)
    value = _scalar(fn, [a.mean() for a in arrays])
    bins = _bin_means(arrays, n_bins)
    k = bins.shape[0]
    total = bins.sum(axis=0)
    leave_out = (total[None, :] - bins) / (k - 1)
    f = np.array([_scalar(fn, row) for row in leave_out])
    error = math.sqrt((k - 1) / k * float(np.sum((f - f.mean()) ** 2)))
    record = {"method": "jackknife", "bins": k, "bin_size": arrays[0].shape[0] // n_bins,
              **dict(provenance or {})}
    return Estimate(value, error, name=name, unit=unit, n_samples=int(arrays[0].size),
                    backend=backend, provenance=record)


def bootstrap_estimate(
    fn: Callable[..., Any],
    *series: Any,
    n_boot: int = 1000,
    n_bins: int = 20,
    seed: int = 0,
    name: str = "",
    unit: str = "",
    backend: str = "",
    provenance: Mapping[str, Any] | None = None,
) -> Estimate:
    """``fn(⟨A₁⟩, …)`` with a binned (block) bootstrap error.

    The K = n_bins·chains bins (as in :func:`jackknife_estimate`) are resampled with replacement
    ``n_boot`` times with a generator seeded by ``seed``; the error is the standard deviation
    (ddof = 1) of ``fn`` over the resamples.  The value is ``fn`` of the full means.
    """
    require_int(n_boot, "n_boot", minimum=2)
    require_int(seed, "seed", minimum=0)
    arrays = _prepare(series)
    value = _scalar(fn, [a.mean() for a in arrays])
    bins = _bin_means(arrays, n_bins)
    k = bins.shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, k, size=(n_boot, k))
    resampled = bins[idx].mean(axis=1)  # (n_boot, n_series)
    f = np.array([_scalar(fn, row) for row in resampled])
    error = float(np.std(f, ddof=1))
    record = {"method": "bootstrap", "bins": k, "n_boot": int(n_boot), "seed": int(seed),
              **dict(provenance or {})}
    return Estimate(value, error, name=name, unit=unit, n_samples=int(arrays[0].size),
                    backend=backend, provenance=record)


# --------------------------------------------------------------------------- independence-Metropolis chains
#: An independence-Metropolis chain (every proposal a fresh draw from q, e.g. a normalizing flow)
#: should discard at least this many τ_int after its start.  Measured over 4000 chains of tiny U(1)
#: and φ⁴ flows with light-tailed weights (Pareto k̂ < ½): from a bare flow sample the bias of the
#: mean falls from 0.3–1.0 σ (σ the observable's spread) below 0.1 σ after ≈ 2–3 τ_repeat and to the
#: 0.05 σ noise floor after ≈ 5 τ_repeat; the importance-resampled start of the flow sampler starts
#: at 0.05–0.1 σ.  With heavy-tailed weights the bias lasted the whole 600 updates measured — those
#: chains are warned for their tails.
THERMALIZATION_PER_TAU = 5


def repeat_record(configurations: Any) -> np.ndarray:
    """``stay[i, c]``: sample i of chain c equals sample i − 1 bit for bit (``stay[0] = False``).

    ``configurations`` has shape ``(n, chains, *field_shape)``.  For an independence sampler a
    repeated configuration is a rejected proposal (the proposals are continuous, so an accepted one
    differs from the current state), whatever the thinning ``every``.
    """
    if hasattr(configurations, "detach"):
        configurations = configurations.detach().cpu().numpy()
    arr = np.asarray(configurations)
    require(arr.ndim >= 2, "configurations", "must have shape (n, chains, ...)", arr.shape)
    n, chains = arr.shape[:2]
    flat = arr.reshape(n, chains, -1)
    stay = np.zeros((n, chains), dtype=bool)
    if n > 1:
        stay[1:] = np.all(flat[1:] == flat[:-1], axis=-1)
    return stay


def _runs(stay_chain: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a 1-d boolean array."""
    edges = np.diff(np.concatenate([[0], stay_chain.astype(np.int8), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


class IndependenceDiagnostics:
    r"""What an independence-Metropolis chain tells about its own autocorrelation (no exact answer used).

    For an independence sampler every accepted proposal is a fresh draw from q, so an observable
    decorrelates once the chain moves: its autocorrelation ρ(t) is (for an observable not
    correlated with the weight) the probability that the chain stayed put t times in a row.  The
    sum of those probabilities is read off the runs of repeated samples without any window,

    .. math:: τ_\text{repeat} = \tfrac12 + \frac{1}{N}\sum_\text{runs} \frac{ℓ(ℓ + 1)}{2},

    and, with w = p/q the importance weights of the proposals and ESS = (Σw)²/(NΣw²), the mean
    holding time obeys E_p[1/(1 − r(x))] ≥ E_p[w]/E_q[w] = 1/ESS, so

    .. math:: τ_\text{int} ≳ τ_\text{bound} = \max\big(τ_\text{repeat},\ 1/\mathrm{ESS} − \tfrac12\big).

    When the weights have infinite variance (Pareto tail shape k̂ ≥ ½,
    :func:`qlat.samplers.flow.metrics.pareto_khat`), E_p[w] = ∞ and τ_int is infinite: no error bar
    from such a chain can be trusted, whatever its length.
    """

    def __init__(self, stay: Any, *, proposal_log_weights: Any = None, thermalization: int | None = None,
                 flow_pareto_k: float | None = None) -> None:
        from qlat.samplers.flow.metrics import ess, pareto_khat

        stay = np.asarray(stay, dtype=bool)
        if stay.ndim == 1:
            stay = stay[:, None]
        require(stay.ndim == 2 and stay.shape[0] >= 2, "stay", "must have shape (n >= 2, chains)", stay.shape)
        n, chains = stay.shape
        record = stay[1:]  # the first sample has no predecessor in the record
        self.samples_per_chain = int(n)
        self.chains = int(chains)
        self.acceptance = float(1.0 - record.mean())
        self.moves_per_chain = int((~record).sum(axis=0).min())
        runs = [_runs(record[:, c]) for c in range(chains)]
        lengths = np.concatenate(runs) if runs else np.zeros(0, dtype=int)
        self.longest_repeat = int(lengths.max()) if lengths.size else 0
        self.tau_repeat = float(0.5 + np.sum(lengths * (lengths + 1) / 2.0) / record.size)
        self.thermalization = None if thermalization is None else int(thermalization)
        self.note: str | None = None  # why a piece of information is missing, if one is
        self.proposals: int | None = None
        self.ess: float | None = None
        self.pareto_k: float | None = None
        #: k̂ of the flow measured when it was trained (``qlat flow train``: 4096 fresh samples), if known
        self.flow_pareto_k = None if flow_pareto_k is None or not math.isfinite(flow_pareto_k) else float(flow_pareto_k)
        if proposal_log_weights is not None:
            lw = np.asarray(proposal_log_weights, dtype=np.float64).reshape(-1)
            if lw.size >= 2:
                self.proposals = int(lw.size)
                self.ess = float(ess(lw))
                k = pareto_khat(lw)
                self.pareto_k = None if math.isnan(k) else float(k)

    @property
    def tau_bound(self) -> float:
        """max(τ_repeat, 1/ESS − ½): a lower bound on τ_int of a generic observable (class docstring)."""
        bound = self.tau_repeat
        if self.ess is not None and self.ess > 0:
            bound = max(bound, 1.0 / self.ess - 0.5)
        return bound

    def warnings(self, tau_int: float | None = None) -> list[str]:
        """Every reason the Γ-method error of an observable with τ_int = ``tau_int`` cannot be trusted."""
        from qlat.samplers.flow.metrics import HEAVY_TAIL_K

        out: list[str] = []
        if self.pareto_k is not None and self.pareto_k >= HEAVY_TAIL_K:
            out.append(f"independence sampler: the importance weights of its {self.proposals} proposals are "
                       f"heavy-tailed (Pareto k = {self.pareto_k:.2f} >= {HEAVY_TAIL_K}: infinite variance), so "
                       "τ_int is infinite and no error from this chain can be trusted; use a better flow")
        elif self.flow_pareto_k is not None and self.flow_pareto_k >= HEAVY_TAIL_K:
            out.append(f"independence sampler: the flow's importance weights were heavy-tailed when it was evaluated "
                       f"(Pareto k = {self.flow_pareto_k:.2f} >= {HEAVY_TAIL_K}: infinite variance), so τ_int is "
                       "infinite and no error from this chain can be trusted, even where this run's proposals "
                       "happen to miss the tail; use a better flow")
        tau = max(self.tau_bound, tau_int or 0.0)
        if self.samples_per_chain / tau < MIN_SAMPLES_PER_TAU:
            out.append(f"independence sampler: only {self.samples_per_chain / tau:.1f} samples per τ_int per chain "
                       f"(< {MIN_SAMPLES_PER_TAU}; τ_int >= {tau:.1f} from the rejection runs and the ESS of the "
                       f"proposals, acceptance {self.acceptance:.3f}): the error is unreliable; run longer")
        if self.thermalization is not None and self.thermalization < THERMALIZATION_PER_TAU * tau:
            out.append(f"independence sampler: the chain discarded {self.thermalization} updates after its start, "
                       f"fewer than {THERMALIZATION_PER_TAU} τ_int (τ_int >= {tau:.1f}): the start from a flow "
                       "sample may bias the mean; thermalize longer")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"samples_per_chain": self.samples_per_chain, "chains": self.chains, "acceptance": self.acceptance,
                "moves_per_chain_min": self.moves_per_chain, "longest_repeat": self.longest_repeat,
                "tau_repeat": self.tau_repeat, "tau_bound": self.tau_bound, "proposals": self.proposals,
                "ess": self.ess, "pareto_k": self.pareto_k, "flow_pareto_k": self.flow_pareto_k,
                "thermalization": self.thermalization,
                **({"note": self.note} if self.note else {})}


def independence_chain_estimate(estimate: Estimate, diagnostics: IndependenceDiagnostics, *,
                                emit: bool = True) -> Estimate:
    r"""The Γ-method ``estimate`` of an independence-Metropolis chain with τ_int raised to the chain's bound.

    τ = max(τ_Γ, τ_bound) (:class:`IndependenceDiagnostics`): the automatic window of the Γ-method
    cuts the slowly decaying tail that long rejection runs give ρ(t), so the error is scaled by
    √(τ/τ_Γ).  Every reason in :meth:`IndependenceDiagnostics.warnings` is attached with
    :meth:`Estimate.with_warning` (stderr and JSON).  The Γ-method values stay in the provenance.
    """
    tau_gamma = estimate.tau_int
    out = estimate
    record: dict[str, Any] = {"independence_chain": diagnostics.to_dict()}
    if tau_gamma is not None and tau_gamma > 0 and math.isfinite(estimate.error):
        tau = max(tau_gamma, diagnostics.tau_bound)
        scale = math.sqrt(tau / tau_gamma)
        record.update(tau_int_gamma=tau_gamma, error_gamma=estimate.error)
        from dataclasses import replace

        out = replace(estimate, error=estimate.error * scale, tau_int=tau,
                      tau_int_error=None if estimate.tau_int_error is None else estimate.tau_int_error * tau / tau_gamma)
    out = out.with_provenance(**record)
    for message in diagnostics.warnings(tau_gamma):
        out = out.with_warning(message, emit=emit)
    return out


def ensemble_series(ensemble: Any, names: Sequence[str], *, skip: int = 0) -> dict[str, tuple[Any, np.ndarray]]:
    """Per-configuration values of the observables ``names`` on an ensemble, read block by block.

    Returns ``{name: (realization, values)}`` with ``values`` of shape ``(n − skip, chains, ...)``
    (a :class:`~qlat.theories.observables.DerivedRealization` gives its primaries on the last
    axis).  Raises :class:`ParameterError` for a name that is unknown or not realized on the
    ensemble's theory (the message lists the observables that are), or a bad ``skip``.
    """
    import torch

    from qlat.core.errors import ParameterError
    from qlat.core.observable_registry import OBSERVABLES
    from qlat.samplers.stored import stored_theory

    theory = stored_theory(ensemble)
    n, chains = ensemble.n_samples, ensemble.chains
    require_int(skip, "skip", minimum=0)
    require(n - skip >= MIN_SAMPLES_PER_CHAIN, "skip",
            f"must leave at least {MIN_SAMPLES_PER_CHAIN} samples per chain (the ensemble has {n})", skip)
    known = sorted(o.name for o in OBSERVABLES.supported_on(theory))
    realizations: dict[str, Any] = {}
    for name in names:
        if name not in known:
            raise ParameterError(
                "observable", f"unknown or not realized on {theory.name}; known: {', '.join(known)}", name,
                hint="a new one is qlat.core.observable_registry.define(...) plus a realization on this theory, in a module "
                "that is imported before use; docs/architecture.md#add-an-observable",
            )
        realizations[name] = OBSERVABLES.get(name).realize(theory)
    shape = ensemble.field_shape
    row_bytes = 8 * chains * int(np.prod(shape, dtype=np.int64))
    block = max(1, (64 << 20) // max(row_bytes, 1))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    configs = ensemble.configurations
    for start in range(skip, n, block):
        rows = configs[start : min(start + block, n)]
        m = rows.shape[0]
        fields = torch.from_numpy(np.ascontiguousarray(rows)).reshape(m * chains, *shape)
        with torch.no_grad():
            for name, realization in realizations.items():
                values = realization(fields)
                values = values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
                parts[name].append(values.reshape(m, chains, *values.shape[1:]))
    return {name: (realizations[name], np.concatenate(parts[name], axis=0)) for name in names}


def repeat_bound_estimate(estimate: Estimate, stay: Any, *, emit: bool = True) -> Estimate:
    """``estimate`` of any Markov chain with τ_int raised to τ_repeat of its repeated samples.

    While a chain stays put (rejected HMC trajectories, sweeps with no accepted update) every
    observable is constant, so runs of repeats contribute at least τ_repeat = ½ + Σ ℓ(ℓ+1)/(2N)
    (:class:`IndependenceDiagnostics`) to τ_int, without any window.  Where τ_repeat exceeds the
    Γ-method's τ_int the error is scaled by √(τ_repeat/τ_Γ), and fewer than
    :data:`MIN_SAMPLES_PER_TAU` samples per τ_repeat per chain warn (measured: HMC with acceptance
    0.008, 2 chains × 500, gave ⟨Q²⟩ 21σ off with τ_Γ = 22; τ_repeat = 125 says so).  Harmless where
    chains move: τ_repeat ≈ ½ then.
    """
    stay = np.asarray(stay, dtype=bool)
    if stay.ndim == 1:
        stay = stay[:, None]
    if stay.shape[0] < 2 or estimate.tau_int is None or not math.isfinite(estimate.error):
        return estimate
    record = stay[1:]
    runs = [_runs(record[:, c]) for c in range(record.shape[1])]
    lengths = np.concatenate(runs)
    tau_repeat = float(0.5 + np.sum(lengths * (lengths + 1) / 2.0) / record.size)
    out = estimate.with_provenance(tau_repeat=tau_repeat, moved=float(1.0 - record.mean()))
    if tau_repeat > estimate.tau_int > 0:
        from dataclasses import replace

        out = replace(out, error=estimate.error * math.sqrt(tau_repeat / estimate.tau_int), tau_int=tau_repeat,
                      provenance={**out.provenance, "tau_int_gamma": estimate.tau_int,
                                  "error_gamma": estimate.error})
    n = stay.shape[0]
    if n / tau_repeat < MIN_SAMPLES_PER_TAU:
        out = out.with_warning(f"the chains stayed put for long runs (they moved on {1.0 - record.mean():.3f} of "
                               f"the samples): only {n / tau_repeat:.1f} samples per τ_int per chain "
                               f"(< {MIN_SAMPLES_PER_TAU}, τ_int >= {tau_repeat:.1f}); the error is unreliable",
                               emit=emit)
    return out


def slowest_mode_warnings(estimates: Mapping[str, Estimate], samples_per_chain: int, *,
                          emit: bool = True) -> dict[str, Estimate]:
    """Warn every estimate of a set of chains when the slowest observable measured on them has fewer than
    :data:`MIN_SAMPLES_PER_TAU` samples per τ_int per chain.

    A chain too short for one of its modes has not sampled that mode, and every observable that
    couples to it inherits the bias without seeing it in its own τ_int (measured: HMC on 6×6 U(1) at
    β = 3.9, 2 chains × 250: ⟨Q²⟩ τ_int = 37 warned, the plaquette τ_int = 4.8 did not and sat
    3.9σ off).  The acceptance record is left out of the comparison.
    """
    taus = [(key, est.tau_int) for key, est in estimates.items()
            if key != "acceptance" and est.tau_int is not None and math.isfinite(est.tau_int)]
    if not taus:
        return dict(estimates)
    key, tau = max(taus, key=lambda item: item[1])
    if samples_per_chain / tau >= MIN_SAMPLES_PER_TAU:
        return dict(estimates)
    out: dict[str, Estimate] = {}
    for name, est in estimates.items():
        if name == key or est.tau_int is None or samples_per_chain / est.tau_int < MIN_SAMPLES_PER_TAU:
            out[name] = est  # it has its own warning
            continue
        out[name] = est.with_warning(f"the slowest observable on the same chains ({key}, τ_int = {tau:.1f}) has only "
                                     f"{samples_per_chain / tau:.1f} samples per τ_int per chain (< "
                                     f"{MIN_SAMPLES_PER_TAU}): modes it sees slowly may bias this one too; run longer",
                                     emit=emit)
    return out


def ensemble_independence_diagnostics(ensemble: Any, *, skip: int = 0) -> "IndependenceDiagnostics | None":
    """:class:`IndependenceDiagnostics` of a stored chain whose sampler has independent proposals (a flow).

    ``None`` for any other sampler.  The rejection runs come from repeated configurations (any
    ``every``); the proposals' weights are rebuilt from the ΔH record when ``every = 1`` and the model
    the sampler names can be loaded (:meth:`~qlat.samplers.flow.sampler.FlowSampler.recorded_proposal_log_weights`),
    else they are left out (and the provenance says why).  The thermalization counted is the
    sampler's plus ``skip`` · ``every`` updates.
    """
    import torch

    from qlat.core.errors import ParameterError
    from qlat.core.registry import SAMPLERS

    params = dict(ensemble.sampler_params)
    try:
        cls = SAMPLERS.get(str(params.get("name")), parameter="sampler")
    except ParameterError:
        return None
    if not getattr(cls, "independent_proposals", False):
        return None
    n = ensemble.n_samples
    configs = ensemble.configurations
    stay = ensemble_repeats(ensemble, skip=skip)
    every = int(params.get("every", 1))
    thermalization = int(params.get("thermalization", 0)) + int(skip) * every
    proposals = None
    flow_k = None
    note = None
    try:
        from qlat.samplers.base import sampler_from_params
        from qlat.samplers.stored import stored_theory

        sampler: Any = sampler_from_params(params)
        flow_k = sampler.evaluated_pareto_k()
        if every != 1:
            note = "proposal weights not recorded: the chain was thinned (every > 1)"
        else:
            first = torch.from_numpy(np.ascontiguousarray(configs[skip]))
            rows = slice(skip + 1, n)
            proposals = sampler.recorded_proposal_log_weights(stored_theory(ensemble), first,
                                                              ensemble.delta_h[rows], ensemble.acceptance[rows])
    except (ParameterError, OSError, ValueError) as exc:
        note = f"proposal weights unavailable ({exc})"
    diagnostics = IndependenceDiagnostics(stay, proposal_log_weights=proposals, thermalization=thermalization,
                                          flow_pareto_k=flow_k)
    diagnostics.note = note
    return diagnostics


def ensemble_estimates(
    ensemble: Any,
    names: Sequence[str],
    *,
    skip: int = 0,
    S: float = 2.0,
) -> dict[str, Estimate]:
    """Γ-method estimates of observables on a stored :class:`~qlat.core.ensemble.Ensemble`.

    The first ``skip`` samples of every chain are dropped (thermalization cut).  A scalar
    observable gives one Estimate under its name; a derived one (χ₂) is propagated with
    :func:`derived_estimate`; an observable with more values per configuration (Wilson loops,
    the two-point function) gives one Estimate per component, named ``name[i,j,...]``.
    ``"acceptance"`` may be asked for too: the mean of the stored acceptance record.

    One-flavour fermions (a theory with ``nf == 1`` and a ``sign`` observable, sign det D of each
    configuration): the chain samples |det D|, so every other observable is the reweighted ratio
    ⟨O s⟩/⟨s⟩ with its Γ-method error (:func:`derived_estimate`), and ``sign`` itself is the
    average sign ⟨s⟩ — exactly 1 (error 0) when no configuration has det D < 0.
    """
    from qlat.core.observable_registry import OBSERVABLES

    record = {"file": str(ensemble.path), "checksum": ensemble.checksum, "skip": int(skip),
              "theory": ensemble.theory_params, "sampler": ensemble.sampler_params,
              "seed": ensemble.seed}
    backend = str(ensemble.sampler_params.get("name", ""))
    from qlat.samplers.stored import stored_theory

    theory = stored_theory(ensemble)
    wanted = [name for name in names if name != "acceptance"]
    reweight = getattr(theory, "nf", None) == 1 and any(n not in ("acceptance", "sign") for n in wanted)
    if reweight and "sign" not in wanted:
        wanted.append("sign")
    series = ensemble_series(ensemble, wanted, skip=skip)
    sign: np.ndarray | None = None
    if "sign" in series:
        sign = np.asarray(series["sign"][1], dtype=float)
        if np.all(sign == 1.0):
            record = {**record, "sign_reweighting": "none needed: det D > 0 on every configuration"}
            sign = None
        else:
            record = {**record, "sign_reweighting": "<O s>/<s>, s = sign det D"}
    out: dict[str, Estimate] = {}
    history_tag = f"qlat:{ensemble.checksum}" if getattr(ensemble, "checksum", None) else None
    for name in names:
        if name == "acceptance":
            acc = np.asarray(ensemble.acceptance[skip:], dtype=float)
            if acc.size and np.ptp(acc) == 0.0:  # e.g. a heatbath: every update accepted, exactly
                value = float(acc.reshape(-1)[0])
                note = ("every update was accepted" if value == 1.0
                        else "no proposal was accepted: the chain did not move" if value == 0.0
                        else "constant acceptance record")
                if value == 0.0:
                    warn(f"acceptance: {note}")
                out[name] = Estimate(value, 0.0, name="acceptance", unit="1", n_samples=int(acc.size),
                                     backend=backend, provenance={**record, "note": note})
                continue
            out[name] = gamma_estimate(acc, name="acceptance", unit="1", backend=backend, S=S, provenance=record,
                                       check_changes=False)
            continue
        realization, values = series[name]
        unit = OBSERVABLES.get(name).unit_on(theory)
        if name == "sign" and sign is None:  # det D > 0 everywhere: the average sign is exactly 1
            out[name] = Estimate(1.0, 0.0, name="sign", unit=unit, n_samples=int(values.size), backend=backend,
                                 provenance={**record, "note": "every configuration has det D > 0"})
            continue
        if sign is not None and name != "sign":
            s_series = sign
            if hasattr(realization, "derive"):
                k = values.shape[-1]
                out[name] = derived_estimate(
                    lambda *means, _r=realization: _r.derive([m / means[-1] for m in means[:-1]]),
                    *[values[..., j] * s_series for j in range(k)], s_series,
                    name=name, unit=unit, backend=backend, S=S, provenance=record)
            elif values.ndim == 2:
                out[name] = derived_estimate(lambda os, ss: os / ss, values * s_series, s_series, name=name,
                                             unit=unit, backend=backend, S=S, provenance=record)
            else:
                for index in np.ndindex(*values.shape[2:]):
                    label = f"{name}[{','.join(str(i) for i in index)}]"
                    component = values[(slice(None), slice(None), *index)]
                    out[label] = derived_estimate(lambda os, ss: os / ss, component * s_series, s_series,
                                                  name=label, unit=unit, backend=backend, S=S, provenance=record)
            continue
        if hasattr(realization, "derive"):
            k = values.shape[-1]
            out[name] = derived_estimate(
                lambda *means, _r=realization: _r.derive(means), *[values[..., j] for j in range(k)],
                name=name, unit=unit, backend=backend, S=S, provenance=record,
            )
        elif values.ndim == 2:
            out[name] = gamma_estimate(values, name=name, unit=unit, backend=backend, S=S, provenance=record,
                                       ensemble=history_tag, first=skip)
        else:
            for index in np.ndindex(*values.shape[2:]):
                label = f"{name}[{','.join(str(i) for i in index)}]"
                out[label] = gamma_estimate(values[(slice(None), slice(None), *index)], name=label,
                                            unit=unit, backend=backend, S=S, provenance=record)
    independence = ensemble_independence_diagnostics(ensemble, skip=skip)
    if independence is not None:
        out = {key: independence_chain_estimate(est, independence) for key, est in out.items()}
    else:
        stay = ensemble_repeats(ensemble, skip=skip)
        out = {key: est if key == "acceptance" else repeat_bound_estimate(est, stay) for key, est in out.items()}
    return slowest_mode_warnings(out, ensemble.n_samples - skip)


def ensemble_repeats(ensemble: Any, *, skip: int = 0) -> np.ndarray:
    """:func:`repeat_record` of a stored chain from sample ``skip`` on, read block by block, shape ``(n − skip, chains)``."""
    n, chains = ensemble.n_samples, ensemble.chains
    configs = ensemble.configurations
    row_bytes = 8 * chains * int(np.prod(ensemble.field_shape, dtype=np.int64))
    block = max(2, (64 << 20) // max(row_bytes, 1))
    stay = np.zeros((n - skip, chains), dtype=bool)
    previous = np.asarray(configs[skip - 1]).reshape(chains, -1) if skip > 0 else None
    for start in range(skip, n, block):
        rows = np.asarray(configs[start:min(start + block, n)]).reshape(-1, chains, int(row_bytes // 8 // chains))
        if previous is not None:
            stay[start - skip] = np.all(rows[0] == previous, axis=-1)
        stay[start - skip + 1:start - skip + rows.shape[0]] = np.all(rows[1:] == rows[:-1], axis=-1)
        previous = rows[-1]
    return stay


__all__ = [
    "MIN_SAMPLES_PER_CHAIN",
    "IndependenceDiagnostics",
    "independence_chain_estimate",
    "repeat_bound_estimate",
    "repeat_record",
    "slowest_mode_warnings",
    "ensemble_estimates",
    "ensemble_series",
    "as_series",
    "bootstrap_estimate",
    "derived_estimate",
    "gamma_estimate",
    "jackknife_estimate",
]
