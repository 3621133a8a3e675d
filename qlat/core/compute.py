"""Process-wide torch settings the commands choose: threads, device, dtype and the global seed.

Kept here so that the command line never imports torch itself (tests/architecture/test_thin_cli.py);
torch is imported on first use.
"""

from __future__ import annotations

from typing import Any

from qlat.core.errors import require

#: dtype names the commands accept.
DTYPES = ("float32", "float64")


def set_threads(n: int) -> None:
    """``torch.set_num_threads(n)`` (intra-op threads of this process)."""
    import torch

    torch.set_num_threads(int(n))


def require_device(device: str, parameter: str = "device") -> None:
    """Refuse a device this machine lacks: ``cpu`` or ``cuda[:i]`` with CUDA available, naming ``parameter``."""
    require(device == "cpu" or device.startswith("cuda"), parameter, "must be cpu or cuda[:i]", device)
    if device.startswith("cuda"):
        import torch

        require(torch.cuda.is_available(), parameter, "CUDA is not available on this machine", device)


def torch_dtype(name: str, parameter: str = "dtype") -> Any:
    """The torch dtype called ``name`` (one of :data:`DTYPES`)."""
    require(name in DTYPES, parameter, f"must be {' or '.join(DTYPES)}", name)
    import torch

    return getattr(torch, name)


def seed_torch(seed: int) -> None:
    """``torch.manual_seed(seed)``: the global generator (e.g. a fresh network's initial weights)."""
    import torch

    torch.manual_seed(int(seed))
