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
    p.add_argument("--L", type=int, default=6, help="lattice L×L (>= 2, default 6)")
    p.add_argument("--shape", default=None, help="lattice LxxLy instead of --L (e.g. 2x1)")
    p.add_argument("--boundary", default="periodic", help="periodic (default) or open")
    p.add_argument("--t", type=float, default=1.0, help="hopping t (> 0, default 1: the unit of energy)")
    p.add_argument("--J", type=float, required=True, help="spin–fermion coupling J (>= 0)")
    p.add_argument("--mu", type=float, default=0.0, help="chemical potential μ (default 0)")
    p.add_argument("--T", type=float, required=True, help="temperature T (> 0)")
    p.add_argument("--chains", type=int, default=8, help="chains run as one batch (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed (>= 0, default 0)")
    p.add_argument("--thermalize", type=int, default=100, help="sweeps/updates discarded first (default 100)")
    p.add_argument("--every", type=int, default=1, help="keep one exact-chain configuration every this many sweeps")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def register(subparsers: Any) -> None:
    from qlat.cli._common import with_flag_names

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
    t.add_argument("--shells", type=int, default=4, help="neighbour shells of the effective energy (default 4)")
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
    t.add_argument("--out", type=Path, required=True, help="model directory to write")
    t.set_defaults(func=with_flag_names(FLAGS)(cmd_train))



def make_theory(args: argparse.Namespace) -> Any:
    from qlat.theories.double_exchange import DoubleExchangeTheory

    return DoubleExchangeTheory.from_options(L=args.L, ndim=2, shape=args.shape, boundary=args.boundary,
                                             t=args.t, J=args.J, mu=args.mu, T=args.T)


def _check_common(args: argparse.Namespace) -> None:
    require(args.chains >= 1, "--chains", "must be an integer >= 1", args.chains)
    require(args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    require(args.thermalize >= 0, "--thermalize", "must be an integer >= 0", args.thermalize)
    require(args.every >= 1, "--every", "must be an integer >= 1", args.every)


def _initial_model(args: argparse.Namespace, theory: Any) -> Any:
    """A fresh model, or the ``--init`` transformer continued (same layers) or grown by one layer."""
    from qlat.samplers.slmc.models import deepen
    from qlat.samplers.slmc.training import load_model, make_model

    if args.init is None:
        return make_model(args.model, theory, layers=args.layers, heads=args.heads, radius=args.radius,
                          shells=args.shells, seed=args.seed)
    require(args.model == "transformer", "--init", "applies to --model transformer")
    model: Any
    model, card = load_model(args.init)
    require(card.get("theory") == theory.params(), "--init", "was trained for another theory "
            f"({card.get('theory')})", str(args.init))
    require(card["config"].get("kind") == "transformer", "--init", "must be a transformer model", str(args.init))
    have = card["config"]["layers"]
    require(args.layers in (have, have + 1), "--layers", f"must be {have} (continue) or {have + 1} (grow) "
            "with this --init", args.layers)
    return model if args.layers == have else deepen(model)


def cmd_train(args: argparse.Namespace) -> int:
    from qlat.cli._common import ensure_output_dir, print_json
    from qlat.core.compute import set_threads

    _check_common(args)
    require(args.model in ("linear", "transformer"), "--model", "must be linear or transformer", args.model)
    require(args.n >= 2, "--n", "must be an integer >= 2", args.n)
    require(args.rounds >= 1, "--rounds", "must be an integer >= 1", args.rounds)
    require(args.check >= 0, "--check", "must be an integer >= 0", args.check)
    require(0 < args.val_fraction < 1, "--val-fraction", "must be in (0, 1)", args.val_fraction)
    set_threads(1)
    theory = make_theory(args)
    ensure_output_dir(args.out, "--out")
    from qlat.analysis.slmc_training import train_slmc

    model: Any = _initial_model(args, theory)
    training = train_slmc(theory, model, out=args.out, kind=args.model, n=args.n, chains=args.chains,
                          seed=args.seed, thermalize=args.thermalize, every=args.every, rounds=args.rounds,
                          epochs=args.epochs, lr=args.lr, batch=args.batch, val_fraction=args.val_fraction,
                          check=args.check, init_linear=args.init is None, progress=not args.no_progress,
                          command=" ".join(sys.argv))
    if args.json:
        print_json(training.to_dict())
    else:
        sys.stdout.write(training.summary() + "\n")
    return 0
