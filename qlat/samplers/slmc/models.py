"""Deprecated import path: renamed :mod:`qlat.samplers.slmc.effective_hamiltonians` (the SLMC effective models)."""

from qlat.core.renamed import renamed_module

__getattr__ = renamed_module(__name__, "qlat.samplers.slmc.effective_hamiltonians")
