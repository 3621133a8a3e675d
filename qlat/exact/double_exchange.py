r"""Exact references for the double exchange model (:mod:`qlat.theories.double_exchange`).

Two-site cluster (``shape (2, 1)``, open boundary: one bond).  With x = S₁·S₂ and
u = cos(θ/2) = √((1 + x)/2) the one-body matrix h = −t τ_x ⊗ 1 + (J/2) diag(S₁·σ, S₂·σ) obeys
h² = t² + J²/4 − (tJ/2) τ_x ⊗ (S₁ + S₂)·σ, and |S₁ + S₂| = 2u, so its four eigenvalues are

.. math:: ε = ±\sqrt{t² + J²/4 ± tJu}.

For independent uniform spins x is uniform on [−1, 1], so

.. math:: ⟨S₁·S₂⟩ = \frac{∫_{−1}^{1} x\, W(x)\, dx}{∫_{−1}^{1} W(x)\, dx},
          \qquad W(x) = \prod_n (1 + e^{−β(ε_n(x) − μ)}),

evaluated with the substitution x = 2u² − 1 (dx = 4u du, smooth in u) by Gauss–Legendre quadrature
with the weights shifted by the maximum of log W (no overflow at low T).

J = 0: W does not depend on the spins, which are then independent and uniform: ⟨|m|²⟩ = 1/N.

Uniform ferromagnet (every S_i = n): h = h_hop ⊗ 1 + (J/2) n·σ, spectrum ε_k ± J/2 with
ε_k = −2t Σ_μ cos k_μ, k_μ = 2π m/L_μ (periodic) or π m/(L_μ + 1), m = 1 … L_μ (open); an extent
of 1 contributes nothing (see arXiv:2306.11527 for the model).
"""

from __future__ import annotations

import math

import numpy as np

from qlat.core.errors import require


def two_site_eigenvalues(x: np.ndarray | float, *, t: float, J: float) -> np.ndarray:
    """The four one-body energies of the two-site cluster at S₁·S₂ = x, shape ``(*x.shape, 4)``, ascending."""
    x = np.asarray(x, dtype=float)
    u = np.sqrt(np.clip((1.0 + x) / 2.0, 0.0, 1.0))
    base = t * t + J * J / 4.0
    hi = np.sqrt(base + t * J * u)
    lo = np.sqrt(np.maximum(base - t * J * u, 0.0))
    return np.sort(np.stack([-hi, -lo, lo, hi], axis=-1), axis=-1)


def _log_weight(eps: np.ndarray, *, mu: float, T: float) -> np.ndarray:
    return np.logaddexp(0.0, -(eps - mu) / T).sum(-1)


def two_site_correlation(*, t: float, J: float, mu: float, T: float, nodes: int = 400) -> float:
    """Exact ⟨S₁·S₂⟩ of the open two-site cluster by Gauss–Legendre quadrature in u = cos(θ/2).

    ``nodes`` Legendre nodes on u ∈ [0, 1] (the integrand is smooth and analytic in u, so the
    default is exact to rounding for T >= 0.01 t).
    """
    require(t > 0 and math.isfinite(t), "t", "must be a finite number > 0", t)
    require(J >= 0 and math.isfinite(J), "J", "must be a finite number >= 0", J)
    require(T > 0 and math.isfinite(T), "T", "must be a finite number > 0", T)
    require(math.isfinite(mu), "mu", "must be a finite number", mu)
    require(isinstance(nodes, int) and nodes >= 8, "nodes", "must be an integer >= 8", nodes)
    z, w = np.polynomial.legendre.leggauss(nodes)
    u = 0.5 * (z + 1.0)
    wu = 0.5 * w * 4.0 * u  # dx = 4u du on u ∈ [0, 1]
    x = 2.0 * u * u - 1.0
    logw = _log_weight(two_site_eigenvalues(x, t=t, J=J), mu=mu, T=T)
    p = wu * np.exp(logw - logw.max())
    return float((p * x).sum() / p.sum())


def free_spin_m2(n_sites: int) -> float:
    """⟨|m|²⟩ = 1/N for N independent uniform unit spins, m = (1/N) Σ_i S_i (the J = 0 model)."""
    require(isinstance(n_sites, int) and n_sites >= 1, "n_sites", "must be an integer >= 1", n_sites)
    return 1.0 / n_sites


def tight_binding_spectrum(shape: tuple[int, int], *, t: float, boundary: str = "periodic") -> np.ndarray:
    """Eigenvalues ε_k of −t Σ_⟨ij⟩(|i⟩⟨j| + h.c.) on the lattice, ascending, length N."""
    require(boundary in ("periodic", "open"), "boundary", "must be periodic or open", boundary)
    per_axis = []
    for L in shape:
        require(isinstance(L, (int, np.integer)) and L >= 1, "shape", "extents must be integers >= 1", shape)
        if L == 1:
            per_axis.append(np.zeros(1))
        elif boundary == "periodic":
            per_axis.append(-2.0 * t * np.cos(2.0 * np.pi * np.arange(L) / L))
        else:
            per_axis.append(-2.0 * t * np.cos(np.pi * np.arange(1, L + 1) / (L + 1)))
    eps = per_axis[0]
    for e in per_axis[1:]:
        eps = (eps[:, None] + e[None, :]).reshape(-1)
    return np.sort(eps)


def ferromagnet_spectrum(shape: tuple[int, int], *, t: float, J: float, boundary: str = "periodic") -> np.ndarray:
    """One-body spectrum {ε_k − J/2} ∪ {ε_k + J/2} of a uniform ferromagnet (any direction), ascending, 2N."""
    eps = tight_binding_spectrum(shape, t=t, boundary=boundary)
    return np.sort(np.concatenate([eps - J / 2.0, eps + J / 2.0]))


def ferromagnet_action(shape: tuple[int, int], *, t: float, J: float, mu: float, T: float,
                       boundary: str = "periodic") -> float:
    """S = −Σ_n log(1 + e^{−β(ε_n−μ)}) of the uniform ferromagnet."""
    eps = ferromagnet_spectrum(shape, t=t, J=J, boundary=boundary)
    return float(-np.logaddexp(0.0, -(eps - mu) / T).sum())
