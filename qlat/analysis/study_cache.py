"""Finished measurements of a long study kept on disk, so an interrupted or repeated run recomputes nothing.

A :class:`RowCache` is a JSON-lines file of ``{"key": {...}, "row": {...}}`` records: the key is
the full set of parameters that determine the row (chain, method, bond dimension, levels …),
so a row is reused only for an identical request.  Each record is appended and flushed to disk
as soon as it is measured (a crash loses at most the measurement under way); a truncated last
line (a crash while writing) is ignored on reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from qlat.core.jsonio import dumps

__all__ = ["RowCache"]


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=float)


class RowCache:
    """Rows by parameter key, backed by a JSON-lines file (``path=None``: in memory only)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._rows: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash
                if isinstance(record, dict) and "key" in record and "row" in record:
                    self._rows[_canonical(record["key"])] = record["row"]

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._rows.get(_canonical(key))

    def put(self, key: dict[str, Any], row: dict[str, Any]) -> None:
        self._rows[_canonical(key)] = row
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(dumps({"key": key, "row": row}).replace("\n", " ") + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def fetch(self, key: dict[str, Any], compute: Any) -> tuple[dict[str, Any], bool]:
        """(row, computed): the cached row for ``key``, or ``compute()`` stored under it."""
        row = self.get(key)
        if row is not None:
            return row, False
        row = compute()
        self.put(key, row)
        return row, True
