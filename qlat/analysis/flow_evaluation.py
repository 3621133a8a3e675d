"""A trained normalizing flow evaluated as one result (``qlat flow eval``).

:func:`evaluate_flow_model` gives the flow's metrics on fresh samples
(:func:`qlat.samplers.flow.training.evaluate_flow`: KL, ESS, equilibrium independence-Metropolis
acceptance, Pareto k̂) and the theory's default observables with their τ_int measured on an
independence-Metropolis chain of the flow (exact through the Metropolis test; Albergo, Kanwar,
Shanahan, arXiv:1904.12072), the chain's own acceptance as ``chain_acceptance``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.analysis.tables import format_table


@dataclass
class FlowEvaluation:
    """Metrics and chain estimates (``result``, keyed as in ``qlat flow eval --json``) and a one-line title."""

    result: dict[str, Any]
    title: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.result)

    def table(self) -> str:
        return flow_table(self.result, title=self.title)


def flow_table(result: dict[str, Any], *, title: str) -> str:
    """The title, then one row per Estimate of ``result``: quantity, value(error), τ_int."""
    from qlat.core.estimate import Estimate

    rows = [[k, str(v), "-" if v.tau_int is None else f"{v.tau_int:.2f}"]
            for k, v in result.items() if isinstance(v, Estimate)]
    return title + "\n" + format_table(["quantity", "estimate", "tau_int"], rows) + "\n"


def evaluate_flow_model(model_dir: str | os.PathLike, *, n: int, chains: int = 4, seed: int = 0,
                        progress: bool = False) -> FlowEvaluation:
    """Evaluate the flow stored in ``model_dir`` on ``n`` samples and on ``chains`` independence-Metropolis
    chains of n/chains steps each (at least the Γ-method's minimum per chain); nothing is written."""
    from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN, ensemble_estimates
    from qlat.core.ensemble import Ensemble
    from qlat.samplers.flow import FlowSampler
    from qlat.samplers.flow.training import evaluate_flow
    from qlat.theories.base import theory_from_params

    sampler = FlowSampler(model=str(model_dir))
    theory = theory_from_params(sampler.card["theory"])
    result: dict[str, Any] = evaluate_flow(sampler.flow, theory, n=n, seed=seed)
    per_chain = max(n // chains, MIN_SAMPLES_PER_CHAIN)
    with tempfile.TemporaryDirectory(prefix="qlat-flow-eval-") as tmp:
        ens = Ensemble.create(Path(tmp) / "chain.h5", theory=theory, sampler=sampler, chains=chains, seed=seed)
        with ens:
            state = sampler.init_state(theory, chains=chains, seed=seed)
            batch, state = sampler.run(theory, per_chain, state=state, progress=progress)
            ens.append(batch, state)
            chain = ensemble_estimates(ens, theory.default_observables() + ["acceptance"])
    for est in chain.values():  # the chain's file was temporary: do not point at it
        if isinstance(est.provenance, dict):
            est.provenance.pop("file", None)
            est.provenance["chain"] = "independence-Metropolis chain of qlat flow eval (not kept)"
    result.update({f"chain_{k}" if k == "acceptance" else k: v for k, v in chain.items()})
    result["model"] = {"dir": sampler.model, "weights_sha256": sampler.model_sha256,
                       "card_sha256": sampler.card_sha256, "theory": sampler.card["theory"],
                       "architecture": sampler.card["architecture"],
                       "steps_done": sampler.card.get("training", {}).get("steps_done")}
    result["seed"] = seed
    title = (f"{sampler.model}: flow metrics ({n} samples) and an independence-Metropolis chain "
             f"({chains} × {per_chain})")
    return FlowEvaluation(result=result, title=title)
