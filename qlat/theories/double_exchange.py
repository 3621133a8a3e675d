r"""The double exchange model: classical Heisenberg spins coupled to spinful fermions on a 2-D lattice.

.. math:: H = −t \sum_{⟨ij⟩,α} (c^†_{iα} c_{jα} + \text{h.c.}) + \frac{J}{2} \sum_i \mathbf S_i·(c^†_i \boldsymbol σ c_i),
          \qquad |\mathbf S_i| = 1,

grand canonical at chemical potential μ and temperature T = 1/β (Nagai & Tomiya arXiv:2306.11527;
Liu, Qi, Meng, Fu arXiv:1611.09364).  For fixed spins the fermions are free: with the eigenvalues
ε_n of the 2N×2N one-body matrix h[S] (site ⊗ spin, index ``2·i + α``) the fermion trace is

.. math:: W[S] = \prod_{n=1}^{2N} (1 + e^{−β(ε_n − μ)}),

and the spins are distributed as W[S] times the uniform measure on (S²)^N.  The *action* a sampler
sees is S[spins] = −log W = −Σ_n log(1 + e^{−β(ε_n−μ)}), evaluated with ``logaddexp`` (exact to
rounding for any β(ε−μ)); the eigenvalues come from batched ``torch.linalg.eigvalsh`` in
complex128.  ``free_energy = T·S`` (units of t) is what the self-learning effective models fit.

Layout: spins are stored as ``(batch, 3, Lx, Ly)`` float64 (the vector index before the lattice axes,
as the U(1) links store μ), site i = x·Ly + y.  Geometry: ``shape = (Lx, Ly)`` with every extent
>= 1 and at least 2 sites; ``boundary = "periodic"`` (torus; an extent of 2 has two bonds between the
same pair, as in k-space ε_k = −2t cos k) or ``"open"``.  ``--shape 2x1 --boundary open`` is the two-site
cluster solved by quadrature in :mod:`qlat.exact.double_exchange`.  ``lattice`` is the
:class:`~qlat.core.lattice.Lattice` of the extents >= 2 (a qlat Lattice has no extent 1); the full
geometry is ``shape``.

There is no ``force``: the spins live on spheres, so HMC (flat coordinates) does not apply.

Observables (per-configuration fermion expectations, whose ensemble mean is the full ⟨·⟩):
``energy`` ⟨H − μN⟩/N = (1/N) Σ_n (ε_n − μ) f(ε_n), f = 1/(1 + e^{β(ε−μ)}); ``fermion_density``
⟨N⟩/N = (1/N) Σ_n f(ε_n) ∈ [0, 2]; ``magnetization`` |m| with m = (1/N) Σ_i S_i;
``staggered_magnetization`` |(1/N) Σ_i (−1)^{x+y} S_i|; ``nn_correlation`` the mean S_i·S_j over
nearest-neighbour bonds; ``structure_factor`` S(q) = (1/N)|Σ_i S_i e^{iq·r_i}|² at q = 2π(m_x/Lx, m_y/Ly),
shape ``(batch, Lx, Ly)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qlat.core import observable_catalogue as obs
from qlat.core.errors import require
from qlat.core.lattice import Lattice
from qlat.core.observable_registry import OBSERVABLES, Observable, define
from qlat.core.options import Option
from qlat.core.registry import THEORIES
from qlat.theories.base import check_field_shape

if TYPE_CHECKING:
    import torch

BOUNDARIES = ("periodic", "open")
#: Spins whose length differs from 1 by more than this are refused (a corrupt or foreign file).
UNIT_TOLERANCE = 1e-8


def parse_shape(text: str) -> tuple[int, int]:
    """``"6x4"`` → (6, 4); ``"6"`` → (6, 6).  Raises ParameterError naming ``shape``."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    require(len(values) in (1, 2), "shape", "must be LxxLy (e.g. 6x6 or 2x1)", text)
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])  # type: ignore[return-value]


def _positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
        ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    except (TypeError, ValueError):
        ok, v = False, math.nan
    require(ok, name, f"must be a finite number {'>= 0' if allow_zero else '> 0'}", value)
    return v


def _finite(value: Any, name: str) -> float:
    try:
        v = float(value)
        ok = math.isfinite(v)
    except (TypeError, ValueError):
        ok, v = False, math.nan
    require(ok, name, "must be a finite number", value)
    return v


@THEORIES.register("double-exchange")
class DoubleExchangeTheory:
    """Classical spins with the exact fermion weight W[S] = Π_n(1 + e^{−β(ε_n−μ)}) (see the module doc).

    Parameters
    ----------
    shape: (Lx, Ly), extents >= 1, at least 2 sites.
    t: hopping (> 0, the unit of energy).
    J: spin–fermion coupling (>= 0).
    mu: chemical potential μ.
    T: temperature (> 0).
    boundary: ``"periodic"`` or ``"open"``.

    Raises
    ------
    ParameterError
        naming ``L``/``shape``, ``t``, ``J``, ``mu``, ``T`` or ``boundary``.
    """

    name = "double-exchange"
    OPTIONS: tuple[Option, ...] = (
        Option("--t", "t", float, "hopping t (> 0, the unit of energy)", default=1.0),
        Option("--J", "J", float, "spin-fermion coupling J (>= 0, units of t)", required=True),
        Option("--mu", "mu", float, "chemical potential μ (units of t)", default=0.0),
        Option("--T", "T", float, "temperature T (> 0, units of t)", required=True),
        Option("--shape", "shape", str, "lattice LxxLy (e.g. 6x6, 2x1); overrides --L"),
        Option("--boundary", "boundary", str, "fermion boundary conditions",
               default="periodic", choices=BOUNDARIES),
    )
    DEFAULT_OBSERVABLES: tuple[str, ...] = (
        "energy", "magnetization", "staggered_magnetization", "nn_correlation", "fermion_density",
    )

    def __init__(self, shape: tuple[int, int] | Any, *, t: float = 1.0, J: float, mu: float = 0.0, T: float,
                 boundary: str = "periodic") -> None:
        if isinstance(shape, Lattice):
            shape = shape.shape
        try:
            dims = tuple(int(s) for s in shape)
            ok = len(dims) == 2 and all(not isinstance(s, bool) and int(s) == s for s in shape)
        except (TypeError, ValueError):
            dims, ok = (), False
        require(ok, "shape", "must be two integer extents (Lx, Ly)", shape)
        require(all(s >= 1 for s in dims) and dims[0] * dims[1] >= 2, "L",
                "every extent must be >= 1 with at least 2 sites (shape)", dims)
        require(boundary in BOUNDARIES, "boundary", f"must be one of {', '.join(BOUNDARIES)}", boundary)
        self.shape: tuple[int, int] = (dims[0], dims[1])
        self.boundary = str(boundary)
        self.t = _positive(t, "t")
        self.J = _positive(J, "J", allow_zero=True)
        self.mu = _finite(mu, "mu")
        self.T = _positive(T, "T")
        self.beta = 1.0 / self.T
        self.n_sites = dims[0] * dims[1]
        self.field_shape: tuple[int, ...] = (3, *self.shape)
        nontrivial = tuple(s for s in self.shape if s >= 2)
        self.lattice = Lattice(nontrivial)
        self._hopping: torch.Tensor | None = None
        self._hopping_spinful: torch.Tensor | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DoubleExchangeTheory:
        """Inverse of :meth:`params`."""
        for key in ("J", "T"):
            require(key in params, key, "missing from double-exchange parameters")
        return cls(tuple(params["shape"]), t=params.get("t", 1.0), J=params["J"], mu=params.get("mu", 0.0),
                   T=params["T"], boundary=params.get("boundary", "periodic"))

    @classmethod
    def example(cls) -> DoubleExchangeTheory:
        """2×2 periodic, J = 1, T = 0.5 (conformance suite, docs)."""
        return cls((2, 2), J=1.0, T=0.5)

    @classmethod
    def from_options(cls, *, L: int, ndim: int = 2, J: float, T: float, t: float = 1.0, mu: float = 0.0,
                     shape: str | None = None, boundary: str = "periodic") -> DoubleExchangeTheory:
        """``qlat sample double-exchange --L L | --shape LxxLy --t --J --mu --T --boundary``."""
        if shape is None:
            require(isinstance(L, int) and L >= 2, "L", "must be an integer >= 2", L)
            require(ndim == 2, "ndim", "the double exchange model is two-dimensional (use --shape)", ndim)
            dims = (L, L)
        else:
            dims = parse_shape(shape)
        return cls(dims, t=t, J=J, mu=mu, T=T, boundary=boundary)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "boundary": self.boundary, "t": self.t,
                "J": self.J, "mu": self.mu, "T": self.T}

    def default_observables(self) -> list[str]:
        return list(self.DEFAULT_OBSERVABLES)

    # ------------------------------------------------------------------ geometry
    def site_index(self, x: int, y: int) -> int:
        return x * self.shape[1] + y

    def bonds(self) -> list[tuple[int, int]]:
        """Nearest-neighbour bonds (i, j) as hopped along: (x, y)→(x+1, y) and (x, y)→(x, y+1).

        Periodic: with wrap-around, except along an extent of 1; an extent of 2 gives two bonds
        between the same pair.  Open: only bonds inside the lattice.
        """
        lx, ly = self.shape
        out = []
        for x in range(lx):
            for y in range(ly):
                for dx, dy, extent, pos in ((1, 0, lx, x), (0, 1, ly, y)):
                    if extent == 1:
                        continue
                    if self.boundary == "open" and pos + 1 >= extent:
                        continue
                    out.append((self.site_index(x, y), self.site_index((x + dx) % lx, (y + dy) % ly)))
        return out

    def hopping_matrix(self) -> torch.Tensor:
        """The N×N real matrix −t Σ_bonds (|i⟩⟨j| + |j⟩⟨i|) (cached)."""
        import torch

        if self._hopping is None:
            h = torch.zeros((self.n_sites, self.n_sites), dtype=torch.float64)
            for i, j in self.bonds():
                h[i, j] -= self.t
                h[j, i] -= self.t
            self._hopping = h
        return self._hopping

    def parity_signs(self) -> torch.Tensor:
        """(−1)^{x+y} on the lattice, shape ``shape``."""
        import torch

        x = torch.arange(self.shape[0]).reshape(-1, 1)
        y = torch.arange(self.shape[1]).reshape(1, -1)
        return (1 - 2 * ((x + y) % 2)).to(torch.float64)

    # ------------------------------------------------------------------ one-body problem and weight
    def check_spins(self, fields: torch.Tensor) -> None:
        """Shape ``(batch, 3, Lx, Ly)`` and |S_i| = 1 (within 1e-8), else ParameterError naming ``fields``."""
        check_field_shape(fields, self.field_shape)
        norm = fields.square().sum(1).sqrt()
        dev = float((norm - 1.0).abs().max()) if norm.numel() else 0.0
        require(dev <= UNIT_TOLERANCE, "fields", "spins must have unit length |S_i| = 1",
                f"max ||S|-1| = {dev:.3g}")

    def one_body_matrix(self, fields: torch.Tensor) -> torch.Tensor:
        r"""h[S] = h_hop ⊗ 1₂ + (J/2) ⊕_i S_i·σ, complex128 of shape ``(batch, 2N, 2N)`` (index 2i + α)."""
        import torch

        self.check_spins(fields)
        b, n = fields.shape[0], self.n_sites
        if self._hopping_spinful is None:
            self._hopping_spinful = torch.kron(self.hopping_matrix(), torch.eye(2, dtype=torch.float64)).to(
                torch.complex128)
        h = self._hopping_spinful.expand(b, 2 * n, 2 * n).clone()
        s = fields.reshape(b, 3, n) * (0.5 * self.J)
        sx, sy, sz = s[:, 0], s[:, 1], s[:, 2]
        # (J/2) S·σ = (J/2)[[Sz, Sx − iSy], [Sx + iSy, −Sz]] on the 2×2 diagonal block of every site
        blocks = h.view(b, n, 2, n, 2).diagonal(dim1=1, dim2=3)  # (b, 2, 2, n), a view into h
        blocks[:, 0, 0] += sz
        blocks[:, 1, 1] -= sz
        blocks[:, 0, 1] += torch.complex(sx, -sy)
        blocks[:, 1, 0] += torch.complex(sx, sy)
        return h

    def eigenvalues(self, fields: torch.Tensor) -> torch.Tensor:
        """Ascending one-body energies ε_n, float64 ``(batch, 2N)`` (batched ``eigvalsh``)."""
        import torch

        return torch.linalg.eigvalsh(self.one_body_matrix(fields))

    def action_from_eigenvalues(self, eps: torch.Tensor) -> torch.Tensor:
        """S = −Σ_n log(1 + e^{−β(ε_n−μ)}) with ``logaddexp(0, ·)`` (no overflow, no cut-off)."""
        import torch

        x = -self.beta * (eps - self.mu)
        return -torch.logaddexp(torch.zeros_like(x), x).sum(-1)

    def action(self, fields: torch.Tensor) -> torch.Tensor:
        """S[S] = −log W[S] per configuration, shape ``(batch,)``."""
        return self.action_from_eigenvalues(self.eigenvalues(fields))

    def free_energy(self, fields: torch.Tensor) -> torch.Tensor:
        """E[S] = T·S[S] = −T log W[S] (units of t): the spin 'energy' the effective models fit."""
        return self.action(fields) * self.T

    def log_prob(self, fields: torch.Tensor) -> torch.Tensor:
        """−S = log W (unnormalized, with respect to the uniform measure on the spheres)."""
        return -self.action(fields)

    def occupations(self, eps: torch.Tensor) -> torch.Tensor:
        """Fermi function f(ε) = 1/(1 + e^{β(ε−μ)}), stable for any argument."""
        import torch

        return torch.sigmoid(-self.beta * (eps - self.mu))

    # ------------------------------------------------------------------ observables
    def energy_density(self, fields: torch.Tensor) -> torch.Tensor:
        """⟨H − μN⟩_S / N = (1/N) Σ_n (ε_n − μ) f(ε_n) per configuration (units of t)."""
        eps = self.eigenvalues(fields)
        return ((eps - self.mu) * self.occupations(eps)).sum(-1) / self.n_sites

    def fermion_density(self, fields: torch.Tensor) -> torch.Tensor:
        """⟨N⟩_S / N = (1/N) Σ_n f(ε_n) per configuration (0 … 2)."""
        return self.occupations(self.eigenvalues(fields)).sum(-1) / self.n_sites

    def magnetization(self, fields: torch.Tensor) -> torch.Tensor:
        """|m|, m = (1/N) Σ_i S_i, per configuration."""
        self.check_spins(fields)
        return fields.mean(dim=(2, 3)).square().sum(1).sqrt()

    def staggered_magnetization(self, fields: torch.Tensor) -> torch.Tensor:
        """|(1/N) Σ_i (−1)^{x+y} S_i| per configuration."""
        self.check_spins(fields)
        return (fields * self.parity_signs()).mean(dim=(2, 3)).square().sum(1).sqrt()

    def nn_correlation(self, fields: torch.Tensor) -> torch.Tensor:
        """(1/N_b) Σ_{⟨ij⟩} S_i·S_j over the nearest-neighbour bonds of :meth:`bonds`."""
        import torch

        self.check_spins(fields)
        bonds = self.bonds()
        require(len(bonds) > 0, "shape", "has no nearest-neighbour bonds", self.shape)
        i = torch.tensor([b[0] for b in bonds])
        j = torch.tensor([b[1] for b in bonds])
        s = fields.reshape(fields.shape[0], 3, -1)
        return (s[:, :, i] * s[:, :, j]).sum(1).mean(1)

    def structure_factor(self, fields: torch.Tensor) -> torch.Tensor:
        """S(q) = (1/N) |Σ_i S_i e^{−iq·r_i}|² at q = 2π(m_x/Lx, m_y/Ly), shape ``(batch, Lx, Ly)``."""
        import torch

        self.check_spins(fields)
        f = torch.fft.fftn(fields, dim=(2, 3))
        return f.abs().square().sum(1) / self.n_sites

    # ------------------------------------------------------------------ starts
    def cold_start(self, batch: int) -> torch.Tensor:
        """All spins along +z (the uniform ferromagnet)."""
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        out = torch.zeros((batch, *self.field_shape), dtype=torch.float64)
        out[:, 2] = 1.0
        return out

    def hot_start(self, batch: int, *, generator: torch.Generator) -> torch.Tensor:
        """Independent spins uniform on the sphere (normalized Gaussians)."""
        import torch

        require(isinstance(batch, int) and batch >= 1, "batch", "must be an integer >= 1", batch)
        g = torch.randn((batch, *self.field_shape), dtype=torch.float64, generator=generator)
        return g / g.square().sum(1, keepdim=True).sqrt()

    def canonicalize(self, fields: torch.Tensor) -> torch.Tensor:
        """Spins rescaled to unit length (removes rounding drift of repeated rotations)."""
        return fields / fields.square().sum(1, keepdim=True).sqrt()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "name")
        return f"DoubleExchangeTheory({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DoubleExchangeTheory) and other.params() == self.params()

    def __hash__(self) -> int:
        return hash((self.name, self.shape, self.boundary, self.t, self.J, self.mu, self.T))


# ---------------------------------------------------------------------------------- observables
def _observable(name: str, *, unit: str, description: str) -> Observable:
    """The registered observable ``name``, defined here if no other module has defined it."""
    return OBSERVABLES.get(name) if name in OBSERVABLES else define(name, unit=unit, description=description)


STAGGERED_MAGNETIZATION = _observable(
    "staggered_magnetization", unit="1",
    description="|m_s| with m_s = (1/N) Σ_i (−1)^{x+y} S_i (classical spins).")
NN_CORRELATION = _observable(
    "nn_correlation", unit="1",
    description="Nearest-neighbour spin correlation (1/N_bonds) Σ_⟨ij⟩ S_i·S_j.")
STRUCTURE_FACTOR = _observable(
    "structure_factor", unit="1",
    description="Spin structure factor S(q) = (1/N)|Σ_i S_i e^{−iq·r_i}|², q = 2π(m_x/Lx, m_y/Ly), "
    "component [m_x,m_y].")
FERMION_DENSITY = _observable(
    "fermion_density", unit="1",
    description="Fermions per site ⟨N⟩/N (grand canonical, 0 … 2 for spin-1/2 fermions).")


def _method(name: str) -> Callable[[DoubleExchangeTheory], Callable[[torch.Tensor], torch.Tensor]]:
    return lambda theory: getattr(theory, name)


# ``energy`` is the common energy observable; on this theory it is ⟨H − μN⟩ per site in units of t.
obs.ENERGY.register(DoubleExchangeTheory, _method("energy_density"), unit="t")
obs.MAGNETIZATION.register(DoubleExchangeTheory, _method("magnetization"), unit="1")
STAGGERED_MAGNETIZATION.register(DoubleExchangeTheory, _method("staggered_magnetization"), unit="1")
NN_CORRELATION.register(DoubleExchangeTheory, _method("nn_correlation"), unit="1")
STRUCTURE_FACTOR.register(DoubleExchangeTheory, _method("structure_factor"), unit="1")
FERMION_DENSITY.register(DoubleExchangeTheory, _method("fermion_density"), unit="1")
