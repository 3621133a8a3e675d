"""``qlat sample phi4|u1``: run Markov chains into a resumable HDF5 ensemble and report observables.

The chains run in chunks of ``--chunk`` samples; after each chunk the samples and the chain
state are appended to ``--out`` (crash-safe, see :mod:`qlat.core.ensemble`).  If ``--out``
exists and was made with the same theory, sampler, seed, chains and start, the run **resumes**
and continues the same chains up to ``--n`` samples in total (bit for bit the chain of an
uninterrupted run); with different parameters the command stops with an error naming the first
parameter that differs.  Ctrl-C or SIGTERM stop the run; the file keeps every finished chunk.

At the end the default observables are measured with the Γ-method and printed as a table or,
with ``--json``, as one JSON object: ``{"plaquette": {"value":…, "error":…, "tau_int":…, …},
…, "acceptance": {…}, "ensemble": {…}}``.  U(1): ``plaquette`` ⟨cos θ_P⟩, ``topological_charge``
⟨Q⟩, ``q2`` ⟨Q²⟩, ``chi_t`` ⟨Q²⟩/V (in 2D; only the plaquette in d > 2); φ⁴: ``magnetization`` ⟨M⟩/V, ``chi2`` (⟨M²⟩ − ⟨M⟩²)/V.
"""

from __future__ import annotations

#: Position in ``qlat --help``.
HELP_ORDER = 40

import argparse
import contextlib
import math
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from qlat.core.errors import ParameterError, require

THEORIES = ("phi4", "u1")
SAMPLERS = ("hmc", "metropolis", "heatbath")
DEFAULT_OBSERVABLES = {
    "u1": ("plaquette", "topological_charge", "q2", "chi_t"),
    "phi4": ("magnetization", "chi2"),
}
def default_observables(theory_params: dict[str, Any]) -> list[str]:
    """The observables reported by default (the topological ones only in 2D, where Q is defined)."""
    name = theory_params.get("name")
    names = list(DEFAULT_OBSERVABLES.get(name, ()))
    if name == "u1" and len(theory_params.get("shape", ())) != 2:
        names = ["plaquette"]
    return names


#: CLI flag of each stored parameter, to name the one that differs when a resume is refused.
_FLAGS = {
    "theory.name": "theory",
    "theory.shape": "--L/--ndim",
    "theory.beta": "--beta",
    "theory.m2": "--m2",
    "theory.lam": "--lam",
    "sampler.name": "--sampler",
    "sampler.trajectory_length": "--tau",
    "sampler.n_steps": "--steps",
    "sampler.integrator": "--integrator",
    "sampler.target_acceptance": "--target-acceptance",
    "sampler.step_size": "--step-size",
    "sampler.thermalization": "--thermalize",
    "sampler.every": "--every",
    "seed": "--seed",
    "chains": "--chains",
    "start": "--start",
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sample",
        help="Monte Carlo ensemble of φ⁴ or U(1) into a resumable HDF5 file",
        description="Run Markov chains of phi4 or u1 into a resumable HDF5 ensemble (resumed if --out "
        "exists with the same parameters) and report the default observables with Γ-method errors.",
    )
    p.add_argument("theory", help="phi4 or u1")
    p.add_argument("--L", type=int, default=8, help="lattice extent L (>= 2), lattice L^ndim (default 8)")
    p.add_argument("--ndim", type=int, default=2, help="number of dimensions (default 2)")
    p.add_argument("--beta", type=float, default=None, help="u1: gauge coupling β (> 0)")
    p.add_argument("--m2", type=float, default=None, help="phi4: bare mass squared m²")
    p.add_argument("--lam", type=float, default=None, help="phi4: quartic coupling λ (>= 0)")
    p.add_argument("--sampler", default="hmc", help="hmc (default), metropolis, or heatbath (u1 only)")
    p.add_argument("--n", type=int, required=True, help="samples per chain in total (>= 1)")
    p.add_argument("--chains", type=int, default=4, help="independent chains run as one batch (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the chains (>= 0, default 0)")
    p.add_argument("--start", default="hot", help="hot (random, default) or cold (ordered) start")
    p.add_argument("--out", type=Path, default=None,
                   help="HDF5 ensemble file; resumed if it exists (default: a temporary file)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--tau", type=float, default=None, help="hmc: trajectory length τ (> 0, default 1)")
    p.add_argument("--steps", type=int, default=None, help="hmc: integration steps per trajectory (default 10)")
    p.add_argument("--integrator", default=None, help="hmc: leapfrog (default) or omelyan")
    p.add_argument("--step-size", type=float, default=None,
                   help="metropolis: initial proposal half-width δ (> 0, default 1)")
    p.add_argument("--target-acceptance", type=float, default=None,
                   help="hmc, metropolis: tune the step size to this acceptance in (0, 1) during "
                   "thermalization only (default: no tuning)")
    p.add_argument("--thermalize", type=int, default=100, help="updates discarded first (>= 0, default 100)")
    p.add_argument("--every", type=int, default=1, help="keep one sample every this many updates (>= 1)")
    p.add_argument("--chunk", type=int, default=50, help="samples per chunk written to the file (>= 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on small machines batched chains run fastest on one "
                        "thread, see benchmarks/results/hmc_throughput*.json)")
    from qlat.cli._common import with_flag_names

    p.set_defaults(func=with_flag_names(FLAGS)(cmd_sample))


# ------------------------------------------------------------------------------- building
def make_theory(args: argparse.Namespace) -> Any:
    """The theory named by ``args.theory`` with its couplings, checked."""
    from qlat.core.lattice import Lattice

    require(args.theory in THEORIES, "theory", f"unknown; known: {', '.join(THEORIES)}", args.theory)
    require(args.L >= 2, "--L", "must be an integer >= 2", args.L)
    require(1 <= args.ndim <= 4, "--ndim", "must be 1, 2, 3 or 4", args.ndim)
    lattice = Lattice((args.L,) * args.ndim)
    if args.theory == "u1":
        from qlat.theories import U1Theory

        require(args.m2 is None and args.lam is None, "--m2/--lam", "apply to phi4 only")
        require(args.beta is not None, "--beta", "is required for u1")
        require(math.isfinite(args.beta) and args.beta > 0, "--beta", "must be a finite number > 0", args.beta)
        return U1Theory(lattice, beta=args.beta)
    from qlat.theories import Phi4Theory

    require(args.beta is None, "--beta", "applies to u1 only")
    require(args.m2 is not None and args.lam is not None, "--m2/--lam", "are both required for phi4")
    return Phi4Theory(lattice, m2=args.m2, lam=args.lam)


def make_sampler(args: argparse.Namespace, theory_name: str) -> Any:
    """The sampler named by ``args.sampler`` (options of one sampler refused with another), checked."""
    require(args.sampler in SAMPLERS, "--sampler", f"unknown; known: {', '.join(SAMPLERS)}", args.sampler)
    require(args.thermalize >= 0, "--thermalize", "must be an integer >= 0", args.thermalize)
    require(args.every >= 1, "--every", "must be an integer >= 1", args.every)
    if args.target_acceptance is not None:
        require(args.sampler != "heatbath", "--target-acceptance", "applies to hmc and metropolis only")
        require(0 < args.target_acceptance < 1, "--target-acceptance", "must be in (0, 1)", args.target_acceptance)
    common = {"thermalization": args.thermalize, "every": args.every}
    if args.sampler != "metropolis":
        require(args.step_size is None, "--step-size", "applies to --sampler metropolis only", args.step_size)
    if args.sampler == "hmc":
        from qlat.samplers.hmc import HMC

        tau = 1.0 if args.tau is None else args.tau
        require(math.isfinite(tau) and tau > 0, "--tau", "must be a finite number > 0", tau)
        steps = 10 if args.steps is None else args.steps
        require(steps >= 1, "--steps", "must be an integer >= 1", steps)
        return HMC(trajectory_length=tau, n_steps=steps, integrator=args.integrator or "leapfrog",
                   target_acceptance=args.target_acceptance, **common)
    for flag, value in (("--tau", args.tau), ("--steps", args.steps), ("--integrator", args.integrator)):
        require(value is None, flag, "applies to --sampler hmc only", value)
    if args.sampler == "heatbath":
        from qlat.samplers.metropolis import U1Heatbath

        require(theory_name == "u1", "--sampler", "heatbath is for u1 only", args.sampler)
        return U1Heatbath(**common)
    from qlat.samplers.metropolis import LocalMetropolis

    step = 1.0 if args.step_size is None else args.step_size
    require(math.isfinite(step) and step > 0, "--step-size", "must be a finite number > 0", step)
    return LocalMetropolis(step_size=step, target_acceptance=args.target_acceptance, **common)


#: Library parameter → command-line flag, for errors that name what the user typed.
FLAGS = {"L": "--L", "shape": "--L", "beta": "--beta", "m2": "--m2", "lam": "--lam", "integrator": "--integrator",
         "trajectory_length": "--tau", "n_steps": "--steps", "step_size": "--step-size",
         "target_acceptance": "--target-acceptance", "thermalization": "--thermalize", "every": "--every",
         "chains": "--chains", "seed": "--seed"}

#: Largest chunk of configurations held in memory at once (bytes), chains × chunk × field size.
MAX_CHUNK_BYTES = 4 * 2**30


def _check_counts(args: argparse.Namespace) -> None:
    from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN

    require(args.n >= MIN_SAMPLES_PER_CHAIN, "--n",
            f"must be an integer >= {MIN_SAMPLES_PER_CHAIN} (the Γ-method needs that many samples per chain)",
            args.n)
    require(args.chains >= 1, "--chains", "must be an integer >= 1", args.chains)
    require(args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    require(args.chunk >= 1, "--chunk", "must be an integer >= 1", args.chunk)
    require(args.start in ("hot", "cold"), "--start", "must be hot or cold", args.start)
    require(args.L >= 2, "--L", "must be an integer >= 2", args.L)
    require(1 <= args.ndim <= 4, "--ndim", "must be 1, 2, 3 or 4", args.ndim)
    field = float(args.L) ** args.ndim * (args.ndim if args.theory == "u1" else 1)
    chunk_bytes = 8.0 * field * args.chains * min(args.chunk, args.n)
    require(chunk_bytes <= MAX_CHUNK_BYTES, "--L/--chains/--chunk",
            f"a chunk of configurations would take {chunk_bytes / 2**30:.3g} GiB of memory "
            f"(at most {MAX_CHUNK_BYTES / 2**30:.0f} GiB; lower --chunk, --chains or --L)")


def _first_difference(stored: dict[str, Any], wanted: dict[str, Any], prefix: str = "") -> str | None:
    for key in sorted(set(stored) | set(wanted)):
        a, b = stored.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif (list(a) if isinstance(a, tuple) else a) != (list(b) if isinstance(b, tuple) else b):
            return f"{prefix}{key}"
    return None


def check_resumable(ensemble: Any, *, theory: Any, sampler: Any, chains: int, seed: int, start: str) -> None:
    """Raise :class:`ParameterError` naming the first parameter that differs from the stored run."""
    prov = ensemble.provenance
    stored = {"theory": prov.get("theory"), "sampler": prov.get("sampler"), "seed": prov.get("seed"),
              "chains": prov.get("chains"), "start": prov.get("start")}
    wanted = {"theory": theory.params(), "sampler": sampler.params(), "seed": seed, "chains": chains,
              "start": start}
    key = _first_difference(stored, wanted)
    if key is not None:
        flag = _FLAGS.get(key, key)
        have = stored
        for part in key.split("."):
            have = have.get(part) if isinstance(have, dict) else None
        raise ParameterError(
            flag, f"differs from the run stored in {ensemble.path} ({key} = {have!r}); "
            "use the same parameters to resume or another --out", _lookup(wanted, key),
        )


def _lookup(data: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


# ------------------------------------------------------------------------------- interrupts
class _Interrupts:
    """SIGINT/SIGTERM → KeyboardInterrupt, deferred while a chunk is being written."""

    def __init__(self) -> None:
        self.critical = False
        self.pending = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.critical:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator["_Interrupts"]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self.critical = True
        try:
            yield
        finally:
            self.critical = False
        if self.pending:
            raise KeyboardInterrupt


# ------------------------------------------------------------------------------- running
def run_into(ensemble: Any, *, theory: Any, sampler: Any, n: int, chunk: int, start: str,
             progress: bool) -> None:
    """Continue the chains stored in ``ensemble`` until it holds ``n`` samples, chunk by chunk."""
    from qlat.samplers.stored import stored_state

    state = stored_state(ensemble)
    if state is None:
        state = sampler.init_state(theory, chains=ensemble.chains, seed=ensemble.seed, start=start)
    todo = n - ensemble.n_samples
    if todo <= 0:
        return
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, initial=ensemble.n_samples, desc=f"{sampler.name} {theory.name}", unit="sample",
                   file=sys.stderr, disable=None, leave=False)
    interrupts = _Interrupts()
    try:
        with interrupts.installed():
            while ensemble.n_samples < n:
                m = min(chunk, n - ensemble.n_samples)
                batch, state = sampler.run(theory, m, state=state)
                with interrupts.deferred():
                    ensemble.append(batch, state)
                if bar is not None:
                    bar.update(m)
    finally:
        if bar is not None:
            bar.close()


def command_line(args: argparse.Namespace) -> str:
    """The ``qlat sample`` command that reproduces this run (every option spelled out)."""
    words = ["qlat", "sample", args.theory]
    skip = {"func", "command", "theory", "json", "no_progress"}
    for key, value in sorted(vars(args).items()):
        if key in skip or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        words += [flag] if value is True else [flag, str(value)]
    return shlex.join(words)


def cmd_sample(args: argparse.Namespace) -> int:
    from qlat.core.ensemble import Ensemble

    _check_counts(args)
    require(args.threads >= 1, "--threads", "must be an integer >= 1", args.threads)
    import torch

    torch.set_num_threads(args.threads)
    theory = make_theory(args)
    sampler = make_sampler(args, theory.name)
    with contextlib.ExitStack() as stack:
        out = args.out
        if out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qlat-sample-"))) / "ensemble.h5"
        if out.exists():
            ensemble = Ensemble.open(out, mode="a")
            stack.enter_context(ensemble)
            check_resumable(ensemble, theory=theory, sampler=sampler, chains=args.chains, seed=args.seed,
                            start=args.start)
        else:
            require(out.parent.is_dir(), "--out", "directory does not exist", str(out.parent))
            ensemble = Ensemble.create(
                out, theory=theory, sampler=sampler, chains=args.chains, seed=args.seed,
                provenance={"start": args.start, "command_line": command_line(args)},
            )
            stack.enter_context(ensemble)
        try:
            run_into(ensemble, theory=theory, sampler=sampler, n=args.n, chunk=args.chunk, start=args.start,
                     progress=not args.no_progress)
        except KeyboardInterrupt:
            kept = f"{out} holds {ensemble.n_samples} samples per chain; rerun the same command to resume"
            sys.stderr.write(f"qlat: interrupted; {kept if args.out is not None else 'nothing kept (no --out)'}\n")
            return 130
        from qlat.cli.measure import report

        names = default_observables(theory.params()) + ["acceptance"]
        report(ensemble, names, skip=0, as_json=args.json, file_kept=args.out is not None)
    return 0
