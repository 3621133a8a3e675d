"""The library imports only its runtime dependencies: a package that only the ``test`` extra of
pyproject.toml installs (OpenFermion for the fermion-operator oracle, pytest …) is never imported
under ``qlat/``, lazy imports included — ``pip install qlat`` without extras must run everything."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import qlat

ROOT = Path(qlat.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"


def _import_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def _test_only_packages() -> set[str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    runtime = {_import_name(r) for r in project["dependencies"]}
    return {_import_name(r) for r in project["optional-dependencies"]["test"]} - runtime


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_openfermion_is_a_test_dependency_only():
    assert "openfermion" in _test_only_packages()


def test_no_library_module_imports_a_test_only_package():
    test_only = _test_only_packages()
    bad = [f"{path.relative_to(ROOT.parent)}:{line}: {name}"
           for path in sorted(ROOT.rglob("*.py")) for line, name in _imports(path)
           if name.split(".")[0].lower() in test_only]
    assert not bad, "test-only packages imported by the library:\n" + "\n".join(bad)
