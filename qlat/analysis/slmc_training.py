"""Training a self-learning Monte Carlo model as one result (``qlat slmc train``).

:func:`train_slmc` fits the effective model to exact energies of configurations drawn by the exact
local chain (:func:`qlat.samplers.slmc.training.exact_training_data`), then, for each further
round, adds the configurations of the SLMC chain of the current model and fits again (online
retraining; Liu, Qi, Meng, Fu, Phys. Rev. B 95, 041101 (2017); Xu et al., arXiv:1612.03804).
The model is saved to ``out`` after every round.  :class:`SLMCTraining` carries the train and
validation MSE (units t²) and, with ``check`` > 0, the acceptance of a short SLMC chain — the
number that decides whether the model is worth sampling with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass
class SLMCTraining:
    """The result ``qlat slmc train --json`` prints (``to_dict``) and its one-line summary."""

    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.result)

    def summary(self) -> str:
        r = self.result
        line = f"{r['model']}: {r['kind']} ({r['parameters']} parameters), val MSE {r['val_mse']} t²"
        if "acceptance" in r:
            line += f", SLMC acceptance {r['acceptance']}"
        return line


def train_slmc(theory: Any, model: Any, *, out: str | os.PathLike, kind: str, n: int, chains: int, seed: int,
               thermalize: int, every: int, rounds: int = 1, epochs: int = 200, lr: float = 1e-2, batch: int = 64,
               val_fraction: float = 0.2, check: int = 0, init_linear: bool = True, progress: bool = False,
               command: str = "") -> SLMCTraining:
    """Train ``model`` (a fresh or loaded effective model of ``kind``) for ``theory``; see the module docstring."""
    from qlat.samplers.slmc.sampler import SLMC
    from qlat.samplers.slmc.training import (
        TrainingData,
        energies_of,
        exact_training_data,
        mse_estimate,
        parameter_count,
        save_model,
        train_model,
    )

    data = exact_training_data(theory, n=n, chains=chains, seed=seed, thermalization=thermalize, every=every,
                               progress=progress)
    history: list[dict[str, Any]] = []
    record = None
    state = None
    for r in range(rounds):
        if r > 0:  # online retraining: add exact samples from the SLMC chain of the current model
            sampler = SLMC(model=str(out), thermalization=thermalize if state is None else 0, every=every)
            state = state or sampler.init_state(theory, chains=chains, seed=seed + 1000 + r)
            chain, state = sampler.run(theory, n, state=state, progress=progress)
            spins = chain.configurations.reshape(-1, *theory.field_shape)
            data = data + TrainingData(spins, energies_of(theory, spins))
            history[-1]["slmc_acceptance"] = chain.acceptance
        record = train_model(model, data, epochs=epochs, lr=lr, batch_size=batch, val_fraction=val_fraction,
                             seed=seed + r, progress=progress, init_linear=init_linear)
        history.append({"configurations": len(data), "best_val_mse": record.best_val_mse,
                        "best_epoch": record.best_epoch})
        save_model(out, model, theory_params=theory.params(),
                   training={"rounds": history, "record": record.to_dict(), "seed": seed, "epochs": epochs,
                             "lr": lr, "batch": batch, "val_fraction": val_fraction, "command": command})
    assert record is not None
    train, val = data.split(val_fraction=val_fraction, seed=seed + rounds - 1)
    result: dict[str, Any] = {
        "model": str(out), "kind": kind, "config": model.config(), "parameters": parameter_count(model),
        "theory": theory.params(), "train_mse": mse_estimate(model, train, "train_mse"),
        "val_mse": mse_estimate(model, val, "val_mse"), "rounds": history, "seed": seed,
    }
    if check:
        from qlat.analysis.statistics import gamma_estimate

        sampler = SLMC(model=str(out), thermalization=min(thermalize, 20))
        st = sampler.init_state(theory, chains=chains, seed=seed + 7)
        chain, _ = sampler.run(theory, check, state=st, progress=progress)
        result["acceptance"] = gamma_estimate(chain.accepted, name="acceptance", unit="1", backend="slmc")
        result["inner_acceptance"] = chain.meta["inner_acceptance"]
    return SLMCTraining(result)
