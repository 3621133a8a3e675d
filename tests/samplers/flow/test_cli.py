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


# --- the tree flow (layout tree, --tail, --trainable, --init): docs/tree-flow.md
TREE = ["flow", "train", "u1", "--beta", "3", "--layout", "tree", "--layers", "0", "--coupling", "ncp", "--mix", "4",
        "--hidden", "4", "--batch", "8", "--lr", "0.05", "--eval-n", "32", "--seed", "1", "--no-progress", "--json"]


def _weights(out):
    import torch

    card = json.loads((out / "model.json").read_text())
    return card, torch.load(out / card["weights"]["file"], weights_only=True)


def _tail_output(weights):
    """The last linear layer of the tail MLP (weight, bias): zero while the tail is untrained."""
    keys = sorted(k for k in weights if ".net.tail." in k)
    return weights[keys[-2]], weights[keys[-1]]


def test_tree_flow_trains_shared_then_tail_in_two_phases(tmp_path, capsys):
    out = tmp_path / "m"
    assert main([*TREE, "--L", "4", "--tail", "3", "--trainable", "shared", "--steps", "3", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["architecture"]["layout"] == "tree"
    card, first = _weights(out)
    assert (card["architecture"]["layout"], card["architecture"]["tail"], card["architecture"]["n_layers"]) == \
        ("tree", 3, 0)
    assert card["training"]["config"]["trainable"] == "shared"
    assert all(float(t.abs().max()) == 0.0 for t in _tail_output(first))  # the tail kept out of phase 1
    row = next(k for k in first if k.endswith(".net.row"))
    assert not first[row].equal(_fresh_row(first[row]))  # the shared map moved
    tail_phase = [*TREE, "--L", "4", "--tail", "3", "--trainable", "tail", "--steps", "6", "--out", str(out)]
    assert main(tail_phase) == 2  # another trainable part is a new phase
    err = capsys.readouterr().err
    assert "--trainable" in err and "--new-phase" in err
    assert main([*tail_phase, "--new-phase"]) == 0
    capsys.readouterr()
    card, second = _weights(out)
    assert card["training"]["config"]["trainable"] == "tail" and card["training"]["config"]["schedule_start"] == 3
    assert [ph["trainable"] for ph in card["training"]["phases"]] == ["shared"]
    assert second[row].equal(first[row])  # the shared map fixed in phase 2
    assert any(float(t.abs().max()) > 0.0 for t in _tail_output(second))  # the tail moved


def _fresh_row(row):
    """The fresh NCP row of a tree flow with 4 components: scales linspace(−1, 1), rotation 0."""
    import torch

    init = torch.zeros_like(row)
    init[:-1] = torch.linspace(-1.0, 1.0, row.numel() - 1)
    return init


def test_tree_flow_started_from_a_small_lattice_gets_a_tail_and_samples(tmp_path, capsys):
    small, big = tmp_path / "a", tmp_path / "b"
    assert main([*TREE, "--L", "4", "--steps", "4", "--out", str(small)]) == 0
    capsys.readouterr()
    card_a, weights_a = _weights(small)
    grow = [*TREE[:-4], "--seed", "2", "--no-progress", "--json", "--L", "8", "--tail", "7", "--trainable", "tail",
            "--init", str(small), "--out", str(big)]
    assert main([*grow, "--steps", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 3 and result["architecture"]["tail"] == 7
    card_b, weights_b = _weights(big)
    origin = card_b["training"]["init_from"]
    assert origin["weights_sha256"] == card_a["weights"]["sha256"] and origin["steps_done"] == 4
    assert origin["theory"]["shape"] == [4, 4] and card_b["theory"]["shape"] == [8, 8]
    row = next(k for k in weights_a if k.endswith(".net.row"))
    assert weights_b[row].equal(weights_a[row])  # the shared map carried over, fixed by --trainable tail
    assert any(float(t.abs().max()) > 0.0 for t in _tail_output(weights_b))
    assert main([*grow, "--steps", "5"]) == 0  # the same command resumes (no new phase, init_from kept)
    capsys.readouterr()
    assert json.loads((big / "model.json").read_text())["training"]["init_from"] == origin
    other = tmp_path / "c"
    assert main([*TREE, "--L", "4", "--steps", "2", "--seed", "3", "--out", str(other)]) == 0
    capsys.readouterr()
    assert main([*grow[:-3], str(other), "--out", str(big), "--steps", "6"]) == 2  # started from another flow
    assert "--init" in capsys.readouterr().err
    assert main(["sample", "u1", "--L", "8", "--beta", "3", "--sampler", "flow", "--model", str(big), "--n", "20",
                 "--seed", "1", "--no-progress", "--out", str(tmp_path / "ens")]) == 0
    capsys.readouterr()


def test_tree_flow_refusals_name_the_flag(tmp_path, capsys):
    small = tmp_path / "a"
    assert main([*TREE, "--L", "4", "--steps", "1", "--out", str(small)]) == 0
    capsys.readouterr()
    for extra, flag in ((["--mix", "6"], "--mix"), (["--layout", "stripes", "--layers", "1"], "--layout"),
                        (["--tail", "2", "--trainable", "shared"], None)):
        argv = [*TREE, "--L", "8", "--steps", "1", "--init", str(small), *extra, "--out", str(tmp_path / "x")]
        code = main(argv)
        err = capsys.readouterr().err
        if flag is None:  # a tail added to a flow without one is the documented way
            assert code == 0, err
        else:
            assert code == 2 and f"qlat: error: {flag}" in err, err
            assert not (tmp_path / "x").exists()
