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

import argparse
from pathlib import Path
from typing import Any

from qlat.core.errors import require

#: Position in ``qlat --help``.
HELP_ORDER = 50
HELP = "measure observables on a stored ensemble (Γ-method errors)"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "measure",
        help=HELP,
        description="Measure observables on a stored, checksum-verified ensemble with Γ-method errors "
        "(--skip drops the first samples of every chain).",
    )
    p.add_argument("file", type=Path, metavar="FILE",
                   help="ensemble file written by qlat sample (DIR/ensemble.h5 of its --out DIR)")
    p.add_argument("--obs", nargs="+", default=None, metavar="NAME",
                   help="observables (default: the theory's defaults); e.g. plaquette q2 chi_t")
    p.add_argument("--skip", type=int, default=0, help="samples dropped at the start of every chain (>= 0)")
    p.add_argument("--S", type=float, default=2.0, help="Γ-method windowing parameter S (> 0, default 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_measure)


def cmd_measure(args: argparse.Namespace) -> int:
    from qlat.cli._common import with_flag_names

    # the library names the file "path" and an unknown name "observable": say what the user typed
    return int(with_flag_names({"path": "FILE", "observable": "--obs", "skip": "--skip", "S": "--S"})(_measure)(args))


def _measure(args: argparse.Namespace) -> int:
    import math

    from qlat.cli._report import report
    from qlat.core.ensemble import Ensemble
    from qlat.samplers.stored import stored_theory

    require(math.isfinite(args.S) and args.S > 0, "--S", "must be a number > 0", args.S)
    require(args.skip >= 0, "--skip", "must be an integer >= 0", args.skip)
    require(not args.file.is_dir(), "FILE", "is a folder, not an ensemble file (give the .h5 file qlat sample "
            "wrote)", str(args.file))
    with Ensemble.open(args.file, mode="r") as ensemble:
        from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN

        require(ensemble.n_samples - args.skip >= MIN_SAMPLES_PER_CHAIN, "--skip",
                f"must leave at least {MIN_SAMPLES_PER_CHAIN} samples per chain "
                f"(the ensemble has {ensemble.n_samples})", args.skip)
        names = args.obs if args.obs else [*stored_theory(ensemble).default_observables(), "acceptance"]
        report(ensemble, names, skip=args.skip, S=args.S, as_json=args.json)
    return 0
