"""The path-gradient estimator: the same expectation as the reparametrized gradient, zero at q = p."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.samplers.flow import FlowModel, TrainConfig, train
from qlat.samplers.flow.gauge import PlaquetteCoupling
from qlat.samplers.flow.training import reverse_kl_loss
from qlat.theories.phi4 import Phi4Theory
from qlat.theories.u1 import U1Theory


def _model(theory, arch, seed):
    torch.manual_seed(seed)
    model = FlowModel(theory.params(), arch).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # random non-zero weights, so that q is far from p and the gradient is large
        for p in model.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return model


def _gradient(model, theory, gen, kind):
    model.zero_grad(set_to_none=True)
    loss, _ = reverse_kl_loss(model, theory, 16, generator=gen, gradient=kind)
    loss.backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy().copy()


CASES = [
    ("phi4", Phi4Theory(Lattice((4, 4)), m2=-1.0, lam=1.0), {"n_layers": 2, "hidden": [4]}),
    ("u1-spline", U1Theory(Lattice((4, 4)), beta=1.0), {"n_layers": 2, "hidden": [4], "context": "loops"}),
    ("u1-ncp", U1Theory(Lattice((4, 4)), beta=1.0), {"n_layers": 2, "hidden": [4], "coupling": "ncp"}),
]


@pytest.mark.parametrize("name,theory,arch", CASES, ids=[c[0] for c in CASES])
def test_path_and_reparam_gradients_have_the_same_expectation(name, theory, arch):
    """On the same z the two estimators differ by the score term, whose mean over q is zero."""
    model = _model(theory, arch, seed=1)
    n = 80
    diff, reparam = [], []
    for i in range(n):
        g_r = _gradient(model, theory, torch.Generator().manual_seed(100 + i), "reparam")
        g_p = _gradient(model, theory, torch.Generator().manual_seed(100 + i), "path")
        diff.append(g_r - g_p)
        reparam.append(g_r)
    diff, reparam = np.array(diff), np.array(reparam)

    def z(samples):
        err = samples.std(0, ddof=1) / math.sqrt(n)
        keep = err > 0
        return samples.mean(0)[keep] / err[keep]

    # the mean gradient itself is resolved (the check below has power) ...
    assert np.abs(z(reparam)).max() > 8
    # ... while the mean difference is zero within 5σ for every one of the parameters
    assert np.abs(z(diff)).max() < 5
    assert np.abs(diff).max() > 1e-6  # the estimators really differ batch by batch


class _SelfTarget:
    """A "theory" whose density is the flow's own q (a frozen copy): q = p exactly."""

    name = "self"

    def __init__(self, model):
        self.copy = copy.deepcopy(model).requires_grad_(False)

    def log_prob(self, x):
        return self.copy.log_prob(x)


@pytest.mark.parametrize("name,theory,arch", CASES, ids=[c[0] for c in CASES])
def test_path_gradient_vanishes_at_q_equal_p(name, theory, arch):
    model = _model(theory, arch, seed=2)
    target = _SelfTarget(model)
    g_p = _gradient(model, target, torch.Generator().manual_seed(0), "path")
    g_r = _gradient(model, target, torch.Generator().manual_seed(0), "reparam")
    assert np.abs(g_p).max() < 1e-8
    assert np.abs(g_r).max() > 1e-3  # the reparametrized estimate is noise of zero mean, not zero


def test_ncp_inverse_carries_the_derivatives():
    """∂x/∂y of the inverse NCP layer is the inverse of ∂y/∂x of the forward layer."""
    layer = _model(U1Theory(Lattice((4, 4)), beta=1.0), {"n_layers": 1, "hidden": [4], "coupling": "ncp"},
                   seed=3).flow.layers[0]
    assert isinstance(layer, PlaquetteCoupling)
    x = 2 * math.pi * torch.rand((1, 2, 4, 4), generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x = x - math.pi
    y = layer(x)[0].detach()
    j_fwd = torch.autograd.functional.jacobian(lambda v: layer(v.reshape(x.shape))[0].reshape(-1), x.reshape(-1))
    j_inv = torch.autograd.functional.jacobian(lambda v: layer.inverse(v.reshape(y.shape))[0].reshape(-1),
                                               y.reshape(-1))
    assert torch.allclose(j_inv @ j_fwd, torch.eye(x.numel(), dtype=torch.float64), atol=1e-9)


def test_training_with_path_gradients_lowers_the_loss():
    theory = Phi4Theory(Lattice((4, 4)), m2=1.0, lam=0.0)
    torch.manual_seed(0)
    model = FlowModel(theory.params(), {"n_layers": 2, "hidden": [4]})
    state = train(model, theory, config=TrainConfig(steps=60, batch=32, lr=1e-2, gradient="path"))
    loss = np.array(state.history["loss"])
    assert loss[-10:].mean() < loss[:10].mean() - 1.0
    with pytest.raises(ParameterError, match="gradient"):
        TrainConfig(gradient="score")
