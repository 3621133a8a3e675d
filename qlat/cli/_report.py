"""The observables table / JSON that ``qlat sample`` and ``qlat measure`` print for an ensemble."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


def _entry(est: Any, ensemble_info: dict[str, Any]) -> dict[str, Any]:
    """The Estimate as JSON (value, error, tau_int, n_samples, backend, provenance incl. the ensemble)."""
    return est.with_provenance(ensemble=ensemble_info["file"], checksum=ensemble_info["checksum"],
                               seed=ensemble_info["seed"]).to_dict()


def exact_references(theory: Any, names: Sequence[str]) -> dict[str, Any]:
    """:func:`qlat.analysis.montecarlo.exact_references`."""
    from qlat.analysis.montecarlo import exact_references as references

    return references(theory, names)


def report(ensemble: Any, names: Sequence[str], *, skip: int = 0, S: float = 2.0, as_json: bool = False,
           file_kept: bool = True) -> dict[str, Any]:
    """Measure ``names`` on ``ensemble`` and print them (table or JSON); returns the JSON object."""
    from qlat.analysis.statistics import ensemble_estimates
    from qlat.analysis.tables import params_text
    from qlat.cli._common import format_table, print_json

    estimates = ensemble_estimates(ensemble, names, skip=skip, S=S)
    result: dict[str, Any] = {}
    result["ensemble"] = {
        "file": str(ensemble.path) if file_kept else None,
        "theory": ensemble.theory_params,
        "sampler": ensemble.sampler_params,
        "seed": ensemble.seed,
        "chains": ensemble.chains,
        "n_samples": ensemble.n_samples,
        "skip": skip,
        "checksum": ensemble.checksum,
    }
    for name, est in estimates.items():
        result[name] = _entry(est, result["ensemble"])
    from qlat.samplers.stored import stored_theory

    exact = exact_references(stored_theory(ensemble), [n for n in estimates if n != "acceptance"])
    if exact:
        result["exact"] = {name: ex.to_dict() for name, ex in exact.items()}
    if as_json:
        print_json(result)
    else:
        rows = []
        for name, est in estimates.items():
            line = [name, str(est), "-" if est.tau_int is None else f"{est.tau_int:.2f}({est.tau_int_error:.2f})",
                    est.n_samples]
            if exact:
                ref = exact.get(name)
                line += ["-", "-"] if ref is None else [f"{ref.value:.6g}", f"{est.z_score(ref):+.2f}"]
            rows.append(line)
        info = result["ensemble"]
        where = f"{info['file']}: " if file_kept else ""
        sys.stdout.write(
            f"{where}{info['theory']['name']} ({params_text(info['theory'])}), {info['sampler']['name']}, "
            f"{info['chains']} chains × {info['n_samples']} samples (skip {skip})\n"
        )
        headers = ["observable", "value(error)", "tau_int", "samples"] + (["exact", "z"] if exact else [])
        sys.stdout.write(format_table(headers, rows) + "\n")
        if exact:
            method = next(iter(exact.values())).provenance.get("method", "")
            sys.stdout.write(f"exact: {method}\n")
    return result
