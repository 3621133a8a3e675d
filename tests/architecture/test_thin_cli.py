"""The command line is thin: qlat/cli/*.py parse, call the library and print its result (docs/architecture.md).

The rule, checked on the syntax tree of every module under qlat/cli/ (imports inside functions included):

1. no import of a numerical or plotting package: numpy, scipy, torch, matplotlib, pandas, tenpy, qiskit;
2. from ``math`` only the argument checks ``isfinite``, ``isnan``, ``isinf`` and ``inf`` — no numerical
   function or constant (``pi``, ``sqrt``, ``exp`` …: a physics value is computed in the library);
3. no arithmetic on a result's numbers: no binary operation with an operand ``x.value``, ``x.error`` or
   ``x.systematic`` (formatting one in an f-string is fine).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "qlat" / "cli"
FORBIDDEN_PACKAGES = ("numpy", "scipy", "torch", "matplotlib", "pandas", "tenpy", "qiskit")
MATH_ALLOWED = {"isfinite", "isnan", "isinf", "inf"}
RESULT_NUMBERS = {"value", "error", "systematic"}


def violations(source: str) -> list[str]:
    """Every breach of the rule in one module's source, as 'line: what'."""
    tree = ast.parse(source)
    math_names: set[str] = set()
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_PACKAGES:
                    found.append(f"{node.lineno}: import {alias.name}")
                if alias.name == "math":
                    math_names.add(alias.asname or "math")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in FORBIDDEN_PACKAGES:
                found.append(f"{node.lineno}: from {node.module} import …")
            if node.module == "math":
                found += [f"{node.lineno}: from math import {a.name}" for a in node.names
                          if a.name not in MATH_ALLOWED]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in math_names
                and node.attr not in MATH_ALLOWED):
            found.append(f"{node.lineno}: math.{node.attr}")
        if isinstance(node, ast.BinOp):
            for side in (node.left, node.right):
                if isinstance(side, ast.Attribute) and side.attr in RESULT_NUMBERS:
                    found.append(f"{node.lineno}: arithmetic on .{side.attr}")
    return found


def _modules() -> list[Path]:
    return sorted(CLI.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_cli_module_computes_no_physics(path):
    found = violations(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(CLI.parents[1])} computes in the CLI (move it to the library):\n" + \
        "\n".join(found)


@pytest.mark.parametrize("source", [
    "import numpy as np\n",
    "def f():\n    import torch.nn\n",
    "from scipy.linalg import eigh\n",
    "import matplotlib.pyplot as plt\n",
    "import math\nx = math.pi / 2\n",
    "import math as m\ny = m.sqrt(2)\n",
    "from math import cos\n",
    "d = (a.value - b.value) / b.error\n",
    "s = est.systematic * 2\n",
])
def test_the_rule_catches_physics(source):
    assert violations(source)


@pytest.mark.parametrize("source", [
    "import math\nok = math.isfinite(x) and x != math.inf\n",
    "line = f\"{e.value:+.4f}\"\n",
    "from qlat.analysis.scan import run_theta_scan\n",
    "n = args.time / args.dt\n",
])
def test_the_rule_lets_parsing_and_formatting_through(source):
    assert not violations(source)
