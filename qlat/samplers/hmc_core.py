r"""The one Hybrid Monte Carlo core every HMC variant runs on (Duane, Kennedy, Pendleton, Roweth,
Phys. Lett. B 195 (1987) 216).

One trajectory, for all chains at once (:meth:`HMCCore.trajectory`):

1. ``begin``: the variant's action maps the configuration U to its molecular-dynamics variables q
   (U itself, or V = f⁻¹(U) for field-transformation HMC), draws any auxiliary field
   (pseudofermions) from the chain's generator, and evaluates the *accept action* S_acc(q₀);
2. momenta p ~ N(0, 1), one per component of q (:func:`standard_normal`);
3. Hamilton's equations of ½Σp² + S_MD(q), ``n_steps`` steps of size ε
   (:mod:`qlat.samplers.integrators`, leapfrog or Omelyan 2MN), with the variant's MD force
   F = ∂S_MD/∂q;
4. ΔH = [½Σp₁² + S_acc(q₁)] − [½Σp₀² + S_acc(q₀)] (NaN → +∞, a diverged trajectory), accepted
   where log u < −ΔH (probability min(1, e^{−ΔH})); the chain moves to U₁ = fields(q₁) or stays.

The chain samples e^{−S_acc} in the variables q *whatever S_MD is*: leapfrog and Omelyan are
reversible and area-preserving for any smooth S_MD, so the Metropolis test on the true H makes
the update exact (the MD only sets the acceptance).  This is why the MD force and the accept
action are two separate members of :class:`HMCAction`: self-learning HMC integrates an
approximate action and accepts with the exact one (Nagai, Tanaka, Tomiya, arXiv:2010.11900),
field-transformation HMC works in flowed variables whose accept action carries −log|det J|
(:mod:`qlat.samplers.fthmc`).  A variant is a subclass of :class:`HMCCore` that says which
theories it supports (``supports``/``requirement``) and returns its :class:`HMCAction`
(``hmc_action``); options and their validation (:class:`HMCOptions`, ``ParameterError`` naming
the parameter), the integrator, the accept/ΔH record (``SampleBatch.accepted``/``delta_h``), the
step-size tuning in thermalization and the checkpointable :class:`~qlat.samplers.base.ChainState`
(run(n₁) then run(n₂) is bit for bit run(n₁ + n₂)) are the core's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.samplers.base import (
    COMMON_OPTIONS,
    TUNING_OPTION,
    ChainState,
    SampleBatch,
    check_int,
    check_target_acceptance,
    from_params_by_keywords,
    make_initial_state,
    run_chain,
)
from qlat.samplers.integrators import INTEGRATORS, get_integrator

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory

__all__ = ["FixedAction", "HMCAction", "HMCCore", "HMCOptions", "hmc_cli_options", "mean_acceptance",
           "standard_normal"]


def standard_normal(shape: tuple[int, ...], *, generator: "torch.Generator") -> "torch.Tensor":
    """Independent N(0, 1) float64 samples by the Box–Muller transform of ``torch.rand`` uniforms.

    With u, v uniform on [0, 1): r = √(−2 log(1 − u)), z₁ = r cos 2πv, z₂ = r sin 2πv are
    independent standard normals (Box & Muller, Ann. Math. Statist. 29 (1958) 610).  Written
    out because ``torch.randn`` in float64 is about 1.6× slower on CPU, and the momentum refresh
    is a sizeable part of a trajectory.
    """
    import torch

    n = 1
    for s in shape:
        n *= int(s)
    half = (n + 1) // 2
    u = torch.rand(2 * half, dtype=torch.float64, generator=generator)
    r = u[:half].neg_().log1p_().mul_(-2.0).sqrt_()
    angle = u[half:].mul_(2.0 * math.pi)
    out = torch.empty(2 * half, dtype=torch.float64)
    torch.cos(angle, out=out[:half])
    out[:half].mul_(r)
    torch.mul(r, angle.sin_(), out=out[half:])
    return out[:n].view(shape)


def mean_acceptance(dh: np.ndarray) -> float:
    """Mean of min(1, e^{−ΔH}) over chains (0 for a diverged chain)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.where(np.isfinite(dh), np.minimum(1.0, np.exp(-dh)), 0.0).mean())


# ------------------------------------------------------------------------------ options
@dataclass(frozen=True)
class HMCOptions:
    """The options every HMC variant shares, validated on construction.

    trajectory_length: τ > 0; the initial step size is ε = τ/n_steps.
    n_steps: integration steps per trajectory (>= 1).
    integrator: ``"leapfrog"`` or ``"omelyan"``.
    target_acceptance: None (no tuning) or a target in (0, 1) for the Robbins–Monro tuning of ε
        during thermalization (the kept chain uses a frozen ε: an exact Markov chain).
    thermalization: trajectories discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` trajectories (>= 1).
    """

    trajectory_length: float = 1.0
    n_steps: int = 10
    integrator: str = "leapfrog"
    target_acceptance: float | None = None
    thermalization: int = 0
    every: int = 1

    def __post_init__(self) -> None:
        try:
            ok = math.isfinite(float(self.trajectory_length)) and float(self.trajectory_length) > 0
        except (TypeError, ValueError):
            ok = False
        require(ok, "trajectory_length", "must be a finite number > 0", self.trajectory_length)
        require(self.integrator in INTEGRATORS, "integrator", f"must be one of {', '.join(INTEGRATORS)}",
                self.integrator)
        normalized = {
            "trajectory_length": float(self.trajectory_length),
            "n_steps": check_int(self.n_steps, "n_steps", 1),
            "target_acceptance": check_target_acceptance(self.target_acceptance),
            "thermalization": check_int(self.thermalization, "thermalization", 0),
            "every": check_int(self.every, "every", 1),
        }
        for key, value in normalized.items():
            object.__setattr__(self, key, value)

    @property
    def step_size(self) -> float:
        """The initial step size ε = τ/n_steps."""
        return self.trajectory_length / self.n_steps

    def params(self) -> dict[str, Any]:
        return {"trajectory_length": self.trajectory_length, "n_steps": self.n_steps,
                "integrator": self.integrator, "target_acceptance": self.target_acceptance,
                "thermalization": self.thermalization, "every": self.every}


def hmc_cli_options(*extra: Option) -> tuple[Option, ...]:
    """The command-line options of an HMC variant: τ, steps, integrator, the variant's ``extra``,
    the step-size tuning and ``--thermalize/--every``."""
    return (
        Option("--tau", "trajectory_length", float, "trajectory length τ (> 0)", default=1.0),
        Option("--steps", "n_steps", int, "integration steps per trajectory (>= 1)", default=10),
        Option("--integrator", "integrator", str, "molecular-dynamics integrator", default="leapfrog",
               choices=tuple(INTEGRATORS)),
        *extra,
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )


# ------------------------------------------------------------------------------ action/force protocol
@runtime_checkable
class HMCAction(Protocol):
    """What one HMC variant contributes to a trajectory (made afresh by ``HMCCore.hmc_action``).

    The MD force and the accept action are separate: the chain samples e^{−S_acc} for *any* MD
    force (module docstring), so an approximate or cheaper S_MD is allowed in :meth:`force`.
    """

    def begin(self, fields: "torch.Tensor", generator: "torch.Generator") -> tuple["torch.Tensor", "torch.Tensor"]:
        """(q₀, S_acc(q₀)): the MD variables of ``fields`` and the accept action there, per chain.
        Auxiliary fields (pseudofermions) are drawn here from ``generator``, before the momenta."""
        ...

    def force(self, q: "torch.Tensor") -> "torch.Tensor":
        """F = ∂S_MD/∂q, the force of the molecular dynamics (shape of q)."""
        ...

    def accept_action(self, q: "torch.Tensor") -> "torch.Tensor":
        """S_acc(q) per chain, the action of the Metropolis test (the target e^{−S_acc} in the variables q)."""
        ...

    def fields(self, q: "torch.Tensor") -> "torch.Tensor":
        """The configuration U of the MD variables q (the identity unless the variables are transformed)."""
        ...


@dataclass(frozen=True)
class FixedAction:
    """An :class:`HMCAction` without auxiliary fields, in the configuration's own variables:
    ``force`` drives the MD, ``accept_action`` decides (plain HMC: both the theory's; SLHMC: an
    approximate force and the exact action)."""

    force: Callable[["torch.Tensor"], "torch.Tensor"]
    accept_action: Callable[["torch.Tensor"], "torch.Tensor"]

    def begin(self, fields: "torch.Tensor", generator: "torch.Generator") -> tuple["torch.Tensor", "torch.Tensor"]:
        return fields, self.accept_action(fields)

    def fields(self, q: "torch.Tensor") -> "torch.Tensor":
        return q


# ------------------------------------------------------------------------------ the core
class HMCCore:
    """Hybrid Monte Carlo over many chains (the batch axis), exact by the Metropolis test.

    A variant sets ``name`` and ``requirement`` (why a theory is refused), registers itself, and
    implements :meth:`supports` and :meth:`hmc_action`; optional hooks: :meth:`after_trajectory`
    (further exact updates, e.g. instanton moves), :meth:`finish_batch` (``batch.meta``),
    :meth:`variant_params` (its own constructor keywords).  Its ``__init__`` takes its own keywords
    and passes the shared ones (:class:`HMCOptions`) to ``HMCCore.__init__``.
    """

    name: ClassVar[str] = "hmc-core"
    requirement: ClassVar[str] = "this HMC variant does not support the theory"
    OPTIONS: tuple[Option, ...] = hmc_cli_options()

    def __init__(self, **options: Any) -> None:
        self.options = HMCOptions(**options)
        self._integrate = get_integrator(self.options.integrator)

    # the shared options, read-only
    trajectory_length = property(lambda self: self.options.trajectory_length)
    n_steps = property(lambda self: self.options.n_steps)
    integrator = property(lambda self: self.options.integrator)
    target_acceptance = property(lambda self: self.options.target_acceptance)
    thermalization = property(lambda self: self.options.thermalization)
    every = property(lambda self: self.options.every)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Any:
        return from_params_by_keywords(cls, params)

    # ------------------------------------------------------------------ variant hooks
    def supports(self, theory: "Theory") -> bool:  # pragma: no cover - every variant overrides
        raise NotImplementedError

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> HMCAction:  # pragma: no cover - overridden
        raise NotImplementedError

    def after_trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator") -> "torch.Tensor":
        """Further exact updates after the Metropolis test (none by default)."""
        return fields

    def finish_batch(self, theory: Any, batch: SampleBatch, stats: dict[str, Any], trajectories: int) -> None:
        """Add the variant's records to ``batch.meta`` (nothing by default)."""

    def variant_params(self) -> dict[str, Any]:
        """The variant's own constructor keywords (beside :class:`HMCOptions`)."""
        return {}

    # ------------------------------------------------------------------ protocol
    def params(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.params(), **self.variant_params()}

    def check_theory(self, theory: "Theory") -> None:
        require(self.supports(theory), "theory", self.requirement, getattr(theory, "name", type(theory).__name__))

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        """Chains started hot (random) or cold from ``seed``; ε = τ/n_steps."""
        self.check_theory(theory)
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=self.options.step_size)

    def trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator", step_size: float,
                   stats: dict[str, Any] | None = None) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One trajectory for every chain: (new fields, accepted, ΔH, mean acceptance probability)."""
        import torch

        action = self.hmc_action(theory, {} if stats is None else stats)
        q0, s0 = action.begin(fields, generator)
        chains = q0.shape[0]
        p = standard_normal(tuple(q0.shape), generator=generator).to(q0.dtype)
        h0 = 0.5 * p.square().reshape(chains, -1).sum(1) + s0
        q1, p1 = self._integrate(q0, p, action.force, step_size, self.options.n_steps)
        h1 = 0.5 * p1.square().reshape(chains, -1).sum(1) + action.accept_action(q1)
        dh = h1 - h0
        dh = torch.where(torch.isnan(dh), torch.full_like(dh, math.inf), dh)  # diverged trajectory
        u = torch.rand(chains, dtype=q0.dtype, generator=generator)
        # accept with probability min(1, e^{-ΔH}); a diverged trajectory (ΔH = +inf) is rejected
        accept = torch.log(u) < -dh
        view = (chains,) + (1,) * (fields.dim() - 1)
        new = theory.canonicalize(torch.where(accept.view(view), action.fields(q1), fields))
        new = self.after_trajectory(theory, new, generator)
        dh_np = dh.detach().numpy().copy()
        return new, accept.numpy().copy(), dh_np, mean_acceptance(dh_np)

    def run(self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations (after any thermalization left)."""
        self.check_theory(theory)
        stats: dict[str, Any] = {}

        def step(fields, gen, eps):
            return self.trajectory(theory, fields, gen, eps, stats)

        opts = self.options
        batch, new_state = run_chain(step, theory, n, state, thermalization=opts.thermalization, every=opts.every,
                                     target_acceptance=opts.target_acceptance, accepted_dtype=bool,
                                     progress=progress, desc=self.name)
        self.finish_batch(theory, batch, stats, new_state.n_steps_done - state.n_steps_done)
        return batch, new_state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"{type(self).__name__}({args})"
