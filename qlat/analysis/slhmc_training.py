"""Training a self-learning HMC effective action as one result (``qlat slhmc train``).

:func:`train_slhmc` runs the self-learning rounds
(:func:`qlat.samplers.slhmc.selflearn.train_self_learning`: exact ``slhmc`` chains make the
training data, the model is fitted to S_g − N_f log|det D| up to a constant; Nagai, Okumura,
Kobayashi, Shiga arXiv:1909.02255) and, with ``check`` > 0, measures the acceptance of the final
model's chain with its Γ-method error — the number that decides whether the model is worth
sampling with.  :class:`SLHMCTraining` carries the summary (validation Var(S_eff − S) per round).
:func:`slhmc_training_request` builds the theory and checks the architecture before anything is written;
:meth:`SLHMCTrainingRequest.run` then trains (what ``qlat slhmc train`` calls).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any


@dataclass
class SLHMCTraining:
    """The result ``qlat slhmc train --json`` prints (``to_dict``) and its one-line summary."""

    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.result)

    def summary(self) -> str:
        r = self.result
        last = r["rounds"][-1]
        line = (f"{r['model']}: {r['config']['kind']} ({r['parameters']} parameters), validation Var(S_eff - S) "
                f"{last['best_val_var']:.4g} (linear fit of round 1: {r['rounds'][0]['start_val_var']:.4g})")
        if "acceptance" in r:
            line += f", SLHMC acceptance {r['acceptance']}"
        return line


@dataclass(frozen=True)
class SLHMCTrainingRequest:
    """A checked self-learning HMC training (:func:`slhmc_training_request`): the Schwinger theory with Wilson
    fermions and the architecture of the effective action (``layers``, ``heads``, ``hidden``, ``seed``)."""

    theory: Any
    layers: int
    heads: int
    hidden: int
    seed: int

    def run(self, out: str | os.PathLike, *, rounds: int = 2, n: int = 50, chains: int = 8,
            thermalization: int = 20, every: int = 2, trajectory_length: float = 1.0, n_steps: int = 10,
            epochs: int = 50, lr: float = 1e-2, batch_size: int = 32, val_fraction: float = 0.2,
            device: str = "cpu", check: int = 0, progress: bool = False) -> SLHMCTraining:
        """Train into ``out`` (:func:`train_slhmc`)."""
        return train_slhmc(self.theory, out, layers=self.layers, heads=self.heads, hidden=self.hidden, rounds=rounds,
                           n=n, chains=chains, seed=self.seed, thermalization=thermalization, every=every,
                           trajectory_length=trajectory_length, n_steps=n_steps, epochs=epochs, lr=lr,
                           batch_size=batch_size, val_fraction=val_fraction, device=device, check=check,
                           progress=progress)


def slhmc_training_request(*, L: int, beta: float, mass: float | None = None, kappa: float | None = None,
                           nf: int = 2, layers: int = 1, heads: int = 2, hidden: int = 8,
                           seed: int = 0) -> SLHMCTrainingRequest:
    """The theory (:meth:`SchwingerTheory.from_options <qlat.theories.schwinger_wilson.SchwingerTheory.from_options>`:
    exactly one of ``mass`` m₀ and ``kappa`` κ = 1/(2m₀ + 4)) and the effective action's architecture
    (:class:`~qlat.samplers.slhmc.effective_actions.EffectiveAction`, built and dropped), checked before anything
    is written; errors name the library parameter (``L``, ``beta``, ``mass``, ``nf``, ``layers`` …)."""
    from qlat.samplers.slhmc.effective_actions import EffectiveAction
    from qlat.theories.schwinger_wilson import SchwingerTheory

    theory = SchwingerTheory.from_options(L=L, beta=beta, mass=mass, kappa=kappa, nf=nf)
    EffectiveAction(layers=layers, heads=heads, hidden=hidden, seed=seed)  # checks the architecture, unsaved
    return SLHMCTrainingRequest(theory=theory, layers=layers, heads=heads, hidden=hidden, seed=seed)


def train_slhmc(theory: Any, out: str | os.PathLike, *, layers: int = 1, heads: int = 2, hidden: int = 8,
                rounds: int = 2, n: int = 50, chains: int = 8, seed: int = 0, thermalization: int = 20,
                every: int = 2, trajectory_length: float = 1.0, n_steps: int = 10, epochs: int = 50,
                lr: float = 1e-2, batch_size: int = 32, val_fraction: float = 0.2, device: str = "cpu",
                check: int = 0, progress: bool = False) -> SLHMCTraining:
    """Train an effective action for ``theory`` into ``out`` (see the module docstring); ``check`` > 0:
    then ``check`` trajectories per chain of the final model (seed + 7) give the acceptance."""
    from qlat.analysis.statistics import gamma_estimate
    from qlat.samplers.slhmc.selflearn import check_acceptance, train_self_learning

    result = train_self_learning(
        theory, out, layers=layers, heads=heads, hidden=hidden, rounds=rounds, n=n, chains=chains, seed=seed,
        thermalization=thermalization, every=every, trajectory_length=trajectory_length, n_steps=n_steps,
        epochs=epochs, lr=lr, batch_size=batch_size, val_fraction=val_fraction, device=device, progress=progress)
    result["seed"] = seed
    if check:
        accepted = check_acceptance(theory, out, n=check, chains=chains, seed=seed + 7,
                                    trajectory_length=trajectory_length, n_steps=n_steps, progress=progress)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an acceptance series that never varies has no τ_int
            result["acceptance"] = gamma_estimate(accepted, name="acceptance", unit="1", backend="slhmc")
    return SLHMCTraining(result)


__all__ = ["SLHMCTraining", "SLHMCTrainingRequest", "slhmc_training_request", "train_slhmc"]
