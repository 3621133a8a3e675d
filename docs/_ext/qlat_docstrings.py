"""Sphinx extension: qlat's docstring style read as reST (``docs/conf.py`` loads it).

Two habits of qlat's docstrings that reST reads otherwise:

- bras, kets and norms written as physicists do (|ψ⟩, ⟨ψ|O|ψ⟩, |φ|²): reST would read a bar as the
  start of a substitution reference.  qlat uses no substitutions, so every bar in prose is escaped
  (not inside inline literals, roles, literal blocks after ``::``, directive bodies, doctest blocks
  or tables);
- numpy-style section headers (``Parameters`` over a line of dashes) whose entries are written
  ``name:  text`` (continuation lines indented), not numpy's ``name : type``: the header becomes a
  rubric, and a paragraph made only of such entries a reST field list (each entry on its line).

:func:`process` applies both to a docstring's lines in place; ``tests/docs/test_docstrings.py``
parses every public docstring with it, so markup that would make the docs build warn fails the
normal test suite.
"""

from __future__ import annotations

import re
from typing import Any

_SPAN = re.compile(r"(``.*?``|:?[\w:+-]*`[^`]*`_{0,2})")
_BAR = re.compile(r"(?<!\\)\|")          # a bar not escaped yet
_DIRECTIVE = re.compile(r"^\s*\.\. [\w:-]+::")
_ENTRY = re.compile(r"^(\s*)([A-Za-z_][\w.\[\]]*(?:, ?[A-Za-z_][\w.\[\]]*)*):(?:\s+(\S.*))?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


_RULE = re.compile(r"^\s*=+( +=+)+\s*$")     # a simple table's rule


def _prose(lines: list[str]) -> list[bool]:
    """For each line: is it prose (not in a literal block, a directive's body, a doctest block or a table)?"""
    out: list[bool] = []
    literal_indent: int | None = None      # inside a literal block / directive body deeper than this
    in_table = False                       # inside a simple table (from its first rule to its last)
    for k, line in enumerate(lines):
        stripped = line.strip()
        if _RULE.match(line):
            last = k + 1 >= len(lines) or not lines[k + 1].strip()
            in_table = not (in_table and last)
            out.append(False)
            continue
        if in_table:
            out.append(False)
            continue
        if literal_indent is not None:
            if not stripped or _indent(line) > literal_indent:
                out.append(False)
                continue
            literal_indent = None
        if stripped.endswith("::") or _DIRECTIVE.match(line):
            literal_indent = _indent(line)
        line_block_or_table = stripped == "|" or stripped.startswith(("| ", "+-", "+="))
        out.append(bool(stripped) and not line_block_or_table and not stripped.startswith((">>>", "...")))
    return out


def escape_bars(lines: list[str]) -> None:
    """Escape the bars of prose lines in place (``|`` → ``\\|``); code and tables stay as they are."""
    for k, (line, prose) in enumerate(zip(lines, _prose(lines))):
        if prose and "|" in line:
            pieces = _SPAN.split(line)
            lines[k] = "".join(p if i % 2 else _BAR.sub(r"\\|", p) for i, p in enumerate(pieces))


def section_headers(lines: list[str]) -> None:
    """``Header`` over a line of dashes → ``.. rubric:: Header`` (reST allows no sections in docstrings)."""
    for k in range(len(lines) - 1):
        head, rule = lines[k], lines[k + 1]
        if (head.strip() and re.fullmatch(r"\s*-{3,}\s*", rule) and _indent(head) == _indent(rule)
                and (k == 0 or not lines[k - 1].strip())):
            lines[k] = " " * _indent(head) + ".. rubric:: " + head.strip()
            lines[k + 1] = ""


def entry_lists(lines: list[str]) -> None:
    """Paragraphs made only of ``name: text`` entries (two or more, or one under a rubric) become field lists."""
    prose = _prose(lines)
    k = 0
    while k < len(lines):
        if not prose[k] or (k > 0 and lines[k - 1].strip()):
            k += 1
            continue
        end = k
        while end < len(lines) and lines[end].strip():
            end += 1
        first = _ENTRY.match(lines[k])
        if first and all(prose[j] for j in range(k, end)):
            base = len(first.group(1))
            entries = [j for j in range(k, end) if _indent(lines[j]) == base]
            after_rubric = k >= 2 and lines[k - 2].lstrip().startswith(".. rubric::")
            if len(entries) >= (1 if after_rubric else 2) and all(_ENTRY.match(lines[j]) for j in entries):
                for j in entries:
                    m = _ENTRY.match(lines[j])
                    assert m is not None
                    lines[j] = f"{m.group(1)}:{m.group(2)}: {m.group(3) or ''}".rstrip()
        k = end


def process(lines: list[str]) -> None:
    """qlat's docstring style → reST, in place (module docstring)."""
    section_headers(lines)
    entry_lists(lines)
    escape_bars(lines)


def _process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    process(lines)


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
