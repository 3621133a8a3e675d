r"""Real scalar φ⁴ theory on a periodic hypercubic lattice.

Tutorial normalization (Albergo et al. arXiv:2101.08176, eq. (20); also arXiv:1904.12072):

.. math::
    S[φ] = \sum_x \Big[ \sum_{μ} φ_x (2φ_x − φ_{x+μ̂} − φ_{x−μ̂}) + m^2 φ_x^2 + λ φ_x^4 \Big]
         = \sum_x \Big[ (2d + m^2) φ_x^2 + λ φ_x^4 − 2 \sum_μ φ_x φ_{x+μ̂} \Big].

Note there is no factor ½ on the kinetic and mass terms: at λ = 0 the propagator is *half* of
the usual lattice propagator (see :mod:`qlat.exact.free_scalar`).  The force is

.. math:: ∂S/∂φ_x = 2(2d + m^2) φ_x − 2 \sum_μ (φ_{x+μ̂} + φ_{x−μ̂}) + 4λ φ_x^3.

Hopping-parameter form (Lüscher–Weisz; used in many φ⁴ papers):

.. math:: S[\tilde φ] = \sum_x \Big[ −2κ \sum_μ \tilde φ_x \tilde φ_{x+μ̂} + \tilde φ_x^2
          + \tilde λ (\tilde φ_x^2 − 1)^2 \Big].

With φ = √κ · φ̃ the two agree up to the constant V·λ̃ when

.. math:: m^2 = (1 − 2\tilde λ)/κ − 2d, \qquad λ = \tilde λ/κ^2,

and conversely κ is the positive root of 2λκ² + (2d + m²)κ − 1 = 0 and λ̃ = λκ²
(:func:`phi4_from_hopping`, :func:`hopping_from_phi4`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from qlat.core.errors import require
from qlat.core.lattice import Lattice
from qlat.core.options import Option
from qlat.core.registry import THEORIES
from qlat.theories.base import check_field_shape

if TYPE_CHECKING:
    import torch


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


@THEORIES.register("phi4")
class Phi4Theory:
    """φ⁴ action in the tutorial normalization (module docstring), parameters ``m2`` and ``lam``.

    Raises
    ------
    ParameterError
        naming ``lam`` if λ < 0, or ``m2`` if λ = 0 and m² <= 0 (the Gaussian is not normalizable).
    """

    name = "phi4"
    OPTIONS: tuple[Option, ...] = (
        Option("--m2", "m2", float, "bare mass squared m² (lattice units)", required=True),
        Option("--lam", "lam", float, "quartic coupling λ (>= 0)", required=True),
    )
    DEFAULT_OBSERVABLES: tuple[str, ...] = ("magnetization", "chi2")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "Phi4Theory":
        """Inverse of :meth:`params`."""
        require("m2" in params and "lam" in params, "params", "phi4 needs 'm2' and 'lam'", sorted(params))
        return cls(Lattice(tuple(params["shape"])), m2=float(params["m2"]), lam=float(params["lam"]))

    @classmethod
    def from_options(cls, *, L: int, ndim: int, m2: float, lam: float) -> "Phi4Theory":
        """The theory ``qlat sample phi4 --L L --ndim d --m2 m² --lam λ`` describes."""
        return cls(Lattice((L,) * ndim), m2=m2, lam=lam)

    def default_observables(self) -> list[str]:
        return list(self.DEFAULT_OBSERVABLES)

    @classmethod
    def example(cls) -> "Phi4Theory":
        """4×4 at m² = −1, λ = 1 (conformance suite, docs)."""
        return cls(Lattice((4, 4)), m2=-1.0, lam=1.0)

    def log_prob(self, fields: "torch.Tensor") -> "torch.Tensor":
        """−S, the unnormalized log density of the Boltzmann weight (flows train against it)."""
        return -self.action(fields)

    def __init__(self, lattice: Lattice, *, m2: float, lam: float) -> None:
        require(isinstance(lattice, Lattice), "lattice", "must be a qlat Lattice", type(lattice).__name__)
        require(_finite(m2), "m2", "must be a finite real number", m2)
        require(_finite(lam) and float(lam) >= 0, "lam", "must be a finite number >= 0", lam)
        require(float(lam) > 0 or float(m2) > 0, "m2", "must be > 0 when lam = 0 (free field)", m2)
        self.lattice = lattice
        self.m2 = float(m2)
        self.lam = float(lam)
        self.field_shape: tuple[int, ...] = lattice.shape

    # ------------------------------------------------------------------ action and force
    def _neighbour_sum(self, phi: "torch.Tensor", *, forward_only: bool) -> "torch.Tensor":
        """Σ_μ φ_{x+μ̂} (forward only) or Σ_μ (φ_{x+μ̂} + φ_{x−μ̂}), by slice arithmetic."""
        import torch

        out = torch.zeros_like(phi)
        idx = [slice(None)] * phi.dim()

        def at(axis: int, sl) -> tuple:
            j = list(idx)
            j[axis] = sl
            return tuple(j)

        for mu in range(self.lattice.ndim):
            a = 1 + mu
            # forward neighbour φ_{x+μ̂}
            out[at(a, slice(None, -1))] += phi[at(a, slice(1, None))]
            out[at(a, slice(-1, None))] += phi[at(a, slice(None, 1))]
            if not forward_only:  # backward neighbour φ_{x−μ̂}
                out[at(a, slice(1, None))] += phi[at(a, slice(None, -1))]
                out[at(a, slice(None, 1))] += phi[at(a, slice(-1, None))]
        return out

    def action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S per configuration, shape ``(batch,)``."""
        self._check(fields)
        d = self.lattice.ndim
        phi2 = fields * fields
        local = (2 * d + self.m2) * phi2 + self.lam * phi2 * phi2
        hop = fields * self._neighbour_sum(fields, forward_only=True)
        dens = local - 2.0 * hop
        return dens.reshape(fields.shape[0], -1).sum(1)

    def force(self, fields: "torch.Tensor") -> "torch.Tensor":
        """∂S/∂φ_x = 2(2d + m²)φ_x − 2Σ_μ(φ_{x+μ̂} + φ_{x−μ̂}) + 4λφ_x³."""
        self._check(fields)
        d = self.lattice.ndim
        out = self._neighbour_sum(fields, forward_only=False).mul_(-2.0)
        out.add_(fields, alpha=2.0 * (2 * d + self.m2))
        if self.lam != 0.0:
            out.add_(fields * fields * fields, alpha=4.0 * self.lam)
        return out

    def hmc_kernel(self) -> tuple[str, tuple[float, ...]] | None:
        """The compiled HMC trajectory kernel of this action (:mod:`qlat.samplers.hmc_kernels`), 2D only."""
        return ("phi4-2d", (self.m2, self.lam)) if self.lattice.ndim == 2 else None

    def local_action(self, value: "torch.Tensor", neighbour_sum: "torch.Tensor") -> "torch.Tensor":
        """The part of S that depends on one site x: (2d + m²)φ² + λφ⁴ − 2φ Σ_μ(φ_{x+μ̂} + φ_{x−μ̂})."""
        d = self.lattice.ndim
        v2 = value * value
        return (2 * d + self.m2) * v2 + self.lam * v2 * v2 - 2.0 * value * neighbour_sum

    def neighbour_sum(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Σ_μ (φ_{x+μ̂} + φ_{x−μ̂}) for every site."""
        return self._neighbour_sum(fields, forward_only=False)

    # ------------------------------------------------------------------ starts and parameters
    def cold_start(self, batch: int) -> "torch.Tensor":
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        return torch.zeros((batch, *self.field_shape), dtype=torch.float64)

    def hot_start(self, batch: int, *, generator: "torch.Generator") -> "torch.Tensor":
        """Independent Gaussian φ_x with standard deviation ½ (the scale of typical fields near the
        tutorial's parameter points; a unit width puts some sites so deep in the φ⁴ wall that HMC
        at the usual step sizes needs many trajectories to come down)."""
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        return 0.5 * torch.randn((batch, *self.field_shape), dtype=torch.float64, generator=generator)

    def canonicalize(self, fields: "torch.Tensor") -> "torch.Tensor":
        """φ⁴ fields have no redundancy: returned unchanged."""
        return fields

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.lattice.shape), "m2": self.m2, "lam": self.lam}

    def hopping_params(self) -> dict[str, float]:
        """The equivalent hopping-parameter couplings ``{"kappa": κ, "lam_hopping": λ̃}``."""
        kappa, lam_h = hopping_from_phi4(self.m2, self.lam, ndim=self.lattice.ndim)
        return {"kappa": kappa, "lam_hopping": lam_h}

    def _check(self, fields: "torch.Tensor") -> None:
        check_field_shape(fields, self.field_shape)

    def __repr__(self) -> str:
        return f"Phi4Theory(Lattice({self.lattice.shape}), m2={self.m2}, lam={self.lam})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phi4Theory) and other.params() == self.params()

    def __hash__(self) -> int:
        return hash((self.name, self.lattice.shape, self.m2, self.lam))


def phi4_from_hopping(kappa: float, lam_hopping: float, *, ndim: int) -> tuple[float, float]:
    """(m², λ) of the tutorial form from (κ, λ̃) of the hopping form: m² = (1−2λ̃)/κ − 2d, λ = λ̃/κ².

    The fields are related by φ = √κ φ̃ (:func:`field_from_hopping`).
    """
    require(_finite(kappa) and float(kappa) > 0, "kappa", "must be > 0", kappa)
    require(_finite(lam_hopping) and float(lam_hopping) >= 0, "lam_hopping", "must be >= 0", lam_hopping)
    require(isinstance(ndim, int) and 1 <= ndim <= 4, "ndim", "must be 1..4", ndim)
    kappa, lam_hopping = float(kappa), float(lam_hopping)
    return (1.0 - 2.0 * lam_hopping) / kappa - 2.0 * ndim, lam_hopping / kappa**2


def hopping_from_phi4(m2: float, lam: float, *, ndim: int) -> tuple[float, float]:
    """(κ, λ̃) from (m², λ): κ is the positive root of 2λκ² + (2d + m²)κ − 1 = 0, λ̃ = λκ².

    Raises ``ParameterError`` naming ``m2`` when no positive κ exists (λ = 0 and 2d + m² <= 0).
    """
    require(_finite(m2), "m2", "must be finite", m2)
    require(_finite(lam) and float(lam) >= 0, "lam", "must be >= 0", lam)
    require(isinstance(ndim, int) and 1 <= ndim <= 4, "ndim", "must be 1..4", ndim)
    b = 2.0 * ndim + float(m2)
    lam = float(lam)
    if lam == 0.0:
        require(b > 0, "m2", f"must be > -{2 * ndim} for lam = 0 in the hopping form", m2)
        kappa = 1.0 / b
    else:
        # positive root, written to avoid cancellation when b > 0
        disc = math.sqrt(b * b + 8.0 * lam)
        kappa = 2.0 / (b + disc) if b > 0 else (disc - b) / (4.0 * lam)
    return kappa, lam * kappa * kappa


def field_from_hopping(phi_hopping: "torch.Tensor", kappa: float) -> "torch.Tensor":
    """φ = √κ · φ̃."""
    return phi_hopping * math.sqrt(kappa)
