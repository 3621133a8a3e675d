r"""Reverse-KL training of a flow (self-sampling, no data), interruptible and resumable.

The loss is the reverse Kullback–Leibler divergence up to the constant log Z
(arXiv:2101.08176 eq. (24)), estimated on a batch x_i = f(z_i), z_i ~ r:

.. math:: L = \frac{1}{N} \sum_i \big[\log q(x_i) + S(x_i)\big] = KL(q‖p) − \log Z \;≥\; −\log Z,

Two gradient estimators of the same expectation (``gradient``):

- ``"reparam"`` (default): the total derivative of L through x_i = f_θ(z_i) and log q_θ.
- ``"path"``: the path gradient ("sticking the landing", Roeder, Wu, Duvenaud arXiv:1703.09194;
  for flows on the lattice Vaitl, Nicoli, Nakajima, Kessel arXiv:2207.08219),

  .. math:: \hat g_{\rm path} = \frac{1}{N} \sum_i \frac{∂}{∂x}\big[\log q_{θ}(x) + S(x)\big]_{x = x_i}
            \cdot \frac{∂ f_θ(z_i)}{∂θ},

  which drops the score term ∂_θ log q_θ(x)|_x (zero expectation under q), so both estimators
  have the same expectation, and the path gradient vanishes sample by sample when q = p (its
  variance goes to zero at the optimum).  log q_θ(x_i) is evaluated through the inverse flow
  with the parameters detached; a step costs about twice a reparametrized one.

minimized with Adam, a cosine learning-rate schedule from ``lr`` down to ``lr · lr_min_factor``
over ``steps`` steps, and gradient-norm clipping.  Every step records the loss, the batch ESS,
the batch's equilibrium independence-Metropolis acceptance (:func:`~qlat.samplers.flow.metrics.acceptance`)
and the learning rate.

Training may continue in a new *phase* (:meth:`TrainConfig.next_phase`): another batch size and
learning rate from the step reached on, with the cosine schedule restarted from that step
(``schedule_start``) to the new total.  A larger batch late in training lowers the variance of the
gradient, which is what limits the reverse-KL loss near its minimum.  The earlier phases' configs
are kept in :attr:`TrainingState.phases` and in the model card.  ``trainable`` picks the parameters a
phase moves (:func:`trainable_parameters`: a tree flow's shared map, then its tail); a phase that
moves other parameters than the stored optimizer state starts Adam afresh.

Resumable bit for bit: the optimizer state, the generator state and the history are part of the
checkpoint (:mod:`qlat.samplers.flow.checkpoint`); training 2n steps in one go and n + n steps
with a resume in between give identical weights on the CPU.  (The schedule depends on the
target ``steps``; resuming towards a larger target changes the remaining learning rates.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

import qlat.samplers.flow.metrics as metrics
from qlat.core.errors import require
from qlat.samplers.flow.networks import FlowModel

GRADIENTS = ("reparam", "path")
#: Which parameters a training phase moves: all; all but a tree flow's tail MLP ("shared"); only the tail.
TRAINABLE = ("all", "shared", "tail")


@dataclass
class TrainConfig:
    """Training hyper-parameters (stored in the model card)."""

    steps: int = 1000
    batch: int = 64
    lr: float = 1e-3
    lr_min_factor: float = 0.05
    schedule: str = "cosine"
    clip_norm: float = 10.0
    seed: int = 0
    schedule_start: int = 0
    gradient: str = "reparam"
    trainable: str = "all"

    def __post_init__(self) -> None:
        for name, minimum in (("steps", 0), ("batch", 2), ("seed", 0), ("schedule_start", 0)):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool) and value >= minimum, name,
                    f"must be an integer >= {minimum}", value)
        for name in ("lr", "clip_norm"):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0, name,
                    "must be a finite number > 0", value)
        require(0 < self.lr_min_factor <= 1, "lr_min_factor", "must be in (0, 1]", self.lr_min_factor)
        require(self.schedule in ("cosine", "constant"), "schedule", "must be cosine or constant", self.schedule)
        require(self.gradient in GRADIENTS, "gradient", f"must be one of {', '.join(GRADIENTS)}", self.gradient)
        require(self.trainable in TRAINABLE, "trainable", f"must be one of {', '.join(TRAINABLE)}", self.trainable)

    def learning_rate(self, step: int) -> float:
        """lr(step): cosine from lr at ``schedule_start`` to lr·lr_min_factor at ``steps`` − 1 (constant: lr)."""
        span = self.steps - 1 - self.schedule_start
        if self.schedule == "constant" or span <= 0:
            return float(self.lr)
        frac = min(max(step - self.schedule_start, 0) / span, 1.0)
        low = self.lr * self.lr_min_factor
        return float(low + 0.5 * (self.lr - low) * (1.0 + math.cos(math.pi * frac)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def next_phase(self, step: int, *, steps: int, batch: int | None = None, lr: float | None = None,
                   clip_norm: float | None = None, trainable: str | None = None) -> TrainConfig:
        """The config of a new phase from ``step`` to ``steps`` in total (schedule restarted at ``step``)."""
        require(isinstance(steps, int) and steps > step, "steps", f"must exceed the {step} steps done", steps)
        return TrainConfig(steps=steps, batch=self.batch if batch is None else batch,
                           lr=self.lr if lr is None else lr, lr_min_factor=self.lr_min_factor,
                           schedule=self.schedule, clip_norm=self.clip_norm if clip_norm is None else clip_norm,
                           seed=self.seed, schedule_start=step, gradient=self.gradient,
                           trainable=self.trainable if trainable is None else trainable)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The config stored by :meth:`to_dict` (a card written before ``schedule_start`` existed has 0)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


HISTORY_KEYS = ("step", "loss", "ess", "acceptance", "lr")


@dataclass
class TrainingState:
    """What continues a training run: steps done, optimizer and generator state, history, wall time."""

    step: int = 0
    optimizer: dict[str, Any] | None = None
    rng_state: torch.Tensor | None = None
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    wall_s: float = 0.0
    #: configs of the finished phases, each with ``"until"`` (the step at which the next began)
    phases: list[dict[str, Any]] = field(default_factory=list)
    #: the flow whose weights this training started from (:func:`~qlat.samplers.flow.checkpoint.carry_weights`:
    #: its folder, theory, weights sha256, steps and wall time), None for a training from scratch
    init_from: dict[str, Any] | None = None


def reverse_kl_loss(model: FlowModel, theory: Any, n: int, *, generator: torch.Generator,
                    gradient: str = "reparam") -> tuple[torch.Tensor, torch.Tensor]:
    """The batch loss L = mean(log q + S) on ``n`` fresh samples, whose ``backward()`` gives the
    ``gradient`` estimator (module docstring), and the detached log-weights log p − log q."""
    require(gradient in GRADIENTS, "gradient", f"must be one of {', '.join(GRADIENTS)}", gradient)
    x, log_q = model.sample(n, generator=generator)
    log_p = model.training_log_prob(theory, x)  # = theory.log_prob(x) in value
    log_w = metrics.importance_log_weight(log_p, log_q).detach()
    if gradient == "reparam":
        return (log_q - log_p).mean(), log_w
    frozen = {name: p.detach() for name, p in model.named_parameters()}
    log_q_x = torch.func.functional_call(model, frozen, (x,))  # log q_θ(x) with θ held fixed
    return (log_q_x - log_p).mean(), log_w


def trainable_parameters(model: FlowModel, trainable: str) -> list[torch.nn.Parameter]:
    """The parameters a phase with ``trainable`` moves (:data:`TRAINABLE`); the others get no gradient.

    ``"shared"`` and ``"tail"`` split a tree flow (:mod:`~qlat.samplers.flow.tree`) with a tail:
    first the shared one-plaquette map with the tail left at its zero correction (then the tail
    cannot feed the row maps the noisy gradient of the processed sum it is conditioned on), then
    the tail alone on the target lattice with the shared map fixed.
    """
    require(trainable in TRAINABLE, "trainable", f"must be one of {', '.join(TRAINABLE)}", trainable)
    named = list(model.named_parameters())
    in_tail = [".net.tail." in name for name, _ in named]
    if trainable == "tail":
        require(any(in_tail), "trainable", "'tail' needs a tree flow with tail > 0", trainable)
    keep = [trainable == "all" or (trainable == "tail") == t for t in in_tail]
    for (_, p), k in zip(named, keep):
        p.requires_grad_(k)
    return [p for (_, p), k in zip(named, keep) if k]


def _optimizer_fits(saved: dict[str, Any], moved: list[torch.nn.Parameter]) -> bool:
    """Whether a stored Adam state belongs to these parameters: the same number, and moments of their shapes."""
    ids = saved["param_groups"][0]["params"]
    if len(ids) != len(moved):
        return False
    moments = saved.get("state", {})
    return all(i not in moments or tuple(moments[i]["exp_avg"].shape) == tuple(p.shape) for i, p in zip(ids, moved))


def train(
    model: FlowModel,
    theory: Any,
    *,
    config: TrainConfig,
    state: TrainingState | None = None,
    checkpoint: Callable[[TrainingState], None] | None = None,
    checkpoint_every: int = 100,
    until: int | None = None,
    time_limit_s: float | None = None,
    progress: bool = False,
) -> TrainingState:
    """Train ``model`` on ``theory.log_prob`` up to ``config.steps`` steps in total.

    ``state`` continues an earlier run (from :func:`~qlat.samplers.flow.checkpoint.load_training_state`);
    ``checkpoint(state)`` is called every ``checkpoint_every`` steps, at the end and when the run
    is interrupted (KeyboardInterrupt is re-raised after the checkpoint).  ``until`` stops after
    that many steps in total (a partial run; the schedule still follows ``config.steps``);
    ``time_limit_s`` stops once this call has trained that many seconds (wall clock).
    """
    require(isinstance(checkpoint_every, int) and checkpoint_every >= 1, "checkpoint_every",
            "must be an integer >= 1", checkpoint_every)
    state = state or TrainingState()
    stop = config.steps if until is None else min(int(until), config.steps)
    moved = trainable_parameters(model, config.trainable)
    optimizer = torch.optim.Adam(moved, lr=config.lr)
    gen = torch.Generator()
    gen.manual_seed(config.seed)
    if state.optimizer is not None and _optimizer_fits(state.optimizer, moved):
        optimizer.load_state_dict(state.optimizer)  # else a phase that moves other parameters: Adam starts afresh
    if state.rng_state is not None:
        gen.set_state(state.rng_state.clone())
    bar = None
    if progress and state.step < stop:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=stop, initial=state.step, desc=f"flow {theory.name}", unit="step",
                   file=sys.stderr, leave=False)
    model.train()
    last_saved = state.step
    t_start = time.perf_counter()
    wall0 = state.wall_s

    def snapshot() -> TrainingState:
        state.optimizer = optimizer.state_dict()
        state.rng_state = gen.get_state()
        state.wall_s = wall0 + time.perf_counter() - t_start
        return state

    try:
        while state.step < stop:
            if time_limit_s is not None and time.perf_counter() - t_start >= time_limit_s:
                break
            lr = config.learning_rate(state.step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            loss, log_w = reverse_kl_loss(model, theory, config.batch, generator=gen, gradient=config.gradient)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(moved, config.clip_norm)
            optimizer.step()
            log_w = log_w.double().cpu()
            h = state.history
            h["step"].append(state.step)
            h["loss"].append(float(loss.detach()))
            h["ess"].append(metrics.ess(log_w))
            h["acceptance"].append(metrics.acceptance(log_w))
            h["lr"].append(lr)
            state.step += 1
            if bar is not None:
                bar.set_postfix(loss=f"{h['loss'][-1]:.3f}", ess=f"{h['ess'][-1]:.3f}",
                                acc=f"{h['acceptance'][-1]:.3f}", refresh=False)
                bar.update(1)
            if checkpoint is not None and state.step - last_saved >= checkpoint_every:
                checkpoint(snapshot())
                last_saved = state.step
    except KeyboardInterrupt:
        if checkpoint is not None:
            checkpoint(snapshot())
        raise
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    snapshot()
    if checkpoint is not None:
        checkpoint(state)
    return state


@torch.no_grad()
def sample_log_weights(model: FlowModel, theory: Any, n: int, *, seed: int = 0, batch: int = 1024
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` flow samples and their log-weights −S − log q (float64), drawn in batches."""
    require(isinstance(n, int) and n >= 1, "n", "must be an integer >= 1", n)
    gen = torch.Generator()
    gen.manual_seed(seed)
    xs, ws = [], []
    done = 0
    while done < n:
        m = min(batch, n - done)
        x, log_q = model.sample(m, generator=gen)
        xs.append(x.double().cpu())
        ws.append(metrics.importance_log_weight(theory.log_prob(x.double()), log_q.double()).cpu())
        done += m
    return torch.cat(xs), torch.cat(ws)


def evaluate_flow(model: FlowModel, theory: Any, *, n: int, seed: int) -> dict[str, Any]:
    """``kl``, ``ess`` and ``acceptance`` Estimates from ``n`` fresh float64 flow samples.

    ``acceptance`` is the equilibrium independence-Metropolis acceptance E_{p×q}[min(1, w'/w)]
    (:func:`~qlat.samplers.flow.metrics.acceptance`, bootstrap error): the same quantity the sampler's
    chain acceptance estimates.  The provenance holds ``pareto_k``, the tail shape k̂ of the weights
    (:func:`~qlat.samplers.flow.metrics.pareto_khat`): at k̂ >= :data:`~qlat.samplers.flow.metrics.HEAVY_TAIL_K`
    the weights have infinite variance, the ESS is not a property of the flow, and a warning says so.
    """
    import numpy as np

    from qlat.core.estimate import Estimate

    _, log_w = sample_log_weights(model, theory, n, seed=seed)
    lw = log_w.numpy()
    finite = np.isfinite(lw)
    kl = -lw[finite]
    ess, ess_err = metrics.ess_with_error(lw, seed=seed)
    acc, acc_err = metrics.acceptance_with_error(lw, seed=seed)
    khat = metrics.pareto_khat(lw)
    record = {"n_samples": int(n), "seed": int(seed), "pareto_k": None if math.isnan(khat) else khat}
    out: dict[str, Any] = {
        "kl": Estimate(float(kl.mean()), float(kl.std(ddof=1) / math.sqrt(kl.size)), name="kl", unit="1",
                       n_samples=int(kl.size), backend="flow", provenance={"definition": "<log q + S> = KL - log Z",
                                                                           **record}),
        "ess": Estimate(ess, ess_err, name="ess", unit="1", n_samples=int(n), backend="flow",
                        provenance={"method": "bootstrap", "n_boot": 200, **record}),
        "acceptance": Estimate(acc, acc_err, name="acceptance", unit="1", n_samples=int(n), backend="flow",
                               provenance={"definition": "E_{x~p, x'~q}[min(1, w(x')/w(x))] from fresh samples",
                                           "method": "bootstrap", "n_boot": 200, **record}),
    }
    if math.isfinite(khat) and khat >= metrics.HEAVY_TAIL_K:
        message = (f"the importance weights are heavy-tailed (Pareto k = {khat:.2f} >= {metrics.HEAVY_TAIL_K}): "
                   "their variance is infinite, so the ESS and acceptance above are not properties of the flow "
                   "and Monte Carlo errors of its chains cannot be trusted; train longer or use a larger flow")
        out["ess"] = out["ess"].with_warning(message)
        out["acceptance"] = out["acceptance"].with_warning(message, emit=False)
    return out
