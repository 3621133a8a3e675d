r"""Exact local Metropolis for unit spins with a non-local action (the double exchange weight).

One sweep visits the sites in lexicographic order; at each, every chain proposes a new spin
(:func:`~qlat.samplers.slmc.moves.propose_spins`, cap half-angle δ = the chain's step size,
δ = π: uniform on the sphere) and accepts it with min(1, e^{−(S[S'] − S[S])}).  S is the exact
action, so each proposal costs one batched diagonalization of the 2N×2N one-body matrix
(O(N³)); no rank-update trick is used because the Fermi-function weight of a local change is not
a low-rank determinant update.  Each single-site step leaves e^{−S} invariant, so the sweep does.
With ``target_acceptance`` δ is tuned during thermalization only (clamped to (0, π]).
The recorded acceptance of a sample is the fraction of accepted proposals in its sweep.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import (
    COMMON_OPTIONS,
    TUNING_OPTION,
    ChainState,
    SampleBatch,
    check_int,
    check_target_acceptance,
    from_params_by_keywords,
    make_initial_state,
    run_chain,
)
from qlat.samplers.slmc.moves import UnitSpinAction, check_step, propose_spins, spin_at, with_spin

if TYPE_CHECKING:
    import torch


def check_spin_theory(theory: Any) -> None:
    require(isinstance(theory, UnitSpinAction), "theory",
            "must be a theory of unit spins (batch, 3, Lx, Ly) with an action (e.g. double-exchange)",
            type(theory).__name__)


class ActionCache:
    """The action of the current configurations, recomputed only when the fields change identity."""

    def __init__(self, theory: Any) -> None:
        self.theory = theory
        self.fields: torch.Tensor | None = None
        self.value: torch.Tensor | None = None

    def get(self, fields: torch.Tensor) -> torch.Tensor:
        if self.fields is not fields or self.value is None:
            self.fields, self.value = fields, self.theory.action(fields)
        return self.value

    def set(self, fields: torch.Tensor, value: torch.Tensor) -> None:
        self.fields, self.value = fields, value


@SAMPLERS.register("exact-local")
class ExactLocalMetropolis:
    """Single-spin Metropolis against the exact action, one diagonalization per proposal.

    Parameters
    ----------
    step_size: initial cap half-angle δ in (0, π] (π: new spin uniform on the sphere).
    target_acceptance: None or a target in (0, 1) for tuning δ during thermalization.
    thermalization: sweeps discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` sweeps (>= 1).
    """

    name = "exact-local"
    OPTIONS: tuple[Option, ...] = (
        Option("--step-size", "step_size", float,
               "cap half-angle δ of a spin proposal in radians (π = uniform on the sphere)",
               default=math.pi),
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )

    def __init__(self, *, step_size: float = math.pi, target_acceptance: float | None = None,
                 thermalization: int = 0, every: int = 1) -> None:
        self.step_size = check_step(step_size, "step_size")
        self.target_acceptance = check_target_acceptance(target_acceptance)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExactLocalMetropolis:
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    @classmethod
    def example(cls, theory: Any, workdir: Any = None) -> ExactLocalMetropolis:
        """A quick instance (conformance suite)."""
        return cls(step_size=1.0, thermalization=2)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "step_size": self.step_size, "target_acceptance": self.target_acceptance,
                "thermalization": self.thermalization, "every": self.every}

    def supports(self, theory: Any) -> bool:
        """Theories of unit spins on a 2-D lattice with an action (:class:`UnitSpinAction`)."""
        return isinstance(theory, UnitSpinAction)

    def init_state(self, theory: Any, *, chains: int, seed: int, start: str = "hot") -> ChainState:
        check_spin_theory(theory)
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=self.step_size)

    def sweep(self, theory: Any, fields: torch.Tensor, generator: torch.Generator, step_size: float,
              cache: ActionCache | None = None) -> tuple[torch.Tensor, np.ndarray, np.ndarray, float]:
        """One sweep over all sites; returns (fields, accepted fraction per chain, NaN, mean)."""
        import torch

        cache = cache or ActionCache(theory)
        current = cache.get(fields)
        b = fields.shape[0]
        lx, ly = theory.shape
        n_acc = torch.zeros(b, dtype=torch.float64)
        for x in range(lx):
            for y in range(ly):
                xs = torch.full((b,), x, dtype=torch.long)
                ys = torch.full((b,), y, dtype=torch.long)
                proposal = with_spin(fields, xs, ys, propose_spins(spin_at(fields, xs, ys), step_size,
                                                                   generator=generator))
                s_new = theory.action(proposal)
                u = torch.rand(b, dtype=torch.float64, generator=generator)
                accept = torch.log(u) < -(s_new - current)
                fields = torch.where(accept[:, None, None, None], proposal, fields)
                current = torch.where(accept, s_new, current)
                n_acc += accept
        cache.set(fields, current)
        frac = (n_acc / theory.n_sites).numpy()
        return fields, frac, np.full(b, np.nan), float(frac.mean())

    def run(self, theory: Any, n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations."""
        check_spin_theory(theory)
        cache = ActionCache(theory)

        def step(fields, gen, delta):
            return self.sweep(theory, fields, gen, min(delta, math.pi), cache)

        return run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                         target_acceptance=self.target_acceptance, accepted_dtype=np.float64,
                         progress=progress, desc=self.name)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"ExactLocalMetropolis({args})"
