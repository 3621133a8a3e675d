"""Continuum Schwinger-model formulas against docs/references.md and against each other."""

import math

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact import continuum as c


def test_reference_values():
    # docs/references.md: ⟨ψ̄ψ⟩ = −e^γ/(2π^{3/2}) = −0.1599288 (7 digits quoted).
    assert c.massless_condensate() == pytest.approx(-0.1599288, abs=5e-8)
    assert c.sigma() == -c.massless_condensate()
    assert c.boson_mass() == pytest.approx(1 / math.sqrt(math.pi), rel=1e-15)
    assert c.quenched_topological_susceptibility() == pytest.approx(1 / (4 * math.pi**2), rel=1e-15)


def test_coupling_scaling():
    g = 1.7
    assert c.massless_condensate(coupling=g) == pytest.approx(g * c.massless_condensate())
    assert c.boson_mass(coupling=g) == pytest.approx(g * c.boson_mass())
    assert c.quenched_energy_density(1.0, coupling=g) == pytest.approx(g**2 * c.quenched_energy_density(1.0))
    assert c.mpt_topological_susceptibility(mass=0.1, coupling=g) == pytest.approx(g * 0.1 * c.sigma())


def test_mpt_consistency():
    m = 0.07
    h = 1e-3
    e = lambda t: c.mpt_energy_density(t, mass=m)  # noqa: E731
    assert e(0.0) == 0.0
    second = (e(h) - 2 * e(0.0) + e(-h)) / h**2
    # central difference error is (h²/12)·e'''' = (h²/12)·mΣ
    assert second == pytest.approx(c.mpt_topological_susceptibility(mass=m), abs=m * c.sigma() * h**2)
    # condensate = ∂ℰ/∂m with ℰ = ℰ₀ − mΣ cos θ: d/dm of ΔE = −Σ(cos θ − 1) = condensate + Σ.
    theta = np.linspace(-3, 3, 7)
    dm = 1e-4
    deriv = (c.mpt_energy_density(theta, mass=m + dm) - c.mpt_energy_density(theta, mass=m)) / dm
    assert np.allclose(deriv, c.mpt_condensate(theta) + c.sigma(), atol=1e-12)
    assert c.mpt_condensate(0.0) == pytest.approx(c.massless_condensate())


def test_quenched_energy_density_is_periodic_parabola():
    theta = np.linspace(-math.pi, math.pi, 11)
    assert np.allclose(c.quenched_energy_density(theta), 0.5 * (theta / (2 * math.pi)) ** 2)
    assert np.allclose(c.quenched_energy_density(theta + 2 * math.pi), c.quenched_energy_density(theta))
    assert c.quenched_energy_density(1.5 * math.pi) == pytest.approx(0.5 * 0.25**2)
    h = 1e-3
    second = (c.quenched_energy_density(h) - 2 * c.quenched_energy_density(0.0) + c.quenched_energy_density(-h)) / h**2
    assert second == pytest.approx(c.quenched_topological_susceptibility(), rel=1e-6)


def test_bad_input():
    with pytest.raises(ParameterError, match="coupling"):
        c.sigma(coupling=0.0)
    with pytest.raises(ParameterError, match="mass"):
        c.mpt_energy_density(0.1, mass=-1.0)
