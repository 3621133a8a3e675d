r"""The self-learning loop of SLHMC: exact chains make the training data of the next model.

Round 0 samples with S_eff = S_g (the pure gauge action, :meth:`EffectiveAction.pure_gauge`):
the ``slhmc`` chain is exact whatever S_eff is, so its configurations are samples of the
Schwinger model, and no fermion force is ever computed.  Each round fits the model to all data
so far (:func:`~qlat.samplers.slhmc.training.train_model`), saves it, and — except after the last
round — runs the chain of the new model for more data (Nagai, Okumura, Kobayashi, Shiga
arXiv:1909.02255: the training set grows from the exact ensemble on the fly).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qlat.core.errors import require
from qlat.samplers.base import check_int
from qlat.samplers.slhmc.effective_actions import EffectiveAction, parameter_count
from qlat.samplers.slhmc.sampler import SLHMC
from qlat.samplers.slhmc.training import TrainingData, exact_actions, save_model, train_model


def chain_data(theory: Any, model_dir: str | os.PathLike, *, n: int, chains: int, seed: int,
               thermalization: int = 20, every: int = 1, trajectory_length: float = 1.0, n_steps: int = 10,
               progress: bool = False) -> tuple[TrainingData, float]:
    """``n`` configurations per chain of the exact ``slhmc`` chain of ``model_dir`` with their exact
    actions, and the chain's acceptance."""
    sampler = SLHMC(model=str(model_dir), trajectory_length=trajectory_length, n_steps=n_steps,
                    thermalization=thermalization, every=every)
    batch, _ = sampler.run(theory, n, state=sampler.init_state(theory, chains=chains, seed=seed), progress=progress)
    fields = batch.configurations.reshape(-1, *theory.field_shape)
    return TrainingData(fields, exact_actions(theory, fields)), batch.acceptance


def train_self_learning(theory: Any, out: str | os.PathLike, *, layers: int = 1, heads: int = 2, hidden: int = 8,
                        rounds: int = 2, n: int = 50, chains: int = 8, seed: int = 0, thermalization: int = 20,
                        every: int = 2, trajectory_length: float = 1.0, n_steps: int = 10, epochs: int = 50,
                        lr: float = 1e-2, batch_size: int = 32, val_fraction: float = 0.2,
                        device: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Train an effective action for ``theory`` by ``rounds`` self-learning rounds into ``out``.

    Returns a JSON-ready summary: per round the data size, the acceptance of the chain that made
    the new data, the best validation Var(S_eff − S); the model config and parameter count.
    """
    rounds = check_int(rounds, "rounds", 1)
    n = check_int(n, "n", 2)
    chains = check_int(chains, "chains", 1)
    require(isinstance(out, (str, os.PathLike)) and str(out) != "", "out", "must be a directory", out)
    out = Path(out)
    model = EffectiveAction.pure_gauge(theory.beta, layers=layers, heads=heads, hidden=hidden, seed=seed)
    record: Any = None
    summary: list[dict[str, Any]] = []
    training = {"seed": seed, "epochs": epochs, "lr": lr, "batch": batch_size, "val_fraction": val_fraction,
                "n": n, "chains": chains, "every": every, "trajectory_length": trajectory_length, "n_steps": n_steps}
    save_model(out, model, theory_params=theory.params(), training={**training, "rounds": []})
    data: TrainingData | None = None
    for r in range(rounds):
        new, acceptance = chain_data(theory, out, n=n, chains=chains, seed=seed + 1000 * r + 1,
                                     thermalization=thermalization, every=every,
                                     trajectory_length=trajectory_length, n_steps=n_steps, progress=progress)
        data = new if data is None else data + new
        model = model.to(device)
        record = train_model(model, data, epochs=epochs, lr=lr, batch_size=batch_size, val_fraction=val_fraction,
                             seed=seed + r, progress=progress)
        model = model.to("cpu")
        summary.append({"configurations": len(data), "data_acceptance": acceptance,
                        "best_val_var": record.best_val_var, "best_epoch": record.best_epoch,
                        "start_val_var": record.val_var[0]})
        save_model(out, model, theory_params=theory.params(),
                   training={**training, "rounds": summary, "record": record.to_dict()})
    return {"model": str(out), "config": model.config(), "parameters": parameter_count(model),
            "theory": theory.params(), "rounds": summary}


def check_acceptance(theory: Any, model_dir: str | os.PathLike, *, n: int, chains: int, seed: int,
                     trajectory_length: float = 1.0, n_steps: int = 10, thermalization: int = 10,
                     progress: bool = False) -> Any:
    """Accepted (1.0) or not (0.0) for ``n`` trajectories per chain of the ``slhmc`` chain of ``model_dir``,
    ``(n, chains)`` (after ``thermalization``)."""
    sampler = SLHMC(model=str(model_dir), trajectory_length=trajectory_length, n_steps=n_steps,
                    thermalization=thermalization)
    batch, _ = sampler.run(theory, check_int(n, "n", 2), state=sampler.init_state(theory, chains=chains, seed=seed),
                           progress=progress)
    return batch.accepted.astype(float)
