"""Two-flavour pseudofermion HMC: force, reversibility, ΔH scaling, ⟨e^{−ΔH}⟩ and an independent check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.core.registry import SAMPLERS
from qlat.samplers.hmc import standard_normal
from qlat.samplers.pseudofermion import PseudofermionHMC, complex_normal
from qlat.theories.schwinger_wilson import SchwingerTheory

#: The documented validation point: 4×4, β = 1, m₀ = 0 (κ = 0.25), two flavours.
POINT = dict(beta=1.0, mass=0.0, nf=2)


def _setup(seed=0, chains=3, shape=(4, 6), mass=0.1):
    theory = SchwingerTheory(Lattice(shape), beta=1.5, mass=mass, nf=2)
    gen = torch.Generator().manual_seed(seed)
    fields = theory.hot_start(chains, generator=gen)
    op = theory.dirac(fields)
    phi = op.apply_dagger(complex_normal((chains, op.dim), generator=gen))
    p = standard_normal(tuple(fields.shape), generator=gen)
    return theory, fields, phi, p


def test_registered():
    assert SAMPLERS.get("pf-hmc") is PseudofermionHMC


def test_force_vs_numerical_derivative():
    theory, fields, phi, _ = _setup()
    sampler = PseudofermionHMC()
    force = sampler.total_force(theory, phi)(fields)

    def s(f):
        return (theory.gauge_action(f) + sampler.pseudofermion_action(theory, f, phi)).numpy()

    h = 1e-3
    for idx in [(0, 0, 0, 0), (1, 1, 2, 3), (2, 0, 3, 5), (0, 1, 1, 4)]:
        def shifted(d, idx=idx):
            f = fields.clone()
            f[idx] += d
            return s(f)[idx[0]]
        numeric = (8 * (shifted(h) - shifted(-h)) - (shifted(2 * h) - shifted(-2 * h))) / (12 * h)
        assert abs(force[idx].item() - numeric) < 1e-6, (idx, force[idx].item(), numeric)


@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
def test_reversibility(integrator):
    theory, fields, phi, p = _setup(seed=1)
    sampler = PseudofermionHMC(n_steps=10, integrator=integrator)
    q1, p1 = sampler.molecular_dynamics(theory, fields, p, phi, 0.1)
    q2, p2 = sampler.molecular_dynamics(theory, q1, -p1, phi, 0.1)
    assert (q1 - fields).abs().max() > 0.1
    assert (q2 - fields).abs().max() < 1e-10
    assert (p2 + p).abs().max() < 1e-10


def test_delta_h_scales_as_step_squared():
    theory, fields, phi, p = _setup(seed=2, chains=4)
    dh = []
    for n in (10, 20, 40):
        sampler = PseudofermionHMC(n_steps=n)
        q1, p1 = sampler.molecular_dynamics(theory, fields, p, phi, 1.0 / n)
        dh.append((sampler.hamiltonian(theory, q1, p1, phi) - sampler.hamiltonian(theory, fields, p, phi)).abs())
    r1 = (dh[0] / dh[1]).mean().item()
    r2 = (dh[1] / dh[2]).mean().item()
    assert 3.0 < r1 < 5.0 and 3.5 < r2 < 4.5, (r1, r2)


def test_initial_pseudofermion_action_is_chi_squared():
    theory, fields, _, _ = _setup(seed=3)
    gen = torch.Generator().manual_seed(9)
    op = theory.dirac(fields)
    chi = complex_normal((3, op.dim), generator=gen)
    s = PseudofermionHMC().pseudofermion_action(theory, fields, op.apply_dagger(chi)).numpy()
    np.testing.assert_allclose(s, np.sum(np.abs(chi) ** 2, axis=1), rtol=1e-10)
    assert np.mean(np.abs(chi) ** 2) == pytest.approx(1.0, abs=0.15)


def test_resumable_bit_for_bit():
    theory = SchwingerTheory(Lattice((4, 4)), **POINT)
    sampler = PseudofermionHMC(n_steps=4, thermalization=2)
    s0 = sampler.init_state(theory, chains=2, seed=11)
    whole, _ = sampler.run(theory, 5, state=s0)
    a, s1 = sampler.run(theory, 3, state=s0)
    b, _ = sampler.run(theory, 2, state=s1)
    assert torch.equal(torch.cat([a.configurations, b.configurations]), whole.configurations)
    assert whole.meta["cg_max_residual"] < 1e-11 and whole.meta["cg_iterations_per_trajectory"] > 0


def test_refuses_one_flavour_and_loose_tolerance():
    theory = SchwingerTheory(Lattice((4, 4)), beta=1.0, mass=0.2, nf=1)
    assert not PseudofermionHMC().supports(theory)
    with pytest.raises(ParameterError, match="theory"):
        PseudofermionHMC().init_state(theory, chains=1, seed=0)
    for tol in (1e-3, 0.0, -1.0):
        with pytest.raises(ParameterError) as exc:
            PseudofermionHMC(cg_tol=tol)
        assert exc.value.parameter == "cg_tol"
    assert PseudofermionHMC.from_params(PseudofermionHMC(n_steps=3).params()).params() == PseudofermionHMC(
        n_steps=3).params()


def test_exp_minus_delta_h_and_plaquette_vs_reweighted_pure_gauge():
    """⟨e^{−ΔH}⟩ = 1 and ⟨P⟩_{Nf=2} equal to pure-gauge heatbath configurations reweighted by det(D†D).

    Documented point: 4×4, β = 1, m₀ = 0, N_f = 2 (pure gauge ⟨P⟩ = 0.446, N_f = 2 ≈ 0.50).  The step
    is coarse (3 leapfrog steps, acceptance ≈ 0.65): without its Metropolis test the chain's plaquette
    is 8σ below the reweighted value (measured, same seeds), so the comparison can fail.
    """
    from qlat.analysis.statistics import derived_estimate, gamma_estimate
    from qlat.exact.u1_character_expansion import mean_plaquette
    from qlat.samplers.exact_determinant import determinant_weights
    from qlat.samplers.metropolis import U1Heatbath
    from qlat.theories.u1 import U1Theory

    lat = Lattice((4, 4))
    theory = SchwingerTheory(lat, **POINT)
    # ⟨e^{−ΔH}⟩ = 1 on a fine step (at the coarse one below e^{−ΔH} is heavy-tailed: single values
    # of 10⁴ were seen, so its Γ-method error means little there)
    fine = PseudofermionHMC(n_steps=6, thermalization=10)
    batch, _ = fine.run(theory, 40, state=fine.init_state(theory, chains=12, seed=3))
    accept = gamma_estimate(np.exp(-batch.delta_h))
    assert abs(accept.value - 1.0) < 3 * accept.error and accept.error < 0.03
    sampler = PseudofermionHMC(n_steps=3, thermalization=10)
    batch, _ = sampler.run(theory, 120, state=sampler.init_state(theory, chains=12, seed=1))
    plaq = gamma_estimate(theory.mean_plaquette(batch.configurations.reshape(-1, 2, 4, 4)).numpy().reshape(120, 12))

    gauge = U1Theory(lat, beta=POINT["beta"])
    hb = U1Heatbath(thermalization=10)
    pure, _ = hb.run(gauge, 300, state=hb.init_state(gauge, chains=12, seed=2))
    configs = pure.configurations.reshape(-1, 2, 4, 4)
    logw, sign = determinant_weights(theory, configs)
    assert np.all(sign == 1.0)
    w = np.exp(logw - logw.max()).reshape(300, 12)
    p_g = gauge.mean_plaquette(configs).numpy().reshape(300, 12)
    reweighted = derived_estimate(lambda a, b: a / b, p_g * w, w)
    z = (plaq.value - reweighted.value) / math.hypot(plaq.error, reweighted.error)
    assert abs(z) < 3, (plaq, reweighted)
    # the fermions are visible: both differ from the exact pure-gauge plaquette by many σ
    assert (plaq.value - mean_plaquette(POINT["beta"], 4)) / plaq.error > 5
