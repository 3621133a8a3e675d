r"""Two-flavour pseudofermion HMC for gauge theories with Wilson fermions (``pf-hmc``).

For N_f = 2 degenerate flavours det(D†D) = π^{−n}∫dφ† dφ e^{−φ†(D†D)^{−1}φ}, so the joint
density of links θ, momenta p and one complex pseudofermion field φ is e^{−H} with

.. math::
    H = \tfrac12 \sum p^2 + S_g[θ] + φ^†(D^†D)^{−1}[θ]\,φ

(Weingarten & Petcher, Phys. Lett. B 99 (1981) 333; Duane et al. 1987; Gattringer & Lang ch. 8).
One trajectory, for every chain at once:

1. heat bath for φ: draw χ with density e^{−χ†χ} and set φ = D†χ (so S_pf = χ†χ exactly),
2. draw p ~ N(0, 1),
3. integrate with the force ∂S_g/∂θ − 2 Re(Y†∂D/∂θ X), X = (D†D)⁻¹φ by conjugate gradients,
   Y = DX (leapfrog or Omelyan, :mod:`qlat.samplers.integrators`),
4. accept with min(1, e^{−ΔH}); the final S_pf = φ†X is solved to ``cg_tol``.

Exactness: the Metropolis test uses the true H up to the CG residual; with the default relative
residual 10⁻¹² the error in ΔH is ~10⁻¹² |φ|², far below anything a chain resolves.  Every CG
starts from zero (no chronological guess), so the molecular dynamics is exactly reversible up
to the same residual (tested to 10⁻¹⁰).  The theory is asked only through the
:class:`~qlat.theories.schwinger_wilson.PseudofermionAction` protocol.

N_f = 1 needs a rational approximation (RHMC) or the exact determinant
(:mod:`qlat.samplers.exact_determinant`); this sampler refuses it.

Options, Metropolis test and chain loop: :mod:`qlat.samplers.hmc_core`; this module adds the
pseudofermion heat bath, the action and the force (:class:`PseudofermionTrajectory`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import SampleBatch, check_int
from qlat.samplers.hmc_core import HMCCore, hmc_cli_options, standard_normal
from qlat.theories.wilson_dirac import cg_normal

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


def complex_normal(shape: tuple[int, ...], *, generator: "torch.Generator") -> np.ndarray:
    """χ with density ∝ e^{−|χ|²} per component: (a + ib)/√2 with a, b ~ N(0, 1)."""
    z = standard_normal((2, *shape), generator=generator).numpy()
    return (z[0] + 1j * z[1]) / math.sqrt(2.0)


@dataclass
class PseudofermionTrajectory:
    """The :class:`~qlat.samplers.hmc_core.HMCAction` of one pf-hmc trajectory: φ = D†χ drawn in
    :meth:`begin` (so S_pf(θ₀) = χ†χ exactly), then S_g + φ†(D†D)⁻¹φ at fixed φ for the force and the test."""

    sampler: "PseudofermionHMC"
    theory: Any
    stats: dict[str, Any]
    phi: np.ndarray | None = None

    def begin(self, fields: "torch.Tensor", generator: "torch.Generator") -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        op = self.theory.dirac(fields)
        chi = complex_normal((fields.shape[0], op.dim), generator=generator)
        self.phi = op.apply_dagger(chi)
        return fields, self.theory.gauge_action(fields) + torch.from_numpy(np.sum(np.abs(chi) ** 2, axis=1))

    def _phi(self) -> np.ndarray:
        require(self.phi is not None, "phi", "begin() draws the pseudofermion field first", None)
        return self.phi  # type: ignore[return-value]

    def force(self, q: "torch.Tensor") -> "torch.Tensor":
        return self.sampler.total_force(self.theory, self._phi(), self.stats)(q)

    def accept_action(self, q: "torch.Tensor") -> "torch.Tensor":
        return self.theory.gauge_action(q) + self.sampler.pseudofermion_action(self.theory, q, self._phi(), self.stats)

    def fields(self, q: "torch.Tensor") -> "torch.Tensor":
        return q


@SAMPLERS.register("pf-hmc")
class PseudofermionHMC(HMCCore):
    """Hybrid Monte Carlo with two-flavour pseudofermions (module docstring).

    Parameters
    ----------
    cg_tol: relative residual at which conjugate gradients stop (force and action), in (0, 1e-6].
    cg_maxiter: iteration cap of one CG solve; reaching it is an error (the chain would not be exact).
    The shared keywords (trajectory_length, n_steps, integrator, target_acceptance, thermalization,
    every): :class:`~qlat.samplers.hmc_core.HMCOptions`.
    """

    name = "pf-hmc"
    requirement = ("pf-hmc needs a theory with two Wilson flavours (schwinger --nf 2); use the exact-determinant "
                   "sampler for --nf 1")
    OPTIONS: tuple[Option, ...] = hmc_cli_options(
        Option("--cg-tol", "cg_tol", float, "pf-hmc: CG relative residual (<= 1e-6)", default=1e-12))

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "PseudofermionHMC":
        """A quick instance (conformance suite)."""
        return cls(trajectory_length=0.5, n_steps=4, thermalization=2)

    def __init__(self, *, cg_tol: float = 1e-12, cg_maxiter: int = 10_000, **options: Any) -> None:
        super().__init__(**options)
        try:
            tol_ok = 0 < float(cg_tol) <= 1e-6
        except (TypeError, ValueError):
            tol_ok = False
        require(tol_ok, "cg_tol", "must be in (0, 1e-6] (a loose residual would bias the chain)", cg_tol)
        self.cg_tol = float(cg_tol)
        self.cg_maxiter = check_int(cg_maxiter, "cg_maxiter", 1)

    def variant_params(self) -> dict[str, Any]:
        return {"cg_tol": self.cg_tol, "cg_maxiter": self.cg_maxiter}

    def supports(self, theory: "Theory") -> bool:
        """Theories with the pseudofermion protocol and two flavours."""
        from qlat.theories.schwinger_wilson import PseudofermionAction

        return isinstance(theory, PseudofermionAction) and int(getattr(theory, "nf", 0)) == 2

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> PseudofermionTrajectory:
        return PseudofermionTrajectory(self, theory, stats)

    # ------------------------------------------------------------------ pieces (tested one by one)
    def solve(self, op: Any, phi: np.ndarray, stats: dict[str, Any] | None = None) -> np.ndarray:
        """X = (D†D)⁻¹φ to ``cg_tol``; counts iterations into ``stats``."""
        result = cg_normal(op, phi, tol=self.cg_tol, maxiter=self.cg_maxiter)
        require(result.converged, "cg_maxiter", f"conjugate gradients did not reach {self.cg_tol:g} in "
                f"{self.cg_maxiter} iterations (D†D too ill-conditioned: mass near critical?)", self.cg_maxiter)
        if stats is not None:
            stats["cg_iterations"] = stats.get("cg_iterations", 0) + result.iterations
            stats["cg_solves"] = stats.get("cg_solves", 0) + 1
            stats["max_residual"] = max(stats.get("max_residual", 0.0), float(np.max(result.residual)))
        return result.x

    def pseudofermion_action(self, theory: Any, fields: "torch.Tensor", phi: np.ndarray,
                             stats: dict[str, Any] | None = None) -> "torch.Tensor":
        """S_pf = φ†(D†D)⁻¹φ per chain."""
        import torch

        x = self.solve(theory.dirac(fields), phi, stats)
        return torch.from_numpy(np.sum(np.conj(phi) * x, axis=1).real.copy())

    def total_force(self, theory: Any, phi: np.ndarray, stats: dict[str, Any] | None = None):
        """θ ↦ ∂(S_g + S_pf)/∂θ at fixed φ."""

        def force(fields: "torch.Tensor") -> "torch.Tensor":
            op = theory.dirac(fields)
            x = self.solve(op, phi, stats)
            return theory.gauge_force(fields) + theory.pseudofermion_force(op, x)

        return force

    def molecular_dynamics(self, theory: Any, fields: "torch.Tensor", momenta: "torch.Tensor", phi: np.ndarray,
                           step_size: float, stats: dict[str, Any] | None = None):
        """(θ, p) after n_steps integration steps of size ε at fixed φ."""
        return self._integrate(fields, momenta, self.total_force(theory, phi, stats), step_size, self.n_steps)

    def hamiltonian(self, theory: Any, fields: "torch.Tensor", momenta: "torch.Tensor", phi: np.ndarray,
                    stats: dict[str, Any] | None = None) -> "torch.Tensor":
        chains = fields.shape[0]
        return (0.5 * momenta.square().reshape(chains, -1).sum(1) + theory.gauge_action(fields)
                + self.pseudofermion_action(theory, fields, phi, stats))

    def finish_batch(self, theory: Any, batch: SampleBatch, stats: dict[str, Any], trajectories: int) -> None:
        """``batch.meta``: CG iterations per trajectory, the largest CG residual, the trajectories run."""
        batch.meta.update({
            "cg_iterations_per_trajectory": stats.get("cg_iterations", 0) / max(trajectories, 1),
            "cg_max_residual": stats.get("max_residual", 0.0),
            "trajectories": trajectories,
        })
