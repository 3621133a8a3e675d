"""Exact and analytic references: exact diagonalization, free fields, continuum Schwinger values, character expansions."""
