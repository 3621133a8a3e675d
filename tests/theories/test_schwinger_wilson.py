"""Wilson Dirac operator and the Schwinger theory: invariants to rounding, forces vs numerical derivatives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from qlat.core import observable_catalogue as obs
from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.core.registry import THEORIES
from qlat.theories.base import Theory, theory_from_params
from qlat.theories.schwinger_wilson import (
    SchwingerTheory,
    SignProblemWarning,
    critical_kappa,
    critical_mass,
)
from qlat.theories.wilson_dirac import GAMMA5, WilsonOperator, cg_normal, gamma5

SHAPE = (4, 6)


@pytest.fixture
def fields():
    gen = torch.Generator().manual_seed(7)
    return torch.rand((3, 2, *SHAPE), dtype=torch.float64, generator=gen) * 2 * np.pi - np.pi


def test_gamma5_hermiticity(fields):
    op = WilsonOperator(fields, mass=-0.3)
    d = op.dense()
    g5 = np.kron(np.eye(SHAPE[0] * SHAPE[1]), GAMMA5)
    assert np.max(np.abs(np.conj(np.transpose(d, (0, 2, 1))) - g5 @ d @ g5)) < 1e-12
    # the matrix is not hermitian itself (so the test above is not trivially true)
    assert np.max(np.abs(np.conj(np.transpose(d, (0, 2, 1))) - d)) > 0.1
    psi = np.random.default_rng(0).normal(size=(3, op.dim)) + 0j
    expect = np.einsum("bji,bj->bi", np.conj(d), psi)
    assert np.max(np.abs(op.apply_dagger(psi) - expect)) < 1e-12
    assert np.max(np.abs(op.apply(psi) - np.einsum("bij,bj->bi", d, psi))) < 1e-12
    logdet, sign = op.log_abs_det()
    dets = np.linalg.det(d)
    assert np.max(np.abs(dets.imag / np.abs(dets))) < 1e-10  # det D is real
    np.testing.assert_allclose(np.sign(dets.real), sign)
    np.testing.assert_allclose(np.log(np.abs(dets)), logdet, atol=1e-9)


def test_gauge_covariance(fields):
    lat = Lattice(SHAPE)
    alpha = torch.rand((3, *SHAPE), dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 6.0
    transformed = torch.stack([fields[:, mu] + alpha - lat.shift(alpha, mu) for mu in range(2)], dim=1)
    d = WilsonOperator(fields, mass=0.1).dense()
    dg = WilsonOperator(transformed, mass=0.1).dense()
    g = np.repeat(np.exp(1j * alpha.numpy().reshape(3, -1)), 2, axis=1)  # G = diag(e^{iα(x)}) ⊗ 1_spin
    expect = g[:, :, None] * d * np.conj(g)[:, None, :]
    assert np.max(np.abs(dg - expect)) < 1e-12
    assert np.max(np.abs(dg - d)) > 0.1


def test_cg_residual_below_tolerance(fields):
    op = WilsonOperator(fields, mass=0.05)
    b = np.random.default_rng(1).normal(size=(3, op.dim)) + 1j * np.random.default_rng(2).normal(size=(3, op.dim))
    for tol in (1e-8, 1e-12):
        res = cg_normal(op, b, tol=tol)
        assert res.converged
        assert np.all(res.residual < 10 * tol)
        direct = np.linalg.solve(np.conj(np.transpose(op.dense(), (0, 2, 1))) @ op.dense(), b[..., None])[..., 0]
        assert np.max(np.abs(res.x - direct)) / np.max(np.abs(direct)) < 1e4 * tol


def test_exact_determinant_force_vs_numerical_derivative(fields):
    for nf in (1, 2):
        theory = SchwingerTheory(Lattice(SHAPE), beta=1.7, mass=0.2, nf=nf)
        force = theory.force(fields)
        h = 1e-4
        for idx in [(0, 0, 1, 2), (1, 1, 3, 0), (2, 0, 0, 5), (0, 1, 3, 5)]:
            def s(shift, idx=idx, theory=theory):
                f = fields.clone()
                f[idx] += shift
                return theory.action(f)[idx[0]].item()
            numeric = (8 * (s(h) - s(-h)) - (s(2 * h) - s(-2 * h))) / (12 * h)
            assert abs(force[idx].item() - numeric) < 1e-6


def test_stochastic_condensate_agrees_with_exact_trace(fields):
    theory = SchwingerTheory(Lattice(SHAPE), beta=1.0, mass=0.3, nf=2)
    exact = theory.condensate(fields).numpy()
    for noise in ("z2", "z4"):
        est, err = theory.stochastic_condensate(fields, n_noise=64, seed=5, noise=noise)
        z = (est.numpy() - exact) / err.numpy()
        assert np.all(np.abs(z) < 4) and np.all(err.numpy() > 0)


def test_free_condensate_observable():
    from qlat.exact.wilson_free import trace_inverse_density

    theory = SchwingerTheory(Lattice((4, 4)), beta=1.0, kappa=0.24, nf=2)
    from qlat.theories.schwinger_wilson import PSIBARPSI

    value = PSIBARPSI.realize(theory)(theory.cold_start(1))
    assert value.item() == pytest.approx(trace_inverse_density((4, 4), mass=theory.mass), abs=1e-12)
    assert theory.mass == pytest.approx(1 / 0.48 - 2)


def test_protocol_params_and_observables(fields):
    theory = THEORIES.get("schwinger").from_options(L=4, ndim=2, beta=2.0, kappa=0.25, nf=1)
    assert isinstance(theory, Theory)
    again = theory_from_params(theory.params())
    assert again == theory and again.kappa == pytest.approx(0.25)
    f = theory.hot_start(2, generator=torch.Generator().manual_seed(0))
    for name in theory.default_observables():
        from qlat.core.observable_registry import OBSERVABLES

        values = OBSERVABLES.get(name).realize(theory)(f)
        assert values.shape == (2,)
    assert "sign" in theory.default_observables()
    # the charge is the geometric one, Q = (1/2π) Σ_P arg e^{iθ_P} with arg in (−π, π]:
    charge = obs.TOPOLOGICAL_CHARGE.realize(theory)
    theta = f.numpy()
    plaq = theta[:, 0] + np.roll(theta[:, 1], -1, axis=1) - np.roll(theta[:, 0], -1, axis=2) - theta[:, 1]
    expected = np.angle(np.exp(1j * plaq)).sum(axis=(1, 2)) / (2 * np.pi)
    np.testing.assert_allclose(charge(f).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(expected, np.round(expected), atol=1e-12)  # integers on every configuration
    assert torch.equal(charge(theory.cold_start(2)), torch.zeros(2, dtype=torch.float64))
    # the constant-field instanton: every plaquette angle 2π/V, so Q = ±1 exactly
    L0, L1 = theory.lattice.shape
    volume = L0 * L1
    inst = torch.zeros((1, 2, L0, L1), dtype=torch.float64)
    inst[0, 1] = 2 * np.pi * torch.arange(L0, dtype=torch.float64)[:, None] / volume
    inst[0, 0, L0 - 1] = -2 * np.pi * L0 * torch.arange(L1, dtype=torch.float64) / volume
    both = torch.cat([inst, -inst])
    np.testing.assert_allclose(charge(both).numpy(), [1.0, -1.0], atol=1e-12)
    # the heatbath / local Metropolis must not mistake it for pure gauge
    from qlat.theories.base import CompactLinkAction

    assert not isinstance(theory, CompactLinkAction)


@pytest.mark.parametrize("kwargs,flag", [
    (dict(beta=0.0, mass=0.1), "beta"), (dict(beta=-1.0, mass=0.1), "beta"),
    (dict(beta=1.0, kappa=0.0), "kappa"), (dict(beta=1.0, kappa=-0.1), "kappa"),
    (dict(beta=1.0, mass=-2.0), "mass"), (dict(beta=1.0, mass=-3.0), "mass"),
    (dict(beta=1.0, mass=0.1, nf=3), "nf"), (dict(beta=1.0, mass=0.1, nf=0), "nf"),
    (dict(beta=1.0, mass=0.1, kappa=0.2), "mass"), (dict(beta=1.0), "mass"),
])
def test_bad_input_names_the_parameter(kwargs, flag):
    with pytest.raises(ParameterError) as exc:
        SchwingerTheory(Lattice((4, 4)), **kwargs)
    assert exc.value.parameter == flag


@pytest.mark.parametrize("shape", [(5, 4), (4, 7), (2, 2)])
def test_odd_or_small_lattice(shape):
    with pytest.raises(ParameterError) as exc:
        SchwingerTheory(Lattice(shape), beta=1.0, mass=0.1)
    assert exc.value.parameter == "L"
    with pytest.raises(ParameterError):
        SchwingerTheory(Lattice((4, 4, 4)), beta=1.0, mass=0.1)


def test_sign_problem_warning():
    assert critical_mass(1.0) == pytest.approx(-0.3204)
    assert critical_kappa(2.0) == pytest.approx(0.27728, abs=1e-5)
    with pytest.warns(SignProblemWarning, match="sign"):
        SchwingerTheory(Lattice((4, 4)), beta=2.0, kappa=0.28, nf=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SchwingerTheory(Lattice((4, 4)), beta=2.0, kappa=0.28, nf=2)  # two flavours: no sign problem
        SchwingerTheory(Lattice((4, 4)), beta=2.0, mass=-0.1, nf=1)  # negative m0 above m_c is legitimate


def test_gamma5_helper():
    psi = np.arange(4, dtype=complex)
    np.testing.assert_array_equal(gamma5(psi), [0, -1, 2, -3])


def test_stochastic_condensate_is_reproducible_and_independent_per_configuration():
    theory = SchwingerTheory(Lattice((4, 4)), beta=1.0, mass=0.3, nf=2)
    f = theory.hot_start(2, generator=torch.Generator().manual_seed(1))
    same = torch.cat([f[:1], f[:1]])
    a, _ = theory.stochastic_condensate(same, n_noise=4)
    b, _ = theory.stochastic_condensate(same, n_noise=4)
    assert torch.equal(a, b) and a[0] == a[1]  # same configuration, same noise
    c, _ = theory.stochastic_condensate(same, n_noise=4, seed=1)
    assert c[0] != a[0]


def test_large_lattice_condensate_is_stochastic():
    theory = SchwingerTheory(Lattice((18, 18)), beta=2.0, mass=0.5, nf=2)
    f = theory.hot_start(1, generator=torch.Generator().manual_seed(2))
    est, err = theory.stochastic_condensate(f, n_noise=16)
    value = theory.condensate(f)
    assert torch.equal(value, est) and err.item() > 0


def test_force_equals_autograd_of_the_torch_determinant(fields):
    for nf in (1, 2):
        theory = SchwingerTheory(Lattice(SHAPE), beta=1.3, mass=-0.1, nf=nf)
        x = fields.clone().requires_grad_(True)
        action = theory.action(x)
        assert torch.allclose(action.detach(), theory.action(fields), rtol=0, atol=1e-10)
        (grad,) = torch.autograd.grad(action.sum(), x)
        assert torch.allclose(theory.force(fields), grad, rtol=1e-9, atol=1e-9)


def test_no_pure_gauge_shortcuts():
    """The fused pure-gauge HMC kernel and the pure-gauge local samplers must not see this theory."""
    theory = SchwingerTheory.example()
    assert getattr(theory, "hmc_kernel", None) is None
    assert not hasattr(theory, "local_staples")
