"""A normalizing flow trained into a model folder as one result (``qlat flow train``).

:func:`flow_theory` builds the φ⁴ or 2D U(1) theory a flow is trained for; :func:`flow_training_request`
checks the architecture and the training options before anything is written; :meth:`FlowTrainingRequest.run`
trains by reverse KL (:func:`qlat.samplers.flow.training.train`, Albergo, Kanwar, Shanahan,
arXiv:1904.12072), resuming what the folder holds (same theory, architecture and seed; ``new_phase``
continues with another batch/learning rate/trainable part, the cosine schedule restarted at the step reached;
``init`` starts a new model from a flow trained at another β or L), checkpoints
as it goes (SIGTERM and Ctrl-C checkpoint and stop) and evaluates the flow in float64 on fresh samples
(:func:`qlat.samplers.flow.training.evaluate_flow`: KL, ESS, acceptance, Pareto k̂).  Errors name the
parameter as ``names`` shows it (the command's flags).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.analysis.flow_evaluation import flow_table
from qlat.core.errors import ParameterError, require


def _namer(names: Mapping[str, str] | None):
    return lambda key: (names or {}).get(key, key)


def flow_theory(theory: str, *, L: int, beta: float | None = None, m2: float | None = None,
                lam: float | None = None, coupling: str | None = None, bins: int | None = None,
                mix: int | None = None, context: str | None = None, layout: str | None = None,
                tail: int | None = None, names: Mapping[str, str] | None = None) -> Any:
    """The theory on an L×L lattice: ``"u1"`` (:class:`~qlat.theories.u1.U1Theory`, β; L a multiple of 4 for the
    gauge-equivariant stripes) or ``"phi4"`` (:class:`~qlat.theories.phi4.Phi4Theory`, m², λ); the options of the
    other theory's flows (``coupling``, ``bins``, ``mix``, ``context``, ``layout``, ``tail``: u1 only) are
    refused."""
    from qlat.core.lattice import Lattice

    name = _namer(names)
    require(theory in ("phi4", "u1"), name("theory"), "flows exist for phi4 and u1", theory)
    require(L >= 2, name("L"), "must be an integer >= 2", L)
    if theory == "u1":
        from qlat.theories.u1 import U1Theory

        require(m2 is None and lam is None, name("m2/lam"), "apply to phi4 only")
        require(beta is not None, name("beta"), "is required for u1")
        require(L % 4 == 0, name("L"), "must be a multiple of 4 for the gauge-equivariant stripes", L)
        assert beta is not None  # (required above)
        return U1Theory(Lattice((L, L)), beta=beta)
    from qlat.theories.phi4 import Phi4Theory

    require(beta is None, name("beta"), "applies to u1 only")
    require(m2 is not None and lam is not None, name("m2/lam"), "are both required for phi4")
    for key, value in (("coupling", coupling), ("bins", bins), ("n_mix", mix), ("context", context),
                       ("layout", layout), ("tail", tail)):
        require(value is None, name(key), "applies to u1 only", value)
    assert m2 is not None and lam is not None  # (required above)
    return Phi4Theory(Lattice((L, L)), m2=m2, lam=lam)


@dataclass
class FlowTraining:
    """The trained flow's metrics and where it is (``result``, keyed as ``qlat flow train --json`` prints it), a
    one-line title, and whether the training was interrupted (then ``result`` is empty: the folder holds the last
    checkpoint)."""

    result: dict[str, Any]
    title: str
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.result)

    def table(self) -> str:
        return flow_table(self.result, title=self.title)


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block (checkpoint and stop, like Ctrl-C); main thread only."""
    import signal
    import threading

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        yield
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class FlowTrainingRequest:
    """A checked flow training (:func:`flow_training_request`): the theory, the architecture asked for, the full
    architecture of a new model (``fresh``, what a stored model must equal) and the training configuration."""

    theory: Any
    architecture: dict[str, Any]
    fresh: dict[str, Any]
    config: Any
    init: Path | None = None

    def run(self, out: Path, *, dtype: str = "float32", device: str = "cpu", new_phase: bool = False,
            checkpoint_every: int = 100, max_minutes: float | None = None, eval_n: int = 4096,
            progress: bool = False, names: Mapping[str, str] | None = None) -> FlowTraining:
        """Train into ``out`` (resumed when it holds this model), checkpoint, evaluate on ``eval_n`` fresh samples."""
        from qlat.core.compute import torch_dtype
        from qlat.samplers.flow import save_checkpoint, train
        from qlat.samplers.flow.training import evaluate_flow

        name = _namer(names)
        model, config, state = self._resume_or_start(out, dtype=torch_dtype(dtype, name("dtype")), device=device,
                                                     new_phase=new_phase, name=name)

        def checkpoint(st: Any) -> None:
            save_checkpoint(out, model, config=config, state=st, device=device)

        try:
            with _sigterm_stops():
                state = train(model, self.theory, config=config, state=state, checkpoint=checkpoint,
                              checkpoint_every=checkpoint_every, progress=progress,
                              time_limit_s=None if max_minutes is None else 60.0 * max_minutes)
        except KeyboardInterrupt:
            return FlowTraining(result={}, title=str(out), interrupted=True)
        from qlat.samplers.flow import FlowModel

        eval_model = FlowModel(self.theory.params(), model.architecture).double()
        eval_model.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
        metrics = evaluate_flow(eval_model.eval(), self.theory, n=eval_n, seed=self.config.seed + 1)
        save_checkpoint(out, model, config=config, state=state, device=device,
                        metrics={k: v.to_dict() for k, v in metrics.items()})
        result = {**metrics, "model": str(out), "theory": self.theory.params(), "architecture": model.architecture,
                  "steps": state.step, "train_wall_s": state.wall_s, "seed": self.config.seed}
        return FlowTraining(result=result, title=f"{out}: {state.step} steps, {state.wall_s:.0f} s of training")

    def _resume_or_start(self, out: Path, *, dtype: Any, device: str, new_phase: bool,
                         name: Any) -> tuple[Any, Any, Any]:
        """The model, configuration and training state: those stored in ``out`` (same theory, architecture, seed;
        the same phase, or with ``new_phase`` a new one from the step reached) or a fresh model."""
        from qlat.core.compute import seed_torch
        from qlat.samplers.flow import FlowModel, TrainConfig, load_model, load_training_state
        from qlat.samplers.flow.checkpoint import CARD_NAME, card_architecture, carry_weights, check_theory, read_card
        from qlat.samplers.flow.training import TrainingState

        config = self.config
        if not (out / CARD_NAME).exists():
            seed_torch(config.seed)  # the initial weights
            model = FlowModel(self.theory.params(), self.architecture).to(device=device, dtype=dtype)
            if self.init is None:
                return model, config, None
            return model, config, TrainingState(init_from=carry_weights(self.init, model, parameter=name("init")))
        card = read_card(out, parameter=name("out"))
        try:
            check_theory(card, self.theory.params())
        except ParameterError as exc:
            raise ParameterError(name(exc.parameter), f"{out} holds a model for another theory ({exc.requirement})",
                                 exc.value, hint="use a new --out folder, or the same theory to continue training"
                                 ) from None
        model, card = load_model(out, theory_params=self.theory.params(), dtype=dtype, device=device,
                                 parameter=name("out"))
        stored_arch = card_architecture(card)
        for key, value in self.fresh.items():
            have = stored_arch.get(key)
            require(have == value, name(key), f"differs from the model stored in {out} ({key} = {have!r})", value,
                    hint="use the same architecture to resume, or a new --out folder")
        stored = TrainConfig.from_dict(card["training"]["config"])
        state = load_training_state(out, card, parameter=name("out"))
        if self.init is not None:  # the same command again (resume) is fine; another starting flow is not
            origin = read_card(self.init, parameter=name("init"))["weights"]["sha256"]
            started = (state.init_from or {}).get("weights_sha256")
            require(started == origin, name("init"), f"{out} holds a training that did not start from this flow "
                    f"(it started from {'scratch' if started is None else str(started)[:16] + '…'})", str(self.init),
                    hint=f"leave out {name('init')} to continue {out}, or use a new --out folder")
        phase_keys = ("batch", "lr", "clip_norm", "gradient", "trainable")
        same = all(getattr(stored, key) == getattr(config, key) for key in (*phase_keys, "steps"))
        require(stored.seed == config.seed, name("seed"), f"differs from the training stored in {out} "
                f"(seed = {stored.seed!r})", config.seed)
        if new_phase and not same:  # (the same command again resumes the phase it started)
            state.phases.append({**stored.to_dict(), "until": state.step})
            gradient = config.gradient
            config = stored.next_phase(state.step, steps=config.steps, batch=config.batch, lr=config.lr,
                                       clip_norm=config.clip_norm, trainable=config.trainable)
            config.gradient = gradient
        else:
            for key in phase_keys:
                require(getattr(stored, key) == getattr(config, key), name(key),
                        f"differs from the training stored in {out} ({key} = {getattr(stored, key)!r}); "
                        f"add {name('new_phase')} to continue with it", getattr(config, key))
            config.schedule_start = stored.schedule_start
        return model, config, state


def flow_training_request(theory: Any, architecture: dict[str, Any], *, steps: int, batch: int, lr: float,
                          clip_norm: float, seed: int, gradient: str, trainable: str = "all",
                          init: str | Path | None = None) -> FlowTrainingRequest:
    """Check the architecture (a :class:`~qlat.samplers.flow.FlowModel` is built and dropped: nothing is
    written) and the training options (:class:`~qlat.samplers.flow.TrainConfig`).

    ``trainable`` (``"all"``, or for a tree flow with a tail ``"shared"`` then ``"tail"``:
    :func:`~qlat.samplers.flow.training.trainable_parameters`) is a phase option like the batch size.
    ``init``: a model folder whose flow a new model starts from
    (:func:`~qlat.samplers.flow.checkpoint.carry_weights`: trained at another β or L, same architecture, or
    a tree flow without tail when this one has one); checked here, weights and all.
    """
    from qlat.samplers.flow import FlowModel, TrainConfig
    from qlat.samplers.flow.checkpoint import carry_weights

    config = TrainConfig(steps=steps, batch=batch, lr=lr, clip_norm=clip_norm, seed=seed, gradient=gradient,
                         trainable=trainable)
    model = FlowModel(theory.params(), architecture)
    fresh = model.architecture
    require(trainable == "all" or (fresh.get("layout") == "tree" and fresh.get("tail", 0) > 0), "trainable",
            f"'{trainable}' splits a tree flow with a tail (layout 'tree', tail >= 1); this flow has one part",
            trainable)
    if init is not None:
        carry_weights(init, model, parameter="init")
    return FlowTrainingRequest(theory=theory, architecture=architecture, fresh=fresh, config=config,
                               init=None if init is None else Path(init))
