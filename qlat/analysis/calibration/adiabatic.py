r"""Calibration cases of the adiabatic simulators (``statevector``, ``aer``, ``mps``) and of ``tdvp``.

Every case prepares the vacuum of a random Schwinger chain adiabatically with
:func:`qlat.quantum.adiabatic_run.run_adiabatic` and compares energy, condensate and the electric field on
the middle link with exact diagonalization (N ≤ 14) or, for the long TDVP chains of the full size,
with DMRG at a bond dimension whose own truncation error (its ``systematic``) is the reference error.
The error bar under test is the one the estimator reports: shot noise (``aer``) ⊕ the systematic
of :mod:`qlat.quantum.systematics` (one Lanczos step from the prepared state, plus the residual
Trotter dependence) or, for ``tdvp``, of :mod:`qlat.quantum.tdvp` (the same model on the MPS, plus
the residual time-step and truncation dependence).

Points (the generator's rng; hard ones on purpose): N ∈ {4 … 12} (14 in the full statevector set),
a ∈ [0.25, 1], m ∈ [0, 1], θ uniform in [0, π] or, for 30 % of the points, within 0.3 of π (above
m ≈ 0.33 the rotated path then crosses a narrow gap, arXiv:2411.01079), T log-uniform in
[2, 80] (down to T = 2: far from adiabatic), dt ∈ {0.05, 0.1, 0.2, 0.25, 0.5}, every ramp, both
formulations, Trotter order 1 for 20 % of the circuit points; ``aer``: 1000–16000 shots per
basis; ``tdvp``: bond dimension 4, 8 or 16 (truncating from N = 8 on).  Each run gives three
points (energy, condensate, electric field) that share the prepared state, so their z-scores are
correlated.

``statevector-no-fidelity`` is the statevector estimator with the fidelity warning removed: the
fidelity needs the exact ground state, which no estimator has beyond N = 20, so this shows what
the warnings that need no exact answer (Landau–Zener probability along the path, leaked weight from
the energy variance) achieve on their own.  ``aer``, ``mps`` and ``tdvp`` never compute the
fidelity.

Sizes: ``"test"`` one or two small runs per estimator (seconds, the fast suite), ``"quick"`` tens
(minutes), ``"full"`` the recorded run.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from qlat.analysis.calibration.harness import CalibrationPoint, calibration_case

#: Observables of every run (the field on the middle link is chosen per chain).
OBSERVABLES = ("energy", "condensate", "electric_field")
#: Runs per size.
RUNS: dict[str, dict[str, int]] = {
    "statevector": {"test": 2, "quick": 40, "full": 300},
    "aer": {"test": 1, "quick": 10, "full": 50},
    "mps": {"test": 1, "quick": 8, "full": 40},
    "tdvp": {"test": 1, "quick": 5, "full": 30},
}
#: Long TDVP chains of the full size, checked against DMRG.
TDVP_LONG_RUNS = 3
#: Trotter steps considered affordable per simulator (statevector is fast; Aer simulates the circuit).
MAX_STEPS = {"statevector": 1600, "aer": 120, "mps": 120, "tdvp": 60}
DTS = (0.05, 0.1, 0.2, 0.25, 0.5)


def _draw(rng: np.random.Generator, *, sites: tuple[int, ...], time_range: tuple[float, float],
          dts: tuple[float, ...], max_steps: int) -> dict[str, Any]:
    """One random point (module docstring); T is a whole number of steps of dt."""
    from qlat.quantum.adiabatic import RAMPS

    near_pi = rng.random() < 0.3
    theta = math.pi - float(rng.uniform(0.0, 0.3)) if near_pi else float(rng.uniform(0.0, math.pi))
    dt = float(rng.choice(dts))
    total = math.exp(float(rng.uniform(math.log(time_range[0]), math.log(time_range[1]))))
    steps = int(min(max(2, round(total / dt)), max_steps))
    return {"N": int(rng.choice(sites)), "a": round(float(rng.uniform(0.25, 1.0)), 4),
            "m": round(float(rng.uniform(0.0, 1.0)), 4), "theta": round(theta, 4),
            "formulation": str(rng.choice(["rotated", "electric"])), "ramp": str(rng.choice(RAMPS)),
            "dt": dt, "T": round(steps * dt, 10), "steps": steps, "order": 1 if rng.random() < 0.2 else 2}


def _model_schedule(point: dict[str, Any]) -> tuple[Any, Any]:
    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(point["N"], point["a"], point["m"], theta=point["theta"],
                           formulation=point["formulation"])
    return model, AdiabaticSchedule(point["T"], point["dt"], ramp=point["ramp"])


def _keys(n_sites: int) -> tuple[str, ...]:
    return ("energy", "condensate", f"electric_field[{n_sites // 2 - 1}]")


def _run(model: Any, schedule: Any, **options: Any) -> Any:
    from qlat.core.errors import QlatWarning
    from qlat.quantum.adiabatic_run import run_adiabatic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QlatWarning)  # the warnings are in the Estimates and the report
        return run_adiabatic(model, schedule, observables=OBSERVABLES, **options)


def _points(estimator: str, result: Any, exact: dict[str, Any], point: dict[str, Any], *, reference: str = "ed",
            drop_fidelity: bool = False) -> Iterator[CalibrationPoint]:
    extra: dict[str, Any] = {}
    if result.fidelity is not None:
        extra["fidelity"] = result.fidelity.value
    some = next(iter(result.estimates.values()))
    state = some.provenance.get("systematic_method", {}).get("state_model")
    if state is not None:
        extra["leaked_weight"] = state["leaked_weight"]
    if "landau_zener" in some.provenance:
        extra["landau_zener"] = some.provenance["landau_zener"]["probability"]
    for key in _keys(point["N"]):
        est = result.estimates[key]
        if drop_fidelity:
            kept = [w for w in est.provenance.get("warnings", []) if not w.startswith("fidelity with the exact")]
            est = dataclasses.replace(est, provenance={**est.provenance, "warnings": kept})
        ref = exact[key]
        yield CalibrationPoint(estimator=estimator, observable=key.split("[")[0], estimate=est, exact=ref.value,
                               reference=reference, point={**point, **extra}, exact_error=ref.total_error)


def _statevector(estimator: str, rng: np.random.Generator, size: str, *,
                 drop_fidelity: bool) -> Iterator[CalibrationPoint]:
    from qlat.quantum.exact_backend import exact_estimates

    sites = (4, 6) if size == "test" else (4, 6, 8, 10, 12) if size == "quick" else (4, 6, 8, 10, 12, 14)
    time_range = (2.0, 10.0) if size == "test" else (2.0, 80.0)
    dts = DTS[1:] if size == "test" else DTS
    for _ in range(RUNS["statevector"][size]):
        point = _draw(rng, sites=sites, time_range=time_range, dts=dts, max_steps=MAX_STEPS["statevector"])
        model, schedule = _model_schedule(point)
        result = _run(model, schedule, backend="statevector", order=point["order"])
        exact = exact_estimates(model, observables=OBSERVABLES)
        yield from _points(estimator, result, exact, point, drop_fidelity=drop_fidelity)


@calibration_case("statevector", family="adiabatic",
                  description="adiabatic statevector vs ED: Lanczos-step model of the prepared state + residual "
                              "Trotter dependence; warns on a diabatic passage, a large leaked weight, low fidelity")
def statevector_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    yield from _statevector("statevector", rng, size, drop_fidelity=False)


@calibration_case("statevector-no-fidelity", family="adiabatic",
                  description="the statevector estimator without its fidelity warning (what the criteria that "
                              "need no exact answer achieve alone)")
def statevector_no_fidelity_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    yield from _statevector("statevector-no-fidelity", rng, size, drop_fidelity=True)


@calibration_case("aer", family="adiabatic",
                  description="Aer circuit sampled per basis vs ED: shot noise + the statevector systematic")
def aer_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.quantum.exact_backend import exact_estimates

    for _ in range(RUNS["aer"][size]):
        if size == "test":
            point = {"N": 4, "a": 0.5, "m": round(float(rng.uniform(0.0, 0.5)), 4),
                     "theta": round(float(rng.uniform(0.0, 2.0)), 4), "formulation": "rotated", "ramp": "sin2",
                     "dt": 0.5, "T": 6.0, "steps": 12}
        else:
            point = _draw(rng, sites=(4, 6, 8), time_range=(2.0, 30.0), dts=DTS[1:], max_steps=MAX_STEPS["aer"])
        point["shots"] = int(rng.choice([1000, 4000, 16000])) if size != "test" else 2000
        point["seed"] = int(rng.integers(0, 2**31 - 1))
        model, schedule = _model_schedule(point)
        result = _run(model, schedule, backend="aer", shots=point["shots"], seed=point["seed"],
                      order=point.get("order", 2))
        exact = exact_estimates(model, observables=OBSERVABLES)
        yield from _points("aer", result, exact, point)


@calibration_case("mps", family="adiabatic",
                  description="Aer matrix-product-state simulator (exact expectation values) vs ED: the "
                              "statevector systematic of the same schedule")
def mps_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.quantum.exact_backend import exact_estimates

    for _ in range(RUNS["mps"][size]):
        if size == "test":
            point = {"N": 4, "a": 0.5, "m": round(float(rng.uniform(0.0, 0.5)), 4),
                     "theta": round(float(rng.uniform(0.0, 2.0)), 4), "formulation": "electric",
                     "ramp": "smootherstep", "dt": 0.25, "T": 4.0, "steps": 16}
        else:
            point = _draw(rng, sites=(4, 6, 8, 10), time_range=(2.0, 30.0), dts=DTS[1:], max_steps=MAX_STEPS["mps"])
        model, schedule = _model_schedule(point)
        result = _run(model, schedule, backend="mps", order=point.get("order", 2))
        exact = exact_estimates(model, observables=OBSERVABLES)
        yield from _points("mps", result, exact, point)


def _dmrg_reference(model: Any) -> dict[str, Any]:
    from qlat.exact.dmrg import dmrg_estimates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dmrg_estimates(model, list(OBSERVABLES), bond_dim=96)


@calibration_case("tdvp", family="adiabatic",
                  description="TeNPy TDVP on an MPS vs ED (N <= 10) and DMRG (full: N = 20-24): Lanczos-step "
                              "model on the MPS + residual time-step and truncation dependence")
def tdvp_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.quantum.exact_backend import exact_estimates

    for _ in range(RUNS["tdvp"][size]):
        if size == "test":
            point = {"N": 4, "a": 0.5, "m": round(float(rng.uniform(0.0, 0.5)), 4),
                     "theta": round(float(rng.uniform(0.0, 2.0)), 4), "formulation": "rotated",
                     "ramp": "smootherstep", "dt": 0.5, "T": 4.0, "steps": 8, "bond_dim": 4}
        else:
            point = _draw(rng, sites=(4, 6, 8, 10), time_range=(2.0, 20.0), dts=DTS[2:], max_steps=MAX_STEPS["tdvp"])
            point["bond_dim"] = int(rng.choice([4, 8, 16]))
        model, schedule = _model_schedule(point)
        result = _run(model, schedule, backend="tdvp", max_bond_dimension=point["bond_dim"])
        exact = exact_estimates(model, observables=OBSERVABLES)
        yield from _points("tdvp", result, exact, point)
    if size != "full":
        return
    for _ in range(TDVP_LONG_RUNS):
        point = _draw(rng, sites=(20, 24), time_range=(8.0, 20.0), dts=(0.5,), max_steps=40)
        point["bond_dim"] = int(rng.choice([16, 32]))
        model, schedule = _model_schedule(point)
        result = _run(model, schedule, backend="tdvp", max_bond_dimension=point["bond_dim"])
        yield from _points("tdvp", result, _dmrg_reference(model), point, reference="dmrg")
