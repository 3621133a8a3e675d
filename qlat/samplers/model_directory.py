"""The model directory of the self-learning samplers (SLMC, SLHMC): ``model.pt`` and ``card.json``.

``model.pt`` is the state dict (tensors only), written with ``torch.save`` and read with
``torch.load(weights_only=True)``: a pickle is never executed.  ``card.json`` is the trainer's
card (format, model config, theory, training record …) plus ``weights_sha256``, the SHA-256 of
``model.pt``, which the loader compares before reading the weights.  Both files are written
atomically (temp + ``os.replace``).  What a card must hold is the trainer's (its card format).
"""

from __future__ import annotations

import io
import json
import os
import pickle
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError
from qlat.core.files import atomic_write_bytes, sha256_file

CARD_NAME = "card.json"
WEIGHTS_NAME = "model.pt"


def write_model_directory(directory: str | os.PathLike, model: Any, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``model.pt`` (the state dict of ``model``) and ``card.json`` (``card`` plus
    ``weights_sha256``) into ``directory``; returns the card written."""
    import torch

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(d / WEIGHTS_NAME, buffer.getvalue())
    card = {**card, "weights_sha256": sha256_file(d / WEIGHTS_NAME)}
    atomic_write_bytes(d / CARD_NAME, (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())
    return card


def load_weights(model: Any, weights: Path) -> None:
    """Load the state dict in ``weights`` into ``model`` (``weights_only=True``, ``strict=True``);
    ParameterError naming ``model`` when they do not fit its config.  The caller has checked the
    file against its card's SHA-256."""
    import torch

    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, KeyError, TypeError, OSError, pickle.UnpicklingError) as exc:
        raise ParameterError("model", f"weights do not fit the model config ({exc})", str(weights)) from None
