"""The ``slhmc`` sampler: molecular dynamics with S_eff, Metropolis–Hastings with the exact action.

The exactness test uses a deliberately bad model (the pure gauge action at 0.75 β): the accept step
must repair it.  The mutant ``slhmc-accept-with-effective-action`` (tools/mutants/slhmc.toml) makes
the accept use S_eff instead and must turn these tests red.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.core.registry import SAMPLERS
from qlat.samplers.slhmc.effective_actions import EffectiveAction
from qlat.samplers.slhmc.sampler import SLHMC
from qlat.samplers.slhmc.training import save_model
from qlat.theories.schwinger_wilson import SchwingerTheory
from qlat.theories.u1 import U1Theory

BETA, MASS = 2.0, 0.1


@pytest.fixture(scope="module")
def theory():
    return SchwingerTheory(Lattice((4, 4)), beta=BETA, mass=MASS, nf=2)


@pytest.fixture(scope="module")
def bad_model(theory, tmp_path_factory):
    """The pure gauge action at 0.75 β: a deliberately wrong S_eff (no fermions, wrong coupling)."""
    path = tmp_path_factory.mktemp("slhmc") / "bad"
    save_model(path, EffectiveAction.pure_gauge(0.75 * BETA), theory_params=theory.params())
    return str(path)


@pytest.fixture(scope="module")
def attention_model(theory, tmp_path_factory):
    """An attention model with random non-zero step sizes (a non-trivial force)."""
    model = EffectiveAction.pure_gauge(BETA, layers=1, heads=2, hidden=4, seed=2)
    with torch.no_grad():
        model.layers[0].rho.copy_(0.2 * torch.randn(model.layers[0].rho.shape,
                                                    generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    path = tmp_path_factory.mktemp("slhmc") / "attention"
    save_model(path, model, theory_params=theory.params())
    return str(path)


def test_registered_params_and_refusals(theory, bad_model, tmp_path):
    assert SAMPLERS.get("slhmc") is SLHMC
    s = SLHMC(model=bad_model, n_steps=3, integrator="omelyan")
    again = SLHMC.from_params(s.params())
    assert again.params() == s.params() and s.params()["model_sha256"] == s.card["weights_sha256"]
    assert not s.supports(U1Theory(Lattice((4, 4)), beta=1.0))
    with pytest.raises(ParameterError, match="theory"):
        s.init_state(U1Theory(Lattice((4, 4)), beta=1.0), chains=1, seed=0)
    other = SchwingerTheory(Lattice((4, 4)), beta=BETA, mass=0.2, nf=2)
    with pytest.raises(ParameterError, match="mass"):
        s.init_state(other, chains=1, seed=0)
    with pytest.raises(ParameterError, match="SHA-256"):
        SLHMC(model=bad_model, model_sha256="0" * 64)
    with pytest.raises(ParameterError, match="device"):
        SLHMC(model=bad_model, device="no-such-device")
    with pytest.raises(ParameterError, match="model"):
        SLHMC(model=str(tmp_path / "absent"))


def test_reversibility_and_resume(theory, attention_model):
    sampler = SLHMC(model=attention_model, n_steps=5)
    fields = theory.hot_start(2, generator=torch.Generator().manual_seed(0))
    p = torch.randn(fields.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    q1, p1 = sampler._integrate(fields, p, sampler.model.force, 0.1, 5)
    q2, p2 = sampler._integrate(q1, -p1, sampler.model.force, 0.1, 5)
    assert (q2 - fields).abs().max() < 1e-10 and (p2 + p).abs().max() < 1e-10
    assert (q1 - fields).abs().max() > 1e-2
    s0 = sampler.init_state(theory, chains=2, seed=3)
    whole, _ = sampler.run(theory, 4, state=s0)
    a, s1 = sampler.run(theory, 1, state=s0)
    b, _ = sampler.run(theory, 3, state=s1)
    assert torch.equal(torch.cat([a.configurations, b.configurations]), whole.configurations)
    # the cached start action (one LU per trajectory) is bit for bit the one a fresh run computes
    np.testing.assert_array_equal(np.concatenate([a.delta_h, b.delta_h]), whole.delta_h)
    assert whole.meta["sign"].shape == (4, 2) and whole.meta["delta_h_md"].shape == (4, 2)
    assert whole.meta["model_error"].shape == (4, 2) and np.abs(whole.meta["model_error"]).max() > 0


def test_energy_violation_shrinks_with_the_step(theory, attention_model):
    """ΔH_eff of the model's own dynamics is O(ε²): halving ε divides it by about 4."""
    fields = theory.hot_start(4, generator=torch.Generator().manual_seed(4)) * 0.4
    p = torch.randn(fields.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    sampler = SLHMC(model=attention_model)
    model = sampler.model

    def dh(n):
        q, pp = sampler._integrate(fields, p, model.force, 0.5 / n, n)
        with torch.no_grad():
            return float((0.5 * pp.square().sum((1, 2, 3)) + model(q) - 0.5 * p.square().sum((1, 2, 3))
                          - model(fields)).abs().mean())

    ratio = dh(10) / dh(20)
    assert 3.0 < ratio < 5.0, ratio


def test_exact_with_a_bad_model(theory, bad_model):
    """4×4, β = 2, m₀ = 0.1, N_f = 2 with a deliberately bad S_eff (pure gauge at 0.75 β): plaquette and
    ψ̄ψ agree with pure-gauge heatbath configurations reweighted by det D†D (an algorithm without any
    molecular dynamics) within 3σ, and ⟨e^{−ΔH}⟩ = 1.  Power: the bad model's own plaquette (exact, pure
    gauge at β = 1.5) is > 5σ away, so an accept with S_eff instead of S fails this test."""
    from qlat.analysis.statistics import derived_estimate, gamma_estimate
    from qlat.exact.u1_character_expansion import mean_plaquette
    from qlat.samplers.metropolis import U1Heatbath

    n, chains = 120, 16
    sampler = SLHMC(model=bad_model, trajectory_length=0.5, n_steps=4, thermalization=10)
    batch, _ = sampler.run(theory, n, state=sampler.init_state(theory, chains=chains, seed=3))
    configs = batch.configurations.reshape(-1, 2, 4, 4)
    inverse = theory.dirac(configs).log_abs_det_and_inverse()[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains: the Γ-method warns about few samples per τ_int
        plaq = gamma_estimate(theory.mean_plaquette(configs).numpy().reshape(n, chains))
        cond = gamma_estimate(np.einsum("bii->b", inverse).real.reshape(n, chains) / 16)
        accept = gamma_estimate(np.exp(-batch.delta_h))

    gauge = U1Theory(theory.lattice, beta=BETA)
    hb = U1Heatbath(thermalization=10)
    m = 240
    pure, _ = hb.run(gauge, m, state=hb.init_state(gauge, chains=chains, seed=5))
    cfg = pure.configurations.reshape(-1, 2, 4, 4)
    logdet, _, inv = theory.dirac(cfg).log_abs_det_and_inverse()
    w = np.exp(2 * (logdet - logdet.max())).reshape(m, chains)
    p_g = gauge.mean_plaquette(cfg).numpy().reshape(m, chains)
    c_g = np.einsum("bii->b", inv).real.reshape(m, chains) / 16
    ref_p = derived_estimate(lambda a, b: a / b, p_g * w, w)
    ref_c = derived_estimate(lambda a, b: a / b, c_g * w, w)
    for est, ref in ((plaq, ref_p), (cond, ref_c)):
        z = (est.value - ref.value) / math.hypot(est.error, ref.error)
        assert abs(z) < 3, (est, ref, z)
    assert abs(accept.value - 1) < 3 * accept.error
    assert 0.3 < batch.acceptance < 0.9
    wrong = mean_plaquette(0.75 * BETA, (4, 4))
    assert abs(wrong - ref_p.value) > 5 * math.hypot(plaq.error, ref_p.error)
    assert (ref_p.value - p_g.mean()) > 5 * ref_p.error  # the fermions are visible


def test_one_flavour_keeps_the_sign(tmp_path):
    theory = SchwingerTheory(Lattice((4, 4)), beta=1.0, mass=-0.1, nf=1)
    save_model(tmp_path / "m", EffectiveAction.pure_gauge(1.0), theory_params=theory.params())
    sampler = SLHMC(model=str(tmp_path / "m"), n_steps=3, thermalization=2, every=2)
    batch, _ = sampler.run(theory, 5, state=sampler.init_state(theory, chains=4, seed=1))
    errors = batch.meta["model_error"]  # every trajectory: 2 thermalization + 5 × 2
    assert errors.shape == (12, 4)
    np.testing.assert_array_equal(batch.meta["delta_h_md"], batch.delta_h - errors[3::2])
    assert np.abs(batch.meta["delta_h_md"]).mean() < np.abs(errors).mean()  # the pure gauge model lacks the fermions
    sign = batch.meta["sign"]
    assert sign.shape == (5, 4) and set(np.unique(sign)) <= {-1.0, 1.0}
    flat = batch.configurations.reshape(-1, 2, 4, 4)
    np.testing.assert_array_equal(theory.determinant_sign(flat).numpy().reshape(5, 4), sign)
