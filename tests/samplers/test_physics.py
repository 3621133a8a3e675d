"""Samplers against exact results: U(1) plaquette and ⟨Q²⟩ on the 8×8 torus, free φ⁴ propagator.

Errors come from the Γ-method over independent chains (``_stats.mean_and_error``), so
autocorrelations are included; every comparison is |z| < 3 with fixed seeds.  The default run
checks a subset of couplings with fewer samples; ``pytest -m slow`` runs the full sweep.

Power: an HMC test is only worth something if HMC *without* its Metropolis test fails it.  The
``*_fast`` HMC tests therefore use step sizes coarse enough that the unadjusted chain (every
trajectory accepted) is many σ off — measured z of the unadjusted chain quoted next to each point
— on both the compiled trajectory (:mod:`qlat.samplers.hmc_kernels`) and the generic torch path
(:class:`GenericPath`), for leapfrog and Omelyan; ``tools/mutants/samplers.toml`` removes the
test on each path, for each integrator and theory, and expects these tests to go red.  The
acceptance *probability* ⟨min(1, e^{−ΔH})⟩ (from the recorded ΔH, which a missing Metropolis
step does not change) is checked to stay below 0.95, so a later change of the step cannot take
the power away silently.
"""

import functools

import numpy as np
import pytest
import torch

from qlat.core.lattice import Lattice
from qlat.exact import free_scalar
from qlat.exact import u1_character_expansion as exact_u1
from qlat.samplers.hmc import HMC
from qlat.samplers.metropolis import LocalMetropolis, U1Heatbath
from qlat.theories import Phi4Theory, U1Theory
from qlat.theories.observables import two_point

from ._stats import mean_and_error

Z_MAX = 3.0
#: Upper bound on ⟨min(1, e^{−ΔH})⟩ of the coarse HMC points: below it, a missing Metropolis test shows.
MAX_ACCEPTANCE_PROBABILITY = 0.95


class GenericPath:
    """The same theory without its ``hmc_kernel`` hook: HMC takes the generic torch path."""

    def __init__(self, theory) -> None:
        self._theory = theory

    def __getattr__(self, name):
        if name == "hmc_kernel":
            raise AttributeError(name)
        return getattr(self._theory, name)


PATHS = {"compiled": lambda theory: theory, "torch": GenericPath}


def _acceptance_probability(batch) -> float:
    dh = np.asarray(batch.delta_h, dtype=float)
    with np.errstate(over="ignore"):
        return float(np.mean(np.minimum(1.0, np.exp(-dh))))


def _u1_series(sampler, beta, *, chains, n, seed, L=8, path="compiled"):
    theory = U1Theory(Lattice((L, L)), beta=beta)
    target = PATHS[path](theory)
    state = sampler.init_state(target, chains=chains, seed=seed)
    plaq = []
    q2 = []
    probability = []
    block = 100
    done = 0
    while done < n:
        m = min(block, n - done)
        batch, state = sampler.run(target, m, state=state)
        flat = batch.configurations.reshape(-1, *theory.field_shape)
        plaq.append(theory.mean_plaquette(flat).reshape(m, chains))
        q2.append(theory.topological_charge(flat).square().reshape(m, chains))
        probability.append(_acceptance_probability(batch) if np.isfinite(batch.delta_h).any() else np.nan)
        done += m
    _u1_series.last_acceptance_probability = float(np.mean(probability))
    return torch.cat(plaq).numpy(), torch.cat(q2).numpy()


def _check_u1(sampler, beta, *, chains, n, seed, path="compiled"):
    plaq, q2 = _u1_series(sampler, beta, chains=chains, n=n, seed=seed, path=path)
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


# Coarse steps, measured with the Metropolis test removed (same seeds): plaquette z = −22 for
# leapfrog at β = 3, ε = 1/6 (64 × 250 trajectories); z ≈ −9 for Omelyan at β = 1, ε = 0.6
# (128 × 400; Omelyan's error coefficient is ~10× smaller, so it needs the larger step).
def _check_coarse_u1(integrator, path, *, beta, tau, steps, chains, n):
    sampler = HMC(trajectory_length=tau, n_steps=steps, integrator=integrator, thermalization=100)
    _check_u1(sampler, beta, chains=chains, n=n, seed=17, path=path)
    assert _u1_series.last_acceptance_probability < MAX_ACCEPTANCE_PROBABILITY


@pytest.mark.parametrize("path", list(PATHS))
def test_u1_hmc_omelyan_fast(path):
    _check_coarse_u1("omelyan", path, beta=1.0, tau=1.2, steps=2, chains=128, n=400)


@pytest.mark.parametrize("path", list(PATHS))
def test_u1_hmc_leapfrog_coarse_fast(path):
    _check_coarse_u1("leapfrog", path, beta=3.0, tau=1.0, steps=6, chains=64, n=250)


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


def _check_free_propagator(sampler, *, shape, m2, chains, n, seed, path="compiled"):
    theory = Phi4Theory(Lattice(shape), m2=m2, lam=0.0)
    target = PATHS[path](theory)
    state = sampler.init_state(target, chains=chains, seed=seed)
    batch, _ = sampler.run(target, n, state=state)
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
    _check_free_propagator.last_acceptance_probability = _acceptance_probability(batch)
    return np.array(zs)


# τ ≤ 0.5 keeps every free-field mode's rotation angle ω_k τ (ω_k² = 2λ_k <= 2(m² + 4d)) below π:
# at τ ≈ 0.8–1 a mode of the 8×8 lattice turns by ≈ π per trajectory, so its amplitude barely
# decorrelates (a well-known fixed-length HMC resonance) and the hot start is not forgotten
# (measured: z = +7 on G(0) at τ = 0.8 with the Metropolis test in place).  The steps are coarse:
# with the Metropolis test removed G(0) is off by z = +21 (leapfrog, ε = 1/4, 32 × 300) and
# z ≈ −8 (Omelyan, ε = 0.45, 64 × 400; its ε² error is small, so the step sits near its limit).
FREE_PHI4_HMC = {"leapfrog": dict(tau=0.5, steps=2, chains=32, n=300),
                 "omelyan": dict(tau=0.45, steps=1, chains=64, n=400)}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("integrator", list(FREE_PHI4_HMC))
def test_free_phi4_hmc_propagator_fast(integrator, path):
    p = FREE_PHI4_HMC[integrator]
    sampler = HMC(trajectory_length=p["tau"], n_steps=p["steps"], integrator=integrator, thermalization=50)
    zs = _check_free_propagator(sampler, shape=(8, 8), m2=0.5, chains=p["chains"], n=p["n"], seed=5, path=path)
    assert len(zs) == 15
    assert _check_free_propagator.last_acceptance_probability < MAX_ACCEPTANCE_PROBABILITY


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
    _phi4_moments.last_acceptance_probability = _acceptance_probability(batch)
    flat = batch.configurations.reshape(n, chains, -1)
    m2_density = (flat.sum(-1) ** 2 / theory.lattice.volume).numpy()  # M²/V, symmetric under φ → −φ
    phi4_site = (flat**4).mean(-1).numpy()
    return mean_and_error(m2_density), mean_and_error(phi4_site)


def _cross_check(theory, hmc, metro, *, chains, n_hmc, n_metro, seed, path="compiled", reference=None):
    """No exact result at λ > 0: two exact algorithms must agree within their combined errors."""
    a = _phi4_moments(hmc, PATHS[path](theory), chains=chains, n=n_hmc, seed=seed)
    b = reference if reference is not None else _phi4_moments(metro, theory, chains=chains, n=n_metro, seed=seed + 1)
    for (ma, ea), (mb, eb) in zip(a, b):
        z = (ma - mb) / np.hypot(ea, eb)
        assert abs(z) < Z_MAX, f"HMC {ma}±{ea} vs Metropolis {mb}±{eb} (z={z:.2f})"
        assert np.hypot(ea, eb) < 0.05 * abs(ma)


INTERACTING = Phi4Theory(Lattice((6, 6)), m2=0.0, lam=1.0)


@functools.lru_cache(maxsize=1)
def _interacting_metropolis_reference():
    metro = LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=200, every=2)
    return _phi4_moments(metro, INTERACTING, chains=32, n=400, seed=41)


# Coarse steps: with the Metropolis test removed ⟨φ⁴⟩ is off by z = +19 (leapfrog, ε = 1/4) and
# z = −8 (Omelyan, ε = 0.45) against the Metropolis chain (measured, same seeds).
INTERACTING_HMC = {"leapfrog": dict(tau=0.5, steps=2), "omelyan": dict(tau=0.45, steps=1)}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("integrator", list(INTERACTING_HMC))
def test_interacting_phi4_hmc_agrees_with_metropolis_fast(integrator, path):
    p = INTERACTING_HMC[integrator]
    hmc = HMC(trajectory_length=p["tau"], n_steps=p["steps"], integrator=integrator, thermalization=100)
    _cross_check(INTERACTING, hmc, None, chains=32, n_hmc=400, n_metro=0, seed=40, path=path,
                 reference=_interacting_metropolis_reference())
    assert _phi4_moments.last_acceptance_probability < MAX_ACCEPTANCE_PROBABILITY


@pytest.mark.slow
def test_interacting_phi4_tutorial_point_full():
    """L = 8, m² = −4, λ = 8 (arXiv:2101.08176), near the transition: long autocorrelations."""
    theory = Phi4Theory(Lattice((8, 8)), m2=-4.0, lam=8.0)
    _cross_check(theory, HMC(trajectory_length=0.5, n_steps=10, integrator="omelyan", thermalization=500),
                 LocalMetropolis(step_size=1.0, target_acceptance=0.5, thermalization=1000, every=4),
                 chains=64, n_hmc=3000, n_metro=3000, seed=50)
