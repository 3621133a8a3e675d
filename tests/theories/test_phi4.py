import itertools
import math

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.theories import Phi4Theory, hopping_from_phi4, phi4_from_hopping, theory_from_params
from qlat.theories.phi4 import field_from_hopping


def _loop_action(phi: np.ndarray, m2: float, lam: float) -> float:
    """The tutorial action written out site by site."""
    shape = phi.shape
    total = 0.0
    for x in itertools.product(*[range(s) for s in shape]):
        v = phi[x]
        kin = 0.0
        for mu in range(len(shape)):
            up = list(x)
            dn = list(x)
            up[mu] = (up[mu] + 1) % shape[mu]
            dn[mu] = (dn[mu] - 1) % shape[mu]
            kin += v * (2 * v - phi[tuple(up)] - phi[tuple(dn)])
        total += kin + m2 * v * v + lam * v**4
    return total


@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 4), (2, 2)])
def test_action_matches_site_loop(shape):
    theory = Phi4Theory(Lattice(shape), m2=-1.3, lam=0.7)
    phi = torch.randn((3, *shape), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    s = theory.action(phi)
    for b in range(3):
        assert s[b].item() == pytest.approx(_loop_action(phi[b].numpy(), -1.3, 0.7), rel=1e-12)


@pytest.mark.parametrize("shape", [(6, 6), (2, 4), (4, 3, 3), (2, 2, 2, 4)])
def test_force_matches_autograd(shape):
    theory = Phi4Theory(Lattice(shape), m2=-4.0, lam=8.0)
    phi = 1.5 * torch.randn((4, *shape), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    phi.requires_grad_(True)
    (grad,) = torch.autograd.grad(theory.action(phi).sum(), phi)
    force = theory.force(phi.detach())
    assert torch.allclose(force, grad, rtol=1e-12, atol=1e-12)
    assert force.abs().max() > 1.0  # a non-trivial field


def test_local_action_difference_matches_full_action():
    theory = Phi4Theory(Lattice((4, 4)), m2=0.3, lam=1.1)
    phi = torch.randn((1, 4, 4), dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    new = phi.clone()
    new[0, 2, 1] += 0.37
    nb = theory.neighbour_sum(phi)
    d_local = theory.local_action(new, nb) - theory.local_action(phi, nb)
    d_full = theory.action(new) - theory.action(phi)
    assert d_local[0, 2, 1].item() == pytest.approx(d_full.item(), rel=1e-12)


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_hopping_form_round_trip_and_action(ndim):
    kappa, lam_h = 0.21, 0.013
    m2, lam = phi4_from_hopping(kappa, lam_h, ndim=ndim)
    k2, l2 = hopping_from_phi4(m2, lam, ndim=ndim)
    assert k2 == pytest.approx(kappa, rel=1e-13) and l2 == pytest.approx(lam_h, rel=1e-13)
    # the two actions agree up to the constant V·λ̃ under φ = √κ φ̃
    shape = (4,) * ndim if ndim < 4 else (2, 2, 2, 4)
    lat = Lattice(shape)
    theory = Phi4Theory(lat, m2=m2, lam=lam)
    g = torch.Generator().manual_seed(7)
    phit = torch.randn((3, *shape), dtype=torch.float64, generator=g)
    hop = sum((phit * lat.shift(phit, mu)).reshape(3, -1).sum(1) for mu in range(ndim))
    s_hop = -2 * kappa * hop + (phit**2 + lam_h * (phit**2 - 1) ** 2).reshape(3, -1).sum(1)
    s_tut = theory.action(field_from_hopping(phit, kappa))
    assert torch.allclose(s_tut + lat.volume * lam_h, s_hop, rtol=1e-12, atol=1e-10)
    assert Phi4Theory(lat, m2=m2, lam=lam).hopping_params()["kappa"] == pytest.approx(kappa, rel=1e-13)


def test_hopping_free_field():
    kappa, lam_h = hopping_from_phi4(0.5, 0.0, ndim=2)
    assert kappa == pytest.approx(1 / 4.5) and lam_h == 0.0
    with pytest.raises(ParameterError, match="m2"):
        hopping_from_phi4(-5.0, 0.0, ndim=2)
    with pytest.raises(ParameterError, match="kappa"):
        phi4_from_hopping(0.0, 0.1, ndim=2)


def test_params_round_trip_and_starts():
    theory = Phi4Theory(Lattice((6, 8)), m2=-4.0, lam=8.0)
    again = theory_from_params(theory.params())
    assert again == theory and again.field_shape == (6, 8)
    assert torch.count_nonzero(theory.cold_start(2)) == 0
    hot = theory.hot_start(3, generator=torch.Generator().manual_seed(0))
    assert hot.shape == (3, 6, 8) and hot.dtype == torch.float64 and 0.4 < hot.std() < 0.6


@pytest.mark.parametrize(
    "kwargs, name",
    [({"m2": 1.0, "lam": -0.1}, "lam"), ({"m2": -1.0, "lam": 0.0}, "m2"), ({"m2": math.nan, "lam": 1.0}, "m2")],
)
def test_bad_parameters(kwargs, name):
    with pytest.raises(ParameterError) as info:
        Phi4Theory(Lattice((4, 4)), **kwargs)
    assert info.value.parameter == name


def test_bad_theory_params():
    with pytest.raises(ParameterError, match="name"):
        theory_from_params({"name": "ising", "shape": [4, 4]})
    with pytest.raises(ParameterError, match="L"):
        theory_from_params({"name": "phi4", "shape": [1, 4], "m2": 1.0, "lam": 0.0})
    with pytest.raises(ParameterError, match="fields"):
        Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.0).action(torch.zeros(2, 4, 5, dtype=torch.float64))
