"""``qlat flow train|eval``: JSON output, resume, refusals naming the flag."""

from __future__ import annotations

import json

import pytest

from qlat.cli.main import main

TRAIN = ["flow", "train", "u1", "--L", "4", "--beta", "1", "--layers", "2", "--hidden", "4", "--batch", "8",
         "--eval-n", "64", "--no-progress", "--json"]


def test_train_resume_and_eval(tmp_path, capsys):
    out = tmp_path / "m"
    assert main([*TRAIN, "--steps", "3", "--out", str(out)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["steps"] == 3
    for key in ("kl", "ess", "acceptance"):
        assert set(first[key]) >= {"value", "error"}
    assert 0 < first["ess"]["value"] <= 1
    assert main([*TRAIN, "--steps", "5", "--out", str(out)]) == 0  # resumed to 5 steps in total
    second = json.loads(capsys.readouterr().out)
    assert second["steps"] == 5
    card = json.loads((out / "model.json").read_text())
    assert len(card["training"]["history"]["loss"]) == 5 and "ess" in card["metrics"]
    assert main(["flow", "eval", str(out), "--n", "40", "--chains", "2", "--json", "--no-progress"]) == 0
    ev = json.loads(capsys.readouterr().out)
    for key in ("ess", "acceptance", "plaquette", "q2", "chain_acceptance"):
        assert key in ev, key
    assert ev["model"]["weights_sha256"] == card["weights"]["sha256"]


def test_refusals_name_the_flag(tmp_path, capsys):
    out = tmp_path / "m"
    assert main([*TRAIN, "--steps", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*TRAIN[:6], "2", *TRAIN[7:], "--steps", "2", "--out", str(out)]) == 2
    assert "--beta" in capsys.readouterr().err
    assert main([*TRAIN, "--layers", "3", "--steps", "2", "--out", str(out)]) == 2
    assert "--layers" in capsys.readouterr().err
    assert main(["flow", "train", "u1", "--L", "6", "--beta", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--L" in capsys.readouterr().err
    assert main(["flow", "eval", str(tmp_path / "nothing")]) == 2
    assert "MODEL_DIR" in capsys.readouterr().err


def test_cuda_refused_without_a_gpu(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main([*TRAIN, "--steps", "1", "--device", "cuda", "--out", str(tmp_path / "m")]) == 2
    assert "--device" in capsys.readouterr().err


def test_new_phase_changes_batch_and_lr(tmp_path, capsys):
    out = tmp_path / "m"
    assert main([*TRAIN, "--steps", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    bigger = [a if a != "8" else "16" for a in TRAIN]  # --batch 16
    assert main([*bigger, "--steps", "5", "--out", str(out)]) == 2  # not without --new-phase
    err = capsys.readouterr().err
    assert "--batch" in err and "--new-phase" in err
    def phase(steps):
        return [*bigger, "--lr", "5e-4", "--steps", str(steps), "--new-phase", "--out", str(out)]

    assert main(phase(5)) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 5
    card = json.loads((out / "model.json").read_text())
    config, phases = card["training"]["config"], card["training"]["phases"]
    assert (config["batch"], config["lr"], config["schedule_start"], config["steps"]) == (16, 5e-4, 3, 5)
    assert len(phases) == 1 and phases[0]["batch"] == 8 and phases[0]["until"] == 3
    assert card["training"]["history"]["lr"][3] == 5e-4
    assert main(phase(7)) == 0  # a longer phase: another restart
    capsys.readouterr()
    card = json.loads((out / "model.json").read_text())
    assert len(card["training"]["phases"]) == 2 and card["training"]["config"]["schedule_start"] == 5
    assert main(phase(7)) == 0  # the same command: nothing new
    capsys.readouterr()
    assert len(json.loads((out / "model.json").read_text())["training"]["phases"]) == 2


def test_loop_context_and_path_gradient_flags(tmp_path, capsys):
    out = tmp_path / "m"
    assert main([*TRAIN, "--context", "loops", "--gradient", "path", "--steps", "2", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["architecture"]["context"] == "loops"
    card = json.loads((out / "model.json").read_text())
    assert card["architecture"]["context"] == "loops" and card["training"]["config"]["gradient"] == "path"
    assert main([*TRAIN, "--context", "loops", "--steps", "3", "--out", str(out)]) == 2  # reparam != path
    assert "--gradient" in capsys.readouterr().err
    assert main([*TRAIN, "--context", "plaquettes", "--gradient", "path", "--steps", "3", "--out", str(out)]) == 2
    assert "--context" in capsys.readouterr().err
    assert main([*TRAIN, "--context", "wilson", "--steps", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--context" in capsys.readouterr().err
    assert main([*TRAIN, "--gradient", "score", "--steps", "1", "--out", str(tmp_path / "y")]) == 2
    assert "--gradient" in capsys.readouterr().err
