"""qlat: lattice field theory across classical Monte Carlo and quantum computing.

The one call every backend answers (``docs/architecture.md``)::

    import qlat
    from qlat.theories.schwinger_qubit import SchwingerModel

    qlat.estimate(SchwingerModel(n_sites=8, spacing=0.5, mass=0.1), ["energy", "condensate"], backend="ed")

``qlat.sample(theory, "hmc", n=1000, chains=8)`` runs Monte Carlo chains in memory
(:mod:`qlat.analysis.montecarlo`); ``qlat.backends()`` lists the registered backends.  Heavy packages (qiskit, torch) are imported
only by the backend that needs them.
"""

from typing import Any

from qlat._version import __version__


def estimate(target: Any, observables: Any, *, backend: str, **options: Any) -> Any:
    """Estimates of ``observables`` on ``target`` from the registered ``backend`` (:func:`qlat.core.backend.estimate`)."""
    from qlat.core.backend import estimate as _estimate

    return _estimate(target, observables, backend=backend, **options)


def sample(theory: Any, sampler: Any = "hmc", **options: Any) -> Any:
    """Monte Carlo chains in memory (or into ``path=``): :func:`qlat.analysis.montecarlo.sample`."""
    from qlat.analysis.montecarlo import sample as _sample

    return _sample(theory, sampler, **options)


def backends() -> list[str]:
    """Names of the registered backends (nothing is imported)."""
    from qlat.core.registry import BACKENDS

    return BACKENDS.names()


__all__ = ["__version__", "backends", "estimate", "sample"]
