"""Chain state, sample batches, the :class:`Sampler` protocol and the shared run loop.

A sampler is a frozen description of an algorithm (its parameters); everything that changes
along a chain lives in :class:`ChainState`: the current configurations of all chains (batch axis
first), the state of the one ``torch.Generator`` that drives them, the current step size and the
number of updates done.  ``run(theory, n1, state=s)`` followed by ``run(theory, n2, state=s')`` is
bit-for-bit the same chain as ``run(theory, n1 + n2, state=s)``.

The run loop (:func:`run_chain`) first finishes the thermalization (``thermalization`` updates
counted from the start of the chain, during which the step size may be tuned towards a target
acceptance and no configuration is kept), then keeps one configuration every ``every`` updates.
After thermalization the step size is frozen, so the kept chain is an exact Markov chain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from qlat.core.errors import ParameterError, require, require_int
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


@dataclass
class ChainState:
    """Everything needed to continue a set of chains bit for bit.

    Attributes
    ----------
    fields: current configurations, shape ``(chains, *field_shape)``, float64.
    rng_state: ``torch.Generator.get_state()`` (uint8 tensor) of the generator driving all chains.
    step_size: current step size (HMC ε; Metropolis proposal width; 0 where unused).
    n_steps_done: updates (trajectories / sweeps) done since the start, thermalization included.
    seed: the seed the chain was started from (provenance).
    """

    fields: "torch.Tensor"
    rng_state: "torch.Tensor"
    step_size: float
    n_steps_done: int = 0
    seed: int = 0

    @property
    def chains(self) -> int:
        return int(self.fields.shape[0])

    def generator(self) -> "torch.Generator":
        """A fresh ``torch.Generator`` positioned at :attr:`rng_state`."""
        import torch

        g = torch.Generator()
        g.set_state(self.rng_state.clone())
        return g

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain numpy arrays (0-d for scalars), e.g. for HDF5; no pickle."""
        return {
            "fields": self.fields.detach().cpu().numpy().copy(),
            "rng_state": self.rng_state.cpu().numpy().astype(np.uint8).copy(),
            "step_size": np.asarray(self.step_size, dtype=np.float64),
            "n_steps_done": np.asarray(self.n_steps_done, dtype=np.int64),
            "seed": np.asarray(self.seed, dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "ChainState":
        """Inverse of :meth:`to_arrays`; ``ParameterError`` naming a missing or malformed key."""
        import torch

        for key in ("fields", "rng_state", "step_size", "n_steps_done"):
            require(key in arrays, "arrays", f"missing key '{key}'", sorted(arrays))
        rng = np.asarray(arrays["rng_state"])
        require(rng.ndim == 1 and rng.dtype == np.uint8, "rng_state", "must be a 1-D uint8 array", rng.dtype)
        fields = np.asarray(arrays["fields"], dtype=np.float64)
        require(fields.ndim >= 2, "fields", "must have a chain axis and field axes", fields.shape)
        return cls(
            fields=torch.from_numpy(fields.copy()),
            rng_state=torch.from_numpy(rng.copy()),
            step_size=float(np.asarray(arrays["step_size"])),
            n_steps_done=int(np.asarray(arrays["n_steps_done"])),
            seed=int(np.asarray(arrays.get("seed", 0))),
        )


@dataclass
class SampleBatch:
    """The kept configurations of a run and the per-sample acceptance record.

    configurations: shape ``(n, chains, *field_shape)``.
    accepted: ``(n, chains)``; bool for HMC (trajectory accepted), float for local algorithms
        (fraction of accepted site/link updates in the sweep that produced the sample).
    delta_h: ``(n, chains)`` ΔH of the HMC trajectory that produced the sample (NaN otherwise).
    step_size: the (frozen) step size used for the kept samples.
    """

    configurations: "torch.Tensor"
    accepted: np.ndarray
    delta_h: np.ndarray
    step_size: float = math.nan
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.configurations.shape[0])

    @property
    def acceptance(self) -> float:
        """Mean acceptance over samples and chains."""
        return float(np.mean(self.accepted))


@runtime_checkable
class Sampler(Protocol):
    """A Markov chain Monte Carlo algorithm (frozen parameters, state kept in :class:`ChainState`).

    Samplers register by name (``@SAMPLERS.register("hmc")``) and declare their command-line
    options (``OPTIONS``); ``params()`` holds ``name`` and the constructor keywords, so
    :func:`sampler_from_params` rebuilds an equal sampler through ``from_params``.  Class-level
    hook beside the protocol: ``example(theory, workdir)``, a quick instance for the conformance
    suite (``workdir`` for model files a learned sampler needs).
    """

    name: str
    OPTIONS: tuple[Option, ...]

    def params(self) -> dict[str, Any]: ...

    def supports(self, theory: "Theory") -> bool:
        """Whether this sampler can run on ``theory`` (asked through the theory protocols)."""
        ...

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState: ...

    def run(
        self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
    ) -> tuple[SampleBatch, ChainState]: ...


# ------------------------------------------------------------------------------ helpers
StepResult = tuple["torch.Tensor", np.ndarray, np.ndarray, float]
StepFn = Callable[["torch.Tensor", "torch.Generator", float], StepResult]


def check_int(value: Any, name: str, minimum: int) -> int:
    """An integer >= ``minimum`` (:func:`qlat.core.errors.require_int`)."""
    return require_int(value, name, minimum=minimum)


def check_target_acceptance(value: Any) -> float | None:
    if value is None:
        return None
    try:
        ok = 0.0 < float(value) < 1.0
    except (TypeError, ValueError):
        ok = False
    require(ok, "target_acceptance", "must be None or a number in (0, 1)", value)
    return float(value)


def make_initial_state(theory: "Theory", *, chains: int, seed: int, start: str, step_size: float) -> ChainState:
    """Seeded start: ``hot`` draws the configurations from the generator, ``cold`` is ordered."""
    import torch

    chains = check_int(chains, "chains", 1)
    seed = check_int(seed, "seed", 0)
    require(start in ("hot", "cold"), "start", "must be 'hot' or 'cold'", start)
    g = torch.Generator()
    g.manual_seed(seed)
    fields = theory.hot_start(chains, generator=g) if start == "hot" else theory.cold_start(chains)
    return ChainState(fields=fields, rng_state=g.get_state(), step_size=float(step_size), n_steps_done=0, seed=seed)


def check_state(theory: "Theory", state: ChainState) -> None:
    require(isinstance(state, ChainState), "state", "must be a ChainState (see init_state)", type(state).__name__)
    shape = tuple(state.fields.shape[1:])
    require(shape == tuple(theory.field_shape), "state",
            f"fields of shape (chains, {tuple(theory.field_shape)}) expected for this theory", tuple(state.fields.shape))


def tune_log_step(step_size: float, mean_acceptance: float, target: float, k: int) -> float:
    """Robbins–Monro update log ε ← log ε + (ā − target)/√(k+1), clamped to [1e-6, 1e3]."""
    new = math.log(step_size) + (mean_acceptance - target) / math.sqrt(k + 1.0)
    return float(min(max(math.exp(new), 1e-6), 1e3))


def run_chain(
    step: StepFn,
    theory: "Theory",
    n: int,
    state: ChainState,
    *,
    thermalization: int,
    every: int,
    target_acceptance: float | None,
    accepted_dtype: Any,
    progress: bool,
    desc: str,
) -> tuple[SampleBatch, ChainState]:
    """Thermalize (tuning the step size if asked), then keep ``n`` configurations, one per ``every`` updates."""
    import torch

    n = check_int(n, "n", 1)
    check_state(theory, state)
    gen = state.generator()
    fields = state.fields.clone()
    step_size = float(state.step_size)
    done = int(state.n_steps_done)
    chains = fields.shape[0]
    configs = torch.empty((n, *fields.shape), dtype=fields.dtype)
    accepted = np.empty((n, chains), dtype=accepted_dtype)
    delta_h = np.full((n, chains), np.nan)

    n_therm_left = max(thermalization - done, 0)
    total = n_therm_left + n * every
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit="upd", leave=False)
    try:
        while done < thermalization:
            fields, _, _, mean_acc = step(fields, gen, step_size)
            if target_acceptance is not None:
                step_size = tune_log_step(step_size, mean_acc, target_acceptance, done)
            done += 1
            if bar is not None:
                bar.update(1)
        for i in range(n):
            for _ in range(every):
                fields, acc, dh, _ = step(fields, gen, step_size)
                done += 1
                if bar is not None:
                    bar.update(1)
            configs[i].copy_(fields)
            accepted[i] = acc
            delta_h[i] = dh
    finally:
        if bar is not None:
            bar.close()
    new_state = ChainState(fields=fields, rng_state=gen.get_state(), step_size=step_size, n_steps_done=done, seed=state.seed)
    return SampleBatch(configurations=configs, accepted=accepted, delta_h=delta_h, step_size=step_size), new_state


#: Options shared by every sampler on the command line (``qlat sample``).
COMMON_OPTIONS: tuple[Option, ...] = (
    Option("--thermalize", "thermalization", int, "updates discarded first (>= 0)", default=100),
    Option("--every", "every", int, "keep one sample every this many updates (>= 1)", default=1),
)

#: Step-size tuning during thermalization (samplers with a tunable step).
TUNING_OPTION = Option(
    "--target-acceptance", "target_acceptance", float,
    "tune the step size to this acceptance in (0, 1) during thermalization only (default: no tuning)")


def from_params_by_keywords(cls: Any, params: dict[str, Any]) -> Any:
    """``cls(**params without name)``, an unknown keyword reported as a ParameterError."""
    kwargs = {k: v for k, v in params.items() if k != "name"}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # unknown keyword
        raise ParameterError("params", f"invalid parameters for sampler '{params.get('name')}': {exc}",
                             sorted(kwargs)) from None


def sampler_from_params(params: dict[str, Any]) -> Sampler:
    """Rebuild a sampler from :meth:`Sampler.params`, by registry name (``hmc``, ``metropolis`` …)."""
    require(isinstance(params, dict), "params", "must be a dict", type(params).__name__)
    cls: Any = SAMPLERS.get(params.get("name"), parameter="name")  # type: ignore[arg-type]
    return cls.from_params(params)  # type: ignore[no-any-return]


def train_command(tool: str, theory_params: Any) -> str:
    """How to train a model card for these theory parameters (the hint of a "trained for another theory" error).

    ``train_command("flow", {"name": "u1", "shape": [8, 8], "beta": 2.0})`` →
    ``'qlat flow train' for u1 on 8×8 with beta=2.0, into a new --out folder``.
    """
    params = dict(theory_params) if isinstance(theory_params, dict) else {}
    shape = params.get("shape")
    lattice = "×".join(str(s) for s in shape) if isinstance(shape, (list, tuple)) else "this lattice"
    couplings = ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("name", "shape"))
    return (f"'qlat {tool} train' for {params.get('name', 'this theory')} on {lattice}"
            f"{' with ' + couplings if couplings else ''}, into a new --out folder")
