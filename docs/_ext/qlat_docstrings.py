"""Sphinx extension: qlat's docstring style read as reST (``docs/conf.py`` loads it).

Two habits of qlat's docstrings that reST reads otherwise:

- bras, kets and norms written as physicists do (|ψ⟩, ⟨ψ|O|ψ⟩, |φ|²): reST would read a bar as the
  start of a substitution reference.  qlat uses no substitutions, so every bar in prose is escaped
  (not inside inline literals, roles, literal blocks after ``::``, directive bodies, doctest blocks
  or tables);
- numpy-style section headers (``Parameters`` over a line of dashes) whose entries are written
  ``name:  text`` (continuation lines indented), not numpy's ``name : type``: the header becomes a
  rubric, and a paragraph made only of such entries Sphinx fields (``:param name:`` under
  Parameters, ``:ivar:`` under Attributes, ``:raises:`` under Raises) or, elsewhere, a definition
  list with the names as literal terms (each entry on its own line).

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


#: Sections whose entries become Sphinx's own fields (merged with the signature's types), by rubric.
FIELD_KINDS = {"Parameters": "param", "Attributes": "ivar", "Raises": "raises"}


def _entry(pad: str, names: list[str], text: str, more: list[str], kind: str | None) -> list[str]:
    """One ``name: text`` entry as Sphinx fields (``:param name: text``, one per name) or as a
    definition-list item whose term is the literal name(s)."""
    body = [f"{pad}    {m}" for m in more]
    if kind is not None:
        out: list[str] = []
        for name in names:
            out += [f"{pad}:{kind} {name}: {text}".rstrip(), *body]
        return out
    return [pad + ", ".join(f"``{n}``" for n in names), *([f"{pad}    {text}"] if text else []), *body]


def entry_lists(lines: list[str]) -> None:
    """Paragraphs made only of ``name: text`` entries (two or more, or one under a rubric), in place.

    Under a ``Parameters``, ``Attributes`` or ``Raises`` rubric they become ``:param:``, ``:ivar:``,
    ``:raises:`` fields (the rubric goes: Sphinx heads the fields itself, with the types from the
    signature); elsewhere a definition list with the names as literal terms."""
    prose = _prose(lines)
    out: list[str] = []
    k = 0
    while k < len(lines):
        if not prose[k] or (k > 0 and lines[k - 1].strip()):
            out.append(lines[k])
            k += 1
            continue
        end = k
        while end < len(lines) and lines[end].strip():
            end += 1
        paragraph = lines[k:end]
        first = _ENTRY.match(lines[k])
        rubric = out[-2].strip()[len(".. rubric::"):].strip() if (
            len(out) >= 2 and out[-2].lstrip().startswith(".. rubric::")) else None
        if first and all(prose[j] for j in range(k, end)):
            base = len(first.group(1))
            heads = [j for j in range(k, end) if _indent(lines[j]) == base]
            if len(heads) >= (1 if rubric is not None else 2) and all(_ENTRY.match(lines[j]) for j in heads):
                head = (rubric or "").split(" ", 1)
                kind = FIELD_KINDS.get(head[0])
                if kind is not None:               # Sphinx heads the fields itself; a remark stays as text
                    remark = head[1].strip().strip("()").rstrip(".") if len(head) > 1 else ""
                    out[-2] = " " * base + remark[:1].upper() + remark[1:] + "." if remark else ""
                paragraph = []
                for h, nxt in zip(heads, [*heads[1:], end]):
                    m = _ENTRY.match(lines[h])
                    assert m is not None
                    names = [n.strip() for n in m.group(2).split(",")]
                    paragraph += _entry(m.group(1), names, m.group(3) or "", [ln.strip() for ln in lines[h + 1:nxt]],
                                        kind)
        out += paragraph
        k = end
    lines[:] = out


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
