r"""Training data, regression and model directories for the SLHMC effective action.

- Target: the exact action S[θ] = S_g[θ] − N_f log|det D[θ]| (for N_f = 2, S_g − log det D†D),
  from one dense LU per configuration
  (:meth:`~qlat.theories.schwinger_wilson.SchwingerTheory.effective_action_force_sign`).
  Only differences matter to the sampler (a constant cancels in ΔH), so the loss is the
  variance of the residual r = S_eff − S over a minibatch, mean((r − r̄)²) — the mean squared
  error of the differences S_eff(a) − S_eff(b) vs S(a) − S(b), halved.
- :func:`train_model`: the linear couplings (c₀, c_k) are fitted by least squares on the
  features of the current smeared links (exact for fixed attention layers), the attention
  layers by AdamW (arXiv:1711.05101) on the residual variance, the head refitted after every
  epoch, the best-validation weights kept (the epoch loop of :mod:`qlat.samplers.epoch_loop`, shared
  with :mod:`qlat.samplers.slmc.training`).
- Data: configurations of an *exact* chain with their exact actions (the self-learning loop is
  :mod:`qlat.samplers.slhmc.selflearn`).
- Files: a model directory holds ``model.pt`` (state dict; ``torch.load(weights_only=True)``, no
  pickle) and ``card.json`` (format ``qlat-slhmc-model/1``: model config, the theory it was trained
  for, parameter count, training record, SHA-256 of ``model.pt``), the layout of the SLMC model
  cards; the card is read back through :mod:`qlat.core.schema` (one-line errors naming ``model``)
  and the weights are refused unless their SHA-256 matches.  Writes are atomic.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from qlat._version import __version__
from qlat.core.errors import CorruptFileError, ParameterError, require
from qlat.core.files import sha256_file
from qlat.core.schema import COUNT, SHA256, Where, load_json
from qlat.samplers.base import train_command
from qlat.samplers.epoch_loop import EpochRecord, score_alias, train_best_validation
from qlat.samplers.model_directory import CARD_NAME, WEIGHTS_NAME, load_weights, write_model_directory
from qlat.samplers.slhmc.effective_actions import EffectiveAction, build_model, parameter_count

CARD_FORMAT = "qlat-slhmc-model/1"
#: What a card must hold (read with :func:`qlat.core.schema.load_json`).
CARD_SPEC = {
    "format": Where(str, lambda v: v == CARD_FORMAT, f"{CARD_FORMAT!r}"),
    "config": {"layers": COUNT, "heads": Where(int, lambda v: v >= 1, "an integer >= 1"),
               "hidden": Where(int, lambda v: v >= 1, "an integer >= 1"), "seed": COUNT, "kind?": str},
    "theory": {"name": str, "shape": [int], "beta": (int, float), "mass": (int, float), "nf": int},
    "parameters": COUNT,
    "training": dict,
    "weights_sha256": SHA256,
}
#: Theory parameters that must match between a model card and the theory sampled.
MATCHED_PARAMS = ("name", "shape", "beta", "mass", "nf")


@dataclass
class TrainingData:
    """Link configurations ``(M, 2, L₀, L₁)`` and their exact actions ``(M,)``."""

    fields: torch.Tensor
    actions: torch.Tensor

    def __len__(self) -> int:
        return int(self.fields.shape[0])

    def split(self, *, val_fraction: float, seed: int) -> tuple[TrainingData, TrainingData]:
        """A seeded random (train, validation) split; at least two configurations in each."""
        from qlat.samplers.training_split import split_indices

        tr, val = split_indices(len(self), val_fraction=val_fraction, seed=seed, minimum=2)
        return TrainingData(self.fields[tr], self.actions[tr]), TrainingData(self.fields[val], self.actions[val])

    def __add__(self, other: TrainingData) -> TrainingData:
        return TrainingData(torch.cat([self.fields, other.fields]), torch.cat([self.actions, other.actions]))


def exact_actions(theory: Any, fields: torch.Tensor, *, batch: int = 256) -> torch.Tensor:
    """S = S_g − N_f log|det D| of every configuration (dense LU, in batches)."""
    out = [theory.effective_action_force_sign(fields[k:k + batch], need_force=False)[0]
           for k in range(0, fields.shape[0], batch)]
    return torch.cat(out)


class TrainingRecord(EpochRecord):
    """What :func:`train_model` did: per-epoch residual variance Var(S_eff − S) on train/validation."""

    score_name = "var"
    train_var = score_alias("train")
    val_var = score_alias("val")
    best_val_var = score_alias("best_val")


def _device(model: EffectiveAction) -> torch.device:
    return model.coupling.device


def residual_variance(model: EffectiveAction, data: TrainingData, *, batch: int = 512) -> float:
    """Var(S_eff − S) over ``data``: the mean squared error of action differences, halved."""
    with torch.no_grad():
        r = torch.cat([model(data.fields[k:k + batch].to(_device(model))).cpu() - data.actions[k:k + batch]
                       for k in range(0, len(data), batch)])
    return float(r.var(unbiased=False))


def fit_linear(model: EffectiveAction, data: TrainingData, *, batch: int = 512) -> None:
    """Least-squares c₀, c_k on the features of the current smeared links (in place)."""
    with torch.no_grad():
        feats = torch.cat([model.features(data.fields[k:k + batch].to(_device(model))).cpu()
                           for k in range(0, len(data), batch)])
        design = torch.cat([torch.ones(len(data), 1, dtype=feats.dtype), feats], dim=1)
        scale = design.abs().amax(0).clamp_min(1e-300)
        sol = torch.linalg.lstsq(design / scale, data.actions.unsqueeze(1).to(feats.dtype), driver="gelsd")
        coef = sol.solution.squeeze(1) / scale
        model.offset.copy_(coef[0])
        model.coupling.copy_(coef[1:])


def train_model(model: EffectiveAction, data: TrainingData, *, epochs: int = 100, lr: float = 1e-2,
                weight_decay: float = 1e-4, batch_size: int = 32, val_fraction: float = 0.2, seed: int = 0,
                progress: bool = False) -> TrainingRecord:
    """Fit ``model`` to ``data`` (module doc); returns the record, ``model`` holds the best-validation weights."""
    from qlat.samplers.base import check_int

    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 2)
    require(math.isfinite(lr) and lr > 0, "lr", "must be a finite number > 0", lr)
    train, val = data.split(val_fraction=val_fraction, seed=seed)
    record = TrainingRecord(n_train=len(train), n_val=len(val))
    fit_linear(model, train)
    record.train.append(residual_variance(model, train))
    record.val.append(residual_variance(model, val))
    record.best_epoch = 0
    head_ids = {id(p) for p in model.head()}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    if not body or epochs == 0:
        return record
    opt = torch.optim.AdamW(body, lr=lr, weight_decay=weight_decay)
    device = _device(model)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        r = model(train.fields[idx].to(device)) - train.actions[idx].to(device)
        return (r - r.mean()).square().mean()

    return train_best_validation(
        model, opt, record, epochs=epochs, batch_size=batch_size, seed=seed + 1, batch_loss=batch_loss,
        refit=lambda: fit_linear(model, train),
        score=lambda: (residual_variance(model, train), residual_variance(model, val)), min_batch=2,
        progress=progress)


# ---------------------------------------------------------------------------------- files
def save_model(directory: str | os.PathLike, model: EffectiveAction, *, theory_params: dict[str, Any],
               training: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``model.pt`` (state dict) and ``card.json`` into ``directory``; returns the card."""
    return write_model_directory(directory, model, {
        "format": CARD_FORMAT,
        "qlat_version": __version__,
        "config": model.config(),
        "theory": dict(theory_params),
        "parameters": parameter_count(model),
        "training": training or {},
    })


def read_card(directory: str | os.PathLike) -> dict[str, Any]:
    """The card of a model directory, checked against :data:`CARD_SPEC` (errors name ``model``)."""
    require(isinstance(directory, (str, os.PathLike)) and str(directory) != "", "model",
            "must be a model directory", directory)
    require(Path(directory).is_dir(), "model", "is not a directory (train one with 'qlat slhmc train')",
            str(directory))
    return dict(load_json(Path(directory) / CARD_NAME, CARD_SPEC, flag="model"))


def load_model(directory: str | os.PathLike) -> tuple[EffectiveAction, dict[str, Any]]:
    """(model in eval mode, card); weights checked against the card's SHA-256, loaded with
    ``torch.load(weights_only=True)`` and ``strict=True``."""
    card = read_card(directory)
    weights = Path(directory) / WEIGHTS_NAME
    require(weights.is_file(), "model", f"no {WEIGHTS_NAME} in the model directory", str(directory))
    if sha256_file(weights) != card["weights_sha256"]:
        raise CorruptFileError(f"model: {weights} does not match the SHA-256 in its card (tampered or corrupt)")
    model = build_model(card["config"])
    load_weights(model, weights)
    return model.eval(), card


def check_card_theory(card: dict[str, Any], theory_params: dict[str, Any], *, path: Any) -> None:
    """ParameterError naming ``model`` unless the card was trained for this lattice and these couplings."""
    trained = card.get("theory", {})
    for key in MATCHED_PARAMS:
        a, b = trained.get(key), theory_params.get(key)
        a = list(a) if isinstance(a, (list, tuple)) else a
        b = list(b) if isinstance(b, (list, tuple)) else b
        if a != b:
            raise ParameterError("model", f"was trained for {key} = {a!r}, not {b!r}", str(path),
                                 hint=f"train one for this theory: {train_command('slhmc', theory_params)}")
