"""``qlat schwinger scan``: θ scan (and N, a) with table, JSON and plot vs exact and analytic curves.

Parses, asks :func:`qlat.analysis.scan.plan_theta_scan` for the plan (every parameter checked before
``--out`` is claimed), runs it with :func:`~qlat.analysis.scan.run_theta_scan` (finished lattices reused
from ``--out/scan-points.jsonl``) and prints the result's ``.table()``, warnings and ``.notes()``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qlat.cli._schwinger_flags import FLAGS, NAMES, check_model_flags, evolution_arguments, model_arguments
from qlat.core.errors import ParameterError

#: Scan parameters stored in the folder's manifest and the flags that set them.
SCAN_FLAGS = {"points": "--sites/--spacing/--thetas/--mass/… (the lattices)", "continuum": "--continuum",
              "continuum_method": "--continuum-method"}
#: Parameters of :func:`qlat.analysis.scan.plan_theta_scan` whose flags are not in FLAGS.
SCAN_PARAMETER_FLAGS = {"thetas": "--thetas", "bond_dim": "--bond-dim", "continuum_method": "--continuum-method",
                        "continuum_sites": "--continuum-sites"}


def register(actions: Any) -> None:
    """Add ``scan`` to ``qlat schwinger``'s sub-parsers."""
    from qlat.cli._common import add_out_flag, add_progress_flag, with_flag_names

    p = actions.add_parser("scan", help="θ scan (and N, a) with table and plot vs exact and analytic curves")
    model_arguments(p, multi=True)
    p.add_argument("--thetas", type=float, nargs="+", default=None,
                   help="θ values in radians (default: 9 points in [0, π])")
    p.add_argument("--exact-only", action="store_true",
                   help="only ground-state (ED, or --backend dmrg) and analytic curves, no simulation")
    p.add_argument("--continuum", action="store_true",
                   help="also run the continuum extrapolation of the massless condensate (ED, or DMRG: "
                        "--continuum-method)")
    p.add_argument("--continuum-sites", type=int, nargs="+", default=[12, 14, 16, 18, 20],
                   help="chain lengths of the continuum extrapolation")
    p.add_argument("--continuum-volumes", type=float, nargs="+", default=None,
                   help="physical volumes L = Na of the continuum extrapolation (a → 0 at each; default "
                        "5 6 7 8 for ed, 20 24 for dmrg)")
    p.add_argument("--continuum-method", default=None,
                   help="ed (chains of --continuum-sites, N <= 24; the default) or dmrg (chains up to N ~ 150 "
                        "at the --continuum-spacings, bond dimension --bond-dim; the default with --backend dmrg)")
    p.add_argument("--continuum-spacings", type=float, nargs="+", default=[0.4, 1 / 3, 0.25, 0.2, 1 / 6],
                   help="dmrg: lattice spacings of the continuum extrapolation at every volume "
                        "(default 0.4 1/3 0.25 0.2 1/6)")
    add_out_flag(p, "table, JSON and plot; finished lattices are kept in scan-points.jsonl there and not "
                 "recomputed when the scan is rerun", default="scan-output")
    p.add_argument("--workers", type=int, default=None,
                   help="run the lattices as Dask tasks on a local cluster of this many processes")
    p.add_argument("--scheduler", default=None, help="run them on an existing Dask scheduler (tcp://host:port)")
    p.add_argument("--cluster", default=None, help="run them on a batch system through dask-jobqueue: slurm or pbs")
    p.add_argument("--cluster-config", type=Path, default=None,
                   help="JSON of dask-jobqueue cluster arguments (queue, account, walltime, n_workers …)")
    evolution_arguments(p, ground_state=True)
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_scan))


def cmd_scan(args: argparse.Namespace) -> int:
    from qlat.cli._common import check_out_folder
    from qlat.core.backend import is_ground_state_method

    args.layout = args.layout or "all-to-all"
    check_model_flags(args)
    check_out_folder(args.out)
    # A ground-state method as --backend (ed, dmrg): no simulation, every value from that method.
    ground = "ed"
    if args.backend in ("ed", "dmrg") and is_ground_state_method(args.backend):
        ground = args.backend
        args.exact_only = True
    elif not args.exact_only:
        from qlat.quantum.simulators import check_simulation

        check_simulation(args.backend, total_time=args.time, dt=args.dt, initial_mass=args.initial_mass,
                         shots=args.shots, seed=args.seed, noise=args.noise, bond_dim=args.bond_dim, names=NAMES)
    simulate = None
    if not args.exact_only:
        from qlat.analysis.scan import stored_scan_seed
        from qlat.cli._common import resolve_seed
        from qlat.quantum.simulators import samples_shots

        if samples_shots(args.backend, args.shots):  # a shot scan records its seed (resumed: the stored one)
            resolve_seed(args, stored=stored_scan_seed(args.out), announce=False)
        overrides = {k: v for k, v in (("total_time", args.time), ("dt", args.dt), ("ramp", args.ramp),
                                       ("initial_mass", args.initial_mass)) if v is not None}
        simulate = {"backend": args.backend, "shots": args.shots, "seed": args.seed, "noise": args.noise,
                    "order": args.order, "layout": args.layout, "schedule": overrides,
                    "max_bond_dimension": args.bond_dim}
    from qlat.analysis.scan import plan_theta_scan

    try:
        plan = plan_theta_scan(
            n_sites=args.sites, spacing=args.spacing, thetas=args.thetas, mass=args.mass, coupling=args.coupling,
            formulation=args.formulation, mass_shift=args.mass_shift, ground=ground, simulate=simulate,
            bond_dim=args.bond_dim, continuum=args.continuum, continuum_method=args.continuum_method,
            continuum_sites=args.continuum_sites, volumes=args.continuum_volumes, spacings=args.continuum_spacings)
    except ParameterError as exc:
        raise exc.renamed(SCAN_PARAMETER_FLAGS.get(exc.parameter, exc.parameter)) from None
    from qlat.analysis.distributed import check_distribution, distribution_client
    from qlat.core.outdir import claim_output_dir

    cluster = check_distribution(workers=args.workers, scheduler=args.scheduler, cluster=args.cluster,
                                 cluster_config=args.cluster_config, names=NAMES)
    # an unreachable scheduler is refused before --out exists
    with distribution_client(workers=args.workers, scheduler=args.scheduler, cluster=cluster) as client:
        claim = claim_output_dir(args.out, command="qlat schwinger scan", flag="--out", names=SCAN_FLAGS,
                                 params={"points": plan.points, "continuum": bool(args.continuum),
                                         "continuum_method": plan.continuum["method"] if plan.continuum else None})
        try:
            from qlat.cli._common import announce_seed

            announce_seed(args)
            return _run_scan(args, plan, client)
        finally:
            claim.release()


def _run_scan(args: argparse.Namespace, plan: Any, client: Any) -> int:
    from qlat.analysis.scan import run_theta_scan
    from qlat.cli._common import print_json, show_progress

    scan = run_theta_scan(plan.points, log_path=args.out / "scan-points.jsonl", client=client,
                          simulated=plan.simulated, backend=plan.backend, continuum=plan.continuum,
                          command="qlat schwinger scan", progress=show_progress(args),
                          message=sys.stderr.write if show_progress(args) else None,
                          notice=None if args.json else sys.stderr.write)
    result = scan.to_dict()
    files = scan.write(args.out, json_payload=result)
    if args.json:
        print_json(result)
        return 0
    print(scan.table())
    from qlat.core.errors import warn

    for message in scan.warnings():
        warn(message)
    print(scan.notes())
    print(f"wrote {files['json']}, {files['csv']}, {files['plot']}")
    return 0
