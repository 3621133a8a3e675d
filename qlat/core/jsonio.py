"""The one JSON encoding of qlat: Estimates, numpy values, tuples, and non-finite numbers.

Everything qlat writes as JSON (``--json`` output, result files, ensemble parameters, job
records) goes through :func:`jsonable`, so the same object is always written the same way:

- an object with ``to_dict()`` (:class:`~qlat.core.estimate.Estimate`, results) → its dict;
- numpy scalars/arrays → Python numbers/lists; tuples and sets → lists; mapping keys → str;
- non-finite floats → the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON has no
  Infinity/NaN literal; :func:`dumps` refuses to write one), read back by :func:`finite_or_special`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

_SPECIAL = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "Infinity": math.inf, "-Infinity": -math.inf,
            "NaN": math.nan}


def jsonable(obj: Any) -> Any:
    """A JSON-ready copy of ``obj`` (see the module docstring for the rules)."""
    import numpy as np

    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps(jsonable(obj))``, strict (no NaN/Infinity literals)."""
    return json.dumps(jsonable(obj), allow_nan=False, **kwargs)


def canonical(obj: Any) -> str:
    """Sorted keys, no spaces: the stored and hashed form of parameters."""
    return dumps(obj, sort_keys=True, separators=(",", ":"))


def finite_or_special(value: Any) -> Any:
    """A number written by :func:`jsonable` read back (``"inf"`` → ``math.inf``), else unchanged."""
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    return value
