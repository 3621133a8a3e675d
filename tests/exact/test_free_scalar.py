
import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.exact import free_scalar
from qlat.theories import Phi4Theory


@pytest.mark.parametrize("shape, m2", [((4, 6), 0.7), ((6,), 0.2), ((2, 4, 3), 1.5)])
def test_propagator_is_inverse_of_the_action_hessian(shape, m2):
    """⟨φ_0 φ_x⟩ = (∂²S)^{-1}: the Hessian of qlat's action (tutorial normalization, no ½)."""
    theory = Phi4Theory(Lattice(shape), m2=m2, lam=0.0)
    volume = theory.lattice.volume

    def action(flat):
        return theory.action(flat.reshape(1, *shape)).sum()

    hess = torch.autograd.functional.hessian(action, torch.zeros(volume, dtype=torch.float64))
    cov = np.linalg.inv(hess.numpy())
    g = free_scalar.propagator(shape, m2)
    assert np.allclose(cov[0].reshape(shape), g, atol=1e-14)
    # the S = ½φKφ normalization is twice as large
    assert np.allclose(free_scalar.propagator(shape, m2, normalization="half"), 2 * g)


def test_susceptibility():
    g = free_scalar.propagator((8, 8), 0.3)
    assert g.sum() == pytest.approx(free_scalar.susceptibility((8, 8), 0.3), rel=1e-12)
    assert free_scalar.susceptibility((8, 8), 0.3) == pytest.approx(1 / (2 * 0.3))
    assert free_scalar.susceptibility((8, 8), 0.3, normalization="half") == pytest.approx(1 / 0.3)


def test_zero_momentum_propagator_is_a_cosh():
    shape, m2 = (12, 5), 0.4
    gt = free_scalar.zero_momentum_propagator(shape, m2)
    m = free_scalar.lattice_mass(m2)
    t = np.arange(12)
    model = np.cosh(m * (t - 6))
    assert np.allclose(gt / gt[6], model / model[6], rtol=1e-12)
    assert free_scalar.zero_momentum_propagator(shape, m2, time_axis=1).shape == (5,)


def test_propagator_symmetric_and_positive():
    g = free_scalar.propagator((6, 6), 0.5)
    assert np.allclose(g, g.T) and np.allclose(g[1:], g[1:][::-1]) and np.all(g > 0)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"shape": (4, 4), "m2": 0.0}, "m2"), ({"shape": (1, 4), "m2": 1.0}, "shape"),
     ({"shape": (4, 4), "m2": 1.0, "normalization": "x"}, "normalization")],
)
def test_bad_input(kwargs, name):
    with pytest.raises(ParameterError) as info:
        free_scalar.propagator(**kwargs)
    assert info.value.parameter == name
