"""The shared HMC core: option validation, and the separation of the MD force from the accept action."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.exact import u1_character_expansion as exact_u1
from qlat.samplers.hmc_core import FixedAction, HMCAction, HMCCore, HMCOptions
from qlat.theories.u1 import U1Theory
from tests.samplers._stats import z_score


@pytest.mark.parametrize("kwargs, parameter", [
    ({"trajectory_length": 0.0}, "trajectory_length"),
    ({"trajectory_length": float("nan")}, "trajectory_length"),
    ({"n_steps": 0}, "n_steps"),
    ({"n_steps": 2.5}, "n_steps"),
    ({"integrator": "euler"}, "integrator"),
    ({"target_acceptance": 1.0}, "target_acceptance"),
    ({"thermalization": -1}, "thermalization"),
    ({"every": 0}, "every"),
])
def test_options_name_the_bad_parameter(kwargs, parameter):
    with pytest.raises(ParameterError) as info:
        HMCOptions(**kwargs)
    assert info.value.parameter == parameter


def test_options_normalized_and_step_size():
    opts = HMCOptions(trajectory_length=1, n_steps=4)
    assert opts.trajectory_length == 1.0 and isinstance(opts.trajectory_length, float)
    assert opts.step_size == 0.25
    assert set(opts.params()) == {"trajectory_length", "n_steps", "integrator", "target_acceptance",
                                  "thermalization", "every"}


class _DetunedMD(HMCCore):
    """MD force of β' = 0.6 β, Metropolis test with the true action (the self-learning HMC shape)."""

    name = "test-detuned"
    requirement = "U(1)"

    def supports(self, theory):
        return isinstance(theory, U1Theory)

    def hmc_action(self, theory, stats):
        return FixedAction(force=lambda q: 0.6 * theory.force(q), accept_action=theory.action)


def test_an_approximate_md_force_with_the_exact_accept_action_is_exact():
    """4×4, β = 2: the chain with a 40 %-wrong MD force reproduces the exact plaquette (|z| < 3) and
    ⟨e^{−ΔH}⟩ = 1; the same MD force accepted with the MD action (0.6 S) samples β' = 1.2, whose plaquette
    is ≈ 0.15 lower — the error bar here is ≈ 0.005, so the two are told apart."""
    theory = U1Theory(Lattice((4, 4)), beta=2.0)
    sampler = _DetunedMD(trajectory_length=1.0, n_steps=6, thermalization=20)
    assert isinstance(sampler.hmc_action(theory, {}), HMCAction)
    batch, _ = sampler.run(theory, 150, state=sampler.init_state(theory, chains=32, seed=5))
    plaq = theory.mean_plaquette(batch.configurations.reshape(-1, 2, 4, 4)).numpy().reshape(150, 32)
    exact = exact_u1.mean_plaquette(2.0, (4, 4))
    assert 0.2 < batch.acceptance < 0.99
    assert abs(z_score(plaq, exact)) < 3
    assert abs(z_score(np.exp(-batch.delta_h), 1.0)) < 3
    assert exact - exact_u1.mean_plaquette(1.2, (4, 4)) > 10 * 0.005
    with pytest.raises(ParameterError, match="theory"):
        sampler.init_state(object(), chains=1, seed=0)  # type: ignore[arg-type]
