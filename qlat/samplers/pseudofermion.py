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
from qlat.samplers.hmc import standard_normal
from qlat.samplers.integrators import INTEGRATORS, get_integrator
from qlat.theories.wilson_dirac import cg_normal

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


def complex_normal(shape: tuple[int, ...], *, generator: "torch.Generator") -> np.ndarray:
    """χ with density ∝ e^{−|χ|²} per component: (a + ib)/√2 with a, b ~ N(0, 1)."""
    z = standard_normal((2, *shape), generator=generator).numpy()
    return (z[0] + 1j * z[1]) / math.sqrt(2.0)


@SAMPLERS.register("pf-hmc")
class PseudofermionHMC:
    """Hybrid Monte Carlo with two-flavour pseudofermions (module docstring).

    Parameters
    ----------
    trajectory_length, n_steps, integrator, target_acceptance, thermalization, every:
        as for :class:`~qlat.samplers.hmc.HMC`.
    cg_tol: relative residual at which conjugate gradients stop (force and action), in (0, 1e-6].
    cg_maxiter: iteration cap of one CG solve; reaching it is an error (the chain would not be exact).
    """

    name = "pf-hmc"
    OPTIONS: tuple[Option, ...] = (
        Option("--tau", "trajectory_length", float, "trajectory length τ (> 0)", default=1.0),
        Option("--steps", "n_steps", int, "integration steps per trajectory (>= 1)", default=10),
        Option("--integrator", "integrator", str, "molecular-dynamics integrator", default="leapfrog",
               choices=tuple(INTEGRATORS)),
        Option("--cg-tol", "cg_tol", float, "pf-hmc: CG relative residual (<= 1e-6)", default=1e-12),
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "PseudofermionHMC":
        """A quick instance (conformance suite)."""
        return cls(trajectory_length=0.5, n_steps=4, thermalization=2)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "PseudofermionHMC":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    def __init__(self, *, trajectory_length: float = 1.0, n_steps: int = 10, integrator: str = "leapfrog",
                 cg_tol: float = 1e-12, cg_maxiter: int = 10_000, target_acceptance: float | None = None,
                 thermalization: int = 0, every: int = 1) -> None:
        try:
            ok = math.isfinite(float(trajectory_length)) and float(trajectory_length) > 0
        except (TypeError, ValueError):
            ok = False
        require(ok, "trajectory_length", "must be a finite number > 0", trajectory_length)
        require(integrator in INTEGRATORS, "integrator", f"must be one of {', '.join(INTEGRATORS)}", integrator)
        try:
            tol_ok = 0 < float(cg_tol) <= 1e-6
        except (TypeError, ValueError):
            tol_ok = False
        require(tol_ok, "cg_tol", "must be in (0, 1e-6] (a loose residual would bias the chain)", cg_tol)
        self.trajectory_length = float(trajectory_length)
        self.n_steps = check_int(n_steps, "n_steps", 1)
        self.integrator = integrator
        self.cg_tol = float(cg_tol)
        self.cg_maxiter = check_int(cg_maxiter, "cg_maxiter", 1)
        self.target_acceptance = check_target_acceptance(target_acceptance)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)
        self._integrate = get_integrator(integrator)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "trajectory_length": self.trajectory_length, "n_steps": self.n_steps,
                "integrator": self.integrator, "cg_tol": self.cg_tol, "cg_maxiter": self.cg_maxiter,
                "target_acceptance": self.target_acceptance, "thermalization": self.thermalization,
                "every": self.every}

    def supports(self, theory: "Theory") -> bool:
        """Theories with the pseudofermion protocol and two flavours."""
        from qlat.theories.schwinger_wilson import PseudofermionAction

        return isinstance(theory, PseudofermionAction) and int(getattr(theory, "nf", 0)) == 2

    def _check_theory(self, theory: "Theory") -> None:
        require(self.supports(theory), "theory",
                "pf-hmc needs a theory with two Wilson flavours (schwinger --nf 2); use the exact-determinant "
                "sampler for --nf 1", getattr(theory, "name", type(theory).__name__))

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        self._check_theory(theory)
        return make_initial_state(theory, chains=chains, seed=seed, start=start,
                                  step_size=self.trajectory_length / self.n_steps)

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

    def trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator", step_size: float,
                   stats: dict[str, Any] | None = None) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One trajectory for every chain: (new fields, accepted, ΔH, mean acceptance probability)."""
        import torch

        chains = fields.shape[0]
        op = theory.dirac(fields)
        chi = complex_normal((chains, op.dim), generator=generator)
        phi = op.apply_dagger(chi)
        p = standard_normal(tuple(fields.shape), generator=generator).to(fields.dtype)
        h0 = (0.5 * p.square().reshape(chains, -1).sum(1) + theory.gauge_action(fields)
              + torch.from_numpy(np.sum(np.abs(chi) ** 2, axis=1)))
        q1, p1 = self.molecular_dynamics(theory, fields, p, phi, step_size, stats)
        h1 = self.hamiltonian(theory, q1, p1, phi, stats)
        dh = h1 - h0
        dh = torch.where(torch.isnan(dh), torch.full_like(dh, math.inf), dh)
        u = torch.rand(chains, dtype=fields.dtype, generator=generator)
        accept = torch.log(u) < -dh
        view = (chains,) + (1,) * (fields.dim() - 1)
        new = theory.canonicalize(torch.where(accept.view(view), q1, fields))
        dh_np = dh.numpy().copy()
        with np.errstate(over="ignore", invalid="ignore"):
            prob = np.where(np.isfinite(dh_np), np.minimum(1.0, np.exp(-dh_np)), 0.0)
        return new, accept.numpy().copy(), dh_np, float(prob.mean())

    def run(self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains by ``n`` kept configurations; ``batch.meta`` has the CG statistics."""
        self._check_theory(theory)
        stats: dict[str, Any] = {}

        def step(fields, gen, eps):
            return self.trajectory(theory, fields, gen, eps, stats)

        batch, new_state = run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                                     target_acceptance=self.target_acceptance, accepted_dtype=bool,
                                     progress=progress, desc="pf-hmc")
        trajectories = new_state.n_steps_done - state.n_steps_done
        batch.meta.update({
            "cg_iterations_per_trajectory": stats.get("cg_iterations", 0) / max(trajectories, 1),
            "cg_max_residual": stats.get("max_residual", 0.0),
            "trajectories": trajectories,
        })
        return batch, new_state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"PseudofermionHMC({args})"
