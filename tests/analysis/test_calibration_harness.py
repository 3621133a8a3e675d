"""The calibration harness: coverage, tightness and warnings are counted as documented."""

import json
import math

import numpy as np
import pytest

from qlat.analysis.calibration import harness
from qlat.analysis.calibration.harness import CalibrationPoint, CalibrationReport, calibration_case, run_calibration
from qlat.core.errors import ParameterError
from qlat.core.estimate import Estimate


@pytest.fixture
def toy_cases(monkeypatch):
    monkeypatch.setattr(harness, "CASES", {})
    monkeypatch.setattr(harness, "load_cases", lambda: dict(harness.CASES))

    def make(scale_error):
        def cases(rng, size):
            n = {"test": 400, "quick": 400, "full": 4000}[size]
            for i in range(n):
                exact = float(rng.normal())
                est = Estimate(exact + rng.normal(scale=0.1), 0.1 * scale_error, name="x")
                if i == 0:
                    est = Estimate(exact + 10.0, 0.1, name="x").with_warning("bad point", emit=False)
                yield CalibrationPoint(estimator=f"toy{scale_error}", observable="x", estimate=est, exact=exact,
                                       reference="toy", point={"i": i})
        return cases

    for s in (1.0, 0.25, 30.0):
        calibration_case(f"toy{s}", family="toy", description="Gaussian toy")(make(s))


def test_calibrated_narrow_and_wide_bars_are_told_apart(toy_cases, tmp_path):
    report = run_calibration(size="test", seed=3)
    good, narrow, wide = (report.summary(f"toy{s}") for s in (1.0, 0.25, 30.0))
    assert good.goal_met and 0.93 < good.coverage[2] < 0.98 and 0.6 < good.coverage[1] < 0.76
    assert good.n_warned == 1  # the warned outlier is counted apart, not in the coverage
    assert not narrow.coverage_goal_met and narrow.tightness_goal_met
    assert wide.coverage_goal_met and not wide.tightness_goal_met and wide.median_tightness > 20
    text = report.table()
    assert "MISSED" in text and "met" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert len(data["points"]) == 1200 and data["summaries"][0]["goal_met"]
    again = CalibrationReport.from_dict(data)  # a recorded run read back: the same table, points and z
    assert again.table() == text and [p.z for p in again.points] == pytest.approx([p.z for p in report.points])
    report.plot(str(tmp_path / "calibration.png"))
    assert (tmp_path / "calibration.png").stat().st_size > 1000


def test_streams_are_per_estimator_and_names_are_checked(toy_cases):
    a = run_calibration(estimators=["toy1.0"], size="test", seed=5)
    b = run_calibration(estimators=["toy30.0", "toy1.0"], size="test", seed=5)
    assert [p.exact for p in a.points_of("toy1.0")] == [p.exact for p in b.points_of("toy1.0")]
    with pytest.raises(ParameterError, match="estimators"):
        run_calibration(estimators=["nope"], size="test")
    with pytest.raises(ParameterError, match="size"):
        run_calibration(size="huge")
    with pytest.raises(ParameterError, match="already has"):
        calibration_case("toy1.0", family="toy", description="again")(lambda rng, size: ())


def test_point_arithmetic():
    p = CalibrationPoint("e", "x", Estimate(1.3, 0.3, systematic=0.4), exact=1.0, reference="r", exact_error=0.0)
    assert p.sigma == pytest.approx(0.5) and p.z == pytest.approx(0.6) and p.tightness == pytest.approx(0.5 / 0.3)
    exact = CalibrationPoint("e", "x", Estimate(1.0), exact=1.0, reference="r")
    assert exact.z == 0.0 and math.isnan(exact.tightness)
    assert np.isinf(CalibrationPoint("e", "x", Estimate(1.1), exact=1.0, reference="r").z)


def test_replaced_re_records_some_estimators_and_keeps_the_others_in_order(toy_cases):
    """A merge replaces the rows and points of the estimators run again, keeps every other one as recorded,
    orders them as registered, and refuses a run of another size or seed (its points are other draws)."""
    order = ["toy1.0", "toy0.25", "toy30.0"]
    recorded = CalibrationReport.from_dict(json.loads(json.dumps(
        run_calibration(estimators=["toy30.0", "toy0.25"], size="test", seed=3).to_dict())))
    new = run_calibration(estimators=["toy1.0", "toy0.25"], size="test", seed=3)
    merged = recorded.replaced(new, order=order)
    assert [s.estimator for s in merged.summaries] == order and merged.params["estimators"] == order
    assert [p.estimator for p in merged.points] == [name for name in order for _ in range(400)]
    assert merged.summary("toy30.0") == recorded.summary("toy30.0")  # kept as recorded
    assert merged.points_of("toy30.0") == recorded.points_of("toy30.0")
    assert merged.summary("toy0.25") is new.summary("toy0.25")  # replaced
    assert merged.points_of("toy1.0") == new.points_of("toy1.0")  # added
    assert merged.params["updates"][-1]["estimators"] == ["toy1.0", "toy0.25"]
    assert merged.params["created_utc"] == recorded.params["created_utc"]
    for other in ({"seed": 4}, {"size": "quick"}):
        moved = CalibrationReport(new.points, new.summaries, {**new.params, **other})
        with pytest.raises(ParameterError, match="update: the recorded report is --size test --seed 3"):
            recorded.replaced(moved, order=order)
