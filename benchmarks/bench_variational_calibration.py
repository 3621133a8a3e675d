"""Are the sc-vqe error bars calibrated?  Coverage and tightness against ED at random points.

At random (a, m, θ) — a ∈ [0.4, 1.5], m ∈ [0.1, 1.0], θ ∈ [0, π/2] (rotated formulation) — the
``sc-vqe`` backend (:mod:`qlat.quantum.variational`) is trained on N = 6, 8, 10 and evaluated at
N = 12 and 14 (extrapolated parameters), and compared with exact diagonalization: z = Δ/σ_total
with σ_total the quadrature of the ``variational`` and ``extrapolation`` sources.  Reports the
fraction of |z| ≤ 1, 2, 3 and the median σ/|Δ| per observable (the project's goal: |z| ≤ 2 for
≥ 90 %, median σ/|Δ| ≤ 5).  Writes ``benchmarks/results/variational_calibration.json``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_variational_calibration.py [--points 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KEYS = ("energy", "condensate")


def run(points: int, seed: int) -> dict:
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.variational import VariationalBackend
    from qlat.theories.schwinger_qubit import SchwingerModel

    rng = np.random.default_rng(seed)
    rows = []
    backend = VariationalBackend()
    for _ in range(points):
        a, m, theta = float(rng.uniform(0.4, 1.5)), float(rng.uniform(0.1, 1.0)), float(rng.uniform(0, math.pi / 2))
        n = int(rng.choice([12, 14]))
        model = SchwingerModel(n, a, m, theta=theta)
        est = backend.estimate(model, list(KEYS), sizes=(6, 8, 10))
        exact = exact_estimates(model, observables=list(KEYS))
        for key in KEYS:
            e = est[key]
            delta = e.value - exact[key].value
            rows.append({"spacing": a, "mass": m, "theta": theta, "n_sites": n, "observable": key, "value": e.value,
                         "exact": exact[key].value, "delta": delta, "sigma": e.total_error,
                         "sources": dict(e.provenance["systematic_sources"]),
                         "z": delta / e.total_error if e.total_error > 0 else math.inf,
                         "operators": e.provenance["ansatz"]["operators"]})
            print(f"a={a:.3f} m={m:.3f} theta={theta:.3f} N={n} {key:10s} delta {delta:+.2e} sigma "
                  f"{e.total_error:.2e} z {rows[-1]['z']:+.2f}", flush=True)
    summary = {}
    for key in KEYS:
        z = np.array([abs(r["z"]) for r in rows if r["observable"] == key])
        tight = np.array([r["sigma"] / abs(r["delta"]) for r in rows if r["observable"] == key and r["delta"] != 0])
        summary[key] = {"points": int(z.size), "within_1": float(np.mean(z <= 1)), "within_2": float(np.mean(z <= 2)),
                        "within_3": float(np.mean(z <= 3)), "median_sigma_over_distance": float(np.median(tight))}
        print(key, summary[key])
    return {"benchmark": "variational_calibration", "seed": seed, "train_sizes": [6, 8, 10], "rows": rows,
            "summary": summary, "machine": describe_machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_results(RESULTS / "variational_calibration.json", run(args.points, args.seed))


if __name__ == "__main__":
    main()
