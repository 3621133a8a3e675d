"""Errors that name what went wrong, so the command line can print one line and exit 2."""

from __future__ import annotations

from typing import Any


class QlatError(Exception):
    """Base class for errors that qlat raises on purpose (never a bug)."""


class ParameterError(QlatError, ValueError):
    """A parameter is out of its allowed range.

    The message always names the parameter, what is allowed and what was given, e.g.
    ``n_sites: must be even and >= 2 (got 7)``.  The CLI prints it as one line and exits 2.
    """

    def __init__(self, parameter: str, requirement: str, value: Any = None) -> None:
        self.parameter = parameter
        self.requirement = requirement
        self.value = value
        got = "" if value is None else f" (got {value!r})"
        super().__init__(f"{parameter}: {requirement}{got}")


class NoRealizationError(QlatError, NotImplementedError):
    """An observable has no realization on the requested backend or model.

    Raised instead of returning a silent zero (docs/architecture.md: "an observable that has no realization
    for a backend says so with a clear error").
    """


class CorruptFileError(QlatError, OSError):
    """A file on disk is truncated, tampered with, or not what it claims to be."""


def require(condition: bool, parameter: str, requirement: str, value: Any = None) -> None:
    """Raise :class:`ParameterError` unless ``condition`` holds."""
    if not condition:
        raise ParameterError(parameter, requirement, value)
