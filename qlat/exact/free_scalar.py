r"""The free lattice scalar field (φ⁴ at λ = 0): propagator and susceptibility.

For the action S = ½ Σ_{xy} φ_x K_{xy} φ_y with K = −Δ + m² (Δ the nearest-neighbour lattice
Laplacian on a periodic torus of volume V), the propagator is diagonal in momentum space,

.. math:: ⟨φ_0 φ_x⟩ = G(x) = \frac{1}{V} \sum_k \frac{\cos(k·x)}{λ_k}, \qquad
          λ_k = m^2 + \sum_μ 4\sin^2(k_μ/2), \quad k_μ = 2πn_μ/L_μ.

qlat's φ⁴ action uses the tutorial normalization (arXiv:2101.08176) *without* the ½:
S = Σ_x [Σ_μ φ_x(2φ_x − φ_{x+μ̂} − φ_{x−μ̂}) + m²φ_x²] = φᵀKφ = ½ φᵀ(2K)φ, so its propagator is
G(x)/2 (``normalization="tutorial"``, the default); ``normalization="half"`` gives the S = ½φKφ
value.  The susceptibility is χ₂ = Σ_x G(x) = G̃(k = 0) = 1/m² (half: 1/m²; tutorial: 1/(2m²)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qlat.core.errors import require

NORMALIZATIONS = ("tutorial", "half")


def _check(shape: Sequence[int], m2: float, normalization: str) -> tuple[tuple[int, ...], float, float]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        shape = ()
    require(1 <= len(shape) <= 4 and all(s >= 2 for s in shape), "shape",
            "must have 1 to 4 extents L >= 2", shape)
    try:
        ok = math.isfinite(float(m2)) and float(m2) > 0
    except (TypeError, ValueError):
        ok = False
    require(ok, "m2", "must be > 0 for the free field", m2)
    require(normalization in NORMALIZATIONS, "normalization", f"must be one of {NORMALIZATIONS}", normalization)
    factor = 0.5 if normalization == "tutorial" else 1.0
    return shape, float(m2), factor


def eigenvalues(shape: Sequence[int], m2: float) -> np.ndarray:
    """λ_k = m² + Σ_μ 4 sin²(k_μ/2) on the momentum grid (numpy FFT ordering), shape ``shape``."""
    shape, m2, _ = _check(shape, m2, "half")
    lam = np.full(shape, m2)
    for mu, L in enumerate(shape):
        k = 2.0 * math.pi * np.arange(L) / L
        view = [1] * len(shape)
        view[mu] = L
        lam = lam + (4.0 * np.sin(k / 2.0) ** 2).reshape(view)
    return lam


def propagator(shape: Sequence[int], m2: float, *, normalization: str = "tutorial") -> np.ndarray:
    """G(x) = (1/V) Σ_k cos(k·x)/λ_k (× ½ for the tutorial normalization), shape ``shape``."""
    shape, m2, factor = _check(shape, m2, normalization)
    g = np.fft.ifftn(1.0 / eigenvalues(shape, m2)).real
    return factor * g


def zero_momentum_propagator(
    shape: Sequence[int], m2: float, *, time_axis: int = 0, normalization: str = "tutorial"
) -> np.ndarray:
    """G(t) = Σ_{x⃗} G(x⃗, t) along lattice axis ``time_axis``, shape ``(L_t,)``.

    Equals (1/L_t) Σ_ω cos(ωt)/(m² + 4 sin²(ω/2)) (× ½ tutorial): a single cosh with the
    lattice mass m_lat = 2 arcsinh(m/2).
    """
    g = propagator(shape, m2, normalization=normalization)
    require(isinstance(time_axis, int) and 0 <= time_axis < g.ndim, "time_axis", f"must be in 0..{g.ndim - 1}", time_axis)
    others = tuple(a for a in range(g.ndim) if a != time_axis)
    return g.sum(axis=others) if others else g


def susceptibility(shape: Sequence[int], m2: float, *, normalization: str = "tutorial") -> float:
    """χ₂ = Σ_x G(x) = G̃(0) = 1/m² (× ½ tutorial)."""
    shape, m2, factor = _check(shape, m2, normalization)
    return factor / m2


def lattice_mass(m2: float) -> float:
    """The pole mass of the free lattice propagator, 2 arcsinh(m/2) (cosh decay of G(t))."""
    _check((2,), m2, "half")
    return 2.0 * math.asinh(math.sqrt(m2) / 2.0)
