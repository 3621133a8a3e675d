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

The options, the Metropolis test and the chain loop are the shared core's
(:mod:`qlat.samplers.hmc_core`); this module adds only the theory's action/force and the fused path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.registry import SAMPLERS
from qlat.samplers.hmc_core import FixedAction, HMCCore, mean_acceptance, standard_normal

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory

__all__ = ["HMC", "standard_normal"]


@SAMPLERS.register("hmc")
class HMC(HMCCore):
    """Hybrid Monte Carlo on the theory's action and force (options: :class:`~qlat.samplers.hmc_core.HMCOptions`)."""

    name = "hmc"
    requirement = "HMC needs an action with a force (DifferentiableAction)"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._schedule: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "HMC":
        """A quick instance (conformance suite)."""
        return cls(trajectory_length=0.5, n_steps=5, thermalization=2)

    def supports(self, theory: "Theory") -> bool:
        """Any theory with an action and a force."""
        return callable(getattr(theory, "action", None)) and callable(getattr(theory, "force", None))

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> FixedAction:
        """S_MD = S_acc = the theory's action."""
        return FixedAction(force=theory.force, accept_action=theory.action)

    def _fused_kernel(self, theory: "Theory") -> tuple[str, tuple[float, ...]] | None:
        """The theory's compiled trajectory kernel (``hmc_kernel()`` hook), if it has one."""
        hook = getattr(theory, "hmc_kernel", None)
        return hook() if callable(hook) else None

    def trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator", step_size: float,
                   stats: dict[str, Any] | None = None) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One HMC trajectory for every chain: (new fields, accepted, ΔH, mean acceptance probability);
        by the theory's compiled kernel where it has one, else by the core."""
        import torch

        kernel = self._fused_kernel(theory) if fields.dtype == torch.float64 else None
        if kernel is None:
            return super().trajectory(theory, fields, generator, step_size, stats)
        return self._fused_trajectory(kernel, fields, generator, step_size)

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
        return torch.from_numpy(new), accept, dh, mean_acceptance(dh)
