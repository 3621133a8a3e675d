"""The adiabatic family of calibration cases runs at size "test" and meets the calibration goal there.

The "test" points are small and unwarned on purpose, so a systematic error 20× too wide (median
σ/|Δ| > 5) or 20× too narrow (|z| > 2) misses the goal here.
"""

from __future__ import annotations

import math

import pytest

ESTIMATORS = ("statevector", "statevector-no-fidelity", "aer", "mps", "tdvp")


@pytest.fixture(scope="module")
def report():
    pytest.importorskip("tenpy")
    from qlat.analysis.calibration import run_calibration

    return run_calibration(estimators=list(ESTIMATORS), size="test", seed=0)


def test_every_adiabatic_estimator_is_registered():
    from qlat.analysis.calibration import load_cases

    cases = load_cases()
    for name in ESTIMATORS:
        assert cases[name].family == "adiabatic"


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_adiabatic_estimators_meet_the_goal_at_test_size(report, estimator):
    summary = report.summary(estimator)
    points = report.points_of(estimator)
    assert summary.n_points >= 3 and summary.n_warned == 0
    assert summary.goal_met, report.table()
    assert 0.5 <= summary.median_tightness <= 5.0
    for p in points:
        assert p.reference == "ed" and p.exact_error == 0.0 and math.isfinite(p.z)
        assert p.estimate.systematic > 0
        assert {"N", "a", "m", "theta", "T", "dt", "ramp", "formulation"} <= set(p.point)
    if estimator == "aer":
        assert all(p.estimate.error > 0 and p.point["shots"] > 0 for p in points)
    if estimator == "tdvp":
        assert all(set(p.estimate.provenance["systematic_sources"]) == {"adiabatic", "time_step", "truncation"}
                   for p in points)


def test_cases_are_reproducible_from_the_seed(report):
    from qlat.analysis.calibration import run_calibration

    again = run_calibration(estimators=["statevector"], size="test", seed=0)
    assert [p.point for p in again.points] == [p.point for p in report.points_of("statevector")]
    assert [p.estimate.value for p in again.points] == [p.estimate.value for p in report.points_of("statevector")]
