"""Memory an SLMC training run needs, estimated from its parameters before anything is built (issue 24).

Upper estimates in bytes for N = Lx·Ly sites, so that ``qlat slmc train --L 100000``, ``--chains 1e10``
or ``--heads 1e8`` is refused by :func:`qlat.core.resources.require_memory` before a tensor exists:

- geometry: the N×N pair-distance tables of :func:`~qlat.samplers.slmc.effective_hamiltonians.shell_pairs`, 40 N²;
- exact chains: each diagonalizes its N×N fermion hopping matrix (complex, with workspace), 64 N² per chain;
- training data: rounds · chains · n configurations of N unit spins (float64), 24 N each;
- transformer: the attention weights (batch, heads, N, N) of every layer, kept for the backward
  pass, 24 · batch · heads · N² · max(layers, 1).
"""

from __future__ import annotations


def training_bytes(shape: tuple[float, float], *, chains: float, n: float, rounds: float, batch: float,
                   heads: float, layers: float, transformer: bool) -> float:
    """Memory of ``qlat slmc train`` (floats throughout: no overflow for absurd values)."""
    sites = float(shape[0]) * float(shape[1])
    total = 40.0 * sites * sites + 64.0 * float(chains) * sites * sites
    total += 24.0 * float(rounds) * float(chains) * float(n) * sites
    if transformer:
        total += 24.0 * float(batch) * float(heads) * sites * sites * max(float(layers), 1.0)
    return total
