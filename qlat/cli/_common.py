"""Shared helpers of the command-line modules: JSON output and tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from qlat.analysis.tables import format_table as format_table  # re-exported for the commands
from qlat.core.errors import ParameterError


class LazyHelp(str):
    """A help text built only when help is printed (e.g. a list of plug-ins that needs imports).

    It is an (empty) ``str`` to argparse; the ``qlat`` parser replaces it by ``build()`` in
    ``format_help``, so building a parser to run a command, or to report a bad flag, imports
    nothing the help text needs (issue 12: start-up).
    """

    build: Callable[[], str]

    def __new__(cls, build: Callable[[], str]) -> LazyHelp:
        obj = super().__new__(cls, "")
        obj.build = build
        return obj


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

    folder = Path(path)
    if folder.is_symlink() and not folder.exists():
        raise ParameterError(flag, "is a dangling symbolic link", str(path))
    if folder.exists() and not folder.is_dir():
        raise ParameterError(flag, "exists and is not a folder", str(path))
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        probe = Path(path) / ".qlat-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError(flag, f"cannot write there ({exc.strerror or exc})", str(path)) from None


def jsonable(obj: Any) -> Any:
    """The one JSON encoding (:func:`qlat.core.jsonio.jsonable`)."""
    from qlat.core.jsonio import jsonable as _jsonable

    return _jsonable(obj)


def print_json(obj: Any) -> None:
    from qlat.core.jsonio import dumps

    sys.stdout.write(dumps(obj, indent=2) + "\n")
