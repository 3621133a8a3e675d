"""Files qlat reads back, checked against a small schema: malformed content is one line naming the file.

A file a user may hand in or edit — a job-store row, the circuits manifest, a cluster config, a
scan log entry — is parsed with :func:`load_json` / :func:`parse_json` / :func:`check` and a
*spec* of what it must hold.  Anything else (not JSON, a list where an object belongs, a missing
key, a string where a number belongs, content a constructor refuses) raises
:class:`MalformedFileError`, whose one-line message names the flag that gave the file, the file,
and where in it the problem is::

    --out: circuits/manifest.json: circuits[2].file: missing
    --store: /data/jobs.sqlite: job 3f2a9c01 results.energy: not an Estimate (unknown Estimate fields ['x'])

Specs are plain Python values:

- a type or a tuple of types: ``str``, ``int``, ``float``, ``bool``, ``dict``, ``list``,
  ``type(None)``; ``bool`` is never an ``int`` or a ``float``, an ``int`` is a ``float``;
- ``{"key": spec, "optional?": spec}``: a JSON object with these keys (a key ending in ``?`` may be
  missing); other keys are allowed unless it is an :class:`Obj` with ``closed=True``;
- ``[spec]``: a JSON array whose every item matches ``spec``;
- :class:`MapOf` (an object with any keys, every value matching), :class:`Where` (a predicate with
  its description), :class:`Build` (a constructor such as ``Estimate.from_dict``; whatever it
  raises on the data becomes a :class:`MalformedFileError`), :data:`ANY`.

:func:`check` returns the data with every :class:`Build` applied, so reading and validating are
one step.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qlat.core.errors import CorruptFileError, ParameterError


class MalformedFileError(ParameterError, CorruptFileError):
    """A file's content does not match what qlat expects there (one line: flag, file, place, problem).

    It is a :class:`ParameterError` whose parameter is the flag (or library parameter) that named
    the file — so the CLI's flag mapping applies — and a :class:`CorruptFileError`.
    """

    def __init__(self, file: str | os.PathLike[str], problem: str, *, flag: str | None = None, where: str = "") -> None:
        self.file = str(file)
        self.where = where
        self.problem = problem
        place = f"{where}: " if where else ""
        if flag is None:  # no flag: the message starts with the file
            ParameterError.__init__(self, self.file, f"{place}{problem}")
        else:
            ParameterError.__init__(self, flag, f"{self.file}: {place}{problem}")


@dataclass(frozen=True)
class Obj:
    """A JSON object with ``fields`` (``"key?"`` optional); ``closed``: no other keys allowed."""

    fields: Mapping[str, Any]
    closed: bool = False


@dataclass(frozen=True)
class MapOf:
    """A JSON object whose keys are strings and whose every value matches ``value``."""

    value: Any


@dataclass(frozen=True)
class Where:
    """Data that matches ``spec`` and for which ``test(data)`` is true (``what`` says what is expected)."""

    spec: Any
    test: Callable[[Any], bool]
    what: str


@dataclass(frozen=True)
class Build:
    """Data that matches ``spec`` and that ``make(data)`` turns into an object (``what`` names it); what
    ``make`` raises on it (``errors``) is malformed content."""

    make: Callable[[Any], Any]
    what: str
    spec: Any = None
    errors: tuple[type[BaseException], ...] = field(default=(ValueError, TypeError, KeyError, AttributeError))


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: Any JSON value.
ANY: Any = _Any()

#: A finite JSON number (not a bool).
FINITE = Where((int, float), lambda v: math.isfinite(v), "a finite number")
#: A non-negative integer (not a bool).
COUNT = Where(int, lambda v: v >= 0, "an integer >= 0")
#: A file name without folders (no ``/``, not ``..``): what a manifest may point at inside its folder.
PLAIN_NAME = Where(str, lambda v: bool(v) and "/" not in v and "\\" not in v and v not in (".", ".."),
                   "a file name without folders")
#: A hex sha256 digest.
SHA256 = Where(str, lambda v: len(v) == 64 and all(c in "0123456789abcdef" for c in v), "a sha256 hex digest")

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object",
               list: "an array", type(None): "null"}


def _describe(spec: Any) -> str:
    if isinstance(spec, tuple):
        return " or ".join(_describe(s) for s in spec)
    if isinstance(spec, type):
        return _TYPE_NAMES.get(spec, spec.__name__)
    if isinstance(spec, (dict, Obj, MapOf)):
        return "an object"
    if isinstance(spec, list):
        return "an array"
    if isinstance(spec, (Where, Build)):
        return spec.what
    return "a value"


def _shown(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    if isinstance(value, (dict, list)):
        text = "an object" if isinstance(value, dict) else "an array"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


class _Mismatch(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where = where
        self.problem = problem


def _join(where: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _hint(key: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(close)}?"
    names = sorted(known)
    return "known: " + ", ".join(names[:12]) + (f" … ({len(names)} in all)" if len(names) > 12 else "")


def _check(data: Any, spec: Any, where: str) -> Any:
    if spec is ANY:
        return data
    if isinstance(spec, (type, tuple)):
        types = spec if isinstance(spec, tuple) else (spec,)
        if not _is_type(data, types):
            raise _Mismatch(where, f"must be {_describe(spec)}, not {_shown(data)}")
        return data
    if isinstance(spec, dict):
        spec = Obj(spec)
    if isinstance(spec, Obj):
        if not isinstance(data, dict):
            raise _Mismatch(where, f"must be an object, not {_shown(data)}")
        out = dict(data)
        known = set()
        for raw_key, sub in spec.fields.items():
            optional = raw_key.endswith("?")
            key = raw_key[:-1] if optional else raw_key
            known.add(key)
            if key not in data:
                if optional:
                    continue
                raise _Mismatch(_join(where, key), "missing")
            out[key] = _check(data[key], sub, _join(where, key))
        if spec.closed:
            extra = sorted(str(k) for k in data if k not in known)
            if extra:
                raise _Mismatch(where, f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
                                f"({_hint(extra[0], known)})")
        return out
    if isinstance(spec, MapOf):
        if not isinstance(data, dict):
            raise _Mismatch(where, f"must be an object, not {_shown(data)}")
        return {k: _check(v, spec.value, _join(where, k)) for k, v in data.items()}
    if isinstance(spec, list):
        if not isinstance(data, list):
            raise _Mismatch(where, f"must be an array, not {_shown(data)}")
        return [_check(item, spec[0], _join(where, i)) for i, item in enumerate(data)]
    if isinstance(spec, Where):
        value = _check(data, spec.spec, where)
        if not spec.test(value):
            raise _Mismatch(where, f"must be {spec.what}, not {_shown(data)}")
        return value
    if isinstance(spec, Build):
        if spec.spec is not None:
            data = _check(data, spec.spec, where)
        try:
            return spec.make(data)
        except spec.errors as exc:
            raise _Mismatch(where, f"not {spec.what} ({exc})") from None
    raise TypeError(f"not a schema spec: {spec!r}")  # a bug in qlat, not in the file


def check(data: Any, spec: Any, *, file: str | os.PathLike[str], flag: str | None = None, where: str = "") -> Any:
    """``data`` checked against ``spec`` (constructors applied); :class:`MalformedFileError` otherwise.

    ``file`` and ``flag`` name the file in the error; ``where`` is the place of ``data`` inside it
    (e.g. ``"job 3f2a9c01 results"``).
    """
    try:
        return _check(data, spec, "")
    except _Mismatch as exc:
        place = where + ("" if not (where and exc.where) or exc.where.startswith("[") else ".") + exc.where
        raise MalformedFileError(file, exc.problem, flag=flag, where=place) from None


def parse_json(text: str | bytes, spec: Any, *, file: str | os.PathLike[str], flag: str | None = None,
               where: str = "") -> Any:
    """JSON ``text`` (from ``file``) checked against ``spec``; :class:`MalformedFileError` if not JSON or not matching."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        problem = f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})" if isinstance(
            exc, json.JSONDecodeError) else f"not valid JSON ({exc})"
        raise MalformedFileError(file, problem, flag=flag, where=where) from None
    return check(data, spec, file=file, flag=flag, where=where)


def load_json(path: str | os.PathLike[str], spec: Any, *, flag: str | None = None) -> Any:
    """The JSON file ``path`` checked against ``spec``; one-line :class:`MalformedFileError` on any problem."""
    p = Path(path)
    if p.is_dir():
        raise MalformedFileError(p, "is a folder, not a JSON file", flag=flag)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise MalformedFileError(p, "no such file", flag=flag) from None
    except OSError as exc:
        raise MalformedFileError(p, f"cannot be read ({exc.strerror or exc})", flag=flag) from None
    return parse_json(raw, spec, file=p, flag=flag)
