import numpy as np
import pytest
import torch

from qlat.core import observable_catalogue as obs
from qlat.core.errors import NoRealizationError
from qlat.core.lattice import Lattice
from qlat.exact import free_scalar
from qlat.theories import Phi4Theory, U1Theory
from qlat.theories.observables import DerivedRealization, effective_mass, zero_momentum_correlator


def test_u1_realizations():
    theory = U1Theory(Lattice((6, 6)), beta=2.0)
    th = theory.hot_start(5, generator=torch.Generator().manual_seed(0))
    q = obs.TOPOLOGICAL_CHARGE.realize(theory)(th)
    assert q.shape == (5,)
    assert torch.equal(obs.Q2.realize(theory)(th), q * q)
    assert torch.allclose(obs.TOPOLOGICAL_SUSCEPTIBILITY.realize(theory)(th), q * q / 36)
    p = obs.PLAQUETTE.realize(theory)(th)
    assert torch.allclose(p, torch.cos(theory.plaquettes(th)).mean(dim=(1, 2, 3)))
    assert obs.WILSON_LOOP.realize(theory)(th).shape == (5, 3, 3)
    with pytest.raises(NoRealizationError):
        obs.MAGNETIZATION.realize(theory)


def test_phi4_realizations():
    theory = Phi4Theory(Lattice((4, 6)), m2=1.0, lam=0.5)
    phi = torch.randn((3, 4, 6), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    m = obs.MAGNETIZATION.realize(theory)(phi)
    assert torch.allclose(m, phi.mean(dim=(1, 2)))
    chi = obs.SUSCEPTIBILITY_CHI2.realize(theory)
    assert isinstance(chi, DerivedRealization) and chi.primary_names == ("M", "M^2")
    prim = chi(phi)
    big_m = phi.sum(dim=(1, 2))
    assert torch.allclose(prim, torch.stack([big_m, big_m**2], 1))
    means = prim.mean(0).tolist()
    # χ₂ = V·Var(m) with m = M/V the per-configuration magnetization, computed independently
    m_per_site = (phi.sum(dim=(1, 2)) / phi[0].numel()).double()
    variance = float(((m_per_site - m_per_site.mean()) ** 2).mean())
    assert chi.derive(means) == pytest.approx(phi[0].numel() * variance, rel=1e-10)
    c = obs.TWO_POINT.realize(theory)(phi)
    # against the direct translation average
    direct = torch.zeros_like(c)
    for dx in range(4):
        for dy in range(6):
            direct[:, dx, dy] = (phi * phi.roll((-dx, -dy), (1, 2))).mean(dim=(1, 2))
    assert torch.allclose(c, direct, atol=1e-13)
    with pytest.raises(NoRealizationError):
        obs.PLAQUETTE.realize(theory)


def test_zero_momentum_and_effective_mass_on_exact_propagator():
    # the exact free propagator as a "configuration average": C(t) is a pure cosh
    shape, m2 = (10, 4), 0.6
    g = torch.from_numpy(free_scalar.propagator(shape, m2))[None]
    # zero_momentum_correlator sums C(x) over space: check on a field whose two-point function we know
    ct = free_scalar.zero_momentum_propagator(shape, m2)
    assert np.allclose(g[0].sum(1).numpy(), ct)
    meff = effective_mass(ct)
    assert np.allclose(meff, free_scalar.lattice_mass(m2), rtol=1e-10)
    phi = torch.randn((2, 10, 4), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    zc = zero_momentum_correlator(phi)
    from qlat.theories.observables import two_point

    assert torch.allclose(zc, two_point(phi).sum(2))
    assert zero_momentum_correlator(phi, time_axis=1).shape == (2, 4)


def test_theories_satisfy_the_protocol():
    from qlat.theories import Theory

    assert isinstance(U1Theory(Lattice((4, 4)), beta=1.0), Theory)
    assert isinstance(Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.0), Theory)


def test_chi2_derive_propagates_pyerrors_obs():
    pe = pytest.importorskip("pyerrors")
    theory = Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.5)
    chi = obs.SUSCEPTIBILITY_CHI2.realize(theory)
    phi = torch.randn((200, 4, 4), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    prim = chi(phi).numpy()
    means = [pe.Obs([prim[:, k]], ["ens"]) for k in range(2)]
    value = chi.derive(means)
    value.gamma_method()
    expected = (prim[:, 1].mean() - prim[:, 0].mean() ** 2) / 16
    assert value.value == pytest.approx(expected, rel=1e-12) and value.dvalue > 0
