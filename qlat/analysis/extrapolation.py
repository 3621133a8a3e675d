r"""Weighted least-squares fits and extrapolations (continuum, infinite volume), with model variation.

**One fit.**  Model: y_i = Σ_{p∈P} c_p (x_i − x₀)^p + ε_i, ε_i ~ N(0, σ_i²), with the powers P
(``powers``; a polynomial of degree d is P = {0, …, d}).  With W = diag(1/σ_i²) and design matrix
A_ip = (x_i − x₀)^p the estimator is

.. math::
    \hat c = (A^T W A)^{-1} A^T W y, \qquad \operatorname{Cov}(\hat c) = (A^T W A)^{-1},

χ² = Σ_i (y_i − (A ĉ)_i)²/σ_i² with dof = n − |P|.  When no σ is given all σ_i = 1 and the
covariance is scaled by the residual variance s² = χ²/dof (ordinary least squares; needs
dof ≥ 1).  Centring at x₀ (the extrapolation point) makes c₀ the extrapolated value and its
error √Cov₀₀ directly (P must contain 0).

**Model variation** (:func:`extrapolate_models`).  An extrapolation is only as good as its fit
model, and a single fit cannot tell how wrong its model is outside the data.  So a set of
candidate models M (polynomial degrees in x, the known leading correction form where there is
one, fit ranges that leave out the points farthest from x₀ — the coarsest lattices) is fitted
and averaged with Akaike weights, including the penalty for the points left out
(Akaike, IEEE TAC 19, 716 (1974); Jay & Neil, PRD 103, 114502 (2021), arXiv:2008.01069;
the form BMW uses for its continuum limits, Borsanyi et al., Nature 593, 51 (2021)):

.. math::
    w_M ∝ \exp[-\tfrac12(χ^2_M + 2k_M + 2n^\text{cut}_M)], \qquad
    \bar c_0 = \sum_M w_M c_{0,M},

    σ^2_\text{stat} = \sum_M w_M σ^2_{M}, \qquad
    σ^2_\text{sys} = \sum_M w_M (c_{0,M} − \bar c_0)^2 ,

k_M the number of parameters and n^cut_M the points M leaves out.  σ_stat (the Estimate's
``error``) is the fit error propagated from the inputs — for exact inputs (below) the error of
the chosen (heaviest) fit alone, there being no noise to average; σ_sys (``systematic``) is the
spread of the models, split by the law of total variance into ``fit_range`` (the spread between the
weighted means of each fit range) and ``fit_model`` (the spread of the models within a range),
which add in quadrature to σ_sys.  Per-point systematic errors of the inputs (a DMRG truncation
error, an earlier stage's systematics) are propagated through each fit's linear coefficients
c₀ = Σ_i a_i y_i as max(√Σ a_i² s_i², |Σ a_i s_i|) (uncorrelated or fully correlated, whichever
is larger) and kept as named sources.

*Exact inputs* (no σ: ED, character expansions) have no noise scale of their own.  All models are
then measured with one scale, the residual variance s² = χ²/dof of the most flexible model on
the widest range that still has a degree of freedom (what an ordinary least-squares fit of that
model would use), so that their χ² and errors are comparable.  Fits without a degree of freedom
take part: on exact data they are the Richardson-type extrapolants whose scatter is the
honest doubt about the highest orders (on the heavy-mass tori and ED chains, leaving them out
drops the coverage from ~97 % to ~40–70 %).  On noisy data pass ``min_dof=1``: there such a fit
interpolates the noise and its wide error swamps the average.

*Warnings* (``Estimate.with_warning``: stderr and the JSON; the bar is then not trusted and the
calibration counts the point apart):

- no candidate has a degree of freedom: the fit cannot test itself, and the whole extrapolation
  step |c̄₀ − y(x nearest x₀)| is added as the systematic source ``zero_dof`` (an untested
  extrapolation can be wrong by as much as it moved the value);
- the heaviest-weighted candidate has 0 degrees of freedom;
- a single candidate has a degree of freedom and the limit lies farther from the nearest point
  than the error bar (the model could not be varied among fits that test themselves);
- with σ, the preferred fit is poor, p(χ² | dof) < 10⁻³.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from qlat.core.errors import require, require_int
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance

#: An extrapolation from fewer points (or with no degree of freedom left) warns: its error bar
#: cannot be checked against the scatter of the data.
MIN_RELIABLE_POINTS = 3
#: A weighted fit (σ given) whose goodness of fit p = P(χ² ≥ χ²_obs | dof) is below this warns: its
#: models do not describe the data within their errors.
MIN_FIT_PVALUE = 1e-3


@dataclass(frozen=True)
class FitResult:
    """A least-squares fit around x₀: y ≈ Σ_p coefficients[i] (x − x₀)^powers[i].

    Attributes
    ----------
    coefficients: ĉ, one per power, lowest power first (c₀ the value at x₀).
    covariance:   covariance of ĉ (scaled by χ²/dof when ``scaled``).
    chi2, dof:    χ² of the fit (with the given σ, or σ = 1) and n − len(powers).
    x0:           expansion point.
    scaled:       True when no σ was given and the covariance was scaled by χ²/dof.
    x, y, sigma:  the data (sigma ``None`` when not given).
    powers:       the powers of (x − x₀) in the model; ``None`` means 0, 1, …, d (a polynomial).
    """

    coefficients: np.ndarray
    covariance: np.ndarray
    chi2: float
    dof: int
    x0: float
    scaled: bool
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    powers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.powers is None:
            object.__setattr__(self, "powers", tuple(range(int(np.asarray(self.coefficients).size))))

    @property
    def exponents(self) -> tuple[int, ...]:
        assert self.powers is not None
        return self.powers

    @property
    def degree(self) -> int:
        return int(max(self.exponents))

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    def _basis(self, x: Any) -> np.ndarray:
        t = np.atleast_1d(np.asarray(x, dtype=float)) - self.x0
        return t[:, None] ** np.asarray(self.exponents, dtype=float)

    def __call__(self, x) -> np.ndarray:
        """The fitted function at ``x``."""
        out = self._basis(x) @ self.coefficients
        return out if np.ndim(x) else out[0]

    def error_at(self, x) -> np.ndarray:
        """One-σ error of the fitted function at ``x`` (from the coefficient covariance)."""
        basis = self._basis(x)
        var = np.einsum("ik,kl,il->i", basis, self.covariance, basis)
        out = np.sqrt(np.maximum(var, 0.0))
        return out if np.ndim(x) else out[0]

    def value_at(self, x: float | None = None, *, name: str = "", unit: str = "") -> Estimate:
        """The fitted value at ``x`` (default x₀) as an :class:`Estimate` with its fit error."""
        x = self.x0 if x is None else float(x)
        extra: dict[str, Any] = {}
        if self.x.size < MIN_RELIABLE_POINTS or self.dof == 0:
            extra["warning"] = (f"extrapolation from {self.x.size} points ({self.dof} degrees of freedom): "
                                "the fit cannot test its own model; the error bar is not reliable")
            from qlat.core.errors import warn

            warn(f"{name or 'extrapolation'}: {extra['warning']}")
        return Estimate(
            value=float(self(x)),
            error=float(self.error_at(x)),
            name=name,
            unit=unit,
            n_samples=int(self.x.size),
            backend="fit",
            provenance=provenance(**self.summary(), evaluated_at=x, **extra),
        )

    def describe(self) -> str:
        if self.exponents == tuple(range(self.degree + 1)):
            return f"weighted least-squares polynomial of degree {self.degree} in (x - {self.x0})"
        return f"weighted least squares in the powers {list(self.exponents)} of (x - {self.x0})"

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of the fit."""
        return {
            "fit": self.describe(),
            "powers": list(self.exponents),
            "coefficients": self.coefficients.tolist(),
            "covariance": self.covariance.tolist(),
            "chi2": self.chi2,
            "dof": self.dof,
            "chi2_per_dof": None if self.dof == 0 else self.chi2_per_dof,
            "error_scaling": (
                "no sigma given: covariance scaled by the residual variance chi2/dof"
                if self.scaled else "errors from the given sigma (covariance not rescaled)"
            ),
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "sigma": None if self.sigma is None else self.sigma.tolist(),
        }


def _check_data(x: Any, y: Any, sigma: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    x_arr = np.asarray(x, dtype=float).ravel()
    y_arr = np.asarray(y, dtype=float).ravel()
    require(x_arr.size == y_arr.size, "y", f"must have the same length as x ({x_arr.size})", y_arr.size)
    require(bool(np.all(np.isfinite(x_arr))) and bool(np.all(np.isfinite(y_arr))), "x, y", "must be finite")
    if sigma is None:
        return x_arr, y_arr, None
    s_arr = np.asarray(sigma, dtype=float).ravel()
    require(s_arr.size == y_arr.size, "sigma", f"must have the same length as y ({y_arr.size})", s_arr.size)
    require(bool(np.all(np.isfinite(s_arr))) and bool(np.all(s_arr > 0)), "sigma", "must be finite and > 0")
    return x_arr, y_arr, s_arr


def _check_powers(powers: Sequence[int]) -> tuple[int, ...]:
    out = tuple(int(p) for p in powers)
    require(len(out) >= 1 and all(p >= 0 for p in out) and len(set(out)) == len(out)
            and list(out) == sorted(out) and out[0] == 0, "powers",
            "must be increasing non-negative integers starting with 0 (the value at x0)", list(powers))
    return out


def _solve(x: np.ndarray, y: np.ndarray, weights: np.ndarray, powers: tuple[int, ...],
           x0: float) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(ĉ, (AᵀWA)⁻¹, χ², a) with a the row of (AᵀWA)⁻¹AᵀW giving c₀ = a·y."""
    t = x - x0
    design = t[:, None] ** np.asarray(powers, dtype=float)
    # QR-based least squares (better conditioned than the normal equations); Cov = (AᵀWA)⁻¹.
    aw = design * weights[:, None]
    coef, *_ = np.linalg.lstsq(aw, y * weights, rcond=None)
    _, r = np.linalg.qr(aw)
    r_inv = np.linalg.inv(r)
    covariance = r_inv @ r_inv.T
    residuals = (y - design @ coef) * weights
    linear = (covariance @ aw.T)[0] * weights
    return coef, covariance, float(residuals @ residuals), linear


def fit_powers(
    x: "Sequence[float] | np.ndarray",
    y: "Sequence[float] | np.ndarray",
    *,
    sigma: "Sequence[float] | np.ndarray | None" = None,
    powers: Sequence[int] = (0, 1),
    x0: float = 0.0,
) -> FitResult:
    """Weighted least-squares fit of y ≈ Σ_p c_p (x − x₀)^p over the given ``powers`` (module docstring).

    ``sigma``: one-σ errors of ``y`` (all > 0).  Without it the fit is unweighted and the
    covariance is scaled by χ²/dof, which needs at least len(powers) + 1 points; with it,
    len(powers) points suffice (an exact interpolation with propagated errors).
    """
    pw = _check_powers(powers)
    x_arr, y_arr, s_arr = _check_data(x, y, sigma)
    require(math.isfinite(x0), "x0", "must be finite", x0)
    n_par = len(pw)
    if s_arr is None:
        require(x_arr.size >= n_par + 1, "x", f"needs at least {n_par + 1} points for {n_par} parameters "
                "without sigma (the error comes from the residuals)", x_arr.size)
    else:
        require(x_arr.size >= n_par, "x", f"needs at least {n_par} points for {n_par} parameters", x_arr.size)
    require(np.unique(x_arr).size >= n_par, "x", f"needs at least {n_par} distinct values for {n_par} parameters")
    weights = np.ones_like(y_arr) if s_arr is None else 1.0 / s_arr
    coef, covariance, chi2, _ = _solve(x_arr, y_arr, weights, pw, float(x0))
    dof = int(x_arr.size - n_par)
    scaled = s_arr is None
    if scaled:
        covariance = covariance * (chi2 / dof)
    return FitResult(coefficients=coef, covariance=covariance, chi2=chi2, dof=dof, x0=float(x0), scaled=scaled,
                     x=x_arr, y=y_arr, sigma=s_arr, powers=pw)


def fit_polynomial(
    x: "Sequence[float] | np.ndarray",
    y: "Sequence[float] | np.ndarray",
    *,
    sigma: "Sequence[float] | np.ndarray | None" = None,
    degree: int = 1,
    x0: float = 0.0,
) -> FitResult:
    """Weighted least-squares fit of a degree-``degree`` polynomial in (x − x₀) (:func:`fit_powers`).

    ``sigma``: one-σ errors of ``y`` (all > 0).  Without it the fit is unweighted and the
    covariance is scaled by χ²/dof, which needs at least degree + 2 points; with it,
    degree + 1 points suffice (an exact interpolation with propagated errors).
    """
    require_int(degree, "degree", minimum=0)
    return fit_powers(x, y, sigma=sigma, powers=tuple(range(int(degree) + 1)), x0=x0)


def extrapolate(
    x: Sequence[float],
    y: Sequence[float],
    *,
    sigma: Sequence[float] | None = None,
    degree: int = 1,
    to: float = 0.0,
    name: str = "",
    unit: str = "",
) -> Estimate:
    """Polynomial extrapolation of y(x) to x = ``to`` with one fixed model and its fitted error.

    E.g. ``extrapolate(a, y, degree=2)``.  The provenance records the fit (coefficients,
    χ²/dof, data) and whether the error comes from ``sigma`` or from the residual variance.
    A continuum or infinite-volume limit should vary its model: :func:`extrapolate_models`.
    """
    fit = fit_polynomial(x, y, sigma=sigma, degree=degree, x0=to)
    return fit.value_at(to, name=name, unit=unit)


# ------------------------------------------------------------------------------ model variation
@dataclass(frozen=True)
class FitModel:
    """One candidate: y = Σ_{p∈powers} c_p (x − x₀)^p over the data without the ``drop`` points farthest from x₀.

    ``FitModel((0, 1, 2))`` is a quadratic on every point; ``FitModel((0, 2), drop=1)`` the leading
    correction c₂(x − x₀)² alone without the coarsest point.
    """

    powers: tuple[int, ...] = (0, 1)
    drop: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "powers", _check_powers(self.powers))
        require_int(self.drop, "drop", minimum=0)

    @classmethod
    def polynomial(cls, degree: int, *, drop: int = 0) -> "FitModel":
        require_int(degree, "degree", minimum=0)
        return cls(tuple(range(int(degree) + 1)), drop)

    @property
    def n_parameters(self) -> int:
        return len(self.powers)

    @property
    def form(self) -> str:
        """``"degree 2"`` for a full polynomial, ``"powers 0,2"`` otherwise."""
        if self.powers == tuple(range(len(self.powers))):
            return f"degree {len(self.powers) - 1}"
        return "powers " + ",".join(str(p) for p in self.powers)

    @property
    def name(self) -> str:
        return self.form + (f", drop {self.drop}" if self.drop else "")


def model_set(*, degrees: Sequence[int] = (1, 2), drops: Sequence[int] = (0, 1),
              leading: Sequence[int] | None = None) -> tuple[FitModel, ...]:
    """The candidates of :func:`extrapolate_models`: every polynomial degree on every fit range.

    ``drops``: how many of the points farthest from x₀ each range leaves out (0 = all points).
    ``leading``: powers of a known correction form (e.g. ``(0, 2)`` for c₀ + c₂ a² when the O(a)
    term is known to vanish), added on every range.
    """
    models = [FitModel.polynomial(int(d), drop=int(r)) for r in drops for d in degrees]
    if leading is not None:
        models += [FitModel(tuple(leading), int(r)) for r in drops]
    out: list[FitModel] = []
    for m in models:
        if m not in out:
            out.append(m)
    require(len(out) >= 1, "degrees", "must give at least one model")
    return tuple(out)


@dataclass(frozen=True)
class CandidateFit:
    """One model's fit inside :func:`extrapolate_models`: its value at x₀, errors, AIC and weight."""

    model: FitModel
    fit: FitResult
    value: float
    error: float
    propagated: Mapping[str, float]
    chi2: float
    dof: int
    aic: float
    weight: float

    def summary(self) -> dict[str, Any]:
        return {"model": self.model.name, "powers": list(self.model.powers), "drop": self.model.drop,
                "value": self.value, "error": self.error, "propagated_systematics": dict(self.propagated),
                "chi2": self.chi2, "dof": self.dof, "aic": self.aic, "weight": self.weight,
                "coefficients": self.fit.coefficients.tolist(), "x": self.fit.x.tolist()}


@dataclass(frozen=True)
class ModelAverage:
    """The result of :func:`extrapolate_models`: the Estimate and every candidate behind it."""

    estimate: Estimate
    candidates: tuple[CandidateFit, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)
    noise_scale: float | None = None

    @property
    def preferred(self) -> CandidateFit:
        """The candidate with the largest Akaike weight."""
        return max(self.candidates, key=lambda c: c.weight)

    @property
    def value(self) -> float:
        return self.estimate.value

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the candidates with their weights, the preferred model, the noise scale."""
        return _summary(self.candidates, self.skipped, self.noise_scale)


def _kept(x: np.ndarray, x0: float, drop: int) -> np.ndarray:
    """Indices of the points kept when the ``drop`` points farthest from x₀ are left out."""
    order = np.argsort(-np.abs(x - x0), kind="stable")
    return np.sort(order[drop:])


def _propagate(linear: np.ndarray, sizes: np.ndarray) -> float:
    """A per-point systematic through c₀ = Σ a_i y_i: max(uncorrelated, fully correlated)."""
    return float(max(math.sqrt(float(np.sum((linear * sizes) ** 2))), abs(float(linear @ sizes))))


def extrapolate_models(
    x: "Sequence[float] | np.ndarray",
    y: "Sequence[float] | np.ndarray",
    *,
    sigma: "Sequence[float] | np.ndarray | None" = None,
    systematics: Mapping[str, "Sequence[float] | np.ndarray"] | None = None,
    models: Sequence[FitModel] | None = None,
    to: float = 0.0,
    name: str = "",
    unit: str = "",
    backend: str = "fit",
    source_prefix: str = "",
    weight_by_total: bool = True,
    min_dof: int = 0,
    emit: bool = True,
) -> ModelAverage:
    """Extrapolate y(x) to x = ``to`` over a set of fit models and fit ranges (module docstring).

    The one mechanism of every continuum and infinite-volume limit: pass the data and the
    candidates, read ``.estimate`` (value, ``error``, ``systematic`` with named sources,
    warnings) and ``.summary()`` (every candidate with its weight) for the JSON.

    ``sigma``: statistical errors of y (None: exact data, one common noise scale from the residuals).
    ``systematics``: per-point systematic errors of y by source name (e.g. ``{"truncation": […]}``),
    propagated through every fit and kept under their names.  ``models``: the candidates
    (default :func:`model_set`: degrees 1, 2 on all points and without the farthest one).
    With σ and ``systematics`` the fits are weighted by the total error √(σ² + Σ s²) of each point
    (``weight_by_total``; the χ² of the Akaike weights too), and ``error`` propagates σ alone.
    ``min_dof``: candidates with fewer degrees of freedom are skipped (1 for noisy data whose
    interpolations would only fit the noise and, with their wide errors, swamp the average).
    Candidates with fewer points than parameters (or, without σ, no common noise scale) are
    skipped and listed.  ``source_prefix`` names the systematic sources (``"a->0 fit_model"``).

    Returns a :class:`ModelAverage` whose ``estimate`` has ``error`` = the Akaike-averaged fit
    error and ``systematic`` = the model spread (``fit_model``, ``fit_range``), the propagated
    input systematics, and ``zero_dof`` when no candidate could test itself; with a warning when
    the weight sits on a fit with 0 degrees of freedom or the preferred weighted fit is poor.
    """
    x_arr, y_arr, s_arr = _check_data(x, y, sigma)
    require(math.isfinite(to), "to", "must be finite", to)
    require_int(min_dof, "min_dof", minimum=0)
    candidates_spec = tuple(models) if models is not None else model_set()
    require(len(candidates_spec) >= 1 and all(isinstance(m, FitModel) for m in candidates_spec), "models",
            "must be a non-empty sequence of FitModel")
    sys_in: dict[str, np.ndarray] = {}
    for key, sizes in (systematics or {}).items():
        arr = np.asarray(sizes, dtype=float).ravel()
        require(arr.size == y_arr.size and bool(np.all(np.isfinite(arr))) and bool(np.all(arr >= 0)),
                "systematics", f"'{key}' must give one finite size >= 0 per point ({y_arr.size})")
        sys_in[str(key)] = arr
    if s_arr is None:
        weights_in = np.ones_like(y_arr)
    else:
        total = np.sqrt(s_arr**2 + sum(sizes**2 for sizes in sys_in.values())) if weight_by_total else s_arr
        weights_in = 1.0 / total

    cands, skipped, scale2 = _fit_candidates(x_arr, y_arr, s_arr, weights_in, sys_in, candidates_spec,
                                             to=float(to), min_dof=int(min_dof))
    aics = np.array([c.aic for c in cands])
    w = np.exp(-0.5 * (aics - aics.min()))
    w /= w.sum()
    cands = [replace(c, weight=float(wi)) for c, wi in zip(cands, w)]
    values = np.array([c.value for c in cands])
    mean = float(w @ values)
    best = max(cands, key=lambda c: c.weight)
    if s_arr is None:  # exact data: no noise to average; the chosen fit's error, the models' doubt is the spread
        stat = best.error
    else:  # Jay & Neil (2021): the weighted mean of the fit variances
        stat = math.sqrt(float(w @ np.array([c.error**2 for c in cands])))
    within, between = _spread(cands)
    prefix = f"{source_prefix} " if source_prefix else ""
    sources: dict[str, float] = {f"{prefix}fit_model": math.sqrt(within), f"{prefix}fit_range": math.sqrt(between)}
    for key in sys_in:
        sources[key] = math.sqrt(float(sum(wi * c.propagated[key] ** 2 for wi, c in zip(w, cands))))
    y_nearest = float(y_arr[int(np.argmin(np.abs(x_arr - to)))])
    if not any(c.dof > 0 for c in cands):
        sources[f"{prefix}zero_dof"] = abs(mean - y_nearest)
    warnings = _warnings(cands, n_points=int(x_arr.size), noisy=s_arr is not None, step=abs(mean - y_nearest),
                         total=math.hypot(stat, *sources.values()))
    summary = _summary(cands, skipped, None if scale2 is None else math.sqrt(scale2))
    note = ("error: the preferred fit's error (exact inputs, common residual scale)" if s_arr is None
            else "error: Akaike-averaged fit error of the inputs (Jay & Neil 2021)")
    est = Estimate(mean, stat, name=name, unit=unit, n_samples=int(x_arr.size), backend=backend,
                   provenance=provenance(extrapolation=summary, extrapolated_to=float(to),
                                         error_note=note + "; systematic: model spread (fit_model, fit_range), "
                                                           "propagated input systematics, zero_dof"))
    est = est.with_systematic(sources)
    for message in warnings:
        est = est.with_warning(message, emit=emit)
    return ModelAverage(est, tuple(cands), skipped, None if scale2 is None else math.sqrt(scale2))


def _fit_candidates(x: np.ndarray, y: np.ndarray, sigma: np.ndarray | None, weights: np.ndarray,
                    systematics: Mapping[str, np.ndarray], models: Sequence[FitModel], *, to: float,
                    min_dof: int) -> tuple[list[CandidateFit], dict[str, str], float | None]:
    """Every model that can be fitted (weight 0 for now), the skipped ones with why, and the common scale² (exact data)."""
    raw: list[tuple[FitModel, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]] = []
    skipped: dict[str, str] = {}
    for model in models:
        keep = _kept(x, to, model.drop)
        k = model.n_parameters
        if keep.size < k or np.unique(x[keep]).size < k:
            skipped[model.name] = f"{keep.size} points for {k} parameters"
            continue
        if keep.size - k < min_dof:
            skipped[model.name] = f"{keep.size - k} degrees of freedom (min_dof = {min_dof})"
            continue
        coef, cov, chi2, linear = _solve(x[keep], y[keep], weights[keep], model.powers, to)
        raw.append((model, keep, coef, cov, chi2, linear))
    require(len(raw) >= 1, "x", f"too few points ({x.size}) for every candidate model", x.size)
    scale2: float | None = None
    if sigma is None:
        # the most flexible model on the widest range that still has a residual sets the scale
        tested = [(m.drop, -m.n_parameters, chi2 / (keep.size - m.n_parameters))
                  for m, keep, _, _, chi2, _ in raw if keep.size > m.n_parameters]
        scale2 = min(tested)[2] if tested else 0.0
        if tested and scale2 == 0.0:  # a model reproduces the data exactly: round-off sets the scale
            scale2 = (1e-15 * float(np.max(np.abs(y)))) ** 2
    cands: list[CandidateFit] = []
    for model, keep, coef, cov, chi2, linear in raw:
        dof = int(keep.size - model.n_parameters)
        if sigma is None:
            assert scale2 is not None
            cov = cov * scale2
            chi2_eff = chi2 / scale2 if scale2 > 0 else 0.0
            error = math.sqrt(max(float(cov[0, 0]), 0.0))
        else:  # c₀ = Σ a_i y_i: the statistical part of the inputs alone (the weights may include systematics)
            chi2_eff = chi2
            error = math.sqrt(float(np.sum((linear * sigma[keep]) ** 2)))
        fit = FitResult(coefficients=coef, covariance=cov, chi2=chi2, dof=dof, x0=to, scaled=sigma is None,
                        x=x[keep], y=y[keep], sigma=None if sigma is None else sigma[keep], powers=model.powers)
        aic = chi2_eff + 2.0 * model.n_parameters + 2.0 * model.drop
        propagated = {key: _propagate(linear, sizes[keep]) for key, sizes in systematics.items()}
        cands.append(CandidateFit(model, fit, float(coef[0]), error, propagated, float(chi2_eff), dof, float(aic),
                                  0.0))
    return cands, skipped, scale2


def _spread(cands: Sequence[CandidateFit]) -> tuple[float, float]:
    """(within, between): Σ_w(v − v̄)² split by the law of total variance over the fit ranges (drops)."""
    w = np.array([c.weight for c in cands])
    values = np.array([c.value for c in cands])
    mean = float(w @ values)
    between = within = 0.0
    for drop in sorted({c.model.drop for c in cands}):
        idx = [i for i, c in enumerate(cands) if c.model.drop == drop]
        wr = float(w[idx].sum())
        if wr <= 0:
            continue
        mr = float(w[idx] @ values[idx]) / wr
        between += wr * (mr - mean) ** 2
        within += float(w[idx] @ (values[idx] - mr) ** 2)
    return within, between


def _warnings(cands: Sequence[CandidateFit], *, n_points: int, noisy: bool, step: float, total: float) -> list[str]:
    """Why the averaged bar cannot be trusted (module docstring, *Warnings*); ``step`` = |limit − nearest point|."""
    best = max(cands, key=lambda c: c.weight)
    n_tested = sum(1 for c in cands if c.dof > 0)
    out: list[str] = []
    if n_tested == 0:
        out.append(f"extrapolation from {n_points} points with 0 degrees of freedom in every model: the fit cannot "
                   "test itself; the whole extrapolation step is counted as systematic (zero_dof) and the error "
                   "bar is not reliable")
    elif best.dof == 0:
        out.append(f"the preferred model ({best.model.name}, weight {best.weight:.2f}) has 0 degrees of freedom: "
                   "the fit cannot test itself; the error bar is not reliable")
    elif n_tested < 2 and step > total:
        out.append(f"extrapolation from {n_points} points: only one model ({best.model.name}) has a degree of "
                   f"freedom left, and the limit lies {step:.3g} from the nearest point, beyond the error bar; the "
                   "model cannot be varied among fits that test themselves, so the error bar is not reliable")
    if noisy and best.dof > 0:
        from scipy.special import gammaincc

        p_value = float(gammaincc(0.5 * best.dof, 0.5 * best.chi2))  # P(χ²_dof ≥ χ²)
        if p_value < MIN_FIT_PVALUE:
            out.append(f"poor fit: the preferred model ({best.model.name}) has chi2/dof = "
                       f"{best.chi2 / best.dof:.2f} (p = {p_value:.1e}); no candidate describes the data within "
                       "their errors")
    return out


def _summary(cands: Sequence[CandidateFit], skipped: Mapping[str, str], noise_scale: float | None) -> dict[str, Any]:
    best = max(cands, key=lambda c: c.weight)
    return {
        "method": "Akaike-weighted model average, w ∝ exp(-(chi2 + 2k + 2 n_cut)/2) (Jay & Neil, arXiv:2008.01069)",
        "preferred": best.model.name,
        "noise_scale": noise_scale,
        "candidates": [c.summary() for c in cands],
        "skipped": dict(skipped),
        # the preferred fit's coefficients (for plots): y ≈ Σ c_i x^powers[i]
        "powers": list(best.model.powers),
        "coefficients": best.fit.coefficients.tolist(),
    }
