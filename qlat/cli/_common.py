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
                raise exc.renamed(flag) from None

        return wrapper

    return decorator


def ensure_output_dir(path: Any, flag: str) -> None:
    """Create the output directory now (before any long computation), or fail naming ``flag``."""
    from pathlib import Path

    check_out_folder(path, flag)
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


# ------------------------------------------------------------------------------- the grammar (docs/cli.md)
class _Verbosity:
    """``qlat -q`` / ``qlat -v``: set once by :func:`qlat.cli.main.main` for the command it runs."""

    quiet: bool = False
    verbose: int = 0


VERBOSITY = _Verbosity()


def info(message: str) -> None:
    """An informational line on stderr (``qlat: …``), silenced by ``qlat -q`` (warnings and errors are not)."""
    if not VERBOSITY.quiet:
        sys.stderr.write(f"qlat: {message}\n")


def add_progress_flag(parser: Any) -> None:
    """``--no-progress``: every command that draws progress has it (bars are drawn on a terminal only)."""
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars or lines on stderr (they are drawn only when stderr is a terminal)")


def show_progress(args: Any) -> bool:
    """Whether to draw progress: stderr is a terminal and ``--no-progress`` was not given (docs/cli.md)."""
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def add_seed_flag(parser: Any, what: str) -> None:
    """``--seed`` with the one default of docs/cli.md: drawn at random, printed and recorded."""
    parser.add_argument("--seed", type=int, default=None,
                        help=f"seed of {what} (>= 0; default: drawn at random, printed and recorded in the results)")


def draw_seed() -> int:
    """A fresh seed in [0, 2^31) from the operating system's entropy."""
    import os

    return int.from_bytes(os.urandom(4), "little") >> 1


def resolve_seed(args: Any, *, stored: int | None = None, announce: bool = True) -> int:
    """``args.seed`` checked (>= 0), or — not given — the ``stored`` one of the run being resumed, or a
    fresh one; a seed this function chose is set on ``args`` and printed (``qlat: --seed not given: …``),
    at once or — ``announce=False``, when more checks follow — by :func:`announce_seed` once they passed."""
    if args.seed is not None and not getattr(args, "_seed_note", None):
        if not (isinstance(args.seed, int) and args.seed >= 0):
            raise ParameterError("--seed", "must be an integer >= 0", args.seed)
        return int(args.seed)
    if args.seed is not None:  # chosen by an earlier call
        return int(args.seed)
    if stored is not None:
        args.seed = int(stored)
        args._seed_note = f"--seed not given: seed {args.seed} of the run being resumed"
    else:
        args.seed = draw_seed()
        args._seed_note = (f"--seed not given: drew seed {args.seed} (recorded in the results; --seed {args.seed} "
                           "repeats the run)")
    if announce:
        announce_seed(args)
    return int(args.seed)


def announce_seed(args: Any) -> None:
    """Print the note of a seed :func:`resolve_seed` chose (once), on stderr (silenced by ``qlat -q``)."""
    note = getattr(args, "_seed_note", None)
    if note:
        info(note)
        args._seed_note = ""


def add_out_flag(parser: Any, what: str, *, default: Any = None, required: bool = False) -> None:
    """``--out DIR``: always a folder (docs/cli.md)."""
    from pathlib import Path

    shown = "" if default is None else f" (default ./{default})"
    parser.add_argument("--out", type=Path, default=None if default is None else Path(default), required=required,
                        metavar="DIR", help=f"output folder: {what}{shown}")


def write_json_result(folder: Any, name: str, result: Any) -> None:
    """``result`` as JSON into ``folder/name`` (the folder made if missing), atomically; says where."""
    import json

    from qlat.core.files import atomic_write_bytes

    ensure_output_dir(folder, "--out")
    atomic_write_bytes(folder / name, (json.dumps(jsonable(result), indent=2) + "\n").encode())
    info(f"wrote {folder / name}")


def check_out_folder(path: Any, flag: str = "--out", *, parent: bool = False) -> None:
    """``--out`` names a folder, not a file: refused (before anything is created) when it exists as a file,
    is a dangling link, or ends in a file suffix such as ``.h5`` / ``.json``; with ``parent``, also when
    its parent folder does not exist."""
    from pathlib import Path

    folder = Path(path)
    if folder.is_symlink() and not folder.exists():
        raise ParameterError(flag, "is a dangling symbolic link", str(path))
    if folder.exists() and not folder.is_dir():
        raise ParameterError(flag, "exists and is not a folder (--out is always a folder, docs/cli.md)", str(path))
    if not folder.exists() and folder.suffix.lower() in (".h5", ".hdf5", ".json", ".csv", ".png", ".qasm", ".pt"):
        raise ParameterError(flag, f"must be a folder, not a file name (docs/cli.md): the command writes its files "
                             f"inside it, e.g. {flag} {folder.with_suffix('')}", str(path))
    if parent and not (folder.is_dir() or folder.parent.is_dir()):
        raise ParameterError(flag, "its parent folder does not exist", str(path),
                             hint=f"create {folder.parent} first, or give another {flag}")
