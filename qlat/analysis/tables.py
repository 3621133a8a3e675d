"""Plain aligned text tables of Estimates and numbers, as the CLI and cross-checks print them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def format_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A plain aligned text table (Estimates print as value(error))."""
    body = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(out)
