"""SLMC sampler: exact whatever the effective model (quadrature, J = 0, exact chain), resumable, refusals."""

import math

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.exact.double_exchange import free_spin_m2, two_site_correlation
from qlat.samplers.base import sampler_from_params
from qlat.samplers.slmc.effective_hamiltonians import EquivariantTransformer, LinearEffectiveModel
from qlat.samplers.slmc.exact_local import ExactLocalMetropolis
from qlat.samplers.slmc.sampler import SLMC
from qlat.samplers.slmc.training import TrainingData, exact_training_data, save_model, train_model
from qlat.theories.double_exchange import DoubleExchangeTheory

from ._helpers import estimate, per_chain, random_spins, z_exact, z_two
from .test_exact_local import TWO_SITE


def _linear(theory, couplings, e0=0.0):
    m = LinearEffectiveModel(theory.shape, boundary=theory.boundary, shells=len(couplings))
    with torch.no_grad():
        m.energy.e0.fill_(e0)
        m.energy.couplings.copy_(torch.tensor(couplings, dtype=torch.float64))
    return m


def _saved(tmp_path, name, model, theory):
    save_model(tmp_path / name, model, theory_params=theory.params())
    return str(tmp_path / name)


def test_two_site_cluster_with_a_deliberately_wrong_model(tmp_path):
    """A linear model with the wrong sign of the coupling: the MH test keeps the chain exact."""
    th = DoubleExchangeTheory((2, 1), boundary="open", **TWO_SITE)
    path = _saved(tmp_path, "wrong", _linear(th, [-0.05]), th)
    sampler = SLMC(model=path, n_inner=2, thermalization=20)
    batch, _ = sampler.run(th, 250, state=sampler.init_state(th, chains=64, seed=5))
    assert 0.05 < batch.acceptance < 0.95
    assert abs(z_exact(per_chain(th.nn_correlation, batch.configurations), two_site_correlation(**TWO_SITE))) < 3


def test_two_site_cluster_with_a_trained_transformer(tmp_path):
    th = DoubleExchangeTheory((2, 1), boundary="open", **TWO_SITE)
    spins = random_spins((2, 1), batch=64, seed=1)
    model = EquivariantTransformer((2, 1), boundary="open", layers=1, heads=1, radius=1, shells=1, seed=0)
    train_model(model, TrainingData(spins, th.free_energy(spins)), epochs=5, lr=1e-2, batch_size=16)
    sampler = SLMC(model=_saved(tmp_path, "tr", model, th), n_inner=2, thermalization=20)
    batch, _ = sampler.run(th, 200, state=sampler.init_state(th, chains=64, seed=6))
    assert abs(z_exact(per_chain(th.nn_correlation, batch.configurations), two_site_correlation(**TWO_SITE))) < 3


def test_free_spins_at_zero_coupling_with_a_biased_proposal(tmp_path):
    th = DoubleExchangeTheory((3, 3), t=1.0, J=0.0, mu=0.0, T=0.5)
    path = _saved(tmp_path, "ferro", _linear(th, [0.1]), th)  # the inner chain prefers ferromagnets
    sampler = SLMC(model=path, thermalization=5)
    batch, _ = sampler.run(th, 150, state=sampler.init_state(th, chains=48, seed=7))
    assert batch.acceptance < 0.99
    m2 = per_chain(lambda f: th.magnetization(f) ** 2, batch.configurations)
    assert abs(z_exact(m2, free_spin_m2(9))) < 3


def test_agrees_with_the_exact_chain_on_a_small_torus(tmp_path):
    th = DoubleExchangeTheory((2, 2), t=1.0, J=3.0, mu=-1.5, T=0.25)
    data = exact_training_data(th, n=40, chains=8, seed=1, thermalization=20)
    model = LinearEffectiveModel(th.shape, shells=2)
    train_model(model, data)
    exact_sampler = ExactLocalMetropolis(thermalization=20)
    exact, _ = exact_sampler.run(th, 250, state=exact_sampler.init_state(th, chains=32, seed=2))
    slmc = SLMC(model=_saved(tmp_path, "lin", model, th), thermalization=20)
    batch, _ = slmc.run(th, 250, state=slmc.init_state(th, chains=32, seed=3))
    for fn in (th.energy_density, th.magnetization, th.nn_correlation):
        assert abs(z_two(per_chain(fn, batch.configurations), per_chain(fn, exact.configurations))) < 3


def test_resume_is_bit_for_bit_and_params_round_trip(tmp_path):
    th = DoubleExchangeTheory((3, 2), t=1.0, J=2.0, mu=-0.5, T=0.3)
    path = _saved(tmp_path, "m", _linear(th, [0.02, 0.01]), th)
    sampler = SLMC(model=path, n_inner=4, inner_step=1.0, thermalization=2)
    rebuilt = sampler_from_params(sampler.params())
    assert rebuilt.params() == sampler.params()
    state = sampler.init_state(th, chains=3, seed=4)
    whole, end = sampler.run(th, 6, state=state)
    first, mid = rebuilt.run(th, 2, state=state)
    second, end2 = rebuilt.run(th, 4, state=mid)
    assert torch.equal(torch.cat([first.configurations, second.configurations]), whole.configurations)
    assert torch.equal(end.fields, end2.fields)
    assert np.array_equal(np.concatenate([first.accepted, second.accepted]), whole.accepted)
    assert 0.0 <= whole.meta["inner_acceptance"] <= 1.0


def test_refuses_a_model_for_another_lattice_or_coupling(tmp_path):
    th = DoubleExchangeTheory((3, 2), t=1.0, J=2.0, mu=-0.5, T=0.3)
    path = _saved(tmp_path, "m", _linear(th, [0.02]), th)
    sampler = SLMC(model=path)
    for other in (DoubleExchangeTheory((2, 3), t=1.0, J=2.0, mu=-0.5, T=0.3),
                  DoubleExchangeTheory((3, 2), t=1.0, J=2.5, mu=-0.5, T=0.3)):
        assert sampler.supports(other)  # a spin theory; the model mismatch is an error naming the model
        with pytest.raises(ParameterError) as info:
            sampler.init_state(other, chains=1, seed=0)
        assert info.value.parameter == "model"
    params = sampler.params()
    params["model_sha256"] = "0" * 64
    with pytest.raises(ParameterError) as info:
        sampler_from_params(params)
    assert info.value.parameter == "model"
    with pytest.raises(ParameterError):
        SLMC(model=path, inner_step=-1.0)
    assert math.isclose(SLMC(model=path, inner_step=10.0).inner_step, math.pi)


def test_two_level_proposals_stay_exact(tmp_path):
    """Transformer steps proposed by a linear chain with the wrong sign: both MH levels keep it exact."""
    th = DoubleExchangeTheory((2, 1), boundary="open", **TWO_SITE)
    model = EquivariantTransformer((2, 1), boundary="open", layers=1, heads=1, radius=1, shells=1, seed=0,
                                   init_scale=0.5)
    with torch.no_grad():
        model.energy.couplings.fill_(0.3)
    sampler = SLMC(model=_saved(tmp_path, "tr", model, th), proposal_model=_saved(tmp_path, "lin",
                   _linear(th, [-0.1]), th), proposal_steps=2, n_inner=2, thermalization=20)
    batch, _ = sampler.run(th, 200, state=sampler.init_state(th, chains=64, seed=8))
    assert 0.05 < batch.meta["inner_acceptance"] < 0.95
    assert abs(z_exact(per_chain(th.nn_correlation, batch.configurations), two_site_correlation(**TWO_SITE))) < 3


def test_two_level_resume_and_refusals(tmp_path):
    th = DoubleExchangeTheory((3, 2), t=1.0, J=2.0, mu=-0.5, T=0.3)
    tr = _saved(tmp_path, "tr", EquivariantTransformer(th.shape, layers=1, shells=2, seed=1), th)
    lin = _saved(tmp_path, "lin", _linear(th, [0.02, 0.01]), th)
    sampler = SLMC(model=tr, proposal_model=lin, proposal_steps=3, thermalization=1)
    assert sampler_from_params(sampler.params()).params() == sampler.params()
    state = sampler.init_state(th, chains=2, seed=4)
    whole, _ = sampler.run(th, 4, state=state)
    first, mid = sampler.run(th, 1, state=state)
    second, _ = sampler.run(th, 3, state=mid)
    assert torch.equal(torch.cat([first.configurations, second.configurations]), whole.configurations)
    with pytest.raises(ParameterError) as info:
        SLMC(model=lin, proposal_model=tr)
    assert info.value.parameter == "proposal_model"
    other = DoubleExchangeTheory((3, 2), t=1.0, J=2.0, mu=-0.5, T=0.4)
    lin_other = _saved(tmp_path, "lin_other", _linear(other, [0.02]), other)
    with pytest.raises(ParameterError) as info:
        SLMC(model=tr, proposal_model=lin_other).init_state(th, chains=1, seed=0)
    assert info.value.parameter == "proposal_model"


@pytest.mark.slow
def test_slmc_transformer_agrees_with_the_exact_chain_on_6x6(tmp_path):
    """6×6, J = 1, μ = 0 (half filling), T = 0.05 (short-range antiferromagnetic order): SLMC with a transformer
    vs the exact chain on the energy, |m|, |m_s| and S(q); the model is trained on exact configurations."""
    th = DoubleExchangeTheory((6, 6), t=1.0, J=1.0, mu=0.0, T=0.05)
    exact_sampler = ExactLocalMetropolis(thermalization=100)
    exact, _ = exact_sampler.run(th, 400, state=exact_sampler.init_state(th, chains=8, seed=12))
    spins = exact.configurations[::4].reshape(-1, *th.field_shape)
    model = EquivariantTransformer(th.shape, layers=1, heads=2, radius=1, shells=4, seed=0)
    train_model(model, TrainingData(spins, th.free_energy(spins)), epochs=20, lr=1e-2, batch_size=32, seed=0)
    slmc = SLMC(model=_saved(tmp_path, "tr", model, th), thermalization=30)
    batch, _ = slmc.run(th, 600, state=slmc.init_state(th, chains=8, seed=13))
    assert 0.1 < batch.acceptance < 0.9
    fns = [th.energy_density, th.magnetization, th.staggered_magnetization]
    fns += [lambda f, q=q: th.structure_factor(f)[:, q[0], q[1]] for q in ((0, 0), (3, 3), (1, 0), (2, 1))]
    for fn in fns:
        assert abs(z_two(per_chain(fn, batch.configurations), per_chain(fn, exact.configurations))) < 3


@pytest.mark.parametrize("inner_step", [math.pi, 0.7])
def test_local_field_inner_chain_samples_the_linear_model(tmp_path, inner_step):
    """The inner chain of a linear model alone samples e^{−βH}: two spins, H = −J S₁·S₂, so
    ⟨S₁·S₂⟩ = coth(βJ) − 1/(βJ) (Langevin), within 3σ; power: 5σ from the value at 0.8 βJ."""
    th = DoubleExchangeTheory((2, 1), boundary="open", t=1.0, J=0.0, mu=0.0, T=0.5)
    sampler = SLMC(model=_saved(tmp_path, "lin", _linear(th, [1.0]), th), inner_step=inner_step)
    gen = torch.Generator().manual_seed(21)
    fields = random_spins((2, 1), batch=400, seed=22)
    series = []
    for _ in range(250):
        fields, acc = sampler._quadratic_steps(th, sampler.model, fields, 2, gen)
        series.append(th.nn_correlation(fields).numpy())
    assert 0.1 < acc < 0.95
    x = th.beta * 1.0

    def langevin(v):
        return 1.0 / math.tanh(v) - 1.0 / v

    chain = np.array(series)[25:]
    value, error = estimate(chain)
    assert abs(value - langevin(x)) < 3 * error
    assert abs(langevin(x) - langevin(0.8 * x)) > 5 * error
    assert torch.allclose(fields.norm(dim=1), torch.ones((), dtype=torch.float64), atol=1e-12)
