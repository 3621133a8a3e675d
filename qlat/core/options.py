"""Command-line options declared by the plug-ins themselves.

A theory or a sampler lists the parameters a user sets on the command line as :class:`Option`
objects (class attribute ``OPTIONS``); ``qlat sample`` adds the union of the options of every
registered theory and sampler, refuses an option that the chosen theory or sampler does not
declare, and passes the values on by ``dest``.  So a new theory or sampler brings its own flags
and no CLI module is edited.  Two plug-ins may declare the same flag (``--L``) if they declare
it identically.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qlat.core.errors import ParameterError


@dataclass(frozen=True)
class Option:
    """One command-line option of a plug-in.

    Attributes
    ----------
    flag: as the user types it (``"--beta"``).
    dest: the keyword the plug-in receives (``"beta"``).
    type: ``int``, ``float``, ``str`` (or another callable argparse accepts).
    help: the help text, with the unit and the allowed range.
    default: used when the flag is not given (``None``: the plug-in's own default or required).
    required: the plug-in cannot run without it.
    choices: allowed values, shown in ``--help``.
    """

    flag: str
    dest: str
    type: Callable[[str], Any] = float
    help: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] | None = None

    def add_to(self, parser: argparse.ArgumentParser | Any, *, owners: Sequence[str] = ()) -> None:
        """Add the flag to ``parser`` (default ``None`` so that "not given" can be told apart)."""
        text = self.help
        head, sep, rest = text.partition(": ")  # a help text that names its plug-ins already ("pf-hmc: …")
        named = {name.strip() for name in head.replace("/", ",").split(",")}
        if owners and sep and named & set(owners):
            text = rest  # … is prefixed once, below
        if owners:
            text = f"{'/'.join(owners)}: {text}"
        if self.default is not None and "default" not in text:
            text += f" (default {self.default})"
        if self.choices:
            text += f" [{', '.join(map(str, self.choices))}]"
        metavar = self.flag.lstrip("-").upper().replace("-", "_")
        parser.add_argument(self.flag, dest=self.dest, type=self.type, default=None, help=text, metavar=metavar)

    def value(self, namespace: argparse.Namespace | dict[str, Any]) -> Any:
        """The given value, else the default; checks ``required`` and ``choices`` naming the flag."""
        raw = namespace.get(self.dest) if isinstance(namespace, dict) else getattr(namespace, self.dest, None)
        value = self.default if raw is None else raw
        if value is None and self.required:
            raise ParameterError(self.flag, "is required here")
        if value is not None and self.choices is not None and value not in self.choices:
            raise ParameterError(self.flag, f"must be one of {', '.join(map(str, self.choices))}", value)
        return value


def merge_options(groups: Iterable[tuple[str, Sequence[Option]]]) -> dict[str, tuple[Option, list[str]]]:
    """flag → (option, owner names); the same flag declared differently is an error."""
    merged: dict[str, tuple[Option, list[str]]] = {}
    for owner, options in groups:
        for opt in options:
            if opt.flag in merged:
                known, owners = merged[opt.flag]
                if (known.dest, known.type) != (opt.dest, opt.type):
                    raise ParameterError(
                        "OPTIONS", f"{opt.flag} is declared differently by {owners[0]} and {owner}", opt.dest)
                owners.append(owner)
            else:
                merged[opt.flag] = (opt, [owner])
    return merged


def collect(options: Sequence[Option], namespace: argparse.Namespace | dict[str, Any]) -> dict[str, Any]:
    """``{dest: value}`` of ``options`` (defaults filled in, ``None`` left out)."""
    out = {}
    for opt in options:
        value = opt.value(namespace)
        if value is not None:
            out[opt.dest] = value
    return out


def refuse_foreign(
    namespace: argparse.Namespace, all_options: dict[str, tuple[Option, list[str]]],
    allowed: set[str], *, what: str,
) -> None:
    """Refuse any flag given on the command line that is not in ``allowed`` (flags)."""
    for flag, (opt, owners) in all_options.items():
        if flag in allowed:
            continue
        if getattr(namespace, opt.dest, None) is not None:
            raise ParameterError(flag, f"does not apply to {what} (it is for {', '.join(owners)})",
                                 hint=f"leave {flag} out, or use it with {' or '.join(owners)}")
