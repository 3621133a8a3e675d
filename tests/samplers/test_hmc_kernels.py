"""Fused numba HMC updates: against the torch path they replace, reproducibility, the sine kernel."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import torch

from qlat.core.lattice import Lattice
from qlat.samplers import hmc_kernels as hk
from qlat.samplers.hmc import HMC, standard_normal
from qlat.theories import Phi4Theory, U1Theory


class _WithoutKernel:
    """The same theory without its ``hmc_kernel`` hook: HMC takes the generic torch path."""

    def __init__(self, theory) -> None:
        self._theory = theory

    def __getattr__(self, name):
        if name == "hmc_kernel":
            raise AttributeError(name)
        return getattr(self._theory, name)


THEORIES = [
    (U1Theory(Lattice((8, 6)), beta=2.0), 1.0),
    (U1Theory(Lattice((12, 12)), beta=4.0), 0.8),
    (Phi4Theory(Lattice((8, 10)), m2=-4.0, lam=8.0), 0.5),
    (Phi4Theory(Lattice((12, 12)), m2=0.5, lam=0.2), 1.0),
]


@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
@pytest.mark.parametrize("theory, tau", THEORIES, ids=lambda t: repr(t)[:30])
def test_fused_update_equals_the_torch_path(theory, tau, integrator):
    """Same generator, same uniforms: fields to 1e-12, ΔH to 1e-12, the same accept decisions."""
    hmc = HMC(trajectory_length=tau, n_steps=8, integrator=integrator)
    state = hmc.init_state(theory, chains=6, seed=11)
    g_fused, g_torch = state.generator(), state.generator()
    f_fused, f_torch = state.fields.clone(), state.fields.clone()
    eps = tau / 8
    n_accepted = 0
    for _ in range(4):
        f_fused, acc_fused, dh_fused, p_fused = hmc.trajectory(theory, f_fused, g_fused, eps)
        f_torch, acc_torch, dh_torch, p_torch = hmc.trajectory(_WithoutKernel(theory), f_torch, g_torch, eps)
        np.testing.assert_array_equal(acc_fused, acc_torch)
        np.testing.assert_allclose(dh_fused, dh_torch, atol=1e-12, rtol=0)
        torch.testing.assert_close(f_fused, f_torch, atol=1e-12, rtol=0)
        assert p_fused == pytest.approx(p_torch, abs=1e-12)
        n_accepted += int(acc_fused.sum())
    assert 0 < n_accepted  # the comparison covers accepted trajectories
    assert torch.equal(g_fused.get_state(), g_torch.get_state())  # the same number of draws


def test_rejected_chains_keep_their_fields_and_links_are_canonical():
    theory = U1Theory(Lattice((6, 6)), beta=1.5)
    hmc = HMC(trajectory_length=1.4, n_steps=2)  # a coarse step: many rejections
    state = hmc.init_state(theory, chains=32, seed=5)
    new, accepted, dh, _ = hmc.trajectory(theory, state.fields, state.generator(), 0.7)
    assert 0 < accepted.sum() < accepted.size
    torch.testing.assert_close(new[~torch.from_numpy(accepted)], theory.canonicalize(state.fields)[~torch.from_numpy(accepted)],
                               atol=0, rtol=0)
    assert float(new.max()) <= np.pi and float(new.min()) > -np.pi
    assert np.all(np.isfinite(dh))


@pytest.mark.parametrize("theory, tau", THEORIES[::2], ids=lambda t: repr(t)[:30])
def test_chains_are_bit_for_bit_reproducible_and_resumable(theory, tau):
    hmc = HMC(trajectory_length=tau, n_steps=5, thermalization=3)
    a, state_a = hmc.run(theory, 6, state=hmc.init_state(theory, chains=4, seed=9))
    b, _ = hmc.run(theory, 6, state=hmc.init_state(theory, chains=4, seed=9))
    assert torch.equal(a.configurations, b.configurations)
    first, mid = hmc.run(theory, 2, state=hmc.init_state(theory, chains=4, seed=9))
    rest, state_c = hmc.run(theory, 4, state=mid)
    assert torch.equal(torch.cat([first.configurations, rest.configurations]), a.configurations)
    assert torch.equal(state_c.fields, state_a.fields)


@numba.njit
def _sin_cos(x, s, c):
    for i in range(x.size):
        s[i] = hk._sin(x[i])
        c[i] = hk._cos(x[i])


def test_polynomial_sine_and_cosine_are_accurate():
    x = np.concatenate([np.linspace(-100.0, 100.0, 200_001), np.pi / 2 * np.arange(-40, 41), [0.0, -0.0, 1e-300]])
    s, c = np.empty_like(x), np.empty_like(x)
    _sin_cos(x, s, c)
    np.testing.assert_allclose(s, np.sin(x), atol=4e-16, rtol=0)
    np.testing.assert_allclose(c, np.cos(x), atol=4e-16, rtol=0)


@pytest.mark.parametrize("n", [1, 7, 64])
def test_momenta_are_the_samplers_normals(n):
    reference = standard_normal((n,), generator=torch.Generator().manual_seed(3))
    uniforms = torch.rand(2 * ((n + 1) // 2), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(hk.standard_normal_from_uniforms(uniforms.numpy(), n), reference.numpy(),
                               atol=1e-14, rtol=0)


@pytest.mark.parametrize("name, kicks", [("leapfrog", 6), ("omelyan", 11)])
def test_schedules_follow_the_integrators(name, kicks):
    kinds, coeffs = hk.integrator_schedule(name, 5)
    assert int(np.sum(kinds == 0)) == kicks  # merged kicks: n + 1 and 2n + 1 force evaluations
    assert coeffs[kinds == 1].sum() == pytest.approx(5.0)  # drifts add up to the trajectory
    assert coeffs[kinds == 0].sum() == pytest.approx(5.0)
    assert np.array_equal(kinds, kinds[::-1]) and np.allclose(coeffs, coeffs[::-1])  # symmetric: reversible
    with pytest.raises(ValueError):
        hk.integrator_schedule("euler", 5)


def test_theories_without_a_kernel_use_the_torch_path():
    theory = U1Theory(Lattice((4, 4, 4)), beta=1.0)
    assert theory.hmc_kernel() is None and Phi4Theory(Lattice((4, 4, 4)), m2=1.0, lam=0.1).hmc_kernel() is None
    hmc = HMC(trajectory_length=0.5, n_steps=4)
    batch, _ = hmc.run(theory, 2, state=hmc.init_state(theory, chains=2, seed=1))
    assert batch.configurations.shape == (2, 2, 3, 4, 4, 4)
    with pytest.raises(ValueError):
        hk.fused_hmc_step("nope", (), np.zeros((1, 2, 2)), np.zeros(4), np.zeros(1), step_size=0.1,
                          schedule=hk.integrator_schedule("leapfrog", 1))
