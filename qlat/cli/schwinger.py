"""``qlat schwinger exact|adiabatic|scan``: the Schwinger model on qubits from the command line.

Each command parses, calls one library function of :mod:`qlat.analysis.schwinger_points` (the scan:
:mod:`qlat.cli._schwinger_scan`) and prints its result's ``.table()`` or ``.to_dict()``.

θ in radians; m, a and all outputs in units of g (``--coupling`` g = 1 by default).
``--json`` prints one JSON object with ``energy`` (⟨H⟩ of docs/conventions.md's H, constant included),
``condensate`` (unsubtracted (1/(2aN)) Σ(−1)^n⟨Z_n⟩), ``condensate_subtracted``, ``fidelity``
(when known), ``params`` and ``backend``; every number as ``{"value":…, "error":…, …}``.
"""

from __future__ import annotations

import argparse
from typing import Any

from qlat.cli._common import print_json, with_flag_names
from qlat.cli._schwinger_flags import (
    FLAGS,
    NAMES,
    check_model_flags,
    evolution_arguments,
    model_arguments,
    model_options,
)
from qlat.core.errors import require

#: Position in ``qlat --help``.
HELP_ORDER = 10
HELP = "the lattice Schwinger model on qubits"
THETA_HELP = ("vacuum angle θ in radians (default 0; |θ| > 2π warns: on the open chain the electric form is not "
              "2π-periodic)")


def _device_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mitigation", default=None,
                   help="device runs: mitigation names joined by '+': trex, zne, dd, twirling, postselect "
                        "(Gauss-law total-charge post-selection of Sampler bit strings), readout")
    p.add_argument("--dry-run", action="store_true",
                   help="device runs: compile and print the report (2q gates, depth, expected success, shots, "
                        "time) without submitting")
    p.add_argument("--mode", default="job", help="device runs: job (default), batch or session")
    p.add_argument("--primitive", default="executor",
                   help="device runs: executor (the runtime's recommended primitives, default) or v2 (legacy)")
    p.add_argument("--no-wait", action="store_true",
                   help="device runs: return after submission (the job id is in the job store; see qlat jobs)")
    p.add_argument("--budget", type=int, default=None,
                   help="device runs, adiabatic preparation: the most two-qubit gates the circuit may have; the "
                        "schedule (steps, T, ramp, m0) of highest ground-state fidelity within it is chosen "
                        "(qlat.quantum.schedules; searched on the chain, or on N = 14 for longer chains)")
    p.add_argument("--preparation", choices=("adiabatic", "sc-vqe"), default="adiabatic",
                   help="device runs: adiabatic (the Trotterized ramp, default) or sc-vqe (SC-ADAPT-VQE, "
                        "arXiv:2308.04481: trained exactly on chains of 6-12 sites, parameters extrapolated to "
                        "--sites; shallow enough for 100+ qubits; needed by --mitigation odr)")


def register(subparsers: Any) -> None:
    from qlat.cli._common import add_out_flag, add_progress_flag

    parser = subparsers.add_parser("schwinger", help=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    p = actions.add_parser("exact", help="ground state by exact diagonalization or DMRG (zero-charge sector)")
    model_arguments(p)
    p.add_argument("--method", default="ed",
                   help="ed (exact diagonalization, N <= 24; default) or dmrg (tensor network, long chains)")
    p.add_argument("--bond-dim", type=int, default=None,
                   help="dmrg: maximal MPS bond dimension (default 64); the truncation error (the runs at half "
                        "of it and at it, extrapolated in the discarded weight) is the systematic error")
    p.add_argument("--theta", type=float, default=0.0, help=THETA_HELP)
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_exact))

    p = actions.add_parser("adiabatic", help="adiabatic state preparation on a simulator, checked against ED")
    model_arguments(p)
    p.add_argument("--theta", type=float, default=0.0, help=THETA_HELP)
    evolution_arguments(p, device=True)
    _device_arguments(p)
    add_out_flag(p, "adiabatic.json, the result as --json prints it (default: nothing written)")
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_adiabatic))

    from qlat.cli import _schwinger_scan, _schwinger_studies  # scan; spectrum, theta-pi, … (issue 23)

    _schwinger_scan.register(actions)
    _schwinger_studies.register(actions)


def _print(args: argparse.Namespace, point: Any) -> int:
    """The result as one JSON object (--json) or its table."""
    if args.json:
        print_json(point.to_dict())
    else:
        print(point.table())
    return 0


# --- exact -------------------------------------------------------------------------------------
def cmd_exact(args: argparse.Namespace) -> int:
    check_model_flags(args)  # the flags are checked before the heavy imports (issue 12: start-up)
    from qlat.analysis.schwinger_points import check_ground_state_request, ground_state_point, qubit_model
    from qlat.cli._common import show_progress

    model = qubit_model(**model_options(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta))
    options = check_ground_state_request(model, method=args.method, bond_dim=args.bond_dim,
                                         names={"method": "--method", "bond_dim": "--bond-dim", "n_sites": "--sites"})
    if args.method != "ed":
        options["progress"] = show_progress(args)
    return _print(args, ground_state_point(model, method=args.method, **options))


# --- adiabatic ---------------------------------------------------------------------------------
def _cmd_device(args: argparse.Namespace) -> int:
    """``--backend fake:<device>|ibm:<device>``: compile, dry-run or submit, store, collect."""
    from qlat.analysis.schwinger_points import check_device_run, device_point, qubit_model

    check_device_run(args.backend, n_sites=args.sites, preparation=args.preparation, budget=args.budget,
                     total_time=args.time, dt=args.dt, ramp=args.ramp, initial_mass=args.initial_mass,
                     shots=args.shots, noise=args.noise, names=NAMES)
    model = qubit_model(**model_options(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta))
    layout = {"line": "line", "all-to-all": "default", None: "auto"}[args.layout]
    return _print(args, device_point(
        model, backend=args.backend, preparation=args.preparation, budget=args.budget, total_time=args.time,
        dt=args.dt, ramp=args.ramp, initial_mass=args.initial_mass, shots=args.shots or 4096,
        mitigation=args.mitigation, seed=args.seed, order=args.order, layout=layout, mode=args.mode,
        primitive=args.primitive, dry_run=args.dry_run, wait=not args.no_wait, announce=None if args.json else print))


def cmd_adiabatic(args: argparse.Namespace) -> int:
    check_model_flags(args)
    if ":" in str(args.backend):
        require(args.bond_dim is None, "--bond-dim", "applies to the MPS simulators (mps, tdvp), not to devices",
                args.bond_dim)
        return _cmd_device(args)
    args.layout = args.layout or "all-to-all"
    for flag, given in (("--mitigation", args.mitigation is not None), ("--dry-run", args.dry_run),
                        ("--no-wait", args.no_wait), ("--mode", args.mode != "job"),
                        ("--primitive", args.primitive != "executor"),
                        ("--preparation", args.preparation != "adiabatic"), ("--budget", args.budget is not None)):
        require(not given, flag, "applies to device backends (fake:<device>, ibm:<device>) only")
    from qlat.analysis.schwinger_points import adiabatic_request, qubit_model
    from qlat.cli._common import announce_seed, check_out_folder, resolve_seed, show_progress, write_json_result

    model = qubit_model(**model_options(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta))
    request = adiabatic_request(model, backend=args.backend, total_time=args.time, dt=args.dt, ramp=args.ramp,
                                initial_mass=args.initial_mass, shots=args.shots, seed=args.seed, noise=args.noise,
                                order=args.order, layout=args.layout, bond_dim=args.bond_dim, names=NAMES)
    if args.out is not None:
        check_out_folder(args.out, parent=True)
    if request.samples_shots:
        resolve_seed(args, announce=False)  # a shot run always records its seed (printed once the run is done)
    point = request.run(seed=args.seed, progress=show_progress(args))
    announce_seed(args)
    if args.out is not None:
        write_json_result(args.out, "adiabatic.json", point.to_dict())
    return _print(args, point)
