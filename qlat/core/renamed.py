"""Import shims for modules renamed to say what they hold (the changelog lists each rename).

A shim module keeps its old import path working for one release: every name read from it comes
from the new module and emits a :class:`DeprecationWarning` naming the new path::

    __getattr__ = renamed_module("qlat.core.observable", "qlat.core.observable_registry")

Importing the old module alone warns nothing (documentation tools walk every module); reading a
name from it does, at the reader's line.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def renamed_module(old: str, new: str) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of the shim at ``old``: names come from ``new``, with a warning."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(new), name)
        warnings.warn(f"{old} is renamed {new}; import {name} from {new} (the old path goes in a later release)",
                      DeprecationWarning, stacklevel=2)
        return value

    return __getattr__
