"""The DMRG truncation error is calibrated against ED at the "test" size of its calibration cases.

One truncating N = 10 chain near θ = π at χ = 8 (χ_ref = 4, χ_mid = 6), four correlated points; a systematic 20× too wide
(median σ/|Δ| > 5) or 20× too narrow (|z| > 2) misses the goal here.
"""

from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="module")
def report():
    pytest.importorskip("tenpy")
    from qlat.analysis.calibration import run_calibration

    return run_calibration(estimators=["dmrg"], size="test", seed=0)


def test_dmrg_cases_are_registered():
    from qlat.analysis.calibration import load_cases

    assert load_cases()["dmrg"].family == "ground-state"


def test_dmrg_meets_the_goal_at_test_size(report):
    summary = report.summary("dmrg")
    assert summary.n_points == 4 and summary.n_warned == 0
    assert summary.goal_met, report.table()
    assert 0.5 <= summary.median_tightness <= 5.0
    for p in report.points_of("dmrg"):
        assert p.reference == "ed" and math.isfinite(p.z) and abs(p.z) <= 2.0
        assert p.estimate.systematic > 0 and abs(p.delta) > 1e-10  # really truncated
        assert p.estimate.provenance["systematic_sources"] == {"truncation": p.estimate.systematic}
        assert "discarded weight" in p.estimate.provenance["truncation"]["method"]
        assert {"N", "a", "m", "theta", "formulation", "chi"} <= set(p.point)
