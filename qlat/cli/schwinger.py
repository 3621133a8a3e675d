"""``qlat schwinger exact|adiabatic|scan``: the Schwinger model on qubits from the command line.

θ in radians; m, a and all outputs in units of g (``--coupling`` g = 1 by default).
``--json`` prints one JSON object with ``energy`` (⟨H⟩ of docs/conventions.md's H, constant included),
``condensate`` (unsubtracted (1/(2aN)) Σ(−1)^n⟨Z_n⟩), ``condensate_subtracted``, ``fidelity``
(when known), ``params`` and ``backend``; every number as ``{"value":…, "error":…, …}``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from qlat.cli._common import LazyHelp, print_json, with_flag_names
from qlat.core.errors import ParameterError, require

#: Library parameter → command-line flag, for one-line errors that name what the user typed.
FLAGS = {"cluster": "--cluster", "cluster_config": "--cluster-config", "spacings": "--continuum-spacings", "volumes": "--continuum-volumes", "mitigation": "--mitigation", "mode": "--mode", "preparation": "--preparation", "budget": "--budget", "primitive": "--primitive", "n_sites": "--sites", "spacing": "--spacing", "mass": "--mass", "theta": "--theta",
         "coupling": "--coupling", "formulation": "--formulation", "total_time": "--time", "dt": "--dt",
         "ramp": "--ramp", "initial_mass": "--initial-mass", "shots": "--shots", "seed": "--seed",
         "noise": "--noise", "backend": "--backend", "order": "--order", "layout": "--layout", "out": "--out",
         "scheduler": "--scheduler", "workers": "--workers"}


def _model_arguments(p: argparse.ArgumentParser, *, multi: bool = False) -> None:
    nargs = "+" if multi else None
    p.add_argument("--sites", type=int, default=[8] if multi else 8, nargs=nargs,
                   help="number of staggered sites N = qubits (even, >= 2; default 8)")
    p.add_argument("--spacing", type=float, default=[0.5] if multi else 0.5, nargs=nargs,
                   help="lattice spacing a in units of 1/g (> 0; default 0.5)")
    p.add_argument("--mass", type=float, default=0.1, help="fermion mass m in units of g (default 0.1)")
    p.add_argument("--coupling", type=float, default=1.0, help="gauge coupling g (> 0; default 1)")
    p.add_argument("--formulation", choices=("rotated", "electric"), default="rotated",
                   help="θ in the mass (rotated, arXiv:2001.00485; default) or as background field (electric, "
                        "arXiv:2105.03276); see docs/conventions.md")
    p.add_argument("--mass-shift", action="store_true", help="use m_lat = m - g^2 a/8 (Dempsey et al.)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _device_default(text: str, part: str, device: bool) -> str | LazyHelp:
    """``text`` plus, for commands that run devices, the device schedule's value of ``part`` (lazy)."""
    if not device:
        return text

    def build() -> str:
        from qlat.quantum.ibm.backend import hardware_schedule

        sched = hardware_schedule()
        value = {"time": f"{sched.total_time:g}", "dt": f"{sched.dt:g} ({sched.n_steps} Trotter steps at the "
                 "default T)", "ramp": sched.ramp, "initial_mass": f"{sched.initial_mass:g}"}[part]
        return f"{text}; device runs (fake:/ibm:): default {value}, the short hardware schedule"

    return LazyHelp(build)


def _evolution_arguments(p: argparse.ArgumentParser, *, ground_state: bool = False, device: bool = False) -> None:
    p.add_argument("--time", type=float, default=None, help=_device_default(
        "total adiabatic time T in units of 1/g (> 0; default 60, qlat's default_schedule)", "time", device))
    p.add_argument("--dt", type=float, default=None, help=_device_default(
        "Trotter step in units of 1/g (0 < dt <= T, must divide T; default 0.05, --backend tdvp 0.5; with "
        "--time alone the default shortened to divide T)", "dt", device))
    p.add_argument("--order", type=int, choices=(1, 2), default=2, help="Trotter order: 1 or 2 (default 2, symmetric)")
    p.add_argument("--ramp", default=None, help=_device_default(
        "schedule ramp s(t/T): linear (arXiv:2001.00485), smoothstep, sin2 or smootherstep (default smootherstep)",
        "ramp", device))
    p.add_argument("--initial-mass", type=float, default=None, help=_device_default(
        "mass m0 of the bare start at t = 0, units of g (>= 0; default 0.5)", "initial_mass", device))
    p.add_argument("--bond-dim", type=int, default=None,
                   help="MPS bond dimension: --backend tdvp (default 32) and mps (default: no cap) cap the "
                        "evolved state; --backend dmrg (scan; default 64) the ground states. tdvp and dmrg "
                        "repeat the run at half of it: the difference, extrapolated in the discarded weight, is the "
                        "systematic (truncation) error")
    p.add_argument("--layout", choices=("all-to-all", "line"), default=None,
                   help="two-qubit layout: all-to-all (default) or line (swap network); on a device the "
                        "default compiles both and keeps the one with fewer two-qubit gates")
    if ground_state:
        p.add_argument("--backend", default="statevector", help=LazyHelp(lambda: (
            f"simulator: one of {', '.join(_simulator_names())} (default statevector), or a ground-state "
            f"method: {', '.join(_ground_state_methods())} (no simulation: every value of the scan, and the "
            "--continuum extrapolation, from that method; dmrg reaches N ~ 200)")))
    else:
        p.add_argument("--backend", default="statevector", help=LazyHelp(lambda: (
            f"simulator: one of {', '.join(_simulator_names())} (default statevector), or a device: "
            "fake:<device> (local testing mode of qiskit-ibm-runtime, e.g. fake:fake_manila) or "
            "ibm:<device> (IBM hardware; credentials from QISKIT_IBM_TOKEN / saved account)")))
    p.add_argument("--shots", type=int, default=None,
                   help="shots per measurement basis (aer: default 4096; mps: default exact expectation values)")
    p.add_argument("--noise", default=None,
                   help="noise model for aer: depolarizing:P1,P2 = depolarizing probability P1 after every "
                        "one-qubit gate and P2 after every two-qubit gate (default: none)")
    p.add_argument("--seed", type=int, default=None, help="seed of the shot sampling (>= 0; default: drawn at random, "
                   "printed and recorded in the results)"
                   + ("; device runs: seeds the transpiler and the local simulator (with its twirling and folding); "
                      "when none is given one is drawn, printed and stored, and --seed with it repeats a fake run"
                      if device else ""))


#: Position in ``qlat --help``.
HELP_ORDER = 10
HELP = "the lattice Schwinger model on qubits"


def _simulator_names() -> list[str]:
    """The registered backends that run the adiabatic evolution (found in the registry)."""
    from qlat.quantum.simulators import adiabatic_simulators

    return list(adiabatic_simulators())


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
    _model_arguments(p)
    p.add_argument("--method", default="ed",
                   help="ed (exact diagonalization, N <= 24; default) or dmrg (tensor network, long chains)")
    p.add_argument("--bond-dim", type=int, default=None,
                   help="dmrg: maximal MPS bond dimension (default 64); the truncation error (the runs at half "
                        "of it and at it, extrapolated in the discarded weight) is the systematic error")
    p.add_argument("--theta", type=float, default=0.0,
                   help="vacuum angle θ in radians (default 0; |θ| > 2π warns: on the open chain the electric "
                        "form is not 2π-periodic)")
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_exact))

    p = actions.add_parser("adiabatic", help="adiabatic state preparation on a simulator, checked against ED")
    _model_arguments(p)
    p.add_argument("--theta", type=float, default=0.0,
                   help="vacuum angle θ in radians (default 0; |θ| > 2π warns: on the open chain the electric "
                        "form is not 2π-periodic)")
    _evolution_arguments(p, device=True)
    _device_arguments(p)
    add_out_flag(p, "adiabatic.json, the result as --json prints it (default: nothing written)")
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_adiabatic))

    p = actions.add_parser("scan", help="θ scan (and N, a) with table and plot vs exact and analytic curves")
    _model_arguments(p, multi=True)
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
    _evolution_arguments(p, ground_state=True)
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names(FLAGS)(cmd_scan))

    from qlat.cli import _schwinger_studies  # spectrum, theta-pi, theta-dependence, string-tension (issue 23)

    _schwinger_studies.register(actions)


# --- argument checks: one-line errors naming the command-line flag -------------------------------
def _check_common(args: argparse.Namespace) -> None:
    sites = args.sites if isinstance(args.sites, list) else [args.sites]
    spacings = args.spacing if isinstance(args.spacing, list) else [args.spacing]
    for n in sites:
        require(n >= 2 and n % 2 == 0, "--sites", "must be an even integer >= 2", n)
    for a in spacings:
        require(math.isfinite(a) and a > 0, "--spacing", "must be > 0", a)
    require(math.isfinite(args.mass), "--mass", "must be a finite number", args.mass)
    require(math.isfinite(args.coupling) and args.coupling > 0, "--coupling", "must be > 0", args.coupling)
    theta = getattr(args, "theta", None)
    if theta is not None:
        from qlat.theories.schwinger_qubit import check_theta

        check_theta(theta, "--theta")


def _check_evolution(args: argparse.Namespace) -> None:
    from qlat.quantum.simulators import check_simulation

    check_simulation(args.backend, total_time=args.time, dt=args.dt, initial_mass=args.initial_mass, shots=args.shots,
                     seed=args.seed, noise=args.noise, bond_dim=args.bond_dim,
                     names=_NAMES)


#: Library parameter → flag for the checks that name their parameters (FLAGS, plus the names it lacks).
_NAMES = {**FLAGS, "total_time": "--time", "bond_dim": "--bond-dim"}


def _model(args: argparse.Namespace, *, n_sites: int, spacing: float, theta: float):
    from qlat.theories.schwinger_qubit import SchwingerModel

    return SchwingerModel(n_sites, spacing, args.mass, theta, coupling=args.coupling,
                          formulation=args.formulation, mass_shift=args.mass_shift)


def _schedule(args: argparse.Namespace, model):
    from qlat.quantum.adiabatic import schedule_for

    return schedule_for(model, backend=getattr(args, "backend", None), total_time=args.time, dt=args.dt,
                        ramp=args.ramp, initial_mass=args.initial_mass)


# --- exact -------------------------------------------------------------------------------------
def _ground_state_methods() -> list[str]:
    from qlat.core.backend import ground_state_methods

    return ground_state_methods()


def _is_ground_state_method(name: str) -> bool:
    from qlat.core.backend import is_ground_state_method

    return is_ground_state_method(name)


def cmd_exact(args: argparse.Namespace) -> int:
    _check_common(args)  # the flags are checked before the heavy imports (issue 12: start-up)
    from qlat.analysis.schwinger_points import check_ground_state_request, ground_state_point
    from qlat.cli._common import show_progress

    model = _model(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta)
    options = check_ground_state_request(model, method=args.method, bond_dim=args.bond_dim,
                                         names={"method": "--method", "bond_dim": "--bond-dim", "n_sites": "--sites"})
    if args.method != "ed":
        options["progress"] = show_progress(args)
    point = ground_state_point(model, method=args.method, **options)
    if args.json:
        print_json(point.to_dict())
        return 0
    print(point.table())
    return 0


# --- adiabatic ---------------------------------------------------------------------------------
def _cmd_device(args: argparse.Namespace) -> int:
    """``--backend fake:<device>|ibm:<device>``: compile, dry-run or submit, store, collect."""
    from qlat.analysis.schwinger_points import check_device_run

    check_device_run(args.backend, n_sites=args.sites, preparation=args.preparation, budget=args.budget,
                     total_time=args.time, dt=args.dt, ramp=args.ramp, initial_mass=args.initial_mass,
                     shots=args.shots, noise=args.noise, names=_NAMES)
    model = _model(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta)
    from qlat.analysis.schwinger_points import device_point

    layout = {"line": "line", "all-to-all": "default", None: "auto"}[args.layout]
    point = device_point(model, backend=args.backend, preparation=args.preparation, budget=args.budget,
                         total_time=args.time, dt=args.dt, ramp=args.ramp, initial_mass=args.initial_mass,
                         shots=args.shots or 4096, mitigation=args.mitigation, seed=args.seed, order=args.order,
                         layout=layout, mode=args.mode, primitive=args.primitive, dry_run=args.dry_run,
                         wait=not args.no_wait, announce=None if args.json else print)
    if args.json:
        print_json(point.to_dict())
        return 0
    print(point.table())
    return 0


def cmd_adiabatic(args: argparse.Namespace) -> int:
    _check_common(args)
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
    _check_evolution(args)
    model = _model(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta)
    from qlat.quantum.simulators import require_simulator_memory

    require_simulator_memory(args.backend, model.n_sites, bond_dim=args.bond_dim, sites_parameter="--sites",
                             bond_parameter="--bond-dim")
    if args.out is not None:
        from qlat.cli._common import check_out_folder

        check_out_folder(args.out, parent=True)
    from qlat.analysis.schwinger_points import adiabatic_point
    from qlat.cli._common import announce_seed, resolve_seed, show_progress

    if _samples_shots(args):
        resolve_seed(args, announce=False)  # a shot run always records its seed (printed once the run is done)
    point = adiabatic_point(model, _schedule(args, model), backend=args.backend, shots=args.shots, seed=args.seed,
                            noise=args.noise, order=args.order, layout=args.layout, max_bond_dimension=args.bond_dim,
                            progress=show_progress(args))
    announce_seed(args)
    if args.out is not None:
        from qlat.cli._common import write_json_result

        write_json_result(args.out, "adiabatic.json", point.to_dict())
    if args.json:
        print_json(point.to_dict())
        return 0
    print(point.table())
    return 0


def _samples_shots(args: argparse.Namespace) -> bool:
    from qlat.quantum.simulators import samples_shots

    return samples_shots(args.backend, args.shots)


# --- scan --------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace) -> int:
    from qlat.cli._common import check_out_folder

    args.layout = args.layout or "all-to-all"
    _check_common(args)
    check_out_folder(args.out)
    # A ground-state method as --backend (ed, dmrg): no simulation, every value from that method.
    ground = "ed"
    if args.backend in ("ed", "dmrg") and _is_ground_state_method(args.backend):
        ground = args.backend
        args.exact_only = True
    elif not args.exact_only:
        _check_evolution(args)
    simulate = None
    if not args.exact_only and _samples_shots(args):  # a shot scan records its seed (resumed: the stored one)
        from qlat.analysis.scan import stored_scan_seed
        from qlat.cli._common import resolve_seed

        resolve_seed(args, stored=stored_scan_seed(args.out), announce=False)
    if not args.exact_only:
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
                                 cluster_config=args.cluster_config, names=_NAMES)
    with distribution_client(workers=args.workers, scheduler=args.scheduler, cluster=cluster) as client:  # an unreachable scheduler is refused before --out exists
        claim = claim_output_dir(args.out, command="qlat schwinger scan", flag="--out", names=SCAN_FLAGS,
                                 params={"points": plan.points, "continuum": bool(args.continuum),
                                         "continuum_method": plan.continuum["method"] if plan.continuum else None})
        try:
            from qlat.cli._common import announce_seed

            announce_seed(args)
            return _run_scan(args, plan, client)
        finally:
            claim.release()


#: Scan parameters stored in the folder's manifest and the flags that set them.
SCAN_FLAGS = {"points": "--sites/--spacing/--thetas/--mass/… (the lattices)", "continuum": "--continuum",
              "continuum_method": "--continuum-method"}
#: Parameters of :func:`qlat.analysis.scan.plan_theta_scan` whose flags are not in FLAGS.
SCAN_PARAMETER_FLAGS = {"thetas": "--thetas", "bond_dim": "--bond-dim", "continuum_method": "--continuum-method",
                        "continuum_sites": "--continuum-sites"}


def _run_scan(args: argparse.Namespace, plan: Any, client: Any) -> int:
    from qlat.analysis.scan import run_theta_scan
    from qlat.cli._common import show_progress

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
