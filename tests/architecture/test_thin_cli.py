"""The command line is thin: qlat/cli/*.py parse, call the library and print its result (docs/architecture.md).

The rule, checked on the syntax tree of every module under qlat/cli/ (imports inside functions included):

1. no import of a numerical or plotting package: numpy, scipy, torch, matplotlib, pandas, tenpy, qiskit;
2. from ``math`` only the argument checks ``isfinite``, ``isnan``, ``isinf`` and ``inf`` — no numerical
   function or constant (``pi``, ``sqrt``, ``exp`` …: a physics value is computed in the library);
3. no arithmetic on a result's numbers: no binary operation with an operand ``x.value``, ``x.error`` or
   ``x.systematic`` (formatting one in an f-string is fine);
4. from qlat itself only what parsing, calling and printing need (:func:`qlat_import_violations`):

   - ``qlat.cli`` and ``qlat._version``: the commands themselves;
   - ``qlat.analysis``: the library's entry points and result objects — the one function a command calls and
     the object whose ``.table()/.csv_text()/.plot()/.to_dict()`` it prints (units, deviations, plots live there);
   - the infrastructure of ``qlat.core`` (:data:`CORE_INFRASTRUCTURE`: errors, files, JSON, output folders,
     options and registries, memory checks, thread/device settings, ensemble files, file schemas, backend
     lookup) — not its physics (lattice, Estimate arithmetic, observables);
   - from the physics layers (theories, exact, samplers, quantum) only the names in :data:`LOWER_LAYER_NAMES`,
     each for one of four reasons: it checks input before anything runs, lists the registered choices for
     ``--help``, reads or writes a store or file the command is about, or sizes a run for the memory refusal.
     Building a model, a schedule or a network, training and running chains go through a ``qlat.analysis``
     function.

   :data:`NOT_YET_THIN` lists the imports of the physics layers that commands still make (module, package): it
   may only shrink — an entry that is no longer needed fails :func:`test_not_yet_thin_lists_only_what_is_left`.
5. ``cli/schwinger.py`` stays at most 35 % of its 927 lines before issue 22 (:data:`SCHWINGER_MAX_LINES`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "qlat" / "cli"
FORBIDDEN_PACKAGES = ("numpy", "scipy", "torch", "matplotlib", "pandas", "tenpy", "qiskit")
MATH_ALLOWED = {"isfinite", "isnan", "isinf", "inf"}
RESULT_NUMBERS = {"value", "error", "systematic"}

#: qlat packages every command may import from (rule 4).
ALLOWED_PACKAGES = ("qlat.cli", "qlat._version", "qlat.analysis")
#: The modules of qlat.core that hold no physics (rule 4).
CORE_INFRASTRUCTURE = {"qlat.core.errors", "qlat.core.files", "qlat.core.jsonio", "qlat.core.outdir",
                       "qlat.core.options", "qlat.core.registry", "qlat.core.resources", "qlat.core.compute",
                       "qlat.core.ensemble", "qlat.core.schema", "qlat.core.backend"}
#: The names a command may take from the physics layers, by reason (rule 4).
LOWER_LAYER_NAMES: dict[str, set[str]] = {
    # checks of the input and the registered choices listed in --help, before anything runs
    "qlat.theories.schwinger_qubit": {"check_theta"},
    "qlat.quantum.simulators": {"adiabatic_simulators", "check_simulation", "samples_shots"},
    "qlat.quantum.ibm.backend": {"hardware_schedule"},  # the device defaults printed in --help
    "qlat.samplers.chains": {"check_resumable"},
    # the stores and files a command lists, shows, verifies or exports
    "qlat.quantum.ibm.jobs": {"cancel_job", "executed_circuits", "fetch_job", "job_status", "list_jobs", "show_job"},
    "qlat.quantum.ibm.store": {"JobStore", "MissingStoreError"},
    "qlat.quantum.qasm_export": {"MANIFEST_NAME", "README_NAME", "export_circuits", "verify_manifest"},
    "qlat.samplers.flow.checkpoint": {"CARD_NAME", "card_architecture", "check_theory", "read_card"},
    "qlat.samplers.stored": {"stored_theory"},
    # the size of a run, for the memory refusal before anything is allocated
    "qlat.samplers.flow.sizes": {"sampling_bytes", "training_bytes"},
    "qlat.samplers.slmc.sizes": {"training_bytes"},
    "qlat.samplers.slhmc.sizes": {"require_training_memory"},
}
#: Imports of the physics layers that commands still make, as (command module, package imported from): they build
#: theories and networks or drive training and chains themselves.  Only shrinks (issue 22 item 2).
NOT_YET_THIN: set[tuple[str, str]] = set()
#: Rule 5: 35 % of the 927 lines cli/schwinger.py had before issue 22.
SCHWINGER_MAX_LINES = 325


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


def _qlat_imports(source: str) -> list[tuple[int, str, str]]:
    """(line, module, name) of every import from qlat (name "*" for ``import qlat.x``); relative ones resolved
    against qlat.cli."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "*") for a in node.names if a.name.split(".")[0] == "qlat"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join(["qlat", "cli"][: 3 - node.level] + ([module] if module else []))
            if module.split(".")[0] == "qlat":
                found += [(node.lineno, module, a.name) for a in node.names]
    return found


def _package_of(module: str) -> str:
    """The package an import belongs to in NOT_YET_THIN: qlat.theories, qlat.samplers.flow, qlat.core.lattice …"""
    parts = module.split(".")
    if parts[1] == "samplers" and len(parts) > 2 and parts[2] in ("flow", "slmc", "slhmc", "chains"):
        return ".".join(parts[:3])
    if parts[1] == "core":
        return module
    return ".".join(parts[:2])


def qlat_import_violations(source: str, module: str = "") -> list[str]:
    """Every import from qlat that rule 4 does not allow in the command module named ``module`` ('flow.py')."""
    found = []
    for line, imported, name in _qlat_imports(source):
        if imported == "qlat" or imported.startswith(tuple(p + "." for p in ALLOWED_PACKAGES)) \
                or imported in ALLOWED_PACKAGES or imported in CORE_INFRASTRUCTURE \
                or name in LOWER_LAYER_NAMES.get(imported, ()) or (module, _package_of(imported)) in NOT_YET_THIN:
            continue
        found.append(f"{line}: from {imported} import {name}")
    return found


def _modules() -> list[Path]:
    return sorted(CLI.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_cli_module_computes_no_physics(path):
    found = violations(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(CLI.parents[1])} computes in the CLI (move it to the library):\n" + \
        "\n".join(found)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_cli_module_imports_from_qlat_only_what_parsing_and_printing_need(path):
    found = qlat_import_violations(path.read_text(encoding="utf-8"), path.name)
    assert not found, (f"{path.relative_to(CLI.parents[1])} reaches below the library's entry points (call a "
                       "qlat.analysis function, or justify the name in LOWER_LAYER_NAMES):\n" + "\n".join(found))


def test_not_yet_thin_lists_only_what_is_left():
    used = {(p.name, _package_of(m)) for p in _modules() for _, m, _ in _qlat_imports(p.read_text(encoding="utf-8"))}
    stale = sorted(NOT_YET_THIN - used)
    assert not stale, f"these commands no longer import from these packages: remove them from NOT_YET_THIN: {stale}"


def test_schwinger_command_stays_thin():
    lines = len((CLI / "schwinger.py").read_text(encoding="utf-8").splitlines())
    assert lines <= SCHWINGER_MAX_LINES, f"cli/schwinger.py has {lines} lines (at most {SCHWINGER_MAX_LINES})"


@pytest.mark.parametrize("source", [
    "from qlat.theories.schwinger_qubit import SchwingerModel\n",
    "def f():\n    from qlat.quantum.adiabatic import schedule_for\n",
    "import qlat.exact.diagonalization\n",
    "from qlat.core.lattice import Lattice\n",
    "from qlat.core.estimate import Estimate\n",
    "from qlat.quantum.simulators import require_simulator_memory\n",
    "from ..quantum import adiabatic_run\n",
])
def test_the_import_rule_catches_the_physics_layers(source):
    assert qlat_import_violations(source, "schwinger.py")


@pytest.mark.parametrize("source", [
    "from qlat.analysis.scan import run_theta_scan\n",
    "from qlat.core.errors import require\n",
    "from qlat.cli._common import print_json\n",
    "from ._common import print_json\n",
    "from qlat.quantum.simulators import check_simulation\n",
])
def test_the_import_rule_lets_entry_points_checks_and_infrastructure_through(source):
    assert not qlat_import_violations(source, "schwinger.py")


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
