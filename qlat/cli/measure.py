"""``qlat measure FILE.h5 --obs plaquette q2 …``: Γ-method estimates on a stored ensemble.

The file is verified (checksum) before anything is read.  ``--skip N`` drops the first N samples
of every chain (thermalization cut).  Without ``--obs`` the theory's default observables are
measured (those of ``qlat sample``).  ``acceptance`` is accepted as an observable name too.
Output: a table, or with ``--json`` one JSON object with every observable as
``{"value":…, "error":…, "tau_int":…, "tau_int_error":…, "n_samples":…, "unit":…}`` under its name
and an ``ensemble`` entry (file, theory, sampler, seed, chains, samples, skip, checksum).
Observables with several values per configuration (``wilson_loop``, ``two_point``) give one
entry per component, ``name[i,j]``.
"""

from __future__ import annotations

#: Position in ``qlat --help``.
HELP_ORDER = 50

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from qlat.core.errors import require


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "measure",
        help="measure observables on a stored ensemble (Γ-method errors)",
        description="Measure observables on a stored, checksum-verified ensemble with Γ-method errors "
        "(--skip drops the first samples of every chain).",
    )
    p.add_argument("file", type=Path, help="ensemble file written by qlat sample")
    p.add_argument("--obs", nargs="+", default=None, metavar="NAME",
                   help="observables (default: the theory's defaults); e.g. plaquette q2 chi_t")
    p.add_argument("--skip", type=int, default=0, help="samples dropped at the start of every chain (>= 0)")
    p.add_argument("--S", type=float, default=2.0, help="Γ-method windowing parameter S (> 0, default 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_measure)


def _entry(est: Any, ensemble_info: dict[str, Any]) -> dict[str, Any]:
    """The Estimate as JSON (value, error, tau_int, n_samples, backend, provenance incl. the ensemble)."""
    return est.with_provenance(ensemble=ensemble_info["file"], checksum=ensemble_info["checksum"],
                               seed=ensemble_info["seed"]).to_dict()


def report(ensemble: Any, names: Sequence[str], *, skip: int = 0, S: float = 2.0, as_json: bool = False,
           file_kept: bool = True) -> dict[str, Any]:
    """Measure ``names`` on ``ensemble`` and print them (table or JSON); returns the JSON object."""
    from qlat.analysis.statistics import ensemble_estimates
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
    if as_json:
        print_json(result)
    else:
        rows = [
            [name, str(est), "-" if est.tau_int is None else f"{est.tau_int:.2f}({est.tau_int_error:.2f})",
             est.n_samples]
            for name, est in estimates.items()
        ]
        info = result["ensemble"]
        where = f"{info['file']}: " if file_kept else ""
        sys.stdout.write(
            f"{where}{info['theory']['name']} {info['theory']}, {info['sampler']['name']}, "
            f"{info['chains']} chains × {info['n_samples']} samples (skip {skip})\n"
        )
        sys.stdout.write(format_table(["observable", "value(error)", "tau_int", "samples"], rows) + "\n")
    return result


def cmd_measure(args: argparse.Namespace) -> int:
    from qlat.cli.sample import default_observables
    from qlat.core.ensemble import Ensemble

    require(args.S > 0, "--S", "must be a number > 0", args.S)
    require(args.skip >= 0, "--skip", "must be an integer >= 0", args.skip)
    with Ensemble.open(args.file, mode="r") as ensemble:
        from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN

        require(ensemble.n_samples - args.skip >= MIN_SAMPLES_PER_CHAIN, "--skip",
                f"must leave at least {MIN_SAMPLES_PER_CHAIN} samples per chain "
                f"(the ensemble has {ensemble.n_samples})", args.skip)
        names = args.obs if args.obs else [*default_observables(ensemble.theory_params), "acceptance"]
        report(ensemble, names, skip=args.skip, S=args.S, as_json=args.json)
    return 0
