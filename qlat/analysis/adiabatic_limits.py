r"""Extrapolations of adiabatically prepared expectation values at fixed lattice: T → ∞ and dt → 0.

An observable measured after the adiabatic preparation of :mod:`qlat.quantum.adiabatic` carries
two systematic errors besides statistics (arXiv:2001.00485, Sec. IV):

- the *adiabatic* error from a finite ramp time T.  The leaked amplitude falls like a power of
  1/T (1/T for the linear ramp, faster for smooth ramps), and an observable's error is linear in
  it, so we fit ⟨O⟩(T) = O_∞ + c/T^q over the largest T and read off O_∞.  The error also
  *oscillates* with T (the phase of the leaked amplitude; for the linear ramp it changes sign),
  so the fit needs several T (at least degree + 3, dof ≥ 2) and its residual-based error is what
  makes the number honest — on the N = 6 test chain the extrapolation lies within 1σ of ED;
- the *Trotter* error of the product formula of order p, ⟨O⟩(dt) = O₀ + c dt^p' with p' = 2 for
  both the symmetric second-order formula and, for real ground-state observables, in practice
  the first-order one (the first-order term cancels to leading order in the time average);
  we fit in dt^p' and read off O₀.

The values come from qlat's exact statevector path (:func:`~qlat.quantum.statevector.evolve_statevector`),
so the only error of an extrapolated value is the fit error: with no statistical error on the
inputs the covariance is scaled by the residual variance χ²/dof (ordinary least squares,
:mod:`qlat.analysis.extrapolation`), which turns the leftover oscillation of ⟨O⟩(T) into an
error.  At least degree + 2 points (dt) or degree + 3 points (T) are required.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qlat.analysis.extrapolation import fit_polynomial
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.theories.schwinger_qubit import SchwingerModel


@dataclass(frozen=True)
class Extrapolation:
    """Values ⟨O⟩ at the control parameter (T or dt), the fit, and the extrapolated Estimate."""

    parameter: str            # "total_time" or "dt"
    points: np.ndarray        # T or dt values
    values: np.ndarray        # ⟨O⟩ at each point
    estimate: Estimate        # the T → ∞ or dt → 0 value with its fit error
    fit: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "points": self.points.tolist(), "values": self.values.tolist(),
                "estimate": self.estimate.to_dict(), "fit": self.fit}


def _value(model: SchwingerModel, schedule: AdiabaticSchedule, observable: str, order: int) -> float:
    from qlat.quantum.observables import qubit_observable
    from qlat.quantum.statevector import evolve_statevector, expectation_values

    obs = qubit_observable(observable, model)
    require(obs.is_scalar, "observable", "must be a scalar observable", observable)
    state = evolve_statevector(model, schedule, order=order)
    return float(expectation_values(state, {observable: obs.operators[0]})[observable])


def _fit(parameter: str, points: np.ndarray, x: np.ndarray, values: np.ndarray, *, degree: int,
         observable: str, unit: str, provenance: dict[str, Any]) -> Extrapolation:
    fit = fit_polynomial(x, values, degree=degree, x0=0.0)
    est = fit.value_at(0.0, name=observable, unit=unit)
    est = Estimate(est.value, est.error, name=observable, unit=unit, backend="statevector",
                   provenance={**est.provenance, **provenance})
    summary = {"degree": degree, "coefficients": fit.coefficients.tolist(), "chi2_per_dof": fit.chi2_per_dof,
               "error_from": "residual variance (inputs are exact)"}
    return Extrapolation(parameter, points, values, est, summary)


def extrapolate_total_time(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    times: Sequence[float],
    observable: str = "condensate",
    order: int = 2,
    power: int = 1,
    degree: int = 1,
) -> Extrapolation:
    """⟨O⟩ for each total time T in ``times`` (same dt, ramp, m₀ as ``schedule``), fit in 1/T^power → 0.

    Each T must be a multiple of ``schedule.dt``.  ``degree`` is the polynomial degree in
    1/T^power; at least degree + 3 values of T (the adiabatic error oscillates with T).
    """
    from qlat.quantum.observables import qubit_observable

    times_arr = np.asarray(sorted(float(t) for t in times))
    require(times_arr.size >= degree + 3, "times", f"needs at least degree + 3 = {degree + 3} values", times_arr.tolist())
    require(power >= 1, "power", "must be an integer >= 1", power)
    require(bool(np.all(times_arr > 0)), "times", "must be > 0", times_arr.tolist())
    values = np.array([_value(model, replace(schedule, total_time=float(T)), observable, order) for T in times_arr])
    unit = qubit_observable(observable, model).unit
    prov = {"extrapolation": f"T -> infinity (fit in 1/T^{power})", "model": model.params(), "dt": schedule.dt,
            "ramp": schedule.ramp, "initial_mass": schedule.initial_mass, "order": order}
    return _fit("total_time", times_arr, 1.0 / times_arr**power, values, degree=degree, observable=observable, unit=unit,
                provenance=prov)


def extrapolate_step_size(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    dts: Sequence[float],
    observable: str = "condensate",
    order: int = 2,
    power: int = 2,
    degree: int = 1,
) -> Extrapolation:
    """⟨O⟩ for each Trotter step in ``dts`` (same T, ramp, m₀), fit in dt^``power`` → 0.

    Each dt must divide ``schedule.total_time``.
    """
    from qlat.quantum.observables import qubit_observable

    dts_arr = np.asarray(sorted(float(d) for d in dts))
    require(dts_arr.size >= degree + 2, "dts", f"needs at least degree + 2 = {degree + 2} values", dts_arr.tolist())
    require(power >= 1, "power", "must be an integer >= 1", power)
    values = np.array([_value(model, replace(schedule, dt=float(d)), observable, order) for d in dts_arr])
    unit = qubit_observable(observable, model).unit
    prov = {"extrapolation": f"dt -> 0 (fit in dt^{power})", "model": model.params(),
            "total_time": schedule.total_time, "ramp": schedule.ramp, "initial_mass": schedule.initial_mass,
            "order": order}
    return _fit("dt", dts_arr, dts_arr**power, values, degree=degree, observable=observable, unit=unit, provenance=prov)
