"""Exact double-exchange references against direct diagonalization of the one-body matrix."""

import numpy as np
import pytest
import torch
from scipy import integrate

from qlat.core.errors import ParameterError
from qlat.exact.double_exchange import (
    ferromagnet_action,
    ferromagnet_spectrum,
    free_spin_m2,
    tight_binding_spectrum,
    two_site_correlation,
    two_site_eigenvalues,
)
from qlat.theories.double_exchange import DoubleExchangeTheory


def _pair(x):
    """Spins S₁ = ẑ, S₂ at angle arccos x in the x–z plane, shape (1, 3, 2, 1)."""
    s = torch.zeros((1, 3, 2, 1), dtype=torch.float64)
    s[0, 2, 0, 0] = 1.0
    s[0, 0, 1, 0] = np.sqrt(1 - x * x)
    s[0, 2, 1, 0] = x
    return s


@pytest.mark.parametrize("x", [-1.0, -0.7, 0.0, 0.3, 0.999, 1.0])
def test_two_site_closed_form_matches_eigvalsh(x):
    th = DoubleExchangeTheory((2, 1), t=1.0, J=2.7, T=1.0, boundary="open")
    eps = th.eigenvalues(_pair(x))[0].numpy()
    assert np.allclose(two_site_eigenvalues(x, t=1.0, J=2.7), eps, atol=1e-12)


def test_two_site_correlation_matches_adaptive_quadrature():
    t, J, mu, T = 1.0, 3.0, -0.8, 0.2

    def weight(x):
        eps = two_site_eigenvalues(x, t=t, J=J)
        return np.exp(np.logaddexp(0.0, -(eps - mu) / T).sum())

    # adaptive quadrature in x itself (W has a √(1 + x) cusp at x = −1: tell quad where it is)
    num = integrate.quad(lambda x: x * weight(x), -1, 1, points=[-0.99], limit=200, epsabs=0, epsrel=1e-11)[0]
    den = integrate.quad(weight, -1, 1, points=[-0.99], limit=200, epsabs=0, epsrel=1e-11)[0]
    assert two_site_correlation(t=t, J=J, mu=mu, T=T) == pytest.approx(num / den, abs=1e-9)
    # J = 0: spins decouple, ⟨S₁·S₂⟩ = 0
    assert two_site_correlation(t=t, J=0.0, mu=mu, T=T) == pytest.approx(0.0, abs=1e-12)


def test_two_site_correlation_low_temperature_is_stable():
    value = two_site_correlation(t=1.0, J=4.0, mu=-2.5, T=0.01)
    assert 0.9 < value <= 1.0  # one fermion in the lowest level: ferromagnetic double exchange
    assert value == pytest.approx(two_site_correlation(t=1.0, J=4.0, mu=-2.5, T=0.01, nodes=600), abs=1e-10)


@pytest.mark.parametrize("shape,boundary", [((4, 4), "periodic"), ((3, 5), "open"), ((2, 1), "open"),
                                            ((6, 1), "periodic"), ((2, 2), "periodic")])
def test_ferromagnet_spectrum_matches_theory(shape, boundary):
    th = DoubleExchangeTheory(shape, t=0.8, J=1.9, mu=0.1, T=0.4, boundary=boundary)
    n = torch.tensor([0.3, -0.5, 0.81], dtype=torch.float64)
    n = n / n.norm()
    spins = n.reshape(1, 3, 1, 1).expand(1, 3, *shape).contiguous()
    eps = th.eigenvalues(spins)[0].numpy()
    assert np.allclose(ferromagnet_spectrum(shape, t=0.8, J=1.9, boundary=boundary), eps, atol=1e-12)
    assert np.allclose(tight_binding_spectrum(shape, t=0.8, boundary=boundary),
                       np.linalg.eigvalsh(th.hopping_matrix().numpy()), atol=1e-12)
    assert ferromagnet_action(shape, t=0.8, J=1.9, mu=0.1, T=0.4, boundary=boundary) == pytest.approx(
        float(th.action(spins)[0]), abs=1e-10)


def test_free_spin_m2_and_errors():
    assert free_spin_m2(36) == 1 / 36
    with pytest.raises(ParameterError):
        free_spin_m2(0)
    with pytest.raises(ParameterError) as info:
        two_site_correlation(t=1.0, J=1.0, mu=0.0, T=0.0)
    assert info.value.parameter == "T"
