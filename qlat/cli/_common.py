"""Shared helpers of the command-line modules: JSON output and tables."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Mapping

from qlat.core.errors import ParameterError
from qlat.analysis.tables import format_table as format_table  # re-exported for the commands
from qlat.core.estimate import Estimate


def with_flag_names(mapping: Mapping[str, str]):
    """Decorate a command so that library errors name the command-line flag, not the parameter.

    ``ParameterError("dt", ...)`` from the library becomes ``ParameterError("--dt", ...)`` when
    ``mapping = {"dt": "--dt"}``; other errors pass unchanged.
    """
    import functools

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(args):
            try:
                return fn(args)
            except ParameterError as exc:
                flag = mapping.get(exc.parameter)
                if flag is None:
                    raise
                raise ParameterError(flag, exc.requirement, exc.value) from None

        return wrapper

    return decorator


def ensure_output_dir(path: Any, flag: str) -> None:
    """Create the output directory now (before any long computation), or fail naming ``flag``."""
    from pathlib import Path

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        probe = Path(path) / ".qlat-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError(flag, f"cannot write there ({exc.strerror or exc})", str(path)) from None


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
