r"""Weighted least-squares polynomial fits and extrapolations (continuum, infinite volume).

Model: y_i = Σ_{k=0}^{d} c_k (x_i − x₀)^k + ε_i, with ε_i ~ N(0, σ_i²).  With weights
W = diag(1/σ_i²) and design matrix A_ik = (x_i − x₀)^k the estimator is

.. math::
    \hat c = (A^T W A)^{-1} A^T W y, \qquad \operatorname{Cov}(\hat c) = (A^T W A)^{-1},

χ² = Σ_i (y_i − (A ĉ)_i)²/σ_i² with dof = n − (d+1).  When no σ is given all σ_i = 1 and the
covariance is scaled by the residual variance s² = χ²/dof (ordinary least squares; needs
dof ≥ 1).  Centring at x₀ (the extrapolation point) makes c₀ the extrapolated value and its
error √Cov₀₀ directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qlat.core.errors import require, require_int
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance

#: An extrapolation from fewer points (or with no degree of freedom left) warns: its error bar
#: cannot be checked against the scatter of the data.
MIN_RELIABLE_POINTS = 3


@dataclass(frozen=True)
class FitResult:
    """A polynomial fit around x₀: y ≈ Σ_k coefficients[k] (x − x₀)^k.

    Attributes
    ----------
    coefficients: (d+1,) ĉ_k, lowest order first.
    covariance:   (d+1, d+1) covariance of ĉ (scaled by χ²/dof when ``scaled``).
    chi2, dof:    χ² of the fit (with the given σ, or σ = 1) and n − d − 1.
    x0:           expansion point.
    scaled:       True when no σ was given and the covariance was scaled by χ²/dof.
    x, y, sigma:  the data (sigma ``None`` when not given).
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

    @property
    def degree(self) -> int:
        return int(self.coefficients.size - 1)

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    def __call__(self, x) -> np.ndarray:
        """The fitted polynomial at ``x``."""
        t = np.asarray(x, dtype=float) - self.x0
        return np.polynomial.polynomial.polyval(t, self.coefficients)

    def error_at(self, x) -> np.ndarray:
        """One-σ error of the fitted polynomial at ``x`` (from the coefficient covariance)."""
        t = np.atleast_1d(np.asarray(x, dtype=float)) - self.x0
        basis = t[:, None] ** np.arange(self.degree + 1)
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

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description of the fit."""
        return {
            "fit": f"weighted least-squares polynomial of degree {self.degree} in (x - {self.x0})",
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


def fit_polynomial(
    x: "Sequence[float] | np.ndarray",
    y: "Sequence[float] | np.ndarray",
    *,
    sigma: Sequence[float] | None = None,
    degree: int = 1,
    x0: float = 0.0,
) -> FitResult:
    """Weighted least-squares fit of a degree-``degree`` polynomial in (x − x₀).

    ``sigma``: one-σ errors of ``y`` (all > 0).  Without it the fit is unweighted and the
    covariance is scaled by χ²/dof, which needs at least degree + 2 points; with it,
    degree + 1 points suffice (an exact interpolation with propagated errors).
    """
    require_int(degree, "degree", minimum=0)
    x_arr = np.asarray(x, dtype=float).ravel()
    y_arr = np.asarray(y, dtype=float).ravel()
    require(x_arr.size == y_arr.size, "y", f"must have the same length as x ({x_arr.size})", y_arr.size)
    require(bool(np.all(np.isfinite(x_arr))) and bool(np.all(np.isfinite(y_arr))), "x, y", "must be finite")
    require(math.isfinite(x0), "x0", "must be finite", x0)
    n_par = int(degree) + 1
    if sigma is None:
        require(x_arr.size >= n_par + 1, "x", f"needs at least {n_par + 1} points for degree {degree} "
                "without sigma (the error comes from the residuals)", x_arr.size)
        s_arr = None
        weights = np.ones_like(y_arr)
    else:
        s_arr = np.asarray(sigma, dtype=float).ravel()
        require(s_arr.size == y_arr.size, "sigma", f"must have the same length as y ({y_arr.size})", s_arr.size)
        require(bool(np.all(np.isfinite(s_arr))) and bool(np.all(s_arr > 0)), "sigma", "must be finite and > 0")
        require(x_arr.size >= n_par, "x", f"needs at least {n_par} points for degree {degree}", x_arr.size)
        weights = 1.0 / s_arr
    t = x_arr - x0
    design = t[:, None] ** np.arange(n_par)
    require(np.unique(x_arr).size >= n_par, "x", f"needs at least {n_par} distinct values for degree {degree}")
    # Solve the weighted problem through QR-based least squares (better conditioned than the
    # normal equations); the covariance is the inverse of AᵀWA.
    aw = design * weights[:, None]
    coef, *_ = np.linalg.lstsq(aw, y_arr * weights, rcond=None)
    _, r = np.linalg.qr(aw)
    r_inv = np.linalg.inv(r)
    covariance = r_inv @ r_inv.T
    residuals = (y_arr - design @ coef) * weights
    chi2 = float(residuals @ residuals)
    dof = int(x_arr.size - n_par)
    scaled = sigma is None
    if scaled:
        covariance = covariance * (chi2 / dof)
    return FitResult(
        coefficients=coef, covariance=covariance, chi2=chi2, dof=dof, x0=float(x0), scaled=scaled,
        x=x_arr, y=y_arr, sigma=s_arr,
    )


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
    """Polynomial extrapolation of y(x) to x = ``to`` with its fitted error.

    E.g. a continuum limit ``extrapolate(a, y, degree=2)`` or an infinite-volume limit
    ``extrapolate(1/N, y)``.  The provenance records the fit (coefficients, χ²/dof, data) and
    whether the error comes from ``sigma`` or from the residual variance.
    """
    fit = fit_polynomial(x, y, sigma=sigma, degree=degree, x0=to)
    return fit.value_at(to, name=name, unit=unit)
