"""Refuse absurd sizes before allocating: memory and disk estimates checked against the machine.

Every command that allocates (ED, statevector, DMRG/TDVP, flows, SLMC) estimates what it will
need from its parameters and calls :func:`require_memory` *before* building anything, so
``--sites 1e8`` is one line naming the flag and the estimate, not a process the kernel kills.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from qlat.core.errors import ParameterError

#: Fraction of the memory available now that one run may plan to use.
MEMORY_FRACTION = 0.8


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2**63 - 1


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(n) < 1024 or unit == "EiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def require_memory(nbytes: float, parameter: str, what: str) -> None:
    """Raise :class:`ParameterError` naming ``parameter`` if ``what`` needs more than
    :data:`MEMORY_FRACTION` of the available memory (``nbytes`` may be a float: no overflow)."""
    limit = MEMORY_FRACTION * available_memory()
    if not nbytes <= limit:  # also refuses nan/inf
        raise ParameterError(parameter, f"{what} would need about {human_bytes(nbytes)} of memory, more than the "
                             f"{human_bytes(limit)} this machine can give now",
                             hint="ask for a smaller size (fewer sites or a smaller lattice, a smaller bond dimension "
                             "or batch), or run on a machine with more free memory")


def require_disk(nbytes: float, where: str | os.PathLike[str], parameter: str, what: str) -> None:
    """Raise :class:`ParameterError` naming ``parameter`` if ``what`` needs more disk than is free at ``where``."""
    folder = Path(where)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if not nbytes <= free:
        raise ParameterError(parameter, f"{what} would take about {human_bytes(nbytes)} of disk, more than the "
                             f"{human_bytes(free)} free in {folder}",
                             hint="free disk space, write to another disk, or ask for fewer samples")
