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


def test_torus_heavy_mass_limit_is_the_fine_lattice_limit_and_tends_to_infinite_volume():
    """χ_A and ℰ_A against the exact lattice (character expansion) on L×L tori at β = L²/(g²A):
    the lattice artifact falls like a²g² = 1/β (÷4 when L doubles); large A gives the infinite-volume values."""
    from qlat.exact import u1_character_expansion as u1

    area, theta = 12.0, 1.1
    chi_a = c.quenched_torus_topological_susceptibility(area=area)
    e_a = c.quenched_torus_energy_density(theta, area=area)
    # the flux sectors k = ±1 lower χ by g²A⟨k²⟩ = 2 g²A e^{−g²A/2} (leading order): −4.3 % at g²A = 12
    assert chi_a / c.quenched_topological_susceptibility() - 1 == pytest.approx(-2 * area * math.exp(-area / 2), rel=0.01)
    rel = []
    for L in (30, 60):
        beta = L * L / area
        lat_chi = u1.topological_q2(beta, L) * beta / (L * L)
        lat_e = -(u1.log_partition_function_theta(beta, L, theta) - u1.log_partition_function(beta, L)) * beta / (L * L)
        rel.append((lat_chi / chi_a - 1, lat_e / e_a - 1))
    for coarse, fine in zip(*rel):  # 0.9 % → 0.23 %: O(a²) artifacts, far below the 4 % torus effect
        assert 0 < fine < 0.3 * coarse and fine < 3e-3
    assert c.quenched_torus_topological_susceptibility(area=200.0) == pytest.approx(
        c.quenched_topological_susceptibility(), rel=1e-12)
    thetas = np.array([0.3, 1.0, 2.5, 2.5 + 2 * math.pi])
    assert np.allclose(c.quenched_torus_energy_density(thetas, area=200.0), c.quenched_energy_density(thetas),
                       rtol=1e-12)
    # χ_A = ℰ_A''(0)
    h = 1e-3
    second = (c.quenched_torus_energy_density(h, area=area) * 2) / h**2
    assert second == pytest.approx(chi_a, rel=1e-6)
    with pytest.raises(ParameterError, match="area"):
        c.quenched_torus_topological_susceptibility(area=0.0)
