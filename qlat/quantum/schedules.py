r"""Adiabatic schedules for a two-qubit-gate budget: the best ramp, T and step count a device can afford.

A device run can afford a fixed number B of two-qubit gates; each second-order Trotter step of
the swap-network circuit costs about 3N(N−1)/2 + 3(N−1) of them on a line
(:mod:`qlat.quantum.trotter`), so at most K(B) steps fit.  Within that budget three choices
remain, and they pull in different directions:

- the total time T: longer is more adiabatic (diabatic leakage falls with T, faster for smooth
  ramps, :mod:`qlat.quantum.adiabatic`), but with K steps the step dt = T/K grows;
- the number of steps n ≤ K: fewer steps cost fewer gates (less noise on hardware);
- the ramp s(t/T) and the start mass m₀.

Large steps are less harmful than a naive Trotter bound suggests: in digital adiabatic state
preparation the Trotter error does not accumulate along the path but "self-heals" at the end
(Kovalsky, Calderon-Vargas, Grace, Magann, Larsen, Baczewski, Sarovar, PRL 131, 060602 (2023),
arXiv:2209.06242), so the best schedule at a fixed gate count usually takes T well beyond n·dt
of a converged Trotterization.  :func:`budget_schedule` therefore searches the grid
(n ≤ K) × T × ramp × m₀ with qlat's statevector kernel and exact diagonalization (the
*fidelity* with the exact ground state is the objective; the condensate and energy errors of the
winner are reported with it), on the model itself (N ≤ :data:`MAX_SEARCH_SITES`) or on a smaller
chain with the same a, m, θ whose best (T, ramp, m₀) is transferred (the step count then taken
from the budget at the target N).  The gate count is that of the logical line circuit
(:func:`qlat.quantum.trotter.gate_counts`; the transpiled count on a device line is the same,
``benchmarks/results/ibm_gate_counts.json``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from qlat.core.errors import require
from qlat.quantum.adiabatic import RAMPS, AdiabaticSchedule
from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["BudgetSchedule", "budget_schedule", "line_two_qubit_cost", "max_steps"]

#: Largest chain searched directly (each grid point is one statevector evolution and ED is cached).
MAX_SEARCH_SITES = 14
#: Default grid of total times T (units of 1/g) and start masses m₀.
DEFAULT_TIMES: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0)
DEFAULT_INITIAL_MASSES: tuple[float, ...] = (0.5, 1.0, 2.0)


def line_two_qubit_cost(model: SchwingerModel, n_steps: int, *, order: int = 2) -> int:
    """Two-qubit gates (CNOT cost) of the measured line (swap-network) circuit with ``n_steps`` steps.

    Exact: the cost is affine in the step count, so two small circuits give it for any n.
    """
    from qlat.quantum.trotter import adiabatic_circuit, gate_counts

    require(isinstance(n_steps, int) and n_steps >= 1, "n_steps", "must be an integer >= 1", n_steps)

    def cost(k: int) -> int:
        sched = AdiabaticSchedule(total_time=float(k), dt=1.0)
        return int(gate_counts(adiabatic_circuit(model, sched, order=order, layout="line", measure=True))["two_qubit"])

    one, two = cost(1), cost(2)
    return one + (n_steps - 1) * (two - one)


def max_steps(model: SchwingerModel, budget: int, *, order: int = 2) -> int:
    """The most Trotter steps whose line circuit fits in ``budget`` two-qubit gates (0 if none)."""
    require(isinstance(budget, int) and budget >= 1, "budget", "must be an integer number of two-qubit gates >= 1",
            budget)
    one = line_two_qubit_cost(model, 1, order=order)
    if one > budget:
        return 0
    per_step = line_two_qubit_cost(model, 2, order=order) - one
    return 1 + (budget - one) // per_step if per_step > 0 else 1


@dataclass(frozen=True)
class BudgetSchedule:
    """The outcome of :func:`budget_schedule`.

    schedule: the chosen :class:`AdiabaticSchedule`; two_qubit_gates: its line-circuit cost at the
    target N; fidelity / condensate_error / energy_error: at the searched chain (``searched_sites``;
    the target itself when it was searched directly) — the error the schedule leaves;
    best_per_steps: the best fidelity found for each step count; grid: what was searched.
    """

    model: SchwingerModel
    budget: int
    schedule: AdiabaticSchedule
    two_qubit_gates: int
    fidelity: float
    condensate_error: float
    energy_error: float
    searched_sites: int
    best_per_steps: dict[int, dict[str, Any]] = field(default_factory=dict)
    grid: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from qlat.quantum.adiabatic_run import schedule_description

        return {"budget": self.budget, "schedule": schedule_description(self.schedule),
                "two_qubit_gates": self.two_qubit_gates, "fidelity": self.fidelity,
                "condensate_error": self.condensate_error, "energy_error": self.energy_error,
                "searched_sites": self.searched_sites, "target_sites": self.model.n_sites,
                "best_per_steps": {str(k): v for k, v in self.best_per_steps.items()}, "grid": self.grid,
                "method": "grid search (steps <= budget) x T x ramp x m0, fidelity with the exact ground state by the "
                          "statevector kernel; Kovalsky et al. arXiv:2209.06242 (Trotter error self-heals)"}

    def __str__(self) -> str:
        s = self.schedule
        where = "" if self.searched_sites == self.model.n_sites else f" (searched at N = {self.searched_sites})"
        return (f"budget {self.budget} two-qubit gates at N = {self.model.n_sites}: T = {s.total_time:g}, dt = "
                f"{s.dt:g} ({s.n_steps} steps), ramp {s.ramp}, m0 = {s.initial_mass:g}; {self.two_qubit_gates} "
                f"two-qubit gates; fidelity {self.fidelity:.4f}, condensate error {self.condensate_error:+.2e}, "
                f"energy error {self.energy_error:+.2e}{where}")


def budget_schedule(
    model: SchwingerModel,
    budget: int,
    *,
    order: int = 2,
    times: Sequence[float] = DEFAULT_TIMES,
    ramps: Sequence[str] = RAMPS,
    initial_masses: Sequence[float] = DEFAULT_INITIAL_MASSES,
    search_sites: int | None = None,
) -> BudgetSchedule:
    """The adiabatic schedule of highest ground-state fidelity within ``budget`` two-qubit gates (module docstring).

    ``search_sites``: the chain searched (default: the model's N if N ≤ :data:`MAX_SEARCH_SITES`,
    else that limit); its best T, ramp and m₀ are used at the model's N with the most steps that
    fit there (never more than the searched step count).
    """
    from qlat.exact.diagonalization import diagonalize_sector, sector_expectations
    from qlat.quantum.statevector import evolve_statevector
    from qlat.theories.schwinger_observables import qubit_observable

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    n_target = int(model.n_sites)
    searched = n_target if search_sites is None and n_target <= MAX_SEARCH_SITES else (
        MAX_SEARCH_SITES if search_sites is None else int(search_sites))
    require(4 <= searched <= MAX_SEARCH_SITES and searched % 2 == 0, "search_sites",
            f"must be an even chain length in [4, {MAX_SEARCH_SITES}]", searched)
    require(len(times) >= 1 and all(math.isfinite(t) and t > 0 for t in times), "times", "must be positive numbers",
            times)
    for ramp in ramps:
        require(ramp in RAMPS, "ramps", f"must be among {', '.join(RAMPS)}", ramp)
    k_target = max_steps(model, budget, order=order)
    require(k_target >= 1, "budget", f"is below the cost of one Trotter step at N = {n_target} "
            f"({line_two_qubit_cost(model, 1, order=order)} two-qubit gates)", budget)
    small = model if searched == n_target else replace(model, n_sites=searched)
    k_search = max(1, min(max_steps(small, budget, order=order), k_target)) if searched != n_target else k_target
    spectrum = diagonalize_sector(small, k=1, sector="physical")
    ops = {k: qubit_observable(k, small).terms[0] for k in ("energy", "condensate")}
    exact = sector_expectations(spectrum, ops)
    ground = spectrum.vectors[:, 0]
    best_per: dict[int, dict[str, Any]] = {}
    best: tuple[float, AdiabaticSchedule, dict[str, float]] | None = None
    for n_steps in range(1, k_search + 1):
        for total_time in times:
            for ramp in ramps:
                for m0 in initial_masses:
                    sched = AdiabaticSchedule(total_time=float(total_time), dt=float(total_time) / n_steps,
                                              initial_mass=float(m0), ramp=ramp)
                    psi = evolve_statevector(small, sched, order=order)
                    sector = psi[spectrum.basis]
                    fid = float(min(1.0, abs(np.vdot(ground, sector)) ** 2))
                    if n_steps not in best_per or fid > best_per[n_steps]["fidelity"]:
                        best_per[n_steps] = {"fidelity": fid, "total_time": float(total_time), "ramp": ramp,
                                             "initial_mass": float(m0)}
                    if best is None or fid > best[0]:
                        from qlat.quantum.statevector import expectation_values

                        values = expectation_values(psi, ops)
                        best = (fid, sched, {k: float(values[k] - exact[k]) for k in ops})
    assert best is not None
    fid, chosen, errors = best
    if searched != n_target:  # transfer T, ramp and m0; the step count the budget allows at the target N
        n_use = min(k_target, chosen.n_steps)
        chosen = AdiabaticSchedule(total_time=chosen.total_time, dt=chosen.total_time / n_use,
                                   initial_mass=chosen.initial_mass, ramp=chosen.ramp)
    return BudgetSchedule(
        model=model, budget=int(budget), schedule=chosen,
        two_qubit_gates=line_two_qubit_cost(model, chosen.n_steps, order=order), fidelity=fid,
        condensate_error=errors["condensate"], energy_error=errors["energy"], searched_sites=searched,
        best_per_steps=best_per,
        grid={"times": [float(t) for t in times], "ramps": list(ramps),
              "initial_masses": [float(m) for m in initial_masses], "max_steps_searched": k_search, "order": order},
    )
