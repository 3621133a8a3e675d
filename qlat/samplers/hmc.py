r"""Hybrid Monte Carlo (Duane, Kennedy, Pendleton, Roweth, Phys. Lett. B 195 (1987) 216).

One trajectory, for all chains at once:

1. draw momenta p ~ N(0, 1) (one per field component; :func:`standard_normal`),
2. integrate Hamilton's equations of H = ½ Σ p² + S(q) with ``n_steps`` steps of size ε
   (:mod:`qlat.samplers.integrators`, leapfrog or Omelyan 2MN),
3. accept the end point with probability min(1, e^{−ΔH}) against the *true* action,
   otherwise keep the start (per chain).

Theories that name a compiled kernel in an optional ``hmc_kernel()`` hook (U(1) and φ⁴ in two
dimensions) have step 2 — and H at both ends — done by one fused numba call over all chains
(:mod:`qlat.samplers.hmc_kernels`); the momenta and the Metropolis uniforms come from the same
torch generator in the same order either way, so a chain is reproducible bit for bit under a
seed, and the fused path equals the generic torch one to rounding (ΔH to ~1e-13).

The initial step size is ε = ``trajectory_length`` / ``n_steps``.  With ``target_acceptance``,
ε is tuned during the ``thermalization`` trajectories only (Robbins–Monro on log ε, the number of
steps fixed, so the trajectory length becomes n_steps·ε); the kept chain uses a frozen ε and is
an exact Markov chain.  After every trajectory the theory may map fields to a canonical
representative (U(1) link angles into (−π, π]), which changes neither the action nor any
observable.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
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


def _mean_acceptance(dh: np.ndarray) -> float:
    """Mean of min(1, e^{−ΔH}) over chains (0 for a diverged chain)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.where(np.isfinite(dh), np.minimum(1.0, np.exp(-dh)), 0.0).mean())


@SAMPLERS.register("hmc")
class HMC:
    """Hybrid Monte Carlo over many chains (the batch axis), exact by the Metropolis test.

    Parameters
    ----------
    trajectory_length: τ > 0; the initial step size is τ/n_steps.
    n_steps: integration steps per trajectory (>= 1).
    integrator: ``"leapfrog"`` or ``"omelyan"``.
    target_acceptance: None (no tuning) or a target in (0, 1) for the step-size tuning during
        thermalization.
    thermalization: trajectories discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` trajectories (>= 1).
    """

    name = "hmc"
    OPTIONS: tuple[Option, ...] = (
        Option("--tau", "trajectory_length", float, "trajectory length τ (> 0)", default=1.0),
        Option("--steps", "n_steps", int, "integration steps per trajectory (>= 1)", default=10),
        Option("--integrator", "integrator", str, "molecular-dynamics integrator", default="leapfrog",
               choices=tuple(INTEGRATORS)),
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "HMC":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "HMC":
        """A quick instance (conformance suite)."""
        return cls(trajectory_length=0.5, n_steps=5, thermalization=2)

    def supports(self, theory: "Theory") -> bool:
        """Any theory with an action and a force."""
        return callable(getattr(theory, "action", None)) and callable(getattr(theory, "force", None))

    def __init__(
        self,
        *,
        trajectory_length: float = 1.0,
        n_steps: int = 10,
        integrator: str = "leapfrog",
        target_acceptance: float | None = None,
        thermalization: int = 0,
        every: int = 1,
    ) -> None:
        try:
            ok = math.isfinite(float(trajectory_length)) and float(trajectory_length) > 0
        except (TypeError, ValueError):
            ok = False
        require(ok, "trajectory_length", "must be a finite number > 0", trajectory_length)
        require(integrator in INTEGRATORS, "integrator", f"must be one of {', '.join(INTEGRATORS)}", integrator)
        self.trajectory_length = float(trajectory_length)
        self.n_steps = check_int(n_steps, "n_steps", 1)
        self.integrator = integrator
        self.target_acceptance = check_target_acceptance(target_acceptance)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)
        self._integrate = get_integrator(integrator)
        self._schedule: tuple[np.ndarray, np.ndarray] | None = None

    def _fused_kernel(self, theory: "Theory") -> tuple[str, tuple[float, ...]] | None:
        """The theory's compiled trajectory kernel (``hmc_kernel()`` hook), if it has one."""
        hook = getattr(theory, "hmc_kernel", None)
        return hook() if callable(hook) else None

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trajectory_length": self.trajectory_length,
            "n_steps": self.n_steps,
            "integrator": self.integrator,
            "target_acceptance": self.target_acceptance,
            "thermalization": self.thermalization,
            "every": self.every,
        }

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        """Chains started hot (random) or cold from ``seed``; ε = τ/n_steps."""
        require(self.supports(theory), "theory", "HMC needs an action with a force (DifferentiableAction)",
                getattr(theory, "name", type(theory).__name__))
        return make_initial_state(
            theory, chains=chains, seed=seed, start=start, step_size=self.trajectory_length / self.n_steps
        )

    def trajectory(
        self, theory: "Theory", fields: "torch.Tensor", generator: "torch.Generator", step_size: float
    ) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One HMC trajectory for every chain: (new fields, accepted, ΔH, mean acceptance probability)."""
        import torch

        chains = fields.shape[0]
        kernel = self._fused_kernel(theory) if fields.dtype == torch.float64 else None
        if kernel is not None:
            return self._fused_trajectory(kernel, fields, generator, step_size)
        p = standard_normal(tuple(fields.shape), generator=generator).to(fields.dtype)
        h0 = 0.5 * p.square().reshape(chains, -1).sum(1) + theory.action(fields)
        force = theory.force  # type: ignore[attr-defined]  # checked: supports() asks DifferentiableAction
        q1, p1 = self._integrate(fields, p, force, step_size, self.n_steps)
        h1 = 0.5 * p1.square().reshape(chains, -1).sum(1) + theory.action(q1)
        dh = h1 - h0
        dh = torch.where(torch.isnan(dh), torch.full_like(dh, math.inf), dh)  # diverged trajectory
        u = torch.rand(chains, dtype=fields.dtype, generator=generator)
        # accept with probability min(1, e^{-ΔH}); a diverged trajectory (ΔH = +inf) is rejected
        accept = torch.log(u) < -dh
        view = (chains,) + (1,) * (fields.dim() - 1)
        new = torch.where(accept.view(view), q1, fields)
        new = theory.canonicalize(new)
        dh_np = dh.numpy().copy()
        return new, accept.numpy().copy(), dh_np, _mean_acceptance(dh_np)

    def _fused_trajectory(
        self, kernel: tuple[str, tuple[float, ...]], fields: "torch.Tensor", generator: "torch.Generator",
        step_size: float,
    ) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """:meth:`trajectory` by one compiled call: the same uniforms in the same order (momenta, then
        the Metropolis test), the same integrator, canonical fields."""
        import torch

        from qlat.samplers.hmc_kernels import fused_hmc_step, integrator_schedule

        if self._schedule is None:
            self._schedule = integrator_schedule(self.integrator, self.n_steps)
        n = fields.numel()
        momentum_u = torch.rand(2 * ((n + 1) // 2), dtype=torch.float64, generator=generator)
        accept_u = torch.rand(fields.shape[0], dtype=torch.float64, generator=generator)
        new, accept, dh = fused_hmc_step(kernel[0], kernel[1], fields.numpy(), momentum_u.numpy(), accept_u.numpy(),
                                         step_size=step_size, schedule=self._schedule)
        return torch.from_numpy(new), accept, dh, _mean_acceptance(dh)

    def run(
        self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
    ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations (after any thermalization left)."""
        require(self.supports(theory), "theory", "HMC needs an action with a force (DifferentiableAction)",
                getattr(theory, "name", type(theory).__name__))

        def step(fields, gen, eps):
            return self.trajectory(theory, fields, gen, eps)

        return run_chain(
            step,
            theory,
            n,
            state,
            thermalization=self.thermalization,
            every=self.every,
            target_acceptance=self.target_acceptance,
            accepted_dtype=bool,
            progress=progress,
            desc="hmc",
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"HMC({args})"
