"""The flow contract: inverse, log|det J| against autograd, float32, gauge equivariance, Z2."""

from __future__ import annotations

import math
import zlib

import pytest
import torch

from qlat.samplers.flow.gauge import PlaquetteCoupling, plaquette, wrap
from qlat.samplers.flow.layers import AffineCoupling, checkerboard
from qlat.samplers.flow.networks import FlowModel

L = 4


def _randomize(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random, non-zero weights N(0, 0.2²): log|det J| of a 4-layer flow then varies by O(3) between inputs.

    (Much larger weights make the composed maps so steep that float64 round-off alone, amplified by
    the inverse, exceeds 1e-10 — a property of the random map, not of the layers.)"""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    assert all(float(p.detach().abs().min()) > 0 for p in module.parameters())
    return module


def _layers():
    out = [("affine", lambda: AffineCoupling(checkerboard((L, L), 0), hidden=(8, 8))),
           ("affine-z2", lambda: AffineCoupling(checkerboard((L, L), 1), hidden=(4,), z2=True))]
    for kind in ("spline", "ncp"):
        for mu in (0, 1):
            for off in (0, 3):
                out.append((f"{kind}-mu{mu}-off{off}",
                            lambda kind=kind, mu=mu, off=off: PlaquetteCoupling((L, L), mu=mu, offset=off, kind=kind,
                                                                                hidden=(8,))))
    for kind in ("spline", "ncp"):
        for mu in (0, 1):
            out.append((f"{kind}-loops-mu{mu}",
                        lambda kind=kind, mu=mu: PlaquetteCoupling((L, L), mu=mu, offset=1, kind=kind, hidden=(8,),
                                                                   context="loops")))
    out.append(("phi4-flow", lambda: FlowModel({"name": "phi4", "shape": [L, L]}, {"n_layers": 4, "hidden": [8]}).flow))
    for kind in ("spline", "ncp"):
        out.append((f"u1-flow-{kind}", lambda kind=kind: FlowModel(
            {"name": "u1", "shape": [L, L]}, {"n_layers": 4, "hidden": [8], "coupling": kind}).flow))
    return out


LAYERS = _layers()


def _input(name: str, batch: int, dtype: torch.dtype, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if "affine" in name or "phi4" in name:
        return torch.randn((batch, L, L), generator=g, dtype=torch.float64).to(dtype)
    return (2 * math.pi * torch.rand((batch, 2, L, L), generator=g, dtype=torch.float64) - math.pi).to(dtype)


@pytest.mark.parametrize("name,make", LAYERS, ids=[n for n, _ in LAYERS])
def test_inverse_and_log_det_float64(name, make):
    layer = _randomize(make(), seed=zlib.crc32(name.encode()) % 1000).double()
    x = _input(name, 5, torch.float64)
    y, log_det = layer(x)
    assert y.dtype == torch.float64 and log_det.shape == (5,)
    assert float((y - x).detach().abs().max()) > 1e-3  # the layer does something
    x_back, log_det_inv = layer.inverse(y)
    assert torch.allclose(x_back, x, atol=1e-10, rtol=0)
    assert torch.allclose(log_det + log_det_inv, torch.zeros(5, dtype=torch.float64), atol=1e-10)


@pytest.mark.parametrize("name,make", LAYERS, ids=[n for n, _ in LAYERS])
def test_log_det_equals_autograd_jacobian(name, make):
    layer = _randomize(make(), seed=zlib.crc32(name.encode()) % 1000 + 1).double()
    x = _input(name, 1, torch.float64, seed=2)[0]
    jac = torch.autograd.functional.jacobian(lambda v: layer(v.unsqueeze(0))[0].reshape(-1), x)
    jac = jac.reshape(x.numel(), x.numel())
    sign, logabs = torch.linalg.slogdet(jac)
    assert float(sign) != 0
    _, log_det = layer(x.unsqueeze(0))
    ld = float(log_det.detach()[0])
    assert abs(float(logabs) - ld) < 1e-10
    assert abs(ld) > 1e-3  # a non-trivial Jacobian


@pytest.mark.parametrize("name,make", LAYERS, ids=[n for n, _ in LAYERS])
def test_float32_contract(name, make):
    layer = _randomize(make(), seed=7).float()
    x = _input(name, 4, torch.float32)
    y, log_det = layer(x)
    assert y.dtype == torch.float32 and log_det.dtype == torch.float32
    x_back, log_det_inv = layer.inverse(y)
    assert torch.allclose(x_back, x, atol=2e-4, rtol=0)
    assert torch.allclose(log_det + log_det_inv, torch.zeros(4), atol=2e-3)


def _gauge_transform(links: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """θ_μ(x) → θ_μ(x) + α(x) − α(x+μ̂)."""
    out = links.clone()
    out[:, 0] += alpha - torch.roll(alpha, -1, 1)
    out[:, 1] += alpha - torch.roll(alpha, -1, 2)
    return out


@pytest.mark.parametrize("kind,context", [("spline", "plaquettes"), ("ncp", "plaquettes"), ("spline", "loops"),
                                          ("ncp", "loops")])
def test_u1_flow_is_gauge_equivariant(kind, context):
    arch = {"n_layers": 8, "hidden": [8], "coupling": kind, "context": context}
    flow = _randomize(FlowModel({"name": "u1", "shape": [8, 8]}, arch).flow, seed=3).double()
    g = torch.Generator().manual_seed(5)
    links = 2 * math.pi * torch.rand((3, 2, 8, 8), generator=g, dtype=torch.float64) - math.pi
    alpha = 2 * math.pi * torch.rand((3, 8, 8), generator=g, dtype=torch.float64)
    y, log_det = flow(links)
    y_g, log_det_g = flow(_gauge_transform(links, alpha))
    diff = wrap(y_g - _gauge_transform(y, alpha))
    assert float(diff.detach().abs().max()) < 1e-10
    assert torch.allclose(log_det, log_det_g, atol=1e-10, rtol=0)
    # and the plaquettes, gauge invariant, are really changed by the flow
    assert float(wrap(plaquette(y) - plaquette(links)).detach().abs().max()) > 1e-2


def test_z2_affine_coupling_commutes_with_sign_flip():
    layer = _randomize(AffineCoupling(checkerboard((L, L), 0), hidden=(8,), z2=True), seed=9).double()
    x = _input("affine", 3, torch.float64)
    y, ld = layer(x)
    y_neg, ld_neg = layer(-x)
    assert torch.allclose(y_neg, -y, atol=1e-12, rtol=0)
    assert torch.allclose(ld_neg, ld, atol=1e-12, rtol=0)
    plain = _randomize(AffineCoupling(checkerboard((L, L), 0), hidden=(8,), z2=False), seed=9).double()
    assert not torch.allclose(plain(-x)[0], -plain(x)[0], atol=1e-6)  # the symmetrization matters


def test_model_sample_log_prob_agree_with_inverse():
    model = _randomize(FlowModel({"name": "u1", "shape": [L, L]}, {"n_layers": 4, "hidden": [8]}), seed=4).double()
    x, log_q = model.sample(6, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(model.log_prob(x), log_q, atol=1e-10, rtol=0)
    assert torch.allclose(model.log_prob(wrap(x)), log_q, atol=1e-10, rtol=0)  # periodic in every angle


def test_gauge_layer_refuses_extents_not_divisible_by_four():
    from qlat.core.errors import ParameterError

    with pytest.raises(ParameterError, match="shape"):
        PlaquetteCoupling((6, 6), mu=0, offset=0)


@pytest.mark.parametrize("mu", [0, 1])
def test_loop_context_is_invariant_under_the_layer(mu):
    """The 1×2 loops fed to the conditioner (and the frozen plaquettes) are the same before and after."""
    layer = _randomize(PlaquetteCoupling((8, 8), mu=mu, offset=2, context="loops", hidden=(4,)), seed=11).double()
    x = 2 * math.pi * torch.rand((2, 2, 8, 8), generator=torch.Generator().manual_seed(8), dtype=torch.float64) - math.pi
    with torch.no_grad():
        y, _ = layer(x)
    p_x, p_y = plaquette(x), plaquette(y)
    loops = [pl + torch.roll(pl, 1, 2 - mu) for pl in (p_x, p_y)]
    active = layer.active.bool()
    assert float(wrap(loops[1] - loops[0])[:, active].abs().max()) < 1e-12
    assert float(wrap(p_y - p_x)[:, active].abs().max()) > 1e-2  # while the active plaquettes change
    with torch.no_grad():
        assert torch.allclose(layer._params(wrap(p_x)), layer._params(wrap(p_y)), atol=1e-12, rtol=0)
    plain = _randomize(PlaquetteCoupling((8, 8), mu=mu, offset=2, hidden=(4,)), seed=11).double()
    assert plain.net[0].in_channels == 2 and layer.net[0].in_channels == 4
