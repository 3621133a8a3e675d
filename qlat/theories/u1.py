r"""Compact U(1) lattice gauge theory with the Wilson plaquette action.

Fields are link angles θ_μ(x) ∈ ℝ (periodic in 2π), shape ``(batch, d, *lattice.shape)``.
With the plaquette angle θ_{μν}(x) = θ_μ(x) + θ_ν(x+μ̂) − θ_μ(x+ν̂) − θ_ν(x)
(Kanwar et al. arXiv:2003.06413; tutorial arXiv:2101.08176):

.. math:: S[θ] = −β \sum_x \sum_{μ<ν} \cos θ_{μν}(x),

.. math:: ∂S/∂θ_μ(x) = β \sum_{ν≠μ} \big[\sin θ_{μν}(x) − \sin θ_{μν}(x − ν̂)\big].

In two dimensions the geometric topological charge is

.. math:: Q = \frac{1}{2π} \sum_x \arg e^{iθ_{01}(x)}, \qquad \arg ∈ (−π, π],

an integer on every configuration of the torus.
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

TWO_PI = 2.0 * math.pi


def wrap_angle(angle: "torch.Tensor") -> "torch.Tensor":
    """arg e^{iα} in (−π, π]: α − 2π·ceil((α − π)/2π)."""
    import torch

    return angle - TWO_PI * torch.ceil((angle - math.pi) / TWO_PI)


@THEORIES.register("u1")
class U1Theory:
    """Wilson U(1) gauge action −β Σ_P cos θ_P on a d-dimensional torus (d >= 2).

    Raises
    ------
    ParameterError
        naming ``beta`` unless β > 0 and finite, or ``shape`` for a one-dimensional lattice.
    """

    name = "u1"
    OPTIONS: tuple[Option, ...] = (
        Option("--beta", "beta", float, "gauge coupling β = 1/(g²a²) (> 0)", required=True),
    )
    #: ``qlat sample u1`` reports these in two dimensions (only the plaquette in d > 2, where Q is undefined).
    DEFAULT_OBSERVABLES: tuple[str, ...] = ("plaquette", "topological_charge", "q2", "chi_t")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "U1Theory":
        """Inverse of :meth:`params`."""
        require("beta" in params, "beta", "missing from u1 parameters")
        return cls(Lattice(tuple(params["shape"])), beta=float(params["beta"]))

    @classmethod
    def from_options(cls, *, L: int, ndim: int, beta: float) -> "U1Theory":
        """The theory ``qlat sample u1 --L L --ndim d --beta β`` describes."""
        return cls(Lattice((L,) * ndim), beta=beta)

    def default_observables(self) -> list[str]:
        return list(self.DEFAULT_OBSERVABLES) if self.lattice.ndim == 2 else ["plaquette"]

    @classmethod
    def example(cls) -> "U1Theory":
        """4×4 at β = 1 (conformance suite, docs)."""
        return cls(Lattice((4, 4)), beta=1.0)

    def log_prob(self, fields: "torch.Tensor") -> "torch.Tensor":
        """−S, the unnormalized log density of the Boltzmann weight (flows train against it)."""
        return -self.action(fields)

    def __init__(self, lattice: Lattice, *, beta: float) -> None:
        require(isinstance(lattice, Lattice), "lattice", "must be a qlat Lattice", type(lattice).__name__)
        require(lattice.ndim >= 2, "shape", "a gauge theory needs at least 2 dimensions", lattice.shape)
        try:
            ok = math.isfinite(float(beta)) and float(beta) > 0
        except (TypeError, ValueError):
            ok = False
        require(ok, "beta", "must be a finite number > 0", beta)
        self.lattice = lattice
        self.beta = float(beta)
        self.field_shape: tuple[int, ...] = (lattice.ndim, *lattice.shape)

    # ------------------------------------------------------------------ plaquettes, action, force
    def plaquettes(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Plaquette angles θ_{μν}(x), shape ``(batch, n_planes, *shape)`` (planes μ < ν in order)."""
        self._check(fields)
        return self.lattice.plaquette_angles(fields)

    def action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S = −β Σ_P cos θ_P per configuration, shape ``(batch,)``."""
        if self.lattice.ndim == 2:
            self._check(fields)
            theta = self._plaquette_2d(fields)
        else:
            theta = self.plaquettes(fields)
        return theta.cos_().reshape(fields.shape[0], -1).sum(1).mul_(-self.beta)

    def force(self, fields: "torch.Tensor") -> "torch.Tensor":
        """∂S/∂θ_μ(x) = β Σ_{ν≠μ} [sin θ_{μν}(x) − sin θ_{μν}(x − ν̂)]."""
        import torch

        self._check(fields)
        lat = self.lattice
        if lat.ndim == 2:  # fast path: one plane, shifts by slicing (no temporaries from roll)
            s = self._plaquette_2d(fields).sin_().mul_(self.beta)
            out = torch.empty_like(fields)
            f0 = out[:, 0]
            f1 = out[:, 1]
            # μ = 0, ν = 1: F_0(x) = β[sin θ01(x) − sin θ01(x − 1̂)]
            f0.copy_(s)
            f0[:, :, 1:] -= s[:, :, :-1]
            f0[:, :, 0] -= s[:, :, -1]
            # μ = 1, ν = 0: θ10 = −θ01 → F_1(x) = β[sin θ01(x − 0̂) − sin θ01(x)]
            f1[:, 1:] = s[:, :-1]
            f1[:, 0] = s[:, -1]
            f1 -= s
            return out
        out = torch.zeros_like(fields)
        for mu, nu in lat.planes:
            s = lat.plaquette_angle(fields, mu, nu).sin_()
            out[:, mu] += s - lat.shift(s, nu, -1)
            out[:, nu] -= s - lat.shift(s, mu, -1)
        return out.mul_(self.beta)

    def hmc_kernel(self) -> tuple[str, tuple[float, ...]] | None:
        """The compiled HMC trajectory kernel of this action (:mod:`qlat.samplers.hmc_kernels`), 2D only."""
        return ("u1-wilson-2d", (self.beta,)) if self.lattice.ndim == 2 else None

    def _plaquette_2d(self, fields: "torch.Tensor") -> "torch.Tensor":
        """θ01(x) = θ0(x) + θ1(x+0̂) − θ0(x+1̂) − θ1(x), built with slice arithmetic (a new tensor)."""
        import torch

        t0 = fields[:, 0]
        t1 = fields[:, 1]
        out = torch.empty_like(t0)
        out[:, :-1] = t1[:, 1:]
        out[:, -1] = t1[:, 0]
        out += t0
        out[:, :, :-1] -= t0[:, :, 1:]
        out[:, :, -1] -= t0[:, :, 0]
        out -= t1
        return out

    def local_staples(self, fields: "torch.Tensor", mu: int) -> "torch.Tensor":
        r"""Complex staple sum A_μ(x) with S = −β Re[e^{iθ_μ(x)} A_μ(x)] + (terms without θ_μ(x)).

        .. math:: A_μ(x) = \sum_{ν≠μ} \big[e^{i(θ_ν(x+μ̂) − θ_μ(x+ν̂) − θ_ν(x))}
                  + e^{−i(θ_μ(x−ν̂) + θ_ν(x−ν̂+μ̂) − θ_ν(x−ν̂))}\big]
        """
        import torch

        lat = self.lattice
        t_mu = fields[:, mu]
        re = torch.zeros_like(t_mu)
        im = torch.zeros_like(t_mu)
        for nu in range(lat.ndim):
            if nu == mu:
                continue
            t_nu = fields[:, nu]
            up = lat.shift(t_nu, mu) - lat.shift(t_mu, nu) - t_nu
            # lower plaquette P_μν(x − ν̂) without θ_μ(x): θ_μ(x−ν̂) + θ_ν(x−ν̂+μ̂) − θ_ν(x−ν̂)
            down_base = t_mu + lat.shift(t_nu, mu) - t_nu  # at x, then shifted by −ν̂
            down = lat.shift(down_base, nu, -1)
            re += up.cos() + down.cos()
            im += up.sin() - down.sin()
        return torch.complex(re, im)

    # ------------------------------------------------------------------ observables
    def mean_plaquette(self, fields: "torch.Tensor") -> "torch.Tensor":
        """(1/(V·n_planes)) Σ_P cos θ_P per configuration."""
        theta = self.plaquettes(fields)
        return theta.cos().reshape(fields.shape[0], -1).mean(1)

    def topological_charge(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Q = (1/2π) Σ_x arg e^{iθ_{01}(x)} per configuration (2D only), as float64.

        The sum is an integer on the torus (the unwrapped plaquette angles sum to zero), so the
        result is rounded to remove the 1e-16 roundoff of the division by 2π.
        """
        import torch

        require(self.lattice.ndim == 2, "shape", "the geometric topological charge is defined in 2D", self.lattice.shape)
        self._check(fields)
        q = wrap_angle(self._plaquette_2d(fields))
        return torch.round(q.reshape(fields.shape[0], -1).sum(1) / TWO_PI)

    def wilson_loops(self, fields: "torch.Tensor", *, max_r: int | None = None, max_t: int | None = None) -> "torch.Tensor":
        r"""Re W(R, T) averaged over positions and planes, shape ``(batch, max_r, max_t)``.

        Entry ``[:, R−1, T−1]`` is the R×T rectangle with R links along μ and T links along ν,
        averaged over all sites and planes μ < ν; W(1, 1) is the mean plaquette.  Defaults:
        ``max_r = max_t = min(L)//2``.
        """
        import torch

        self._check(fields)
        lat = self.lattice
        half = min(lat.shape) // 2
        max_r = half if max_r is None else max_r
        max_t = half if max_t is None else max_t
        require(isinstance(max_r, int) and 1 <= max_r <= min(lat.shape), "max_r", f"must be in 1..{min(lat.shape)}", max_r)
        require(isinstance(max_t, int) and 1 <= max_t <= min(lat.shape), "max_t", f"must be in 1..{min(lat.shape)}", max_t)
        out = torch.zeros((fields.shape[0], max_r, max_t), dtype=fields.dtype)
        for mu, nu in lat.planes:
            # lines[k] = Σ_{j<k+1} θ_μ(x + j μ̂): straight Wilson lines of length k+1
            lines_mu = [fields[:, mu]]
            for _ in range(max_r - 1):
                lines_mu.append(lines_mu[-1] + lat.shift(fields[:, mu], mu, len(lines_mu)))
            lines_nu = [fields[:, nu]]
            for _ in range(max_t - 1):
                lines_nu.append(lines_nu[-1] + lat.shift(fields[:, nu], nu, len(lines_nu)))
            for r in range(1, max_r + 1):
                for t in range(1, max_t + 1):
                    loop = (
                        lines_mu[r - 1]
                        + lat.shift(lines_nu[t - 1], mu, r)
                        - lat.shift(lines_mu[r - 1], nu, t)
                        - lines_nu[t - 1]
                    )
                    out[:, r - 1, t - 1] += loop.cos().reshape(fields.shape[0], -1).mean(1)
        return out / len(lat.planes)

    # ------------------------------------------------------------------ starts and parameters
    def cold_start(self, batch: int) -> "torch.Tensor":
        """All links θ = 0 (unit links)."""
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        return torch.zeros((batch, *self.field_shape), dtype=torch.float64)

    def hot_start(self, batch: int, *, generator: "torch.Generator") -> "torch.Tensor":
        """Links uniform in [−π, π) (Haar measure)."""
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        u = torch.rand((batch, *self.field_shape), dtype=torch.float64, generator=generator)
        return u.mul_(TWO_PI).sub_(math.pi)

    def canonicalize(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Link angles mapped into (−π, π] (the action and every observable are 2π-periodic)."""
        return wrap_angle(fields)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.lattice.shape), "beta": self.beta}

    def _check(self, fields: "torch.Tensor") -> None:
        check_field_shape(fields, self.field_shape)

    def __repr__(self) -> str:
        return f"U1Theory(Lattice({self.lattice.shape}), beta={self.beta})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, U1Theory) and other.params() == self.params()

    def __hash__(self) -> int:
        return hash((self.name, self.lattice.shape, self.beta))
