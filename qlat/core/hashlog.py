"""An append-only JSON-lines log with a hash chain: resume data that refuses to be edited.

Each line is ``{"entry": …, "prev": h_{k−1}, "hash": h_k}`` with
``h_k = sha256(h_{k−1} ‖ canonical(entry))`` and ``h_0 = sha256(header)`` (the header names the
log's kind, so a log of one kind is not taken for another).  :meth:`HashChainLog.load` checks
every link and raises :class:`~qlat.core.errors.CorruptFileError` naming the file and the line on
the first mismatch — an edited, reordered or foreign line is refused, not silently reused.  A last
line cut by a crash (no newline at the end, not JSON) is dropped and cut off before the next
append, so only the point being written when the process died is computed again.  Like the
ensembles' hash chain it protects against corruption and accidental edits, not against someone
who recomputes the hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from qlat.core.errors import CorruptFileError


def _link(prev: str, entry: Any) -> str:
    from qlat.core.jsonio import canonical

    return hashlib.sha256((prev + canonical(entry)).encode()).hexdigest()


class HashChainLog:
    """The log at ``path`` of kind ``kind`` (e.g. ``"qlat schwinger scan points v1"``)."""

    def __init__(self, path: str | os.PathLike[str], *, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self._tail: str | None = None
        self._valid_bytes = 0

    @property
    def origin(self) -> str:
        return hashlib.sha256(self.kind.encode()).hexdigest()

    def load(self) -> list[Any]:
        """The entries in order, every link checked; [] when there is no log yet."""
        if not self.path.exists():
            self._tail, self._valid_bytes = self.origin, 0
            return []
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        entries: list[Any] = []
        prev, offset = self.origin, 0
        lines = raw.split(b"\n")
        complete, partial = lines[:-1], lines[-1]
        for number, line in enumerate(complete, 1):
            offset += len(line) + 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                ok = (isinstance(record, dict) and set(record) == {"entry", "prev", "hash"}
                      and record["prev"] == prev and record["hash"] == _link(prev, record["entry"]))
            except (ValueError, TypeError):
                ok = False
            if not ok:
                raise CorruptFileError(f"{self.path}: line {number} is damaged, edited or from another file "
                                       "(its hash chain does not verify); remove the file or use another folder")
            entries.append(record["entry"])
            prev = record["hash"]
        del partial  # a line cut by a crash: dropped, and cut off before the next append
        self._tail, self._valid_bytes = prev, offset
        return entries

    def append(self, entry: Any) -> None:
        """Append one entry (JSON-ready), fsync'd; the chain continues from the last verified line."""
        from qlat.core.jsonio import dumps, jsonable

        if self._tail is None:
            self.load()
        entry = json.loads(dumps(jsonable(entry)))
        digest = _link(str(self._tail), entry)
        line = dumps({"entry": entry, "prev": self._tail, "hash": digest}) + "\n"
        with open(self.path, "ab") as f:
            if f.tell() != self._valid_bytes:
                f.truncate(self._valid_bytes)  # a partial line left by a crash
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())
        self._tail = digest
        self._valid_bytes += len(line.encode())
