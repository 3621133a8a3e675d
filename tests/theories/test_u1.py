import math

import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.theories import U1Theory, theory_from_params
from qlat.theories.u1 import wrap_angle


def _random_links(theory, batch=3, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn((batch, *theory.field_shape), dtype=torch.float64, generator=g)


def _gauge_transform(theory, links, seed=11):
    lat = theory.lattice
    g = torch.Generator().manual_seed(seed)
    alpha = 2 * math.pi * torch.rand((links.shape[0], *lat.shape), dtype=torch.float64, generator=g)
    return links + torch.stack([alpha - lat.shift(alpha, mu) for mu in range(lat.ndim)], dim=1)


def _instanton(L0, L1, q):
    """A configuration with constant plaquette angle 2πq/V and topological charge q."""
    V = L0 * L1
    links = torch.zeros((1, 2, L0, L1), dtype=torch.float64)
    x = torch.arange(L0, dtype=torch.float64)
    y = torch.arange(L1, dtype=torch.float64)
    links[0, 1] = (2 * math.pi * q * x / V)[:, None].expand(L0, L1)
    links[0, 0, L0 - 1, :] = -2 * math.pi * q * y / L1
    return links


def test_action_matches_plaquette_loop():
    theory = U1Theory(Lattice((3, 4)), beta=1.7)
    th = _random_links(theory, batch=2)
    L0, L1 = 3, 4
    for b in range(2):
        s = 0.0
        for x in range(L0):
            for y in range(L1):
                p = th[b, 0, x, y] + th[b, 1, (x + 1) % L0, y] - th[b, 0, x, (y + 1) % L1] - th[b, 1, x, y]
                s += -1.7 * math.cos(p)
        assert theory.action(th)[b].item() == pytest.approx(s, rel=1e-12)


@pytest.mark.parametrize("shape", [(6, 6), (2, 2), (4, 3, 5), (2, 2, 3, 2)])
def test_force_matches_autograd(shape):
    theory = U1Theory(Lattice(shape), beta=2.3)
    th = _random_links(theory, seed=4).requires_grad_(True)
    (grad,) = torch.autograd.grad(theory.action(th).sum(), th)
    force = theory.force(th.detach())
    assert torch.allclose(force, grad, rtol=1e-12, atol=1e-12)
    assert force.abs().max() > 1.0


@pytest.mark.parametrize("shape", [(4, 6), (4, 4, 4)])
def test_local_staples_reproduce_action_dependence(shape):
    theory = U1Theory(Lattice(shape), beta=1.3)
    th = _random_links(theory, batch=2, seed=9)
    for mu in range(theory.lattice.ndim):
        a = theory.local_staples(th, mu)
        site = (1,) * theory.lattice.ndim
        new = th.clone()
        new[(slice(None), mu, *site)] += 0.81
        ds = theory.action(new) - theory.action(th)
        old_t = th[(slice(None), mu, *site)]
        a_x = a[(slice(None), *site)]
        pred = -theory.beta * ((torch.exp(1j * (old_t + 0.81)) - torch.exp(1j * old_t)) * a_x).real
        assert torch.allclose(ds, pred, rtol=1e-11, atol=1e-11)


def test_gauge_invariance_of_action_and_charge():
    theory = U1Theory(Lattice((6, 8)), beta=2.0)
    th = _random_links(theory, batch=5, seed=1)
    gt = _gauge_transform(theory, th)
    assert torch.allclose(theory.action(gt), theory.action(th), rtol=1e-12)
    assert torch.equal(theory.topological_charge(gt), theory.topological_charge(th))
    # a pure gauge has S = −βV, Q = 0
    pure = _gauge_transform(theory, theory.cold_start(2))
    assert torch.allclose(theory.action(pure), torch.full((2,), -2.0 * 48, dtype=torch.float64), rtol=1e-13)
    assert torch.all(theory.topological_charge(pure) == 0)


@pytest.mark.parametrize("q", [-2, -1, 1, 3])
def test_instanton_has_charge_q(q):
    theory = U1Theory(Lattice((6, 8)), beta=1.0)
    links = _instanton(6, 8, q)
    theta = theory.plaquettes(links)
    assert torch.allclose(wrap_angle(theta), torch.full_like(theta, 2 * math.pi * q / 48), atol=1e-12)
    assert theory.topological_charge(links).item() == q
    assert theory.topological_charge(-links).item() == -q  # charge conjugation


def test_charge_is_integer_on_random_configurations():
    theory = U1Theory(Lattice((8, 8)), beta=1.0)
    th = theory.hot_start(200, generator=torch.Generator().manual_seed(2))
    q = theory.topological_charge(th)
    unrounded = wrap_angle(theory.plaquettes(th)).reshape(200, -1).sum(1) / (2 * math.pi)
    assert torch.allclose(unrounded, q, atol=1e-10)
    assert q.abs().max() >= 2  # random links do carry charge


def test_wrap_angle_range():
    a = torch.tensor([math.pi, -math.pi, 3 * math.pi, 0.1, -7.0], dtype=torch.float64)
    w = wrap_angle(a)
    assert torch.all(w > -math.pi) and torch.all(w <= math.pi)
    assert w[0] == pytest.approx(math.pi) and w[1] == pytest.approx(math.pi)
    assert torch.allclose(torch.exp(1j * w), torch.exp(1j * a))


def test_wilson_loops():
    theory = U1Theory(Lattice((6, 6)), beta=1.0)
    th = _random_links(theory, batch=2, seed=3)
    w = theory.wilson_loops(th)
    assert w.shape == (2, 3, 3)
    assert torch.allclose(w[:, 0, 0], theory.mean_plaquette(th), rtol=1e-12)
    # on the instanton (constant field strength) W(R, T) = cos(2πq R T / V)
    inst = _instanton(6, 6, 1)
    w = theory.wilson_loops(inst, max_r=2, max_t=3)
    r = torch.arange(1, 3, dtype=torch.float64)[:, None]
    t = torch.arange(1, 4, dtype=torch.float64)[None, :]
    assert torch.allclose(w[0], torch.cos(2 * math.pi * r * t / 36), atol=1e-12)
    # gauge invariant
    assert torch.allclose(theory.wilson_loops(_gauge_transform(theory, th)), theory.wilson_loops(th), atol=1e-12)


def test_params_round_trip_and_starts():
    theory = U1Theory(Lattice((8, 8)), beta=3.0)
    assert theory_from_params(theory.params()) == theory
    assert theory.field_shape == (2, 8, 8)
    hot = theory.hot_start(4, generator=torch.Generator().manual_seed(0))
    assert hot.min() >= -math.pi and hot.max() < math.pi
    assert theory.mean_plaquette(theory.cold_start(1)).item() == 1.0


@pytest.mark.parametrize("beta", [0.0, -1.0, math.inf, "x"])
def test_bad_beta(beta):
    with pytest.raises(ParameterError) as info:
        U1Theory(Lattice((4, 4)), beta=beta)
    assert info.value.parameter == "beta"


def test_charge_needs_2d_and_bad_shapes():
    with pytest.raises(ParameterError, match="shape"):
        U1Theory(Lattice((4,)), beta=1.0)
    t3 = U1Theory(Lattice((4, 4, 4)), beta=1.0)
    with pytest.raises(ParameterError, match="shape"):
        t3.topological_charge(t3.cold_start(1))
    with pytest.raises(ParameterError, match="fields"):
        U1Theory(Lattice((4, 4)), beta=1.0).action(torch.zeros((1, 4, 4), dtype=torch.float64))
