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

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError, require

#: Run-level parameters stored beside the theory and sampler, and their flags.
_RUN_FLAGS = {"theory.name": "theory", "theory.shape": "--L/--ndim", "seed": "--seed", "chains": "--chains",
              "start": "--start"}


def _plugin_options() -> tuple[dict[str, Any], dict[str, Any]]:
    """Every registered theory and sampler class by name (imports the declared plug-ins)."""
    from qlat.core.registry import SAMPLERS, THEORIES

    return THEORIES.load_all(), SAMPLERS.load_all()


#: The ensemble's file name inside ``--out DIR``.
ENSEMBLE_NAME = "ensemble.h5"

#: Position in ``qlat --help``.
HELP_ORDER = 40
HELP = "Monte Carlo ensemble of a registered theory (phi4, u1, …) into a resumable HDF5 file in --out DIR"


def _help_theory(argv: list[str] | None, theories: dict[str, Any]) -> str | None:
    """The theory of ``qlat sample THEORY --help`` (its help shows only that theory's flags), else None."""
    if not argv or not ({"-h", "--help"} & set(argv)) or "sample" not in argv:
        return None
    words = [w for w in argv[argv.index("sample") + 1:] if not w.startswith("-")]
    return words[0] if words and words[0] in theories else None


def samplers_for(theory_cls: Any, samplers: dict[str, Any]) -> dict[str, Any]:
    """The registered samplers that can sample the theory (asked on the theory's ``example()``): a
    sampler that needs a trained model answers through its class method ``could_sample``."""
    theory = theory_cls.example()
    found = {}
    for name, cls in samplers.items():
        could = getattr(cls, "could_sample", None)
        try:
            ok = bool(could(theory)) if callable(could) else bool(cls().supports(theory))
        except Exception:  # noqa: BLE001 — a sampler that cannot even be asked is not offered
            ok = False
        if ok:
            found[name] = cls
    return found


def register(subparsers: Any, argv: list[str] | None = None) -> None:
    from qlat.cli._common import add_out_flag, add_progress_flag, add_seed_flag
    from qlat.core.options import merge_options

    theories, samplers = _plugin_options()
    only = _help_theory(argv, theories)
    if only is not None:  # qlat sample THEORY --help: that theory, and the samplers that can sample it
        theories = {only: theories[only]}
        samplers = samplers_for(theories[only], samplers)
    p = subparsers.add_parser(
        "sample",
        help=HELP,
        description="Run Markov chains of a registered theory into a resumable HDF5 ensemble (resumed if "
        "--out holds one with the same parameters) and report the default observables with Γ-method errors. "
        "Theories: " + ", ".join(sorted(theories)) + "; samplers: " + ", ".join(sorted(samplers)) + "."
        + ("" if only else " qlat sample THEORY --help shows only the flags of THEORY and of its samplers."),
    )
    p.add_argument("theory", metavar="THEORY", help=f"one of {', '.join(sorted(theories))}")
    p.add_argument("--L", type=int, default=8, help="lattice extent L (>= 2), lattice L^ndim (default 8)")
    p.add_argument("--ndim", type=int, default=2, help="number of dimensions (default 2)")
    default = "(default hmc)" if "hmc" in samplers else f"(give one: the default hmc cannot sample {only})"
    p.add_argument("--sampler", default="hmc", help=f"one of {', '.join(sorted(samplers))} {default}")
    p.add_argument("--n", type=int, required=True, help="samples per chain in total (>= 1)")
    p.add_argument("--chains", type=int, default=4, help="independent chains run as one batch (default 4)")
    add_seed_flag(p, "the chains")
    p.add_argument("--start", default="hot", help="hot (random, default) or cold (ordered) start")
    add_out_flag(p, f"the ensemble is written to DIR/{ENSEMBLE_NAME} and resumed from there if it exists "
                 "(default: a temporary file, deleted at the end)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--chunk", type=int, default=50, help="samples per chunk written to the file (>= 1)")
    add_progress_flag(p)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on small machines batched chains run fastest on one "
                        "thread, see benchmarks/results/hmc_throughput*.json)")
    groups = [(name, tuple(cls.OPTIONS)) for name, cls in sorted(theories.items())]
    groups += [(name, tuple(cls.OPTIONS)) for name, cls in sorted(samplers.items())]
    for opt, owners in merge_options(groups).values():
        opt.add_to(p, owners=owners)
    p.set_defaults(func=cmd_sample)


# ------------------------------------------------------------------------------- building
def _all_options() -> dict[str, Any]:
    from qlat.core.options import merge_options

    theories, samplers = _plugin_options()
    groups = [(name, tuple(cls.OPTIONS)) for name, cls in sorted(theories.items())]
    groups += [(name, tuple(cls.OPTIONS)) for name, cls in sorted(samplers.items())]
    return merge_options(groups)


def make_request(args: argparse.Namespace) -> Any:
    """The theory and sampler named by ``args.theory`` and ``args.sampler`` (registry), each built from its own
    options (:func:`qlat.analysis.montecarlo.chain_request`); an option of neither is refused."""
    from qlat.analysis.montecarlo import chain_request
    from qlat.core.options import collect, refuse_foreign
    from qlat.core.registry import SAMPLERS, THEORIES

    cls: Any = THEORIES.get(args.theory, parameter="THEORY")
    require(args.L >= 2, "--L", "must be an integer >= 2", args.L)
    require(1 <= args.ndim <= 4, "--ndim", "must be 1, 2, 3 or 4", args.ndim)
    sampler_cls: Any = SAMPLERS.get(args.sampler, parameter="--sampler")
    allowed = {o.flag for o in cls.OPTIONS} | {o.flag for o in sampler_cls.OPTIONS}
    refuse_foreign(args, _all_options(), allowed, what=f"theory {args.theory} with sampler {args.sampler}")
    return chain_request(args.theory, args.sampler, L=args.L, ndim=args.ndim,
                         theory_options=collect(cls.OPTIONS, args), sampler_options=collect(sampler_cls.OPTIONS, args),
                         names={"theory": "THEORY", "sampler": "--sampler"})


def flag_names(args: argparse.Namespace) -> dict[str, str]:
    """Library parameter → command-line flag of the chosen theory and sampler (for one-line errors)."""
    from qlat.core.registry import SAMPLERS, THEORIES

    mapping = {"L": "--L", "shape": "--L/--ndim", "chains": "--chains", "seed": "--seed", "n": "--n", "path": "--out"}
    for registry, name in ((THEORIES, args.theory), (SAMPLERS, args.sampler)):
        if name in registry:
            plugin: Any = registry.get(name)
            mapping.update({o.dest: o.flag for o in plugin.OPTIONS})
    return mapping


def _resume_flags(theory: Any, sampler: Any) -> dict[str, str]:
    flags = dict(_RUN_FLAGS)
    flags.update({f"theory.{o.dest}": o.flag for o in type(theory).OPTIONS})
    flags.update({f"sampler.{o.dest}": o.flag for o in type(sampler).OPTIONS})
    flags["sampler.name"] = "--sampler"
    return flags


def _check_counts(args: argparse.Namespace) -> None:
    from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN

    require(args.n >= MIN_SAMPLES_PER_CHAIN, "--n",
            f"must be an integer >= {MIN_SAMPLES_PER_CHAIN} (the Γ-method needs that many samples per chain)",
            args.n)
    require(args.chains >= 1, "--chains", "must be an integer >= 1", args.chains)
    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    require(args.chunk >= 1, "--chunk", "must be an integer >= 1", args.chunk)
    require(args.start in ("hot", "cold"), "--start", "must be hot or cold", args.start)
    require(args.L >= 2, "--L", "must be an integer >= 2", args.L)
    require(1 <= args.ndim <= 4, "--ndim", "must be 1, 2, 3 or 4", args.ndim)


def _check_chunk_memory(args: argparse.Namespace, theory: Any) -> None:
    """:func:`qlat.analysis.montecarlo.require_sampling_memory`, naming the flags."""
    from qlat.analysis.montecarlo import require_sampling_memory

    where = Path(tempfile.gettempdir()) if args.out is None else (args.out if args.out.is_dir() else args.out.parent)
    require_sampling_memory(theory.field_shape, chains=args.chains, chunk=args.chunk, n=args.n, where=where,
                            parameter="--L/--chains/--chunk", n_parameter="--n")


def check_resumable(ensemble: Any, *, theory: Any, sampler: Any, chains: int, seed: int, start: str) -> None:
    """:func:`qlat.samplers.chains.check_resumable` naming the flag of the first parameter that differs."""
    from qlat.samplers.chains import check_resumable as check

    check(ensemble, theory=theory, sampler=sampler, chains=chains, seed=seed, start=start,
          names=_resume_flags(theory, sampler))


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
    from qlat.cli._common import with_flag_names

    return int(with_flag_names(flag_names(args))(_cmd_sample)(args))


def _discard_new_file(path: Path, created: os.stat_result) -> None:
    """Remove the empty ensemble this run created at ``path`` (only if it is still that file)."""
    try:
        if os.path.samestat(os.stat(path), created):
            path.unlink()
    except OSError:
        pass


def _check_out(out: Path | None) -> None:
    """--out names a folder (docs/cli.md): not a file, not a dangling link, its parent existing; an
    old-style file name (``--out x.h5``) is refused with the folder to give instead."""
    if out is None:
        return
    from qlat.cli._common import check_out_folder

    if out.is_file() and out.suffix.lower() in (".h5", ".hdf5"):  # an ensemble written before --out was a folder
        raise ParameterError("--out", f"is a file; --out is a folder now (docs/cli.md): to resume this ensemble, move "
                             f"it to DIR/{ENSEMBLE_NAME} and pass --out DIR", str(out))
    check_out_folder(out, "--out")
    require(out.is_dir() or out.parent.is_dir(), "--out", "its parent folder does not exist", str(out),
            hint=f"create {out.parent} first, or give another --out")


def _cmd_sample(args: argparse.Namespace) -> int:
    from qlat.cli._common import announce_seed, info, resolve_seed, show_progress
    from qlat.core.ensemble import Ensemble

    _check_counts(args)
    _check_out(args.out)
    require(args.threads >= 1, "--threads", "must be an integer >= 1", args.threads)
    from qlat.core.compute import set_threads

    set_threads(args.threads)
    request = make_request(args)
    theory, sampler = request.theory, request.sampler
    _check_chunk_memory(args, theory)
    created = None  # os.stat of the file this run created, if it did
    made_folder = False  # whether this run created --out
    with contextlib.ExitStack() as stack:
        if args.out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qlat-sample-"))) / ENSEMBLE_NAME
        else:
            out = args.out / ENSEMBLE_NAME
        if out.exists():
            # checked read-only first: a file holding another run is refused without being touched
            # (opening an HDF5 file for writing rewrites its superblock)
            with Ensemble.open(out, mode="r") as stored:
                resolve_seed(args, stored=stored.seed, announce=False)
                check_resumable(stored, theory=theory, sampler=sampler, chains=args.chains, seed=args.seed,
                                start=args.start)
                have, checksum = stored.n_samples, stored.checksum
            ensemble = Ensemble.open(out, mode="a" if have < args.n else "r", verify=False)
            stack.enter_context(ensemble)
            if ensemble.checksum != checksum:  # appended to in between (by whom?): verify it all again
                ensemble.verify()
                check_resumable(ensemble, theory=theory, sampler=sampler, chains=args.chains, seed=args.seed,
                                start=args.start)
            have = ensemble.n_samples
            if have >= args.n:
                info(f"{out} holds {have} samples per chain (>= --n {args.n}): nothing to run; reporting all {have}")
            elif have > 0:
                info(f"resuming {out} from {have} samples per chain to --n {args.n}")
        else:
            resolve_seed(args, announce=False)
            if args.out is not None and not args.out.is_dir():
                try:
                    args.out.mkdir()
                    made_folder = True
                except FileExistsError:
                    pass  # made by a writer racing this one: Ensemble.create below decides
                except OSError as exc:
                    raise ParameterError("--out", f"cannot create the folder ({exc.strerror or exc})",
                                         str(args.out)) from None
            try:
                ensemble = Ensemble.create(
                    out, theory=theory, sampler=sampler, chains=args.chains, seed=args.seed,
                    provenance={"start": args.start, "command_line": command_line(args)},
                )
            except BaseException:
                _discard_new_folder(args.out, made_folder)
                raise
            stack.enter_context(ensemble)
            created = os.stat(out)
        try:
            request.run_into(ensemble, n=args.n, chunk=args.chunk, start=args.start, progress=show_progress(args))
        except KeyboardInterrupt:
            kept = f"{out} holds {ensemble.n_samples} samples per chain; rerun the same command to resume"
            sys.stderr.write(f"qlat: interrupted; {kept if args.out is not None else 'nothing kept (no --out)'}\n")
            return 130
        except Exception:
            # refused (or failed) before the first chunk, e.g. a sampler that checks the lattice at its
            # first step: the file this run created holds nothing; it goes, so a refusal leaves nothing
            if created is not None and ensemble.n_samples == 0:
                ensemble.close()
                _discard_new_file(out, created)
                _discard_new_folder(args.out, made_folder)
            raise
        announce_seed(args)  # after the first chunk: a refusal at the first step stays one line
        from qlat.cli._report import report

        names = list(theory.default_observables()) + ["acceptance"]
        report(ensemble, names, skip=0, as_json=args.json, file_kept=args.out is not None)
        if args.out is None:
            info(f"no --out: the ensemble (seed {args.seed}) was kept in a temporary file and is deleted now; "
                 "pass --out DIR to keep it")
    return 0


def _discard_new_folder(folder: Path | None, made: bool) -> None:
    """Remove the --out folder this run created, if it is still empty (a refusal leaves nothing)."""
    if folder is not None and made:
        with contextlib.suppress(OSError):
            folder.rmdir()
