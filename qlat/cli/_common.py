"""Shared helpers of the command-line modules: JSON output and tables."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Iterable, Mapping

from qlat.core.estimate import Estimate


def jsonable(obj: Any) -> Any:
    """Turn Estimates, numpy scalars/arrays and nested containers into JSON-ready objects."""
    import numpy as np

    if isinstance(obj, Estimate):
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(obj), indent=2) + "\n")


def format_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A plain aligned text table (Estimates print as value(error))."""
    body = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(out)
