r"""Hypercubic lattice geometry on a periodic torus, for batched torch fields.

A :class:`Lattice` is the shape ``(L_0, ..., L_{d-1})`` of a d-dimensional torus (d = 2 is
first-class, d = 3 and 4 work).  Fields are torch tensors with one or more leading batch axes
followed by the lattice axes; the default dtype of everything built here is float64.

Conventions
-----------
- ``shift(field, mu, steps)`` returns ``out[x] = field[x + steps·μ̂]`` (so ``steps=+1`` gives the
  forward neighbour φ_{x+μ̂}).  With ``antiperiodic=True`` the values that wrap around the
  boundary in direction μ change sign (fermion boundary conditions).
- A U(1) gauge field is stored as link angles θ_μ(x) with shape ``(batch, d, *shape)``; the
  plaquette angle in the (μ, ν) plane is

  .. math:: θ_{μν}(x) = θ_μ(x) + θ_ν(x+μ̂) − θ_μ(x+ν̂) − θ_ν(x).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qlat.core.errors import require

if TYPE_CHECKING:  # torch is imported lazily: qlat.core must stay light
    import torch


@dataclass(frozen=True)
class Lattice:
    """A periodic hypercubic lattice of the given ``shape`` (every extent ``L >= 2``).

    Raises
    ------
    ParameterError
        naming ``shape`` if it is empty, has more than 4 dimensions, or an extent below 2.
    """

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        raw = (self.shape,) if isinstance(self.shape, int) else self.shape
        try:
            items = list(raw)
        except TypeError:
            items = None
        ok = items is not None and all(
            not isinstance(s, bool) and hasattr(s, "__index__") for s in items
        )
        require(ok, "shape", "must be a tuple of integers", self.shape)
        assert items is not None
        shape = tuple(int(s) for s in items)
        require(1 <= len(shape) <= 4, "shape", "must have 1 to 4 dimensions", self.shape)
        require(all(s >= 2 for s in shape), "L", "every lattice extent L must be >= 2 (shape)", self.shape)
        object.__setattr__(self, "shape", shape)

    @classmethod
    def square(cls, L: int, *, ndim: int = 2) -> "Lattice":
        """An ``L^ndim`` lattice."""
        require(isinstance(L, int) and L >= 2, "L", "must be an integer >= 2", L)
        require(isinstance(ndim, int) and 1 <= ndim <= 4, "ndim", "must be 1, 2, 3 or 4", ndim)
        return cls((L,) * ndim)

    # ------------------------------------------------------------------ sizes
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def volume(self) -> int:
        v = 1
        for s in self.shape:
            v *= s
        return v

    @property
    def all_even(self) -> bool:
        """Whether every extent is even (needed for a consistent checkerboard)."""
        return all(s % 2 == 0 for s in self.shape)

    @property
    def planes(self) -> tuple[tuple[int, int], ...]:
        """The ordered planes (μ, ν) with μ < ν."""
        d = self.ndim
        return tuple((mu, nu) for mu in range(d) for nu in range(mu + 1, d))

    # ------------------------------------------------------------------ shifts
    def shift(
        self,
        field: "torch.Tensor",
        mu: int,
        steps: int = 1,
        *,
        batch_dims: int = 1,
        antiperiodic: bool = False,
    ) -> "torch.Tensor":
        """``out[x] = field[x + steps·μ̂]`` on the torus (a new tensor).

        ``batch_dims`` leading axes are not lattice axes.  With ``antiperiodic`` the entries that
        crossed the boundary in direction μ are multiplied by −1 (once per crossing).
        """
        import torch

        require(0 <= mu < self.ndim, "mu", f"must be in 0..{self.ndim - 1}", mu)
        axis = batch_dims + mu
        require(field.dim() == batch_dims + self.ndim and tuple(field.shape[batch_dims:]) == self.shape,
                "field", f"must have shape (*batch[{batch_dims}], {self.shape})", tuple(field.shape))
        out = torch.roll(field, shifts=-steps, dims=axis)
        if antiperiodic and steps % (2 * self.shape[mu]) != 0:
            L = self.shape[mu]
            x = torch.arange(L)
            target = x + steps  # site x reads from x + steps; count boundary crossings
            crossings = torch.div(target, L, rounding_mode="floor")
            sign = (1 - 2 * (crossings % 2)).to(field.dtype)
            view = [1] * field.dim()
            view[axis] = L
            out = out * sign.view(view)
        return out

    # ------------------------------------------------------------------ coordinates and masks
    def coordinates(self) -> "torch.Tensor":
        """Integer coordinates, shape ``(ndim, *shape)``."""
        import torch

        grids = torch.meshgrid(*[torch.arange(s) for s in self.shape], indexing="ij")
        return torch.stack(grids)

    def parity(self) -> "torch.Tensor":
        """``(Σ_μ x_μ) mod 2`` as an int64 tensor of the lattice shape."""
        return self.coordinates().sum(0) % 2

    def checkerboard(self, parity: int = 0) -> "torch.Tensor":
        """Boolean mask of the sites with ``(Σ_μ x_μ) mod 2 == parity``.

        Nearest neighbours of an even site are odd only when every extent is even; samplers that
        rely on that check :attr:`all_even`.
        """
        require(parity in (0, 1), "parity", "must be 0 or 1", parity)
        return self.parity() == parity

    def checkerboard_masks(self) -> tuple["torch.Tensor", "torch.Tensor"]:
        """``(even, odd)`` boolean site masks."""
        return self.checkerboard(0), self.checkerboard(1)

    def link_checkerboard(self, mu: int, parity: int) -> "torch.Tensor":
        """Mask of the μ-links with ``(Σ_{ν≠μ} x_ν) mod 2 == parity``.

        Two μ-links with the same such parity never belong to the same plaquette (for even
        extents), so they can be updated simultaneously by a local algorithm.
        """
        require(0 <= mu < self.ndim, "mu", f"must be in 0..{self.ndim - 1}", mu)
        require(parity in (0, 1), "parity", "must be 0 or 1", parity)
        c = self.coordinates()
        s = c.sum(0) - c[mu]
        return (s % 2) == parity

    # ------------------------------------------------------------------ U(1) plaquettes
    def plaquette_angle(self, links: "torch.Tensor", mu: int, nu: int, *, batch_dims: int = 1) -> "torch.Tensor":
        """θ_{μν}(x) = θ_μ(x) + θ_ν(x+μ̂) − θ_μ(x+ν̂) − θ_ν(x) for link angles ``(*batch, d, *shape)``."""
        require(mu != nu, "nu", "must differ from mu", nu)
        idx = (slice(None),) * batch_dims
        t_mu = links[idx + (mu,)]
        t_nu = links[idx + (nu,)]
        return (
            t_mu
            + self.shift(t_nu, mu, batch_dims=batch_dims)
            - self.shift(t_mu, nu, batch_dims=batch_dims)
            - t_nu
        )

    def plaquette_angles(self, links: "torch.Tensor", *, batch_dims: int = 1) -> "torch.Tensor":
        """All plaquette angles, shape ``(*batch, n_planes, *shape)`` in the order of :attr:`planes`."""
        import torch

        return torch.stack(
            [self.plaquette_angle(links, mu, nu, batch_dims=batch_dims) for mu, nu in self.planes],
            dim=batch_dims,
        )

    def __str__(self) -> str:
        return "x".join(str(s) for s in self.shape)
