"""qlat.analysis.slmc_training: the theory, the effective model (fresh or from --init) and the training that
``qlat slmc train`` asks for, built and checked in the library (issue 22)."""

import json

import pytest
import torch

from qlat.analysis.slmc_training import DEFAULT_SHELLS, slmc_theory, slmc_training_request
from qlat.core.errors import ParameterError
from qlat.core.estimate import Estimate

CHAIN = {"shape": "2x1", "boundary": "open", "J": 1.0, "T": 0.2}
RUN = {"n": 6, "chains": 2, "thermalize": 2, "every": 1, "epochs": 2}


@pytest.mark.parametrize("options, parameter", [
    ({"T": -1.0}, "T"), ({"J": -1.0}, "J"), ({"shape": "3x"}, "shape"), ({"boundary": "twisted"}, "boundary"),
])
def test_theory_names_the_parameter_that_is_wrong(options, parameter):
    with pytest.raises(ParameterError) as info:
        slmc_theory(**{**CHAIN, **options})
    assert info.value.parameter == parameter


def test_shells_default_to_what_the_lattice_has():
    chain = slmc_training_request(slmc_theory(**CHAIN), model="linear")
    square = slmc_training_request(slmc_theory(L=4, J=1.0, T=0.2), model="linear")
    assert chain.network.config()["shells"] == 1  # a 2x1 chain has one pair distance
    assert square.network.config()["shells"] == DEFAULT_SHELLS
    assert slmc_training_request(slmc_theory(L=4, J=1.0, T=0.2), model="linear", shells=2).network.config()[
        "shells"] == 2


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A one-layer transformer for the 2x1 chain, trained through the request (and its result)."""
    out = tmp_path_factory.mktemp("slmc") / "m"
    request = slmc_training_request(slmc_theory(**CHAIN), model="transformer", layers=1, seed=5)
    assert not out.exists()  # the checks write nothing
    return out, request.run(out, **RUN).to_dict()


def test_request_runs_the_training_it_describes(trained):
    out, result = trained
    card = json.loads((out / "card.json").read_text())
    assert result["seed"] == 5 and result["kind"] == "transformer" and result["config"]["layers"] == 1
    assert isinstance(result["val_mse"], Estimate) and "acceptance" not in result
    assert card["theory"] == slmc_theory(**CHAIN).params() == result["theory"]


def test_init_continues_or_grows_the_trained_transformer(trained):
    out, _ = trained
    theory = slmc_theory(**CHAIN)
    fresh = slmc_training_request(theory, layers=1, seed=5).network
    same = slmc_training_request(theory, layers=1, seed=5, init=out)
    assert same.init == str(out) and same.network.config() == fresh.config()
    stored = torch.load(out / "model.pt", weights_only=True)
    assert all(torch.equal(stored[k], v) for k, v in same.network.state_dict().items())
    grown = slmc_training_request(theory, layers=2, seed=5, init=out)
    assert grown.network.config()["layers"] == 2 and grown.init == str(out)


@pytest.mark.parametrize("change, parameter, text", [
    ({"layers": 3}, "--layers", "must be 1 (continue) or 2 (grow) with this --init"),
    ({"model": "linear"}, "--init", "applies to --model transformer"),
    ({"theory": {**CHAIN, "J": 2.0}}, "--init", "was trained for another theory"),
])
def test_init_refuses_what_it_cannot_continue_naming_the_flag(trained, change, parameter, text):
    out, _ = trained
    change = dict(change)
    theory = slmc_theory(**change.pop("theory", CHAIN))
    options = {"layers": 1, "seed": 5, **change}
    with pytest.raises(ParameterError) as info:
        slmc_training_request(theory, init=out, names={"init": "--init", "layers": "--layers", "model": "--model"},
                              **options)
    assert info.value.parameter == parameter and text in str(info.value)


def test_init_refuses_a_linear_model(tmp_path):
    theory = slmc_theory(**CHAIN)
    slmc_training_request(theory, model="linear", seed=1).run(tmp_path / "lin", **RUN)
    with pytest.raises(ParameterError) as info:
        slmc_training_request(theory, init=tmp_path / "lin")
    assert info.value.parameter == "init" and "must be a transformer model" in str(info.value)
