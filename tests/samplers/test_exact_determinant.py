"""Exact-determinant HMC (N_f = 1, 2) and determinant reweighting with the sign of det D."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.core.registry import SAMPLERS
from qlat.samplers.exact_determinant import ExactDeterminantHMC, determinant_weights
from qlat.theories.schwinger_wilson import SchwingerTheory, SignProblemWarning
from qlat.theories.u1 import U1Theory


def test_registered_and_params():
    assert SAMPLERS.get("det-hmc") is ExactDeterminantHMC
    s = ExactDeterminantHMC(n_steps=4, integrator="omelyan")
    assert ExactDeterminantHMC.from_params(s.params()).params() == s.params()
    assert not s.supports(U1Theory(Lattice((4, 4)), beta=1.0))
    with pytest.raises(ParameterError, match="theory"):
        s.init_state(U1Theory(Lattice((4, 4)), beta=1.0), chains=1, seed=0)


def test_reversibility_and_resume():
    theory = SchwingerTheory(Lattice((4, 4)), beta=1.0, mass=0.1, nf=1)
    sampler = ExactDeterminantHMC(n_steps=5)
    fields = theory.hot_start(2, generator=torch.Generator().manual_seed(0))
    p = torch.randn(fields.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    q1, p1 = sampler._integrate(fields, p, theory.force, 0.1, 5)
    q2, p2 = sampler._integrate(q1, -p1, theory.force, 0.1, 5)
    assert (q2 - fields).abs().max() < 1e-10 and (p2 + p).abs().max() < 1e-10
    s0 = sampler.init_state(theory, chains=2, seed=3)
    whole, _ = sampler.run(theory, 4, state=s0)
    a, s1 = sampler.run(theory, 1, state=s0)
    b, _ = sampler.run(theory, 3, state=s1)
    assert torch.equal(torch.cat([a.configurations, b.configurations]), whole.configurations)
    assert whole.meta["sign"].shape == (4, 2)


def test_one_flavour_plaquette_vs_reweighting():
    """N_f = 1 on 4×4, β = 1, m₀ = −0.1 (above m_c(1) = −0.32): det-hmc ⟨P s⟩/⟨s⟩ vs heatbath configurations
    reweighted by det D.  The step is coarse (3 leapfrog steps, acceptance ≈ 0.87): without its Metropolis
    test the chain's plaquette is ≈ 7σ below the reweighted value (measured, same seeds)."""
    from qlat.analysis.statistics import derived_estimate, gamma_estimate
    from qlat.samplers.metropolis import U1Heatbath

    lat = Lattice((4, 4))
    theory = SchwingerTheory(lat, beta=1.0, mass=-0.1, nf=1)
    sampler = ExactDeterminantHMC(n_steps=3, thermalization=10)
    batch, _ = sampler.run(theory, 100, state=sampler.init_state(theory, chains=12, seed=4))
    sign = batch.meta["sign"]
    plaq = theory.mean_plaquette(batch.configurations.reshape(-1, 2, 4, 4)).numpy().reshape(sign.shape)
    hmc = derived_estimate(lambda a, b: a / b, plaq * sign, sign)
    assert set(np.unique(sign)) <= {-1.0, 1.0} and sign.mean() > 0.9  # above m_c: (almost) no sign problem
    accept = gamma_estimate(np.exp(-batch.delta_h))
    assert abs(accept.value - 1) < 3 * accept.error

    gauge = U1Theory(lat, beta=1.0)
    hb = U1Heatbath(thermalization=10)
    pure, _ = hb.run(gauge, 300, state=hb.init_state(gauge, chains=12, seed=5))
    configs = pure.configurations.reshape(-1, 2, 4, 4)
    logw, s = determinant_weights(theory, configs)
    w = (s * np.exp(logw - logw.max())).reshape(300, 12)
    p_g = gauge.mean_plaquette(configs).numpy().reshape(300, 12)
    rw = derived_estimate(lambda a, b: a / b, p_g * w, w)
    z = (hmc.value - rw.value) / math.hypot(hmc.error, rw.error)
    assert abs(z) < 3, (hmc, rw)
    assert (hmc.value - p_g.mean()) / hmc.error > 3  # one flavour is visible


def test_negative_determinants_beyond_the_critical_line():
    """Beyond κ_c(β = 1) ≈ 0.2977 det D < 0 occurs on typical gauge fields: the sign is reported."""
    lat = Lattice((4, 4))
    with pytest.warns(SignProblemWarning):
        theory = SchwingerTheory(lat, beta=1.0, kappa=0.34, nf=1)
    gauge = U1Theory(lat, beta=1.0)
    configs = gauge.hot_start(64, generator=torch.Generator().manual_seed(6))
    _, sign = determinant_weights(theory, configs)
    assert set(np.unique(sign)) <= {-1.0, 1.0}
    assert np.any(sign < 0) and np.any(sign > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = SchwingerTheory(lat, beta=1.0, kappa=0.34, nf=2)
    assert np.all(determinant_weights(two, configs)[1] == 1.0)
    np.testing.assert_array_equal(theory.determinant_sign(configs).numpy(), sign)


def test_one_flavour_ensemble_estimates_are_sign_reweighted(tmp_path):
    """N_f = 1 beyond κ_c: the ensemble backend reports ⟨O s⟩/⟨s⟩ and the average sign ⟨s⟩."""
    import qlat
    from qlat.core.ensemble import Ensemble

    lat = Lattice((4, 4))
    with pytest.warns(SignProblemWarning):
        theory = SchwingerTheory(lat, beta=1.0, kappa=0.34, nf=1)
    sampler = ExactDeterminantHMC(n_steps=4, thermalization=5)
    batch, state = sampler.run(theory, 60, state=sampler.init_state(theory, chains=8, seed=3, start="hot"))
    sign = batch.meta["sign"]
    assert np.any(sign < 0), "the test needs negative determinants"
    with Ensemble.create(tmp_path / "nf1.h5", theory=theory, sampler=sampler, chains=8, seed=3) as ens:
        ens.append(batch, state)
        est = qlat.estimate(ens, ["plaquette", "sign"], backend="ensemble")
    plaq = theory.mean_plaquette(batch.configurations.reshape(-1, 2, 4, 4)).numpy().reshape(sign.shape)
    assert est["plaquette"].value == pytest.approx(float(np.mean(plaq * sign) / np.mean(sign)), rel=1e-12)
    assert est["sign"].value == pytest.approx(float(np.mean(sign)), rel=1e-12)
    assert est["plaquette"].provenance["sign_reweighting"].startswith("<O s>/<s>")
