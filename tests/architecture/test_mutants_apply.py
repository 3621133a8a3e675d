"""Every deliberate bug in tools/mutants/*.toml still applies to the tree (`run.py --check`).

The mutants themselves run with `python tools/mutants/run.py` (minutes): each must turn its
tests red.  This fast check keeps a refactor from silently turning a mutant into a no-op.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runner():
    spec = importlib.util.spec_from_file_location("qlat_mutants", ROOT / "tools" / "mutants" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("qlat_mutants", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_mutant_applies_and_names_existing_tests():
    runner = _runner()
    mutants = runner.load_mutants()
    problems = {m.name: m.problem() for m in mutants if m.problem()}
    assert not problems, problems
    for m in mutants:
        assert m.tests, f"{m.name}: lists no tests"
        for t in m.tests:
            assert (ROOT / t.split("::")[0]).exists(), f"{m.name}: {t} does not exist"
