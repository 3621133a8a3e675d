"""``qlat slmc train`` and ``qlat sample double-exchange --sampler exact-local|slmc``, ``qlat measure``."""

import json

import numpy as np
import pytest
import torch

# importing the plug-ins registers them (until pyproject declares their entry points)
import qlat.samplers.slmc.exact_local
import qlat.samplers.slmc.sampler
import qlat.theories.double_exchange  # noqa: F401
from qlat.cli.main import main

CLUSTER = ["--shape", "2x1", "--boundary", "open", "--J", "4", "--mu", "-2.5", "--T", "0.2"]


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("slmc") / "model"
    code = main(["slmc", "train", *CLUSTER, "--model", "transformer", "--layers", "1", "--shells", "1", "--n", "20",
                 "--chains", "4", "--thermalize", "5", "--epochs", "2", "--rounds", "2", "--check", "10",
                 "--out", str(path), "--json", "--no-progress"])
    assert code == 0
    return path


def test_train_writes_a_model_and_reports_estimates(model_dir, capsys):
    card = json.loads((model_dir / "card.json").read_text())
    assert card["theory"]["shape"] == [2, 1] and card["config"]["layers"] == 1
    assert len(card["training"]["rounds"]) == 2 and "slmc_acceptance" in card["training"]["rounds"][0]
    code, out, _ = _run(capsys, ["slmc", "train", *CLUSTER, "--model", "linear", "--shells", "1", "--n", "10",
                                 "--chains", "2", "--thermalize", "2", "--check", "10", "--out",
                                 str(model_dir.parent / "lin"), "--json", "--no-progress"])
    assert code == 0
    result = json.loads(out)
    for key in ("train_mse", "val_mse", "acceptance"):
        assert set(result[key]) >= {"value", "error"}
    assert 0.0 <= result["acceptance"]["value"] <= 1.0


def test_train_grows_a_trained_transformer(model_dir, capsys):
    out = model_dir.parent / "grown"
    code, _, err = _run(capsys, ["slmc", "train", *CLUSTER, "--layers", "2", "--shells", "1", "--n", "10",
                                 "--chains", "2", "--thermalize", "2", "--epochs", "1", "--init", str(model_dir),
                                 "--out", str(out), "--no-progress"])
    assert code == 0, err
    assert json.loads((out / "card.json").read_text())["config"]["layers"] == 2
    code, _, err = _run(capsys, ["slmc", "train", *CLUSTER, "--layers", "4", "--n", "10", "--init", str(model_dir),
                                 "--out", str(out), "--no-progress"])
    assert code == 2 and err.startswith("qlat: error: --layers")


def test_sample_and_measure_with_both_samplers(model_dir, tmp_path, capsys):
    for sampler in (["--sampler", "slmc", "--model", str(model_dir)], ["--sampler", "exact-local"]):
        out_file = tmp_path / sampler[1] / "ensemble.h5"
        code, out, _ = _run(capsys, ["sample", "double-exchange", *CLUSTER, *sampler, "--n", "20", "--chains", "4",
                                     "--thermalize", "5", "--out", str(out_file.parent), "--json", "--no-progress",
                                         "--seed", "1"])
        assert code == 0
        result = json.loads(out)
        for key in ("energy", "magnetization", "staggered_magnetization", "nn_correlation", "acceptance"):
            assert np.isfinite(result[key]["value"]) and result[key]["error"] > 0
        assert result["energy"]["unit"] == "t"
        code, out, _ = _run(capsys, ["measure", str(out_file), "--obs", "structure_factor", "--json"])
        assert code == 0
        assert "structure_factor[1,0]" in json.loads(out)


@pytest.mark.parametrize("argv,flag", [
    (["--L", "1", "--J", "1", "--T", "1", "--sampler", "exact-local"], "--L"),
    (["--L", "4", "--J", "1", "--T", "0", "--sampler", "exact-local"], "--T"),
    (["--L", "4", "--J", "1", "--T", "0.2", "--boundary", "twisted", "--sampler", "exact-local"], "--boundary"),
])
def test_bad_sample_input_is_one_line_naming_the_flag(argv, flag, capsys):
    code, _, err = _run(capsys, ["sample", "double-exchange", *argv, "--n", "20", "--no-progress"])
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"qlat: error: {flag}")


def test_a_model_for_another_coupling_is_refused(model_dir, capsys):
    argv = ["sample", "double-exchange", "--shape", "2x1", "--boundary", "open", "--J", "3", "--mu", "-2.5",
            "--T", "0.2", "--sampler", "slmc", "--model", str(model_dir), "--n", "20", "--no-progress"]
    code, _, err = _run(capsys, argv)
    assert code == 2 and err.count("\n") == 1 and "--model" in err
    code, _, err = _run(capsys, ["slmc", "train", "--L", "1", "--J", "1", "--T", "1", "--out", "/nonexistent/x"])
    assert code == 2 and err.startswith("qlat: error: --L")


def test_non_unit_spins_in_a_file_are_refused(tmp_path, capsys):
    from qlat.core.ensemble import Ensemble
    from qlat.samplers.base import SampleBatch
    from qlat.samplers.slmc.exact_local import ExactLocalMetropolis
    from qlat.theories.double_exchange import DoubleExchangeTheory

    th = DoubleExchangeTheory((2, 2), J=1.0, T=1.0)
    sampler = ExactLocalMetropolis()
    state = sampler.init_state(th, chains=2, seed=0)
    configs = 1.5 * th.hot_start(20 * 2, generator=torch.Generator().manual_seed(1)).reshape(20, 2, 3, 2, 2)
    batch = SampleBatch(configurations=configs, accepted=np.ones((20, 2)), delta_h=np.full((20, 2), np.nan))
    path = tmp_path / "bad.h5"
    with Ensemble.create(path, theory=th, sampler=sampler, chains=2, seed=0) as ens:
        ens.append(batch, state)
    code, _, err = _run(capsys, ["measure", str(path), "--obs", "magnetization"])
    assert code == 2 and err.count("\n") == 1 and "unit length" in err
