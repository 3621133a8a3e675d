"""Samplers against exact results: U(1) plaquette and ⟨Q²⟩ on the 8×8 torus, free φ⁴ propagator.

Errors come from the Γ-method over independent chains (``_stats.mean_and_error``), so
autocorrelations are included; every comparison is |z| < 3 with fixed seeds.  The default run
checks a subset of couplings with fewer samples; ``pytest -m slow`` runs the full sweep.
"""

import numpy as np
import pytest
import torch

from qlat.core.lattice import Lattice
from qlat.exact import free_scalar
from qlat.exact import u1 as exact_u1
from qlat.samplers.hmc import HMC
from qlat.samplers.metropolis import LocalMetropolis, U1Heatbath
from qlat.theories import Phi4Theory, U1Theory
from qlat.theories.observables import two_point

from ._stats import mean_and_error

Z_MAX = 3.0


def _u1_series(sampler, beta, *, chains, n, seed, L=8):
    theory = U1Theory(Lattice((L, L)), beta=beta)
    state = sampler.init_state(theory, chains=chains, seed=seed)
    plaq = []
    q2 = []
    block = 100
    done = 0
    while done < n:
        m = min(block, n - done)
        batch, state = sampler.run(theory, m, state=state)
        flat = batch.configurations.reshape(-1, *theory.field_shape)
        plaq.append(theory.mean_plaquette(flat).reshape(m, chains))
        q2.append(theory.topological_charge(flat).square().reshape(m, chains))
        done += m
    return torch.cat(plaq).numpy(), torch.cat(q2).numpy()


def _check_u1(sampler, beta, *, chains, n, seed):
    plaq, q2 = _u1_series(sampler, beta, chains=chains, n=n, seed=seed)
    p_mean, p_err = mean_and_error(plaq)
    q_mean, q_err = mean_and_error(q2)
    p_exact = exact_u1.mean_plaquette(beta, 8)
    q_exact = exact_u1.topological_q2(beta, 8)
    zp = (p_mean - p_exact) / p_err
    zq = (q_mean - q_exact) / q_err
    assert abs(zp) < Z_MAX, f"plaquette {p_mean}±{p_err} vs {p_exact} (z={zp:.2f})"
    assert abs(zq) < Z_MAX, f"<Q^2> {q_mean}±{q_err} vs {q_exact} (z={zq:.2f})"
    # the test has power: errors small compared with the values compared
    assert p_err < 0.01 * p_exact and q_err < 0.15 * q_exact


# ---------------------------------------------------------------------------- U(1), fast subset
@pytest.mark.parametrize("beta", [1.0, 2.0, 3.0, 4.0])
def test_u1_hmc_fast(beta):
    _check_u1(HMC(n_steps=8, thermalization=100), beta, chains=64, n=250, seed=10 + int(beta))


def test_u1_hmc_omelyan_fast():
    _check_u1(HMC(n_steps=4, integrator="omelyan", thermalization=100), 3.0, chains=64, n=250, seed=17)


@pytest.mark.parametrize("beta", [2.0, 4.0])
def test_u1_heatbath_fast(beta):
    _check_u1(U1Heatbath(thermalization=50), beta, chains=32, n=200, seed=20 + int(beta))


def test_u1_metropolis_fast():
    sampler = LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=100)
    _check_u1(sampler, 3.0, chains=32, n=300, seed=33)


# ---------------------------------------------------------------------------- U(1), full sweep
@pytest.mark.slow
@pytest.mark.parametrize("beta", [1.0, 2.0, 3.0, 4.0])
@pytest.mark.parametrize("name", ["hmc-leapfrog", "hmc-omelyan", "metropolis", "heatbath"])
def test_u1_full_sweep(beta, name):
    if name == "hmc-leapfrog":
        sampler = HMC(n_steps=10, thermalization=200)
    elif name == "hmc-omelyan":
        sampler = HMC(n_steps=5, integrator="omelyan", thermalization=200)
    elif name == "metropolis":
        sampler = LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=200)
    else:
        sampler = U1Heatbath(thermalization=200)
    _check_u1(sampler, beta, chains=64, n=2000, seed=100 + int(10 * beta))


# ---------------------------------------------------------------------------- free φ⁴
def _symmetric_classes(shape):
    """Separations grouped by the symmetry of the torus: |x_μ| mod reflection (and axis swap when square)."""
    classes: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for x in np.ndindex(*shape):
        key = tuple(min(x[m], shape[m] - x[m]) for m in range(len(shape)))
        if len(set(shape)) == 1:
            key = tuple(sorted(key))
        classes.setdefault(key, []).append(x)
    return classes


def _check_free_propagator(sampler, *, shape, m2, chains, n, seed):
    theory = Phi4Theory(Lattice(shape), m2=m2, lam=0.0)
    state = sampler.init_state(theory, chains=chains, seed=seed)
    batch, _ = sampler.run(theory, n, state=state)
    c = two_point(batch.configurations.reshape(-1, *shape)).reshape(n, chains, *shape).numpy()
    exact = free_scalar.propagator(shape, m2)
    zs = []
    for key, members in _symmetric_classes(shape).items():
        series = np.mean([c[(slice(None), slice(None), *x)] for x in members], axis=0)
        mean, err = mean_and_error(series)
        zs.append((mean - exact[members[0]]) / err)
        assert abs(zs[-1]) < Z_MAX, f"G{key}: {mean}±{err} vs {exact[members[0]]}"
    # susceptibility χ₂ = Σ_x G(x) = 1/(2m²) from the magnetization variance
    big_m = batch.configurations.reshape(n, chains, -1).sum(-1).numpy()
    chi_mean, chi_err = mean_and_error(big_m**2 / theory.lattice.volume)
    assert abs(chi_mean - free_scalar.susceptibility(shape, m2)) < Z_MAX * chi_err
    return np.array(zs)


# τ = 0.5 keeps every free-field mode's rotation angle ω_k τ (ω_k² = 2λ_k <= 2(m² + 4d)) below π:
# at τ = 1 a mode of the 8×8 lattice turns by ≈ π per trajectory, so its amplitude barely
# decorrelates (a well-known fixed-length HMC resonance) and the hot start is not forgotten.
def test_free_phi4_hmc_propagator_fast():
    zs = _check_free_propagator(HMC(trajectory_length=0.5, n_steps=5, thermalization=50),
                                shape=(8, 8), m2=0.5, chains=32, n=300, seed=5)
    assert len(zs) == 15


def test_free_phi4_metropolis_propagator_fast():
    sampler = LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=100, every=2)
    _check_free_propagator(sampler, shape=(6, 4), m2=0.5, chains=32, n=300, seed=6)


@pytest.mark.slow
@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
def test_free_phi4_hmc_propagator_full(integrator):
    n_steps = 10 if integrator == "leapfrog" else 5
    _check_free_propagator(HMC(trajectory_length=0.5, n_steps=n_steps, integrator=integrator, thermalization=200),
                           shape=(16, 16), m2=0.25, chains=64, n=2000, seed=7)


# ---------------------------------------------------------------------------- interacting φ⁴
def _phi4_moments(sampler, theory, *, chains, n, seed):
    state = sampler.init_state(theory, chains=chains, seed=seed)
    batch, _ = sampler.run(theory, n, state=state)
    flat = batch.configurations.reshape(n, chains, -1)
    m2_density = (flat.sum(-1) ** 2 / theory.lattice.volume).numpy()  # M²/V, symmetric under φ → −φ
    phi4_site = (flat**4).mean(-1).numpy()
    return mean_and_error(m2_density), mean_and_error(phi4_site)


def _cross_check(theory, hmc, metro, *, chains, n_hmc, n_metro, seed):
    """No exact result at λ > 0: two exact algorithms must agree within their combined errors."""
    a = _phi4_moments(hmc, theory, chains=chains, n=n_hmc, seed=seed)
    b = _phi4_moments(metro, theory, chains=chains, n=n_metro, seed=seed + 1)
    for (ma, ea), (mb, eb) in zip(a, b):
        z = (ma - mb) / np.hypot(ea, eb)
        assert abs(z) < Z_MAX, f"HMC {ma}±{ea} vs Metropolis {mb}±{eb} (z={z:.2f})"
        assert np.hypot(ea, eb) < 0.05 * abs(ma)


def test_interacting_phi4_hmc_agrees_with_metropolis_fast():
    theory = Phi4Theory(Lattice((6, 6)), m2=0.0, lam=1.0)
    _cross_check(theory, HMC(trajectory_length=0.5, n_steps=6, thermalization=100),
                 LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=200, every=2),
                 chains=32, n_hmc=400, n_metro=400, seed=40)


@pytest.mark.slow
def test_interacting_phi4_tutorial_point_full():
    """L = 8, m² = −4, λ = 8 (arXiv:2101.08176), near the transition: long autocorrelations."""
    theory = Phi4Theory(Lattice((8, 8)), m2=-4.0, lam=8.0)
    _cross_check(theory, HMC(trajectory_length=0.5, n_steps=10, integrator="omelyan", thermalization=500),
                 LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=1000, every=4),
                 chains=64, n_hmc=3000, n_metro=3000, seed=50)
