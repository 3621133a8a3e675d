r"""Diagnostics of adiabatic state preparation: fidelity, the gap along the path, Trotter error.

- :func:`fidelity`: F = |⟨ψ|φ⟩|² / (⟨ψ|ψ⟩⟨φ|φ⟩).
- :func:`minimum_gap_along_path`: E₁(t) − E₀(t) of H(t) in the physical (zero-charge) sector by
  exact diagonalization on a grid of times.  The adiabatic theorem needs T ≫ ‖∂_s H‖/Δ²_min;
  the evolution conserves the charge, so only the gap *inside* the physical sector matters for
  noiseless evolution (crossings with other charge sectors, arXiv:2411.01079, matter once noise
  breaks the symmetry).
- :func:`landau_zener`: the narrowest gap along the path, refined, and the Landau–Zener
  probability of passing it diabatically, P = exp(−πΔ²_min T/(2v)) (Zener, Proc. R. Soc. A 137,
  696 (1932)).  Near θ = π at masses above ~0.33 the rotated-formulation path passes an avoided
  crossing whose gap is exponentially small in N (arXiv:2411.01079): the state then continues on
  the excited branch, an eigenstate of the target whose energy variance is small, so only the
  gap along the path can reveal it.
- :func:`trotter_error`: the same schedule at dt and dt/2 (optionally dt/4); for a product
  formula of order p the observable converges like O(dt) = O₀ + c·dt^p, so Richardson
  extrapolation gives O₀ ≈ O(dt/2) + (O(dt/2) − O(dt))/(2^p − 1) and the error of the run at dt,
  O₀ − O(dt).  The limit O₀ is the exact (continuous-time) evolution along the same schedule,
  so this separates the Trotter error from the adiabatic (finite-T) error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError, require, require_int
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["LANDAU_ZENER_MAX_SITES", "MAX_GAP_QUBITS", "fidelity", "landau_zener", "minimum_gap_along_path",
           "trotter_error"]

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


#: Largest chain for which :func:`landau_zener` diagonalizes H(t) along the path (C(14, 7) = 3432
#: states, ~0.05 s per point, ~2 s per path; N = 16 takes ~10 s).
LANDAU_ZENER_MAX_SITES = 14
#: Grid points in t/T and golden-section steps per local minimum of :func:`landau_zener`.
LANDAU_ZENER_GRID = 21
LANDAU_ZENER_REFINE = 10
#: A grid minimum is refined when the hyperbola through it and its neighbours predicts P above this.
REFINE_ABOVE = 1e-4


def _lowest_gap(matrix: Any, start: np.ndarray | None) -> tuple[float, np.ndarray | None]:
    """(E₁ − E₀, ground vector) of a real symmetric sparse matrix; a diagonal one without Lanczos."""
    import scipy.linalg
    import scipy.sparse.linalg

    dim = matrix.shape[0]
    if matrix.nnz <= dim:  # diagonal (no hopping: the start of the path)
        diag = np.sort(matrix.diagonal())
        return float(diag[1] - diag[0]), None
    if dim <= 400:
        values, vectors = scipy.linalg.eigh(matrix.toarray(), subset_by_index=[0, 1])
        return float(values[1] - values[0]), vectors[:, 0]
    v0 = start if start is not None else np.random.default_rng(12345).standard_normal(dim)
    for k in (2, 4):
        try:
            # near the start of the path the excited levels are (nearly) degenerate pair states: a
            # Krylov space of 40 and tol 1e-8 (gap to ~1e-8) converge in ~20 restarts where ARPACK's
            # defaults take minutes at N = 14
            values, vectors = scipy.sparse.linalg.eigsh(matrix, k=k, which="SA", v0=v0, tol=1e-8,
                                                        ncv=min(dim - 1, 40), maxiter=20 * dim)
        except scipy.sparse.linalg.ArpackNoConvergence:  # pragma: no cover - near-degenerate pair
            continue
        order = np.argsort(values)
        return float(values[order[1]] - values[order[0]]), vectors[:, order[0]]
    values = np.linalg.eigvalsh(matrix.toarray())  # pragma: no cover - last resort
    return float(values[1] - values[0]), None  # pragma: no cover


def landau_zener(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    n_points: int = LANDAU_ZENER_GRID,
    refine: int = LANDAU_ZENER_REFINE,
) -> dict[str, Any]:
    r"""The narrowest gap along the path and the Landau–Zener probability of passing it diabatically.

    The gap Δ(u) = E₁ − E₀ of H(uT) in the zero-charge sector (the one the evolution stays in) is
    computed on ``n_points`` equally spaced u = t/T; each interior local minimum is refined by
    ``refine`` golden-section steps between its neighbours (only when the hyperbola through the three
    grid points predicts a probability above :data:`REFINE_ABOVE`: a broad minimum costs nothing).  Near a minimum the two levels are an
    avoided crossing, Δ(u)² = Δ²_min + v²(u − u*)², with v fixed by the neighbouring grid points
    (the larger of the two), swept at dΔ/dt = v/T, so (ħ = 1; Zener, Proc. R. Soc. A 137, 696 (1932))

    .. math:: P = \exp\!\left(-\frac{\pi\,\Delta_\text{min}^2\,T}{2 v}\right)

    is the probability of staying on the diabatic (excited) branch.  Only the gap is needed, not the
    coupling: an exact crossing (Δ_min → 0) gives P → 1, as it should.  A minimum at the end of the
    path (a small final gap) is reported in ``final_gap`` but has no Landau–Zener probability.

    Returns ``{"probability", "min_gap", "u_min", "s_min", "slope", "final_gap", "n_sites",
    "n_evaluations"}`` for the minimum with the largest P (the smallest gap when no interior
    minimum exists, probability 0).  Refuses N > :data:`LANDAU_ZENER_MAX_SITES`.
    """
    from qlat.exact.diagonalization import sparse_hamiltonian

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    require(model.n_sites <= LANDAU_ZENER_MAX_SITES, "n_sites",
            f"must be <= {LANDAU_ZENER_MAX_SITES} for the gap along the path", model.n_sites)
    require_int(n_points, "n_points", minimum=3)
    require_int(refine, "refine", minimum=0)
    total = float(schedule.total_time)
    state: dict[str, Any] = {"vector": None, "count": 0}

    def gap(u: float) -> float:
        matrix, _ = sparse_hamiltonian(schedule.terms_at(model, u * total), sector="physical")
        value, vector = _lowest_gap(matrix, state["vector"])
        state["count"] += 1
        if vector is not None:
            state["vector"] = vector
        return value

    us = np.linspace(0.0, 1.0, int(n_points))
    gaps = np.array([gap(float(u)) for u in us])
    k = int(np.argmin(gaps))
    best: dict[str, Any] = {"probability": 0.0, "min_gap": float(gaps[k]), "u_min": float(us[k]), "slope": None}
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    for i in range(1, len(us) - 1):
        if not (gaps[i] <= gaps[i - 1] and gaps[i] <= gaps[i + 1]):
            continue
        # the hyperbola through the three grid points (Δ² is quadratic in u): refine only a minimum
        # that it predicts to be narrow enough to matter
        c2, c1, c0 = np.polyfit(us[i - 1:i + 2], gaps[i - 1:i + 2] ** 2, 2)
        if c2 > 0:
            predicted = max(c0 - c1 * c1 / (4 * c2), 0.0)
            if math.exp(-math.pi * predicted * total / (2.0 * math.sqrt(c2))) < REFINE_ABOVE:
                continue
        lo, hi = float(us[i - 1]), float(us[i + 1])
        a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
        fa, fb = gap(a), gap(b)
        for _ in range(int(refine)):
            if fa < fb:
                hi, b, fb = b, a, fa
                a = hi - golden * (hi - lo)
                fa = gap(a)
            else:
                lo, a, fa = a, b, fb
                b = lo + golden * (hi - lo)
                fb = gap(b)
        u_min, d_min = min((float(us[i]), float(gaps[i])), (a, fa), (b, fb), key=lambda p: p[1])
        slopes = [math.sqrt(max(gaps[j] ** 2 - d_min**2, 0.0)) / abs(float(us[j]) - u_min)
                  for j in (i - 1, i + 1) if abs(float(us[j]) - u_min) > 0]
        slope = max(slopes) if slopes else 0.0
        prob = math.exp(-math.pi * d_min**2 * total / (2.0 * slope)) if slope > 0 else 0.0
        if prob > best["probability"]:
            best = {"probability": prob, "min_gap": d_min, "u_min": u_min, "slope": slope}
    return {**best, "s_min": float(schedule.ramp_value(best["u_min"] * total)), "final_gap": float(gaps[-1]),
            "n_sites": model.n_sites, "n_evaluations": int(state["count"])}


def _observable_operator(model: SchwingerModel, observable: str | SparsePauliOp) -> SparsePauliOp:
    if isinstance(observable, SparsePauliOp):
        require(observable.num_qubits == model.n_qubits, "observable",
                f"must act on {model.n_qubits} qubits", observable.num_qubits)
        return observable
    if not isinstance(observable, str):
        raise ParameterError("observable", "must be an observable name or a SparsePauliOp", type(observable).__name__)
    from qlat.theories.schwinger_observables import qubit_observable

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
