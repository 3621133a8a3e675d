"""The flags ``qlat schwinger exact|adiabatic|scan`` share: the model, the evolution, their names in errors.

Parsing only: every check and default is the library's (:mod:`qlat.analysis.schwinger_points`,
:mod:`qlat.quantum.simulators`); the help texts name the library's defaults.
"""

from __future__ import annotations

import argparse
from typing import Any

from qlat.cli._common import LazyHelp

#: Library parameter → command-line flag, for one-line errors that name what the user typed.
FLAGS = {"n_sites": "--sites", "spacing": "--spacing", "mass": "--mass", "theta": "--theta", "coupling": "--coupling",
         "formulation": "--formulation", "total_time": "--time", "dt": "--dt", "ramp": "--ramp",
         "initial_mass": "--initial-mass", "shots": "--shots", "seed": "--seed", "noise": "--noise",
         "backend": "--backend", "order": "--order", "layout": "--layout", "out": "--out",
         "mitigation": "--mitigation", "mode": "--mode", "preparation": "--preparation", "budget": "--budget",
         "primitive": "--primitive", "scheduler": "--scheduler", "workers": "--workers", "cluster": "--cluster",
         "cluster_config": "--cluster-config", "spacings": "--continuum-spacings", "volumes": "--continuum-volumes"}


#: Library parameter → flag for the checks that name their parameters (FLAGS, plus the names it lacks).
NAMES = {**FLAGS, "total_time": "--time", "bond_dim": "--bond-dim"}


def model_arguments(p: argparse.ArgumentParser, *, multi: bool = False) -> None:
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


def evolution_arguments(p: argparse.ArgumentParser, *, ground_state: bool = False, device: bool = False) -> None:
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


def _simulator_names() -> list[str]:
    """The registered backends that run the adiabatic evolution (found in the registry)."""
    from qlat.quantum.simulators import adiabatic_simulators

    return list(adiabatic_simulators())


def _ground_state_methods() -> list[str]:
    from qlat.core.backend import ground_state_methods

    return ground_state_methods()


def model_options(args: argparse.Namespace, **given: Any) -> dict[str, Any]:
    """The model parameters of the flags (``given``: those a command sets itself, e.g. one point of a scan)."""
    return {"mass": args.mass, "coupling": args.coupling, "formulation": args.formulation,
            "mass_shift": args.mass_shift, **given}


def check_model_flags(args: argparse.Namespace) -> None:
    """The model flags checked before any heavy import (issue 12: start-up)."""
    from qlat.analysis.schwinger_points import check_model_request

    check_model_request(n_sites=args.sites, spacing=args.spacing, mass=args.mass, coupling=args.coupling,
                        theta=getattr(args, "theta", None), names=FLAGS)
