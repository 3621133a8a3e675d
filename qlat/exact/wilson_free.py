r"""The free two-dimensional Wilson Dirac operator (U = 1) in momentum space.

Conventions of :mod:`qlat.theories.wilson_dirac` (r = 1, axis 0 time with antiperiodic
fermions, axis 1 space periodic):

.. math::
    D(p) = M(p) + i \sum_μ γ_μ \sin p_μ, \qquad M(p) = m_0 + \sum_μ (1 − \cos p_μ),

p₀ = 2π(n₀ + ½)/L₀, p₁ = 2πn₁/L₁.  The eigenvalues are M(p) ± i(Σ_μ sin²p_μ)^{1/2} and

.. math::
    \frac{1}{V}\operatorname{Tr} D^{-1} = \frac{1}{V} \sum_p \frac{2M(p)}{M(p)^2 + \sum_μ \sin^2 p_μ}

(Gattringer & Lang, *Quantum Chromodynamics on the Lattice*, eq. (5.52); docs/references.md).
"""

from __future__ import annotations

import math

import numpy as np

from qlat.core.errors import require


def _check(shape: tuple[int, int], mass: float) -> tuple[int, int]:
    require(len(shape) == 2 and all(int(s) >= 2 for s in shape), "shape", "must be (L0, L1) with L >= 2", shape)
    require(math.isfinite(mass) and mass > -2.0, "mass", "must be a finite number > -2", mass)
    return int(shape[0]), int(shape[1])


def momenta(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(p₀, p₁) grids: antiperiodic in time (axis 0), periodic in space (axis 1)."""
    L0, L1 = int(shape[0]), int(shape[1])
    p0 = 2.0 * math.pi * (np.arange(L0) + 0.5) / L0
    p1 = 2.0 * math.pi * np.arange(L1) / L1
    return np.meshgrid(p0, p1, indexing="ij")


def wilson_mass(shape: tuple[int, int], mass: float) -> np.ndarray:
    """M(p) = m₀ + Σ_μ (1 − cos p_μ) on the momentum grid."""
    _check(shape, mass)
    p0, p1 = momenta(shape)
    return mass + (1.0 - np.cos(p0)) + (1.0 - np.cos(p1))


def spectrum(shape: tuple[int, int], *, mass: float) -> np.ndarray:
    """All 2V eigenvalues M(p) ± i(Σ sin²p)^{1/2}, sorted by (real, imaginary) part."""
    _check(shape, mass)
    p0, p1 = momenta(shape)
    m = wilson_mass(shape, mass).ravel()
    s = np.sqrt(np.sin(p0) ** 2 + np.sin(p1) ** 2).ravel()
    ev = np.concatenate([m + 1j * s, m - 1j * s])
    return ev[np.lexsort((ev.imag, ev.real))]


def trace_inverse_density(shape: tuple[int, int], *, mass: float) -> float:
    """(1/V) Tr D⁻¹ = (1/V) Σ_p 2M/(M² + Σ_μ sin²p_μ) (spin trace included)."""
    _check(shape, mass)
    p0, p1 = momenta(shape)
    m = wilson_mass(shape, mass)
    return float(np.mean(2.0 * m / (m * m + np.sin(p0) ** 2 + np.sin(p1) ** 2)))


def log_det(shape: tuple[int, int], *, mass: float) -> float:
    """log det D = Σ_p log(M² + Σ_μ sin²p_μ): the eigenvalues come in conjugate pairs, so det D > 0 at U = 1."""
    _check(shape, mass)
    p0, p1 = momenta(shape)
    m = wilson_mass(shape, mass)
    return float(np.sum(np.log(m * m + np.sin(p0) ** 2 + np.sin(p1) ** 2)))
