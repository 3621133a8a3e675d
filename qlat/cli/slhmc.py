"""``qlat slhmc train``: effective actions for self-learning HMC of the Schwinger model with Wilson fermions.

``qlat slhmc train --L 4 --beta 2 --mass 0.1 --nf 2 --layers 1 --rounds 2 --out MODEL_DIR`` runs the
self-learning loop (:func:`qlat.samplers.slhmc.selflearn.train_self_learning`): round 0 samples with
the pure gauge action as S_eff (exact by the accept with the exact determinant), every round fits
the linear couplings (least squares) and ``--layers`` gauge-covariant attention layers (AdamW) to
S_g − N_f log|det D| up to a constant, and the next round samples with the new model.  The model
directory holds ``model.pt`` and the hashed ``card.json``.  ``--check N`` then runs N trajectories
per chain with the final model and reports the acceptance with its Γ-method error.

Sampling: ``qlat sample schwinger --L 4 --beta 2 --mass 0.1 --sampler slhmc --model MODEL_DIR``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qlat.core.errors import require

#: Position in ``qlat --help``.
HELP_ORDER = 72
HELP = "self-learning HMC for the Schwinger model with Wilson fermions (train effective actions)"

#: Library parameter → command-line flag.
FLAGS = {"L": "--L", "beta": "--beta", "mass": "--mass", "kappa": "--kappa", "nf": "--nf", "layers": "--layers",
         "heads": "--heads", "hidden": "--hidden", "rounds": "--rounds", "n": "--n", "chains": "--chains",
         "seed": "--seed", "thermalization": "--thermalize", "every": "--every", "trajectory_length": "--tau",
         "n_steps": "--steps", "epochs": "--epochs", "lr": "--lr", "batch_size": "--batch",
         "val_fraction": "--val-fraction", "device": "--device", "out": "--out", "model": "--out"}


def register(subparsers: Any) -> None:
    from qlat.cli._common import add_out_flag, add_progress_flag, add_seed_flag, with_flag_names

    p = subparsers.add_parser("slhmc", help=HELP,
                              description="Self-learning HMC (arXiv:1909.02255, 2103.11965, 2501.16955): train "
                              "gauge-covariant effective actions; sampling is exact by the accept with the exact "
                              "determinant (qlat sample schwinger --sampler slhmc --model DIR).")
    sub = p.add_subparsers(dest="slhmc_command", metavar="ACTION")
    sub.required = True
    t = sub.add_parser("train", help="train an effective action by self-learning rounds",
                       description="Round 0 samples with the pure gauge action as S_eff; each round fits the model "
                       "to all exact-chain data so far and the next samples with it.")
    t.add_argument("--L", type=int, default=4, help="lattice L×L (even, >= 4; default 4)")
    t.add_argument("--beta", type=float, required=True, help="gauge coupling β (> 0)")
    t.add_argument("--mass", type=float, default=None, help="bare Wilson mass m₀ (or --kappa)")
    t.add_argument("--kappa", type=float, default=None, help="hopping parameter κ (or --mass)")
    t.add_argument("--nf", type=int, default=2, help="flavours, 1 or 2 (default 2)")
    t.add_argument("--layers", type=int, default=1, help="attention layers (>= 0; 0: the linear model; default 1)")
    t.add_argument("--heads", type=int, default=2, help="attention heads (default 2)")
    t.add_argument("--hidden", type=int, default=8, help="attention width d (default 8)")
    t.add_argument("--rounds", type=int, default=2, help="self-learning rounds (>= 1, default 2)")
    t.add_argument("--n", type=int, default=50, help="configurations per chain per round (default 50)")
    t.add_argument("--chains", type=int, default=8, help="chains (default 8)")
    add_seed_flag(t, "the chains, the model's initial weights and the training split")
    t.add_argument("--thermalize", type=int, default=20, help="trajectories discarded per round (default 20)")
    t.add_argument("--every", type=int, default=2, help="keep one configuration every this many trajectories")
    t.add_argument("--tau", type=float, default=1.0, help="trajectory length of the data chains (default 1)")
    t.add_argument("--steps", type=int, default=10, help="leapfrog steps of the data chains (default 10)")
    t.add_argument("--epochs", type=int, default=50, help="AdamW epochs per round (default 50)")
    t.add_argument("--lr", type=float, default=1e-2, help="AdamW learning rate (default 1e-2)")
    t.add_argument("--batch", type=int, default=32, help="minibatch size (>= 2, default 32)")
    t.add_argument("--val-fraction", type=float, default=0.2, help="validation fraction in (0, 1) (default 0.2)")
    t.add_argument("--device", default="cpu", help="torch device of the training (default cpu)")
    t.add_argument("--check", type=int, default=0, help="trajectories per chain to measure the acceptance (0: none)")
    add_out_flag(t, "the model (model.pt, card.json)", required=True)
    t.add_argument("--json", action="store_true", help="print one JSON object")
    add_progress_flag(t)
    t.set_defaults(func=with_flag_names(FLAGS)(cmd_train))


def _check_train(args: argparse.Namespace) -> None:
    """Every flag and the memory the run needs (:mod:`qlat.samplers.slhmc.sizes`), before the theory, a model or a
    folder exists."""
    import math

    from qlat.samplers.slhmc.sizes import require_training_memory

    for flag, value, low in (("--L", args.L, 4), ("--layers", args.layers, 0), ("--heads", args.heads, 1),
                             ("--hidden", args.hidden, 1), ("--rounds", args.rounds, 1), ("--n", args.n, 2),
                             ("--chains", args.chains, 1), ("--thermalize", args.thermalize, 0),
                             ("--every", args.every, 1), ("--steps", args.steps, 1), ("--epochs", args.epochs, 0),
                             ("--batch", args.batch, 2), ("--check", args.check, 0)):
        require(isinstance(value, int) and value >= low, flag, f"must be an integer >= {low}", value)
    for flag, value in (("--lr", args.lr), ("--tau", args.tau)):
        require(math.isfinite(value) and value > 0, flag, "must be a finite number > 0", value)
    require(0 < args.val_fraction < 1, "--val-fraction", "must be in (0, 1)", args.val_fraction)
    require_training_memory(L=args.L, rounds=args.rounds, n=args.n, chains=args.chains, layers=args.layers,
                            heads=args.heads, hidden=args.hidden, batch=args.batch,
                            names={k: f"--{k}" for k in ("L", "n", "chains", "rounds", "layers", "heads", "hidden")})


def cmd_train(args: argparse.Namespace) -> int:
    from qlat.cli._common import announce_seed, check_out_folder, print_json, resolve_seed, show_progress
    from qlat.core.compute import set_threads
    from qlat.core.outdir import claim_output_dir

    _check_train(args)
    check_out_folder(args.out)
    resolve_seed(args, announce=False)
    from qlat.analysis.slhmc_training import slhmc_training_request

    set_threads(1)
    request = slhmc_training_request(L=args.L, beta=args.beta, mass=args.mass, kappa=args.kappa, nf=args.nf,
                                     layers=args.layers, heads=args.heads, hidden=args.hidden, seed=args.seed)
    params = {"theory": request.theory.params(), "layers": args.layers, "heads": args.heads, "hidden": args.hidden,
              "rounds": args.rounds, "n": args.n, "chains": args.chains, "seed": args.seed,
              "thermalize": args.thermalize, "every": args.every, "tau": args.tau, "steps": args.steps,
              "epochs": args.epochs, "lr": args.lr, "batch": args.batch, "val_fraction": args.val_fraction}
    names = {k: f"--{k.replace('_', '-')}" for k in params}
    claim = claim_output_dir(args.out, command="qlat slhmc train", flag="--out", params=params, names=names)
    try:
        announce_seed(args)
        claim.remove_stale_temporaries()
        training = request.run(args.out, rounds=args.rounds, n=args.n, chains=args.chains,
                               thermalization=args.thermalize, every=args.every, trajectory_length=args.tau,
                               n_steps=args.steps, epochs=args.epochs, lr=args.lr, batch_size=args.batch,
                               val_fraction=args.val_fraction, device=args.device, check=args.check,
                               progress=show_progress(args))
    finally:
        claim.release()
    if args.json:
        print_json(training.to_dict())
    else:
        sys.stdout.write(training.summary() + "\n")
    return 0
