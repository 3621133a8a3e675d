"""Field-transformation HMC (``fthmc``): HMC in the variables of a gauge-equivariant flow, 2D U(1).

The flow is tiny and briefly trained (ncp couplings: smooth, so the molecular dynamics conserves H
to O(ε²)); it is far from the identity (|log det J| of several units), so an action that forgets or
flips the log-Jacobian samples a visibly different plaquette (tools/mutants/samplers.toml).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.exact import u1_character_expansion as exact_u1
from qlat.samplers.fthmc import FieldTransformationHMC, FlowedAction
from qlat.theories.u1 import U1Theory
from tests.samplers._stats import mean_and_error, z_score

BETA = 1.5
SHAPE = (4, 4)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from qlat.samplers.flow.checkpoint import save_checkpoint
    from qlat.samplers.flow.networks import FlowModel
    from qlat.samplers.flow.training import TrainConfig, train

    theory = U1Theory(Lattice(SHAPE), beta=BETA)
    torch.manual_seed(0)
    model = FlowModel(theory.params(), {"n_layers": 4, "hidden": [4], "coupling": "ncp"})
    config = TrainConfig(steps=30, batch=16, lr=5e-3, seed=0)
    path = tmp_path_factory.mktemp("fthmc") / "flow"
    save_checkpoint(path, model, config=config, state=train(model, theory, config=config))
    return str(path)


def _theory() -> U1Theory:
    return U1Theory(Lattice(SHAPE), beta=BETA)


def test_registered_params_round_trip_and_refusal(model_dir):
    from qlat.core.registry import SAMPLERS

    assert SAMPLERS.get("fthmc") is FieldTransformationHMC
    s = FieldTransformationHMC(model=model_dir, n_steps=4, integrator="omelyan")
    again = FieldTransformationHMC.from_params(s.params())
    assert again.params() == s.params() and s.params()["model_sha256"]
    assert s.supports(_theory())
    other = U1Theory(Lattice(SHAPE), beta=BETA + 1.0)
    assert not s.supports(other)
    with pytest.raises(ParameterError, match="beta"):
        s.init_state(other, chains=1, seed=0)
    with pytest.raises(ParameterError, match="model"):
        FieldTransformationHMC(model=model_dir, model_sha256="0" * 64)
    with pytest.raises(ParameterError, match="n_steps"):
        FieldTransformationHMC(model=model_dir, n_steps=0)


def test_flowed_variables_reversible_md_and_force(model_dir):
    """f(f⁻¹(U)) = U; the MD in V is reversible; ΔH falls as ε² (the force is ∂S̃/∂V); the flow is
    far from the identity (so the log-Jacobian matters)."""
    from qlat.samplers.integrators import leapfrog

    theory = _theory()
    sampler = FieldTransformationHMC(model=model_dir)
    action = FlowedAction(theory, sampler.pinned.flow)
    u = theory.hot_start(8, generator=torch.Generator().manual_seed(1))
    v, s0 = action.begin(u, torch.Generator())
    assert (theory.canonicalize(action.fields(v)) - theory.canonicalize(u)).abs().max() < 1e-10
    with torch.no_grad():
        _, log_det = sampler.pinned.flow.flow(v)
    assert float(log_det.abs().mean()) > 1.0
    torch.testing.assert_close(s0, theory.action(u) - log_det, atol=1e-9, rtol=0)
    p = torch.randn(v.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    q1, p1 = leapfrog(v, p, action.force, 0.05, 10)
    q2, p2 = leapfrog(q1, -p1, action.force, 0.05, 10)
    assert (q2 - v).abs().max() < 1e-9 and (p2 + p).abs().max() < 1e-9

    def mean_abs_dh(n: int) -> float:
        q, pn = leapfrog(v, p, action.force, 0.5 / n, n)
        h0 = 0.5 * p.square().reshape(8, -1).sum(1) + action.accept_action(v)
        h1 = 0.5 * pn.square().reshape(8, -1).sum(1) + action.accept_action(q)
        return float((h1 - h0).abs().mean())

    # the LeakyReLU conditioners make S̃ piecewise smooth: ΔH falls between O(ε) and O(ε²) (measured
    # ratio 2.7); a force that is not ∂S̃/∂V leaves ΔH = O(1) (ratio ≈ 1)
    ratio = mean_abs_dh(10) / mean_abs_dh(20)
    assert 2.0 < ratio < 5.0, ratio
    d = 1e-6 * torch.randn(v.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    numeric = (action.accept_action(v + d) - action.accept_action(v - d)) / 2
    torch.testing.assert_close((action.force(v) * d).reshape(8, -1).sum(1), numeric, rtol=1e-5, atol=1e-12)


def test_resumes_bit_for_bit(model_dir):
    theory = _theory()
    sampler = FieldTransformationHMC(model=model_dir, trajectory_length=0.5, n_steps=4, thermalization=1)
    whole, end = sampler.run(theory, 3, state=sampler.init_state(theory, chains=3, seed=7))
    first, mid = sampler.run(theory, 1, state=sampler.init_state(theory, chains=3, seed=7))
    rest, end2 = sampler.run(theory, 2, state=mid)
    assert torch.equal(torch.cat([first.configurations, rest.configurations]), whole.configurations)
    assert torch.equal(end.fields, end2.fields) and torch.equal(end.rng_state, end2.rng_state)
    assert whole.meta["model_sha256"] == sampler.pinned.model_sha256


def test_exact_plaquette_susceptibility_and_unit_exp_minus_dh(model_dir):
    """4×4, β = 1.5: ⟨e^{−ΔH}⟩ = 1, ⟨P⟩ and χ_t = ⟨Q²⟩/V against the character expansion within 3σ.
    Measured: acceptance 0.87, z = −1.0 (e^{−ΔH}), +1.4 (⟨P⟩ = 0.6007(32)), −0.8 (χ_t = 0.0268(9)).
    Power: the plaquette error stays below 0.01, and the chains that drop the log-Jacobian or flip its
    sign fail (mutants fthmc-no-log-jacobian, fthmc-log-jacobian-sign in tools/mutants/samplers.toml)."""
    theory = _theory()
    sampler = FieldTransformationHMC(model=model_dir, trajectory_length=1.0, n_steps=6, thermalization=10)
    batch, _ = sampler.run(theory, 60, state=sampler.init_state(theory, chains=48, seed=3))
    configs = batch.configurations.reshape(-1, 2, *SHAPE)
    n, chains = batch.delta_h.shape
    plaq = theory.mean_plaquette(configs).numpy().reshape(n, chains)
    q2 = theory.topological_charge(configs).numpy().reshape(n, chains) ** 2 / (SHAPE[0] * SHAPE[1])
    assert 0.3 < batch.acceptance < 0.999
    z_exp = z_score(np.exp(-batch.delta_h), 1.0)
    z_plaq = z_score(plaq, exact_u1.mean_plaquette(BETA, SHAPE))
    z_chi = z_score(q2, exact_u1.topological_susceptibility(BETA, SHAPE))
    assert abs(z_exp) < 3 and abs(z_plaq) < 3 and abs(z_chi) < 3, (z_exp, z_plaq, z_chi)
    assert mean_and_error(plaq)[1] < 0.01
