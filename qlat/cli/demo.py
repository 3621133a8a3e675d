"""``qlat demo``: the main job — adiabatic Schwinger-model vacua on the local simulator vs ED.

Prepares the vacuum of the N = 8, a = 0.5, m = 0.1 Schwinger model at θ = 0, π/4, π/2 by the
adiabatic schedule of arXiv:2001.00485 (library default T, dt; second-order Trotter) on the fast
statevector simulator, repeats θ = 0 with shot noise on Qiskit Aer, and compares every number with
exact diagonalization.  Writes ``demo.json`` and ``demo.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from qlat.cli._common import add_out_flag, add_seed_flag, ensure_output_dir, format_table, jsonable, resolve_seed
from qlat.core.errors import require
from qlat.core.provenance import provenance

#: Position in ``qlat --help``.
HELP_ORDER = 20
HELP = "adiabatic Schwinger vacuum on the local simulator, checked against ED"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help=HELP)
    add_out_flag(p, "demo.json and demo.png", default="demo-output")
    p.add_argument("--shots", type=int, default=4000, help="shots per basis of the Aer run at θ = 0 (>= 1)")
    add_seed_flag(p, "the shot sampling (make demo uses 2001, the README's numbers)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import numpy as np

    from qlat.exact.diagonalization import diagonalize, expectation
    from qlat.quantum.adiabatic import default_schedule
    from qlat.quantum.adiabatic_run import run_adiabatic
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.observables import qubit_observable
    from qlat.theories.schwinger_qubit import SchwingerModel

    require(args.shots >= 1, "--shots", "must be an integer >= 1", args.shots)
    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    ensure_output_dir(args.out, "--out")
    resolve_seed(args)
    t0 = time.perf_counter()
    base = SchwingerModel(8, 0.5, 0.1, 0.0)
    thetas = [0.0, math.pi / 4, math.pi / 2]
    schedule = default_schedule(base)
    print(f"qlat demo: adiabatic preparation of the Schwinger vacuum (arXiv:2001.00485)\n"
          f"  N={base.n_sites} a={base.spacing} m={base.mass} g=1, rotated formulation, "
          f"T={schedule.total_time:g} dt={schedule.dt:g} ramp={schedule.ramp} m0={schedule.initial_mass:g}, "
          f"2nd-order Trotter\n")
    records: list[dict[str, Any]] = []
    rows = []
    for theta in thetas:
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
    model0 = base
    shots = run_adiabatic(model0, default_schedule(model0), observables=("energy", "condensate"),
                          backend="aer", shots=args.shots, seed=args.seed, order=2)
    ex0 = exact_estimates(model0)
    z = shots.estimates["condensate"].z_score(ex0["condensate"])
    records.append({"theta": 0.0, "backend": "aer", "result": shots.to_dict(),
                    "exact": {k: ex0[k] for k in ("energy", "condensate")}})
    rows.append(("0.0000", f"aer {args.shots} shots", shots.estimates["energy"], ex0["energy"],
                 shots.estimates["condensate"], ex0["condensate"], f"z={z:+.2f}", "-"))
    print(format_table(["θ", "backend", "energy", "energy (ED)", "⟨ψ̄ψ⟩", "⟨ψ̄ψ⟩ (ED)", "|Δ⟨ψ̄ψ⟩|",
                        "fidelity"], rows))

    # exact curve for the plot
    dense = np.linspace(0.0, math.pi, 25)
    curve = []
    for th in dense:
        m = base.with_(theta=float(th))
        gs = diagonalize(m, k=1).ground_state
        curve.append(expectation(gs, qubit_observable("condensate", m).operators[0]))
    payload = {"records": records, "exact_curve": {"theta": dense, "condensate": curve}, "seed": args.seed,
               "provenance": provenance(command="qlat demo", seconds=time.perf_counter() - t0)}
    (args.out / "demo.json").write_text(json.dumps(jsonable(payload), indent=2) + "\n")
    _plot(args.out / "demo.png", dense, curve, records)
    print(f"\nwrote {args.out / 'demo.json'} and {args.out / 'demo.png'} "
          f"({time.perf_counter() - t0:.1f} s)")
    worst = max(abs(r["result"]["estimates"]["condensate"]["value"] - r["exact"]["condensate"].value)
                for r in records if r["backend"] == "statevector")
    fid = min(r["result"]["fidelity"]["value"] for r in records if r["backend"] == "statevector")
    ok = worst < 1e-3 and fid >= 0.99 and abs(z) < 4
    print(f"check vs ED: max |Δ⟨ψ̄ψ⟩| = {worst:.1e} (< 1e-3), min fidelity = {fid:.7f} (>= 0.99), "
          f"shot run z = {z:+.2f} (|z| < 4): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def _plot(path: Path, dense, curve, records) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(dense, curve, "k-", label="exact diagonalization")
    sv = [r for r in records if r["backend"] == "statevector"]
    ax.plot([r["theta"] for r in sv], [r["result"]["estimates"]["condensate"]["value"] for r in sv],
            "o", ms=8, mfc="none", label="adiabatic, statevector")
    sh = [r for r in records if r["backend"] == "aer"]
    ax.errorbar([r["theta"] + 0.03 for r in sh], [r["result"]["estimates"]["condensate"]["value"] for r in sh],
                yerr=[r["result"]["estimates"]["condensate"]["error"] for r in sh], fmt="s",
                label="adiabatic, Aer shots")
    ax.set_xlabel("θ")
    ax.set_ylabel("⟨ψ̄ψ⟩ = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩  [g]")
    ax.set_title("Schwinger vacuum, N=8, a=0.5, m=0.1 (rotated)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
