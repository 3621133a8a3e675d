r"""Priors r(z) of the flows: sampled with a ``torch.Generator``, log-density per configuration.

- :class:`NormalPrior`: independent N(0, 1) per site, log r(z) = −½ Σ z² − (n/2) log 2π (scalars).
- :class:`HaarPrior`: uniform link angles on [−π, π), the Haar measure of U(1),
  log r(z) = −n log 2π (constant, periodic in every angle).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class NormalPrior(nn.Module):
    """Standard normal on ``shape`` (one configuration)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.size = math.prod(self.shape)

    def sample(self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        return torch.randn((n, *self.shape), generator=generator, dtype=dtype)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * z.reshape(z.shape[0], -1).square().sum(1) - 0.5 * self.size * math.log(2.0 * math.pi)


class HaarPrior(nn.Module):
    """Uniform angles on [−π, π) on ``shape`` (one configuration of links)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.size = math.prod(self.shape)

    def sample(self, n: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        u = torch.rand((n, *self.shape), generator=generator, dtype=dtype)
        return u.mul_(2.0 * math.pi).sub_(math.pi)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((z.shape[0],), -self.size * math.log(2.0 * math.pi), dtype=z.dtype, device=z.device)
