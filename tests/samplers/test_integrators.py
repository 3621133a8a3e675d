import functools

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.samplers.hmc import HMC
from qlat.samplers.integrators import get_integrator, leapfrog, omelyan
from qlat.theories import Phi4Theory, U1Theory

from ._stats import mean_and_error

U1THEORY = U1Theory(Lattice((8, 8)), beta=2.0)
PHI4THEORY = Phi4Theory(Lattice((8, 8)), m2=-4.0, lam=8.0)


def _theories():
    return [U1THEORY, PHI4THEORY]


@functools.cache
def _equilibrated_cached(name, chains, n, seed):
    theory = U1THEORY if name == "u1" else PHI4THEORY
    hmc = HMC(n_steps=10, trajectory_length=0.5 if name == "phi4" else 1.0)
    state = hmc.init_state(theory, chains=chains, seed=seed)
    _, state = hmc.run(theory, n, state=state)
    return state.fields


def _equilibrated(theory, chains=32, n=60, seed=0):
    """Configurations after a short HMC run (typical fields, not a special start)."""
    return _equilibrated_cached(theory.name, chains, n, seed).clone()


def _hamiltonian(theory, q, p):
    return 0.5 * p.square().reshape(q.shape[0], -1).sum(1) + theory.action(q)


@pytest.mark.parametrize("integrator", [leapfrog, omelyan])
@pytest.mark.parametrize("theory", _theories(), ids=["u1", "phi4"])
def test_reversibility(theory, integrator):
    q0 = _equilibrated(theory, chains=8, n=20)
    g = torch.Generator().manual_seed(5)
    p0 = torch.randn(q0.shape, dtype=torch.float64, generator=g)
    q1, p1 = integrator(q0, p0, theory.force, 0.05, 20)
    assert (q1 - q0).abs().max() > 0.1  # it moved
    q2, p2 = integrator(q1, -p1, theory.force, 0.05, 20)
    assert (q2 - q0).abs().max() < 1e-12
    assert (p2 + p0).abs().max() < 1e-12


@pytest.mark.parametrize("name", ["leapfrog", "omelyan"])
@pytest.mark.parametrize("theory", _theories(), ids=["u1", "phi4"])
def test_energy_violation_scales_as_step_size_squared(theory, name):
    """⟨|ΔH|⟩ at fixed trajectory length, same start and momenta: log-log slope 2."""
    integrate = get_integrator(name)
    q0 = _equilibrated(theory)
    p0 = torch.randn(q0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    h0 = _hamiltonian(theory, q0, p0)
    tau = 0.5
    n_steps = np.array([8, 16, 32, 64]) if name == "leapfrog" else np.array([4, 8, 16, 32])
    eps = tau / n_steps
    mean_abs = []
    for n, e in zip(n_steps, eps):
        q1, p1 = integrate(q0, p0, theory.force, float(e), int(n))
        mean_abs.append((_hamiltonian(theory, q1, p1) - h0).abs().mean().item())
    slope = np.polyfit(np.log(eps), np.log(mean_abs), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.15), (slope, mean_abs)
    assert mean_abs[0] > 1e-6  # measurable above roundoff


def test_omelyan_is_more_accurate_per_force_evaluation():
    theory = U1Theory(Lattice((8, 8)), beta=2.0)
    q0 = _equilibrated(theory)
    p0 = torch.randn(q0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    h0 = _hamiltonian(theory, q0, p0)
    # same cost: 20 leapfrog steps vs 10 Omelyan steps (2 forces each)
    ql, pl = leapfrog(q0, p0, theory.force, 0.05, 20)
    qo, po = omelyan(q0, p0, theory.force, 0.1, 10)
    dl = (_hamiltonian(theory, ql, pl) - h0).abs().mean()
    do = (_hamiltonian(theory, qo, po) - h0).abs().mean()
    assert do < dl


@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
@pytest.mark.parametrize("theory", _theories(), ids=["u1", "phi4"])
def test_mean_exp_minus_delta_h_is_one(theory, integrator):
    """⟨e^{−ΔH}⟩ = 1 in equilibrium (area preservation + reversibility)."""
    if theory.name == "u1":
        n_steps, tau = (6, 1.0) if integrator == "leapfrog" else (3, 1.0)
    else:
        n_steps, tau = (8, 0.5) if integrator == "leapfrog" else (4, 0.5)
    hmc = HMC(trajectory_length=tau, n_steps=n_steps, integrator=integrator, thermalization=100)
    state = hmc.init_state(theory, chains=32, seed=3)
    batch, _ = hmc.run(theory, 150, state=state)
    assert np.all(np.isfinite(batch.delta_h))
    x = np.exp(-batch.delta_h)
    mean, err = mean_and_error(x)
    assert 0.3 < batch.acceptance < 0.99  # ΔH is O(1): the test has power
    assert abs(mean - 1.0) < 3 * err, (mean, err)


def test_bad_integrator_input():
    with pytest.raises(ParameterError, match="integrator"):
        get_integrator("rk4")
    with pytest.raises(ParameterError, match="integrator"):
        HMC(integrator="verlet")
    q = torch.zeros((1, 4, 4), dtype=torch.float64)
    with pytest.raises(ParameterError, match="n_steps"):
        leapfrog(q, q, lambda x: x, 0.1, 0)
    with pytest.raises(ParameterError, match="step_size"):
        omelyan(q, q, lambda x: x, -0.1, 3)


@pytest.mark.parametrize(
    "theory",
    [U1Theory(Lattice((4, 4, 6)), beta=1.5), U1Theory(Lattice((2, 4, 2, 4)), beta=1.0),
     Phi4Theory(Lattice((4, 4, 4)), m2=-2.0, lam=1.0), Phi4Theory(Lattice((2, 4, 2, 4)), m2=0.5, lam=0.3)],
    ids=["u1-3d", "u1-4d", "phi4-3d", "phi4-4d"],
)
def test_higher_dimensions_reversible_and_second_order(theory):
    g = torch.Generator().manual_seed(2)
    q0 = theory.hot_start(4, generator=g)
    p0 = torch.randn(q0.shape, dtype=torch.float64, generator=g)
    q1, p1 = leapfrog(q0, p0, theory.force, 0.02, 25)
    q2, p2 = leapfrog(q1, -p1, theory.force, 0.02, 25)
    assert (q2 - q0).abs().max() < 1e-12 and (p2 + p0).abs().max() < 1e-12
    h0 = _hamiltonian(theory, q0, p0)
    dh = [(_hamiltonian(theory, *leapfrog(q0, p0, theory.force, 0.5 / n, n), ) - h0).abs().mean().item()
          for n in (10, 20, 40)]
    slope = np.polyfit(np.log([0.05, 0.025, 0.0125]), np.log(dh), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.15)


def test_momentum_generator_is_standard_normal():
    from scipy import stats

    from qlat.samplers.hmc import standard_normal

    g = torch.Generator().manual_seed(0)
    z = standard_normal((3, 2, 50001), generator=g)
    assert z.shape == (3, 2, 50001) and z.dtype == torch.float64
    flat = z.reshape(-1).numpy()
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    n = flat.size
    assert abs(flat.mean()) < 4 / np.sqrt(n)
    assert abs(flat.var() - 1) < 4 * np.sqrt(2 / n)
    # the two halves (cos and sin branches) are uncorrelated
    half = (n + 1) // 2
    assert abs(np.corrcoef(flat[: n - half], flat[half:])[0, 1]) < 4 / np.sqrt(n - half)
    # same generator state, same numbers
    assert torch.equal(standard_normal((7,), generator=torch.Generator().manual_seed(3)),
                       standard_normal((7,), generator=torch.Generator().manual_seed(3)))
