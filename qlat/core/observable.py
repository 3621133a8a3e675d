"""Deprecated import path: renamed :mod:`qlat.core.observable_registry` (the Observable class and registry)."""

from qlat.core.renamed import renamed_module

__getattr__ = renamed_module(__name__, "qlat.core.observable_registry")
