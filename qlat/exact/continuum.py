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
  Its first correction in g²/m² is the one-loop vacuum polarization of the massive fermion,
  Π(Q²) = (g²/π)∫₀¹dx x(1−x)/(m² + x(1−x)Q²) (Euclidean; the photon propagator is
  1/(Q²[1 + Π(Q²)]), and Q²Π(Q²) → g²/π as m → 0: the Schwinger mass²),
  Π(0) = (g²/π)(1/m²)∫₀¹x(1−x)dx = g²/(6πm²): the background field is screened by the dielectric constant 1 + Π(0), and
  ℰ(θ) − ℰ(0) = (g²/2)(θ/2π)²(1 − g²/(6πm²) + O(g⁴/m⁴)) (derived here; the O(g⁴/m⁴) term, its
  θ⁴ Euler–Heisenberg part and the pair-creation effects near |θ| = π are not included).

- The same pure gauge theory on a torus of area A (the β → ∞ limit at fixed V/β = g²A of the
  lattice character expansion, :mod:`qlat.exact.u1_character_expansion`; Wiese, Nucl. Phys. B 318, 153 (1989);
  Bonati & Rossi, arXiv:1901.09830): a sum over the electric flux sectors k,

  .. math:: Z_A(θ) = \sum_{k∈ℤ} e^{-\frac{g^2A}{2}(k + θ/2π)^2}, \qquad
            ℰ_A(θ) − ℰ_A(0) = −\frac{1}{A}\ln\frac{Z_A(θ)}{Z_A(0)}, \qquad
            χ_{t,A} = \frac{g^2}{4π^2}\big(1 − g^2A\,⟨k^2⟩\big),

  ⟨k²⟩ = Σ k² e^{−g²Ak²/2}/Σ e^{−g²Ak²/2}; both approach the infinite-volume values like
  g²A e^{−g²A/2}.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from qlat.core.errors import require

__all__ = [
    "sigma", "massless_condensate", "boson_mass", "mpt_energy_density", "mpt_condensate",
    "mpt_topological_susceptibility", "mpt_second_order_integral", "mpt_second_order_coefficient",
    "mpt_second_order_energy_density", "mpt_second_order_topological_susceptibility",
    "quenched_energy_density",
    "quenched_topological_susceptibility", "quenched_torus_energy_density", "heavy_mass_screening",
    "quenched_torus_topological_susceptibility",
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


@functools.lru_cache(maxsize=1)
def mpt_second_order_integral() -> float:
    r"""E₊ = 2π ∫₀^∞ r dr (e^{−2K₀(r)} − 1) = −8.91388 (μ = 1): the O(m²) θ-dependence of the vacuum energy.

    Bosonization: mψ̄ψ → −mΣ N_μ cos(2√πφ − θ) with the free massive boson φ (μ² = g²/π), and
    ⟨N cos(2√πφ(x) − θ) N cos(2√πφ(0) − θ)⟩_c = ½[cos 2θ (e^{−2K₀(μ|x|)} − 1) + (e^{2K₀} − 1)];
    the cos 2θ part of −½m²Σ²∫d²x ⟨…⟩_c is −(m²Σ²/4)(2π/μ²)(E₊/2π) cos 2θ.  Adam's value
    −8.9139 (arXiv:hep-th/9704064), as quoted in eq. (24) of Dempsey et al., arXiv:2206.05308.
    """
    from scipy.integrate import quad
    from scipy.special import k0

    def integrand(r: float) -> float:
        return r * (math.exp(-2.0 * k0(r)) - 1.0)

    return 2.0 * math.pi * sum(quad(integrand, lo, hi)[0] for lo, hi in ((0.0, 2.0), (2.0, 10.0), (10.0, math.inf)))


def mpt_second_order_coefficient(*, coupling: float = 1.0) -> float:
    r"""A in ℰ(θ) ⊃ A m² cos 2θ: A = −E₊ e^{2γ}/(16π²) ≈ 0.1791 (units of g⁰; :func:`mpt_second_order_integral`).

    So ℰ(θ) − ℰ(0) = mΣ(1 − cos θ) + A m²(cos 2θ − 1) + O(m³), χ_t = mΣ − 4Am² + O(m³) and
    ⟨E⟩/g = (e^γ/√π)(m/g) sin θ − 4πA (m/g)² sin 2θ (Dempsey et al. 2022, eq. (24)).
    """
    _check_coupling(coupling)
    return -mpt_second_order_integral() * math.exp(2.0 * np.euler_gamma) / (16.0 * math.pi**2)


def mpt_second_order_energy_density(theta, *, mass: float, coupling: float = 1.0):
    r"""ℰ(θ) − ℰ(0) = mΣ(1 − cos θ) + A m²(cos 2θ − 1) + O(m³) (:func:`mpt_second_order_coefficient`)."""
    _check_mass(mass)
    theta = np.asarray(theta, dtype=float)
    a2 = mpt_second_order_coefficient(coupling=coupling)
    out = mass * sigma(coupling=coupling) * (1.0 - np.cos(theta)) + a2 * mass**2 * (np.cos(2.0 * theta) - 1.0)
    return float(out) if out.ndim == 0 else out


def mpt_second_order_topological_susceptibility(*, mass: float, coupling: float = 1.0) -> float:
    r"""χ_t = ∂²ℰ/∂θ²|₀ = mΣ − 4A m² + O(m³) (:func:`mpt_second_order_energy_density`)."""
    _check_mass(mass)
    return mass * sigma(coupling=coupling) - 4.0 * mpt_second_order_coefficient(coupling=coupling) * mass**2


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


def heavy_mass_screening(*, mass: float, coupling: float = 1.0) -> float:
    r"""1 − g²/(6πm²): the heavy-mass factor of ℰ(θ) − ℰ(0), ⟨E⟩ and χ_t to O(g²/m²) (module docstring).

    Multiplies :func:`quenched_energy_density` and :func:`quenched_topological_susceptibility`;
    the omitted O(g⁴/m⁴) term is of the size (g²/(6πm²))².
    """
    _check_coupling(coupling)
    require(math.isfinite(mass) and mass > 0, "mass", "must be > 0 (heavy-mass expansion)", mass)
    return 1.0 - coupling**2 / (6.0 * math.pi * mass**2)


def _check_area(area: float) -> float:
    require(isinstance(area, (int, float)) and math.isfinite(area) and area > 0, "area",
            "must be a finite physical area g²A > 0 (in units of 1/g²)", area)
    return float(area)


def _flux_sectors(x: float) -> np.ndarray:
    """k = −K … K with e^{−x k²/2} below 1e-30 of the k = 0 term beyond K (x = g²A)."""
    k_max = int(math.ceil(math.sqrt(2.0 * 70.0 / x))) + 2
    return np.arange(-k_max, k_max + 1, dtype=float)


def quenched_torus_energy_density(theta, *, area: float, coupling: float = 1.0):
    r"""Heavy-mass limit on a torus of area A: ℰ_A(θ) − ℰ_A(0) = −(1/A) ln[Z_A(θ)/Z_A(0)] (module docstring).

    ``area`` is A in units of 1/g² at ``coupling`` g (g²A = coupling² · area).  Tends to
    (g²/2)(θ/2π)² for |θ| ≤ π as A → ∞.  ``theta`` may be an array.
    """
    _check_coupling(coupling)
    x = coupling**2 * _check_area(area)
    k = _flux_sectors(x)
    theta_arr = np.atleast_1d(np.asarray(theta, dtype=float))
    nu = k[None, :] + theta_arr[:, None] / (2.0 * math.pi)
    log_z = np.logaddexp.reduce(-0.5 * x * nu**2, axis=1)
    log_z0 = float(np.logaddexp.reduce(-0.5 * x * k**2))
    out = -(log_z - log_z0) * coupling**2 / x
    return float(out[0]) if np.ndim(theta) == 0 else out


def quenched_torus_topological_susceptibility(*, area: float, coupling: float = 1.0) -> float:
    r"""Heavy-mass limit on a torus of area A: χ_t = (g²/4π²)(1 − g²A⟨k²⟩) (module docstring)."""
    _check_coupling(coupling)
    x = coupling**2 * _check_area(area)
    k = _flux_sectors(x)
    w = np.exp(-0.5 * x * k**2)
    mean_k2 = float(np.sum(k**2 * w) / np.sum(w))
    return coupling**2 / (4.0 * math.pi**2) * (1.0 - x * mean_k2)
