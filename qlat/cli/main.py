"""Entry point of the ``qlat`` command.

Each sub-command lives in its own module ``qlat.cli.<name>`` exposing
``register(subparsers) -> None``; the parser it adds sets ``func=callable(args) -> int``.  The
modules are found in the package (a new command is one new module; ``HELP_ORDER`` in the module
places it in ``qlat --help``, default last).  Only the command being run is registered in full;
the others appear in ``qlat --help`` by their one-line ``HELP`` (so ``qlat schwinger`` never
imports what ``qlat sample`` needs, and a bad flag is reported before heavy imports).
Errors that qlat raises on purpose (:class:`~qlat.core.errors.QlatError`, bad arguments) are
printed as one line ``qlat: error: ...`` with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from qlat._version import __version__
from qlat.core.errors import QlatError

#: Options of ``qlat`` itself (before the COMMAND).
GLOBAL_OPTIONS = ("-h", "--help", "--version", "-q", "--quiet", "-v", "--verbose")


def command_modules() -> list[str]:
    """Names of the sub-command modules of :mod:`qlat.cli`, in ``qlat --help`` order."""
    import pkgutil

    import qlat.cli

    found = []
    for info in pkgutil.iter_modules(qlat.cli.__path__):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"qlat.cli.{info.name}")
        if callable(getattr(module, "register", None)):
            found.append((int(getattr(module, "HELP_ORDER", 100)), info.name))
    return [name for _, name in sorted(found)]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (its default prints usage too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"qlat: error: {message}\n")
        raise SystemExit(2)

    def format_help(self) -> str:
        from qlat.cli._common import LazyHelp

        for action in self._actions:
            if isinstance(action.help, LazyHelp):
                action.help = action.help.build()
        return super().format_help()


def _requested(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (the first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``qlat`` parser; with ``argv``, only the command it names is registered in full."""
    parser = _Parser(prog="qlat", description="Lattice field theory, classical and quantum.")
    parser.add_argument("--version", action="version", version=f"qlat {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no informational lines on stderr (warnings and errors still)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="with an error, also print its traceback (for a bug report)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    wanted = None if argv is None else _requested(argv)
    for name in command_modules():
        module = importlib.import_module(f"qlat.cli.{name}")
        short = getattr(module, "HELP", None)
        if argv is None or name == wanted or short is None:
            import inspect

            if "argv" in inspect.signature(module.register).parameters:  # e.g. per-theory help of qlat sample
                module.register(sub, argv=list(argv or ()))
            else:
                module.register(sub)
        else:
            sub.add_parser(name, help=short)
    return parser


def _active_bars() -> list:
    """The progress bars (tqdm) drawn on the terminal now, if tqdm is loaded at all."""
    module = sys.modules.get("tqdm")
    return list(getattr(getattr(module, "tqdm", None), "_instances", None) or ()) if module is not None else []


def _clear_progress() -> str:
    """Close every progress bar still drawn, so that an error starts on a line of its own; returns
    the carriage return that brings the cursor back to the line's start ("" if no bar was drawn)."""
    bars = _active_bars()
    for bar in bars:
        try:
            bar.close()
        except Exception:  # noqa: BLE001 — a bar that cannot close must not hide the error
            pass
    return "\r" if bars else ""


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line on stderr: ``qlat: warning: …`` (qlat's own), ``warning: …`` (others).

    A multi-line message (third-party libraries write several) is folded into one line; while a
    progress bar is drawn the line goes above it (``tqdm.write``), never onto the bar's line.
    """
    from qlat.core.errors import QlatWarning

    prefix = "qlat: warning" if issubclass(category, QlatWarning) else f"warning ({category.__name__})"
    text = f"{prefix}: {' '.join(str(message).split())}"
    if _active_bars():
        sys.modules["tqdm"].tqdm.write(text, file=sys.stderr)
    else:
        sys.stderr.write(text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    warnings.showwarning = _show_warning
    words = list(sys.argv[1:] if argv is None else argv)
    for word in words:  # options before the COMMAND: only qlat's own
        if not word.startswith("-"):
            break
        if word not in GLOBAL_OPTIONS and not (len(word) > 1 and set(word[1:]) <= {"q", "v"}):
            sys.stderr.write(f"qlat: error: {word}: unrecognized option (options go after the COMMAND, except "
                             "-q/--quiet and -v/--verbose; see qlat --help)\n")
            return 2
    try:
        parser = build_parser(words)
    except QlatError as exc:  # a broken plug-in: one line, not a traceback
        sys.stderr.write(f"qlat: error: {exc}\n")
        return 2
    args = parser.parse_args(words)
    from qlat.cli._common import VERBOSITY

    VERBOSITY.quiet, VERBOSITY.verbose = bool(args.quiet), int(args.verbose)
    try:
        return int(args.func(args) or 0)
    except QlatError as exc:
        cleared = _clear_progress()
        if VERBOSITY.verbose:
            import traceback

            traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"{cleared}qlat: error: {' '.join(str(exc).split())}\n")
        return 2
    except BrokenPipeError:  # `qlat … | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write(_clear_progress() + "qlat: interrupted; finished results were saved where the command says\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
