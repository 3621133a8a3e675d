"""The scripts in examples/ run against the current API and pass their own checks.

Each example compares its numbers with an exact reference and exits non-zero when one is off
(a z-score ≥ 3 or a documented bound exceeded), so this test fails on wrong physics, not only on
a crash.
"""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
#: An example whose text holds this line runs minutes: it is part of the slow suite (make test-slow).
SLOW_MARKER = "# qlat-example: slow"
PARAMS = [pytest.param(p, id=p.name, marks=[pytest.mark.slow] if SLOW_MARKER in p.read_text() else [])
          for p in EXAMPLES]


@pytest.mark.parametrize("script", PARAMS)
def test_example_passes_its_own_checks(script):
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert "all checks passed" in proc.stdout
    assert "FAILED" not in proc.stdout


def test_every_example_checks_itself():
    for script in EXAMPLES:
        text = script.read_text()
        assert "sys.exit(" in text and "all checks passed" in text, f"{script.name} does not check its numbers"


def test_there_are_examples():
    assert len(EXAMPLES) >= 2
