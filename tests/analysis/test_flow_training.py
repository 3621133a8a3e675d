"""A flow trained into a folder from Python (qlat.analysis.flow_training): what `qlat flow train` prints and resumes."""

from __future__ import annotations

import pytest

from qlat.analysis.flow_training import flow_theory, flow_training_request
from qlat.core.errors import ParameterError

ARCH = {"n_layers": 2, "hidden": [4], "kernel_size": 3, "z2": False}


def test_flow_theory_builds_the_theory_and_names_what_is_wrong():
    phi4 = flow_theory("phi4", L=4, m2=-1.0, lam=1.0)
    assert phi4.params()["m2"] == -1.0 and phi4.params()["lam"] == 1.0 and tuple(phi4.params()["shape"]) == (4, 4)
    assert flow_theory("u1", L=4, beta=2.0).params()["beta"] == 2.0
    names = {"L": "--L", "m2/lam": "--m2/--lam", "bins": "--bins", "beta": "--beta", "theory": "THEORY"}
    for kwargs, flag in (({"theory": "u1", "L": 6, "beta": 1.0}, "--L"),
                         ({"theory": "u1", "L": 4}, "--beta"),
                         ({"theory": "u1", "L": 4, "beta": 1.0, "m2": 1.0}, "--m2/--lam"),
                         ({"theory": "phi4", "L": 4, "m2": 1.0}, "--m2/--lam"),
                         ({"theory": "phi4", "L": 4, "m2": 1.0, "lam": 1.0, "beta": 1.0}, "--beta"),
                         ({"theory": "phi4", "L": 4, "m2": 1.0, "lam": 1.0, "bins": 3}, "--bins"),
                         ({"theory": "xy", "L": 4}, "THEORY")):
        with pytest.raises(ParameterError) as err:
            flow_theory(**kwargs, names=names)
        assert err.value.parameter == flag


@pytest.mark.filterwarnings("ignore::qlat.core.errors.QlatWarning")  # a 3-step flow has heavy-tailed weights
def test_training_resumes_to_its_total_and_refuses_another_seed(tmp_path):
    theory = flow_theory("phi4", L=4, m2=-1.0, lam=1.0)

    def request(steps, seed=3):
        return flow_training_request(theory, ARCH, steps=steps, batch=8, lr=1e-3, clip_norm=10.0, seed=seed,
                                     gradient="reparam")

    first = request(3).run(tmp_path, eval_n=32)
    assert not first.interrupted and first.to_dict()["steps"] == 3 and first.to_dict()["seed"] == 3
    assert {"kl", "ess", "acceptance"} <= set(first.to_dict()) and first.title.startswith(f"{tmp_path}: 3 steps")
    assert first.table().splitlines()[0] == first.title
    resumed = request(5).run(tmp_path, eval_n=32)
    assert resumed.to_dict()["steps"] == 5  # --steps is the total: two more
    with pytest.raises(ParameterError) as err:
        request(6, seed=4).run(tmp_path, eval_n=32, names={"seed": "--seed"})
    assert err.value.parameter == "--seed"
    with pytest.raises(ParameterError) as err:
        flow_training_request(theory, ARCH, steps=6, batch=16, lr=1e-3, clip_norm=10.0, seed=3,
                              gradient="reparam").run(tmp_path, eval_n=32, names={"new_phase": "--new-phase"})
    assert err.value.parameter == "batch" and "--new-phase" in str(err.value)
