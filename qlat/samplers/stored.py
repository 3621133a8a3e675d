"""Theory, sampler and chain state of a stored ensemble, rebuilt from its parameters and arrays.

:class:`~qlat.core.ensemble.Ensemble` (core layer) stores JSON parameters and plain arrays only;
this module, one layer up, turns them back into objects through the registries
(:func:`~qlat.theories.base.theory_from_params`, :func:`~qlat.samplers.base.sampler_from_params`),
so a new theory or sampler (with flow weights or an SLMC model behind its parameters) is
rebuilt the same way without the ensemble code knowing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qlat.samplers.base import ChainState, Sampler, sampler_from_params
from qlat.theories.base import Theory, theory_from_params


@dataclass(frozen=True)
class StoredRun:
    """What an ensemble file describes: the theory, the sampler and the state to continue from."""

    theory: Theory
    sampler: Sampler
    state: ChainState | None


def stored_theory(ensemble: Any) -> Theory:
    """The theory of ``ensemble``, rebuilt from its stored parameters."""
    return theory_from_params(ensemble.theory_params)


def stored_state(ensemble: Any) -> ChainState | None:
    """The chain state after the last committed sample (``None`` before the first append)."""
    arrays = ensemble.state_arrays
    return ChainState.from_arrays(arrays) if arrays else None


def stored_run(ensemble: Any) -> StoredRun:
    """Theory, sampler and chain state of ``ensemble`` (a :class:`~qlat.core.ensemble.Ensemble`)."""
    return StoredRun(theory=stored_theory(ensemble), sampler=sampler_from_params(ensemble.sampler_params),
                     state=stored_state(ensemble))
