"""``qlat schwinger exact|adiabatic|scan``: the Schwinger model on qubits from the command line.

θ in radians; m, a and all outputs in units of g (``--coupling`` g = 1 by default).
``--json`` prints one JSON object with ``energy`` (⟨H⟩ of docs/conventions.md's H, constant included),
``condensate`` (unsubtracted (1/(2aN)) Σ(−1)^n⟨Z_n⟩), ``condensate_subtracted``, ``fidelity``
(when known), ``params`` and ``backend``; every number as ``{"value":…, "error":…, …}``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from pathlib import Path
from typing import Any

from qlat.cli._common import LazyHelp, format_table, print_json, with_flag_names
from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance

#: Most Trotter steps a run may take (a typo such as --dt 1e-9 must not hang the machine).
MAX_STEPS = 1_000_000
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


#: Longest chain ``qlat schwinger scan --backend dmrg`` accepts (DMRG at χ = 64 takes ~1 min there).
DMRG_SCAN_MAX_SITES = 400

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
        require(math.isfinite(theta), "--theta", "must be a finite angle in radians", theta)
        if abs(theta) > 2 * math.pi:
            from qlat.core.errors import warn

            warn(f"--theta {theta:g} is beyond ±2π: the rotated form is 2π-periodic, the electric form on an "
                 "open chain is not (its background field θ/2π is physical); did you mean radians?")


def _check_evolution(args: argparse.Namespace) -> None:
    names = _simulator_names()
    require(args.backend in names, "--backend", f"must be one of {', '.join(names)}", args.backend)
    if args.time is not None:
        require(math.isfinite(args.time) and args.time > 0, "--time", "must be > 0", args.time)
    if args.dt is not None:
        require(math.isfinite(args.dt) and args.dt > 0, "--dt", "must be > 0", args.dt)
        if args.time is not None:
            require(args.dt <= args.time, "--dt", f"must be <= --time ({args.time})", args.dt)
            steps = args.time / args.dt
            require(steps <= MAX_STEPS, "--dt", f"gives {steps:.3g} Trotter steps; at most {MAX_STEPS:,} allowed",
                    args.dt)
            require(abs(steps - round(steps)) <= 1e-9 * steps, "--dt", f"must divide --time ({args.time})", args.dt)
    if args.initial_mass is not None:
        require(math.isfinite(args.initial_mass) and args.initial_mass >= 0, "--initial-mass", "must be >= 0",
                args.initial_mass)
    if args.shots is not None:
        require(args.shots > 0, "--shots", "must be > 0", args.shots)
    if args.seed is not None:
        require(args.seed >= 0, "--seed", "must be >= 0", args.seed)
    from qlat.quantum.simulators import adiabatic_simulators

    spec = adiabatic_simulators()[args.backend]
    if spec.shots == "never" and args.shots is not None:
        samplers = [n for n, b in adiabatic_simulators().items() if b.shots != "never"]
        raise ParameterError("--shots", f"backend {args.backend} is exact and takes no shots; sampling backends: "
                             f"{', '.join(samplers)}", args.shots)
    if not spec.noise and args.noise is not None:
        noisy = [n for n, b in adiabatic_simulators().items() if b.noise]
        raise ParameterError("--noise", f"backend {args.backend} takes no noise model; backends with noise: "
                             f"{', '.join(noisy)}", args.noise)
    if args.bond_dim is not None:
        mps_like = [n for n, b in adiabatic_simulators().items() if b.bond_dimension]
        require(spec.bond_dimension, "--bond-dim", f"applies to the MPS backends ({', '.join(mps_like)})",
                args.bond_dim)
        require(4 <= args.bond_dim <= 4096, "--bond-dim", "must be an integer in [4, 4096]", args.bond_dim)


#: Bond dimension of the compact Schwinger MPO (:data:`qlat.exact.schwinger_mpo.COMPACT_BOND_DIM`) and the
#: local dimension of a qubit: the sizes of the environment and site legs in the memory estimate below.
_MPO_BOND_DIM, _QUBIT_DIM = 5, 2


def _require_chain_memory(n_sites: int, *, bond_dim: int | None, itemsize: int, what: str, pauli: bool = False,
                          sites_flag: str = "--sites") -> None:
    """Refuse, before anything is built, a chain the machine cannot hold (:func:`qlat.core.resources.require_memory`).

    Estimate (bytes), N sites, bond dimension χ (capped at 2^(N/2)), d = 2, D = 5:
    16 N² — the N×N ZZ coupling matrix of :func:`~qlat.theories.schwinger_qubit.schwinger_terms` (two copies);
    + 2 · itemsize · N · χ² · (d + D) — the MPS and its environments (DMRG: real, TDVP/MPS: complex);
    + 2 N³ with ``pauli`` — the N(N−1)/2 ZZ terms as Pauli strings of N bits (X and Z) for circuits/devices.
    The flag blamed is ``sites_flag`` when the chain alone (χ = 2) is too large, else --bond-dim.
    """
    from qlat.core.resources import MEMORY_FRACTION, available_memory, require_memory

    n = float(n_sites)

    def estimate(chi: float) -> float:
        chi = min(chi, 2.0 ** min(n / 2, 512))
        total = 16.0 * n * n + 2.0 * itemsize * n * chi * chi * (_QUBIT_DIM + _MPO_BOND_DIM)
        return total + (2.0 * n**3 if pauli else 0.0)

    chi = float(bond_dim) if bond_dim is not None else 2.0
    need = estimate(chi)
    if need <= MEMORY_FRACTION * available_memory():
        return
    flag = sites_flag if bond_dim is None or estimate(2.0) > MEMORY_FRACTION * available_memory() else "--bond-dim"
    described = f"{what} of N = {n_sites:,} sites" + (f" at bond dimension {bond_dim}" if bond_dim else "")
    require_memory(need, flag, described)


def _require_simulator_memory(args: argparse.Namespace, n_sites: int) -> None:
    """The memory estimate of the MPS simulators (tdvp: its default χ; mps: the Pauli operators, and
    the MPS when --bond-dim caps it); the statevector backends have their own qubit limits."""
    from qlat.quantum.simulators import adiabatic_simulators

    if not adiabatic_simulators()[args.backend].bond_dimension:
        return
    bond_dim = args.bond_dim
    if args.backend == "tdvp" and bond_dim is None:
        from qlat.quantum.tdvp import DEFAULT_BOND_DIM

        bond_dim = DEFAULT_BOND_DIM
    _require_chain_memory(n_sites, bond_dim=bond_dim, itemsize=16, pauli=args.backend != "tdvp",
                          what=f"the {args.backend} simulation")


def _model(args: argparse.Namespace, *, n_sites: int, spacing: float, theta: float):
    from qlat.theories.schwinger_qubit import SchwingerModel

    return SchwingerModel(n_sites, spacing, args.mass, theta, coupling=args.coupling,
                          formulation=args.formulation, mass_shift=args.mass_shift)


def _schedule(args: argparse.Namespace, model):
    from dataclasses import replace

    from qlat.quantum.adiabatic import backend_default_schedule

    sched = backend_default_schedule(model, getattr(args, "backend", None))
    changes: dict[str, Any] = {}
    if args.time is not None:
        changes["total_time"] = args.time
        if args.dt is None:  # the default step, shortened so that it divides --time
            changes["dt"] = args.time / max(1, math.ceil(args.time / sched.dt - 1e-9))
    if args.dt is not None:
        changes["dt"] = args.dt
    if args.ramp is not None:
        changes["ramp"] = args.ramp
    if args.initial_mass is not None:
        changes["initial_mass"] = args.initial_mass
    return replace(sched, **changes) if changes else sched


# --- exact -------------------------------------------------------------------------------------
def _ground_state_methods() -> list[str]:
    """Registered backends that compute ground states of the qubit model (``ground_state = True``)."""
    from qlat.core.registry import BACKENDS

    return [name for name in BACKENDS.names() if _is_ground_state_method(name)]


def _is_ground_state_method(name: str) -> bool:
    """Whether ``name`` is a registered ground-state backend (imports that plug-in only)."""
    from qlat.core.backend import get_backend
    from qlat.core.registry import BACKENDS

    if name not in BACKENDS.names():
        return False
    try:
        return bool(getattr(get_backend(name), "ground_state", False))
    except Exception:  # noqa: BLE001 — a broken plug-in is not offered
        return False


def cmd_exact(args: argparse.Namespace) -> int:
    _check_common(args)  # the flags are checked before the heavy imports (issue 12: start-up)
    from qlat.core.backend import get_backend
    from qlat.quantum.exact_backend import DEFAULT_OBSERVABLES, SCALAR_OBSERVABLES

    if not _is_ground_state_method(args.method):  # the full list (every plug-in imported) only on error
        methods = _ground_state_methods()
        require(args.method in methods, "--method", f"must be one of {', '.join(methods)}", args.method)
    options: dict[str, Any] = {}
    if args.bond_dim is not None:
        require(args.method != "ed", "--bond-dim", "applies to --method dmrg (ED is exact)", args.bond_dim)
        require(2 <= args.bond_dim <= 4096, "--bond-dim", "must be an integer in [2, 4096]", args.bond_dim)
        options["bond_dim"] = args.bond_dim
    model = _model(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta)
    if args.method == "ed":
        from qlat.exact.diagonalization import ED_MAX_QUBITS

        require(model.n_sites <= ED_MAX_QUBITS, "--sites",
                f"exact diagonalization is limited to N <= {ED_MAX_QUBITS}", model.n_sites,
                hint="use --method dmrg for longer chains")
    else:
        if args.method == "dmrg":
            from qlat.exact.dmrg import DMRGSettings

            _require_chain_memory(model.n_sites, bond_dim=args.bond_dim or DMRGSettings.bond_dim, itemsize=8,
                                  what="DMRG")
        from qlat.cli._common import show_progress

        options["progress"] = show_progress(args)
    backend = get_backend(args.method)
    est = backend.estimate(model, list(DEFAULT_OBSERVABLES), **options)
    result = {**est, "params": model.params(), "backend": backend.label}
    if args.json:
        print_json(result)
        return 0
    print(f"Schwinger model, {backend.description.split(';')[0]}  {_describe(model)}")
    rows = [(k, est[k]) for k in (*SCALAR_OBSERVABLES, "gap") if k in est]
    print(format_table(["observable", "value"], rows))
    from qlat.core.backend import components

    print("electric field L_n:", " ".join(f"{e.value:+.4f}" for e in components(est, "electric_field")))
    return 0


def _describe(model) -> str:
    return (f"N={model.n_sites} a={model.spacing:g} m={model.mass:g} θ={model.theta:.4g} "
            f"g={model.coupling:g} [{model.formulation}{', mass shift' if model.mass_shift else ''}]")


# --- adiabatic ---------------------------------------------------------------------------------
def run_point(args: argparse.Namespace, model, *, progress: bool) -> dict[str, Any]:
    """One adiabatic run with the flags' backend, plus the ED values for comparison (N <= 20)."""
    from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS
    from qlat.quantum.adiabatic_run import run_adiabatic

    schedule = _schedule(args, model)
    result = run_adiabatic(
        model, schedule, observables=("energy", "condensate", "condensate_subtracted"),
        backend=args.backend, shots=args.shots, seed=args.seed, noise=args.noise,
        order=args.order, layout=args.layout, progress=progress, max_bond_dimension=args.bond_dim,
    )
    out = result.to_dict()
    for name, est in result.estimates.items():
        out[name] = est
    out["fidelity"] = result.fidelity
    out["params"] = {**model.params(), "schedule": _schedule_dict(schedule), "order": args.order,
                     "layout": args.layout, "shots": args.shots, "seed": args.seed, "noise": args.noise}
    out["backend"] = result.backend
    if model.n_sites <= ED_ROUTINE_MAX_QUBITS:
        from qlat.quantum.exact_backend import exact_estimates

        out["exact"] = exact_estimates(model)
    return out


def _schedule_dict(schedule) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(schedule)


def _cmd_device(args: argparse.Namespace) -> int:
    """``--backend fake:<device>|ibm:<device>``: compile, dry-run or submit, store, collect."""
    from qlat.quantum.ibm.backend import run_on_device

    provider, _, device = args.backend.partition(":")
    require(provider in ("fake", "ibm") and bool(device), "--backend",
            "a device is written fake:<device> or ibm:<device>", args.backend)
    if args.time is not None:
        require(math.isfinite(args.time) and args.time > 0, "--time", "must be > 0", args.time)
    if args.dt is not None:
        require(math.isfinite(args.dt) and args.dt > 0, "--dt", "must be > 0", args.dt)
    if args.shots is not None:
        require(args.shots > 0, "--shots", "must be > 0", args.shots)
    require(args.noise is None, "--noise", "device runs have the device's own noise; drop --noise")
    from qlat.quantum.ibm.backend import device_schedule

    if provider == "fake":  # the chain must fit on the device (known offline for fake devices)
        from qlat.quantum.ibm.devices import fake_device

        qubits = int(fake_device(device, parameter="--backend").num_qubits)
        require(args.sites <= qubits, "--sites", f"{device} has {qubits} qubits", args.sites)
    _require_chain_memory(args.sites, bond_dim=None, itemsize=16, pauli=True, what="the device circuits")
    model = _model(args, n_sites=args.sites, spacing=args.spacing, theta=args.theta)
    schedule = None  # the short device schedule (hardware_schedule), with the parts the user set replaced
    preparation = None
    trained = None
    if args.preparation == "sc-vqe":
        for flag, value in (("--time", args.time), ("--dt", args.dt), ("--ramp", args.ramp),
                            ("--initial-mass", args.initial_mass), ("--budget", args.budget)):
            require(value is None, flag, "applies to the adiabatic preparation, not to --preparation sc-vqe")
        from qlat.quantum.variational import train_ansatz

        trained = train_ansatz(model)
        preparation = trained.ansatz(model.n_sites)
    elif args.budget is not None:
        for flag, value in (("--time", args.time), ("--dt", args.dt), ("--ramp", args.ramp),
                            ("--initial-mass", args.initial_mass)):
            require(value is None, flag, "is chosen by --budget; give one or the other")
        from qlat.quantum.schedules import budget_schedule

        chosen = budget_schedule(model, args.budget, order=args.order)
        schedule = chosen.schedule
        if not args.json:
            print(chosen)
    elif any(v is not None for v in (args.time, args.dt, args.ramp, args.initial_mass)):
        schedule = device_schedule(total_time=args.time, dt=args.dt, ramp=args.ramp, initial_mass=args.initial_mass)
    layout = {"line": "line", "all-to-all": "default", None: "auto"}[args.layout]
    run = run_on_device(model, backend=args.backend, schedule=schedule, preparation=preparation,
                        shots=args.shots or 4096, mitigation=args.mitigation, seed=args.seed, order=args.order,
                        layout=layout, mode=args.mode, primitive=args.primitive, dry_run=args.dry_run,
                        wait=not args.no_wait)
    if args.json:
        out = run.to_dict()
        if trained is not None:
            out["training"] = trained.to_dict()
        print_json(out)
        return 0
    if trained is not None:
        print(trained.table())
    print(str(run))
    from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS

    if run.estimates and model.n_sites <= ED_ROUTINE_MAX_QUBITS:
        from qlat.analysis.crosscheck import CrossCheck
        from qlat.quantum.exact_backend import exact_estimates

        names = [k for k in run.estimates if k in ("energy", "condensate")]
        label = next(iter(run.estimates.values())).backend or args.backend
        check = CrossCheck(reference="exact (ED)")
        check.add("exact (ED)", exact_estimates(model, observables=names))
        check.add(label, {k: run.estimates[k] for k in names})
        print(check.table(names))
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
    _require_simulator_memory(args, model.n_sites)
    if args.out is not None:
        from qlat.cli._common import check_out_folder

        check_out_folder(args.out)
        require(args.out.is_dir() or args.out.parent.is_dir(), "--out", "its parent folder does not exist",
                str(args.out), hint=f"create {args.out.parent} first, or give another --out")
    from qlat.cli._common import announce_seed, resolve_seed, show_progress

    if _samples_shots(args):
        resolve_seed(args, announce=False)  # a shot run always records its seed (printed once the run is done)
    out = run_point(args, model, progress=show_progress(args))

    announce_seed(args)
    if args.out is not None:
        _write_result(args.out, "adiabatic.json", out)
    if args.json:
        print_json(out)
        return 0
    print(f"Adiabatic preparation on '{out['backend']}'  {_describe(model)}")
    sched = out["params"]["schedule"]
    print(f"schedule: T={sched['total_time']:g} dt={sched['dt']:g} ramp={sched['ramp']} "
          f"m0={sched['initial_mass']:g} order={args.order} layout={args.layout}")
    from qlat.analysis.crosscheck import CrossCheck

    names = ("energy", "condensate", "condensate_subtracted")
    check = CrossCheck(reference="exact (ED)")
    if "exact" in out:
        check.add("exact (ED)", {n: out["exact"][n] for n in names})
    check.add(out["backend"], {n: out[n] for n in names})
    if "exact" in out:
        print(check.table(names))
    else:
        notes = check.warnings()
        rows = [(n, f"{out[n]}" + "".join(f" !{notes.index(w) + 1}" for w in out[n].warnings)) for n in names]
        print(format_table(["observable", out["backend"]], rows))
        for i, message in enumerate(notes):
            print(f"!{i + 1} {message}")
    if out["fidelity"] is not None:
        print(f"fidelity with the exact ground state: {out['fidelity']}")
    print(_adiabaticity_line(out["energy"].provenance))
    return 0


def _samples_shots(args: argparse.Namespace) -> bool:
    """Whether the simulator run draws shots (then a seed is drawn if none was given, and recorded)."""
    from qlat.quantum.simulators import adiabatic_simulators

    policy = adiabatic_simulators()[args.backend].shots
    return policy == "required" or (policy == "optional" and args.shots is not None)


def _write_result(folder: Path, name: str, result: dict[str, Any]) -> None:
    """``result`` as JSON into ``folder/name`` (the folder made if missing), atomically; prints the path."""
    import json

    from qlat.cli._common import ensure_output_dir, info, jsonable
    from qlat.core.files import atomic_write_bytes

    ensure_output_dir(folder, "--out")
    atomic_write_bytes(folder / name, (json.dumps(jsonable(result), indent=2) + "\n").encode())
    info(f"wrote {folder / name}")


def _adiabaticity_line(prov: dict[str, Any]) -> str:
    """What the systematic error and the warnings rest on: the state model and the gap along the path."""
    parts = []
    state = prov.get("systematic_method", {}).get("state_model") if isinstance(prov.get("systematic_method"),
                                                                               dict) else None
    if state:
        parts.append(f"energy variance {state['energy_variance']:.3g}, leaked weight {state['leaked_weight']:.3g} "
                     "(one Lanczos step)")
    lz = prov.get("landau_zener")
    if lz:
        where = f"N = {lz['n_sites']} proxy" if lz.get("proxy") else f"N = {lz['n_sites']}"
        parts.append(f"narrowest gap {lz['min_gap']:.3g} at t/T = {lz['u_min']:.3f}, Landau-Zener "
                     f"probability {lz['probability']:.2g} ({where})")
    return "adiabaticity: " + ("; ".join(parts) if parts else "not estimated")


# --- scan --------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace) -> int:

    import numpy as np

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
    if args.bond_dim is not None and args.exact_only:
        require(ground == "dmrg" or args.continuum_method == "dmrg", "--bond-dim",
                "applies to --backend dmrg, tdvp, mps or --continuum-method dmrg (ED is exact)", args.bond_dim)
        require(4 <= args.bond_dim <= 4096, "--bond-dim",
                "must be an integer in [4, 4096] (the truncation check runs at half of it)", args.bond_dim)
    bond_dim = args.bond_dim if args.bond_dim is not None else 64
    if args.continuum_method is None:
        args.continuum_method = ground
    thetas = np.linspace(0.0, math.pi, 9) if args.thetas is None else np.asarray(args.thetas, dtype=float)
    for t in thetas:
        require(math.isfinite(t), "--thetas", "must be finite angles in radians", float(t))
    from qlat.exact.diagonalization import ED_MAX_QUBITS, ED_ROUTINE_MAX_QUBITS

    for n in args.sites:
        if ground == "dmrg":
            require(4 <= n <= DMRG_SCAN_MAX_SITES, "--sites",
                    f"scan with dmrg (and N−2 for bulk differences): 4 <= N <= {DMRG_SCAN_MAX_SITES}", n)
        else:
            require(4 <= n <= ED_ROUTINE_MAX_QUBITS, "--sites",
                    f"scan compares with ED (and N−2 for bulk differences): 4 <= N <= {ED_ROUTINE_MAX_QUBITS}; "
                    "longer chains with --backend dmrg", n)
    if args.continuum:
        require(args.continuum_method in ("ed", "dmrg"), "--continuum-method", "must be ed or dmrg",
                args.continuum_method)
        if args.continuum_volumes is None:
            args.continuum_volumes = [5.0, 6.0, 7.0, 8.0] if args.continuum_method == "ed" else [20.0, 24.0]
        if args.continuum_method == "dmrg":
            require(len(set(args.continuum_spacings)) >= 4, "--continuum-spacings",
                    "needs at least 4 distinct spacings (a quadratic fit in a with a residual)", args.continuum_spacings)
        for a in args.continuum_spacings:
            require(math.isfinite(a) and 0 < a <= 2, "--continuum-spacings", "must be in (0, 2]", a)
            if args.continuum_method == "dmrg":
                for vol in args.continuum_volumes:
                    n = vol / a
                    require(abs(n - round(n)) < 1e-9 and round(n) % 2 == 0 and round(n) >= 6, "--continuum-spacings",
                            f"L/a must be an even integer >= 6 for every volume (L = {vol:g})", a)
        for n in args.continuum_sites:
            require(6 <= n <= ED_MAX_QUBITS and n % 2 == 0, "--continuum-sites",
                    f"must be even and in [6, {ED_MAX_QUBITS}]", n)
        for vol in args.continuum_volumes:
            require(vol > 0, "--continuum-volumes", "must be > 0", vol)
    if ground == "dmrg":
        _require_chain_memory(max(args.sites), bond_dim=bond_dim, itemsize=8, what="DMRG ground states")
    if args.continuum and args.continuum_method == "dmrg":
        longest = max(vol / a for vol in args.continuum_volumes for a in args.continuum_spacings)
        _require_chain_memory(round(longest), bond_dim=bond_dim, itemsize=8, sites_flag="--continuum-volumes",
                              what="the DMRG continuum extrapolation")
    if not args.exact_only:
        for n in args.sites:  # the schedule every lattice will run (ramp, T, dt), checked now, not on a worker
            for a in args.spacing:
                _schedule(args, _model(args, n_sites=n, spacing=a, theta=0.0))
    cluster = _check_distribution(args)
    simulate = None
    if not args.exact_only and _samples_shots(args):  # a shot scan records its seed (resumed: the stored one)
        from qlat.cli._common import resolve_seed
        from qlat.core.outdir import stored_params

        stored = stored_params(args.out, command="qlat schwinger scan") or {}
        try:
            seed = stored["points"][0]["simulate"]["seed"]
        except (KeyError, IndexError, TypeError):
            seed = None
        resolve_seed(args, stored=seed if isinstance(seed, int) and seed >= 0 else None, announce=False)
    if not args.exact_only:
        overrides = {k: v for k, v in (("total_time", args.time), ("dt", args.dt), ("ramp", args.ramp),
                                       ("initial_mass", args.initial_mass)) if v is not None}
        simulate = {"backend": args.backend, "shots": args.shots, "seed": args.seed, "noise": args.noise,
                    "order": args.order, "layout": args.layout, "schedule": overrides,
                    "max_bond_dimension": args.bond_dim}
    ground_spec = {"method": "dmrg", "bond_dim": bond_dim} if ground == "dmrg" else {"method": "ed"}
    points = [{"n_sites": n, "spacing": a, "thetas": [float(t) for t in thetas], "mass": args.mass,
               "coupling": args.coupling, "formulation": args.formulation, "mass_shift": args.mass_shift,
               "simulate": simulate, "ground_state": ground_spec} for n in args.sites for a in args.spacing]
    from qlat.core.outdir import claim_output_dir

    with _dask(args, cluster) as client:  # an unreachable scheduler is refused before --out exists
        claim = claim_output_dir(args.out, command="qlat schwinger scan", flag="--out", names=SCAN_FLAGS,
                                 params={"points": points, "continuum": bool(args.continuum),
                                         "continuum_method": args.continuum_method if args.continuum else None})
        try:
            from qlat.cli._common import announce_seed

            announce_seed(args)
            return _run_scan(args, points, ground, ground_spec, bond_dim, client)
        finally:
            claim.release()


#: Scan parameters stored in the folder's manifest and the flags that set them.
SCAN_FLAGS = {"points": "--sites/--spacing/--thetas/--mass/… (the lattices)", "continuum": "--continuum",
              "continuum_method": "--continuum-method"}


def _run_scan(args: argparse.Namespace, points: list[dict[str, Any]], ground: str, ground_spec: dict[str, Any],
              bond_dim: int, client: Any) -> int:
    import json

    from qlat.analysis.distributed import ResultLog, run_points
    from qlat.analysis.schwinger_studies import scan_point
    from qlat.cli._common import jsonable, show_progress
    from qlat.exact import continuum

    log = ResultLog(args.out / "scan-points.jsonl", result_spec={"rows": [dict], "study": dict})
    finished = log.load(points)
    if finished and not args.json:
        sys.stderr.write(f"qlat: {len(finished)} of {len(points)} lattices already in {log.path}: not recomputed\n")
    bar = _progress(total=len(points), desc="scan (lattices)", enabled=show_progress(args))
    bar.update(len(finished))

    def arrived(i: int, res: dict[str, Any]) -> None:
        log.append(i, points[i], res)
        bar.update(1)

    try:  # the bar is cleared before any error is printed: an error line never lands on the bar's line
        results = run_points(scan_point, points, client=client, on_result=arrived, skip=sorted(finished))
    finally:
        bar.close()
    for i, res in finished.items():
        results[i] = res
    rows = [_estimates_back(row) for res in results for row in res["rows"]]
    studies = [res["study"] for res in results]

    result: dict[str, Any] = {
        "rows": rows,
        "lattices": studies,
        "backend": ("dmrg" if ground == "dmrg" else "exact") if args.exact_only else args.backend,
        "ground_state": ground_spec,
        "params": {"mass": args.mass, "coupling": args.coupling, "formulation": args.formulation,
                   "mass_shift": args.mass_shift},
        "analytic": {"massless_condensate": continuum.massless_condensate(coupling=args.coupling),
                     "sigma": continuum.sigma(coupling=args.coupling),
                     "mpt": "ΔE(θ)/L = −mΣ(cos θ − 1), physical ⟨ψ̄ψ⟩ = −Σ cos θ (first order in m)"},
        "provenance": provenance(command="qlat schwinger scan"),
    }
    if args.continuum and args.continuum_method == "dmrg":
        from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg

        if show_progress(args):
            sys.stderr.write(f"continuum extrapolation of the massless condensate (DMRG, L = {args.continuum_volumes}, "
                             f"a = {[round(a, 4) for a in args.continuum_spacings]}) ...\n")
        result["continuum"] = continuum_condensate_massless_dmrg(
            volumes=args.continuum_volumes, spacings=args.continuum_spacings, coupling=args.coupling,
            bond_dim=bond_dim,
            progress=None if not show_progress(args) else (lambda row: sys.stderr.write(
                f"  N = {row['n_sites']:4d}  a = {row['spacing']:.4f}  bulk ⟨ψ̄ψ⟩ = {row['bulk']:+.7f}\n")))
    elif args.continuum:
        from qlat.analysis.schwinger_studies import continuum_condensate_massless

        if show_progress(args):
            sys.stderr.write("continuum extrapolation of the massless condensate (ED, N ≤ "
                             f"{max(args.continuum_sites)}) ...\n")
        result["continuum"] = continuum_condensate_massless(
            n_sites=args.continuum_sites, volumes=args.continuum_volumes, coupling=args.coupling)
    result = _numbers_as_estimates(result)
    from qlat.core.files import atomic_write_bytes

    atomic_write_bytes(args.out / "scan.json", (json.dumps(jsonable(result), indent=2) + "\n").encode())
    _write_csv(args.out / "scan.csv", rows)
    _plot_scan(args.out / "scan.png", rows, result, mass=args.mass)
    if args.json:
        print_json(result)
        return 0
    src = ground.upper()
    headers = ["N", "a", "θ", f"⟨ψ̄ψ⟩ {src}", f"Δ⟨ψ̄ψ⟩phys {src}", "Δ⟨ψ̄ψ⟩phys MPT", f"bulk ΔE/L {src}",
               "ΔE/L MPT", "rel. dev."]
    if not args.exact_only:
        headers += [f"⟨ψ̄ψ⟩ {args.backend}", "fidelity"]
    table = []
    for r in rows:
        mpt = r["mpt_delta_energy_density"]
        dev = (r["bulk_delta_energy_density"] - mpt) / mpt if abs(mpt) > 1e-12 else float("nan")
        line = [r["n_sites"], r["spacing"], f"{r['theta']:.4f}", f"{r['condensate_design']:.6f}",
                f"{r['bulk_condensate_physical_shift']:+.6f}", f"{r['mpt_condensate_shift']:+.6f}",
                f"{r['bulk_delta_energy_density']:.6f}", f"{mpt:.6f}",
                "-" if math.isnan(dev) else f"{dev:+.3f}"]
        if not args.exact_only:
            line += [r["condensate"], f"{r['fidelity'].value:.6f}" if r["fidelity"] is not None else "-"]
        table.append(line)
    print(format_table(headers, table))
    devs = [abs((r["bulk_delta_energy_density"] - r["mpt_delta_energy_density"]) / r["mpt_delta_energy_density"])
            for r in rows if abs(r["mpt_delta_energy_density"]) > 1e-12]
    if devs and max(devs) > 0.2:
        from qlat.core.errors import warn

        warn(f"the bulk ΔE/L deviates from first-order mass perturbation theory by up to {100 * max(devs):.0f} %: "
             "beyond the O(m) correction, so finite size (small N·a) and lattice artifacts dominate here — "
             "compare at larger N and smaller a (qlat schwinger scan --continuum)")
    print(f"⟨ψ̄ψ⟩ {src} = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩ (docs/conventions.md); Δ⟨ψ̄ψ⟩phys = bulk ∂ℰ/∂m at θ minus at 0, MPT −Σ(cos θ − 1);\n"
          "bulk ΔE/L = [ΔE_N(θ) − ΔE_{N−2}(θ)]/(2a) cancels the open-chain boundary energy; "
          "MPT = −mΣ(cos θ − 1), first order in m (deviation O(m) relative).")
    if args.continuum:
        c = result["continuum"]
        print(f"continuum massless condensate ({args.continuum_method.upper()}, {c.method}): {c.estimate}  "
              f"analytic {c.reference:.7f}  "
              f"z = {c.z_score:+.2f}  deviation {100 * c.relative_deviation:.3f} %")
    print(f"wrote {args.out / 'scan.json'}, {args.out / 'scan.csv'}, {args.out / 'scan.png'}")
    return 0


#: Parameters of a scan row (plain numbers); every other number in it is a physical result.
_SCAN_PARAMETERS = ("n_sites", "spacing", "theta")


def _numbers_as_estimates(result: dict[str, Any]) -> dict[str, Any]:
    """Every physical number of the scan JSON as an Estimate (exact ED, analytic, or simulated)."""
    prov = {"model": result["params"], "ground_state": result.get("ground_state", {"method": "ed"})}
    solved = "dmrg" if prov["ground_state"].get("method") == "dmrg" else "exact"

    def wrap(key: str, value: Any, truncation: dict[str, float], trust: tuple[str, ...] | list[str] = ()) -> Any:
        if not isinstance(value, float) or key in _SCAN_PARAMETERS:
            return value
        unit = "g^2" if "energy" in key else "g"
        analytic = key.startswith("mpt") or key in ("massless_condensate", "sigma")
        first_order = key.startswith("lattice_first_order") or key == "lattice_sigma"
        backend = "analytic" if analytic else ("lattice perturbation theory" if first_order else solved)
        est = Estimate(value, 0.0, name=key, unit=unit, backend=backend, provenance=prov)
        if key in truncation and not analytic:
            est = est.with_systematic({"truncation": float(truncation[key])})
            for message in trust:  # emitted where the scan point ran
                est = est.with_warning(message, emit=False)
        return est

    def wrap_all(record: dict[str, Any]) -> dict[str, Any]:
        truncation = record.get("truncation") or {}
        trust = record.get("truncation_warnings") or []
        return {k: wrap(k, v, truncation, trust) for k, v in record.items()
                if k not in ("truncation", "truncation_warnings")}

    out = dict(result)
    out["rows"] = [wrap_all(row) for row in result["rows"]]
    out["lattices"] = [wrap_all(lat) for lat in result["lattices"]]
    out["analytic"] = {k: wrap(k, v, {}) for k, v in result["analytic"].items()}
    return out


def _estimates_back(row: dict[str, Any]) -> dict[str, Any]:
    """A scan row read back from JSON: the simulated values as Estimates again."""
    out = dict(row)
    for key in ("energy", "condensate", "condensate_subtracted", "fidelity"):
        if isinstance(out.get(key), dict):
            out[key] = Estimate.from_dict(out[key])
    return out


def _check_distribution(args: argparse.Namespace) -> dict[str, Any] | None:
    """Validate --workers/--scheduler/--cluster/--cluster-config before any work (nothing is started):
    the batch cluster's kind and config, or None."""
    chosen = [flag for flag, v in (("--workers", args.workers), ("--scheduler", args.scheduler),
                                   ("--cluster", args.cluster)) if v is not None]
    require(len(chosen) <= 1, chosen[-1] if chosen else "--workers", "choose one of --workers, --scheduler, --cluster")
    if args.workers is not None:
        require(1 <= args.workers <= 256, "--workers", "must be an integer in [1, 256]", args.workers)
    if args.scheduler is not None:
        require(args.scheduler.startswith(("tcp://", "tls://", "inproc://")), "--scheduler",
                "must be a scheduler address such as tcp://host:8786", args.scheduler)
    if args.cluster_config is not None:
        require(args.cluster is not None, "--cluster-config", "needs --cluster slurm|pbs")
    if args.cluster is None:
        return None
    from qlat.analysis.distributed import CLUSTERS, load_cluster_config, require_batch_system

    require(args.cluster in CLUSTERS, "--cluster", f"must be one of {', '.join(CLUSTERS)}", args.cluster)
    config = load_cluster_config(args.cluster_config, kind=args.cluster) if args.cluster_config is not None else {}
    require_batch_system(args.cluster)
    return {"kind": args.cluster, "config": config}


@contextlib.contextmanager
def _dask(args: argparse.Namespace, cluster: dict[str, Any] | None):
    """The Dask client of the scan (None: serial), connected before the output folder is claimed."""
    from qlat.analysis.distributed import batch_cluster, dask_client

    if cluster is None:
        with dask_client(workers=args.workers, scheduler=args.scheduler) as client:
            yield client
        return
    config = dict(cluster["config"])
    n_workers = int(config.pop("n_workers", 2))
    batch = batch_cluster(cluster["kind"], config)
    try:
        with dask_client(cluster=batch, cluster_workers=n_workers) as client:
            yield client
    finally:
        batch.close()


def _progress(*, total: int, desc: str, enabled: bool):
    """A progress bar on stderr, drawn only on a terminal (never mixed into a log file or a pipe)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = [k for k in rows[0] if not isinstance(rows[0][k], (dict, list))]
    lines = [",".join(keys)]
    for r in rows:
        cells = []
        for k in keys:
            v = r[k]
            cells.append("" if v is None else (f"{v.value!r}" if isinstance(v, Estimate) else repr(v)))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def _plot_scan(path: Path, rows: list[dict[str, Any]], result: dict[str, Any], *, mass: float) -> None:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qlat.exact import continuum

    n_panels = 4 if "continuum" in result else 3
    fig, axes = plt.subplots(1, n_panels, figsize=(5.0 * n_panels, 4.2))
    ax1, axp, ax2 = axes[0], axes[1], axes[2]
    for n, a in sorted({(r["n_sites"], r["spacing"]) for r in rows}):
        sel = [r for r in rows if (r["n_sites"], r["spacing"]) == (n, a)]
        th = np.array([r["theta"] for r in sel])
        line, = ax1.plot(th, [r["condensate_design"] for r in sel], "-", label=f"ED N={n} a={a:g}")
        if "condensate" in sel[0]:
            ax1.errorbar(th, [r["condensate"].value for r in sel], yerr=[r["condensate"].error for r in sel],
                         fmt="o", mfc="none", color=line.get_color(), label=f"{result['backend']} N={n} a={a:g}")
        ax2.plot(th, [r["bulk_delta_energy_density"] for r in sel], "o-", color=line.get_color(),
                 label=f"ED bulk N={n} a={a:g}")
        axp.plot(th, [r["bulk_condensate_physical_shift"] for r in sel], "o-", color=line.get_color(),
                 label=f"ED bulk N={n} a={a:g}")
    th_all = [r["theta"] for r in rows]
    dense = np.linspace(min(th_all), max(th_all), 200)
    coupling = result["params"]["coupling"]
    ax2.plot(dense, continuum.mpt_energy_density(dense, mass=mass, coupling=coupling), "k--",
             label="mass perturbation theory O(m)")
    axp.plot(dense, continuum.mpt_condensate(dense, coupling=coupling) - continuum.mpt_condensate(0.0, coupling=coupling),
             "k--", label="−Σ(cos θ − 1), mass perturbation theory")
    axp.set_xlabel("θ")
    axp.set_ylabel("⟨ψ̄ψ⟩_phys(θ) − ⟨ψ̄ψ⟩_phys(0)  [g]")
    axp.set_title("physical condensate ∂ℰ/∂m (bulk)")
    ax1.set_xlabel("θ")
    ax1.set_ylabel("⟨ψ̄ψ⟩ = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩  [g]")
    ax1.set_title(f"chiral condensate, m={mass:g} ({result['params']['formulation']})")
    ax2.set_xlabel("θ")
    ax2.set_ylabel("[E(θ) − E(0)] per length (bulk)  [g²]")
    ax2.set_title("θ dependence of the vacuum energy")
    if "continuum" in result:
        c = result["continuum"]
        ax3 = axes[3]
        for group in c.stage1:
            key = "volume" if "volume" in group else "spacing"
            ax3.errorbar([group[key]], [group["value"]], yerr=[group["error"]], fmt="o", color="C0")
        ax3.axhline(c.reference, color="k", ls="--", label="analytic −exp(γ)/(2π^1.5)")
        ax3.axhspan(c.estimate.value - c.estimate.error, c.estimate.value + c.estimate.error, color="C1",
                    alpha=0.3, label=f"continuum {c.estimate}")
        ax3.set_xlabel("physical volume L = Na  (a → 0 at each L)")
        ax3.set_ylabel("massless ⟨ψ̄ψ⟩  [g]")
        ax3.set_title("continuum limit of the massless condensate")
        axes = list(axes)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
