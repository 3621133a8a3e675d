"""``qlat calibrate`` writes the report, its plot and the seed; the table says which goal is met."""

import json

import pytest

from qlat.analysis.calibration import harness
from qlat.analysis.calibration.harness import CalibrationPoint, calibration_case
from qlat.cli.main import main
from qlat.core.estimate import Estimate


def _only_toys(monkeypatch):
    """Only the toys registered next are calibration cases: the command's own ``load_cases`` (imported from
    the package) is replaced too, or it would import and register every real family (a minute of chains)."""
    import qlat.analysis.calibration

    monkeypatch.setattr(harness, "CASES", {})
    monkeypatch.setattr(harness, "load_cases", lambda: dict(harness.CASES))
    monkeypatch.setattr(qlat.analysis.calibration, "load_cases", harness.load_cases)


@pytest.fixture
def one_toy_estimator(monkeypatch):
    _only_toys(monkeypatch)

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
    assert sorted(p.name for p in out.iterdir()) == [".qlat-lock", "calibration.json", "calibration.png"]


@pytest.fixture
def two_toy_estimators(monkeypatch):
    _only_toys(monkeypatch)
    for name, shift in (("toyA", 0.0), ("toyB", 0.0)):
        @calibration_case(name, family="toy", description="unit Gaussian")
        def cases(rng, size, name=name, shift=shift):
            for _ in range(20):
                exact = float(rng.normal())
                yield CalibrationPoint(estimator=name, observable="x", reference="toy", exact=exact,
                                       estimate=Estimate(exact + shift + rng.normal(), 1.0))
    return harness.CASES


def test_update_re_records_one_estimator_and_keeps_the_others(two_toy_estimators, tmp_path, capsys):
    out = tmp_path / "cal"
    base = ["calibrate", "--size", "test", "--out", str(out), "--no-progress"]
    assert main(base + ["--seed", "4"]) == 0
    first = json.loads((out / "calibration.json").read_text())
    two_toy_estimators["toyA"] = harness.CaseGenerator(  # toyA is fixed: re-record it alone
        "toyA", "toy", "changed", lambda rng, size: [CalibrationPoint(
            estimator="toyA", observable="x", reference="toy", exact=0.0, estimate=Estimate(0.5, 1.0))])
    capsys.readouterr()
    assert main(base + ["--estimators", "toyA", "--update"]) == 0  # the recorded seed 4 is taken
    assert "re-recorded toyA" in capsys.readouterr().out
    data = json.loads((out / "calibration.json").read_text())
    assert [s["estimator"] for s in data["summaries"]] == ["toyA", "toyB"]
    assert data["summaries"][0]["n_points"] == 1 and data["summaries"][1] == first["summaries"][1]
    assert data["points"][1:] == first["points"][20:] and data["points"][0]["value"] == 0.5
    assert data["command"] == first["command"] == "qlat calibrate --size test --seed 4"
    assert data["commands"] == [first["command"], "qlat calibrate --size test --seed 4 --estimators toyA --update"]
    assert data["params"]["seed"] == 4 and data["params"]["updates"][0]["estimators"] == ["toyA"]
    assert sorted(p.name for p in out.iterdir()) == [".qlat-lock", "calibration.json", "calibration.png"]


@pytest.mark.parametrize("argv, needle", [
    (["--seed", "5"], "--update: the recorded report is --size test --seed 4; this run is --size test --seed 5"),
    (["--seed", "4", "--size", "quick"], "--update: the recorded report is --size test --seed 4"),
    (["--seed", "4", "--out", "{tmp}/elsewhere"], "--update: there is no"),
])
def test_update_refuses_another_size_seed_or_a_missing_file(two_toy_estimators, tmp_path, capsys, argv, needle):
    out = tmp_path / "cal"
    assert main(["calibrate", "--size", "test", "--seed", "4", "--out", str(out), "--no-progress"]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    rest = [] if "--out" in argv else ["--out", str(out)]
    assert main(["calibrate", "--size", "test", "--estimators", "toyA", "--update", "--no-progress", *argv, *rest]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # nothing written
    assert not (tmp_path / "elsewhere").exists()


def test_a_second_writer_is_refused_while_the_folder_is_locked(two_toy_estimators, tmp_path, capsys):
    from qlat.core.outdir import lock_folder

    out = tmp_path / "cal"
    assert main(["calibrate", "--size", "test", "--seed", "4", "--out", str(out), "--no-progress"]) == 0
    before = (out / "calibration.json").read_bytes()
    fd = lock_folder(out, flag="--out")  # another qlat process writing there now
    try:
        capsys.readouterr()
        assert main(["calibrate", "--size", "test", "--seed", "4", "--estimators", "toyA", "--update",
                     "--out", str(out), "--no-progress"]) == 2
        assert "--out: another qlat process is writing to this folder now" in capsys.readouterr().err
    finally:
        import os

        os.close(fd)
    assert (out / "calibration.json").read_bytes() == before


@pytest.mark.parametrize("damage", ["points", "summaries"])
def test_update_refuses_a_damaged_report_before_running(two_toy_estimators, tmp_path, capsys, damage):
    """A recorded file that is JSON with the right keys but an unreadable point or summary is refused in one
    line before any point runs (not a KeyError traceback after the whole run), and nothing is written."""
    out = tmp_path / "cal"
    assert main(["calibrate", "--size", "test", "--seed", "4", "--out", str(out), "--no-progress"]) == 0
    path = out / "calibration.json"
    data = json.loads(path.read_text())
    data[damage] = [{"estimator": "toyA"}]
    path.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    ran = []
    two_toy_estimators["toyA"] = harness.CaseGenerator("toyA", "toy", "spy", lambda rng, size: ran.append(1) or [])
    capsys.readouterr()
    assert main(["calibrate", "--size", "test", "--estimators", "toyA", "--update", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--update: " in err[0] and "is a damaged calibration report" in err[0], err
    assert not ran and {p.name: p.read_bytes() for p in out.iterdir()} == before
