r"""Flow building blocks with one contract, and the scalar-field couplings.

Contract of every layer (and of every composed flow), batch axis first:

- ``layer(x) -> (y, log_det)`` with ``log_det = log|det ∂y/∂x|`` of shape ``(batch,)``,
- ``layer.inverse(y) -> (x, log_det_inv)`` with ``log_det_inv = log|det ∂x/∂y| = −log_det``,

in float64 and float32 alike (the parameters' dtype decides; ``model.to(torch.float64)``).
The tests check ``inverse(forward(x)) = x`` to 1e-10 in float64 and ``log_det`` against the
log-determinant of the autograd Jacobian with randomly initialized, non-zero weights.

Scalar fields (Albergo, Kanshin, Shanahan arXiv:1904.12072; tutorial arXiv:2101.08176, §III):
an affine coupling with a checkerboard mask m (1 on the frozen sites),

.. math:: y = m ⊙ x + (1 − m) ⊙ \big(x ⊙ e^{s(m ⊙ x)} + t(m ⊙ x)\big), \qquad
          \log|\det J| = \sum_x (1 − m_x)\, s_x(m ⊙ x),

with s, t from a convolutional network with circular padding (translation equivariant on the
torus).  With ``z2=True`` the network is symmetrized, s(−u) = s(u) and t(−u) = −t(u), so the
layer commutes with φ → −φ exactly.

Written here rather than taken from a library: zuko's (and nflows') coupling transforms act on
flat feature vectors with MLP conditioners, whereas a lattice field needs a fixed spatial mask and
a translation-equivariant convolutional conditioner on the torus; the affine map itself is three
lines.  zuko is used where it fits, for the circular splines of :mod:`qlat.samplers.flow.gauge`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from qlat.core.errors import require


class FlowLayer(nn.Module):
    """A bijection with its log-Jacobian: ``forward(x) -> (y, log_det)``, ``inverse(y) -> (x, log_det_inv)``."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


class FlowSequence(FlowLayer):
    """The composition f = f_n ∘ … ∘ f_1; log-Jacobians add, the inverse runs backwards."""

    def __init__(self, layers: Sequence[FlowLayer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for layer in reversed(self.layers):
            y, ld = layer.inverse(y)  # type: ignore[operator]
            log_det = log_det + ld
        return y, log_det


def conv_net(
    ndim: int, in_channels: int, out_channels: int, hidden: Sequence[int], *, kernel_size: int = 3,
    final_tanh: bool = True,
) -> nn.Sequential:
    """Convolutions with circular padding (periodic lattice) and LeakyReLU between them.

    ``final_tanh`` bounds the outputs to (−1, 1), which keeps e^{s} of a fresh flow near 1
    (the tutorial's choice, arXiv:2101.08176 §III.B).
    """
    require(ndim in (1, 2, 3), "ndim", "convolutional conditioners exist for 1, 2 or 3 dimensions", ndim)
    require(kernel_size % 2 == 1 and kernel_size >= 1, "kernel_size", "must be an odd integer >= 1", kernel_size)
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[ndim]
    sizes = [in_channels, *hidden, out_channels]
    modules: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        modules.append(conv(sizes[i], sizes[i + 1], kernel_size, padding=kernel_size // 2, padding_mode="circular"))
        if i != len(sizes) - 2:
            modules.append(nn.LeakyReLU())
    if final_tanh:
        modules.append(nn.Tanh())
    return nn.Sequential(*modules)


class AffineCoupling(FlowLayer):
    """Affine coupling of a real scalar field with a fixed (checkerboard) mask, module docstring.

    Parameters
    ----------
    mask: float tensor of the lattice shape, 1 on frozen sites and 0 on updated ones.
    hidden: hidden channels of the conditioner (tutorial: ``(8, 8)``).
    kernel_size: convolution kernel (odd).
    z2: symmetrize the conditioner so that the layer commutes with φ → −φ.
    """

    mask: torch.Tensor

    def __init__(self, mask: torch.Tensor, *, hidden: Sequence[int] = (8, 8), kernel_size: int = 3,
                 z2: bool = False) -> None:
        super().__init__()
        self.register_buffer("mask", mask.to(torch.get_default_dtype()).clone())
        self.net = conv_net(mask.dim(), 1, 2, hidden, kernel_size=kernel_size)
        self.z2 = bool(z2)

    def _scale_shift(self, frozen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(frozen.unsqueeze(1))
        if self.z2:  # s even, t odd under frozen → −frozen
            neg = self.net(-frozen.unsqueeze(1))
            return 0.5 * (out[:, 0] + neg[:, 0]), 0.5 * (out[:, 1] - neg[:, 1])
        return out[:, 0], out[:, 1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask.to(x.dtype)
        s, t = self._scale_shift(m * x)
        active = 1.0 - m
        y = m * x + active * (x * torch.exp(s) + t)
        return y, (active * s).reshape(x.shape[0], -1).sum(1)

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask.to(y.dtype)
        s, t = self._scale_shift(m * y)
        active = 1.0 - m
        x = m * y + active * (y - t) * torch.exp(-s)
        return x, -(active * s).reshape(y.shape[0], -1).sum(1)


def checkerboard(shape: Sequence[int], parity: int) -> torch.Tensor:
    """1.0 on sites with (Σ_μ x_μ) mod 2 == parity, 0.0 elsewhere (float, lattice shape)."""
    grids = torch.meshgrid(*[torch.arange(int(s)) for s in shape], indexing="ij")
    return ((sum(grids) % 2) == parity).to(torch.get_default_dtype())  # type: ignore[union-attr]
