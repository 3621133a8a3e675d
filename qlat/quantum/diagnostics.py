r"""Diagnostics of adiabatic state preparation: fidelity, the gap along the path, Trotter error.

- :func:`fidelity`: F = |⟨ψ|φ⟩|² / (⟨ψ|ψ⟩⟨φ|φ⟩).
- :func:`minimum_gap_along_path`: E₁(t) − E₀(t) of H(t) in the physical (zero-charge) sector by
  exact diagonalization on a grid of times.  The adiabatic theorem needs T ≫ ‖∂_s H‖/Δ²_min;
  the evolution conserves the charge, so only the gap *inside* the physical sector matters for
  noiseless evolution (crossings with other charge sectors, arXiv:2411.01079, matter once noise
  breaks the symmetry).
- :func:`trotter_error`: the same schedule at dt and dt/2 (optionally dt/4); for a product
  formula of order p the observable converges like O(dt) = O₀ + c·dt^p, so Richardson
  extrapolation gives O₀ ≈ O(dt/2) + (O(dt/2) − O(dt))/(2^p − 1) and the error of the run at dt,
  O₀ − O(dt).  The limit O₀ is the exact (continuous-time) evolution along the same schedule,
  so this separates the Trotter error from the adiabatic (finite-T) error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError, require, require_int
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["MAX_GAP_QUBITS", "fidelity", "minimum_gap_along_path", "trotter_error"]

#: Largest N for which :func:`minimum_gap_along_path` runs exact diagonalization on the path
#: (physical sector of dimension C(18, 9) = 48 620, a few seconds per point).
MAX_GAP_QUBITS = 18


def fidelity(state: np.ndarray, exact_ground_state: np.ndarray) -> float:
    """|⟨ψ|φ⟩|² of two states of equal length (both normalized here, so F ∈ [0, 1])."""
    psi = np.asarray(state, dtype=complex).reshape(-1)
    phi = np.asarray(exact_ground_state, dtype=complex).reshape(-1)
    require(psi.size == phi.size and psi.size > 0, "exact_ground_state",
            f"must have the same length as state ({psi.size})", phi.size)
    npsi, nphi = np.vdot(psi, psi).real, np.vdot(phi, phi).real
    require(npsi > 0, "state", "must be a nonzero vector", npsi)
    require(nphi > 0, "exact_ground_state", "must be a nonzero vector", nphi)
    return float(min(1.0, abs(np.vdot(psi, phi)) ** 2 / (npsi * nphi)))


def minimum_gap_along_path(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    n_points: int = 41,
) -> dict[str, Any]:
    """The gap E₁ − E₀ of H(t) in the physical sector on ``n_points`` equally spaced times.

    Returns ``{"min_gap", "t_min", "s_min", "times", "s", "gaps", "final_gap"}``: the smallest
    gap on the grid, the time and ramp value s(t) where it occurs, the grid, the ramp values,
    the gap curve, and the gap of the target model.  Refuses models with N > MAX_GAP_QUBITS.
    """
    from qlat.exact.diagonalization import gap_along_path

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    require(model.n_sites <= MAX_GAP_QUBITS, "n_sites",
            f"must be <= {MAX_GAP_QUBITS} for exact diagonalization along the path", model.n_sites)
    require_int(n_points, "n_points", minimum=2)
    times = [float(t) for t in np.linspace(0.0, schedule.total_time, int(n_points))]
    gaps = gap_along_path(lambda t: schedule.terms_at(model, t), times, sector="physical")
    k = int(np.argmin(gaps))
    return {
        "min_gap": float(gaps[k]),
        "t_min": float(times[k]),
        "s_min": float(schedule.ramp_value(times[k])),
        "times": times,
        "s": np.array([schedule.ramp_value(t) for t in times]),
        "gaps": gaps,
        "final_gap": float(gaps[-1]),
    }


def _observable_operator(model: SchwingerModel, observable: str | SparsePauliOp) -> SparsePauliOp:
    if isinstance(observable, SparsePauliOp):
        require(observable.num_qubits == model.n_qubits, "observable",
                f"must act on {model.n_qubits} qubits", observable.num_qubits)
        return observable
    if not isinstance(observable, str):
        raise ParameterError("observable", "must be an observable name or a SparsePauliOp", type(observable).__name__)
    from qlat.quantum.observables import qubit_observable

    realization = qubit_observable(observable, model)
    require(realization.is_scalar, "observable", "must be a scalar observable (one component)", observable)
    return realization.operators[0]


def trotter_error(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    order: int = 2,
    observable: str | SparsePauliOp = "energy",
    levels: int = 2,
) -> dict[str, Any]:
    r"""Trotter error of an observable at the end of the adiabatic evolution, by step halving.

    Runs :func:`~qlat.quantum.statevector.evolve_statevector` at dt, dt/2 (and dt/4 for
    ``levels=3``) and fits O(h) = O₀ + c·h^p:

    - ``levels=2``: p is the formula's order; O₀ ≈ O(dt/2) + (O(dt/2) − O(dt))/(2^p − 1).
    - ``levels=3``: p is measured, p = log₂[(O(dt) − O(dt/2))/(O(dt/2) − O(dt/4))], and O₀ is
      extrapolated from the two finest values.  Use it for ``order=1``: for a real Hamiltonian
      (both formulations here) the O(dt) term of H_eff = H − (i dt/2)[B, A] + … is imaginary
      antisymmetric and does not shift real ground-state expectation values at first order, so
      first-order Trotter errors of such observables look like dt^{≈2} at practical dt.

    Returns ``{"observable", "order", "order_used", "dt", "steps", "values", "value",
    "error_estimate", "extrapolated"}``: the step sizes and the values there, O(dt), the
    estimated error O₀ − O(dt) of the run at the schedule's dt, and O₀.  ``order_used`` is
    None (and the estimate falls back to the nominal order) when the three values do not
    converge monotonically.  ``observable``: name of a scalar qubit observable (``"energy"``,
    ``"condensate"``, …) or a ``SparsePauliOp``.
    """
    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    require(order in (1, 2), "order", "must be 1 or 2", order)
    require(levels in (2, 3), "levels", "must be 2 or 3", levels)
    op = _observable_operator(model, observable)
    steps = [schedule.dt / 2**k for k in range(levels)]
    values = []
    for dt in steps:
        sch = AdiabaticSchedule(total_time=schedule.total_time, dt=dt,
                                initial_mass=schedule.initial_mass, ramp=schedule.ramp)
        values.append(expectation_values(evolve_statevector(model, sch, order=order), {"o": op})["o"])
    p: float | None = float(order)
    if levels == 3:
        d1, d2 = values[1] - values[0], values[2] - values[1]
        p = float(np.log2(d1 / d2)) if d1 * d2 > 0 and abs(d1) > abs(d2) else None
    used = p if p is not None else float(order)
    extrapolated = values[-1] + (values[-1] - values[-2]) / (2.0**used - 1.0)
    return {
        "observable": observable if isinstance(observable, str) else "operator",
        "order": int(order),
        "order_used": p,
        "dt": float(schedule.dt),
        "steps": [float(h) for h in steps],
        "values": [float(v) for v in values],
        "value": float(values[0]),
        "error_estimate": float(extrapolated - values[0]),
        "extrapolated": float(extrapolated),
    }
