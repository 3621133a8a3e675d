"""Resume bit-for-bit, checkpoint arrays, tuning during thermalization only, bad input."""

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.samplers.base import ChainState, sampler_from_params
from qlat.samplers.hmc import HMC
from qlat.samplers.metropolis import LocalMetropolis, U1Heatbath
from qlat.theories import Phi4Theory, U1Theory

U1 = U1Theory(Lattice((6, 6)), beta=2.0)
PHI4 = Phi4Theory(Lattice((6, 4)), m2=-1.0, lam=1.5)

CASES = [
    (HMC(n_steps=5, thermalization=7, target_acceptance=0.7, every=2), U1),
    (HMC(n_steps=4, integrator="omelyan", trajectory_length=0.4, thermalization=3), PHI4),
    (LocalMetropolis(step_size=0.8, thermalization=5, target_acceptance=0.5, every=3), PHI4),
    (LocalMetropolis(step_size=1.5, thermalization=2), U1),
    (U1Heatbath(thermalization=2, every=2), U1),
]
IDS = ["hmc-u1", "hmc-phi4", "metro-phi4", "metro-u1", "heatbath-u1"]


@pytest.mark.parametrize("sampler, theory", CASES, ids=IDS)
def test_resume_is_bit_for_bit(sampler, theory):
    state0 = sampler.init_state(theory, chains=3, seed=42)
    full, end_full = sampler.run(theory, 9, state=state0)
    part1, mid = sampler.run(theory, 4, state=state0)
    # checkpoint through plain arrays (what the HDF5 ensemble stores)
    arrays = mid.to_arrays()
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    restored = ChainState.from_arrays(arrays)
    part2, end_split = sampler.run(theory, 5, state=restored)
    joined = torch.cat([part1.configurations, part2.configurations])
    assert torch.equal(joined, full.configurations)
    assert np.array_equal(np.concatenate([part1.accepted, part2.accepted]), full.accepted)
    np.testing.assert_array_equal(np.concatenate([part1.delta_h, part2.delta_h]), full.delta_h)
    assert torch.equal(end_split.fields, end_full.fields)
    assert torch.equal(end_split.rng_state, end_full.rng_state)
    assert end_split.step_size == end_full.step_size
    assert end_full.n_steps_done == sampler.thermalization + 9 * sampler.every
    # the input state is not modified
    assert state0.n_steps_done == 0


@pytest.mark.parametrize("sampler, theory", CASES, ids=IDS)
def test_sampler_params_round_trip(sampler, theory):
    again = sampler_from_params(sampler.params())
    assert again.params() == sampler.params()
    s = again.init_state(theory, chains=2, seed=1)
    a, _ = again.run(theory, 2, state=s)
    b, _ = sampler.run(theory, 2, state=s)
    assert torch.equal(a.configurations, b.configurations)


def test_shapes_and_records():
    hmc = HMC(n_steps=3)
    batch, state = hmc.run(U1, 5, state=hmc.init_state(U1, chains=4, seed=0))
    assert batch.configurations.shape == (5, 4, 2, 6, 6)
    assert batch.accepted.shape == (5, 4) and batch.accepted.dtype == bool
    assert batch.delta_h.shape == (5, 4) and np.all(np.isfinite(batch.delta_h))
    # rejected trajectories repeat the previous configuration
    prev = torch.cat([hmc.init_state(U1, chains=4, seed=0).fields[None], batch.configurations[:-1]])
    for i in range(5):
        for c in range(4):
            same = torch.equal(batch.configurations[i, c], prev[i, c])
            assert same == (not batch.accepted[i, c])
    mb, _ = LocalMetropolis().run(PHI4, 3, state=LocalMetropolis().init_state(PHI4, chains=2, seed=0))
    assert mb.accepted.dtype == np.float64 and np.all((mb.accepted > 0) & (mb.accepted < 1))
    assert np.all(np.isnan(mb.delta_h))


def test_step_size_tuned_during_thermalization_only():
    theory = U1Theory(Lattice((8, 8)), beta=2.0)
    hmc = HMC(trajectory_length=2.0, n_steps=4, target_acceptance=0.8, thermalization=60)
    state = hmc.init_state(theory, chains=16, seed=0)
    assert state.step_size == 0.5
    batch1, state1 = hmc.run(theory, 40, state=state)
    tuned = state1.step_size
    assert tuned != 0.5 and batch1.step_size == tuned
    assert abs(batch1.acceptance - 0.8) < 0.1  # the tuning reached its target
    batch2, state2 = hmc.run(theory, 20, state=state1)
    assert state2.step_size == tuned  # frozen after thermalization
    # without a target nothing is tuned
    plain = HMC(n_steps=4, thermalization=5)
    _, s = plain.run(theory, 2, state=plain.init_state(theory, chains=2, seed=0))
    assert s.step_size == 0.25


def test_cold_and_hot_starts():
    hmc = HMC()
    cold = hmc.init_state(U1, chains=2, seed=0, start="cold")
    assert torch.count_nonzero(cold.fields) == 0
    hot1 = hmc.init_state(U1, chains=2, seed=7)
    hot2 = hmc.init_state(U1, chains=2, seed=7)
    assert torch.equal(hot1.fields, hot2.fields) and torch.count_nonzero(hot1.fields) > 0
    assert not torch.equal(hot1.fields, hmc.init_state(U1, chains=2, seed=8).fields)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: HMC(n_steps=0), "n_steps"),
        (lambda: HMC(trajectory_length=0.0), "trajectory_length"),
        (lambda: HMC(integrator="euler"), "integrator"),
        (lambda: HMC(target_acceptance=1.2), "target_acceptance"),
        (lambda: HMC(thermalization=-1), "thermalization"),
        (lambda: HMC(every=0), "every"),
        (lambda: HMC().run(U1, 0, state=HMC().init_state(U1, chains=1, seed=0)), "n"),
        (lambda: HMC().run(U1, 2.5, state=HMC().init_state(U1, chains=1, seed=0)), "n"),
        (lambda: HMC().init_state(U1, chains=0, seed=0), "chains"),
        (lambda: HMC().init_state(U1, chains=1, seed=-3), "seed"),
        (lambda: HMC().init_state(U1, chains=1, seed=0, start="warm"), "start"),
        (lambda: HMC().run(PHI4, 1, state=HMC().init_state(U1, chains=1, seed=0)), "state"),
        (lambda: LocalMetropolis(step_size=-1.0), "step_size"),
        (lambda: U1Heatbath().init_state(PHI4, chains=1, seed=0), "theory"),
        (lambda: LocalMetropolis().init_state(U1Theory(Lattice((5, 4)), beta=1.0), chains=1, seed=0), "shape"),
        (lambda: sampler_from_params({"name": "langevin"}), "name"),
        (lambda: sampler_from_params({"name": "hmc", "n_step": 3}), "params"),
        (lambda: ChainState.from_arrays({"fields": np.zeros((1, 4))}), "arrays"),
    ],
)
def test_bad_input_names_parameter(call, name):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == name
