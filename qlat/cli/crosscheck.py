"""``qlat crosscheck heavy-mass|light-mass``: classical and quantum estimates of the same Schwinger observables.

Runs every column (heavy-mass: analytic, exact lattice character expansion, pure-gauge Monte
Carlo at fixed physical volume, exact diagonalization of the Hamiltonian; light-mass: analytic,
the Hamiltonian by DMRG, N_f = 1 Monte Carlo), prints one table with z-scores against the
reference column (analytic; the Hamiltonian for light-mass) and writes
``crosscheck_<kind>.csv``, ``.json`` and ``.png`` to ``--out``.  Units: g = 1.  The physics is
in :mod:`qlat.analysis.schwinger_crosscheck` and :mod:`qlat.analysis.light_mass_crosscheck`.
``--json`` prints one JSON object: ``table`` (estimates by column and the comparisons with
their z), ``points`` (every lattice/spacing point), ``fits``, ``preset``, ``files``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Position in ``qlat --help``.
HELP_ORDER = 45
#: One line in ``qlat --help``.
HELP = "classical (Monte Carlo) vs quantum (ED) Schwinger-model observables in one table"

KINDS = ("heavy-mass", "light-mass")


def register(subparsers: Any) -> None:
    from qlat.cli._common import add_out_flag, add_progress_flag, add_seed_flag, with_flag_names

    p = subparsers.add_parser(
        "crosscheck", help=HELP,
        description="Cross-check of the Schwinger model: heavy-mass = pure-gauge U(1) Monte Carlo chi_t/g^2 and "
        "E(theta) - E(0) at fixed physical volume, continuum-extrapolated, vs exact diagonalization of the "
        "electric Hamiltonian at large m, vs the analytic values g^2/(4 pi^2) and (g^2/2)(theta/2pi)^2; "
        "light-mass = N_f = 1 Wilson-fermion Monte Carlo (exact-determinant reweighting, bare mass tuned by the PCAC "
        "mass, finite volume corrected) vs DMRG of the electric Hamiltonian at m/g = 0.1, vs m Sigma and second-order "
        "mass perturbation theory; the notes say what difference the preset can resolve.")
    p.add_argument("kind", choices=KINDS, help="which cross-check")
    p.add_argument("--preset", choices=("quick", "full", "long"), default="quick",
                   help="quick (a few minutes on 2 cores), full (the recorded run) or, for light-mass only, long "
                   "(~25 CPU min: 600 samples per chain, a second finite-volume beta; the run whose Monte Carlo "
                   "error is below 15 %%)")
    add_out_flag(p, "crosscheck_<kind>.csv, .json and .png", default="crosscheck")
    add_seed_flag(p, "the Monte Carlo chains")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_progress_flag(p)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.set_defaults(func=with_flag_names({"preset": "--preset", "seed": "--seed", "threads": "--threads"})(cmd))


def cmd(args: argparse.Namespace) -> int:
    import json
    import os
    import sys
    import tempfile

    from qlat.cli._common import ensure_output_dir, jsonable, print_json, resolve_seed, show_progress
    from qlat.core.errors import require

    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    require(args.threads >= 1, "--threads", "must be an integer >= 1", args.threads)
    require(args.preset != "long" or args.kind == "light-mass", "--preset",
            "long is a light-mass preset (heavy-mass: quick or full)", args.preset)
    ensure_output_dir(args.out, "--out")
    resolve_seed(args)
    from qlat.core.compute import set_threads

    set_threads(args.threads)
    from qlat.analysis.light_mass_crosscheck import light_mass
    from qlat.analysis.schwinger_crosscheck import heavy_mass

    runs: dict[str, Callable[..., Any]] = {"heavy-mass": heavy_mass, "light-mass": light_mass}
    result = runs[args.kind](args.preset, seed=args.seed, progress=show_progress(args))
    stem = f"crosscheck_{args.kind.replace('-', '_')}"
    out = Path(args.out)
    files = {"csv": str(out / f"{stem}.csv"), "json": str(out / f"{stem}.json"), "plot": str(out / f"{stem}.png")}
    payload = {**result.to_dict(), "files": files, "seed": args.seed, "command": f"qlat crosscheck {args.kind} --preset {args.preset} "
               f"--seed {args.seed}"}
    from qlat.core.files import atomic_write_bytes

    atomic_write_bytes(out / f"{stem}.csv", result.csv_text().encode("utf-8"))
    atomic_write_bytes(out / f"{stem}.json", (json.dumps(jsonable(payload), indent=2) + "\n").encode("utf-8"))
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{stem}.", suffix=".png")
    os.close(fd)
    try:
        result.plot(tmp)
        os.replace(tmp, out / f"{stem}.png")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if args.json:
        print_json(payload)
    else:
        sys.stdout.write(f"qlat crosscheck {args.kind} ({args.preset}); units g = 1; z against "
                         f"'{result.crosscheck.reference}' with statistical and systematic errors combined\n")
        sys.stdout.write(result.table() + "\n")
        for label, row in result.crosscheck.entries.items():
            for name, est in row.items():
                sources = est.provenance.get("systematic_sources") or {}
                if sources:
                    listed = ", ".join(f"{k} {v:.2g}" for k, v in sources.items())
                    sys.stdout.write(f"systematic of {label} {name}: {listed}\n")
        for note in result.notes:
            sys.stdout.write(f"note: {note}\n")
        sys.stdout.write(f"wrote {files['csv']}, {files['json']}, {files['plot']}\n")
    return 0
