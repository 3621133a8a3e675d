"""Imports point only down the layers, lazy and TYPE_CHECKING imports included (docs/architecture.md).

Layers, bottom to top: ``core < theories < exact < samplers < quantum < analysis < cli``.  A module
may import its own package and any package below it; an import that points up a layer (or closes
a cycle between two packages) fails this test with the file and line.  ``qlat._version`` sits
below everything; the top-level ``qlat`` package may re-export from any layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qlat

LAYERS = ("core", "theories", "exact", "samplers", "quantum", "analysis", "cli")
RANK = {name: i for i, name in enumerate(LAYERS)}
ROOT = Path(qlat.__file__).parent


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def _layer_of_module(dotted: str) -> int | None:
    """Rank of the layer a ``qlat.x.y`` module lives in; None for qlat._version and plain ``qlat``."""
    parts = dotted.split(".")
    if parts[0] != "qlat":
        return None
    if len(parts) == 1:
        return len(LAYERS)  # the top-level package: above everything
    if parts[1] == "_version":
        return -1
    if parts[1] == "__main__":
        return len(LAYERS)  # ``python -m qlat``: the command itself, above every layer
    if not (ROOT / parts[1]).is_dir() and not (ROOT / f"{parts[1]}.py").is_file():
        return len(LAYERS)  # ``from qlat import name``: a name of the top-level package, above every layer
    if parts[1] not in RANK:
        raise AssertionError(f"module {dotted} is in no layer; add its package to LAYERS")
    return RANK[parts[1]]


def _imports(path: Path, rel: Path | None = None) -> list[tuple[int, str]]:
    """Every ``qlat`` module imported anywhere in ``path`` (top level, in functions, under TYPE_CHECKING).

    ``rel`` is the path inside the package (default: ``path`` relative to the package root).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(ROOT) if rel is None else rel
    package = ".".join(("qlat", *rel.with_suffix("").parts))
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "qlat"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "qlat":
                continue
            if module == "qlat":  # from qlat import x → qlat.x
                found += [(node.lineno, f"qlat.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, module))
    return found


def _violations() -> list[str]:
    bad = []
    for path in _modules():
        rel = path.relative_to(ROOT)
        if rel.parts == ("__init__.py",):
            continue  # the top-level package re-exports from every layer
        own = _layer_of_module(".".join(("qlat", *rel.with_suffix("").parts)))
        for line, module in _imports(path):
            target = _layer_of_module(module)
            if target is not None and own is not None and target > own:
                bad.append(f"qlat/{rel}:{line} imports {module} ({LAYERS[target] if target < len(LAYERS) else 'qlat'}"
                           f" is above {LAYERS[own] if own >= 0 else '_version'})")
    return bad


def test_every_import_points_down_a_layer():
    bad = _violations()
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_walker_sees_lazy_relative_and_type_checking_imports(tmp_path):
    """The checker itself: function-local, relative and TYPE_CHECKING imports are all found."""
    src = tmp_path / "probe.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from qlat.cli import main\n"
                   "def f():\n    import qlat.analysis.statistics\n    from ..quantum import run\n"
                   "    from . import errors\n")
    found = [m for _, m in _imports(src, Path("core/probe.py"))]
    assert found == ["qlat.cli", "qlat.analysis.statistics", "qlat.quantum", "qlat.core"]


@pytest.mark.parametrize("package", LAYERS)
def test_every_layer_exists(package):
    assert (ROOT / package / "__init__.py").is_file()


def _module_graph() -> dict[str, set[str]]:
    """``qlat`` module → the ``qlat`` modules (files) it imports, lazy and TYPE_CHECKING imports included."""
    modules = {}
    for path in _modules():
        rel = path.relative_to(ROOT)
        name = ".".join(("qlat", *rel.with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if name == "qlat":
            continue  # the top-level package re-exports lazily from every layer
        deps = set()
        for _, imported in _imports(path, path.relative_to(ROOT)):
            parts = imported.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            target = ".".join(parts)
            if target and target not in (name, "qlat"):
                deps.add(target)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    import sys

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


#: Import circles still to be broken (issue 22); this list may only shrink.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_circles_between_files():
    cycles = _cycles(_module_graph())
    new = [c for c in cycles if c not in KNOWN_CYCLES]
    assert not new, "import circles (files importing each other, lazily or not):\n" + "\n".join(map(str, new))
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
