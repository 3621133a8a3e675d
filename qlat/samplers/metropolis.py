r"""Local update algorithms: checkerboard Metropolis (φ⁴, U(1)) and U(1) heatbath.

All sites (links) of one checkerboard colour are updated at once: their local actions do not
depend on each other, so the simultaneous update is a product of independent single-site
Metropolis (heatbath) steps and satisfies detailed balance for the *true* action.  This needs an
even extent in every direction (a periodic odd extent connects two sites of one colour).

- φ⁴ (:class:`LocalMetropolis`): proposal φ'_x = φ_x + δ·(2u − 1), accepted with
  min(1, e^{−ΔS_x}), ΔS_x from the local action (2d + m²)φ² + λφ⁴ − 2φ Σ_μ(φ_{x+μ̂} + φ_{x−μ̂}).
  One sweep = even sites, then odd sites.
- U(1) (:class:`LocalMetropolis` on a :class:`~qlat.theories.u1.U1Theory`): the local action
  of a link is S_x = −β Re[e^{iθ_μ(x)} A_μ(x)] with the staple sum A_μ(x)
  (:meth:`U1Theory.local_staples`).  The μ-links with one parity of Σ_{ν≠μ} x_ν share no
  plaquette; one sweep = for each μ, both parities.  Proposal θ' = θ + δ(2u − 1).
- U(1) heatbath (:class:`U1Heatbath`): θ_μ(x) + arg A is drawn from the von Mises density
  ∝ e^{κ cos φ}, κ = β|A| (Best & Fisher, Appl. Statist. 28 (1979) 152), exact and always
  accepted.

The Metropolis proposal width δ is the chain's ``step_size``; with ``target_acceptance`` it is
tuned during thermalization only.  The recorded acceptance of a kept sample is the fraction of
accepted site (link) updates in the sweep that produced it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require, require_positive
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

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


def sample_von_mises(kappa: "torch.Tensor", *, generator: "torch.Generator") -> "torch.Tensor":
    """Samples φ ∈ (−π, π] with density ∝ e^{κ cos φ}, one per entry of ``kappa`` (Best–Fisher).

    τ = 1 + √(1 + 4κ²), ρ = (τ − √(2τ))/(2κ) (evaluated in a cancellation-free form),
    r = (1 + ρ²)/(2ρ); repeat z = cos(πu₁), f = (1 + rz)/(r + z), c = κ(r − f) until
    c(2 − c) > u₂ or log(c/u₂) + 1 − c >= 0; then φ = sign(u₃ − ½) arccos f.
    Entries with κ below 1e-10 are drawn uniformly (the density is flat to that precision).
    """
    import torch

    kappa = kappa.to(torch.float64)
    flat = kappa.reshape(-1)
    out = torch.empty_like(flat)
    small = flat < 1e-10
    s = torch.sqrt(1.0 + 4.0 * flat * flat)
    tau = 1.0 + s
    rho = 2.0 * flat * tau / ((s + 1.0) * (tau + torch.sqrt(2.0 * tau)))
    r = (1.0 + rho * rho) / (2.0 * rho.clamp_min(1e-300))
    pending = torch.nonzero(~small).reshape(-1)
    n_small = int(small.sum())
    if n_small:
        u = torch.rand(n_small, dtype=torch.float64, generator=generator)
        out[small] = (2.0 * u - 1.0) * math.pi
    while pending.numel():
        m = pending.numel()
        u = torch.rand((3, m), dtype=torch.float64, generator=generator)
        rr = r[pending]
        kk = flat[pending]
        z = torch.cos(math.pi * u[0])
        f = (1.0 + rr * z) / (rr + z)
        c = kk * (rr - f)
        accept = (c * (2.0 - c) > u[1]) | (torch.log(c / u[1]) + 1.0 - c >= 0)
        theta = torch.sign(u[2] - 0.5) * torch.arccos(f.clamp(-1.0, 1.0))
        idx = pending[accept]
        out[idx] = theta[accept]
        pending = pending[~accept]
    return out.reshape(kappa.shape)


@SAMPLERS.register("metropolis")
class LocalMetropolis:
    """Checkerboard-parallel local Metropolis for φ⁴ (sites) and U(1) (links).

    Parameters
    ----------
    step_size: initial proposal half-width δ > 0.
    target_acceptance: None or a target in (0, 1) for tuning δ during thermalization.
    thermalization: sweeps discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` sweeps (>= 1).
    """

    name = "metropolis"
    OPTIONS: tuple[Option, ...] = (
        Option("--step-size", "step_size", float, "initial proposal half-width δ (> 0)", default=1.0),
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "LocalMetropolis":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "LocalMetropolis":
        """A quick instance (conformance suite)."""
        return cls(step_size=0.5, thermalization=2)

    def supports(self, theory: "Theory") -> bool:
        """Theories with a site-local scalar action or compact U(1) links, on even lattices."""
        from qlat.theories.base import CompactLinkAction, SiteLocalAction

        return isinstance(theory, (SiteLocalAction, CompactLinkAction))

    def __init__(
        self,
        *,
        step_size: float = 1.0,
        target_acceptance: float | None = None,
        thermalization: int = 0,
        every: int = 1,
    ) -> None:
        self.step_size = require_positive(step_size, "step_size")
        self.target_acceptance = check_target_acceptance(target_acceptance)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "step_size": self.step_size,
            "target_acceptance": self.target_acceptance,
            "thermalization": self.thermalization,
            "every": self.every,
        }

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        _check_theory(theory, allow_phi4=True)
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=self.step_size)

    # -------------------------------------------------------------- sweeps
    def sweep(
        self, theory: "Theory", fields: "torch.Tensor", generator: "torch.Generator", step_size: float
    ) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One sweep over all sites (links); returns (fields, accepted fraction per chain, NaN, mean)."""
        from qlat.theories.base import CompactLinkAction

        if isinstance(theory, CompactLinkAction):
            fields, frac = self._sweep_u1(theory, fields, generator, step_size)
        else:
            fields, frac = self._sweep_phi4(theory, fields, generator, step_size)
        return fields, frac, np.full(fields.shape[0], np.nan), float(frac.mean())

    def _sweep_phi4(self, theory, fields, generator, step_size):
        import torch

        lat = theory.lattice
        fields = fields.clone()
        chains = fields.shape[0]
        n_acc = torch.zeros(chains, dtype=torch.float64)
        for mask in lat.checkerboard_masks():
            u = torch.rand((2, *fields.shape), dtype=fields.dtype, generator=generator)
            proposal = fields + step_size * (2.0 * u[0] - 1.0)
            nb = theory.neighbour_sum(fields)
            ds = theory.local_action(proposal, nb) - theory.local_action(fields, nb)
            accept = (torch.log(u[1]) < -ds) & mask
            fields = torch.where(accept, proposal, fields)
            n_acc += accept.reshape(chains, -1).sum(1)
        return fields, (n_acc / lat.volume).numpy()

    def _sweep_u1(self, theory, fields, generator, step_size):
        import torch

        lat = theory.lattice
        fields = fields.clone()
        chains = fields.shape[0]
        n_acc = torch.zeros(chains, dtype=torch.float64)
        for mu in range(lat.ndim):
            for parity in (0, 1):
                mask = lat.link_checkerboard(mu, parity)
                u = torch.rand((2, chains, *lat.shape), dtype=fields.dtype, generator=generator)
                staple = theory.local_staples(fields, mu)
                old = fields[:, mu]
                new = old + step_size * (2.0 * u[0] - 1.0)
                # ΔS = −β Re[(e^{iθ'} − e^{iθ}) A]
                ds = -theory.beta * (
                    (torch.cos(new) - torch.cos(old)) * staple.real - (torch.sin(new) - torch.sin(old)) * staple.imag
                )
                accept = (torch.log(u[1]) < -ds) & mask
                fields[:, mu] = torch.where(accept, new, old)
                fields = theory.canonicalize(fields)  # wraps the updated links into (−π, π]
                n_acc += accept.reshape(chains, -1).sum(1)
        return fields, (n_acc / (lat.ndim * lat.volume)).numpy()

    def run(
        self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
    ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations."""
        _check_theory(theory, allow_phi4=True)

        def step(fields, gen, delta):
            return self.sweep(theory, fields, gen, delta)

        return run_chain(
            step, theory, n, state,
            thermalization=self.thermalization, every=self.every,
            target_acceptance=self.target_acceptance, accepted_dtype=np.float64,
            progress=progress, desc=self.name,
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"{type(self).__name__}({args})"


#: The U(1) link Metropolis is :class:`LocalMetropolis` applied to a ``U1Theory``.
U1Metropolis = LocalMetropolis


@SAMPLERS.register("heatbath")
class U1Heatbath:
    """Checkerboard heatbath for the U(1) Wilson action (von Mises conditional, always accepted).

    Parameters
    ----------
    thermalization: sweeps discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` sweeps (>= 1).
    """

    name = "heatbath"
    OPTIONS: tuple[Option, ...] = COMMON_OPTIONS

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "U1Heatbath":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "U1Heatbath":
        """A quick instance (conformance suite)."""
        return cls(thermalization=2)

    def supports(self, theory: "Theory") -> bool:
        """Compact U(1) links with the Wilson action (:class:`~qlat.theories.base.CompactLinkAction`)."""
        from qlat.theories.base import CompactLinkAction

        return isinstance(theory, CompactLinkAction)

    def __init__(self, *, thermalization: int = 0, every: int = 1) -> None:
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "thermalization": self.thermalization, "every": self.every}

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        _check_theory(theory, allow_phi4=False)
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=0.0)

    def sweep(
        self, theory: "Theory", fields: "torch.Tensor", generator: "torch.Generator", step_size: float
    ) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float]:
        """One heatbath sweep over all links; acceptance is 1 by construction."""
        import torch

        from qlat.theories.base import CompactLinkAction

        assert isinstance(theory, CompactLinkAction)  # checked by run/init_state
        lat = theory.lattice
        fields = fields.clone()
        for mu in range(lat.ndim):
            for parity in (0, 1):
                mask = lat.link_checkerboard(mu, parity)
                staple = theory.local_staples(fields, mu)[:, mask]
                kappa = theory.beta * staple.abs()
                phi = sample_von_mises(kappa, generator=generator)
                sub = fields[:, mu]
                sub[:, mask] = theory.canonicalize(phi - torch.angle(staple))  # elementwise wrap into (−π, π]
        chains = fields.shape[0]
        return fields, np.ones(chains), np.full(chains, np.nan), 1.0

    def run(
        self, theory: "Theory", n: int, *, state: ChainState, progress: bool = False
    ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations."""
        _check_theory(theory, allow_phi4=False)

        def step(fields, gen, eps):
            return self.sweep(theory, fields, gen, eps)

        return run_chain(
            step, theory, n, state,
            thermalization=self.thermalization, every=self.every,
            target_acceptance=None, accepted_dtype=np.float64,
            progress=progress, desc=self.name,
        )

    def __repr__(self) -> str:
        return f"U1Heatbath(thermalization={self.thermalization}, every={self.every})"


def _check_theory(theory: "Theory", *, allow_phi4: bool) -> None:
    from qlat.theories.base import CompactLinkAction, SiteLocalAction

    allowed = (CompactLinkAction, SiteLocalAction) if allow_phi4 else (CompactLinkAction,)
    what = ("a theory with compact U(1) links or a site-local scalar action" if allow_phi4
            else "a theory with compact U(1) links (Wilson action)")
    require(isinstance(theory, allowed), "theory", f"must be {what}", type(theory).__name__)
    require(theory.lattice.all_even, "shape",
            "local checkerboard updates need an even extent in every direction", theory.lattice.shape)
