"""Calibration cases of the Monte Carlo samplers (qlat.analysis.calibration.montecarlo): registered,
seeded, points next to exact answers; the recorded numbers come from the ``full`` size (slow)."""

from __future__ import annotations

import math

import pytest

from qlat.analysis.calibration import load_cases, run_calibration

ESTIMATORS = ("hmc", "heatbath", "metropolis", "flow", "exact-local", "slmc", "pf-hmc", "det-hmc")


def test_every_sampler_has_registered_cases():
    cases = load_cases()
    for name in ESTIMATORS:
        assert name in cases and cases[name].family == "montecarlo"


def test_cheap_estimators_give_finite_z_scores_and_repeat_under_a_seed():
    names = ["metropolis", "exact-local", "slmc"]
    report = run_calibration(estimators=names, size="test", seed=3)
    again = run_calibration(estimators=["exact-local"], size="test", seed=3)
    for name in names:
        points = report.points_of(name)
        assert points, name
        for p in points:
            assert math.isfinite(p.z) and p.sigma > 0 and p.point.get("seed") is not None
            if not p.warned:
                assert abs(p.z) < 4, (name, p.observable, p.z, p.point)
    assert [p.estimate.value for p in report.points_of("exact-local")] == [p.estimate.value for p in again.points]


@pytest.mark.slow
def test_quick_calibration_of_every_sampler():
    """Over the quick set (10–50 points per estimator, so |z| <= 2 for 90 % is only a loose target):
    |z| <= 3 for at least 90 % of the unwarned points and error bars not many times the distance."""
    report = run_calibration(estimators=list(ESTIMATORS), size="quick", seed=0)
    for summary in report.summaries:
        if summary.coverage[3] is not None:
            assert summary.coverage[3] >= 0.9, report.table()
            assert summary.median_tightness is not None and summary.median_tightness <= 5, report.table()


@pytest.mark.slow
def test_exact_local_coverage_is_measured_with_power():
    """exact-local at full size: 160 points (about 150 unwarned, binomial σ ≈ 1.7 % on the coverage), so a
    bar 30 % too narrow (|z| <= 2 for ~84 %) passes with probability ~2 % and a calibrated one (95.6 %
    measured) does not miss by chance; the z spread is that of a unit normal."""
    report = run_calibration(estimators=["exact-local"], size="full", seed=1)
    summary = report.summary("exact-local")
    z = [p.z for p in report.points_of("exact-local") if not p.warned]
    assert len(z) >= 140
    assert 0.9 <= summary.coverage[2] <= 0.99 and summary.median_tightness <= 5, report.table()
    spread = math.sqrt(sum(v * v for v in z) / len(z))
    assert 0.8 < spread < 1.2, spread
