"""Registries: theories, samplers and backends found by name.

Every plug-in registers itself with a decorator in its own module::

    from qlat.core.registry import BACKENDS

    @BACKENDS.register("ed")
    class ExactDiagonalization: ...

Base modules never import their plug-ins.  The built-in plug-ins are *declared* as Python
entry points in ``pyproject.toml`` (groups ``qlat.theories``, ``qlat.samplers``,
``qlat.backends``; the value is the module that registers the name), so a registry can list every
name without importing anything heavy, and imports a plug-in's module only when that name is
asked for.  Third-party packages plug in the same way; a test or a notebook registers at run time
with the decorator alone.  Adding a backend is one new module and one entry-point line.

See ``docs/architecture.md`` (how to add a theory, a sampler, a backend).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, Generic, TypeVar

from qlat.core.errors import ParameterError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → registered object, with lazy loading of declared plug-in modules.

    Parameters
    ----------
    kind:
        What is registered (``"backend"``), used in error messages.
    group:
        The entry-point group declaring built-in and third-party plug-ins
        (``"qlat.backends"``); each entry point's value is the module that registers the name.
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._declared: dict[str, str] | None = None

    # ------------------------------------------------------------------ registration
    def register(self, name: str, obj: T | None = None) -> Any:
        """Register ``obj`` under ``name``; usable as ``@REGISTRY.register("name")``.

        Registering a different object under a taken name is an error (two plug-ins must not
        silently shadow each other); registering the same object again is a no-op.
        """
        if not isinstance(name, str) or not name or name != name.strip():
            raise ParameterError("name", f"a {self.kind} name must be a non-empty string", name)

        def add(item: T) -> T:
            current = self._items.get(name)
            if current is not None and current is not item and _qualname(current) != _qualname(item):
                raise ParameterError("name", f"a {self.kind} named '{name}' is registered already", name)
            self._items[name] = item
            return item

        if obj is None:
            return add
        return add(obj)

    def unregister(self, name: str) -> None:
        """Remove a run-time registration (tests use it to clean up a toy plug-in)."""
        self._items.pop(name, None)

    def how_to_register(self) -> str:
        """How a new name gets here (the hint of an unknown-name error; docs/architecture.md, Recipes)."""
        symbol = {"theory": "THEORIES", "sampler": "SAMPLERS", "backend": "BACKENDS"}.get(self.kind, "REGISTRY")
        return (f"a new {self.kind} registers itself with @qlat.core.registry.{symbol}.register(NAME) in its module, "
                f"declared as an entry point in [project.entry-points.\"{self.group}\"], then reinstall "
                "(pip install -e . or make venv); docs/architecture.md#recipes")

    # ------------------------------------------------------------------ lookup
    def declared(self) -> dict[str, str]:
        """Names declared by entry points → the module that registers them (no import)."""
        if self._declared is None:
            found: dict[str, str] = {}
            for ep in metadata.entry_points(group=self.group):
                found.setdefault(ep.name, ep.value.split(":")[0])
            self._declared = found
        return self._declared

    def names(self) -> list[str]:
        """Every registered or declared name, sorted (nothing is imported)."""
        return sorted(set(self._items) | set(self.declared()))

    def get(self, name: str, *, parameter: str | None = None) -> T:
        """The object registered as ``name``, importing its declaring module if needed.

        Raises
        ------
        ParameterError
            naming ``parameter`` (default: the registry's kind) and listing the known names.
        """
        if name not in self._items:
            module = self.declared().get(name) if isinstance(name, str) else None
            if module is not None:
                importlib.import_module(module)
        if name not in self._items:
            raise ParameterError(
                parameter or self.kind, f"unknown {self.kind}; known: {', '.join(self.names())}", name,
                hint=self.how_to_register(),
            )
        return self._items[name]

    def load_all(self) -> dict[str, T]:
        """Import every declared plug-in and return name → object (for conformance tests)."""
        for name in self.names():
            self.get(name)
        return dict(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _qualname(obj: Any) -> str:
    """``module.qualname`` of a class or function (re-imports of one module compare equal)."""
    target = obj if isinstance(obj, type) or callable(obj) else type(obj)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', repr(target))}"


#: Classical lattice theories (``Theory`` protocol, :mod:`qlat.theories.base`), by ``name``.
THEORIES: Registry[Callable[..., Any]] = Registry("theory", "qlat.theories")
#: Markov-chain samplers (``Sampler`` protocol, :mod:`qlat.samplers.base`), by ``name``.
SAMPLERS: Registry[Callable[..., Any]] = Registry("sampler", "qlat.samplers")
#: Backends (``Backend`` protocol, :mod:`qlat.core.backend`), by ``name``.
BACKENDS: Registry[Any] = Registry("backend", "qlat.backends")
