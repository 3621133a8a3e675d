"""Errors that name what went wrong, so the command line can print one line and exit 2."""

from __future__ import annotations

from typing import Any


class QlatError(Exception):
    """Base class for errors that qlat raises on purpose (never a bug)."""


class ParameterError(QlatError, ValueError):
    """A parameter is out of its allowed range.

    The message always names the parameter, what is allowed and what was given, e.g.
    ``n_sites: must be even and >= 2 (got 7)``, and, where there is one, how to fix it
    (``hint``), on the same line after a semicolon:
    ``theory: unknown theory; known: phi4, u1 (got 'ising'); hint: register one with
    @THEORIES.register(...) and an entry point (docs/architecture.md)``.
    The CLI prints it as one line and exits 2.
    """

    def __init__(self, parameter: str, requirement: str, value: Any = None, *, hint: str | None = None) -> None:
        self.parameter = parameter
        self.requirement = requirement
        self.value = value
        self.hint = " ".join(hint.split()) if hint else None
        got = "" if value is None else f" (got {value!r})"
        fix = f"; hint: {self.hint}" if self.hint else ""
        super().__init__(f"{parameter}: {requirement}{got}{fix}")

    def renamed(self, parameter: str, requirement: str | None = None) -> "ParameterError":
        """The same error naming ``parameter`` (a command-line flag) instead, hint and value kept."""
        return ParameterError(parameter, self.requirement if requirement is None else requirement, self.value,
                              hint=self.hint)


class NoRealizationError(QlatError, NotImplementedError):
    """An observable has no realization on the requested backend or model.

    Raised instead of returning a silent zero (docs/architecture.md: "an observable that has no realization
    for a backend says so with a clear error").
    """


class CorruptFileError(QlatError, OSError):
    """A file on disk is truncated, tampered with, or not what it claims to be."""


def require(condition: bool, parameter: str, requirement: str, value: Any = None, *,
            hint: str | None = None) -> None:
    """Raise :class:`ParameterError` (with the how-to-fix ``hint``, if given) unless ``condition`` holds."""
    if not condition:
        raise ParameterError(parameter, requirement, value, hint=hint)


def _is_int(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def require_int(value: Any, parameter: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``int(value)`` if it is an integer (not a bool) in [minimum, maximum]; else ParameterError."""
    ok = _is_int(value) and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        if minimum is not None and maximum is not None:
            what = f"must be an integer in [{minimum}, {maximum}]"
        elif minimum is not None:
            what = f"must be an integer >= {minimum}"
        elif maximum is not None:
            what = f"must be an integer <= {maximum}"
        else:
            what = "must be an integer"
        raise ParameterError(parameter, what, value)
    return int(value)


def require_finite(value: Any, parameter: str) -> float:
    """``float(value)`` if it is a finite real number; else ParameterError."""
    import math

    try:
        number = float(value)
        ok = math.isfinite(number) and not isinstance(value, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(parameter, "must be a finite number", value)
    return number


def require_positive(value: Any, parameter: str, *, allow_zero: bool = False) -> float:
    """``float(value)`` if it is finite and > 0 (>= 0 with ``allow_zero``); else ParameterError."""
    import math

    try:
        number = float(value)
        ok = math.isfinite(number) and (number >= 0 if allow_zero else number > 0) and not isinstance(value, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(parameter, f"must be a finite number {'>=' if allow_zero else '>'} 0", value)
    return number


class QlatWarning(UserWarning):
    """A number qlat reports but whose error bar cannot be fully trusted (printed on stderr)."""


def warn(message: str, *, stacklevel: int = 2) -> None:
    """Issue a :class:`QlatWarning` (the CLI prints ``qlat: warning: ...`` on stderr)."""
    import warnings

    warnings.warn(message, QlatWarning, stacklevel=stacklevel + 1)
