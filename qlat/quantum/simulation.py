"""What the adiabatic runner hands a simulator, and how it finds one (no import of either side).

:func:`qlat.quantum.adiabatic_run.run_adiabatic` validates a request with :func:`check_request`, builds a
:class:`SimulationRequest` and calls the simulator's ``simulate``; the simulators
(:mod:`qlat.quantum.simulators`, :mod:`qlat.quantum.tdvp`, plug-ins) answer ``estimate`` by calling
the runner.  This module sits below both, so neither imports the other's module back: an adiabatic
simulator is any registered backend with a ``simulate(request)`` method and the capability
attributes of :class:`qlat.quantum.simulators.AdiabaticSimulator` (``max_qubits``, ``shots``,
``noise``, ``needs_circuit``, ``bond_dimension``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.quantum.aer import DEFAULT_SHOTS, MAX_SAMPLE_BYTES
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.theories.schwinger_observables import QubitObservable

__all__ = ["SimulationRequest", "adiabatic_simulators", "check_request"]


@dataclass(frozen=True)
class SimulationRequest:
    """Everything a simulator needs for one adiabatic run (validated by ``run_adiabatic``)."""

    model: SchwingerModel
    schedule: "AdiabaticSchedule"
    observables: Sequence["QubitObservable"]
    shots: int | None
    seed: int | None
    noise_model: Any
    order: int
    layout: str
    progress: bool
    max_bond_dimension: int | None
    circuit: "QuantumCircuit | None"
    #: What a simulator leaves for the systematic-error estimate of the same run (the statevector
    #: backend: its final ``"state"``, so that the estimate does not evolve it a second time).
    artifacts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def adiabatic_simulators() -> dict[str, Any]:
    """Every registered backend that simulates a :class:`SimulationRequest` (has ``simulate``), by name."""
    from qlat.core.backend import get_backend
    from qlat.core.registry import BACKENDS

    out = {}
    for name in BACKENDS.names():
        try:
            backend = get_backend(name)
        except Exception:  # noqa: BLE001 — a broken third-party plug-in must not break the others
            continue
        if callable(getattr(backend, "simulate", None)):
            out[name] = backend
    return out


def check_request(
    backend: str, n_qubits: int, *, shots: int | None = None, noise: object = None
) -> tuple[Any, int | None]:
    """Validate a run request and return the registered simulator and the shot count to use.

    Raises :class:`ParameterError` naming ``backend`` (unknown name, or not an adiabatic
    simulator), ``n_sites`` (too many qubits for the backend), ``shots`` (not a positive integer,
    or given to an exact backend) or ``noise`` (a noise model on a backend that takes none).
    """
    from qlat.core.backend import get_backend

    simulators = adiabatic_simulators()
    if isinstance(backend, str) and backend not in simulators:
        get_backend(backend)  # an unknown name: the registry's error lists every backend
    if not isinstance(backend, str) or backend not in simulators:
        raise ParameterError("backend", f"is not an adiabatic simulator; must be one of {', '.join(simulators)}",
                             backend)
    spec = simulators[backend]
    if spec.max_qubits is not None and n_qubits > spec.max_qubits:
        others = [b.name for b in simulators.values() if b.max_qubits is None or b.max_qubits >= n_qubits]
        raise ParameterError(
            "n_sites",
            f"backend '{backend}' handles at most {spec.max_qubits} qubits; "
            f"use backend {' or '.join(repr(o) for o in others)}",
            n_qubits,
        )
    if shots is not None:
        require(
            isinstance(shots, (int, np.integer)) and not isinstance(shots, bool) and shots > 0,
            "shots", "must be a positive integer", shots,
        )
        require(int(shots) * max(n_qubits, 1) <= MAX_SAMPLE_BYTES, "shots",
                f"{int(shots):,} shots of {n_qubits} qubits would need {int(shots) * n_qubits / 2**30:.3g} GiB "
                f"per basis (at most {MAX_SAMPLE_BYTES / 2**30:.0f} GiB; split the run)", shots)
        if spec.shots == "never":
            samplers = [b.name for b in simulators.values() if b.shots != "never"]
            raise ParameterError(
                "shots", f"backend '{backend}' is exact and takes no shots", shots,
                hint=f"use backend {' or '.join(repr(o) for o in samplers)} to sample shots",
            )
        shots = int(shots)
    elif spec.shots == "required":
        shots = DEFAULT_SHOTS
    if noise is not None and not spec.noise:
        noisy = [b.name for b in simulators.values() if b.noise]
        raise ParameterError("noise", f"backend '{backend}' takes no noise model", str(noise),
                             hint=f"use backend {' or '.join(repr(o) for o in noisy)} for a noise model")
    return spec, shots
