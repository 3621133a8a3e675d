"""``qlat slmc train``: effective models for self-learning Monte Carlo of the double exchange model.

``qlat slmc train --L 6 --J 1 --T 0.05 --model transformer --layers 2 --out MODEL_DIR`` draws
training configurations from the exact local Metropolis chain (``--n`` per chain, ``--chains``),
fits the effective model (linear: least squares; transformer: MSE with AdamW, train/validation
split ``--val-fraction``), optionally retrains online (``--rounds R``: R−1 more rounds, each adding
``--n`` configurations per chain from the SLMC chain of the current model) and writes ``model.pt`` +
``card.json`` into ``MODEL_DIR``; ``--init OLD_DIR`` continues a trained transformer on new data (online
retraining) or grows it by one layer (``--layers`` one more) that starts as the identity.  ``--check N`` then runs N SLMC updates per chain and reports the
acceptance with its Γ-method error.  ``--json`` prints one object: ``train_mse``, ``val_mse`` (units
of t², errors from the spread of the squared residuals), ``acceptance`` (with ``--check``) as
Estimates, plus ``model``, ``parameters`` and the training record.

Sampling is ``qlat sample double-exchange --L 6 --J 1 --T 0.05 --sampler slmc --model MODEL_DIR`` (or
``--sampler exact-local``); ``qlat measure`` works on the ensembles.  Geometry: ``--L`` (L×L periodic)
or ``--shape LxxLy`` with ``--boundary periodic|open``; energies in units of t.  See arXiv:2306.11527.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from qlat.core.errors import require

#: Position in ``qlat --help``.
HELP_ORDER = 70

#: Library parameter → command-line flag.
FLAGS = {"L": "--L", "shape": "--shape", "boundary": "--boundary", "t": "--t", "J": "--J", "mu": "--mu",
         "T": "--T", "layers": "--layers", "heads": "--heads", "radius": "--radius", "shells": "--shells",
         "model": "--model", "epochs": "--epochs", "lr": "--lr", "batch_size": "--batch",
         "val_fraction": "--val-fraction", "chains": "--chains", "seed": "--seed", "n": "--n",
         "thermalization": "--thermalize", "every": "--every"}


def _physics(p: argparse.ArgumentParser) -> None:
    from qlat.cli._common import add_progress_flag, add_seed_flag

    p.add_argument("--L", type=int, default=6, help="lattice L×L (>= 2, default 6)")
    p.add_argument("--shape", default=None, help="lattice LxxLy instead of --L (e.g. 2x1)")
    p.add_argument("--boundary", default="periodic", help="periodic (default) or open")
    p.add_argument("--t", type=float, default=1.0, help="hopping t (> 0, default 1: the unit of energy)")
    p.add_argument("--J", type=float, required=True, help="spin–fermion coupling J (>= 0)")
    p.add_argument("--mu", type=float, default=0.0, help="chemical potential μ (default 0)")
    p.add_argument("--T", type=float, required=True, help="temperature T (> 0)")
    p.add_argument("--chains", type=int, default=8, help="chains run as one batch (default 8)")
    add_seed_flag(p, "the chains, the model's initial weights and the training split")
    p.add_argument("--thermalize", type=int, default=100, help="sweeps/updates discarded first (default 100)")
    p.add_argument("--every", type=int, default=1, help="keep one exact-chain configuration every this many sweeps")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_progress_flag(p)


def register(subparsers: Any) -> None:
    from qlat.analysis.slmc_training import DEFAULT_SHELLS
    from qlat.cli._common import add_out_flag, with_flag_names

    p = subparsers.add_parser("slmc", help="self-learning Monte Carlo for the double exchange model",
                              description="Self-learning Monte Carlo (arXiv:2306.11527): train effective models, "
                              "sample the double exchange model exactly.")
    sub = p.add_subparsers(dest="slmc_command", metavar="ACTION")  # train (sampling: qlat sample)
    sub.required = True
    t = sub.add_parser("train", help="train an effective model on exact-chain configurations",
                       description="Train a linear or equivariant-transformer effective model on configurations "
                       "of the exact local Metropolis chain and save it (state dict + JSON card).")
    _physics(t)
    t.add_argument("--model", default="transformer", help="linear or transformer (default)")
    t.add_argument("--layers", type=int, default=1, help="transformer: attention layers (>= 0, default 1)")
    t.add_argument("--heads", type=int, default=2, help="transformer: attention heads (default 2)")
    t.add_argument("--radius", type=int, default=1, help="transformer: query/key/value neighbourhood radius")
    t.add_argument("--shells", type=int, default=None,
                   help=f"neighbour shells of the effective energy (>= 1; default {DEFAULT_SHELLS}, or as many as "
                   "the lattice has if fewer: a 2x1 lattice has 1)")
    t.add_argument("--n", type=int, default=100, help="training configurations per chain per round (default 100)")
    t.add_argument("--rounds", type=int, default=1, help="training rounds; rounds after the first add SLMC data")
    t.add_argument("--epochs", type=int, default=100, help="transformer: AdamW epochs (default 100)")
    t.add_argument("--lr", type=float, default=1e-2, help="transformer: AdamW learning rate (default 1e-2)")
    t.add_argument("--batch", type=int, default=32, help="transformer: minibatch size (default 32)")
    t.add_argument("--val-fraction", type=float, default=0.2, help="validation fraction in (0, 1) (default 0.2)")
    t.add_argument("--check", type=int, default=0, help="SLMC updates per chain to measure the acceptance (0: none)")
    t.add_argument("--init", type=Path, default=None,
                   help="start from this trained transformer (same theory): continue it (same --layers) or "
                   "grow it by one identity layer (--layers one more)")
    add_out_flag(t, "the model (model.pt, card.json)", required=True)
    t.set_defaults(func=with_flag_names(FLAGS)(cmd_train))



def _check_common(args: argparse.Namespace) -> None:
    require(args.chains >= 1, "--chains", "must be an integer >= 1", args.chains)
    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    require(args.thermalize >= 0, "--thermalize", "must be an integer >= 0", args.thermalize)
    require(args.every >= 1, "--every", "must be an integer >= 1", args.every)


def _shape(args: argparse.Namespace) -> tuple[int, int] | None:
    """The lattice the flags give (None if --shape does not parse: the theory refuses it, naming --shape)."""
    if args.shape is None:
        return (args.L, args.L)
    try:
        lx, ly = (int(part) for part in str(args.shape).lower().split("x"))
    except ValueError:
        return None
    return (lx, ly)


def _require_memory(args: argparse.Namespace) -> None:
    """Refuse absurd --L/--shape/--chains/--n/--heads/--batch with the estimate (:mod:`qlat.samplers.slmc.sizes`),
    before the theory is built; the flag blamed is the one furthest above its default."""
    from qlat.core.resources import require_memory
    from qlat.samplers.slmc.sizes import training_bytes

    shape = _shape(args)
    if shape is None:
        return
    transformer = args.model == "transformer"
    need = training_bytes(shape, chains=args.chains, n=args.n, rounds=args.rounds, batch=args.batch, heads=args.heads,
                          layers=args.layers, transformer=transformer)
    sites = float(shape[0]) * float(shape[1])
    growth = {"--shape" if args.shape else "--L": (sites / 36) ** 2, "--chains": args.chains / 8, "--n": args.n / 100}
    if transformer:
        growth.update({"--heads": args.heads / 2, "--batch": args.batch / 32, "--layers": args.layers / 1})
    flag = max(growth, key=lambda k: growth[k])
    require_memory(need, flag, f"training on a {shape[0]}×{shape[1]} lattice ({args.chains} chains × {args.n} "
                   f"configurations{f', {args.heads} heads, {args.layers} layers' if transformer else ''})")


def _check_train(args: argparse.Namespace) -> None:
    _check_common(args)
    require(args.model in ("linear", "transformer"), "--model", "must be linear or transformer", args.model)
    require(args.n >= 2, "--n", "must be an integer >= 2", args.n)
    require(args.rounds >= 1, "--rounds", "must be an integer >= 1", args.rounds)
    require(args.check >= 0, "--check", "must be an integer >= 0", args.check)
    require(0 < args.val_fraction < 1, "--val-fraction", "must be in (0, 1)", args.val_fraction)
    require(args.epochs >= 1, "--epochs", "must be an integer >= 1", args.epochs)
    require(math.isfinite(args.lr) and args.lr > 0, "--lr", "must be a number > 0", args.lr)
    require(args.batch >= 1, "--batch", "must be an integer >= 1", args.batch)
    require(args.layers >= 0, "--layers", "must be an integer >= 0", args.layers)
    require(args.heads >= 1, "--heads", "must be an integer >= 1", args.heads)
    require(args.radius >= 0, "--radius", "must be an integer >= 0", args.radius)
    require(args.shells is None or args.shells >= 1, "--shells", "must be an integer >= 1", args.shells)


def cmd_train(args: argparse.Namespace) -> int:
    from qlat.analysis.slmc_training import slmc_theory, slmc_training_request
    from qlat.cli._common import announce_seed, check_out_folder, print_json, resolve_seed, show_progress
    from qlat.core.compute import set_threads
    from qlat.core.outdir import claim_output_dir

    _check_train(args)
    if args.init is not None:
        require(args.init.is_dir(), "--init", "is not a model folder (qlat slmc train --out)", str(args.init))
    _require_memory(args)  # before the theory or a model is built
    set_threads(1)
    theory = slmc_theory(L=args.L, shape=args.shape, boundary=args.boundary, t=args.t, J=args.J, mu=args.mu, T=args.T)
    check_out_folder(args.out)
    require(args.out.is_dir() or args.out.parent.is_dir(), "--out", "its parent folder does not exist", str(args.out),
            hint=f"create {args.out.parent} first, or give another --out")
    resolve_seed(args, announce=False)
    # the architecture (and --init) checked: nothing written yet
    request = slmc_training_request(theory, model=args.model, layers=args.layers, heads=args.heads,
                                    radius=args.radius, shells=args.shells, seed=args.seed, init=args.init,
                                    names={**FLAGS, "init": "--init"})
    # every check done: the folder is claimed (a second writer, or a run with other parameters, is refused)
    config = request.network.config()
    params = {"theory": theory.params(), "model": args.model, "config": config, "seed": args.seed,
              "n": args.n, "rounds": args.rounds, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
              "val_fraction": args.val_fraction, "thermalize": args.thermalize, "every": args.every,
              "chains": args.chains, "init": None if args.init is None else str(args.init)}
    names = {k: FLAGS.get(k, f"--{k}") for k in params}
    names.update({f"theory.{k}": FLAGS.get(k, k) for k in theory.params()})
    names.update({f"config.{k}": FLAGS.get(k, k) for k in config})
    claim = claim_output_dir(args.out, command="qlat slmc train", flag="--out", params=params, names=names,
                             ignore=("model.pt", "card.json"))
    try:
        announce_seed(args)
        claim.remove_stale_temporaries()
        training = request.run(args.out, n=args.n, chains=args.chains, thermalize=args.thermalize, every=args.every,
                               rounds=args.rounds, epochs=args.epochs, lr=args.lr, batch=args.batch,
                               val_fraction=args.val_fraction, check=args.check, progress=show_progress(args),
                               command=" ".join(sys.argv))
    finally:
        claim.release()
    if args.json:
        print_json(training.to_dict())
    else:
        sys.stdout.write(training.summary() + "\n")
    return 0
