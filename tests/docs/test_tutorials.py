"""The tutorials (MyST notebooks, docs/tutorials/*.md) run top to bottom and their physics checks hold.

Each tutorial asserts what it shows: z-scores against exact values *and* a power check (the
error bar resolves a wrong answer), so running the cells is a physics test, not a smoke test.
The cells run here in one namespace, in the notebook's folder, as the docs build's kernel runs
them (``make docs`` executes them again through myst-nb, outputs and figures rendered).

The fast ones (:data:`FAST`, seconds) run in the normal suite; the others with ``make docs``.
"""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import pytest

from tests.docs.blocks import code_cells

TUTORIALS_DIR = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
TUTORIALS = sorted(p for p in TUTORIALS_DIR.glob("*.md") if p.name != "index.md")
#: Tutorials cheap enough for the normal suite (each well under 30 s on a loaded 2-core machine).
FAST = {"ibm_dry_run.md"}


def _run(path: Path, monkeypatch) -> str:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for line, source in code_cells(path):
            exec(compile(source, f"{path.name}:{line}", "exec"), namespace)
    import matplotlib.pyplot as plt

    plt.close("all")
    return out.getvalue()


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name, marks=[] if p.name in FAST else [pytest.mark.slow])
                                  for p in TUTORIALS])
def test_tutorial_runs_and_its_checks_hold(path: Path, monkeypatch):
    _run(path, monkeypatch)


def test_there_are_four_tutorials_in_the_site():
    names = {p.name for p in TUTORIALS}
    assert {"adiabatic_vacuum.md", "monte_carlo_and_flows.md", "ibm_dry_run.md", "dmrg_continuum.md"} <= names
    index = (TUTORIALS_DIR / "index.md").read_text()
    for p in TUTORIALS:
        assert p.stem in index, f"{p.name} is not in docs/tutorials/index.md's toctree"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in TUTORIALS])
def test_tutorial_is_a_notebook_that_checks_physics(path: Path):
    """Cells parse; the notebook asserts z-scores (not only that it runs) and draws a figure."""
    text = path.read_text()
    assert text.startswith("---\nfile_format: mystnb"), "a MyST notebook needs the mystnb front matter"
    cells = code_cells(path)
    assert len(cells) >= 5
    asserts = 0
    for line, source in cells:
        tree = ast.parse(source, filename=f"{path.name}:{line}")
        asserts += sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
    assert asserts >= 4, f"{path.name}: {asserts} asserts; a tutorial checks what it shows"
    assert "z_score" in text or "z =" in text or "z per" in text
    assert "set_xlabel" in text and "set_ylabel" in text and "errorbar" in text
