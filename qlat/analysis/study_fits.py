r"""Least-squares fits shared by the Hamiltonian studies (spectrum, θ = π, θ-dependence, string tension).

- :func:`extrapolate_polynomial`: a polynomial extrapolation through
  :func:`qlat.analysis.extrapolation.fit_polynomial` (Cov = (AᵀWA)⁻¹), with the error inflated
  by √(χ²/dof) when the given σ do not explain the scatter (χ²/dof > 1; the PDG scale factor),
  so that a fit to deterministic data (DMRG, ED) whose model is imperfect still gets an error
  from the misfit.
- :func:`curve_fit`: a nonlinear weighted fit y ≈ f(x; p) by :func:`scipy.optimize.least_squares`,
  Cov(p) = (JᵀWJ)⁻¹ from the Jacobian at the minimum, scaled the same way (by χ²/dof when no σ
  is given: the error then comes from the residuals alone).

Both return plain dicts (value(s), error(s), χ², dof, the data) that the studies store in their
JSON, so every extrapolation can be redone from the file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qlat.analysis.extrapolation import fit_polynomial, fit_powers
from qlat.core.errors import require

__all__ = ["curve_fit", "extrapolate_polynomial"]


def extrapolate_polynomial(x: Sequence[float], y: Sequence[float], *, sigma: Sequence[float] | None = None,
                           degree: int = 1, to: float = 0.0, powers: Sequence[int] | None = None) -> dict[str, Any]:
    """Polynomial fit of y(x) of ``degree``, evaluated at ``to``: {value, error, chi2, dof, scale, fit}.

    ``powers``: the powers of (x − to) instead of 0 … degree, e.g. (0, 2) for a continuum limit
    without an O(a) term.  Without ``sigma`` the covariance is scaled by the residual variance
    (needs ≥ parameters + 1 points); with ``sigma`` (floored at 1e-12) by max(1, χ²/dof).
    """
    if sigma is not None:
        sigma = [max(float(s), 1e-12) for s in sigma]
    if powers is None:
        fit = fit_polynomial(x, y, sigma=sigma, degree=degree, x0=float(to))
    else:
        fit = fit_powers(x, y, sigma=sigma, powers=tuple(int(p) for p in powers), x0=float(to))
        degree = max(fit.exponents)
    scale = 1.0
    if sigma is not None and fit.dof > 0 and fit.chi2_per_dof > 1.0:
        scale = math.sqrt(fit.chi2_per_dof)
    error = float(math.sqrt(max(fit.covariance[0, 0], 0.0))) * scale
    return {"value": float(fit.coefficients[0]), "error": error, "chi2": float(fit.chi2), "dof": int(fit.dof),
            "scale": scale, "degree": int(degree), "at": float(to), "coefficients": fit.coefficients.tolist(),
            "powers": list(fit.exponents), "x": [float(v) for v in x], "y": [float(v) for v in y],
            "sigma": None if sigma is None else [float(s) for s in sigma]}


def curve_fit(model: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, y: Sequence[float],
              p0: Sequence[float], *, sigma: Sequence[float] | None = None,
              names: Sequence[str] | None = None) -> dict[str, Any]:
    """Weighted nonlinear least squares y ≈ model(p, x) (module docstring).

    ``x`` may be any array the model understands (e.g. an (n, 2) array of (L, n) pairs).
    Returns {params, errors, covariance, chi2, dof, scale, names}; with no degree of freedom
    the errors come from σ alone (no σ: NaN).
    """
    from scipy.optimize import least_squares

    y_arr = np.asarray(y, dtype=float)
    p0_arr = np.asarray(p0, dtype=float)
    require(y_arr.size >= p0_arr.size, "y", f"needs at least {p0_arr.size} points for {p0_arr.size} parameters",
            y_arr.size)
    s_arr = np.ones_like(y_arr) if sigma is None else np.maximum(np.asarray(sigma, dtype=float), 1e-12)

    def residuals(p: np.ndarray) -> np.ndarray:
        return (np.asarray(model(p, x), dtype=float) - y_arr) / s_arr

    res = least_squares(residuals, p0_arr, method="lm" if y_arr.size >= p0_arr.size else "trf", xtol=1e-15,
                        ftol=1e-15, gtol=1e-15, max_nfev=20000)
    chi2 = float(np.sum(res.fun**2))
    dof = int(y_arr.size - p0_arr.size)
    jac = np.asarray(res.jac, dtype=float)
    try:
        cov = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.full((p0_arr.size, p0_arr.size), math.nan)
    if sigma is None:
        scale = math.sqrt(chi2 / dof) if dof > 0 else math.nan
    else:
        scale = math.sqrt(max(1.0, chi2 / dof)) if dof > 0 else 1.0
    cov = cov * scale**2
    return {"params": res.x.tolist(), "errors": np.sqrt(np.maximum(np.diag(cov), 0.0)).tolist(),
            "covariance": cov.tolist(), "chi2": chi2, "dof": dof, "scale": scale,
            "names": list(names) if names is not None else [f"p{i}" for i in range(p0_arr.size)],
            "y": y_arr.tolist(), "sigma": None if sigma is None else s_arr.tolist()}
