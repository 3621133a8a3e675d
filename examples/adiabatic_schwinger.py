"""Adiabatic preparation of the Schwinger vacuum with a θ term, checked against exact diagonalization.

The library path behind `qlat schwinger adiabatic` (arXiv:2001.00485): build the model, pick a
schedule, run it on a backend, compare with ED — every number an Estimate with its statistical
and systematic (Trotter, adiabatic) error.  Run:  .venv/bin/python examples/adiabatic_schwinger.py
The script checks its own numbers and exits non-zero if one is off.
"""

import math
import sys

import qlat
from qlat.analysis.crosscheck import CrossCheck
from qlat.quantum.adiabatic import AdiabaticSchedule, default_schedule
from qlat.quantum.diagnostics import minimum_gap_along_path
from qlat.theories.schwinger_qubit import SchwingerModel

failures = []


def check(ok: bool, what: str) -> None:
    print(f"  [{'ok' if ok else 'FAILED'}] {what}")
    if not ok:
        failures.append(what)


model = SchwingerModel(n_sites=8, spacing=0.5, mass=0.1, theta=math.pi / 4)
schedule = default_schedule(model)
print("schedule:", schedule)

gap = minimum_gap_along_path(model, schedule, n_points=21)
print(f"minimum gap along the path: {gap['min_gap']:.4f} at s = {gap['s_min']:.2f}")
check(gap["min_gap"] > 0.1, "the path stays gapped (no level crossing)")

names = ["energy", "condensate"]
short = AdiabaticSchedule(total_time=20.0, dt=0.2, initial_mass=0.5, ramp="smootherstep")
check_table = CrossCheck.from_backends(
    model, names, backends=["ed", "statevector", "aer"],
    options={"statevector": {"schedule": schedule}, "aer": {"schedule": short, "shots": 4000, "seed": 7}},
)
print(check_table.table())
for label in ("statevector", "aer"):
    for name in names:
        z = check_table.comparison(label, name)["z"]
        check(abs(z) < 3, f"{label} {name} agrees with ED within its total error (z = {z:+.2f})")

exact = qlat.estimate(model, ["condensate"], backend="ed")["condensate"]
sv = check_table.entries["statevector"]["condensate"]
check(abs(sv.value - exact.value) < 2e-4, f"default schedule: |Δ⟨ψ̄ψ⟩| = {abs(sv.value - exact.value):.1e} < 2e-4")

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("all checks passed (exact values from qlat.estimate(..., backend='ed'))")
