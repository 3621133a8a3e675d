r"""Single-spin proposals on the unit sphere and the protocol of a unit-spin theory.

A proposal replaces one spin S_i by S'_i drawn uniformly from the spherical cap of half-angle δ
around S_i (cos θ uniform in [cos δ, 1], azimuth uniform); δ >= π is the uniform distribution on
the sphere.  The density depends only on the angle between S_i and S'_i, so the proposal is
symmetric, q(S → S') = q(S' → S), and the Metropolis test needs only the weight ratio.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch


@runtime_checkable
class UnitSpinAction(Protocol):
    """A theory of unit 3-vectors on a 2-D lattice, fields ``(batch, 3, Lx, Ly)``, with action S[spins].

    ``beta`` converts an effective energy (units of the theory's energy scale) into an action;
    ``shape``/``boundary`` are the geometry an effective model must be built for.
    """

    name: str
    shape: tuple[int, int]
    boundary: str
    beta: float
    n_sites: int
    field_shape: tuple[int, ...]
    DEFAULT_OBSERVABLES: ClassVar[tuple[str, ...]]

    def action(self, fields: torch.Tensor) -> torch.Tensor: ...

    def params(self) -> dict[str, Any]: ...

    def canonicalize(self, fields: torch.Tensor) -> torch.Tensor: ...


def propose_spins(old: torch.Tensor, step: float, *, generator: torch.Generator) -> torch.Tensor:
    """New unit spins, shape ``(batch, 3)``, uniform in the cap of half-angle ``step`` around ``old``."""
    import torch

    b = old.shape[0]
    u = torch.rand((b, 2), dtype=torch.float64, generator=generator)
    delta = min(float(step), math.pi)
    cos_t = 1.0 - u[:, 0] * (1.0 - math.cos(delta))
    sin_t = (1.0 - cos_t * cos_t).clamp_min(0.0).sqrt()
    phi = 2.0 * math.pi * u[:, 1]
    # orthonormal frame (e1, e2) perpendicular to the old spin
    helper = torch.zeros_like(old)
    use_x = old[:, 0].abs() < 0.9
    helper[use_x, 0] = 1.0
    helper[~use_x, 1] = 1.0
    e1 = helper - (helper * old).sum(1, keepdim=True) * old
    e1 = e1 / e1.norm(dim=1, keepdim=True)
    e2 = torch.linalg.cross(old, e1, dim=1)
    new = cos_t[:, None] * old + sin_t[:, None] * (torch.cos(phi)[:, None] * e1 + torch.sin(phi)[:, None] * e2)
    return new / new.norm(dim=1, keepdim=True)


def with_spin(fields: torch.Tensor, x: torch.Tensor, y: torch.Tensor, spins: torch.Tensor) -> torch.Tensor:
    """A copy of ``fields`` with the spin of chain c at (x[c], y[c]) replaced by ``spins[c]``."""
    import torch

    out = fields.clone()
    out[torch.arange(fields.shape[0]), :, x, y] = spins
    return out


def spin_at(fields: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The spins at (x[c], y[c]) of every chain c, shape ``(batch, 3)``."""
    import torch

    return fields[torch.arange(fields.shape[0]), :, x, y]


def check_step(value: Any, name: str) -> float:
    """A cap half-angle in (0, π] (larger values mean the whole sphere)."""
    from qlat.core.errors import require

    try:
        v = float(value)
        ok = math.isfinite(v) and v > 0
    except (TypeError, ValueError):
        ok, v = False, math.nan
    require(ok, name, "must be a finite angle > 0 (radians; >= π means uniform on the sphere)", value)
    return min(v, math.pi)
