r"""Training data, training and model files for the SLMC effective models.

- :func:`exact_training_data`: configurations from the exact local Metropolis chain and their
  exact energies E[S] = −T log W[S] (units of t).
- :func:`train_model`: MSE loss, AdamW (arXiv:1711.05101, as in arXiv:2306.11527), a seeded
  train/validation split, the best-validation weights kept (the epoch loop of
  :mod:`qlat.samplers.epoch_loop`, shared with SLHMC).  The shell couplings E₀, J_n start
  from the least-squares fit on the untransformed spins, so training starts at the linear model.
  The linear model itself is fitted exactly by least squares (the MSE minimizer).
- Online retraining: :func:`train_model` continues from the current weights; call it again with the
  union of the old data and configurations produced by the SLMC chain (exact samples too).
- Files: a model directory holds ``model.pt`` (the state dict, written with ``torch.save`` and read
  with ``torch.load(weights_only=True)``: no pickle) and ``card.json`` (model config, the theory it
  was trained for, training record, SHA-256 of ``model.pt``).  Writes are atomic (temp + ``os.replace``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate
from qlat.core.files import sha256_file
from qlat.samplers.epoch_loop import EpochRecord, score_alias, train_best_validation
from qlat.samplers.model_directory import CARD_NAME, WEIGHTS_NAME, load_weights, write_model_directory
from qlat.samplers.slmc.effective_hamiltonians import (
    EquivariantTransformer,
    LinearEffectiveModel,
    build_model,
    fit_shell_energy,
    parameter_count,
)

CARD_FORMAT = "qlat-slmc-model/1"


@dataclass
class TrainingData:
    """Spin configurations ``(M, 3, Lx, Ly)`` and their exact energies E = −T log W ``(M,)``."""

    spins: torch.Tensor
    energies: torch.Tensor

    def __len__(self) -> int:
        return int(self.spins.shape[0])

    def split(self, *, val_fraction: float, seed: int) -> tuple[TrainingData, TrainingData]:
        """A seeded random (train, validation) split; at least one configuration in each."""
        from qlat.samplers.training_split import split_indices

        tr, val = split_indices(len(self), val_fraction=val_fraction, seed=seed, minimum=1)
        return (TrainingData(self.spins[tr], self.energies[tr]), TrainingData(self.spins[val], self.energies[val]))

    def __add__(self, other: TrainingData) -> TrainingData:
        return TrainingData(torch.cat([self.spins, other.spins]), torch.cat([self.energies, other.energies]))


def energies_of(theory: Any, spins: torch.Tensor, *, batch: int = 256) -> torch.Tensor:
    """E[S] = T·S[S] = −T log W[S] of every configuration (in batches)."""
    out = [theory.action(spins[k:k + batch]) / theory.beta for k in range(0, spins.shape[0], batch)]
    return torch.cat(out)


def exact_training_data(theory: Any, *, n: int, chains: int, seed: int, thermalization: int = 50,
                        every: int = 1, progress: bool = False) -> TrainingData:
    """``n`` samples per chain from the exact local Metropolis chain, with their energies."""
    from qlat.samplers.slmc.exact_local import ExactLocalMetropolis

    sampler = ExactLocalMetropolis(thermalization=thermalization, every=every)
    state = sampler.init_state(theory, chains=chains, seed=seed)
    batch, _ = sampler.run(theory, n, state=state, progress=progress)
    spins = batch.configurations.reshape(-1, *theory.field_shape)
    return TrainingData(spins, energies_of(theory, spins))


class TrainingRecord(EpochRecord):
    """What :func:`train_model` did: per-epoch train/validation MSE (units of t²) and the best epoch."""

    score_name = "mse"
    train_mse = score_alias("train")
    val_mse = score_alias("val")
    best_val_mse = score_alias("best_val")


def mse(model: nn.Module, data: TrainingData, *, batch: int = 512) -> float:
    with torch.no_grad():
        total = 0.0
        for k in range(0, len(data), batch):
            diff = model(data.spins[k:k + batch]) - data.energies[k:k + batch]
            total += float(diff.square().sum())
    return total / len(data)


def mse_estimate(model: nn.Module, data: TrainingData, name: str) -> Estimate:
    """The mean squared residual ⟨(E_model − E)²⟩ over ``data`` (units t²) with the standard error of the
    mean of the squared residuals, σ(r²)/√n (infinite for one configuration)."""
    with torch.no_grad():
        r2 = (model(data.spins) - data.energies).square()
    err = float(r2.std() / math.sqrt(len(r2))) if len(r2) > 1 else math.inf
    return Estimate(float(r2.mean()), err, name=name, unit="t^2", n_samples=len(r2), backend="slmc")


def train_model(model: Any, data: TrainingData, *, epochs: int = 200, lr: float = 1e-2,
                weight_decay: float = 1e-4, batch_size: int = 64, val_fraction: float = 0.2, seed: int = 0,
                init_linear: bool = True, head_lr_factor: float = 1e-2, progress: bool = False) -> TrainingRecord:
    """Train ``model`` on ``data`` (MSE, AdamW); returns the record, ``model`` holds the best-val weights.

    A :class:`LinearEffectiveModel` is fitted by least squares (exact) instead.  With ``init_linear``
    the shell couplings first get their least-squares values on the current translated spins.
    """
    from qlat.samplers.base import check_int

    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    require(lr > 0 and math.isfinite(lr), "lr", "must be a finite number > 0", lr)
    train, val = data.split(val_fraction=val_fraction, seed=seed)
    record = TrainingRecord(n_train=len(train), n_val=len(val))
    if isinstance(model, LinearEffectiveModel):
        model.fit(train.spins, train.energies)
        record.train.append(mse(model, train))
        record.val.append(mse(model, val))
        record.best_epoch = 0
        return record

    def refit() -> None:
        with torch.no_grad():
            fit_shell_energy(model.energy, model.translated_spins(train.spins), train.energies)

    if init_linear:
        refit()
    # The shell energy is linear in E₀, J_n: AdamW moves every parameter by ~lr per step, far too much for
    # couplings multiplying extensive sums, so the head gets a small learning rate, no weight decay, and is
    # re-fitted by least squares on the current translated spins after every epoch (exact for fixed layers).
    head = list(model.energy.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    opt = torch.optim.AdamW([{"params": body, "lr": lr, "weight_decay": weight_decay},
                             {"params": head, "lr": lr * head_lr_factor, "weight_decay": 0.0}])
    record.train.append(mse(model, train))
    record.val.append(mse(model, val))
    return train_best_validation(
        model, opt, record, epochs=epochs, batch_size=batch_size, seed=seed + 1, refit=refit,
        score=lambda: (mse(model, train), mse(model, val)),
        batch_loss=lambda idx: (model(train.spins[idx]) - train.energies[idx]).square().mean(), progress=progress)


def make_model(kind: str, theory: Any, *, layers: int = 1, heads: int = 2, radius: int = 1, shells: int = 3,
               seed: int = 0) -> nn.Module:
    """An untrained model of ``kind`` (``linear`` or ``transformer``) for the theory's geometry."""
    require(kind in ("linear", "transformer"), "model", "must be linear or transformer", kind)
    if kind == "linear":
        return LinearEffectiveModel(theory.shape, boundary=theory.boundary, shells=shells)
    return EquivariantTransformer(theory.shape, boundary=theory.boundary, layers=layers, heads=heads,
                                  radius=radius, shells=shells, seed=seed)


# ---------------------------------------------------------------------------------- files
def save_model(directory: str | os.PathLike, model: Any, *, theory_params: dict[str, Any],
               training: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``model.pt`` (state dict) and ``card.json`` into ``directory``; returns the card."""
    return write_model_directory(directory, model, {
        "format": CARD_FORMAT,
        "config": model.config(),
        "theory": theory_params,
        "parameters": parameter_count(model),
        "training": training or {},
    })


def read_card(directory: str | os.PathLike) -> dict[str, Any]:
    """The JSON card of a model directory, checked through :mod:`qlat.core.schema`: a missing, edited or
    foreign card (no ``config``, ``theory: null``, a coupling that is not a number …) is one
    :class:`~qlat.core.schema.MalformedFileError` naming ``model`` and the file."""
    from qlat.core.schema import FINITE, SHA256, Where, check, load_json
    from qlat.samplers.slmc.effective_hamiltonians import MODEL_KINDS

    path = Path(directory) / CARD_NAME
    require(path.is_file(), "model", f"no {CARD_NAME} in the model directory", str(directory))
    spec = {"format": Where(str, lambda v: v == CARD_FORMAT, f"{CARD_FORMAT!r} (a qlat SLMC model card)"),
            "config": {"kind": Where(str, lambda v: v in MODEL_KINDS, f"one of {', '.join(MODEL_KINDS)}")},
            "theory": {"name": str}, "weights_sha256": SHA256, "training?": dict}
    card = load_json(path, spec, flag="model")
    for key, value in card["theory"].items():  # couplings are numbers; the geometry is checked by the model
        if key not in ("name", "shape", "boundary"):
            check(value, FINITE, file=path, flag="model", where=f"theory.{key}")
    return dict(card)


def load_model(directory: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, card); the weights are checked against the card's SHA-256 and loaded
    with ``torch.load(weights_only=True)`` and ``strict=True``."""
    card = read_card(directory)
    weights = Path(directory) / WEIGHTS_NAME
    require(weights.is_file(), "model", f"no {WEIGHTS_NAME} in the model directory", str(directory))
    if sha256_file(weights) != card.get("weights_sha256"):
        from qlat.core.schema import MalformedFileError

        raise MalformedFileError(weights, "does not match the SHA-256 in its card (tampered or corrupt); refused",
                                 flag="model")
    try:
        model = build_model(card["config"])
    except (ParameterError, KeyError, TypeError, ValueError) as exc:
        from qlat.core.schema import MalformedFileError

        raise MalformedFileError(Path(directory) / CARD_NAME, f"config: not a model configuration ({exc})",
                                 flag="model") from None
    load_weights(model, weights)
    model.eval()
    return model, card
