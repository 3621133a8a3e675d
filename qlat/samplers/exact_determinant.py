r"""Exact-determinant algorithms for Wilson fermions on small lattices (N_f = 1 and 2).

**HMC on the exact effective action** (``det-hmc``).  The weight of N_f flavours is
e^{−S_g}|det D|^{N_f} × (sign det D)^{N_f}; the chain samples

.. math:: S_{\rm eff} = S_g − N_f \log|\det D|, \qquad
          F = ∂S_g/∂θ − N_f \operatorname{Re}\operatorname{Tr}(D^{−1}∂D/∂θ),

both from one dense LU factorization per configuration
(:meth:`~qlat.theories.schwinger_wilson.SchwingerTheory.effective_action_force_sign`), and the
sign s = sign det D of every kept configuration is stored in ``batch.meta["sign"]`` so that
⟨O⟩ = ⟨O s⟩/⟨s⟩ (N_f = 1; for N_f = 2 the weight is (det D)² ≥ 0 and s plays no role).  The
molecular dynamics cannot cross det D = 0 continuously (S_eff → +∞ there); finite steps do
jump across, and below the critical line (m₀ > m_c(β)) negative determinants are rare.  The
cost is O(V³) per force — the crossover with pseudofermions is measured in
``benchmarks/bench_fermion_hmc.py``.

**Reweighting of pure-gauge configurations** (:func:`determinant_weights`): an ensemble drawn
with e^{−S_g} alone (U(1) heatbath or HMC) is reweighted by w = |det D|^{N_f} s^{N_f}:
⟨O⟩_{N_f} = ⟨O w⟩_g/⟨w⟩_g.  A second algorithm, independent of every molecular-dynamics
ingredient, used to validate the pseudofermion HMC.

**Instanton proposals** (:func:`instanton_metropolis`): in two dimensions HMC and local updates
freeze the topological charge as β grows (τ_int(Q) ~ 10² at β = 6 on 12²).  The link field δ
with every plaquette angle equal to 2π/V (:func:`instanton_field`) shifts Q by ±1 at an action
cost ≈ 2π²β/V, i.e. O(1) at fixed physical volume g²A = V/β.  θ → θ ± δ with probability ½
each is a symmetric proposal that preserves the Haar measure, accepted by Metropolis with
the theory's full action (S_g, or S_eff with the determinant): an exact update that makes the
continuum limit of χ_t at fixed physical volume affordable.  ``det-hmc`` takes
``instanton_moves`` after each trajectory; ``heatbath-instanton`` combines them with the U(1)
heatbath sweep for pure gauge.
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
    ChainState,
    SampleBatch,
    check_int,
    from_params_by_keywords,
    run_chain,
)
from qlat.samplers.hmc_core import FixedAction, HMCCore, hmc_cli_options

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


def instanton_field(shape: tuple[int, int]) -> "torch.Tensor":
    r"""Link angles δ on an L₀×L₁ torus with δ₀₁(x) ≡ 2π/V (mod 2π) on every plaquette.

    δ₁(x₀, x₁) = 2πx₀/V, δ₀(x₀, x₁) = −2πL₀x₁/V on the last time slice x₀ = L₀ − 1, else 0.
    """
    import torch

    L0, L1 = int(shape[0]), int(shape[1])
    V = L0 * L1
    delta = torch.zeros((2, L0, L1), dtype=torch.float64)
    x0 = torch.arange(L0, dtype=torch.float64)[:, None].expand(L0, L1)
    x1 = torch.arange(L1, dtype=torch.float64)
    delta[1] = 2.0 * math.pi * x0 / V
    delta[0, L0 - 1] = -2.0 * math.pi * L0 * x1 / V
    return delta


def instanton_metropolis(theory: Any, fields: "torch.Tensor", generator: "torch.Generator", *, moves: int
                         ) -> tuple["torch.Tensor", np.ndarray]:
    """``moves`` Metropolis proposals θ → θ ± δ (:func:`instanton_field`) per chain; (fields, acceptance rate)."""
    import torch

    lat = theory.lattice
    require(lat.ndim == 2, "shape", "instanton proposals are defined in two dimensions", lat.shape)
    delta = instanton_field(lat.shape)
    chains = fields.shape[0]
    accepted = np.zeros(chains)
    s_old = theory.action(fields)
    view = (chains,) + (1,) * (fields.dim() - 1)
    for _ in range(moves):
        sign = torch.where(torch.rand(chains, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0)
        proposal = fields + sign.view(view) * delta
        s_new = theory.action(proposal)
        u = torch.rand(chains, dtype=torch.float64, generator=generator)
        accept = torch.log(u) < -(s_new - s_old)
        fields = torch.where(accept.view(view), proposal, fields)
        s_old = torch.where(accept, s_new, s_old)
        accepted += accept.numpy()
    return theory.canonicalize(fields), accepted / max(moves, 1)


def determinant_weights(theory: Any, configurations: "torch.Tensor") -> tuple[np.ndarray, np.ndarray]:
    """(N_f log|det D|, sign det D^{N_f}) for each configuration ``(n, *field_shape)``.

    The reweighting factor of a pure-gauge ensemble to N_f flavours is sign·exp(first entry).
    """
    from qlat.theories.schwinger_wilson import ExactDeterminantAction

    require(isinstance(theory, ExactDeterminantAction), "theory", "must offer an exact fermion determinant",
            type(theory).__name__)
    op = theory.dirac(configurations)  # type: ignore[attr-defined]
    logdet, sign = op.log_abs_det()
    return theory.nf * logdet, sign ** theory.nf


@SAMPLERS.register("det-hmc")
class ExactDeterminantHMC(HMCCore):
    """HMC on S_g − N_f log|det D| with the exact (dense) determinant; signs kept for reweighting.

    Parameters: ``instanton_moves`` (Q → Q ± 1 proposals after each trajectory, >= 0) and the shared
    keywords of :class:`~qlat.samplers.hmc_core.HMCOptions`.
    """

    name = "det-hmc"
    requirement = "det-hmc needs a theory with an exact fermion determinant"
    OPTIONS: tuple[Option, ...] = hmc_cli_options(
        Option("--instanton-moves", "instanton_moves", int,
               "det-hmc, heatbath-instanton: Q → Q ± 1 Metropolis proposals per update (>= 0)", default=0))

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "ExactDeterminantHMC":
        """A quick instance (conformance suite)."""
        return cls(trajectory_length=0.5, n_steps=4, thermalization=2, instanton_moves=1)

    def __init__(self, *, instanton_moves: int = 0, **options: Any) -> None:
        super().__init__(**options)
        self.instanton_moves = check_int(instanton_moves, "instanton_moves", 0)

    def variant_params(self) -> dict[str, Any]:
        return {"instanton_moves": self.instanton_moves}

    def supports(self, theory: "Theory") -> bool:
        from qlat.theories.schwinger_wilson import ExactDeterminantAction

        return isinstance(theory, ExactDeterminantAction)

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> FixedAction:
        """S_MD = S_acc = S_eff = S_g − N_f log|det D| and its force, from one LU per configuration."""

        def force(q: "torch.Tensor") -> "torch.Tensor":
            return theory.effective_action_force_sign(q, need_force=True)[1]

        def action(q: "torch.Tensor") -> "torch.Tensor":
            return theory.effective_action_force_sign(q, need_force=False)[0]

        return FixedAction(force=force, accept_action=action)

    def after_trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator") -> "torch.Tensor":
        """``instanton_moves`` Q → Q ± 1 Metropolis proposals (:func:`instanton_metropolis`)."""
        if self.instanton_moves:
            fields, _ = instanton_metropolis(theory, fields, generator, moves=self.instanton_moves)
        return fields

    def finish_batch(self, theory: Any, batch: SampleBatch, stats: dict[str, Any], trajectories: int) -> None:
        """``batch.meta["sign"]``: sign det D of every kept configuration, ``(n, chains)``."""
        configs = batch.configurations
        flat = configs.reshape(-1, *configs.shape[2:])
        sign = theory.dirac(flat).log_abs_det()[1]
        batch.meta["sign"] = sign.reshape(configs.shape[0], configs.shape[1])


@SAMPLERS.register("heatbath-instanton")
class HeatbathInstanton:
    """U(1) heatbath sweeps (:class:`~qlat.samplers.metropolis.U1Heatbath`) each followed by
    ``instanton_moves`` Q → Q ± 1 Metropolis proposals (:func:`instanton_metropolis`); pure gauge, 2D.

    ``accepted`` records the instanton acceptance rate of each update.
    """

    name = "heatbath-instanton"
    OPTIONS: tuple[Option, ...] = (
        Option("--instanton-moves", "instanton_moves", int,
               "det-hmc, heatbath-instanton: Q → Q ± 1 Metropolis proposals per update (>= 0)", default=0),
        *COMMON_OPTIONS,
    )

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "HeatbathInstanton":
        """A quick instance (conformance suite)."""
        return cls(instanton_moves=1, thermalization=2)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "HeatbathInstanton":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    def __init__(self, *, instanton_moves: int = 1, thermalization: int = 0, every: int = 1) -> None:
        from qlat.samplers.metropolis import U1Heatbath

        self.instanton_moves = check_int(instanton_moves, "instanton_moves", 0)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)
        self._heatbath = U1Heatbath()

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "instanton_moves": self.instanton_moves, "thermalization": self.thermalization,
                "every": self.every}

    def supports(self, theory: "Theory") -> bool:
        return self._heatbath.supports(theory) and theory.lattice.ndim == 2

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        require(self.supports(theory), "theory", "heatbath-instanton needs a 2D compact U(1) Wilson action",
                getattr(theory, "name", type(theory).__name__))
        return self._heatbath.init_state(theory, chains=chains, seed=seed, start=start)

    def run(self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        require(self.supports(theory), "theory", "heatbath-instanton needs a 2D compact U(1) Wilson action",
                getattr(theory, "name", type(theory).__name__))

        def step(fields, gen, eps):
            fields, _, _, _ = self._heatbath.sweep(theory, fields, gen, eps)
            rate = np.ones(fields.shape[0])
            if self.instanton_moves:
                fields, rate = instanton_metropolis(theory, fields, gen, moves=self.instanton_moves)
            return fields, rate, np.full(fields.shape[0], np.nan), float(rate.mean())

        return run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                         target_acceptance=None, accepted_dtype=np.float64, progress=progress, desc=self.name)

    def __repr__(self) -> str:
        return (f"HeatbathInstanton(instanton_moves={self.instanton_moves}, thermalization={self.thermalization}, "
                f"every={self.every})")
