"""Output folders that two writers can never share: a lock while writing, a manifest of the run.

A command that writes results it may later resume (``flow train --out``, ``slmc train --out``,
``schwinger scan --out``) claims its folder with :func:`claim_output_dir`:

1. the folder is created if missing (its parent must exist);
2. an exclusive, non-blocking ``flock`` on ``.qlat-lock`` inside it is taken and held until the
   run ends (released by the kernel if the process dies) — a second writer at the same time is
   refused at once: "another qlat process is writing there";
3. under the lock the manifest ``qlat-run.json`` (command, parameters, their sha256) is read: if
   there is none the folder must hold nothing else of substance and the manifest is written; if
   its parameters differ from this run's the claim is refused naming the first parameter that
   differs; if they are equal the run resumes.

So of two runs started on one new folder with different parameters exactly one wins and the other
exits with one line; with equal parameters the second resumes what the first finished.  A claim
that is refused changes nothing in the folder (a folder it created itself is removed again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError

MANIFEST = "qlat-run.json"
LOCK = ".qlat-lock"


def _first_difference(stored: Any, wanted: Any, prefix: str = "") -> str | None:
    if isinstance(stored, dict) and isinstance(wanted, dict):
        for key in sorted(set(stored) | set(wanted)):
            found = _first_difference(stored.get(key), wanted.get(key), f"{prefix}{key}.")
            if found:
                return found
        return None
    norm = (lambda v: list(v) if isinstance(v, tuple) else v)
    return None if norm(stored) == norm(wanted) else prefix.rstrip(".")


@dataclass
class OutputDir:
    """A claimed output folder; the lock is held until :meth:`release` (or the ``with`` block ends)."""

    path: Path
    manifest: dict[str, Any]
    resumed: bool
    _fd: int | None = None

    def remove_stale_temporaries(self) -> list[str]:
        """Remove the temporary files (``.NAME.*.tmp`` of :func:`qlat.core.files.atomic_write_bytes`) that a
        killed run left in the folder; safe because this claim holds the folder's lock.  Returns their names."""
        removed = []
        for stale in self.path.glob(".*.tmp"):
            try:
                stale.unlink()
                removed.append(stale.name)
            except OSError:
                pass
        return removed

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> "OutputDir":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def claim_output_dir(path: str | os.PathLike[str], *, command: str, params: Mapping[str, Any], flag: str,
                     names: Mapping[str, str] | None = None, ignore: tuple[str, ...] = ()) -> OutputDir:
    """Claim ``path`` for a run of ``command`` with ``params`` (JSON-ready); see the module docstring.

    ``flag`` names the folder in errors (``--out``); ``names`` maps a parameter key to the flag
    that sets it, for the "differs" error; ``ignore`` lists file names (or glob patterns) that may already
    be in a folder without a manifest (e.g. a log the command itself writes first, or the files of a
    model written before manifests existed).
    """
    from qlat.core.files import atomic_write_bytes
    from qlat.core.jsonio import canonical, dumps

    folder = Path(path)
    if folder.is_symlink() and not folder.exists():
        raise ParameterError(flag, "is a dangling symbolic link", str(folder))
    if folder.exists() and not folder.is_dir():
        raise ParameterError(flag, "exists and is not a folder", str(folder))
    if not folder.parent.is_dir():
        raise ParameterError(flag, "its parent folder does not exist", str(folder),
                             hint=f"create {folder.parent} first, or give another {flag}")
    wanted = json.loads(canonical(params))
    if folder.is_dir():
        # a folder that holds another run or foreign files is refused before the lock file is created
        # in it (a refusal alters nothing); only a refusal is decided here, acceptance under the lock
        _stored_run(folder, command=command, wanted=wanted, flag=flag, names=names, ignore=ignore)
    created = False
    try:
        folder.mkdir()
        created = True
    except FileExistsError:
        pass
    except OSError as exc:
        raise ParameterError(flag, f"cannot create the folder ({exc.strerror or exc})", str(folder)) from None

    def undo() -> None:
        if created:
            for leftover in (folder / LOCK,):
                leftover.unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:
                pass

    try:
        fd = lock_folder(folder, flag=flag)
    except FolderBusyError:
        # another writer holds the folder now (it may have found the folder this process just made):
        # it is that writer's, so it is left alone; removing it would pull the folder from under it
        raise
    except ParameterError:
        undo()
        raise
    digest = __import__("hashlib").sha256(canonical({"command": command, "params": wanted}).encode()).hexdigest()
    manifest_path = folder / MANIFEST
    try:
        stored = _stored_run(folder, command=command, wanted=wanted, flag=flag, names=names, ignore=ignore)
        if stored is not None:
            return OutputDir(folder, stored, True, fd)
        manifest = {"command": command, "params": wanted, "sha256": digest}
        atomic_write_bytes(manifest_path, (dumps(manifest, indent=2) + "\n").encode())
        return OutputDir(folder, manifest, False, fd)
    except BaseException:
        os.close(fd)
        undo()
        raise


class FolderBusyError(ParameterError):
    """Another qlat process holds the folder's lock (:func:`lock_folder`)."""


def lock_folder(folder: str | os.PathLike[str], *, flag: str) -> int:
    """Take the exclusive, non-blocking ``flock`` on ``folder/.qlat-lock`` (created if missing) and return its
    descriptor; closing it releases the lock (the kernel does if the process dies).  A second writer is
    refused at once: ParameterError naming ``flag`` ("another qlat process is writing to this folder now").
    The one lock of every qlat output folder (:func:`claim_output_dir`, ``qlat calibrate``)."""
    import fcntl

    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ParameterError(flag, f"cannot write there ({exc.strerror or exc})", str(folder)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderBusyError(flag, "another qlat process is writing to this folder now; wait for it or use "
                              "another folder", str(folder)) from None
    return fd


def stored_params(path: str | os.PathLike[str], *, command: str) -> dict[str, Any] | None:
    """The parameters of the ``command`` run recorded in folder ``path`` (its manifest), or None if it has
    none (or a damaged one: :func:`claim_output_dir` refuses that).  Read-only; for a command that fills in
    a parameter the user left out (a seed) from the run it resumes."""
    try:
        stored = json.loads((Path(path) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("command") != command or not isinstance(stored.get("params"), dict):
        return None
    return stored["params"]


def _stored_run(folder: Path, *, command: str, wanted: Any, flag: str, names: Mapping[str, str] | None,
                ignore: tuple[str, ...]) -> dict[str, Any] | None:
    """The folder's manifest if it holds this run (resume), None if it holds nothing of substance;
    ParameterError if it holds another run, a damaged manifest or foreign files.  The files are
    listed before the manifest is read, so a file listed without a manifest predates any qlat run."""
    import fnmatch

    others = [p.name for p in folder.iterdir()
              if p.name != LOCK and not p.name.startswith(".") and not any(fnmatch.fnmatch(p.name, g) for g in ignore)]
    manifest_path = folder / MANIFEST
    if manifest_path.exists():
        try:
            stored = json.loads(manifest_path.read_text())
            ok = isinstance(stored, dict) and isinstance(stored.get("params"), dict)
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(flag, f"{manifest_path} is not a qlat run manifest (damaged or foreign)",
                                 str(folder), hint="use a new folder")
        if stored.get("command") != command:
            raise ParameterError(flag, f"holds a '{stored.get('command')}' run, not '{command}'", str(folder),
                                 hint=f"use a new folder for '{command}'")
        key = _first_difference(stored["params"], wanted)
        if key is not None:
            shown = (names or {}).get(key, key)
            raise ParameterError(flag, f"holds a run with other parameters ({shown}: stored "
                                 f"{_lookup(stored['params'], key)!r}, now {_lookup(wanted, key)!r})", str(folder),
                                 hint="rerun with the same parameters to resume it, or use a new folder")
        return stored
    others = [name for name in others if name != MANIFEST]
    if others:
        raise ParameterError(flag, f"is not empty and was not written by qlat {command} (it holds "
                             f"{', '.join(sorted(others)[:3])}{' …' if len(others) > 3 else ''})", str(folder),
                             hint="use a new folder")
    return None


def _lookup(data: Any, key: str) -> Any:
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data
