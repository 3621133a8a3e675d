r"""Flow models q(x) = r(f⁻¹(x)) |det ∂f⁻¹/∂x| for φ⁴ and 2D U(1), built from an architecture dict.

A :class:`FlowModel` holds the prior r and the bijection f; :meth:`FlowModel.sample` draws
x = f(z), z ~ r, with log q(x) = log r(z) − log|det ∂f/∂z|; :meth:`FlowModel.log_prob` computes
log q of given configurations through the inverse.  The architecture (a JSON dict, stored in the
model card) determines the module structure, so a state dict loads only into the model it came
from.

- ``phi4``: ``n_layers`` affine couplings (:class:`~qlat.samplers.flow.layers.AffineCoupling`)
  with alternating checkerboard masks, normal prior (arXiv:2101.08176 §III: 16 layers, hidden
  [8, 8], kernel 3).
- ``u1``: ``n_layers`` gauge-equivariant plaquette couplings
  (:class:`~qlat.samplers.flow.gauge.PlaquetteCoupling`), layer i updates μ = i mod 2 on the
  stripe offset (i // 2) mod 4, Haar prior (arXiv:2003.06413; tutorial §IV: 16 layers); the
  conditioners see the frozen plaquettes and the 1×2 loops of the active pairs by default.
  With ``layout="tree"`` (default map: ``coupling="ncp"``, ``n_mix=8``) the flow starts with the
  gauge-fixed comb-tree plaquette flow
  (:class:`~qlat.samplers.flow.tree.PlaquetteTreeFlow`: every plaquette but one reshaped once by a
  shared circle map — ``coupling``: an NCP mixture of ``n_mix`` or a spline of ``bins`` bins — the
  last ``tail`` stages conditioned on the processed sum by an MLP of widths ``hidden``), followed by
  ``n_layers`` stripe couplings (0: none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from qlat.core.errors import require
from qlat.samplers.flow.gauge import CONTEXTS, PLAQUETTE_COUPLINGS, PlaquetteCoupling
from qlat.samplers.flow.layers import AffineCoupling, FlowSequence, checkerboard
from qlat.samplers.flow.priors import HaarPrior, NormalPrior
from qlat.samplers.flow.tree import PlaquetteTreeFlow

THEORY_NAMES = ("phi4", "u1")
#: U(1) flow layouts: Kanwar et al.'s stripe couplings, or the comb-tree flow (then stripes, if any)
LAYOUTS = ("stripes", "tree")


def default_architecture(theory_name: str) -> dict[str, Any]:
    """The tutorial-sized architecture of each theory (arXiv:2101.08176).

    For U(1) the conditioners also see the 1×2 loops of the active pairs (``context="loops"``,
    :mod:`~qlat.samplers.flow.gauge`): at L = 8, β = 2 that gave a higher acceptance at the same
    number of steps and the same cost per step (``benchmarks/results/flow_acceptance_runs.json``).
    Cards written before that key existed load as ``"plaquettes"``
    (:func:`~qlat.samplers.flow.checkpoint.card_architecture`).
    """
    require(theory_name in THEORY_NAMES, "theory", f"flows exist for {', '.join(THEORY_NAMES)}", theory_name)
    if theory_name == "phi4":
        return {"n_layers": 16, "hidden": [8, 8], "kernel_size": 3, "z2": False}
    return {"n_layers": 16, "hidden": [8, 8], "kernel_size": 3, "coupling": "spline", "bins": 8, "n_mix": 2,
            "context": "loops", "layout": "stripes", "tail": 0}


def check_architecture(theory_name: str, architecture: Mapping[str, Any]) -> dict[str, Any]:
    """The architecture with defaults filled in, validated (ParameterError naming the key)."""
    arch = default_architecture(theory_name)
    unknown = sorted(set(architecture) - set(arch))
    require(not unknown, "architecture", f"unknown keys for {theory_name}; known: {', '.join(arch)}", unknown)
    if theory_name == "u1" and architecture.get("layout") == "tree":
        # the tree's one-plaquette map needs a free slope at ±π (tree.py): NCP with 8 components unless asked
        arch.update({"coupling": "ncp", "n_mix": 8})
    arch.update(architecture)
    n = arch["n_layers"]
    tree = theory_name == "u1" and arch.get("layout") == "tree"
    require(isinstance(n, int) and not isinstance(n, bool) and n >= (0 if tree else 1), "layers",
            f"must be an integer >= {0 if tree else 1}", n)
    hidden = list(arch["hidden"])
    require(all(isinstance(h, int) and h >= 1 for h in hidden), "hidden", "must be positive integers", hidden)
    arch["hidden"] = hidden
    k = arch["kernel_size"]
    require(isinstance(k, int) and k >= 1 and k % 2 == 1, "kernel_size", "must be an odd integer >= 1", k)
    if theory_name == "u1":
        require(arch["coupling"] in PLAQUETTE_COUPLINGS, "coupling",
                f"must be one of {', '.join(PLAQUETTE_COUPLINGS)}", arch["coupling"])
        require(arch["context"] in CONTEXTS, "context", f"must be one of {', '.join(CONTEXTS)}", arch["context"])
        require(arch["layout"] in LAYOUTS, "layout", f"must be one of {', '.join(LAYOUTS)}", arch["layout"])
        t = arch["tail"]
        require(isinstance(t, int) and not isinstance(t, bool) and t >= 0, "tail", "must be an integer >= 0", t)
        require(t == 0 or arch["layout"] == "tree", "tail", "exists only with layout 'tree'", t)
    else:
        arch["z2"] = bool(arch["z2"])
    return arch


class FlowModel(nn.Module):
    """Prior + bijection for one theory (``theory_params`` as in ``Theory.params()``)."""

    def __init__(self, theory_params: Mapping[str, Any], architecture: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        name = theory_params.get("name")
        require(name in THEORY_NAMES, "theory", f"flows exist for {', '.join(THEORY_NAMES)}", name)
        shape = tuple(int(s) for s in theory_params["shape"])
        self.theory_params = dict(theory_params)
        self.architecture = check_architecture(str(name), dict(architecture or {}))
        arch = self.architecture
        layers: list[Any] = []
        self.prior: NormalPrior | HaarPrior
        if name == "phi4":
            require(len(shape) in (1, 2, 3), "shape", "phi4 flows exist for 1, 2 or 3 dimensions", shape)
            self.prior = NormalPrior(shape)
            for i in range(arch["n_layers"]):
                layers.append(AffineCoupling(checkerboard(shape, i % 2), hidden=arch["hidden"],
                                             kernel_size=arch["kernel_size"], z2=arch["z2"]))
            self.field_shape: tuple[int, ...] = shape
        else:
            require(len(shape) == 2, "shape", "gauge-equivariant U(1) flows exist in 2 dimensions", shape)
            self.prior = HaarPrior((2, *shape))
            if arch["layout"] == "tree":
                layers.append(PlaquetteTreeFlow((shape[0], shape[1]), kind=arch["coupling"], bins=arch["bins"],
                                                n_mix=arch["n_mix"], tail=arch["tail"],
                                                hidden=tuple(arch["hidden"])))
            for i in range(arch["n_layers"]):
                layers.append(PlaquetteCoupling((shape[0], shape[1]), mu=i % 2, offset=(i // 2) % 4,
                                                kind=arch["coupling"], hidden=tuple(arch["hidden"]),
                                                kernel_size=arch["kernel_size"], bins=arch["bins"],
                                                n_mix=arch["n_mix"], context=arch["context"]))
            self.field_shape = (2, *shape)
        self.flow = FlowSequence(layers)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` configurations x = f(z) and log q(x); z drawn on the CPU with ``generator``."""
        z = self.prior.sample(n, generator=generator, dtype=self.dtype).to(self.device)
        x, log_det = self.flow(z)
        return x, self.prior.log_prob(z) - log_det

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) through the inverse: log r(f⁻¹(x)) + log|det ∂f⁻¹/∂x|."""
        z, log_det_inv = self.flow.inverse(x)
        return self.prior.log_prob(z) + log_det_inv

    def training_log_prob(self, theory: Any, x: torch.Tensor) -> torch.Tensor:
        """The target log p that training differentiates: ``theory.log_prob(x)``, except for a
        pure tree flow (``layout="tree"``, no stripe layers) on the Wilson action, whose sink term
        has its gradient cut from the shared map (:meth:`PlaquetteTreeFlow.training_log_prob`)."""
        log_p = theory.log_prob(x)
        layers = list(self.flow.layers)
        params = theory.params() if callable(getattr(theory, "params", None)) else {}
        if len(layers) == 1 and isinstance(layers[0], PlaquetteTreeFlow) and params.get("name") == "u1":
            return layers[0].training_log_prob(x, log_p, beta=float(params["beta"]))
        return log_p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``model(x)`` is :meth:`log_prob` (so that ``torch.func.functional_call`` evaluates log q)."""
        return self.log_prob(x)
