"""Memory an SLHMC training run needs, estimated from its parameters before anything is built.

Upper estimates in bytes for N = L² sites (floats throughout: no overflow for absurd values), so that
``qlat slhmc train --L 100000`` or ``--n 1e10`` is refused by :func:`qlat.core.resources.require_memory`
before a tensor exists:

- the exact accept: the dense Dirac matrix (2N)² complex, one LU per chain at a time, 16 · (2N)² · 3;
- the training data: the links of every kept configuration, 8 · 2N per configuration, rounds · n · chains of them;
- the attention network and its activations: 8 · layers · (3 w · hidden + 16 w · 2N · min(batch, 64)) with
  w = heads · hidden.
"""

from __future__ import annotations

from collections.abc import Mapping


def training_parts(*, L: float, rounds: float, n: float, chains: float, layers: float, heads: float, hidden: float,
                   batch: float) -> list[tuple[float, tuple[str, ...], str]]:
    """(bytes, the parameters that set them, what they hold) for each part of ``qlat slhmc train``'s memory."""
    sites = float(L) ** 2
    configurations = float(rounds) * float(n) * float(chains)
    width = float(heads) * float(hidden)
    return [
        (16.0 * (2 * sites) ** 2 * 3, ("L",), "the dense Dirac matrix of the exact accept"),
        (8.0 * 2 * sites * configurations, ("n", "chains", "rounds"), "the training configurations"),
        (8.0 * float(layers) * (3 * width * float(hidden) + 16 * width * 2 * sites * min(float(batch), 64.0)),
         ("layers", "heads", "hidden"), "the attention network and its activations"),
    ]


def require_training_memory(*, L: float, rounds: float, n: float, chains: float, layers: float, heads: float,
                            hidden: float, batch: float, names: Mapping[str, str] | None = None) -> None:
    """Refuse a training whose parts do not fit in memory (:func:`training_parts`), naming the parameters of the
    first part that does not fit as ``names`` shows them (e.g. ``--n/--chains/--rounds``)."""
    from qlat.core.resources import require_memory

    for need, parameters, what in training_parts(L=L, rounds=rounds, n=n, chains=chains, layers=layers, heads=heads,
                                                 hidden=hidden, batch=batch):
        require_memory(need, "/".join((names or {}).get(p, p) for p in parameters), what)
