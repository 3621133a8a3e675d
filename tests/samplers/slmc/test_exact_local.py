"""Exact local Metropolis: proposals, exactness (two-site quadrature, J = 0), resumability."""

import math

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.exact.double_exchange import free_spin_m2, two_site_correlation
from qlat.samplers.base import sampler_from_params
from qlat.samplers.slmc.exact_local import ExactLocalMetropolis
from qlat.samplers.slmc.moves import propose_spins
from qlat.theories.double_exchange import DoubleExchangeTheory
from qlat.theories.phi4 import Phi4Theory

from ._helpers import per_chain, random_spins, z_exact

#: A two-site point with strong ferromagnetic double exchange: ⟨S₁·S₂⟩ ≈ 0.4.
TWO_SITE = {"t": 1.0, "J": 4.0, "mu": -2.5, "T": 0.2}


def test_cap_proposal_stays_in_the_cap_and_is_uniform_for_pi():
    g = torch.Generator().manual_seed(0)
    old = random_spins((1, 1), batch=20000, seed=1)[:, :, 0, 0]
    new = propose_spins(old, 0.3, generator=g)
    cos = (new * old).sum(1)
    assert torch.allclose(new.norm(dim=1), torch.ones(20000, dtype=torch.float64), atol=1e-14)
    assert float(cos.min()) >= math.cos(0.3) - 1e-12
    # cos θ uniform on [cos δ, 1]: mean (1 + cos δ)/2, σ of the mean from the uniform variance
    mean, sigma = (1 + math.cos(0.3)) / 2, (1 - math.cos(0.3)) / math.sqrt(12 * 20000)
    assert abs(float(cos.mean()) - mean) < 4 * sigma
    uniform = propose_spins(old, math.pi, generator=g)
    z = uniform[:, 2]
    assert abs(float(z.mean())) < 4 / math.sqrt(3 * 20000)
    assert abs(float((z * z).mean()) - 1 / 3) < 4 * math.sqrt(4 / 45 / 20000)


def test_two_site_cluster_matches_quadrature():
    th = DoubleExchangeTheory((2, 1), boundary="open", **TWO_SITE)
    exact = two_site_correlation(**TWO_SITE)
    assert exact > 0.3
    sampler = ExactLocalMetropolis(thermalization=20)
    batch, _ = sampler.run(th, 250, state=sampler.init_state(th, chains=64, seed=2))
    assert abs(z_exact(per_chain(th.nn_correlation, batch.configurations), exact)) < 3


def test_free_spins_at_zero_coupling():
    th = DoubleExchangeTheory((3, 3), t=1.0, J=0.0, mu=0.0, T=0.5)
    sampler = ExactLocalMetropolis(step_size=1.0, thermalization=5)
    batch, _ = sampler.run(th, 60, state=sampler.init_state(th, chains=48, seed=3))
    m2 = per_chain(lambda f: th.magnetization(f) ** 2, batch.configurations)
    assert abs(z_exact(m2, free_spin_m2(9))) < 3
    assert batch.acceptance == 1.0


def test_resume_is_bit_for_bit_and_params_round_trip():
    th = DoubleExchangeTheory((3, 2), t=1.0, J=2.0, mu=-0.5, T=0.3)
    sampler = ExactLocalMetropolis(step_size=1.2, target_acceptance=0.5, thermalization=3)
    assert sampler_from_params(sampler.params()).params() == sampler.params()
    state = sampler.init_state(th, chains=3, seed=4)
    whole, end = sampler.run(th, 5, state=state)
    first, mid = sampler.run(th, 2, state=state)
    second, end2 = sampler.run(th, 3, state=mid)
    assert torch.equal(torch.cat([first.configurations, second.configurations]), whole.configurations)
    assert torch.equal(end.fields, end2.fields) and end.step_size == end2.step_size <= 1e3
    assert np.array_equal(np.concatenate([first.accepted, second.accepted]), whole.accepted)


def test_supports_spin_theories_only():
    from qlat.samplers.hmc import HMC

    sampler = ExactLocalMetropolis()
    spins = DoubleExchangeTheory((2, 2), J=1.0, T=1.0)
    assert sampler.supports(spins)
    assert not HMC().supports(spins)  # no force on the spheres
    phi4 = Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.0)
    assert not sampler.supports(phi4)
    with pytest.raises(ParameterError):
        sampler.init_state(phi4, chains=1, seed=0)
    with pytest.raises(ParameterError) as info:
        ExactLocalMetropolis(step_size=0.0)
    assert info.value.parameter == "step_size"
