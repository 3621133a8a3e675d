r"""Analytic results of the continuum Schwinger model (QED₂ with one Dirac fermion).

Units: everything is a function of the coupling g (``coupling``, default 1), so with g = 1 the
results are in units of g.  γ is the Euler–Mascheroni constant.  The formulas and their sources
are collected in docs/references.md; every number here is computed from its formula.

- Massless model (Schwinger 1962; condensate: Hetrick & Hosotani, Phys. Rev. D 38, 2621 (1988);
  Adam, Ann. Phys. 259, 1 (1997)):  boson mass M = g/√π and chiral condensate

  .. math:: \langle\bar\psi\psi\rangle_{m=0} = -\frac{e^{\gamma}}{2\pi^{3/2}}\, g \equiv -\Sigma .

- Mass perturbation theory (Adam 1997; Chakraborty et al. arXiv:2001.00485 sec. 4.2): to first
  order in m the vacuum energy density is

  .. math:: \mathcal E(\theta) - \mathcal E(0) = -m\Sigma(\cos\theta - 1) + O(m^2),

  (ℰ(θ) = ℰ₀ − mΣ cos θ), the condensate ⟨ψ̄ψ⟩_θ = ∂ℰ/∂m = −Σ cos θ + O(m), and the topological
  susceptibility χ_t = ∂²ℰ/∂θ²|₀ = mΣ + O(m²).

- Heavy-mass (quenched) limit m ≫ g: pure U(1) gauge theory with a background field,
  ℰ(θ) = (g²/2)(θ/2π)² for |θ| ≤ π, periodic with period 2π; χ_t = g²/(4π²).
"""

from __future__ import annotations

import math

import numpy as np

from qlat.core.errors import require

__all__ = [
    "sigma", "massless_condensate", "boson_mass", "mpt_energy_density", "mpt_condensate",
    "mpt_topological_susceptibility", "quenched_energy_density",
    "quenched_topological_susceptibility",
]


def _check_coupling(coupling: float) -> None:
    require(math.isfinite(coupling) and coupling > 0, "coupling", "must be > 0", coupling)


def _check_mass(mass: float) -> None:
    require(math.isfinite(mass) and mass >= 0, "mass", "must be a finite number >= 0", mass)


def sigma(*, coupling: float = 1.0) -> float:
    r"""Σ = e^γ g / (2π^{3/2}) ≈ 0.1599288 g, minus the massless condensate."""
    _check_coupling(coupling)
    return math.exp(np.euler_gamma) * coupling / (2.0 * math.pi**1.5)


def massless_condensate(*, coupling: float = 1.0) -> float:
    r"""⟨ψ̄ψ⟩ at m = 0: −e^γ g/(2π^{3/2}) ≈ −0.1599288 g (Hetrick & Hosotani 1988)."""
    return -sigma(coupling=coupling)


def boson_mass(*, coupling: float = 1.0) -> float:
    r"""Mass of the Schwinger boson of the massless model, M = g/√π (Schwinger 1962)."""
    _check_coupling(coupling)
    return coupling / math.sqrt(math.pi)


def mpt_energy_density(theta, *, mass: float, coupling: float = 1.0):
    r"""First-order mass perturbation theory: ℰ(θ) − ℰ(0) = −mΣ(cos θ − 1).

    Valid for m ≪ g; the first correction is O(m²) (Adam 1997).  ``theta`` may be an array.
    """
    _check_mass(mass)
    return -mass * sigma(coupling=coupling) * (np.cos(theta) - 1.0)


def mpt_condensate(theta, *, coupling: float = 1.0):
    r"""Physical condensate at first order, ⟨ψ̄ψ⟩_θ = ∂ℰ/∂m = −Σ cos θ (+ O(m))."""
    return -sigma(coupling=coupling) * np.cos(theta)


def mpt_topological_susceptibility(*, mass: float, coupling: float = 1.0) -> float:
    r"""χ_t = ∂²ℰ/∂θ²|_{θ=0} = mΣ at first order in m."""
    _check_mass(mass)
    return mass * sigma(coupling=coupling)


def quenched_energy_density(theta, *, coupling: float = 1.0):
    r"""Heavy-mass limit: ℰ(θ) = (g²/2)(θ/2π)² for |θ| ≤ π, continued with period 2π.

    The background field θ/2π is screened by pair creation as soon as |θ| > π, so ℰ is
    (g²/2) min_k ((θ − 2πk)/2π)².
    """
    _check_coupling(coupling)
    theta = np.asarray(theta, dtype=float)
    reduced = theta - 2.0 * math.pi * np.round(theta / (2.0 * math.pi))
    out = 0.5 * coupling**2 * (reduced / (2.0 * math.pi)) ** 2
    return float(out) if out.ndim == 0 else out


def quenched_topological_susceptibility(*, coupling: float = 1.0) -> float:
    r"""Heavy-mass limit χ_t = ∂²ℰ/∂θ² = g²/(4π²)."""
    _check_coupling(coupling)
    return coupling**2 / (4.0 * math.pi**2)
