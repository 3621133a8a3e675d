"""Training a self-learning Monte Carlo model as one result (``qlat slmc train``).

:func:`train_slmc` fits the effective model to exact energies of configurations drawn by the exact
local chain (:func:`qlat.samplers.slmc.training.exact_training_data`), then, for each further
round, adds the configurations of the SLMC chain of the current model and fits again (online
retraining; Liu, Qi, Meng, Fu, Phys. Rev. B 95, 041101 (2017); Xu et al., arXiv:1612.03804).
The model is saved to ``out`` after every round.  :class:`SLMCTraining` carries the train and
validation MSE (units t²) and, with ``check`` > 0, the acceptance of a short SLMC chain — the
number that decides whether the model is worth sampling with.

:func:`slmc_theory` builds the double exchange model a model is trained for; :func:`slmc_training_request`
builds the effective model (fresh, or an ``init`` transformer continued or grown by one identity layer) and checks
it before anything is written; :meth:`SLMCTrainingRequest.run` trains (what ``qlat slmc train`` calls).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qlat.core.errors import ParameterError, require

#: Neighbour shells of the effective energy when ``shells`` is not given (fewer if the lattice has fewer).
DEFAULT_SHELLS = 4


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


def slmc_theory(*, J: float, T: float, L: int = 6, shape: str | None = None, boundary: str = "periodic",
                t: float = 1.0, mu: float = 0.0) -> Any:
    """The 2D double exchange model (:class:`~qlat.theories.double_exchange.DoubleExchangeTheory`): L×L, or
    ``shape`` "LxxLy", ``boundary`` periodic or open; hopping t (the unit of energy), coupling J, μ, temperature T."""
    from qlat.theories.double_exchange import DoubleExchangeTheory

    return DoubleExchangeTheory.from_options(L=L, ndim=2, shape=shape, boundary=boundary, t=t, J=J, mu=mu, T=T)


@dataclass(frozen=True)
class SLMCTrainingRequest:
    """A checked SLMC training (:func:`slmc_training_request`): the theory, the kind of effective model
    (``"linear"`` or ``"transformer"``), the model to train (fresh or from ``init``) and the seed."""

    theory: Any
    kind: str
    network: Any
    seed: int
    init: str | None = None

    def run(self, out: str | os.PathLike, *, n: int, chains: int, thermalize: int, every: int, rounds: int = 1,
            epochs: int = 200, lr: float = 1e-2, batch: int = 64, val_fraction: float = 0.2, check: int = 0,
            progress: bool = False, command: str = "") -> SLMCTraining:
        """Train into ``out`` (:func:`train_slmc`; a model from ``init`` keeps its weights)."""
        return train_slmc(self.theory, self.network, out=out, kind=self.kind, n=n, chains=chains, seed=self.seed,
                          thermalize=thermalize, every=every, rounds=rounds, epochs=epochs, lr=lr, batch=batch,
                          val_fraction=val_fraction, check=check, init_linear=self.init is None, progress=progress,
                          command=command)


def slmc_training_request(theory: Any, *, model: str = "transformer", layers: int = 1, heads: int = 2,
                          radius: int = 1, shells: int | None = None, seed: int = 0,
                          init: str | os.PathLike | None = None,
                          names: Mapping[str, str] | None = None) -> SLMCTrainingRequest:
    """The effective model of kind ``model`` for ``theory``, checked before anything is written.

    ``shells`` None: :data:`DEFAULT_SHELLS`, or as many pair distances as the lattice has if fewer (a 2×1 lattice
    has one).  ``init``: a trained transformer folder for the same theory, continued (same ``layers``) or grown by
    one layer that starts as the identity (``layers`` one more; :func:`~qlat.samplers.slmc.effective_hamiltonians.
    deepen`).  Errors name the parameter as ``names`` shows it (the command's flags).
    """
    from qlat.samplers.slmc.effective_hamiltonians import deepen, pair_distance_count
    from qlat.samplers.slmc.training import load_model, make_model

    name = (lambda key: (names or {}).get(key, key))
    if shells is None:  # adapts to the lattice
        shells = min(DEFAULT_SHELLS, pair_distance_count(theory.shape, theory.boundary))
    if init is None:
        network = make_model(model, theory, layers=layers, heads=heads, radius=radius, shells=shells, seed=seed)
        return SLMCTrainingRequest(theory=theory, kind=model, network=network, seed=seed)
    require(model == "transformer", name("init"), f"applies to {name('model')} transformer")
    try:
        loaded, card = load_model(init)
    except ParameterError as exc:  # the library names the model directory "model": here it is init
        raise exc.renamed(name("init") if exc.parameter == "model" else exc.parameter) from None
    require(card.get("theory") == theory.params(), name("init"), "was trained for another theory "
            f"({card.get('theory')})", str(init), hint=f"{name('init')} a model trained for this theory, or leave it "
            "out")
    require(card["config"].get("kind") == "transformer", name("init"), "must be a transformer model", str(init))
    have = card["config"]["layers"]
    require(layers in (have, have + 1), name("layers"), f"must be {have} (continue) or {have + 1} (grow) "
            f"with this {name('init')}", layers)
    trained: Any = loaded
    return SLMCTrainingRequest(theory=theory, kind=model, network=trained if layers == have else deepen(trained),
                               seed=seed, init=str(init))


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
