"""The seeded train/validation split shared by the self-learning trainers (SLMC, SLHMC)."""

from __future__ import annotations

from typing import Any

from qlat.core.errors import require


def split_indices(m: int, *, val_fraction: float, seed: int, minimum: int = 1) -> tuple[Any, Any]:
    """``(train, validation)`` index tensors of a seeded random permutation of ``m`` configurations,
    ``round(val_fraction · m)`` for validation and at least ``minimum`` in each part."""
    import torch

    require(0.0 < val_fraction < 1.0, "val_fraction", "must be in (0, 1)", val_fraction)
    require(m >= 2 * minimum, "data", f"needs at least {2 * minimum} configurations", m)
    perm = torch.randperm(m, generator=torch.Generator().manual_seed(seed))
    n_val = min(max(minimum, round(val_fraction * m)), m - minimum)
    return perm[n_val:], perm[:n_val]
