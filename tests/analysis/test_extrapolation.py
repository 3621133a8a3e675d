"""Polynomial fits and extrapolations: exact recovery, error coverage, bad input."""

import math

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


# --- model variation (extrapolate_models) ------------------------------------------------------
from qlat.analysis.extrapolation import FitModel, extrapolate_models, fit_powers, model_set  # noqa: E402
from qlat.core.errors import QlatWarning  # noqa: E402


def test_fit_powers_leading_form_and_model_names():
    x = np.array([0.1, 0.2, 0.3, 0.45])
    y = 0.7 - 2.0 * x**2
    fit = fit_powers(x, y, powers=(0, 2))
    assert np.allclose(fit.coefficients, [0.7, -2.0]) and fit.dof == 2 and fit.degree == 2
    assert fit(0.0) == pytest.approx(0.7) and "powers [0, 2]" in fit.summary()["fit"]
    assert FitModel.polynomial(2, drop=1).name == "degree 2, drop 1" and FitModel((0, 2)).form == "powers 0,2"
    models = model_set(degrees=(1, 2), drops=(0, 1), leading=(0, 2))
    assert len(models) == 6 and FitModel((0, 2), 1) in models
    for bad in ((1, 2), (0, 0, 1), (2, 0)):
        with pytest.raises(ParameterError, match="powers"):
            FitModel(bad)


def test_exact_curved_data_reject_the_line_and_split_the_spread():
    """Exact data from a cubic: the line and the parabola are excluded by χ² on the common residual
    scale, the value is the cubic's, and fit_model² + fit_range² is the Akaike-weighted variance."""
    x = np.linspace(0.05, 0.4, 7)
    y = 1.0 + 0.8 * x - 1.5 * x**2 + 2.0 * x**3 + 1e-7 * np.sin(40 * x)  # a tiny non-polynomial remainder
    avg = extrapolate_models(x, y, models=model_set(degrees=(1, 2, 3), drops=(0, 1)), name="y", unit="g")
    est = avg.estimate
    assert abs(est.value - 1.0) < 5 * est.total_error and est.total_error < 1e-5
    weights = {c.model.name: c.weight for c in avg.candidates}
    assert weights["degree 1"] < 1e-6 and weights["degree 1, drop 1"] < 1e-6
    assert avg.preferred.model.powers == (0, 1, 2, 3)
    values = np.array([c.value for c in avg.candidates])
    w = np.array([c.weight for c in avg.candidates])
    sources = est.provenance["systematic_sources"]
    assert set(sources) == {"fit_model", "fit_range"}
    assert sources["fit_model"] ** 2 + sources["fit_range"] ** 2 == pytest.approx(float(w @ (values - est.value) ** 2))
    assert est.systematic == pytest.approx(math.hypot(*sources.values()))
    assert est.value == pytest.approx(float(w @ values)) and not est.warnings
    # the one-model path is unchanged: a straight line through curved data misses by many of its own σ
    line = extrapolate(x, y, degree=1)
    assert abs(line.value - 1.0) > 5 * line.error


def test_zero_dof_extrapolation_says_so_in_the_number(recwarn):
    with pytest.warns(QlatWarning, match="0 degrees of freedom in every model"):
        avg = extrapolate_models([0.1, 0.2], [1.0, 1.1], sigma=[0.01, 0.01], models=[FitModel.polynomial(1)])
    est = avg.estimate
    assert any("0 degrees of freedom in every model" in w and "zero_dof" in w for w in est.provenance["warnings"])
    # the whole extrapolation step (0.9 from the nearest point 1.0) is the systematic
    assert est.provenance["systematic_sources"]["zero_dof"] == pytest.approx(0.1)
    assert est.systematic >= 0.1 and est.value == pytest.approx(0.9)


def test_single_tested_model_warns_only_when_the_limit_moves_beyond_its_bar():
    x = [0.6, 0.4, 0.2]
    far = extrapolate_models(x, [1.3, 1.2, 1.1], models=model_set(degrees=(1, 2), drops=(0, 1)), emit=False)
    assert any("only one model" in w for w in far.estimate.warnings)
    near = extrapolate_models(x, [1.0 + 1e-9, 1.0 - 1e-9, 1.0], models=model_set(degrees=(1,), drops=(0, 1)),
                              emit=False)
    assert not near.estimate.warnings


def test_input_systematics_are_propagated_and_named():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    y = 2.0 + 0.5 * x
    trunc = np.full(4, 1e-3)
    avg = extrapolate_models(x, y, sigma=np.full(4, 1e-2), systematics={"truncation": trunc},
                             models=[FitModel.polynomial(1)], emit=False)
    # the statistical error propagates sigma alone (the weights use the total error, equal here)
    plain = extrapolate(x, y, sigma=np.full(4, 1e-2), degree=1)
    assert avg.estimate.error == pytest.approx(plain.error, rel=1e-6)
    # the larger of a common shift (moves the intercept by 1e-3) and independent shifts (√Σa²·1e-3)
    independent = plain.error / 1e-2 * 1e-3
    assert independent > 1e-3
    assert avg.estimate.provenance["systematic_sources"]["truncation"] == pytest.approx(independent)
    common = extrapolate_models(x[1:], y[1:], systematics={"truncation": trunc[1:] * np.array([1, 1, 3])},
                                models=[FitModel.polynomial(0)], emit=False)
    assert common.estimate.provenance["systematic_sources"]["truncation"] == pytest.approx(5e-3 / 3)
    with pytest.raises(ParameterError, match="systematics"):
        extrapolate_models(x, y, systematics={"truncation": [1e-3]})


def _noisy_curved_coverage(models, trials=300, rel=1e-3, seed=11, warned=False, min_dof=0):
    rng = np.random.default_rng(seed)
    truth = lambda t: 0.025 * (1 + 0.35 * t - 2.0 * t**2 + 6.0 * t**3)  # noqa: E731
    z, tight = [], []
    for _ in range(trials):
        x = np.sort(rng.uniform(0.04, 0.25, size=int(rng.integers(5, 8))))
        sigma = rel * truth(x) * rng.uniform(0.7, 1.3, size=x.size)
        est = extrapolate_models(x, truth(x) + sigma * rng.standard_normal(x.size), sigma=sigma, models=models,
                                 min_dof=min_dof, emit=False).estimate
        if est.warnings and not warned:
            continue
        d = est.value - truth(0.0)
        z.append(d / est.total_error)
        tight.append(est.total_error / abs(d))
    return np.array(z), np.array(tight)


@pytest.mark.parametrize("min_dof", [0, 1])
def test_model_average_is_calibrated_on_noisy_curved_data(min_dof):
    """Noisy data (0.1 %) from a curved function: the averaged bar covers (|z| ≤ 2 ≥ 90 %) and is not
    wide (median σ/|Δ| ≤ 5); a straight line alone (the fixed-model path) misses the goal."""
    z, tight = _noisy_curved_coverage(model_set(degrees=(1, 2, 3), drops=(0, 1, 2)), min_dof=min_dof)
    assert z.size > 200
    assert np.mean(np.abs(z) <= 2) >= 0.90 and np.median(tight) <= 5.0
    z_line, _ = _noisy_curved_coverage([FitModel.polynomial(1)], warned=True)
    assert np.mean(np.abs(z_line) <= 2) < 0.8


def test_continuum_calibration_cases_at_test_size():
    """The continuum family of the calibration harness runs (seconds) and its unwarned points are within 3σ."""
    from qlat.analysis.calibration import run_calibration

    names = ["heavy-mass-character", "heavy-mass-ed", "scan-continuum"]
    report = run_calibration(estimators=names, size="test", seed=0)
    for name in names:
        points = report.points_of(name)
        assert points and report.summary(name).family == "continuum"
        assert all(abs(p.z) <= 3 for p in points if not p.warned)
        assert all(math.isfinite(p.estimate.total_error) and p.estimate.systematic > 0 for p in points)


@pytest.mark.slow
def test_dmrg_continuum_calibration_case_runs():
    from qlat.analysis.calibration import run_calibration

    report = run_calibration(estimators=["dmrg-continuum"], size="test", seed=0)
    (point,) = report.points_of("dmrg-continuum")
    assert "truncation" in point.estimate.provenance["systematic_sources"]
