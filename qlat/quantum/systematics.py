r"""Systematic errors of an adiabatically prepared expectation value: Trotter step and finite T.

The adiabatic estimate ⟨O⟩(T, dt) differs from the ground-state value by a Trotter error (finite
dt) and an adiabatic error (finite T, leakage into excited states).  Neither is in the
statistical error.  The cheap default estimate (:func:`adiabatic_systematics`, run on qlat's
statevector fast path whatever backend produced the value, since both errors are properties of
the schedule and not of the simulator):

- Trotter: with a step of order p the error is c·dt^p, so ⟨O⟩(dt) − ⟨O⟩(2dt) = (1 − 2^p)c·dt^p
  and the error at dt is |⟨O⟩(dt) − ⟨O⟩(2dt)| / (2^p − 1) (Richardson).  When T/dt is odd the
  step is halved instead: error = |⟨O⟩(dt) − ⟨O⟩(dt/2)| / (1 − 2^{−p}).
- adiabatic: |⟨O⟩(T) − ⟨O⟩(T/2)| at the same dt — the leakage shrinks with T (like 1/T for a
  linear ramp, faster for smooth ones, arXiv:2001.00485), so the difference to half the time
  bounds the remaining error from above unless the oscillations in T happen to cancel; the
  fitted T → ∞ extrapolation (:mod:`qlat.analysis.adiabatic_limits`) is the exact-on-request
  alternative.

Cost: one run at 2dt (or dt/2) and one at T/2, i.e. 1.0–2.5× the main statevector run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qlat.quantum.statevector import MAX_QUBITS as STATEVECTOR_MAX_QUBITS

if TYPE_CHECKING:  # pragma: no cover
    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.theories.schwinger_qubit import SchwingerModel

#: Largest chain whose systematic errors are estimated by default (statevector reruns).
SYSTEMATICS_MAX_SITES = 22


def _values(model: "SchwingerModel", schedule: "AdiabaticSchedule", ops: Mapping[str, Any], order: int) -> dict:
    from qlat.quantum.statevector import evolve_statevector, expectation_values

    return expectation_values(evolve_statevector(model, schedule, order=order), ops)


def adiabatic_systematics(
    model: "SchwingerModel",
    schedule: "AdiabaticSchedule",
    ops: Mapping[str, Any],
    *,
    order: int,
    reference: Mapping[str, float] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """``({key: {"trotter": δ, "adiabatic": δ}}, description)`` for the operators ``ops``.

    ``reference`` are the statevector values at (T, dt) if already computed (saves one run).
    """
    n_steps = int(schedule.n_steps)
    base = dict(reference) if reference is not None else _values(model, schedule, ops, order)
    if n_steps % 2 == 0 and n_steps >= 2:
        coarse = dataclasses.replace(schedule, dt=2 * schedule.dt)
        other = _values(model, coarse, ops, order)
        trotter = {k: abs(base[k] - other[k]) / (2**order - 1) for k in ops}
        trotter_how = f"|O(dt) - O(2dt)|/(2^{order} - 1), 2dt = {coarse.dt:g}"
        half = dataclasses.replace(schedule, total_time=schedule.total_time / 2)
        short = _values(model, half, ops, order)
        adiabatic = {k: abs(base[k] - short[k]) for k in ops}
        adiabatic_how = f"|O(T) - O(T/2)|, T/2 = {half.total_time:g}"
    else:
        fine = dataclasses.replace(schedule, dt=schedule.dt / 2)
        other = _values(model, fine, ops, order)
        trotter = {k: abs(base[k] - other[k]) / (1 - 2.0**-order) for k in ops}
        trotter_how = f"|O(dt) - O(dt/2)|/(1 - 2^-{order}), dt/2 = {fine.dt:g}"
        # T/2 with an odd step count: keep dt and take the nearest whole number of steps
        steps = max(1, n_steps // 2)
        half = dataclasses.replace(schedule, total_time=steps * schedule.dt)
        short = _values(model, half, ops, order)
        adiabatic = {k: abs(base[k] - short[k]) for k in ops}
        adiabatic_how = f"|O(T) - O(T')|, T' = {half.total_time:g}"
    sources = {k: {"trotter": float(trotter[k]), "adiabatic": float(adiabatic[k])} for k in ops}
    return sources, {"trotter": trotter_how, "adiabatic": adiabatic_how, "simulator": "statevector"}


def can_estimate(model: "SchwingerModel") -> bool:
    """Whether the default estimate is affordable (statevector reruns of the chain)."""
    return model.n_qubits <= min(SYSTEMATICS_MAX_SITES, STATEVECTOR_MAX_QUBITS)
