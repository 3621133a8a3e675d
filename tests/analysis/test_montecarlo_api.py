"""qlat.sample: Monte Carlo in memory, the CLI's defaults, resumable into a file, bit for bit."""

import numpy as np
import pytest

import qlat
from qlat.core.ensemble import Ensemble
from qlat.core.errors import ParameterError
from qlat.core.observable_registry import OBSERVABLES
from qlat.theories.u1 import U1Theory


@pytest.fixture(scope="module")
def theory():
    return U1Theory.from_options(L=4, ndim=2, beta=2.0)


def test_in_memory_run_is_exact_and_extends_bit_for_bit(theory):
    ens = qlat.sample(theory, "heatbath", n=120, chains=4, seed=3)
    assert ens.configurations.shape == (120, 4, 2, 4, 4) and ens.seed == 3
    assert ens.sampler.params()["thermalization"] == 100  # the command line's default, not the class's
    est = ens.estimate(["plaquette", "q2"])
    from qlat.exact.u1_character_expansion import mean_plaquette

    exact = mean_plaquette(2.0, (4, 4))
    assert abs(est["plaquette"].z_score(exact)) < 4
    assert est["plaquette"].error < 0.01  # power: a 5 % error in the plaquette could not hide
    longer = ens.extend(30)
    one_run = qlat.sample(theory, "heatbath", n=150, chains=4, seed=3)
    assert np.array_equal(longer.configurations, one_run.configurations)
    assert "exact" in ens.table()


def test_file_run_resumes_and_equals_the_memory_run(theory, tmp_path):
    path = tmp_path / "u1.h5"
    first = qlat.sample(theory, "heatbath", n=60, chains=2, seed=5, path=path)
    assert first.path == path and first.n_samples == 60
    resumed = qlat.sample(theory, "heatbath", n=90, chains=2, seed=5, path=path)
    memory = qlat.sample(theory, "heatbath", n=90, chains=2, seed=5)
    assert np.array_equal(resumed.configurations, memory.configurations)
    with pytest.raises(ParameterError, match="seed"):
        qlat.sample(theory, "heatbath", n=90, chains=2, seed=6, path=path)
    saved = memory.save(tmp_path / "copy.h5")
    with Ensemble.open(saved) as ens:
        assert np.array_equal(np.asarray(ens.configurations), memory.configurations)
        assert ens.checksum


def test_seed_is_drawn_and_recorded_and_bad_input_named(theory):
    ens = qlat.sample(theory, "heatbath", n=5, chains=1)
    assert isinstance(ens.seed, int) and ens.seed >= 0
    with pytest.raises(ParameterError, match="sampler_options"):
        qlat.sample(theory, "heatbath", n=5, chains=1, seed=0, n_steps=3)
    with pytest.raises(ParameterError, match="n"):
        qlat.sample(theory, "heatbath", n=10**9, chains=10**3, seed=0)
    with pytest.raises(ParameterError, match="theory"):
        qlat.sample("u1", "hmc", n=10)


def test_observables_take_the_arrays_the_samplers_return(theory):
    ens = qlat.sample(theory, "heatbath", n=6, chains=3, seed=1)
    plaquette = OBSERVABLES.get("plaquette").realize(theory)
    per_config = plaquette(ens.configurations)  # (n, chains, ...) numpy, as returned
    assert tuple(per_config.shape) == (6, 3)
    flat = plaquette(ens.configurations.reshape(18, 2, 4, 4))
    assert np.allclose(per_config.reshape(-1).numpy(), flat.numpy())
    with pytest.raises(ParameterError, match="field shape"):
        plaquette(np.zeros((3, 4, 4)))


def test_estimates_of_one_ensemble_keep_their_correlation(theory):
    """Two estimates from one chain carry its history: P - P' (two separate calls) has error 0,
    and a derived difference of overlapping windows is smaller than the uncorrelated sum."""
    ens = qlat.sample(theory, "heatbath", n=120, chains=2, seed=5)
    first = ens.estimate(["plaquette"])["plaquette"]
    second = ens.estimate(["plaquette"])["plaquette"]
    assert first is not second
    assert (first - second).error == 0.0 and (first - second).value == 0.0
    linear = 2.0 * (1 - first)  # a function of one estimate: exactly linear propagation of its own error
    assert linear.error == pytest.approx(2.0 * first.error, rel=1e-9) and linear.value == pytest.approx(
        2.0 * (1 - first.value), rel=1e-12)
    late = ens.estimate(["plaquette"], skip=12)["plaquette"]
    uncorrelated = (first.error**2 + late.error**2) ** 0.5
    assert (first - late).error < 0.8 * uncorrelated
    other = qlat.sample(theory, "heatbath", n=120, chains=2, seed=6).estimate(["plaquette"])["plaquette"]
    assert (first - other).error == pytest.approx((first.error**2 + other.error**2) ** 0.5, rel=0.35)


def test_chain_request_builds_both_from_their_options_and_refuses_a_sampler_that_cannot(tmp_path):
    from qlat.analysis.montecarlo import chain_request

    request = chain_request("u1", "heatbath", L=4, ndim=2, theory_options={"beta": 2.0},
                            sampler_options={"thermalization": 7})
    assert request.theory.params() == U1Theory.from_options(L=4, ndim=2, beta=2.0).params()
    assert request.sampler.params()["thermalization"] == 7
    with pytest.raises(ParameterError) as info:  # the sampler's own start says why
        chain_request("schwinger", "pf-hmc", L=4, ndim=2, theory_options={"beta": 2.0, "mass": 0.1, "nf": 1},
                      names={"sampler": "--sampler"})
    assert info.value.parameter == "--sampler" and "two Wilson flavours" in str(info.value)
    with pytest.raises(ParameterError) as info:
        chain_request("nope", "hmc", L=4, ndim=2, names={"theory": "THEORY"})
    assert info.value.parameter == "THEORY"
    with pytest.raises(ParameterError) as info:
        chain_request("u1", "heatbath", L=4, ndim=2, theory_options={"beta": -1.0})
    assert info.value.parameter == "beta"


def test_chain_request_runs_into_a_file_and_resumes_bit_for_bit(tmp_path):
    from qlat.analysis.montecarlo import chain_request

    request = chain_request("u1", "heatbath", L=4, ndim=2, theory_options={"beta": 2.0})
    kept = {}
    for label, steps in (("resumed", (10, 25)), ("straight", (25,))):
        with Ensemble.create(tmp_path / f"{label}.h5", theory=request.theory, sampler=request.sampler, chains=2,
                             seed=4, provenance={"start": "hot"}) as ens:
            for n in steps:
                request.run_into(ens, n=n, chunk=4, start="hot")
                assert ens.n_samples == n
            kept[label] = np.asarray(ens.configurations)
    assert np.array_equal(kept["resumed"], kept["straight"])
    memory = qlat.sample(request.theory, request.sampler, n=25, chains=2, seed=4)
    assert np.array_equal(kept["straight"], memory.configurations)
