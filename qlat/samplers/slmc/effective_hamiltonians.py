r"""Effective spin models H_eff for self-learning Monte Carlo (Nagai & Tomiya arXiv:2306.11527).

Both models end in the same *shell energy*

.. math:: H_\text{eff}[S] = E_0 − \sum_{n=1}^{n_\text{shells}} J_n \sum_{⟨ij⟩_n} \mathbf S^\text{NN}_i·\mathbf S^\text{NN}_j,

where ⟨ij⟩_n runs over the unordered pairs of sites at the n-th smallest distance (minimum-image
distance on a periodic lattice, plain distance with open boundaries; on a periodic extent 2 the two
bonds between the same pair count once).

- :class:`LinearEffectiveModel`: S^NN = S (the linear model of the SLMC literature; its E₀, J_n are the
  least-squares fit of the exact energies, :meth:`LinearEffectiveModel.fit`).
- :class:`EquivariantTransformer`: S^NN is the output of stacked equivariant attention layers.  Layer
  l maps spins X (one unit 3-vector per site) to

  .. math:: Q^h_i = \sum_{d∈\mathcal N} w^{Q,h}_d X_{i+d},\quad K^h_i = \sum_d w^{K,h}_d X_{i+d},\quad
            V^h_i = \sum_d w^{V,h}_d X_{i+d},

  .. math:: A^h_{ij} = \operatorname{softmax}_j\big(Q^h_i·K^h_j/\sqrt3\big),\qquad
            X'_i = \frac{X_i + \sum_h \sum_j A^h_{ij} V^h_j}{\big|X_i + \sum_h \sum_j A^h_{ij} V^h_j\big|},

  with scalar, translation-invariant weights over the neighbourhood 𝒩 = {d : |d_x|, |d_y| <= radius}
  (shifts on the torus; zero-padded with open boundaries), attention over all sites (global), a
  residual connection and normalization back to the sphere.  Queries, keys and values are linear
  in the spins with scalar weights, so they rotate as vectors under any R ∈ O(3); the attention
  logits are O(3)-invariant dot products; the normalization uses the invariant length.  Hence
  X' → R X' and H_eff is O(3) invariant; on a torus everything commutes with lattice translations.
  With zero layers the transformer is the linear model.

Everything is float64.  Models are ``torch.nn.Module`` s with a JSON-ready :meth:`config` from which
:func:`build_model` rebuilds them (files: :mod:`qlat.samplers.slmc.training`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from qlat.core.errors import require

MODEL_KINDS = ("linear", "transformer")


def pair_distance_count(shape: tuple[int, int], boundary: str) -> int:
    """How many distinct pair distances (neighbour shells) the lattice has: the most ``shells`` a model
    can use (counted over displacements, O(Lx·Ly), without the N×N tables of :func:`shell_pairs`)."""
    lx, ly = int(shape[0]), int(shape[1])
    found = set()
    for dx in range(lx):
        for dy in range(ly):
            if dx == 0 and dy == 0:
                continue
            ax, ay = (min(dx, lx - dx), min(dy, ly - dy)) if boundary == "periodic" else (dx, dy)
            found.add(ax * ax + ay * ay)
    return len(found)


def shell_pairs(shape: tuple[int, int], boundary: str, n_shells: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """For each of the ``n_shells`` smallest pair distances, the site indices (i, j), i < j, of its pairs."""
    lx, ly = shape
    n = lx * ly
    idx = torch.arange(n)
    x, y = idx // ly, idx % ly
    dx = (x[:, None] - x[None, :]).abs()
    dy = (y[:, None] - y[None, :]).abs()
    if boundary == "periodic":
        dx = torch.minimum(dx, lx - dx)
        dy = torch.minimum(dy, ly - dy)
    d2 = dx * dx + dy * dy
    upper = torch.triu(torch.ones((n, n), dtype=torch.bool), diagonal=1)
    distances = torch.unique(d2[upper])
    require(len(distances) >= n_shells, "shells", f"the lattice has only {len(distances)} pair distances",
            n_shells)
    out = []
    for dist in distances[:n_shells]:
        i, j = torch.nonzero(upper & (d2 == dist), as_tuple=True)
        out.append((i, j))
    return out


class ShellEnergy(nn.Module):
    """E₀ − Σ_n J_n Σ_{⟨ij⟩_n} X_i·X_j for spins X of shape ``(batch, 3, Lx, Ly)``."""

    def __init__(self, shape: tuple[int, int], boundary: str, n_shells: int) -> None:
        super().__init__()
        require(isinstance(n_shells, int) and n_shells >= 1, "shells", "must be an integer >= 1", n_shells)
        pairs = shell_pairs(shape, boundary, n_shells)
        self.n_shells = n_shells
        for k, (i, j) in enumerate(pairs):
            self.register_buffer(f"pair_i{k}", i, persistent=False)
            self.register_buffer(f"pair_j{k}", j, persistent=False)
        self.e0 = nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.couplings = nn.Parameter(torch.zeros(n_shells, dtype=torch.float64))

    def features(self, spins: torch.Tensor) -> torch.Tensor:
        """φ_n = Σ_{⟨ij⟩_n} X_i·X_j, shape ``(batch, n_shells)``."""
        s = spins.reshape(spins.shape[0], 3, -1)
        cols = []
        for k in range(self.n_shells):
            i, j = getattr(self, f"pair_i{k}"), getattr(self, f"pair_j{k}")
            cols.append((s[:, :, i] * s[:, :, j]).sum(dim=(1, 2)))
        return torch.stack(cols, dim=1)

    def forward(self, spins: torch.Tensor) -> torch.Tensor:
        return self.e0 - self.features(spins) @ self.couplings

    def neighbour_table(self, n_sites: int) -> torch.Tensor:
        """``table[n, i, :]`` = the shell-n partners of site i, padded with ``n_sites`` (a zero spin)."""
        if getattr(self, "_table", None) is None:
            lists: list[list[list[int]]] = [[[] for _ in range(n_sites)] for _ in range(self.n_shells)]
            for k in range(self.n_shells):
                i, j = getattr(self, f"pair_i{k}"), getattr(self, f"pair_j{k}")
                for a, b in zip(i.tolist(), j.tolist()):
                    lists[k][a].append(b)
                    lists[k][b].append(a)
            width = max(1, max(len(p) for shell in lists for p in shell))
            table = torch.full((self.n_shells, n_sites, width), n_sites, dtype=torch.long)
            for k, shell in enumerate(lists):
                for a, partners in enumerate(shell):
                    table[k, a, :len(partners)] = torch.tensor(partners, dtype=torch.long)
            self._table = table
        return self._table

    def coupling_matrix(self, n_sites: int) -> torch.Tensor:
        r"""The dense symmetric couplings 𝒥, ``(n_sites, n_sites)``, zero diagonal, with
        E = E₀ − ½ Σ_{ij} 𝒥_{ij} X_i·X_j: 𝒥_{ij} = J_n when (i, j) is a shell-n pair (each pair once, as
        in :meth:`forward`).  The local field h_i = Σ_j 𝒥_{ij} X_j gives the single-spin change
        ΔE = −(X'_i − X_i)·h_i (:class:`~qlat.samplers.slmc.sampler.SLMC`'s fast inner chain)."""
        out = torch.zeros((n_sites, n_sites), dtype=torch.float64)
        with torch.no_grad():
            for k in range(self.n_shells):
                i, j = getattr(self, f"pair_i{k}"), getattr(self, f"pair_j{k}")
                out[i, j] = self.couplings[k]
                out[j, i] = self.couplings[k]
        return out

    def local_change(self, spins: torch.Tensor, site: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """E[spins with X_site → new] − E[spins] for one site per configuration, O(partners) per chain:
        ΔE = −Σ_n J_n (new − X_site)·Σ_{j ∈ shell_n(site)} X_j."""
        b = spins.shape[0]
        flat = spins.reshape(b, 3, -1)
        n = flat.shape[2]
        padded = torch.cat([flat, flat.new_zeros((b, 3, 1))], dim=2)
        partners = self.neighbour_table(n)[:, site]  # (shells, b, width)
        rows = torch.arange(b).reshape(1, b, 1)
        sums = padded.permute(0, 2, 1)[rows, partners].sum(2)  # (shells, b, 3)
        old = flat[torch.arange(b), :, site]
        return -((new - old)[None] * sums).sum(-1).transpose(0, 1) @ self.couplings


class LinearEffectiveModel(nn.Module):
    """H_eff = E₀ − Σ_n J_n Σ_{⟨ij⟩_n} S_i·S_j (units of t), spins ``(batch, 3, Lx, Ly)`` → ``(batch,)``."""

    kind = "linear"

    def __init__(self, shape: tuple[int, int], *, boundary: str = "periodic", shells: int = 3) -> None:
        super().__init__()
        self.shape = (int(shape[0]), int(shape[1]))
        self.boundary = boundary
        self.energy = ShellEnergy(self.shape, boundary, shells)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "boundary": self.boundary,
                "shells": self.energy.n_shells}

    def forward(self, spins: torch.Tensor) -> torch.Tensor:
        return self.energy(spins)

    def translated_spins(self, spins: torch.Tensor) -> torch.Tensor:
        return spins

    def local_change(self, spins: torch.Tensor, site: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """H_eff change when the spin at flat index ``site[c]`` of chain c becomes ``new[c]`` (local, exact)."""
        return self.energy.local_change(spins, site, new)

    def coupling_matrix(self) -> torch.Tensor:
        """H_eff = E₀ − ½ Σ_ij 𝒥_ij S_i·S_j: the dense 𝒥 (:meth:`ShellEnergy.coupling_matrix`)."""
        return self.energy.coupling_matrix(self.shape[0] * self.shape[1])

    @torch.no_grad()
    def fit(self, spins: torch.Tensor, energies: torch.Tensor) -> None:
        """Least-squares E₀, J_n (the exact minimizer of the MSE; no iterative training needed)."""
        fit_shell_energy(self.energy, spins, energies)


@torch.no_grad()
def fit_shell_energy(energy: ShellEnergy, spins: torch.Tensor, energies: torch.Tensor) -> None:
    """Set E₀ and J_n of ``energy`` to the least-squares fit of ``energies`` on the given (translated) spins."""
    phi = energy.features(spins)
    design = torch.cat([torch.ones((phi.shape[0], 1), dtype=phi.dtype), -phi], dim=1)
    sol = torch.linalg.lstsq(design, energies.reshape(-1, 1).to(phi.dtype), driver="gelsd").solution[:, 0]
    energy.e0.copy_(sol[0])
    energy.couplings.copy_(sol[1:])


def neighbourhood(shape: tuple[int, int], radius: int) -> list[tuple[int, int]]:
    """Offsets (dx, dy) with |dx|, |dy| <= radius, distinct modulo the lattice (self first)."""
    lx, ly = shape
    seen: set[tuple[int, int]] = set()
    out = []
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            key = (dx % lx, dy % ly)
            if key in seen:
                continue
            seen.add(key)
            out.append((dx, dy))
    out.sort(key=lambda d: (d[0] * d[0] + d[1] * d[1], d))
    return out


def neighbour_index(shape: tuple[int, int], offsets: list[tuple[int, int]], periodic: bool) -> torch.Tensor:
    """``idx[d, i]`` = flat index of site i + offsets[d] (torus), or N (a zero spin) outside an open lattice."""
    lx, ly = shape
    x = torch.arange(lx).reshape(-1, 1).expand(lx, ly).reshape(-1)
    y = torch.arange(ly).reshape(1, -1).expand(lx, ly).reshape(-1)
    rows = []
    for dx, dy in offsets:
        tx, ty = x + dx, y + dy
        if periodic:
            rows.append((tx % lx) * ly + ty % ly)
        else:
            inside = (tx >= 0) & (tx < lx) & (ty >= 0) & (ty < ly)
            rows.append(torch.where(inside, tx.clamp(0, lx - 1) * ly + ty.clamp(0, ly - 1), lx * ly))
    return torch.stack(rows)


class EquivariantAttention(nn.Module):
    """One O(3)-equivariant, translation-equivariant attention layer (see the module doc)."""

    def __init__(self, shape: tuple[int, int], *, boundary: str, heads: int, radius: int,
                 init_scale: float = 0.05, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.offsets = neighbourhood(shape, radius)
        self.register_buffer("index", neighbour_index(shape, self.offsets, boundary == "periodic"), persistent=False)
        m = len(self.offsets)
        g = generator

        def init(scale: float) -> nn.Parameter:
            return nn.Parameter(scale * torch.randn((heads, m), dtype=torch.float64, generator=g))

        self.w_query = init(1.0 / math.sqrt(m))
        self.w_key = init(1.0 / math.sqrt(m))
        self.w_value = init(init_scale / math.sqrt(m))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        flat = torch.cat([x.reshape(b, 3, -1), x.new_zeros((b, 3, 1))], dim=2)  # a zero spin at index N
        index: torch.Tensor = self.index  # type: ignore[assignment]
        stacked = flat[:, :, index]  # (b, 3, offsets, N): X_{i+d}
        w = torch.cat([self.w_query, self.w_key, self.w_value])  # (3h, offsets)
        qkv = torch.einsum("hd,bcdn->bhnc", w, stacked)  # (b, 3h, N, 3)
        q, k, v = qkv.chunk(3, dim=1)
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(3.0), dim=-1)  # (b, h, N, N)
        update = (attn @ v).sum(1).transpose(1, 2).reshape(x.shape)  # (b, 3, Lx, Ly)
        y = x + update
        return y / (y.square().sum(1, keepdim=True) + 1e-300).sqrt()


class EquivariantTransformer(nn.Module):
    """H_eff = E₀ − Σ_n J_n Σ_{⟨ij⟩_n} S^NN_i·S^NN_j with S^NN from ``layers`` equivariant attention layers."""

    kind = "transformer"

    def __init__(self, shape: tuple[int, int], *, boundary: str = "periodic", layers: int = 1, heads: int = 2,
                 radius: int = 1, shells: int = 3, seed: int = 0, init_scale: float = 0.05) -> None:
        super().__init__()
        require(isinstance(layers, int) and layers >= 0, "layers", "must be an integer >= 0", layers)
        require(isinstance(heads, int) and heads >= 1, "heads", "must be an integer >= 1", heads)
        require(isinstance(radius, int) and radius >= 0, "radius", "must be an integer >= 0", radius)
        self.shape = (int(shape[0]), int(shape[1]))
        self.boundary = boundary
        self.heads, self.radius, self.seed, self.init_scale = heads, radius, int(seed), float(init_scale)
        g = torch.Generator().manual_seed(int(seed))
        self.layers = nn.ModuleList(
            EquivariantAttention(self.shape, boundary=boundary, heads=heads, radius=radius,
                                 init_scale=init_scale, generator=g)
            for _ in range(layers)
        )
        self.energy = ShellEnergy(self.shape, boundary, shells)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "boundary": self.boundary,
                "layers": len(self.layers), "heads": self.heads, "radius": self.radius,
                "shells": self.energy.n_shells, "seed": self.seed, "init_scale": self.init_scale}

    def translated_spins(self, spins: torch.Tensor) -> torch.Tensor:
        """S^NN, the output spins of the attention stack (unit vectors, shape of ``spins``)."""
        x = spins
        for layer in self.layers:
            x = layer(x)
        return x

    def forward(self, spins: torch.Tensor) -> torch.Tensor:
        return self.energy(self.translated_spins(spins))


def deepen(model: EquivariantTransformer, *, seed: int | None = None) -> EquivariantTransformer:
    """A transformer with one more attention layer that computes exactly the same H_eff as ``model``.

    The existing layers and the shell energy are copied; the new last layer has random query/key
    weights and zero value weights (so it is the identity until trained).  Training a deeper model
    from its shallower predecessor this way starts at the predecessor's loss.
    """
    cfg = model.config()
    deeper = EquivariantTransformer(model.shape, boundary=model.boundary, layers=cfg["layers"] + 1,
                                    heads=cfg["heads"], radius=cfg["radius"], shells=cfg["shells"],
                                    seed=cfg["seed"] if seed is None else seed, init_scale=cfg["init_scale"])
    with torch.no_grad():
        for old, new in zip(model.layers, deeper.layers):
            new.load_state_dict(old.state_dict())
        last: Any = deeper.layers[-1]
        last.w_value.zero_()
        deeper.energy.load_state_dict(model.energy.state_dict())
    return deeper


def build_model(config: dict[str, Any]) -> nn.Module:
    """The (untrained) model described by a :meth:`config` dict."""
    require(isinstance(config, dict), "model", "the model card must hold a config object", type(config).__name__)
    kind = config.get("kind")
    require(kind in MODEL_KINDS, "model", f"kind must be one of {', '.join(MODEL_KINDS)}", kind)
    try:
        shape = (int(config["shape"][0]), int(config["shape"][1]))
        if kind == "linear":
            return LinearEffectiveModel(shape, boundary=str(config["boundary"]), shells=int(config["shells"]))
        return EquivariantTransformer(
            shape, boundary=str(config["boundary"]), layers=int(config["layers"]), heads=int(config["heads"]),
            radius=int(config["radius"]), shells=int(config["shells"]), seed=int(config.get("seed", 0)),
            init_scale=float(config.get("init_scale", 0.05)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        from qlat.core.errors import ParameterError

        raise ParameterError("model", f"malformed model config ({exc})", config) from None


def parameter_count(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
