"""Code blocks of the README and docs/, and the output they show, so the tests can run them.

A fenced block is runnable when it is ```` ```python ```` or ```` ```bash ```` / ```` ```console ````:

- a python block runs in one namespace per file (blocks share state, top to bottom, like a
  notebook); if the next fenced block is a plain ```` ``` ```` block, it is the stdout the python
  block prints, compared line by line (trailing spaces ignored; ``...`` matches anything, as with
  doctest's ELLIPSIS);
- a bash block's lines that start with ``qlat `` are commands; each runs (in the file's temporary
  folder) and must exit 0; the plain block after it, if any, is the output of its **last** command.

An HTML comment on the line before a block says how to treat it::

    <!-- docs-test: skip (talks to IBM hardware) -->   never run (say why)
    <!-- docs-test: slow -->                            run only by `make docs` (pytest -m slow)
    <!-- docs-test: no-output-check -->                 run, but do not compare the shown output
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*docs-test:\s*(skip|slow|no-output-check)\b(.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int               # 1-based line of the opening fence
    language: str           # "python", "bash", "console" or "" (a shown output)
    code: str
    expected: str | None    # the shown output that follows, if any
    mark: str               # "", "skip", "slow" or "no-output-check"
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def commands(self) -> list[str]:
        return [ln.strip() for ln in self.code.splitlines() if ln.strip().startswith("qlat ")]


def blocks(path: Path) -> list[Block]:
    """The runnable blocks of a markdown file, each with the shown output that follows it."""
    lines = path.read_text().splitlines()
    raw: list[tuple[int, str, str, str, str]] = []
    i, pending_mark, pending_reason = 0, "", ""
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        if m:
            pending_mark, pending_reason = m.group(1), m.group(2).strip(" ()")
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f:
            start, lang = i, f.group(1)
            j = i + 1
            while j < len(lines) and not FENCE.match(lines[j]):
                j += 1
            raw.append((start + 1, lang, "\n".join(lines[start + 1 : j]), pending_mark, pending_reason))
            pending_mark, pending_reason = "", ""
            i = j + 1
            continue
        if lines[i].strip():
            pending_mark, pending_reason = ("", "") if not lines[i].startswith("<!--") else (pending_mark,
                                                                                            pending_reason)
        i += 1
    out: list[Block] = []
    for k, (line, lang, code, mark, reason) in enumerate(raw):
        if lang not in ("python", "bash", "console"):
            continue
        expected = None
        if k + 1 < len(raw) and raw[k + 1][1] == "":
            expected = raw[k + 1][2]
        out.append(Block(path, line, lang, code, expected, mark, reason))
    return out


def output_matches(expected: str, got: str) -> bool:
    """doctest's comparison with ELLIPSIS, trailing whitespace ignored on every line."""
    import doctest

    norm = lambda text: "\n".join(ln.rstrip() for ln in text.strip("\n").splitlines()) + "\n"  # noqa: E731
    checker = doctest.OutputChecker()
    return checker.check_output(norm(expected), norm(got), doctest.ELLIPSIS)
