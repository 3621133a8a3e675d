"""Every public docstring is valid reST once qlat's docstring style is applied (the docs build's reading).

``make docs`` builds the API reference from these docstrings with warnings as errors; this test
parses the same docstrings with docutils (Sphinx's roles and ``code-block`` stubbed) after the
site's own preprocessing (``docs/_ext/qlat_docstrings.py``), so a docstring that would break the
docs build fails the normal suite, in seconds.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import io
import pkgutil
from pathlib import Path

import pytest

docutils = pytest.importorskip("docutils")

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("qlat.core", "qlat.theories", "qlat.exact", "qlat.samplers", "qlat.quantum", "qlat.analysis")
SPHINX_ROLES = ("mod", "func", "class", "meth", "attr", "data", "exc", "obj", "doc", "ref", "term")


def _style():
    spec = importlib.util.spec_from_file_location("qlat_docstrings", ROOT / "docs" / "_ext" / "qlat_docstrings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        pkg = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(pkg.__path__, prefix=package + ".")]
    return names


def _docstrings(module_name: str):
    """(where, docstring) for the module and what autodoc documents in it: public classes and
    functions defined there, and their public methods and properties."""
    module = importlib.import_module(module_name)
    if module.__doc__:
        yield module_name, inspect.getdoc(module)
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__doc__:
            yield f"{module_name}.{name}", inspect.getdoc(obj)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if (inspect.isfunction(target) or isinstance(member, property)) and getattr(target, "__doc__", None):
                    yield f"{module_name}.{name}.{attr}", inspect.getdoc(target)


def _parser():
    from docutils import nodes
    from docutils.core import publish_doctree
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.directives.body import CodeBlock

    for role in SPHINX_ROLES:
        roles.register_generic_role(role, nodes.literal)
    directives.register_directive("code-block", CodeBlock)

    def parse(text: str) -> str:
        stream = io.StringIO()
        publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream,
                                                  "file_insertion_enabled": False, "raw_enabled": False})
        return stream.getvalue()

    return parse


def test_public_docstrings_are_valid_rest():
    style = _style()
    parse = _parser()
    problems = []
    count = 0
    for module_name in _modules():
        for where, doc in _docstrings(module_name):
            lines = doc.splitlines()
            style.process(lines)
            messages = parse("\n".join(lines))
            count += 1
            if messages.strip():
                problems.append(f"{where}:\n{messages.strip()}")
    assert count > 500, count
    assert not problems, "docstring markup the docs build rejects:\n\n" + "\n\n".join(problems)


@pytest.mark.parametrize("text, bad", [
    ("The state |ψ⟩ and ⟨ψ|O|ψ⟩.", False),
    ("Norm |φ|² of ``a|b``.", False),
    ("A line\n    indented without a blank line\nback.", True),
    ("``unclosed literal", True),
])
def test_the_check_can_fail(text, bad):
    """Kets pass after the style step; real markup errors are still reported."""
    style = _style()
    parse = _parser()
    lines = text.splitlines()
    style.process(lines)
    assert bool(parse("\n".join(lines)).strip()) is bad


def test_style_keeps_code_and_tables():
    style = _style()
    lines = ["Example::", "", "    x = a | b", "", "========  =====", "a|b       c", "========  =====", "",
             "The ket |0⟩."]
    style.process(lines)
    assert lines[2] == "    x = a | b" and lines[5] == "a|b       c" and lines[-1] == r"The ket \|0⟩."
    entries = ["Parameters", "----------", "n_sites:  N, even.", "spacing:  a > 0,", "    in 1/g."]
    style.process(entries)
    assert entries == ["", "", ":param n_sites: N, even.", ":param spacing: a > 0,", "    in 1/g."]
    listed = ["Attributes of a result:", "", "table:  one row per run.", "fit, spread:  the fits."]
    style.process(listed)
    assert listed == ["Attributes of a result:", "", "``table``", "    one row per run.", "``fit``, ``spread``",
                      "    the fits."]
