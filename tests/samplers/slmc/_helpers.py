"""Shared helpers of the SLMC tests: random O(3) matrices, spins, small trained models, z-scores."""

from __future__ import annotations

import math

import numpy as np
import torch

from qlat.analysis.statistics import gamma_estimate


def random_o3(seed: int, *, reflect: bool) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn((3, 3), dtype=torch.float64, generator=g))
    q = q * torch.sign(torch.diagonal(r))
    if (torch.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return q


def rotate(r: torch.Tensor, spins: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ab,nbxy->naxy", r, spins)


def random_spins(shape, batch=4, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    s = torch.randn((batch, 3, *shape), dtype=torch.float64, generator=g)
    return s / s.norm(dim=1, keepdim=True)


def estimate(series: np.ndarray) -> tuple[float, float]:
    est = gamma_estimate(np.asarray(series, dtype=float))
    assert est.error > 0 and math.isfinite(est.error), "a chain that did not move"
    return est.value, est.error


def z_exact(series: np.ndarray, exact: float) -> float:
    value, error = estimate(series)
    return (value - exact) / error


def z_two(a: np.ndarray, b: np.ndarray) -> float:
    va, ea = estimate(a)
    vb, eb = estimate(b)
    return (va - vb) / math.hypot(ea, eb)


def per_chain(fn, configs: torch.Tensor) -> np.ndarray:
    """fn over (n, chains, *field) configurations → (n, chains) numpy array."""
    n, c = configs.shape[:2]
    return fn(configs.reshape(n * c, *configs.shape[2:])).reshape(n, c).numpy()
