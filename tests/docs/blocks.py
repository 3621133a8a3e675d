"""Code blocks of the README and docs/, and the output they show, so the tests can run them.

A fenced block is runnable when it is ```` ```python ```` or ```` ```bash ```` / ```` ```console ````:

- a python block runs in one namespace per file (blocks share state, top to bottom, like a
  notebook); if the next fenced block is a plain ```` ``` ```` (or ```` ```text ````) block, it is
  the stdout the python block prints, compared line by line (trailing spaces ignored; ``...``
  matches anything, as with doctest's ELLIPSIS);
- a bash block's lines that start with ``qlat `` are commands; each runs (in the file's temporary
  folder) and must exit 0; the plain block after it, if any, is the output of its **last** command.
- a console block is a transcript: lines ``$ qlat ...`` are commands, the lines up to the next
  ``$`` their output (compared as above); other ``$`` lines (``head``, ``ls`` …) are not run.

The shown output must follow closely: only blank lines and at most :data:`MAX_GAP_LINES` lines of
prose ("prints", "gives:") may stand between the code and its output block, and no heading.

An HTML comment on the line before a block says how to treat it::

    <!-- docs-test: skip (talks to IBM hardware) -->   never run (say why)
    <!-- docs-test: slow -->                            run only by `make docs` (pytest -m slow)
    <!-- docs-test: no-output-check -->                 run, but do not compare the shown output

MyST notebooks (``docs/tutorials/*.md``) are read by :func:`code_cells`: their ```` ```{code-cell} ````
cells, in order, without the cell options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*docs-test:\s*(skip|slow|no-output-check)\b(.*?)-->\s*$")
PROMPT = "$ "
#: Lines of prose allowed between a code block and the output block that belongs to it.
MAX_GAP_LINES = 2
OUTPUT_LANGUAGES = ("", "text")


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
        """The ``qlat`` command lines (a console block's without the ``$`` prompt)."""
        out = []
        for ln in self.code.splitlines():
            text = ln.strip()
            if self.language == "console":
                if not text.startswith(PROMPT):
                    continue
                text = text[len(PROMPT):].strip()
            if text.startswith("qlat "):
                out.append(text)
        return out

    @property
    def transcript(self) -> list[tuple[str, str | None]]:
        """(command, shown output) for each ``qlat`` command of the block, in order.

        Console block: the output is the text up to the next prompt.  Bash block: only the last
        command has an output, the plain block that follows (:attr:`expected`)."""
        if self.language != "console":
            cmds = self.commands
            return [(c, self.expected if k == len(cmds) - 1 else None) for k, c in enumerate(cmds)]
        out: list[tuple[str, str | None]] = []
        command: str | None = None
        shown: list[str] = []
        for ln in self.code.splitlines():
            if ln.strip().startswith(PROMPT):
                if command is not None:
                    out.append((command, "\n".join(shown) if shown else None))
                text = ln.strip()[len(PROMPT):].strip()
                command = text if text.startswith("qlat ") else None
                shown = []
            elif command is not None:
                shown.append(ln)
        if command is not None:
            out.append((command, "\n".join(shown) if shown else None))
        return out


def blocks(path: Path) -> list[Block]:
    """The runnable blocks of a markdown file, each with the shown output that follows it."""
    lines = path.read_text().splitlines()
    # (line, language, code, mark, reason, prose lines before the block, heading before the block)
    raw: list[tuple[int, str, str, str, str, int, bool]] = []
    i, pending_mark, pending_reason = 0, "", ""
    gap, heading = 0, False
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
            raw.append((start + 1, lang, "\n".join(lines[start + 1 : j]), pending_mark, pending_reason, gap,
                        heading))
            pending_mark, pending_reason = "", ""
            gap, heading = 0, False
            i = j + 1
            continue
        if lines[i].strip():
            gap += 1
            heading = heading or lines[i].lstrip().startswith("#")
            pending_mark, pending_reason = ("", "") if not lines[i].startswith("<!--") else (pending_mark,
                                                                                            pending_reason)
        i += 1
    out: list[Block] = []
    for k, (line, lang, code, mark, reason, _, _) in enumerate(raw):
        if lang not in ("python", "bash", "console"):
            continue
        expected = None
        if k + 1 < len(raw):
            _, next_lang, next_code, _, _, next_gap, next_heading = raw[k + 1]
            if next_lang in OUTPUT_LANGUAGES and next_gap <= MAX_GAP_LINES and not next_heading:
                expected = next_code
        out.append(Block(path, line, lang, code, expected, mark, reason))
    return out


def output_matches(expected: str, got: str) -> bool:
    """doctest's comparison with ELLIPSIS, trailing whitespace ignored on every line."""
    import doctest

    norm = lambda text: "\n".join(ln.rstrip() for ln in text.strip("\n").splitlines()) + "\n"  # noqa: E731
    checker = doctest.OutputChecker()
    return checker.check_output(norm(expected), norm(got), doctest.ELLIPSIS)


CELL = re.compile(r"^```\{code-cell\}")


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(1-based line, source) of each ```` ```{code-cell} ```` cell of a MyST notebook, in order.

    Cell options — ``:key: value`` lines or a ``---`` YAML block at the top of the cell — are dropped."""
    lines = path.read_text().splitlines()
    cells: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if not CELL.match(lines[i]):
            i += 1
            continue
        start = i
        j = i + 1
        body: list[str] = []
        while j < len(lines) and lines[j].rstrip() != "```":
            body.append(lines[j])
            j += 1
        if body and body[0].strip() == "---":
            end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), 0)
            body = body[end + 1:]
        while body and re.match(r"^:\w[\w-]*:", body[0]):
            body = body[1:]
        cells.append((start + 1, "\n".join(body)))
        i = j + 1
    return cells
