r"""Exact results for 2D U(1) lattice gauge theory with the Wilson action on an L₀×L₁ torus.

On the torus the V = L₀L₁ plaquette angles are independent except for one global constraint
(their unwrapped sum vanishes), so the character expansion e^{β cos φ} = Σ_n I_n(β) e^{inφ}
gives (Wiese 1989; Bonati & Rossi arXiv:1901.09830)

.. math:: Z(β) = \sum_{n∈ℤ} I_n(β)^V, \qquad
          ⟨\cos θ_P⟩ = \frac{1}{Z} \sum_n I_n(β)^{V−1} \frac{I_{n−1}(β) + I_{n+1}(β)}{2}.

With a θ term e^{iθQ} for the geometric charge Q = (1/2π) Σ_P arg e^{iθ_P}:

.. math:: Z(θ) = \sum_n f_n(θ)^V, \qquad
          f_n(θ) = \frac{1}{2π} \int_{−π}^{π} dφ\, e^{β\cos φ} \cos\big((n + \tfrac{θ}{2π})φ\big),

f_n(0) = I_n(β), and ⟨Q²⟩ = −∂²_θ \log Z |_{θ=0}, χ_t = ⟨Q²⟩/V.  At θ = 0 the first derivative
vanishes (f_{−n}' = −f_n'), so

.. math:: ⟨Q²⟩ = −\frac{1}{Z}\sum_n \big[V(V−1) f_n^{V−2} f_n'^2 + V f_n^{V−1} f_n''\big],

f_n' = −\frac{1}{2π}\int dφ\, e^{β\cos φ} \frac{φ}{2π} \sin(nφ),
f_n'' = −\frac{1}{2π}\int dφ\, e^{β\cos φ} \big(\frac{φ}{2π}\big)^2 \cos(nφ).

Infinite volume: ⟨cos θ_P⟩ = I₁(β)/I₀(β) and χ_t = ∫dφ (φ/2π)² e^{β cos φ} / ∫dφ e^{β cos φ},
with βχ_t → 1/(4π²) as β → ∞.

Numerics: scaled Bessel functions ``scipy.special.ive`` (I_n(β)e^{−β}), sums over n in
log-sum-exp form, Gauss–Legendre quadrature on [0, π] (the integrands are even in φ) with the
weight e^{β(cos φ − 1)}.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from qlat.core.errors import require, require_int

_QUAD_NODES = 1024


@lru_cache(maxsize=4)
def _legendre(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import roots_legendre

    return roots_legendre(n_nodes)


def _check_beta(beta: float) -> float:
    try:
        ok = math.isfinite(float(beta)) and float(beta) > 0
    except (TypeError, ValueError):
        ok = False
    require(ok, "beta", "must be a finite number > 0", beta)
    return float(beta)


def _check_volume(volume: int) -> int:
    require_int(volume, "volume", minimum=1)
    return int(volume)


def _volume(L: int | tuple[int, int]) -> int:
    """V from ``L`` (square L×L) or a shape ``(L0, L1)``; every extent >= 2."""
    if isinstance(L, (tuple, list)):
        require(len(L) == 2, "shape", "must have two extents (2D torus)", L)
        for s in L:
            require(isinstance(s, (int, np.integer)) and s >= 2, "L", "every extent must be an integer >= 2", L)
        return int(L[0]) * int(L[1])
    require_int(L, "L", minimum=2)
    return int(L) * int(L)


def _n_max(beta: float) -> int:
    # I_n(β)/I_0(β) < 1e-30 well before n = β + 10√β + 60
    return int(beta + 10.0 * math.sqrt(beta) + 60)


def _log_ive(n: np.ndarray, beta: float) -> np.ndarray:
    from scipy.special import ive

    with np.errstate(divide="ignore"):
        return np.log(ive(n, beta))


def _logsumexp(a: np.ndarray, b: np.ndarray | None = None) -> tuple[float, float]:
    """log|Σ b e^a| and its sign."""
    m = np.max(a[np.isfinite(a)])
    w = np.exp(a - m)
    s = float(np.sum(w if b is None else b * w))
    return m + math.log(abs(s)), math.copysign(1.0, s)


# ------------------------------------------------------------------------------ finite volume
def log_partition_function(beta: float, L: int | tuple[int, int]) -> float:
    """log Z(β) = log Σ_n I_n(β)^V on the L×L (or L₀×L₁) torus, with the Haar measure normalized to 1."""
    beta = _check_beta(beta)
    volume = _volume(L)
    return log_partition_function_volume(beta, volume)


def log_partition_function_volume(beta: float, volume: int) -> float:
    """log Σ_n I_n(β)^V for a torus of V plaquettes."""
    beta = _check_beta(beta)
    volume = _check_volume(volume)
    n = np.arange(-_n_max(beta), _n_max(beta) + 1)
    log_terms = volume * _log_ive(n, beta)
    lse, _ = _logsumexp(log_terms)
    return lse + volume * beta


def mean_plaquette(beta: float, L: int | tuple[int, int]) -> float:
    """⟨cos θ_P⟩ = Σ_n I_n^{V−1}(I_{n−1} + I_{n+1})/2 / Σ_n I_n^V on the torus."""
    beta = _check_beta(beta)
    volume = _volume(L)
    return mean_plaquette_volume(beta, volume)


def mean_plaquette_volume(beta: float, volume: int) -> float:
    from scipy.special import ive

    beta = _check_beta(beta)
    volume = _check_volume(volume)
    n = np.arange(-_n_max(beta), _n_max(beta) + 1)
    log_i = _log_ive(n, beta)
    log_w = volume * log_i
    w = np.exp(log_w - np.max(log_w))
    ratio = 0.5 * (ive(n - 1, beta) + ive(n + 1, beta)) / ive(n, beta)
    ok = w > 0
    return float(np.sum(w[ok] * ratio[ok]) / np.sum(w[ok]))


@lru_cache(maxsize=256)
def _quadrature(beta: float, n_max: int, n_nodes: int = _QUAD_NODES) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gauss–Legendre on [0, π]: nodes φ and weights such that Σ w g(φ) = (1/2π)∫_{−π}^{π} e^{β(cos φ−1)} g(φ) dφ
    for even g; also n = −n_max..n_max and the matrix nφ."""
    x, w = _legendre(n_nodes)
    phi = 0.5 * math.pi * (x + 1.0)
    weights = 0.5 * math.pi * w * np.exp(beta * (np.cos(phi) - 1.0)) / math.pi
    n = np.arange(-n_max, n_max + 1)
    return phi, weights, n, np.outer(n, phi)


def _f_theta(beta: float, theta: float, n_max: int) -> np.ndarray:
    """e^{−β} f_n(θ) for n = −n_max..n_max by quadrature (integrand even in φ)."""
    phi, weights, n, _ = _quadrature(beta, n_max)
    nu = n[:, None] + theta / (2.0 * math.pi)
    return np.cos(nu * phi[None, :]) @ weights


def log_partition_function_theta(beta: float, L: int | tuple[int, int], theta: float) -> float:
    """log Z(θ) = log Σ_n f_n(θ)^V (quadrature); equals :func:`log_partition_function` at θ = 0.

    Raises ``ParameterError`` naming ``theta`` if Z(θ) is not positive (cannot happen for
    |θ| <= π on a torus with V >= 1, where every term is a positive measure's Fourier transform).
    """
    beta = _check_beta(beta)
    volume = _volume(L)
    require(math.isfinite(float(theta)), "theta", "must be finite", theta)
    f = _f_theta(beta, float(theta), _n_max(beta))
    ok = f != 0
    log_abs = volume * np.log(np.abs(f[ok]))
    signs = np.sign(f[ok]) ** volume
    lse, sign = _logsumexp(log_abs, signs)
    require(sign > 0, "theta", "Z(theta) is not positive here", theta)
    return lse + volume * beta


def topological_q2(beta: float, L: int | tuple[int, int]) -> float:
    """⟨Q²⟩ = −∂²_θ log Z(θ)|_{θ=0} on the torus (module docstring)."""
    beta = _check_beta(beta)
    volume = _volume(L)
    return topological_q2_volume(beta, volume)


def topological_q2_volume(beta: float, volume: int) -> float:
    """⟨Q²⟩ for a torus of V plaquettes."""
    from scipy.special import ive

    beta = _check_beta(beta)
    volume = _check_volume(volume)
    phi, weights, n, nphi = _quadrature(beta, _n_max(beta))
    x = phi / (2.0 * math.pi)
    f1 = -(np.sin(nphi) * x[None, :]) @ weights
    f2 = -(np.cos(nphi) * (x * x)[None, :]) @ weights

    # the weights use the Bessel values f_n(0) = I_n(β) (accurate far in the tail); terms whose
    # weight is below 1e-30 of the largest are dropped (their ratios f'/f would be quadrature noise)
    with np.errstate(divide="ignore"):
        log_f0 = np.log(ive(n, beta))
    log_w = volume * log_f0
    keep = log_w - np.max(log_w) > math.log(1e-30)
    w = np.exp(log_w[keep] - np.max(log_w))
    f0 = np.exp(log_f0[keep])
    r1 = f1[keep] / f0
    r2 = f2[keep] / f0
    per_n = volume * (volume - 1) * r1 * r1 + volume * r2
    return float(-np.sum(w * per_n) / np.sum(w))


def topological_susceptibility(beta: float, L: int | tuple[int, int]) -> float:
    """χ_t = ⟨Q²⟩/V on the torus."""
    return topological_q2(beta, L) / _volume(L)


# ------------------------------------------------------------------------------ infinite volume
def mean_plaquette_infinite_volume(beta: float) -> float:
    """⟨cos θ_P⟩ = I₁(β)/I₀(β)."""
    from scipy.special import ive

    beta = _check_beta(beta)
    return float(ive(1, beta) / ive(0, beta))


def topological_susceptibility_infinite_volume(beta: float) -> float:
    """χ_t = ∫dφ (φ/2π)² e^{β cos φ} / ∫dφ e^{β cos φ} (φ ∈ (−π, π])."""
    beta = _check_beta(beta)
    phi, weights, _, _ = _quadrature(beta, 0)
    x = phi / (2.0 * math.pi)
    return float(np.sum(weights * x * x) / np.sum(weights))
