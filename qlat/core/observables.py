"""Deprecated import path: renamed :mod:`qlat.core.observable_catalogue` (the observables qlat defines)."""

import qlat.core.observable_catalogue  # noqa: F401  (importing the old path defined the built-ins; it still does)
from qlat.core.renamed import renamed_module

__getattr__ = renamed_module(__name__, "qlat.core.observable_catalogue")
