"""Polynomial fits and extrapolations: exact recovery, error coverage, bad input."""

import numpy as np
import pytest

from qlat.analysis.extrapolation import extrapolate, fit_polynomial
from qlat.core.errors import ParameterError


def test_exact_recovery_of_polynomial():
    x = np.array([0.2, 0.35, 0.5, 0.8, 1.1])
    y = 0.3 - 1.2 * (x - 0.1) + 0.7 * (x - 0.1) ** 2
    fit = fit_polynomial(x, y, degree=2, x0=0.1)
    assert np.allclose(fit.coefficients, [0.3, -1.2, 0.7], atol=1e-12)
    assert fit.chi2 < 1e-24
    est = extrapolate(x, y, degree=2, to=0.1, name="y", unit="g")
    assert est.value == pytest.approx(0.3, abs=1e-12)
    assert est.error < 1e-10
    assert est.name == "y" and est.unit == "g"
    assert "residual variance" in est.provenance["error_scaling"]
    assert np.allclose(fit(x), y)


def test_weighted_fit_uses_sigma_and_says_so():
    x = [0.1, 0.2, 0.3]
    est = extrapolate(x, [1.0, 1.1, 1.2], sigma=[0.01, 0.01, 0.01], degree=1)
    assert est.value == pytest.approx(0.9)
    # Straight line through three equally spaced points: Var(c0) = σ² Σx²/(nΣx² − (Σx)²).
    xs = np.array(x)
    var = 1e-4 * np.sum(xs**2) / (3 * np.sum(xs**2) - np.sum(xs) ** 2)
    assert est.error == pytest.approx(np.sqrt(var), rel=1e-10)
    assert "given sigma" in est.provenance["error_scaling"]


@pytest.mark.parametrize("weighted", [True, False])
def test_error_coverage_on_noisy_data(weighted):
    rng = np.random.default_rng(2024)
    x = np.linspace(0.1, 1.0, 8)
    # Heteroscedastic errors for the weighted fit; equal errors for the unweighted one, where the
    # residual-variance estimate is exact and z follows Student's t with n − 3 = 5 dof.
    sigma = 0.02 * (1 + x) if weighted else np.full(x.size, 0.03)
    truth = lambda t: -0.16 + 0.05 * t - 0.03 * t**2  # noqa: E731
    z = []
    for _ in range(2000):
        y = truth(x) + sigma * rng.standard_normal(x.size)
        est = extrapolate(x, y, sigma=sigma if weighted else None, degree=2, to=0.0)
        z.append((est.value - truth(0.0)) / est.error)
    z = np.array(z)
    # Weighted: z ~ N(0, 1).  Unweighted: z ~ Student t with 5 dof (variance 5/3).
    expected_var = 1.0 if weighted else 5.0 / 3.0
    n = z.size
    assert abs(z.mean()) < 4 * np.sqrt(expected_var / n)
    # Standard error of the sample variance ≈ var·sqrt(2/(n−1)) (normal); t5 has heavier tails,
    # kurtosis excess 6 → se = var·sqrt((2 + 6)/n).
    se = expected_var * np.sqrt((2.0 if weighted else 8.0) / n)
    assert abs(z.var() - expected_var) < 4 * se
    # one-σ coverage of a normal: 68.3 %
    if weighted:
        cover = np.mean(np.abs(z) < 1)
        assert abs(cover - 0.6827) < 4 * np.sqrt(0.6827 * 0.3173 / n)


def test_bad_input():
    with pytest.raises(ParameterError, match="x"):
        extrapolate([0.1, 0.2], [1.0, 2.0], degree=1)  # no sigma: needs 3 points
    with pytest.raises(ParameterError, match="x"):
        extrapolate([0.1, 0.2], [1.0, 2.0], sigma=[0.1, 0.1], degree=2)
    with pytest.raises(ParameterError, match="sigma"):
        extrapolate([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], sigma=[0.1, 0.0, 0.1])
    with pytest.raises(ParameterError, match="degree"):
        fit_polynomial([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], degree=-1)
    with pytest.raises(ParameterError, match="y"):
        fit_polynomial([0.1, 0.2, 0.3], [1.0, 2.0])
    with pytest.raises(ParameterError, match="x"):
        fit_polynomial([0.1, 0.1, 0.1, 0.1], [1.0, 2.0, 3.0, 4.0], degree=1)
