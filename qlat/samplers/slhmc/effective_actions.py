r"""Effective actions S_eff[θ] for self-learning HMC of the 2D Schwinger model (link angles θ_μ(x)).

Fields are ``(batch, 2, L₀, L₁)`` link angles as in :mod:`qlat.theories.u1`; plaquette
P(x) = θ₀(x) + θ₁(x+0̂) − θ₀(x+1̂) − θ₁(x) (:func:`qlat.samplers.flow.gauge.plaquette`).

**Gauge-invariant loops** (:func:`loop_features`): with R_μ(x) = P(x) + P(x+μ̂) the 2×1
rectangles along μ and Π_μ(x_ν) = Σ_{x_μ} θ_μ(x) the Polyakov loops winding in direction μ,

.. math:: F = \Big(\sum_x \cos P,\ \sum_x \cos R_0,\ \sum_x \cos R_1,\
          \sum_{x_1} \cos Π_0,\ \sum_{x_0} \cos Π_1\Big).

Only cosines appear: S_g − N_f log|det D| is even under charge conjugation θ → −θ.

**The linear model** is S_lin[θ] = c₀ + Σ_k c_k F_k[θ] (c_P = −β, the rest 0, is the pure gauge
action).  The plaquette/rectangle terms are the leading terms of the hopping expansion of
log det D; with antiperiodic fermions in time the Polyakov loop Π₀ enters at order κ^{L₀}.

**Gauge-covariant attention** (:class:`CovariantAttention`; CASK, Nagai, Ohno, Tomiya
arXiv:2501.16955, written for U(1)).  Every link l = (μ, x) has eight *tokens*: the oriented
angles w_s of the loops through l that start along l — its two plaquettes and the six 2×1
rectangles that contain l on their boundary (types: plaquette, rectangle along μ, rectangle
across μ).  The CASK attention logits are Frobenius products of the link with its extended
staples, Re(U_l V_s^*) = cos w_s, gauge invariant.  Here each token is embedded as
e_s = tanh(A[cos w_s, onehot(type_s)] + a), a query q^h = W_Q^h ē (ē the mean token of the link)
and keys k^h_s = W_K^h e_s give α^h_s = softmax_s(q^h·k^h_s/√d), and the link moves by

.. math:: θ'_l = θ_l − \sum_h \sum_s α^h_{l,s}\, ρ^h_{\mathrm{type}(s)} \sin w_{l,s},

a stout-like step (Morningstar & Peardon hep-lat/0311018; for U(1) the stout step is
θ' = θ − ρ ∂_θ(−Σ cos P)) whose size and direction are gauge invariant.  Under
θ_μ(x) → θ_μ(x) + λ(x) − λ(x+μ̂) every w_s is unchanged, so θ' transforms like θ (covariance),
and S_eff = S_lin[θ^{(n)}] after n layers is gauge invariant (to rounding; tested to 1e-10).
Under θ → −θ: θ' → −θ' (the sines are odd, the logits even), so S_eff keeps charge conjugation.
Lattice translations commute with every step (all weights are shared over sites and directions).
ρ starts at 0, so an untrained attention model *is* its linear model (training starts there).

Everything is float64 and device-agnostic (``model.to(device)``; buffers move with it).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from qlat.core.errors import require
from qlat.samplers.flow.gauge import plaquette

#: Names of the linear features F_k, in order.
FEATURES = ("plaquette", "rectangle_0", "rectangle_1", "polyakov_0", "polyakov_1")
#: Token types of :func:`link_tokens`: 0 plaquette, 1 rectangle along the link, 2 rectangle across it.
TOKEN_TYPES = (0, 0, 1, 1, 1, 1, 2, 2)
N_TYPES = 3


def _shift(t: torch.Tensor, d: int, axis: int) -> torch.Tensor:
    """t(x + d·ê_axis) for a site field ``(batch, L₀, L₁)`` (axis 1 or 2)."""
    return torch.roll(t, -d, axis)


def loop_angles(links: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(P, R₀, R₁, Π₀, Π₁): plaquettes and rectangles ``(batch, L₀, L₁)``, Polyakov loops
    Π₀ ``(batch, L₁)`` and Π₁ ``(batch, L₀)`` (angles, not wrapped)."""
    p = plaquette(links)
    return p, p + _shift(p, 1, 1), p + _shift(p, 1, 2), links[:, 0].sum(1), links[:, 1].sum(2)


def loop_features(links: torch.Tensor) -> torch.Tensor:
    """F_k = Σ cos(loop_k) per configuration, ``(batch, 5)`` in the order of :data:`FEATURES`."""
    return torch.stack([torch.cos(a).flatten(1).sum(1) for a in loop_angles(links)], dim=1)


def link_tokens(links: torch.Tensor) -> torch.Tensor:
    """The oriented loop angles w_{l,s} through every link, ``(batch, 2, 8, L₀, L₁)`` (module doc).

    For link (μ, x), ν = 1 − μ, σ₀ = +1, σ₁ = −1: A = P(x) holds θ_μ(x) with sign σ_μ, B = P(x − ν̂)
    with −σ_μ; the tokens are σA, −σB, the rectangles σ(A + A(x+μ̂)), σ(A(x−μ̂) + A),
    −σ(B + B(x+μ̂)), −σ(B(x−μ̂) + B) along μ and σ(A + A(x+ν̂)), −σ(B + B(x−ν̂)) across μ.
    """
    p = plaquette(links)
    out = []
    for mu, sigma in ((0, 1.0), (1, -1.0)):
        ax_mu, ax_nu = 1 + mu, 2 - mu
        a = p
        b = _shift(p, -1, ax_nu)
        out.append(torch.stack([
            sigma * a, -sigma * b,
            sigma * (a + _shift(a, 1, ax_mu)), sigma * (_shift(a, -1, ax_mu) + a),
            -sigma * (b + _shift(b, 1, ax_mu)), -sigma * (_shift(b, -1, ax_mu) + b),
            sigma * (a + _shift(a, 1, ax_nu)), -sigma * (b + _shift(b, -1, ax_nu)),
        ], dim=1))
    return torch.stack(out, dim=1)


class CovariantAttention(nn.Module):
    """One gauge-covariant attention layer θ → θ' (module doc): ``heads`` heads of width ``hidden``."""

    type_onehot: torch.Tensor
    type_index: torch.Tensor

    def __init__(self, *, heads: int = 2, hidden: int = 8) -> None:
        super().__init__()
        self.heads, self.hidden = int(heads), int(hidden)
        self.embed = nn.Linear(1 + N_TYPES, self.hidden)
        self.query = nn.Linear(self.hidden, self.heads * self.hidden, bias=False)
        self.key = nn.Linear(self.hidden, self.heads * self.hidden, bias=False)
        self.rho = nn.Parameter(torch.zeros(self.heads, N_TYPES))
        types = torch.tensor(TOKEN_TYPES)
        self.register_buffer("type_onehot", nn.functional.one_hot(types, N_TYPES).to(torch.get_default_dtype()))
        self.register_buffer("type_index", types, persistent=False)

    def forward(self, links: torch.Tensor) -> torch.Tensor:
        w = link_tokens(links).permute(0, 1, 3, 4, 2)  # (batch, 2, L0, L1, S)
        n_tok = w.shape[-1]
        onehot = self.type_onehot.to(w.dtype).expand(*w.shape, N_TYPES)
        e = torch.tanh(self.embed(torch.cat([torch.cos(w).unsqueeze(-1), onehot], dim=-1)))  # (..., S, d)
        q = self.query(e.mean(-2)).unflatten(-1, (self.heads, self.hidden))  # (..., H, d)
        k = self.key(e).unflatten(-1, (self.heads, self.hidden))  # (..., S, H, d)
        alpha = torch.softmax(torch.einsum("...hd,...shd->...hs", q, k) / math.sqrt(self.hidden), dim=-1)
        rho = self.rho[:, self.type_index]  # (H, S)
        delta = (alpha * rho * torch.sin(w).unsqueeze(-2)).sum((-1, -2))
        assert n_tok == len(TOKEN_TYPES)
        return links - delta


class EffectiveAction(nn.Module):
    """S_eff[θ] = c₀ + Σ_k c_k F_k[θ^{(n)}], θ^{(n)} after ``layers`` attention layers (module doc).

    Parameters
    ----------
    layers: attention layers n (>= 0; 0 is the linear model).
    heads, hidden: attention heads and their width d (>= 1).
    seed: seed of the initial attention weights (>= 0).
    """

    def __init__(self, *, layers: int = 0, heads: int = 2, hidden: int = 8, seed: int = 0) -> None:
        super().__init__()
        for name, value, low in (("layers", layers, 0), ("heads", heads, 1), ("hidden", hidden, 1), ("seed", seed, 0)):
            require(isinstance(value, int) and not isinstance(value, bool) and value >= low, name,
                    f"must be an integer >= {low}", value)
        self.n_layers, self.heads, self.hidden, self.seed = layers, heads, hidden, seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.layers = nn.ModuleList(CovariantAttention(heads=heads, hidden=hidden) for _ in range(layers))
        self.coupling = nn.Parameter(torch.zeros(len(FEATURES)))
        self.offset = nn.Parameter(torch.zeros(()))
        self.to(torch.float64)

    @classmethod
    def pure_gauge(cls, beta: float, **kwargs: Any) -> "EffectiveAction":
        """The model with c_P = −β and everything else 0: S_eff = S_g (the untrained start)."""
        model = cls(**kwargs)
        with torch.no_grad():
            model.coupling[0] = -float(beta)
        return model

    def smear(self, links: torch.Tensor) -> torch.Tensor:
        """θ^{(n)}: the links after every attention layer (covariant)."""
        for layer in self.layers:
            links = layer(links)
        return links

    def features(self, links: torch.Tensor) -> torch.Tensor:
        """F_k[θ^{(n)}], ``(batch, 5)``."""
        return loop_features(self.smear(links))

    def forward(self, links: torch.Tensor) -> torch.Tensor:
        return self.offset + self.features(links) @ self.coupling

    def force(self, links: torch.Tensor) -> torch.Tensor:
        """∂S_eff/∂θ by autograd (on the model's device), returned on the device and dtype of ``links``."""
        device = self.coupling.device
        with torch.enable_grad():
            q = links.detach().to(device=device, dtype=self.coupling.dtype).requires_grad_(True)
            (grad,) = torch.autograd.grad(self(q).sum(), q)
        return grad.to(device=links.device, dtype=links.dtype)

    def head(self) -> list[nn.Parameter]:
        """The linear couplings (c₀, c_k): fitted by least squares, not by gradient steps."""
        return [self.offset, self.coupling]

    def config(self) -> dict[str, Any]:
        return {"kind": "attention" if self.n_layers else "linear", "layers": self.n_layers, "heads": self.heads,
                "hidden": self.hidden, "seed": self.seed}


def build_model(config: dict[str, Any]) -> EffectiveAction:
    """The (untrained) model of a :meth:`EffectiveAction.config`."""
    return EffectiveAction(layers=int(config["layers"]), heads=int(config["heads"]), hidden=int(config["hidden"]),
                           seed=int(config["seed"]))


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (the linear head included)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
