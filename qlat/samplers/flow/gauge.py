r"""Gauge-equivariant coupling layers for 2D U(1) link angles (Kanwar et al. arXiv:2003.06413).

Links θ_μ(x), shape ``(batch, 2, L0, L1)``, plaquettes P(x) = θ_0(x) + θ_1(x+0̂) − θ_0(x+1̂) − θ_1(x).
One layer updates the μ-links on one stripe x_ν ≡ o (mod 4), ν = 1 − μ ("active" links).  An
active link θ_μ(x) enters exactly two plaquettes: P(x) ("active", x_ν ≡ o) with sign σ_μ
(σ_0 = +1, σ_1 = −1) and P(x − ν̂) ("passive", x_ν ≡ o + 3).  The plaquettes on x_ν ≡ o+1, o+2
contain no active link ("frozen"); they are gauge invariant and condition the update.  Each
active plaquette is mapped by a circle diffeomorphism h (parameters from the frozen plaquettes)

.. math:: P' = h(P; \text{frozen}), \qquad θ'_μ(x) = θ_μ(x) + σ_μ\,(P'(x) − P(x)),

so the new plaquette is P', and the layer is *exactly* gauge equivariant: a gauge transformation
θ_μ(x) → θ_μ(x) + α(x) − α(x+μ̂) leaves every plaquette, hence every P' − P, unchanged.  The
Jacobian is triangular with diagonal ∂θ'_μ(x)/∂θ_μ(x) = h'(P(x)), so
log|det J| = Σ_{active x} log h'(P(x)).

Context of the conditioner (``context``):

- ``"plaquettes"`` (arXiv:2003.06413, tutorial): cos P, sin P of the frozen plaquettes.
- ``"loops"``: in addition cos R, sin R of the 1×2 loops R(x) = P(x) + P(x − ν̂) at the active
  sites, the loop around an active plaquette and its passive neighbour.  The active link cancels
  in R (σ_μ in P(x), −σ_μ in P(x − ν̂)) and R holds no other active link, so R is gauge invariant
  and unchanged by the layer (P'_active + P'_passive = P_active + P_passive): the layer stays
  invertible with the same triangular Jacobian, but h now knows the sum of the pair it reshapes,
  so it can shape the joint distribution of the active and the passive plaquette, not only the
  active one (for the Wilson action the target of P_active given R is ∝ e^{β cos P + β cos(R − P)}).

Plaquette maps h (both fix no point: a learned rotation t follows a map that fixes ±π):

- ``"ncp"``: mixture of non-compact projections (arXiv:2003.06413 eq. (15); tutorial
  arXiv:2101.08176 §IV): g(P; s) = 2 arctan(e^{s} tan(P/2)), h = wrap((1/n) Σ_i g(P; s_i) + t).
  No closed-form inverse: the mixture is inverted by bisection (monotone, to machine precision),
  and one Newton step gives the inverse its derivatives (implicit function theorem).
- ``"spline"``: circular rational-quadratic spline (Rezende et al. arXiv:2002.02428; Durkan et al.
  arXiv:1906.04032) from **zuko** (:class:`zuko.transforms.MonotonicRQSTransform` on [−π, π];
  zuko pins the knot derivatives at ±π to 1, so the spline is C¹ across the identification
  −π ≡ π, which is exactly a circular spline with its fixed point at π), followed by the rotation
  t.  zuko's spline has an analytic inverse.

Lattice extents must be multiples of 4 (the stripe pattern).
"""

from __future__ import annotations

import math

import torch

from qlat.core.errors import require
from qlat.samplers.flow.layers import FlowLayer, conv_net

TWO_PI = 2.0 * math.pi
PLAQUETTE_COUPLINGS = ("spline", "ncp")
CONTEXTS = ("plaquettes", "loops")


def wrap(angle: torch.Tensor) -> torch.Tensor:
    """angle mod 2π into [−π, π)."""
    return torch.remainder(angle + math.pi, TWO_PI) - math.pi


def plaquette(links: torch.Tensor) -> torch.Tensor:
    """P(x) = θ_0(x) + θ_1(x+0̂) − θ_0(x+1̂) − θ_1(x), shape ``(batch, L0, L1)`` (not wrapped)."""
    t0, t1 = links[:, 0], links[:, 1]
    return t0 + torch.roll(t1, -1, 1) - torch.roll(t0, -1, 2) - t1


def stripe(shape: tuple[int, int], axis: int, residues: tuple[int, ...]) -> torch.Tensor:
    """1.0 where x_axis mod 4 is in ``residues``, float of the lattice shape."""
    x = torch.arange(shape[axis]) % 4
    hit = torch.zeros(shape[axis], dtype=torch.bool)
    for r in residues:
        hit |= x == (r % 4)
    view = [1, 1]
    view[axis] = shape[axis]
    return hit.view(view).expand(shape).to(torch.get_default_dtype()).clone()


def ncp_mixture(p: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(1/n) Σ_i 2 arctan(e^{s_i} tan(p/2)) and log of its derivative; ``s`` has the mixture axis last.

    Written with atan2 so that p = ±π maps to ±π; g'(p) = e^{s}/(cos²(p/2) + e^{2s} sin²(p/2)).
    """
    half = 0.5 * p.unsqueeze(-1)
    es = torch.exp(s)
    c, sn = torch.cos(half), torch.sin(half)
    g = 2.0 * torch.atan2(es * sn, c)
    dg = es / (c * c + es * es * sn * sn)
    return g.mean(-1), torch.log(dg.mean(-1))


def invert_monotone(fn, y: torch.Tensor, *, iterations: int) -> torch.Tensor:
    """x in [−π, π] with fn(x) = y for a continuous increasing fn fixing ±π (bisection)."""
    lo = torch.full_like(y, -math.pi)
    hi = torch.full_like(y, math.pi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = fn(mid) < y
        lo = torch.where(below, mid, lo)
        hi = torch.where(below, hi, mid)
    return 0.5 * (lo + hi)


class PlaquetteCoupling(FlowLayer):
    """One gauge-equivariant coupling layer on 2D U(1) links (module docstring).

    Parameters
    ----------
    shape: lattice shape ``(L0, L1)``, both multiples of 4.
    mu: direction of the updated links (0 or 1).
    offset: stripe x_ν ≡ offset (mod 4) of the updated links.
    kind: ``"spline"`` or ``"ncp"``.
    hidden: hidden channels of the conditioner; kernel_size: its odd kernel.
    bins: spline bins K; n_mix: NCP mixture components.
    context: ``"plaquettes"`` or ``"loops"`` (module docstring).
    """

    link_mask: torch.Tensor
    active: torch.Tensor
    frozen: torch.Tensor
    active_index: torch.Tensor

    def __init__(self, shape: tuple[int, int], *, mu: int, offset: int, kind: str = "spline",
                 hidden: tuple[int, ...] = (8, 8), kernel_size: int = 3, bins: int = 8, n_mix: int = 2,
                 context: str = "plaquettes") -> None:
        super().__init__()
        shape = (int(shape[0]), int(shape[1]))
        require(all(s % 4 == 0 for s in shape), "shape", "gauge-equivariant couplings need extents divisible by 4",
                shape)
        require(mu in (0, 1), "mu", "must be 0 or 1", mu)
        require(kind in PLAQUETTE_COUPLINGS, "coupling", f"must be one of {', '.join(PLAQUETTE_COUPLINGS)}", kind)
        require(isinstance(bins, int) and bins >= 2, "bins", "must be an integer >= 2", bins)
        require(isinstance(n_mix, int) and n_mix >= 1, "n_mix", "must be an integer >= 1", n_mix)
        require(context in CONTEXTS, "context", f"must be one of {', '.join(CONTEXTS)}", context)
        nu = 1 - mu
        self.mu, self.offset, self.kind, self.context = mu, int(offset) % 4, kind, context
        self.nu = nu
        self.sign = 1.0 if mu == 0 else -1.0
        self.bins, self.n_mix = bins, n_mix
        link_mask = torch.zeros((2, *shape), dtype=torch.get_default_dtype())
        link_mask[mu] = stripe(shape, nu, (self.offset,))
        self.register_buffer("link_mask", link_mask)
        self.register_buffer("active", stripe(shape, nu, (self.offset,)))
        self.register_buffer("frozen", stripe(shape, nu, (self.offset + 1, self.offset + 2)))
        self.register_buffer("active_index", torch.nonzero(self.active.reshape(-1)).reshape(-1), persistent=False)
        n_params = (3 * bins - 1 if kind == "spline" else n_mix) + 1  # + rotation t
        in_channels = 2 if context == "plaquettes" else 4
        self.net = conv_net(2, in_channels, n_params, hidden, kernel_size=kernel_size, final_tanh=False)

    # ------------------------------------------------------------------ plaquette map
    def _params(self, p: torch.Tensor) -> torch.Tensor:
        """Conditioner output at the active sites, ``(batch, n_active, n_params)`` (contiguous)."""
        frozen = self.frozen.to(p.dtype)
        channels = [torch.cos(p) * frozen, torch.sin(p) * frozen]
        if self.context == "loops":  # R(x) = P(x) + P(x − ν̂) on the active sites (invariant under the layer)
            active = self.active.to(p.dtype)
            r = p + torch.roll(p, 1, 1 + self.nu)
            channels += [torch.cos(r) * active, torch.sin(r) * active]
        out = self.net(torch.stack(channels, dim=1))
        return out.reshape(out.shape[0], out.shape[1], -1)[:, :, self.active_index].transpose(1, 2).contiguous()

    def _spline(self, params: torch.Tensor):
        from zuko.transforms import MonotonicRQSTransform

        k = self.bins
        return MonotonicRQSTransform(params[..., :k], params[..., k:2 * k], params[..., 2 * k:3 * k - 1],
                                     bound=math.pi)

    def _map(self, p: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h(p) before the rotation, and log h'(p); p in [−π, π)."""
        if self.kind == "spline":
            return self._spline(params[..., :-1]).call_and_ladj(p)
        return ncp_mixture(p, params[..., :-1])

    def _map_inverse(self, q: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        if self.kind == "spline":
            return self._spline(params[..., :-1]).inv(q)
        iterations = 64 if q.dtype == torch.float64 else 32
        s = params[..., :-1]
        with torch.no_grad():
            p0 = invert_monotone(lambda x: ncp_mixture(x, s)[0], q, iterations=iterations)
        # one Newton step: the same value (to round-off), and the implicit-function derivatives
        # ∂p/∂q = 1/h'(p), ∂p/∂s = −(∂h/∂s)/h'(p), which bisection alone does not carry (path gradients)
        h, log_dh = ncp_mixture(p0, s)
        return p0 - (h - q) / torch.exp(log_dh).detach()

    def _update(self, links: torch.Tensor, delta_active: torch.Tensor, sign: float) -> torch.Tensor:
        """links + sign·σ_μ·δ on the active links (δ given at the active sites)."""
        batch = links.shape[0]
        delta = torch.zeros((batch, links.shape[2] * links.shape[3]), dtype=links.dtype, device=links.device)
        delta = delta.index_copy(1, self.active_index, delta_active).view(batch, *links.shape[2:])
        return links + self.link_mask.to(links.dtype) * (sign * self.sign * delta).unsqueeze(1)

    # ------------------------------------------------------------------ contract
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = wrap(plaquette(x))
        params = self._params(p)
        p_active = p.reshape(p.shape[0], -1)[:, self.active_index]
        hp, log_dh = self._map(p_active, params)
        # wrapped, so that the inverse recovers x itself (not x mod 2π)
        delta = wrap(hp + params[..., -1] - p_active)
        return self._update(x, delta, 1.0), log_dh.sum(1)

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        new_p = wrap(plaquette(y))
        params = self._params(new_p)  # frozen plaquettes are unchanged by the layer
        new_active = new_p.reshape(new_p.shape[0], -1)[:, self.active_index]
        q = wrap(new_active - params[..., -1])
        if self.kind == "spline":  # one spline object for both the inverse and its derivative
            spline = self._spline(params[..., :-1])
            p = spline.inv(q)
            _, log_dh = spline.call_and_ladj(p)
        else:
            p = self._map_inverse(q, params)
            _, log_dh = self._map(p, params)
        delta = wrap(new_active - p)
        return self._update(y, delta, -1.0), -log_dh.sum(1)
