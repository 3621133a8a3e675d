"""``qlat slhmc train`` and ``qlat sample schwinger --sampler slhmc --model DIR``."""

import json

import pytest

# importing the plug-in registers it (until the installed metadata declares its entry point)
import qlat.samplers.slhmc.sampler  # noqa: F401
from qlat.cli.main import main

THEORY = ["--L", "4", "--beta", "2", "--mass", "0.1"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("slhmc") / "model"
    code = main(["slhmc", "train", *THEORY, "--layers", "1", "--heads", "1", "--hidden", "3", "--rounds", "2",
                 "--n", "6", "--chains", "2", "--thermalize", "2", "--every", "1", "--steps", "4", "--epochs", "1",
                 "--check", "5", "--out", str(path), "--json", "--no-progress"])
    assert code == 0
    return path


def test_train_writes_a_hashed_card(model_dir, capsys):
    card = json.loads((model_dir / "card.json").read_text())
    assert card["format"] == "qlat-slhmc-model/1" and card["config"]["layers"] == 1
    assert card["theory"] == {"name": "schwinger", "shape": [4, 4], "beta": 2.0, "mass": 0.1, "nf": 2}
    assert len(card["training"]["rounds"]) == 2 and len(card["weights_sha256"]) == 64


def test_sample_with_the_model_and_refusals(model_dir, capsys, tmp_path):
    code = main(["sample", "schwinger", *THEORY, "--sampler", "slhmc", "--model", str(model_dir), "--n", "5",
                 "--thermalize", "1", "--chains", "2", "--steps", "3", "--json", "--no-progress",
                 "--out", str(tmp_path / "e")])
    out, _ = capsys.readouterr()
    assert code == 0 and "plaquette" in json.loads(out)
    code = main(["sample", "schwinger", "--L", "4", "--beta", "3", "--mass", "0.1", "--sampler", "slhmc", "--model",
                 str(model_dir), "--n", "5", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and "--model" in err and "beta" in err
    code = main(["slhmc", "train", *THEORY, "--nf", "3", "--out", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert code == 2 and "--nf" in err
    assert not (tmp_path / "x").exists()  # a refusal creates nothing


@pytest.mark.parametrize("flags, named", [(["--heads", "100000000"], "--layers/--heads/--hidden"),
                                          (["--L", "100000"], "--L"), (["--layers", "-1"], "--layers"),
                                          (["--lr", "nan"], "--lr"), (["--batch", "0"], "--batch")])
def test_train_refuses_bad_and_absurd_flags_before_creating_anything(flags, named, tmp_path, capsys):
    code = main(["slhmc", "train", *THEORY, *flags, "--out", str(tmp_path / "m"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"qlat: error: {named}") and err.count("\n") == 1, err
    assert not (tmp_path / "m").exists()
