"""``qlat schwinger spectrum|theta-pi|theta-dependence|string-tension``: the Hamiltonian studies of issue 23.

Each command parses its flags, asks the study for its plan (which validates every parameter, so
bad input fails with exit 2 before anything is created), then runs it with the finished chains
of ``--out/points.jsonl`` reused, and writes ``<study>.txt`` (the table it prints), ``<study>.json``
and ``<study>.png`` into ``--out``.  The physics is in :mod:`qlat.analysis.spectrum`,
:mod:`qlat.analysis.theta_pi`, :mod:`qlat.analysis.theta_dependence` and
:mod:`qlat.analysis.string_tension`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qlat.cli._common import add_out_flag, add_progress_flag, ensure_output_dir, info, show_progress, with_flag_names

#: Library parameter → command-line flag (errors name what the user typed).
FLAGS = {
    "masses": "--masses", "spacings": "--spacings", "volumes": "--volumes", "n_sites": "--sites",
    "levels": "--levels", "dmrg_levels": "--dmrg-levels", "method": "--method", "bond_dim": "--bond-dim",
    "spacing_degree": "--spacing-degree", "thetas": "--thetas", "charges": "--charges", "length": "--length",
    "separations": "--separations", "volumes/n_sites": "--volumes/--sites", "reference_bond_dim": "--bond-dim",
    "scan_masses": "--scan-masses", "min_volume": "--min-volume", "continuum": "--continuum",
}

#: The commands: name → (help, study function path, output stem).
STUDIES = {
    "spectrum": ("vector and scalar masses: levels with quantum numbers, L → ∞ and a → 0 (table, JSON, plot)",
                 "qlat.analysis.spectrum:spectrum_study"),
    "theta-pi": ("the θ = π critical mass (m/g)_c by finite-size scaling on mirror-symmetric chains",
                 "qlat.analysis.theta_pi:theta_pi_study"),
    "theta-dependence": ("continuum ℰ(θ) − ℰ(0), χ_t and ⟨E⟩ from DMRG chains vs mass perturbation theory",
                         "qlat.analysis.theta_dependence:theta_dependence_study"),
    "string-tension": ("probe charges ±q: the string tension σ(q, θ) in the continuum vs the small-m formula",
                       "qlat.analysis.string_tension:string_tension_study"),
}


def _common(p: argparse.ArgumentParser, *, out: str, method_help: str) -> None:
    p.add_argument("--method", default="auto", help=method_help)
    p.add_argument("--bond-dim", type=int, default=48,
                   help="DMRG bond dimension χ (default 48); every DMRG chain is also solved at χ/2 and the "
                        "difference, extrapolated in the discarded weight, is the truncation systematic")
    p.add_argument("--spacing-degree", type=int, default=None, help="non-constant terms of the continuum "
                   "extrapolation: the degree of its polynomial in a (theta-dependence: in a² or in a, whichever "
                   "leaves the smaller residuals) (default: the study's)")
    add_out_flag(p, "the table, JSON and plot; finished chains are kept in points.jsonl there and not "
                 "recomputed when the command is rerun", default=out)
    p.add_argument("--dry-run", action="store_true", help="print the chains the study would compute and stop")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    add_progress_flag(p)


def register(actions: Any) -> None:
    """Add the four study commands to ``qlat schwinger``'s sub-parsers."""
    method = "auto (ED for short chains, DMRG beyond; default), ed or dmrg"
    p = actions.add_parser("spectrum", help=STUDIES["spectrum"][0])
    p.add_argument("--masses", type=float, nargs="+", default=[0.0], help="fermion masses m/g (default 0)")
    p.add_argument("--spacings", type=float, nargs="+", default=[0.5, 0.4, 1 / 3, 0.25, 0.2],
                   help="lattice spacings a g (default 0.5 0.4 1/3 0.25 0.2)")
    p.add_argument("--volumes", type=float, nargs="+", default=None,
                   help="physical lengths L g (N = nearest even L/a; default 7 9 11)")
    p.add_argument("--sites", type=int, nargs="+", default=None,
                   help="chain lengths N at every spacing, instead of --volumes")
    p.add_argument("--levels", type=int, default=6, help="levels per ED chain (default 6: the scalar at m = 0)")
    p.add_argument("--dmrg-levels", type=int, default=2, help="levels per DMRG chain (default 2: vacuum and vector)")
    p.add_argument("--continuum", choices=["polynomial", "model-average"], default="polynomial",
                   help="a → 0: one polynomial of --spacing-degree (default), or an Akaike-weighted average of "
                        "degrees 1-3 on all spacings and without the coarsest")
    _common(p, out="spectrum-output", method_help=method)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_study), study="spectrum")

    p = actions.add_parser("theta-pi", help=STUDIES["theta-pi"][0])
    p.add_argument("--masses", type=float, nargs="+", default=[0.30, 0.32, 0.34, 0.36, 0.38],
                   help="mass grid m/g around the critical point (default 0.30 … 0.38)")
    p.add_argument("--spacings", type=float, nargs="+", default=[0.5, 0.4, 1 / 3], help="lattice spacings a g")
    p.add_argument("--volumes", type=float, nargs="+", default=[15.0, 20.0, 30.0],
                   help="physical lengths L g (N = nearest odd L/a; default 15 20 30)")
    p.add_argument("--min-volume", type=float, default=15.0,
                   help="only chain pairs with (L1 L2)^(1/2) >= this enter the estimate (default 15; "
                        "all pairs give a finite-size variant)")
    p.add_argument("--scan-masses", type=float, nargs="+", default=[],
                   help="extra masses on the coarsest spacing's chains, for the curves vs m/g (not in the fit)")
    _common(p, out="theta-pi-output", method_help=method)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_study), study="theta-pi")

    p = actions.add_parser("theta-dependence", help=STUDIES["theta-dependence"][0])
    p.add_argument("--masses", type=float, nargs="+", default=[0.1, 2.0], help="fermion masses m/g (default 0.1 2)")
    p.add_argument("--thetas", type=float, nargs="+", default=[0.4, 0.8, 1.6, 2.4],
                   help="θ in radians, in (0, π) (default 0.4 0.8 1.6 2.4; θ = 0 is added)")
    p.add_argument("--spacings", type=float, nargs="+", default=[0.5, 0.4, 1 / 3, 0.25, 0.2], help="lattice spacings")
    p.add_argument("--volumes", type=float, nargs="+", default=[8.0, 12.0],
                   help="lengths L1 < L2 (< L3: finite-volume variant) of the bulk difference (default 8 12)")
    _common(p, out="theta-dependence-output", method_help=method)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_study), study="theta-dependence")

    p = actions.add_parser("string-tension", help=STUDIES["string-tension"][0])
    p.add_argument("--masses", type=float, nargs="+", default=[0.1], help="fermion masses m/g (default 0.1)")
    p.add_argument("--charges", type=float, nargs="+", default=[0.5], help="probe charges q/g, 0 < |q| <= 1/2")
    p.add_argument("--thetas", type=float, nargs="+", default=[0.0], help="θ in radians (default 0)")
    p.add_argument("--spacings", type=float, nargs="+", default=[0.5, 0.4, 1 / 3, 0.25], help="lattice spacings")
    p.add_argument("--length", type=float, default=32.0, help="chain length L g (default 32)")
    p.add_argument("--separations", type=float, nargs="+", default=[8.0, 10.0, 12.0, 14.0],
                   help="probe separations ℓ g (default 8 10 12 14)")
    _common(p, out="string-tension-output", method_help=method)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_study), study="string-tension")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {"masses": args.masses, "spacings": args.spacings, "method": args.method,
                            "bond_dim": args.bond_dim}
    if args.spacing_degree is not None:
        opts["spacing_degree"] = args.spacing_degree
    if args.study == "spectrum":
        if args.sites is not None:
            opts.update(volumes=None, n_sites=args.sites)
        elif args.volumes is not None:
            opts["volumes"] = args.volumes
        opts.update(levels=args.levels, dmrg_levels=args.dmrg_levels, continuum=args.continuum.replace("-", "_"))
    elif args.study == "theta-pi":
        opts.update(volumes=args.volumes, scan_masses=args.scan_masses, min_volume=args.min_volume)
    elif args.study == "theta-dependence":
        opts.update(thetas=args.thetas, volumes=args.volumes)
    else:
        opts.update(charges=args.charges, thetas=args.thetas, length=args.length, separations=args.separations)
    return opts


def cmd_study(args: argparse.Namespace) -> int:
    import importlib

    from qlat.core.errors import require

    require(args.bond_dim >= 4, "--bond-dim", "must be an integer >= 4 (the truncation check runs at half of it)",
            args.bond_dim)
    if args.spacing_degree is not None:
        require(0 <= args.spacing_degree <= 4, "--spacing-degree", "must be an integer in [0, 4]", args.spacing_degree)
    module_name, fn_name = STUDIES[args.study][1].split(":")
    study = getattr(importlib.import_module(module_name), fn_name)
    opts = _options(args)
    plan = study(**opts, plan_only=True)  # validates every parameter; creates nothing
    if args.dry_run:
        from qlat.cli._common import print_json

        print_json({"study": args.study, "chains": plan, "count": len(plan)})
        return 0
    from qlat.cli._common import check_out_folder

    check_out_folder(args.out)
    ensure_output_dir(args.out, "--out")
    from qlat.analysis.study_cache import RowCache
    from qlat.core.files import atomic_write_bytes
    from qlat.core.jsonio import dumps

    cache = RowCache(args.out / "points.jsonl")
    if len(cache):
        info(f"{len(cache)} chains already in {cache.path}: not recomputed")
    shown = show_progress(args)
    done = [0]

    def progress(row: dict[str, Any]) -> None:
        done[0] += 1
        if shown:
            what = ", ".join(f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                             for k in ("mass", "spacing", "n_sites", "theta", "q") if k in row)
            sys.stderr.write(f"qlat: [{done[0]}/{len(plan)}] {what} ({row['method']}, {row['seconds']:.1f} s)\n")

    result = study(**opts, cache=cache, progress=progress)
    stem = args.study.replace("-", "_")
    table = result.table()
    atomic_write_bytes(args.out / f"{stem}.txt", (table + "\n").encode())
    atomic_write_bytes(args.out / f"{stem}.json", (dumps(result.to_dict(), indent=2) + "\n").encode())
    result.plot(args.out / f"{stem}.png")
    if args.json:
        print(dumps(result.to_dict(), indent=2))
    else:
        print(table)
        print(f"\nwrote {args.out / (stem + '.txt')}, {stem}.json, {stem}.png")
    return 0
