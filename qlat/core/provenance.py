"""Provenance and seeding: what a result needs to be reproduced."""

from __future__ import annotations

import datetime as _dt
import platform
from typing import TYPE_CHECKING, Any

from qlat._version import __version__
from qlat.core.errors import require_int

if TYPE_CHECKING:
    import numpy as np


def provenance(**items: Any) -> dict[str, Any]:
    """A provenance record: qlat version, time (UTC), Python and platform, plus ``items``.

    Never put secrets (IBM tokens) in here: provenance is written to disk and printed.
    """
    record: dict[str, Any] = {
        "qlat_version": __version__,
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    record.update(items)
    return record


def make_rng(seed: int | None) -> "np.random.Generator":
    """A numpy Generator from a non-negative integer seed (``None``: fresh OS entropy)."""
    if seed is not None:
        require_int(seed, "seed", minimum=0)
    import numpy as np

    return np.random.default_rng(seed)
