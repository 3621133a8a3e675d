"""``qlat flow train|eval``: train a normalizing flow for φ⁴ or 2D U(1), and evaluate a trained one.

``qlat flow train phi4 --L 8 --m2 -4 --lam 8 --out DIR`` (or ``u1 --L 8 --beta 2``) trains by
reverse KL (:mod:`qlat.samplers.flow.training`), checkpoints into ``DIR`` (weights, training
state, model card; see :mod:`qlat.samplers.flow.checkpoint`) and resumes from ``DIR`` if it holds
a model of the same theory and architecture (``--steps`` is the total; ``--new-phase`` continues
with another ``--batch``/``--lr``, the cosine schedule restarted at the step reached).  At the end the flow is
evaluated on ``--eval-n`` fresh samples: ``kl`` (⟨log q + S⟩ = KL(q‖p) − log Z), ``ess``
((Σw)²/(NΣw²), bootstrap error), ``acceptance`` (the equilibrium independence-Metropolis acceptance
E_{p×q}[min(1, w'/w)], the quantity a sampler chain's acceptance estimates; bootstrap error) and
``pareto_k`` (the tail shape of the weights; a warning at k̂ >= 0.5, where the weights have infinite
variance).

``--layout tree`` (u1) puts the gauge-fixed comb-tree plaquette flow first
(:mod:`qlat.samplers.flow.tree`; ``--layers 0``: the tree alone; ``--tail N``: its last N stages
conditioned on the plaquettes already processed).  ``--trainable shared`` then ``--trainable tail``
train its two parts in phases, and ``--init MODEL_DIR`` starts a new model from a flow trained at another
β or L (the tail may be added then): the shared map trained at small L, the tail at the target L
(docs/tree-flow.md).

``qlat flow eval DIR`` prints the same metrics, plus the default observables of the theory and
their τ_int measured on an independence-Metropolis chain of the flow (``--chains`` × ``--n``).
The flow is exact through that Metropolis test: ``qlat sample … --sampler flow --model DIR``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError, require

#: Position in ``qlat --help``.
HELP_ORDER = 60

FLAGS = {"L": "--L", "shape": "--L", "beta": "--beta", "m2": "--m2", "lam": "--lam", "theory": "THEORY",
         "layers": "--layers", "n_layers": "--layers", "hidden": "--hidden", "kernel_size": "--kernel",
         "coupling": "--coupling", "bins": "--bins", "n_mix": "--mix", "steps": "--steps", "batch": "--batch",
         "lr": "--lr", "seed": "--seed", "clip_norm": "--clip", "model": "MODEL_DIR", "n": "--n",
         "chains": "--chains", "checkpoint_every": "--checkpoint-every", "gradient": "--gradient",
         "context": "--context", "m2/lam": "--m2/--lam", "new_phase": "--new-phase", "out": "--out",
         "dtype": "--dtype", "layout": "--layout", "tail": "--tail", "trainable": "--trainable", "init": "--init",
         "z2": "--z2"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("flow", help="train and evaluate normalizing flows (φ⁴, 2D U(1))",
                              description="Normalizing flows as trivializing maps, exact by independence "
                              "Metropolis (arXiv:2101.08176, 2003.06413).")
    sub = p.add_subparsers(dest="flow_command", metavar="ACTION")
    sub.required = True
    from qlat.cli._common import add_out_flag, add_progress_flag, add_seed_flag, with_flag_names

    t = sub.add_parser("train", help="train a flow by reverse KL into MODEL_DIR (resumed if it exists)")
    t.add_argument("theory", metavar="THEORY", help="phi4 or u1")
    t.add_argument("--L", type=int, default=8, help="lattice extent (2D L×L; u1 needs a multiple of 4; default 8)")
    t.add_argument("--beta", type=float, default=None, help="u1: gauge coupling β (> 0)")
    t.add_argument("--m2", type=float, default=None, help="phi4: bare mass squared m²")
    t.add_argument("--lam", type=float, default=None, help="phi4: quartic coupling λ (>= 0)")
    t.add_argument("--layers", type=int, default=16, help="coupling layers (default 16; with --layout tree the stripe layers after the tree, 0: none)")
    t.add_argument("--hidden", default="8,8", help="hidden channels of the conditioners, comma separated (8,8); "
                   "with --layout tree also the widths of the tail's MLP")
    t.add_argument("--kernel", type=int, default=3, help="odd convolution kernel size (default 3)")
    t.add_argument("--coupling", default=None, help="u1: plaquette coupling spline (default; ncp with --layout tree) or ncp")
    t.add_argument("--bins", type=int, default=None, help="u1 spline: bins (default 8)")
    t.add_argument("--mix", type=int, default=None, help="u1 ncp: mixture components (default 2; 8 with --layout tree)")
    t.add_argument("--layout", default=None,
                   help="u1: stripes (default: Kanwar et al.'s stripe couplings) or tree (the gauge-fixed comb-tree "
                   "plaquette flow, then --layers stripe couplings; --layers 0: the tree alone; its map defaults "
                   "to an NCP mixture, --coupling ncp --mix 8)")
    t.add_argument("--tail", type=int, default=None,
                   help="u1 tree: last-column stages conditioned on the processed plaquettes (default 0)")
    t.add_argument("--context", default=None,
                   help="u1: conditioner input loops (default: frozen plaquettes + the 1x2 loop of each active pair) "
                   "or plaquettes (frozen plaquettes only, as arXiv:2003.06413)")
    t.add_argument("--z2", action="store_true", help="phi4: Z2-symmetric couplings (φ → −φ exact)")
    t.add_argument("--steps", type=int, default=1000, help="training steps in total (default 1000)")
    t.add_argument("--batch", type=int, default=64, help="batch size (>= 2, default 64)")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate, cosine-annealed (default 1e-3)")
    t.add_argument("--clip", type=float, default=10.0, help="gradient-norm clipping (> 0, default 10)")
    add_seed_flag(t, "the initial weights and the training batches")
    t.add_argument("--gradient", default="reparam",
                   help="gradient estimator: reparam (default) or path (zero variance at q = p, ~2x per step)")
    add_out_flag(t, "the model (weights, training state, model card); resumed if it holds this model", required=True)
    t.add_argument("--max-minutes", type=float, default=None,
                   help="stop training after this many minutes of wall clock (checkpointed; rerun to resume)")
    t.add_argument("--new-phase", action="store_true",
                   help="resume MODEL_DIR in a new phase: this --batch, --lr, --clip, --gradient from the step on, "
                   "the cosine schedule restarted there and ending at --steps (e.g. a larger batch late in training)")
    t.add_argument("--trainable", default="all",
                   help="parameters this phase trains: all (default), or for a tree flow with --tail: shared "
                   "(the one-plaquette map), then tail (with --new-phase, or a new --out with --init)")
    t.add_argument("--init", type=Path, default=None, metavar="MODEL_DIR",
                   help="start a new model from the flow in MODEL_DIR (trained at another --beta or --L; same "
                   "architecture, or a tree flow without --tail when this one has one)")
    t.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (>= 1, default 100)")
    t.add_argument("--eval-n", type=int, default=4096, help="samples for the final ESS/acceptance (default 4096)")
    t.add_argument("--dtype", default="float32", help="training precision float32 (default) or float64")
    t.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    t.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    t.add_argument("--json", action="store_true", help="print the final metrics as one JSON object")
    add_progress_flag(t)
    t.set_defaults(func=with_flag_names(FLAGS)(cmd_train))

    e = sub.add_parser("eval", help="ESS, acceptance and observables of a trained flow")
    e.add_argument("model_dir", type=Path, metavar="MODEL_DIR", help="directory made by 'qlat flow train --out'")
    e.add_argument("--n", type=int, default=4096, help="flow samples for ESS, and chain length (default 4096)")
    e.add_argument("--chains", type=int, default=4, help="independence-Metropolis chains (default 4)")
    add_seed_flag(e, "the flow samples and the chains")
    e.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_progress_flag(e)
    e.set_defaults(func=with_flag_names(FLAGS)(cmd_eval))


# ------------------------------------------------------------------------------- helpers
def _architecture(args: argparse.Namespace) -> dict[str, Any]:
    try:
        hidden = [int(h) for h in str(args.hidden).split(",") if h.strip()]
    except ValueError:
        raise ParameterError("--hidden", "must be comma-separated positive integers", args.hidden) from None
    arch: dict[str, Any] = {"n_layers": args.layers, "hidden": hidden, "kernel_size": args.kernel}
    if args.theory == "u1":
        require(not args.z2, "--z2", "applies to phi4 only")
        for key, value in (("coupling", args.coupling), ("bins", args.bins), ("n_mix", args.mix),
                           ("context", args.context), ("layout", args.layout), ("tail", args.tail)):
            if value is not None:
                arch[key] = value
    else:
        arch["z2"] = bool(args.z2)
    return arch


def _print(result: dict[str, Any], *, as_json: bool, title: str) -> None:
    from qlat.analysis.flow_evaluation import flow_table
    from qlat.cli._common import print_json

    if as_json:
        print_json(result)
        return
    sys.stdout.write(flow_table(result, title=title))


# ------------------------------------------------------------------------------- commands
#: Files of a model folder written before folders had a manifest (accepted and adopted on resume).
MODEL_FILES = ("model.json", "weights-*.pt", "training-*.pt")


def _require_training_memory(args: argparse.Namespace, arch: dict[str, Any]) -> None:
    """Refuse absurd --L/--batch/--hidden/--layers with the estimate (:mod:`qlat.samplers.flow.sizes`),
    before the theory or the model is built; the flag blamed is the one furthest above its default."""
    from qlat.core.resources import require_memory
    from qlat.samplers.flow.sizes import training_bytes

    itemsize = 8 if args.dtype == "float64" else 4
    need = training_bytes((args.L, args.L), arch, batch=args.batch, itemsize=itemsize)
    hidden = float(sum(arch["hidden"]) or 1)
    growth = {"--L": (float(args.L) / 8) ** 2, "--batch": float(args.batch) / 64, "--hidden": (hidden / 16) ** 2,
              "--layers": float(arch["n_layers"]) / 16}
    flag = max(growth, key=lambda k: growth[k])
    require_memory(need, flag, f"training a flow on a lattice of {args.L}×{args.L} sites (batch {args.batch}, "
                   f"{arch['n_layers']} layers, hidden {','.join(map(str, arch['hidden']))})")


def _stored_seed(out: Path) -> int | None:
    """The seed of the training stored in ``out`` (to resume without --seed), None if it holds no model."""
    from qlat.samplers.flow.checkpoint import CARD_NAME, read_card

    if not (out / CARD_NAME).is_file():
        return None
    seed = read_card(out, parameter="--out")["training"]["config"].get("seed")
    return int(seed) if isinstance(seed, int) and seed >= 0 else None


def cmd_train(args: argparse.Namespace) -> int:
    from qlat.cli._common import announce_seed, check_out_folder, resolve_seed, show_progress
    from qlat.core.compute import require_device, set_threads
    from qlat.core.outdir import claim_output_dir

    require(args.threads >= 1, "--threads", "must be an integer >= 1", args.threads)
    require(args.dtype in ("float32", "float64"), "--dtype", "must be float32 or float64", args.dtype)
    require(args.eval_n >= 16, "--eval-n", "must be an integer >= 16", args.eval_n)
    require(args.max_minutes is None or args.max_minutes > 0, "--max-minutes", "must be > 0", args.max_minutes)
    require(args.checkpoint_every >= 1, "--checkpoint-every", "must be an integer >= 1", args.checkpoint_every)
    require(args.L >= 2, "--L", "must be an integer >= 2", args.L)
    require(args.batch >= 2, "--batch", "must be an integer >= 2", args.batch)
    require(args.layers >= 0, "--layers", "must be an integer >= 0 (0 only with --layout tree)", args.layers)
    require(args.device == "cpu" or args.device.startswith("cuda"), "--device", "must be cpu or cuda[:i]",
            args.device)
    check_out_folder(args.out)
    require(args.out.is_dir() or args.out.parent.is_dir(), "--out", "its parent folder does not exist", str(args.out),
            hint=f"create {args.out.parent} first, or give another --out")
    arch = _architecture(args)
    _require_training_memory(args, arch)  # before anything is built or allocated
    from qlat.analysis.flow_training import flow_theory, flow_training_request

    require_device(args.device, "--device")
    set_threads(args.threads)
    theory = flow_theory(args.theory, L=args.L, beta=args.beta, m2=args.m2, lam=args.lam, coupling=args.coupling,
                         bins=args.bins, mix=args.mix, context=args.context, layout=args.layout, tail=args.tail,
                         names=FLAGS)
    resolve_seed(args, stored=_stored_seed(args.out), announce=False)
    # the architecture is checked before anything is written (a bad flag leaves no --out behind)
    request = flow_training_request(theory, arch, steps=args.steps, batch=args.batch, lr=args.lr, clip_norm=args.clip,
                                    seed=args.seed, gradient=args.gradient, trainable=args.trainable, init=args.init)
    # every check done: the folder is claimed (two writers never share it; other parameters are refused)
    claim = claim_output_dir(args.out, command="qlat flow train", flag="--out", ignore=MODEL_FILES,
                             params={"theory": theory.params(), "architecture": request.fresh, "seed": args.seed,
                                     "dtype": args.dtype},
                             names={"seed": "--seed", "dtype": "--dtype",
                                    **{f"theory.{k}": FLAGS.get(k, k) for k in theory.params()},
                                    **{f"architecture.{k}": FLAGS.get(k, k) for k in request.fresh}})
    try:
        announce_seed(args)
        claim.remove_stale_temporaries()  # left by a killed run (the lock is ours now)
        training = request.run(args.out, dtype=args.dtype, device=args.device, new_phase=args.new_phase,
                               checkpoint_every=args.checkpoint_every, max_minutes=args.max_minutes,
                               eval_n=args.eval_n, progress=show_progress(args), names=FLAGS)
    finally:
        claim.release()
    if training.interrupted:
        sys.stderr.write(f"qlat: interrupted; {args.out} holds the last checkpoint; rerun the same command to resume\n")
        return 130
    _print(training.to_dict(), as_json=args.json, title=training.title)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qlat.analysis.flow_evaluation import evaluate_flow_model
    from qlat.cli._common import announce_seed, resolve_seed, show_progress
    from qlat.core.compute import set_threads
    from qlat.core.resources import require_memory
    from qlat.samplers.flow.checkpoint import card_architecture, read_card
    from qlat.samplers.flow.sizes import sampling_bytes

    require(args.threads >= 1, "--threads", "must be an integer >= 1", args.threads)
    require(args.n >= 16, "--n", "must be an integer >= 16", args.n)
    require(args.chains >= 1, "--chains", "must be an integer >= 1", args.chains)
    resolve_seed(args, announce=False)
    card = read_card(args.model_dir, parameter="MODEL_DIR")  # schema-checked before the weights are read
    shape = card["theory"]["shape"]
    need = sampling_bytes(shape, card_architecture(card), n=args.n, chains=args.chains)
    require_memory(need, "--n" if args.n * 10 >= args.chains * 5 else "--chains",
                   f"{args.n} flow samples and {args.chains} chains on a {'×'.join(map(str, shape))} lattice")
    set_threads(args.threads)
    announce_seed(args)
    evaluation = evaluate_flow_model(args.model_dir, n=args.n, chains=args.chains, seed=args.seed,
                                     progress=show_progress(args))
    _print(evaluation.to_dict(), as_json=args.json, title=evaluation.title)
    return 0
