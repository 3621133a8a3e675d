"""Monte Carlo ensembles as a backend (``"ensemble"``): Γ-method Estimates on a stored chain.

``estimate(ensemble, observables, skip=0, S=2.0)`` measures each observable's classical
realization on the configurations of a :class:`~qlat.core.ensemble.Ensemble` (any theory and
sampler that wrote it: HMC, local updates, flows, SLMC) and returns Γ-method Estimates
(Wolff, hep-lat/0306017, through pyerrors) with τ_int, chains as replicas
(:func:`qlat.analysis.statistics.ensemble_estimates`).  Components of array-valued
observables are ``name[i,j]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qlat.core.ensemble import Ensemble
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.registry import BACKENDS


@BACKENDS.register("ensemble")
class EnsembleBackend:
    """Γ-method estimates of observables on a stored Monte Carlo ensemble."""

    name = "ensemble"
    label = "monte-carlo"
    description = "Γ-method estimates on a stored Monte Carlo ensemble (qlat sample --out FILE)"
    accepts: tuple[str, ...] = ("Ensemble",)

    def supports(self, target: Any) -> bool:
        return isinstance(target, Ensemble)

    def observables(self, target: Any) -> list[str]:
        from qlat.core.observable_registry import OBSERVABLES
        from qlat.samplers.stored import stored_theory

        return sorted([o.name for o in OBSERVABLES.supported_on(stored_theory(target))] + ["acceptance"])

    def estimate(self, target: Any, observables: Sequence[str], *, skip: int = 0, S: float = 2.0,
                 **options: Any) -> dict[str, Estimate]:
        from qlat.analysis.statistics import ensemble_estimates

        require(not options, "options", "the ensemble backend takes skip and S only", sorted(options))
        return ensemble_estimates(target, list(observables), skip=skip, S=S)

    def example(self, workdir: Any) -> tuple[Any, dict[str, Any]]:
        """A 4×4 U(1) heatbath ensemble of 2 chains × 20 samples written into ``workdir``."""
        from pathlib import Path

        from qlat.samplers.metropolis import U1Heatbath
        from qlat.theories.u1 import U1Theory

        theory, sampler = U1Theory.example(), U1Heatbath(thermalization=5)
        path = Path(workdir) / "example-ensemble.h5"
        ensemble = Ensemble.create(path, theory=theory, sampler=sampler, chains=2, seed=3)
        batch, state = sampler.run(theory, 20, state=sampler.init_state(theory, chains=2, seed=3))
        ensemble.append(batch, state)
        return ensemble, {}

    def __repr__(self) -> str:
        return "EnsembleBackend()"
