r"""Flow checkpoints: a weights file, a training-state file and a JSON model card in one directory.

Layout of ``MODEL_DIR``::

    model.json                 the model card (format ``qlat-flow-model``, version 1)
    weights-<sha256[:16]>.pt   the state dict (tensors only), read with torch.load(weights_only=True)
    training-<sha256[:16]>.pt  optimizer state, generator state (tensors, numbers), same loader

The card holds the theory and its parameters, the lattice, the architecture, the training
configuration (and those of earlier phases, ``training.phases``) and history, the latest metrics (ESS …), the qlat version and the sha256 of both
files.  Files are content-addressed and the card is replaced last (write to a temporary file,
``os.replace``), so an interrupted save leaves the previous checkpoint valid; stale files of ours
are removed afterwards.

Loading refuses, with a :class:`~qlat.core.errors.ParameterError` naming the mismatch:
a card for another theory, coupling or lattice (``name``, ``beta``, ``m2``, ``lam``, ``shape``),
a weights file whose sha256 differs from the card (tampered or corrupt), and anything that is not
a plain tensor state dict — a pickle is never executed (``weights_only=True`` refuses it).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from qlat._version import __version__
from qlat.core.errors import ParameterError, require
from qlat.core.files import atomic_write_bytes, sha256_file
from qlat.samplers.base import train_command
from qlat.samplers.flow.networks import FlowModel
from qlat.samplers.flow.training import HISTORY_KEYS, TrainConfig, TrainingState

CARD_NAME = "model.json"
FORMAT = "qlat-flow-model"
FORMAT_VERSION = 1


def _torch_bytes(obj: Any) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _save_content_addressed(directory: Path, prefix: str, data: bytes) -> dict[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"{prefix}-{digest[:16]}.pt"
    if not (path.exists() and sha256_file(path) == digest):
        atomic_write_bytes(path, data)
    return {"file": path.name, "sha256": digest}


def save_checkpoint(
    directory: str | os.PathLike,
    model: FlowModel,
    *,
    config: TrainConfig,
    state: TrainingState,
    metrics: Mapping[str, Any] | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Write weights, training state and the model card into ``directory``; returns the card."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    w_info = _save_content_addressed(directory, "weights", _torch_bytes(weights))
    train_blob = {"optimizer": state.optimizer or {}, "rng_state": state.rng_state
                  if state.rng_state is not None else torch.zeros(0, dtype=torch.uint8)}
    t_info = _save_content_addressed(directory, "training", _torch_bytes(train_blob))
    card = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "qlat_version": __version__,
        "updated_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "theory": dict(model.theory_params),
        "lattice": {"shape": list(model.theory_params["shape"]), "ndim": len(model.theory_params["shape"])},
        "prior": "normal" if model.theory_params["name"] == "phi4" else "haar",
        "architecture": dict(model.architecture),
        "weights": {**w_info, "dtype": str(model.dtype).replace("torch.", "")},
        "training_state": t_info,
        "training": {"config": config.to_dict(), "steps_done": state.step, "wall_s": state.wall_s,
                     "device": device, "phases": [dict(ph) for ph in state.phases],
                     **({"init_from": dict(state.init_from)} if state.init_from is not None else {}),
                     "history": {k: list(state.history.get(k, [])) for k in HISTORY_KEYS}},
        "metrics": dict(metrics or {}),
    }
    atomic_write_bytes(directory / CARD_NAME, (json.dumps(card, indent=1) + "\n").encode())
    for stale in list(directory.glob("weights-*.pt")) + list(directory.glob("training-*.pt")):
        if stale.name not in (w_info["file"], t_info["file"]) and len(stale.stem.split("-")[-1]) == 16:
            stale.unlink(missing_ok=True)
    return card


def _card_spec() -> dict[str, Any]:
    """What a model card must hold (:mod:`qlat.core.schema`): anything else is one line naming the file."""
    from qlat.core.schema import COUNT, FINITE, PLAIN_NAME, SHA256, Build, MapOf, Where
    from qlat.samplers.flow.networks import THEORY_NAMES

    return {
        "format": Where(str, lambda v: v == FORMAT, f"{FORMAT!r} (a qlat flow model card)"),
        "format_version": Where(int, lambda v: v == FORMAT_VERSION, f"format version {FORMAT_VERSION}"),
        "theory": {"name": Where(str, lambda v: v in THEORY_NAMES, f"one of {', '.join(THEORY_NAMES)}"),
                   "shape": Where([Where(int, lambda v: v >= 2, "an integer >= 2")], lambda v: len(v) == 2,
                                  "a 2D lattice [L, L]")},
        "architecture": dict,
        "weights": {"file": PLAIN_NAME, "sha256": SHA256},
        "training_state": {"file": PLAIN_NAME, "sha256": SHA256},
        "training": {"config": Build(lambda d: (TrainConfig.from_dict(d), d)[1], "a training configuration",
                                     spec=dict, errors=(ValueError, TypeError, KeyError, ParameterError)),
                     "steps_done?": COUNT, "wall_s?": FINITE, "phases?": [dict], "init_from?": dict,
                      "history?": MapOf(list)},
    }


def read_card(directory: str | os.PathLike, *, parameter: str = "model") -> dict[str, Any]:
    """The model card of ``directory``, checked through :mod:`qlat.core.schema`: a missing, edited or
    foreign card (``beta: "abc"``, ``theory: null``, no ``training.config`` …) is one
    :class:`~qlat.core.schema.MalformedFileError` naming ``parameter`` and the file."""
    from qlat.core.schema import FINITE, check, load_json

    path = Path(directory) / CARD_NAME
    require(path.is_file(), parameter, f"no flow model card {CARD_NAME} in this directory (qlat flow train --out)",
            str(directory))
    card = load_json(path, _card_spec(), flag=parameter)
    for key, value in card["theory"].items():  # every coupling a finite number
        if key not in ("name", "shape"):
            check(value, FINITE, file=path, flag=parameter, where=f"theory.{key}")
    return dict(card)


#: architecture keys added after cards were first written, with the value that reproduces the older
#: cards' models (a card without the key was trained with it)
LEGACY_ARCHITECTURE = {"u1": {"context": "plaquettes", "layout": "stripes", "tail": 0}}


def card_architecture(card: Mapping[str, Any]) -> dict[str, Any]:
    """The architecture of a model card, with keys newer than the card filled in as the card meant them."""
    arch = dict(card["architecture"])
    for key, value in LEGACY_ARCHITECTURE.get(str(card["theory"].get("name")), {}).items():
        arch.setdefault(key, value)
    return arch


def card_sha256(directory: str | os.PathLike) -> str:
    """sha256 of the model card file (the model's identity in provenance)."""
    return sha256_file(Path(directory) / CARD_NAME)


def check_theory(card: Mapping[str, Any], theory_params: Mapping[str, Any], *, where: str = "") -> None:
    """Refuse a model trained for another theory, coupling or lattice, naming the first mismatch."""
    trained = dict(card["theory"])
    wanted = dict(theory_params)
    keys = ["name", "shape"] + sorted((set(trained) | set(wanted)) - {"name", "shape"})
    for key in keys:
        a, b = trained.get(key), wanted.get(key)
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            a = list(a) if a is not None else None
            b = list(b) if b is not None else None
        if a != b:
            what = "theory" if key == "name" else key
            raise ParameterError(what, f"the flow model{where} was trained for {key} = {a!r}, not for this theory",
                                 b, hint=f"train one for it: {train_command('flow', wanted)}")


def _safe_load(path: Path, expected_sha256: str, *, parameter: str, what: str) -> Any:
    require(path.is_file(), parameter, f"{what} file {path.name} named by the model card is missing", str(path))
    digest = sha256_file(path)
    require(digest == expected_sha256, parameter,
            f"{what} file {path} does not match the sha256 in its model card (tampered or corrupt); refused",
            digest[:16])
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - weights_only raises several types (UnpicklingError, RuntimeError …)
        raise ParameterError(parameter, f"{what} file {path} is not a plain tensor file and was not loaded "
                             f"(weights_only refused it: {type(exc).__name__})") from None


def load_model(
    directory: str | os.PathLike,
    *,
    theory_params: Mapping[str, Any] | None = None,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    parameter: str = "model",
) -> tuple[FlowModel, dict[str, Any]]:
    """The model stored in ``directory`` (in ``dtype`` on ``device``) and its card, all checks done."""
    directory = Path(directory)
    card = read_card(directory, parameter=parameter)
    if theory_params is not None:
        check_theory(card, theory_params, where=f" in {directory}")
    try:
        model = FlowModel(card["theory"], card_architecture(card))
    except ParameterError as exc:
        raise ParameterError(parameter, f"model card has an invalid architecture ({exc})") from None
    weights = _safe_load(directory / str(card["weights"]["file"]), str(card["weights"]["sha256"]),
                         parameter=parameter, what="weights")
    require(isinstance(weights, dict) and all(isinstance(v, torch.Tensor) for v in weights.values()), parameter,
            "weights file is not a state dict of tensors")
    model = model.to(weights[next(iter(weights))].dtype) if weights else model
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ParameterError(parameter, f"weights do not fit the architecture of the card ({first})") from None
    return model.to(device=device, dtype=dtype).eval(), card


def load_training_state(directory: str | os.PathLike, card: Mapping[str, Any], *, parameter: str = "model"
                        ) -> TrainingState:
    """The :class:`TrainingState` to resume from (optimizer, generator, history, steps done)."""
    blob = _safe_load(Path(directory) / str(card["training_state"]["file"]), str(card["training_state"]["sha256"]),
                      parameter=parameter, what="training state")
    require(isinstance(blob, dict) and "optimizer" in blob and "rng_state" in blob, parameter,
            "training state file lacks optimizer or generator state")
    training = card.get("training", {})
    history = {k: list(training.get("history", {}).get(k, [])) for k in HISTORY_KEYS}
    rng = blob["rng_state"]
    return TrainingState(step=int(training.get("steps_done", 0)), optimizer=blob["optimizer"] or None,
                         rng_state=rng if rng.numel() else None, history=history,
                         wall_s=float(training.get("wall_s", 0.0)),
                         phases=[dict(ph) for ph in training.get("phases", [])],
                         init_from=dict(training["init_from"]) if training.get("init_from") is not None else None)


def transfer_checkpoint(source: str | os.PathLike, theory_params: Mapping[str, Any], out: str | os.PathLike
                        ) -> dict[str, Any]:
    """The flow in ``source`` carried, untrained, to another coupling or lattice size; writes ``out``, returns its card.

    The coupling layers are local (convolutions with circular padding), so the conditioner weights
    (``.net.`` in the state dict) of a flow trained at one β or L fit the same architecture for any
    other (issue 19: a flow trained at β applies at β + δ, at L = 8 runs at L = 16); the masks and
    other lattice-shaped buffers are rebuilt for ``theory_params``.  The card of ``out`` has 0
    training steps of its own and ``metrics["transferred_from"]`` (the source's theory, weights
    sha256 and training steps); exactness does not depend on it — the samplers keep their
    Metropolis test against the true action.
    """
    trained, card = load_model(source, parameter="source")
    model = FlowModel(dict(theory_params), card_architecture(card)).to(trained.dtype)
    load_learned_weights(model, trained, parameter="source")
    return save_checkpoint(out, model, config=TrainConfig(steps=0, batch=2), state=TrainingState(),
                           metrics={"transferred_from": _origin(card)})


def _origin(card: Mapping[str, Any]) -> dict[str, Any]:
    training = card.get("training", {})
    return {"theory": card["theory"], "weights_sha256": card["weights"]["sha256"],
            "steps_done": training.get("steps_done"), "wall_s": training.get("wall_s"),
            **({"init_from": training["init_from"]} if training.get("init_from") is not None else {})}


def load_learned_weights(model: FlowModel, trained: FlowModel, *, parameter: str, fresh_tail: bool = False) -> None:
    """Copy the learned weights (``.net.`` keys) of ``trained`` into ``model``; the lattice-shaped buffers stay
    ``model``'s.  ``fresh_tail``: a tree flow's tail MLP that ``trained`` lacks keeps its fresh (zero) output."""
    weights = {k: v for k, v in trained.state_dict().items() if ".net." in k}
    result = model.load_state_dict(weights, strict=False)
    missing = [k for k in result.missing_keys if ".net." in k and not (fresh_tail and ".net.tail." in k)]
    require(not missing and not result.unexpected_keys, parameter,
            "its architecture does not carry over to these theory parameters", missing or result.unexpected_keys)


def carry_weights(source: str | os.PathLike, model: FlowModel, *, parameter: str = "init") -> dict[str, Any]:
    """Start ``model`` from the flow trained in ``source`` (at another β or L): its learned weights are copied
    in, as :func:`transfer_checkpoint` carries them; returns the origin to record (``init_from`` of the card:
    the folder, the source's theory, weights sha256, training steps and wall time, and its own origin).

    The architectures must be equal (``ParameterError`` naming the first key that differs), except that a
    tree flow (``layout="tree"``) may add a ``tail`` the source has not: the tail's MLP starts at its zero
    correction, so the started model is the source's flow, exactly, on the new lattice — the way to train
    the shared one-plaquette map at small L and the tail at the target L (:mod:`~qlat.samplers.flow.tree`).
    """
    trained, card = load_model(source, parameter=parameter)
    name = card["theory"]["name"]
    require(name == model.theory_params["name"], parameter,
            f"holds a flow for {name}, not for {model.theory_params['name']}", str(source))
    have, want = card_architecture(card), model.architecture
    fresh_tail = want.get("layout") == "tree" and have.get("tail") == 0
    for key, value in sorted(want.items(), key=lambda kv: kv[0] != "layout"):  # the layout named first
        if key == "tail" and fresh_tail:
            continue
        if key == "hidden" and fresh_tail and want.get("n_layers") == 0 == have.get("n_layers"):
            continue  # a tree flow without tail or stripes has no hidden layer: the new tail's MLP sets it
        require(have.get(key) == value, key, f"differs from the flow in {source} ({key} = {have.get(key)!r})",
                value, hint=f"use the architecture of {source} (a tree flow may add a tail to one without)")
    load_learned_weights(model, trained, parameter=parameter, fresh_tail=fresh_tail)
    return {"model": str(Path(source).expanduser().resolve()), **_origin(card)}


class PinnedModel:
    """A model loaded from its directory for a sampler, pinned by the sha256 of its weights and card.

    ``model_sha256``/``card_sha256`` given (as recorded in a sampler's ``params()``): the files must
    still have them, else ``ParameterError`` naming ``model`` (the weights or card changed since).
    """

    def __init__(self, model: str | os.PathLike, *, model_sha256: str | None = None,
                 card_sha256: str | None = None) -> None:
        require(isinstance(model, (str, Path)) and str(model) != "", "model", "must be a model directory", model)
        path = Path(model).expanduser().resolve()
        self.flow, self.card = load_model(path, dtype=torch.float64, device="cpu")
        self.path = str(path)
        self.model_sha256 = str(self.card["weights"]["sha256"])
        self.card_sha256 = sha256_file(path / CARD_NAME)
        for given, have, what in ((model_sha256, self.model_sha256, "weights"),
                                  (card_sha256, self.card_sha256, "model card")):
            require(given is None or given == have, "model",
                    f"the {what} in {path} changed since these parameters were recorded "
                    f"(sha256 {have[:16]}…, expected {str(given)[:16]}…)", str(path))

    def params(self) -> dict[str, str]:
        """``model``, ``model_sha256``, ``card_sha256`` (the keywords that reload exactly this model)."""
        return {"model": self.path, "model_sha256": self.model_sha256, "card_sha256": self.card_sha256}

    def supports(self, theory: Any) -> bool:
        """Whether the model was trained for exactly ``theory`` (name, couplings, lattice)."""
        if not callable(getattr(theory, "params", None)):
            return False
        try:
            check_theory(self.card, theory.params())
        except ParameterError:
            return False
        return True

    def check(self, theory: Any) -> None:
        """``ParameterError`` naming the first mismatch between the model's theory and ``theory``."""
        check_theory(self.card, theory.params(), where=f" in {self.path}")
