r"""Multi-product formulas for the Trotter error of adiabatic preparations on a device.

The second-order product formula of :mod:`qlat.quantum.trotter` is time-symmetric (Strang
splitting with midpoint couplings), so the value of an observable after k steps over a fixed
time T has an error expansion in even powers of the step, ⟨O⟩_k = ⟨O⟩_∞ + a₁(T/k)² + a₂(T/k)⁴ + ….
A static multi-product formula (Carrera Vazquez, Egger, Ochsner, Woerner, Quantum 7, 1067 (2023);
Zhuk, Robertson, Bravyi 2023) combines runs with k₁ < … < k_J steps,

.. math::
    \langle O\rangle_\text{MPF} = \sum_j c_j \langle O\rangle_{k_j}, \qquad
    \sum_j c_j = 1, \quad \sum_j c_j k_j^{-2i} = 0 \;(i = 1 … J−1),

cancelling the first J − 1 error terms.  The coefficients come from ``qiskit-addon-mpf``
(``setup_static_lse(steps, order=2, symmetric=True).solve()``).  Statistical errors add as
σ² = Σ c_j² σ_j² (the runs are independent), so the MPF pays Σ|c_j| in noise — and it
extrapolates the *hardware* bias as well as the Trotter error (deeper circuits are noisier).

:func:`run_mpf` runs :func:`qlat.quantum.ibm.backend.run_on_device` once per step count and returns
the combined Estimates.  Systematic sources: ``"trotter"`` = |MPF of the noiseless circuit values −
the same schedule at a fine step (``MPF_REFERENCE_FACTOR`` × k_J steps, the statevector kernel)|,
the Trotter error left; ``"adiabatic"`` = |fine-step value − exact diagonalization| (N ≤ 20);
``"noise"`` = (Σ_j (c_j δ_j)²)^{1/2} of the runs' hardware-noise estimates.  The provenance keeps
every run's value, the coefficients and the noiseless MPF value (the MPF's noiseless-circuit value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qlat.core.errors import require
from qlat.core.estimate import Estimate

#: The fine-step reference of the "trotter" systematic takes this many times the most steps.
MPF_REFERENCE_FACTOR = 50


def mpf_coefficients(steps: Sequence[int], *, order: int = 2) -> np.ndarray:
    """Static MPF coefficients c_j for step counts ``steps`` (qiskit-addon-mpf; symmetric for order 2)."""
    from qiskit_addon_mpf.static import setup_static_lse

    ks = [int(k) for k in steps]
    require(len(ks) >= 2 and len(set(ks)) == len(ks) and all(k >= 1 for k in ks) and ks == sorted(ks), "steps",
            "must be at least two distinct increasing step counts >= 1", steps)
    require(order in (1, 2), "order", "must be 1 or 2", order)
    lse = setup_static_lse(ks, order=order, symmetric=order == 2)
    return np.asarray(lse.solve(), dtype=float)


@dataclass(frozen=True)
class MPFRun:
    """The combined Estimates, the coefficients and every single-step-count run."""

    estimates: dict[str, Estimate]
    steps: tuple[int, ...]
    coefficients: np.ndarray
    runs: tuple[Any, ...]


def run_mpf(model: Any, *, schedule: Any, steps: Sequence[int], backend: str,
            observables: Sequence[str] = ("energy", "condensate"), order: int = 2, **options: Any) -> MPFRun:
    """Run the adiabatic ``schedule`` (its T, ramp, m₀) with each step count and combine (module docstring).

    ``options`` go to :func:`~qlat.quantum.ibm.backend.run_on_device` (shots, seed, mitigation,
    store, device_noise …); every run must finish (local testing mode, or ``ibm:`` with ``wait``).
    """
    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.quantum.ibm.backend import run_on_device

    require(isinstance(schedule, AdiabaticSchedule), "schedule", "must be an AdiabaticSchedule",
            type(schedule).__name__)
    ks = tuple(int(k) for k in steps)
    coefficients = mpf_coefficients(ks, order=order)
    total = schedule.total_time
    runs = []
    for k in ks:
        run = run_on_device(model, backend=backend, schedule=replace(schedule, dt=total / k), observables=observables,
                            order=order, **options)
        require(run.estimates is not None, "backend", f"the {k}-step job did not finish ({run.status}); MPF needs every "
                "run", backend)
        runs.append(run)
    first = runs[0].estimates
    assert first is not None
    fine = _fine_reference(model, replace(schedule, dt=total / (MPF_REFERENCE_FACTOR * ks[-1])), first, order=order)
    out: dict[str, Estimate] = {}
    for key, est0 in first.items():
        per = [dict(r.estimates or {})[key] for r in runs]
        value = float(sum(c * e.value for c, e in zip(coefficients, per)))
        error = math.sqrt(sum((c * e.error) ** 2 for c, e in zip(coefficients, per)))
        noiseless = [e.provenance.get("noiseless_value") for e in per]
        prov: dict[str, Any] = {**est0.provenance, "mpf": {
            "steps": list(ks), "coefficients": [float(c) for c in coefficients],
            "method": "static MPF, qiskit-addon-mpf setup_static_lse(steps, order=2, symmetric=True).solve()",
            "runs": [{"steps": k, "value": e.value, "error": e.error, "noiseless": nl, "ref": r.ref}
                     for k, e, nl, r in zip(ks, per, noiseless, runs)]}}
        sources: dict[str, float] = {}
        noise = [e.provenance.get("systematic_sources", {}).get("noise") for e in per]
        if all(n is not None for n in noise):
            sources["noise"] = math.sqrt(sum((c * float(n or 0.0)) ** 2 for c, n in zip(coefficients, noise)))
        if all(nl is not None for nl in noiseless) and key in fine:
            mpf_noiseless = float(sum(c * float(nl or 0.0) for c, nl in zip(coefficients, noiseless)))
            prov["noiseless_value"] = mpf_noiseless
            prov["mpf"]["fine_step_value"] = fine[key]
            sources["trotter"] = abs(mpf_noiseless - fine[key])
            exact = est0.provenance.get("exact_value")
            if exact is not None:
                sources["adiabatic"] = abs(fine[key] - float(exact))
        base = Estimate(value, error, name=key, unit=est0.unit, n_samples=sum(e.n_samples or 0 for e in per),
                        backend=f"{est0.backend}+mpf", provenance={k: v for k, v in prov.items()
                                                                   if k != "systematic_sources"})
        out[key] = base.with_systematic(sources) if sources else base
    return MPFRun(estimates=out, steps=ks, coefficients=coefficients, runs=tuple(runs))


def _fine_reference(model: Any, schedule: Any, estimates: dict[str, Estimate], *, order: int) -> dict[str, float]:
    """Values at a fine step (statevector kernel, N ≤ its limit) for the keys whose operator is known."""
    from qlat.quantum.statevector import MAX_QUBITS, evolve_statevector, expectation_values

    if model.n_qubits > MAX_QUBITS:
        return {}
    from qlat.quantum.ibm.backend import _components

    names = list(dict.fromkeys(e.provenance.get("observable", k.split("[")[0]) for k, e in estimates.items()
                               if k != "discarded_fraction"))
    ops = {key: op for key, _, _, op in _components(model, names)}
    return expectation_values(evolve_statevector(model, schedule, order=order), ops)
