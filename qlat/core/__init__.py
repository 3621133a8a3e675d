"""Core layer: Estimate, Observable interface, errors, provenance (imports nothing above core)."""

from qlat.core.errors import CorruptFileError, NoRealizationError, ParameterError, QlatError
from qlat.core.estimate import Estimate, format_value_error
from qlat.core.observable_registry import OBSERVABLES, Observable, define

__all__ = [
    "CorruptFileError",
    "Estimate",
    "NoRealizationError",
    "OBSERVABLES",
    "Observable",
    "ParameterError",
    "QlatError",
    "define",
    "format_value_error",
]
