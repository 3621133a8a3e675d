"""The observables of a stored Monte Carlo ensemble as one result object (``qlat sample`` and ``qlat measure``).

:func:`ensemble_report` measures the observables with the Γ-method
(:func:`qlat.analysis.statistics.ensemble_estimates`) and puts the exact reference beside each one
where it exists (:func:`qlat.analysis.montecarlo.exact_references`), with the z-score from the
total error. Every Estimate carries the ensemble's file, checksum and seed in its provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qlat.analysis.tables import format_table, params_text


@dataclass
class EnsembleReport:
    """Estimates of one ensemble, their exact references (possibly none) and what the ensemble is."""

    estimates: dict[str, Any]
    exact: dict[str, Any]
    ensemble: dict[str, Any]
    file_kept: bool = True

    def to_dict(self) -> dict[str, Any]:
        info = self.ensemble
        result: dict[str, Any] = {"ensemble": info}
        for name, est in self.estimates.items():
            result[name] = est.with_provenance(ensemble=info["file"], checksum=info["checksum"],
                                               seed=info["seed"]).to_dict()
        if self.exact:
            result["exact"] = {name: ex.to_dict() for name, ex in self.exact.items()}
        return result

    def table(self) -> str:
        """The ensemble in one line, then one row per observable: value(error), τ_int, samples, exact, z."""
        rows = []
        for name, est in self.estimates.items():
            line = [name, str(est), "-" if est.tau_int is None else f"{est.tau_int:.2f}({est.tau_int_error:.2f})",
                    est.n_samples]
            if self.exact:
                ref = self.exact.get(name)
                line += ["-", "-"] if ref is None else [f"{ref.value:.6g}", f"{est.z_score(ref):+.2f}"]
            rows.append(line)
        info = self.ensemble
        where = f"{info['file']}: " if self.file_kept else ""
        text = (f"{where}{info['theory']['name']} ({params_text(info['theory'])}), {info['sampler']['name']}, "
                f"{info['chains']} chains × {info['n_samples']} samples (skip {info['skip']})\n")
        headers = ["observable", "value(error)", "tau_int", "samples"] + (["exact", "z"] if self.exact else [])
        text += format_table(headers, rows) + "\n"
        if self.exact:
            method = next(iter(self.exact.values())).provenance.get("method", "")
            text += f"exact: {method}\n"
        return text


def ensemble_report(ensemble: Any, names: Sequence[str], *, skip: int = 0, S: float = 2.0,
                    file_kept: bool = True) -> EnsembleReport:
    """Measure ``names`` on the open ``ensemble`` (``skip`` configurations per chain cut, Γ-method window
    parameter ``S``) beside their exact references."""
    from qlat.analysis.montecarlo import exact_references
    from qlat.analysis.statistics import ensemble_estimates
    from qlat.samplers.stored import stored_theory

    estimates = ensemble_estimates(ensemble, names, skip=skip, S=S)
    info = {"file": str(ensemble.path) if file_kept else None, "theory": ensemble.theory_params,
            "sampler": ensemble.sampler_params, "seed": ensemble.seed, "chains": ensemble.chains,
            "n_samples": ensemble.n_samples, "skip": skip, "checksum": ensemble.checksum}
    exact = exact_references(stored_theory(ensemble), [n for n in estimates if n != "acceptance"])
    return EnsembleReport(estimates=dict(estimates), exact=dict(exact), ensemble=info, file_kept=file_kept)
