"""Every code block of the README and docs/*.md runs, and prints what the page shows.

The blocks are read by :mod:`tests.docs.blocks` (its docstring has the rules and the
``<!-- docs-test: skip | slow | no-output-check -->`` markers).  One test per block, in page
order; the python blocks of a page share one namespace and the commands of a page one temporary
folder, which is also the job store's ``QLAT_DATA_DIR`` (so ``qlat jobs fetch`` finds the job a
block above submitted).  Run a page whole (``-k hardware.md``): a block may need the ones above it.

Identifiers that a run draws afresh — job refs and runtime ids — are carried from the page to the
run: when a command prints ``job <ref> (runtime id <id>)`` where the page shows other ones, later
commands and shown outputs of the page use this run's (full, 24- and 12-character forms).

Fast blocks run in the normal suite; blocks marked slow run with ``make docs``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.blocks import Block, blocks, output_matches

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Marks kept here instead of in the page (id → (mark, why)); empty: the README carries its own markers.
README_MARKS: dict[str, tuple[str, str]] = {}

ID_PATTERNS = (re.compile(r"\bjob ([0-9a-f]{32})\b"), re.compile(r"\(runtime id ([0-9a-f-]{36})\)"))
COMMAND_TIMEOUT_S = 900


def _mark(block: Block) -> tuple[str, str]:
    return README_MARKS.get(block.id, (block.mark, block.reason))


def _params() -> list:
    out = []
    for page in PAGES:
        for block in blocks(page):
            mark, reason = _mark(block)
            marks = []
            if mark == "skip":
                marks.append(pytest.mark.skip(reason=reason or "marked docs-test: skip"))
            elif mark == "slow":
                marks.append(pytest.mark.slow)
            out.append(pytest.param(block, id=block.id, marks=marks))
    return out


class _Page:
    """The state one page's blocks share: namespace, folder, identifiers carried over."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.namespace: dict[str, object] = {"__name__": "__docs__"}
        self.ids: dict[str, str] = {}          # page's identifier → this run's

    def carry(self, text: str) -> str:
        for shown, actual in self.ids.items():
            for n in (len(shown), 24, 12):
                text = text.replace(shown[:n], actual[:n])
        return text

    def learn(self, shown: str | None, got: str) -> None:
        if not shown:
            return
        for pattern in ID_PATTERNS:
            for a, b in zip(pattern.findall(self.carry(shown)), pattern.findall(got)):
                if a != b:
                    self.ids[a] = b


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    made: dict[Path, _Page] = {}

    def get(path: Path) -> _Page:
        if path not in made:
            made[path] = _Page(tmp_path_factory.mktemp(path.stem))
        return made[path]

    return get


def _shim(folder: Path) -> Path:
    """``qlat`` on the PATH: this checkout's CLI under this interpreter."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "qlat"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m qlat \"$@\"\n")
    shim.chmod(0o755)
    return bin_dir


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{_shim(folder)}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["QLAT_DATA_DIR"] = str(folder)
    env["MPLBACKEND"] = "Agg"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.pop("QISKIT_IBM_TOKEN", None)       # nothing here may reach IBM Quantum
    return env


def _mismatch(block: Block, command: str, shown: str, got: str) -> str:
    return (f"{block.id}: `{command}` printed\n{got}\n--- the page shows ---\n{shown}\n"
            "(update the page, or mark the block: see tests/docs/blocks.py)")


def _run_python(block: Block, page: _Page, monkeypatch) -> None:
    monkeypatch.chdir(page.folder)
    monkeypatch.setenv("QLAT_DATA_DIR", str(page.folder))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.code, f"{block.path.name}:{block.line}", "exec"), page.namespace)
    mark, _ = _mark(block)
    if block.expected is not None and mark != "no-output-check":
        assert output_matches(block.expected, out.getvalue()), _mismatch(block, "python", block.expected,
                                                                         out.getvalue())


def _run_commands(block: Block, page: _Page) -> None:
    mark, _ = _mark(block)
    env = _env(page.folder)
    for command, shown in block.transcript:
        command = page.carry(command)
        proc = subprocess.run(["bash", "-c", command], cwd=page.folder, env=env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (f"{block.id}: `{command}` exited {proc.returncode}\n"
                                      f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        page.learn(shown, proc.stdout)
        if shown is not None and mark != "no-output-check":
            expected = page.carry(shown)
            assert output_matches(expected, proc.stdout), _mismatch(block, command, expected, proc.stdout)


@pytest.mark.parametrize("block", _params())
def test_block_runs_and_prints_what_the_page_shows(block: Block, pages, monkeypatch):
    page = pages(block.path)
    if block.language == "python":
        _run_python(block, page, monkeypatch)
    else:
        _run_commands(block, page)


def test_readme_marks_name_real_blocks():
    """A stale entry (the README changed) must not silently keep a block from running."""
    ids = {b.id for b in blocks(ROOT / "README.md")}
    assert set(README_MARKS) <= ids, sorted(set(README_MARKS) - ids)
    assert all(mark in ("skip", "slow", "no-output-check") and why for mark, why in README_MARKS.values())


def test_every_skip_says_why():
    for page in PAGES:
        for block in blocks(page):
            mark, reason = _mark(block)
            assert mark != "skip" or reason, f"{block.id}: say why it is skipped: <!-- docs-test: skip (why) -->"


def test_blocks_are_found():
    """The parser sees the pages' blocks (a broken parser would make every test above vacuous)."""
    found = {page.name: blocks(page) for page in PAGES}
    assert len(found["README.md"]) >= 5
    assert any(b.language == "console" and b.transcript for b in found["hardware.md"])
    assert any(b.language == "python" and b.expected for page in found.values() for b in page)
