"""Start-up stays light: `qlat --help` and a bad flag import no heavy package (issue 12, goal 4).

Checked by the modules loaded, not by timing: a subprocess builds the parser as `qlat --help`
does and reports which heavy packages ended up in sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "torch", "qiskit", "qiskit_aer", "qiskit_ibm_runtime", "h5py", "openfermion", "tenpy")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_package():
    assert _loaded_after("from qlat.cli.main import build_parser\nbuild_parser(['--help'])") == []


def test_a_bad_top_level_flag_is_reported_before_any_heavy_import():
    code = ("from qlat.cli.main import main\nimport contextlib, io\n"
            "with contextlib.redirect_stderr(io.StringIO()):\n    assert main(['--bogus']) == 2")
    assert _loaded_after(code) == []


def test_schwinger_exact_imports_only_numpy_and_scipy():
    """ED needs numpy/scipy only: no Qiskit (~0.25 s), torch, h5py or TeNPy (issue 12, goal 4)."""
    code = ("from qlat.cli.main import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['schwinger', 'exact', '--sites', '8', '--json']) == 0")
    assert _loaded_after(code) == ["numpy", "scipy"]


def test_a_bad_schwinger_flag_is_reported_before_numpy():
    code = ("from qlat.cli.main import main\nimport contextlib, io\n"
            "with contextlib.redirect_stderr(io.StringIO()):\n"
            "    assert main(['schwinger', 'exact', '--sites', '7']) == 2")
    assert _loaded_after(code) == []
