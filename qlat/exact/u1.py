"""Deprecated import path: renamed :mod:`qlat.exact.u1_character_expansion` (exact 2D U(1) results on a torus)."""

from qlat.core.renamed import renamed_module

__getattr__ = renamed_module(__name__, "qlat.exact.u1_character_expansion")
