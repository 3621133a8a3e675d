"""``qlat calibrate`` writes the report, its plot and the seed; the table says which goal is met."""

import json

import pytest

from qlat.analysis.calibration import harness
from qlat.analysis.calibration.harness import CalibrationPoint, calibration_case
from qlat.cli.main import main
from qlat.core.estimate import Estimate


@pytest.fixture
def one_toy_estimator(monkeypatch):
    monkeypatch.setattr(harness, "CASES", {})
    monkeypatch.setattr(harness, "load_cases", lambda: dict(harness.CASES))

    @calibration_case("toy", family="toy", description="unit Gaussian")
    def cases(rng, size):
        for _ in range(50):
            exact = float(rng.normal())
            yield CalibrationPoint(estimator="toy", observable="x", estimate=Estimate(exact + rng.normal(), 1.0),
                                   exact=exact, reference="toy")


def test_calibrate_writes_json_and_plot(one_toy_estimator, tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "--size", "test", "--seed", "4", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "toy" in text and "goal" in text and "calibration.json" in text
    data = json.loads((out / "calibration.json").read_text())
    assert data["params"]["seed"] == 4 and data["summaries"][0]["n_points"] == 50
    assert (out / "calibration.png").stat().st_size > 1000
    assert sorted(p.name for p in out.iterdir()) == ["calibration.json", "calibration.png"]
