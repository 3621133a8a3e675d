"""Independent constructions that tests compare the library against (test-only dependencies live here)."""
