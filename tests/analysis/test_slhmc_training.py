"""qlat.analysis.slhmc_training: the result ``qlat slhmc train`` prints, built in the library."""

import json

import pytest

import qlat.samplers.slhmc.sampler  # noqa: F401  (registers the plug-in)
from qlat.analysis.slhmc_training import SLHMCTraining, slhmc_training_request, train_slhmc
from qlat.core.errors import ParameterError
from qlat.core.estimate import Estimate
from qlat.core.jsonio import jsonable
from qlat.theories.schwinger_wilson import SchwingerTheory


def test_summary_names_the_last_rounds_variance_and_the_first_fit():
    rounds = [{"best_val_var": 0.5, "start_val_var": 2.0}, {"best_val_var": 0.125, "start_val_var": 0.3}]
    result = {"model": "m", "config": {"kind": "attention"}, "parameters": 7, "rounds": rounds}
    line = SLHMCTraining(result).summary()
    assert line.startswith("m: attention (7 parameters)")
    assert "Var(S_eff - S) 0.125 " in line and "round 1: 2)" in line and "acceptance" not in line
    acc = Estimate(0.75, 0.05, name="acceptance")
    assert "SLHMC acceptance 0.75" in SLHMCTraining({**result, "acceptance": acc}).summary()


def test_train_records_the_seed_and_the_checked_acceptance(tmp_path):
    theory = SchwingerTheory.from_options(L=4, beta=2.0, mass=0.1, nf=2)
    training = train_slhmc(theory, tmp_path / "m", layers=0, rounds=1, n=4, chains=2, seed=3, thermalization=1,
                           every=1, n_steps=3, epochs=1, check=5)
    result = training.to_dict()
    assert result["seed"] == 3 and len(result["rounds"]) == 1
    acc = result["acceptance"]
    assert isinstance(acc, Estimate) and 0.0 <= acc.value <= 1.0 and acc.n_samples == 10
    json.dumps(jsonable(result))
    assert (tmp_path / "m" / "card.json").is_file()


@pytest.mark.parametrize("options, parameter", [
    ({"L": 5}, "L"), ({"beta": -1.0}, "beta"), ({"nf": 3}, "nf"), ({"kappa": 0.2}, "mass"), ({"mass": None}, "mass"),
    ({"layers": -1}, "layers"),
])
def test_request_builds_the_theory_and_checks_the_architecture_naming_the_parameter(options, parameter, tmp_path):
    kwargs = {"L": 4, "beta": 2.0, "mass": 0.1, "nf": 2, "layers": 1, **options}
    with pytest.raises(ParameterError) as info:
        slhmc_training_request(**kwargs)
    assert info.value.parameter == parameter
    assert list(tmp_path.iterdir()) == []


def test_request_runs_the_training_it_describes(tmp_path):
    request = slhmc_training_request(L=4, beta=2.0, kappa=0.24, nf=1, layers=0, hidden=4, seed=11)
    assert request.theory.params() == SchwingerTheory.from_options(L=4, beta=2.0, kappa=0.24, nf=1).params()
    assert not (tmp_path / "m").exists()  # nothing written by the checks
    result = request.run(tmp_path / "m", rounds=1, n=4, chains=2, thermalization=1, every=1, n_steps=3,
                         epochs=1).to_dict()
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert result["seed"] == 11 and result["config"]["kind"] == "linear" and "acceptance" not in result
    assert card["theory"] == request.theory.params()
