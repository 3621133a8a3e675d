"""The main job as one result object (``qlat demo``): adiabatic Schwinger-model vacua on the local simulator vs ED.

:func:`run_demo` prepares the vacuum of the N = 8, a = 0.5, m = 0.1 Schwinger model at θ = 0,
π/4, π/2 by the adiabatic schedule of arXiv:2001.00485 (library default T, dt; second-order
Trotter) on the statevector simulator, repeats θ = 0 with shot noise on Qiskit Aer, and compares
every number with exact diagonalization.  :class:`DemoResult` prints the table and the check
(|Δ⟨ψ̄ψ⟩| < 1e-3, fidelity >= 0.99, shot run |z| < 4), and writes ``demo.json`` and ``demo.png``.
Units: g = 1.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.analysis.tables import format_table

#: The demo's lattice: N, a, m (units of g), θ of the statevector runs (radians).
DEMO_SITES, DEMO_SPACING, DEMO_MASS = 8, 0.5, 0.1
DEMO_THETAS = (0.0, math.pi / 4, math.pi / 2)
#: Points of the exact condensate curve in [0, π].
CURVE_POINTS = 25
#: What the demo checks: statevector condensate within this of ED, fidelity at least this, shot |z| below this.
MAX_CONDENSATE_DEVIATION, MIN_FIDELITY, MAX_SHOT_Z = 1e-3, 0.99, 4.0


def _base_model() -> Any:
    from qlat.theories.schwinger_qubit import SchwingerModel

    return SchwingerModel(DEMO_SITES, DEMO_SPACING, DEMO_MASS, 0.0)


def demo_header() -> str:
    """What the demo runs (printed before it starts)."""
    from qlat.quantum.adiabatic import default_schedule

    base = _base_model()
    schedule = default_schedule(base)
    return (f"qlat demo: adiabatic preparation of the Schwinger vacuum (arXiv:2001.00485)\n"
            f"  N={base.n_sites} a={base.spacing} m={base.mass} g=1, rotated formulation, "
            f"T={schedule.total_time:g} dt={schedule.dt:g} ramp={schedule.ramp} m0={schedule.initial_mass:g}, "
            f"2nd-order Trotter\n")


@dataclass
class DemoResult:
    """The statevector and Aer runs beside ED, the exact condensate curve, and the check."""

    records: list[dict[str, Any]]
    rows: list[tuple[Any, ...]]
    shot_z: float
    curve_theta: list[float]
    curve_condensate: list[float]
    provenance: dict[str, Any]
    seconds: float
    seed: int | None = None

    def table(self) -> str:
        return format_table(["θ", "backend", "energy", "energy (ED)", "⟨ψ̄ψ⟩", "⟨ψ̄ψ⟩ (ED)", "|Δ⟨ψ̄ψ⟩|",
                             "fidelity"], self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "exact_curve": {"theta": self.curve_theta,
                                                         "condensate": self.curve_condensate},
                "seed": self.seed, "provenance": self.provenance}

    @property
    def worst_deviation(self) -> float:
        """max |⟨ψ̄ψ⟩_statevector − ⟨ψ̄ψ⟩_ED| over θ."""
        return max(abs(r["result"]["estimates"]["condensate"]["value"] - r["exact"]["condensate"].value)
                   for r in self.records if r["backend"] == "statevector")

    @property
    def min_fidelity(self) -> float:
        return min(r["result"]["fidelity"]["value"] for r in self.records if r["backend"] == "statevector")

    @property
    def passed(self) -> bool:
        return (self.worst_deviation < MAX_CONDENSATE_DEVIATION and self.min_fidelity >= MIN_FIDELITY
                and abs(self.shot_z) < MAX_SHOT_Z)

    def check_line(self) -> str:
        return (f"check vs ED: max |Δ⟨ψ̄ψ⟩| = {self.worst_deviation:.1e} (< 1e-3), min fidelity = "
                f"{self.min_fidelity:.7f} (>= 0.99), shot run z = {self.shot_z:+.2f} (|z| < 4): "
                f"{'PASS' if self.passed else 'FAIL'}")

    def write(self, folder: str | Path) -> dict[str, Path]:
        """``demo.json`` and ``demo.png`` in ``folder``."""
        from qlat.core.jsonio import jsonable

        folder = Path(folder)
        files = {"json": folder / "demo.json", "plot": folder / "demo.png"}
        files["json"].write_text(json.dumps(jsonable(self.to_dict()), indent=2) + "\n")
        self.plot(files["plot"])
        return files

    def plot(self, path: str | Path) -> None:
        """The condensate against θ (ED curve, statevector points, Aer points with their error bars) and,
        below, each point's residual to ED with its total error (statistical ⊕ systematic)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        def value(x: Any) -> float:
            return float(x.value if hasattr(x, "value") else x["value"])

        def total(c: Mapping[str, Any]) -> float:
            return math.hypot(float(c["error"]), float(c.get("systematic") or 0.0))

        fig, (ax, res) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True, height_ratios=(2.2, 1.0))
        ax.plot(self.curve_theta, self.curve_condensate, "k-", label="exact diagonalization")
        sv = [r for r in self.records if r["backend"] == "statevector"]
        sv_cond = [r["result"]["estimates"]["condensate"] for r in sv]
        ax.plot([r["theta"] for r in sv], [c["value"] for c in sv_cond], "o", ms=8, mfc="none",
                label="adiabatic, statevector")
        sh = [r for r in self.records if r["backend"] == "aer"]
        cond = [r["result"]["estimates"]["condensate"] for r in sh]
        x = [r["theta"] + 0.03 for r in sh]
        ax.errorbar(x, [c["value"] for c in cond], yerr=[total(c) for c in cond], fmt="none", color="C1", alpha=0.35,
                    elinewidth=4)
        ax.errorbar(x, [c["value"] for c in cond], yerr=[c["error"] for c in cond], fmt="s", color="C1",
                    capsize=3, label="adiabatic, Aer shots (stat; light: stat ⊕ syst)")
        ax.set_ylabel("⟨ψ̄ψ⟩ = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩  [g]", fontsize=10)
        ax.set_title(f"Schwinger vacuum, N={DEMO_SITES}, a={DEMO_SPACING}, m={DEMO_MASS} g (rotated)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        res.axhline(0.0, color="k", lw=1)
        res.errorbar([r["theta"] for r in sv], [c["value"] - value(r["exact"]["condensate"]) for r, c in zip(sv, sv_cond)],
                     yerr=[total(c) for c in sv_cond], fmt="o", mfc="none", capsize=3, label="statevector (syst)")
        res.errorbar(x, [c["value"] - value(r["exact"]["condensate"]) for r, c in zip(sh, cond)],
                     yerr=[total(c) for c in cond], fmt="s", color="C1", capsize=3, label="Aer (stat ⊕ syst)")
        res.set_xlabel("vacuum angle θ  [rad]", fontsize=10)
        res.set_ylabel("value − ED  [g]", fontsize=10)
        res.grid(alpha=0.3)
        res.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def run_demo(*, shots: int = 4000, seed: int = 2001) -> DemoResult:
    """The demo's runs (statevector at :data:`DEMO_THETAS`, Aer with ``shots`` and ``seed`` at θ = 0) and the
    exact curve; the seed is recorded in the result."""
    import numpy as np

    from qlat.core.provenance import provenance
    from qlat.exact.diagonalization import diagonalize, expectation
    from qlat.quantum.adiabatic import default_schedule
    from qlat.quantum.adiabatic_run import run_adiabatic
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.observables import qubit_observable

    t0 = time.perf_counter()
    base = _base_model()
    records: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    for theta in DEMO_THETAS:
        model = base.with_(theta=theta)
        sv = run_adiabatic(model, default_schedule(model), observables=("energy", "condensate"),
                           backend="statevector", order=2)
        ex = exact_estimates(model)
        records.append({"theta": theta, "backend": "statevector", "result": sv.to_dict(),
                        "exact": {k: ex[k] for k in ("energy", "condensate", "gap")}})
        rows.append((f"{theta:.4f}", "statevector", sv.estimates["energy"], ex["energy"],
                     sv.estimates["condensate"], ex["condensate"],
                     f"{abs(sv.estimates['condensate'].value - ex['condensate'].value):.1e}",
                     f"{sv.fidelity.value:.7f}" if sv.fidelity is not None else "-"))
    aer = run_adiabatic(base, default_schedule(base), observables=("energy", "condensate"),
                        backend="aer", shots=shots, seed=seed, order=2)
    ex0 = exact_estimates(base)
    z = aer.estimates["condensate"].z_score(ex0["condensate"])
    records.append({"theta": 0.0, "backend": "aer", "result": aer.to_dict(),
                    "exact": {k: ex0[k] for k in ("energy", "condensate")}})
    rows.append(("0.0000", f"aer {shots} shots", aer.estimates["energy"], ex0["energy"],
                 aer.estimates["condensate"], ex0["condensate"], f"z={z:+.2f}", "-"))
    dense = np.linspace(0.0, math.pi, CURVE_POINTS)
    curve = []
    for th in dense:
        m = base.with_(theta=float(th))
        curve.append(expectation(diagonalize(m, k=1).ground_state, qubit_observable("condensate", m).operators[0]))
    return DemoResult(records=records, rows=rows, shot_z=z, curve_theta=[float(t) for t in dense],
                      curve_condensate=[float(c) for c in curve],
                      provenance=provenance(command="qlat demo", seconds=time.perf_counter() - t0),
                      seconds=time.perf_counter() - t0, seed=seed)
