"""Are the Γ-method error bars of exact-local double-exchange chains calibrated?  (issue 17)

``--points``: many independently seeded chains at fixed calibration points, chain shapes as the
``exact-local`` case generator draws them (:mod:`qlat.analysis.calibration.montecarlo`): the two-site
cluster against quadrature (easy, the recorded z = 2.6 point, and the hardest corner T = 0.1,
J = 6, δ = 0.5 with 4 chains), free spins on 2×2 against ⟨m²⟩ = 1/N, and |m_s| on the 2×2 torus at
T = 0.05 against a 64 × 20 000-sweep chain.  ``--generator A B``: every point the generator draws at
``quick`` size for generator seeds A … B−1.  Per set: coverage at 1/2/3σ of the unwarned estimates
with its binomial σ, std(z), mean z, std(value)/rms(error) and the first-minus-second-half mean (a
thermalization probe).

    nice -n 10 .venv/bin/python benchmarks/probe_exact_local_coverage.py --points 200 --generator 100 125

Writes ``benchmarks/results/exact_local_coverage.json`` with the machine description.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: name: (kind, theory parameters, step size, chains, samples per chain)
POINTS: dict[str, tuple[str, dict[str, float], float, int, int]] = {
    "two-site easy": ("nn", {"J": 2.0, "mu": -1.5, "T": 0.6}, 2.5, 64, 50),
    "two-site z=2.6 point": ("nn", {"J": 4.468, "mu": -1.0, "T": 0.379}, 0.857, 16, 200),
    "two-site hardest corner": ("nn", {"J": 6.0, "mu": -0.5, "T": 0.1}, 0.5, 4, 200),
    "free spins 2x2 m2": ("m2", {"J": 0.0, "mu": 0.0, "T": 0.5}, 1.3, 4, 50),
    "|m_s| 2x2 torus T=0.05": ("ms", {"J": 1.0, "mu": 0.0, "T": 0.05}, math.pi, 16, 200),
}


def _chain(theory: Any, step: float, chains: int, n: int, seed: int, thermalization: int = 20) -> Any:
    from qlat.samplers.slmc.exact_local import ExactLocalMetropolis

    sampler = ExactLocalMetropolis(step_size=step, thermalization=thermalization)
    batch, _ = sampler.run(theory, n, state=sampler.init_state(theory, chains=chains, seed=seed))
    return batch.configurations


def _estimate(fn: Any, configs: Any) -> tuple[Any, Any]:
    from qlat.analysis.statistics import gamma_estimate, repeat_bound_estimate, repeat_record

    n, chains = configs.shape[:2]
    values = fn(configs.reshape(n * chains, *configs.shape[2:])).reshape(n, chains).numpy()
    return repeat_bound_estimate(gamma_estimate(values, name="x"), repeat_record(configs), emit=False), values


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    z = np.array([r["z"] for r in rows if not r["warned"]])
    out: dict[str, Any] = {"estimates": len(rows), "warned": len(rows) - int(z.size)}
    for k in (1, 2, 3):
        p = float(np.mean(np.abs(z) <= k))
        out[f"|z|<={k}"] = [p, math.sqrt(p * (1 - p) / z.size)]
    out.update({"std_z": float(z.std(ddof=1)), "mean_z": [float(z.mean()), float(z.std(ddof=1) / math.sqrt(z.size))]})
    if "first_half" in rows[0]:
        values = np.array([r["value"] for r in rows])
        errors = np.array([r["error"] for r in rows])
        halves = np.array([r["first_half"] - r["second_half"] for r in rows])
        out["std_value_over_rms_error"] = float(values.std(ddof=1) / math.sqrt(np.mean(errors**2)))
        out["first_minus_second_half"] = [float(halves.mean()), float(halves.std(ddof=1) / math.sqrt(halves.size))]
    return out


def fixed_points(reps: int) -> dict[str, Any]:
    from qlat.exact.double_exchange import free_spin_m2, two_site_correlation
    from qlat.theories.double_exchange import DoubleExchangeTheory

    out: dict[str, Any] = {}
    for name, (kind, params, step, chains, n) in POINTS.items():
        start = time.perf_counter()
        exact_error = 0.0
        if kind == "nn":
            theory = DoubleExchangeTheory((2, 1), boundary="open", t=1.0, **params)
            fn, exact = theory.nn_correlation, two_site_correlation(t=1.0, **params)
        elif kind == "m2":
            theory = DoubleExchangeTheory((2, 2), t=1.0, **params)
            fn, exact = (lambda f, th=theory: th.magnetization(f).square()), free_spin_m2(4)
        else:
            theory = DoubleExchangeTheory((2, 2), t=1.0, **params)
            fn = theory.staggered_magnetization
            reference, _ = _estimate(fn, _chain(theory, math.pi, 64, 20_000, 987_654, thermalization=500))
            exact, exact_error = reference.value, reference.error
        rows = []
        for rep in range(reps):
            est, values = _estimate(fn, _chain(theory, step, chains, n, 1000 + rep))
            half = values.shape[0] // 2
            rows.append({"value": est.value, "error": est.error, "warned": bool(est.warnings),
                         "z": (est.value - exact) / math.hypot(est.error, exact_error),
                         "first_half": float(values[:half].mean()), "second_half": float(values[half:].mean())})
        out[name] = {"params": params, "step_size": step, "chains": chains, "n": n, "exact": exact,
                     "exact_error": exact_error, "seconds": time.perf_counter() - start, **summarize(rows)}
        print(name, {k: v for k, v in out[name].items() if k.startswith(("|z|", "std", "mean"))}, flush=True)
    return out


def generator(first: int, last: int) -> dict[str, Any]:
    import numpy as np

    from qlat.analysis.calibration.montecarlo import exact_local_cases

    rows = []
    for seed in range(first, last):
        for p in exact_local_cases(np.random.default_rng(seed), "quick"):
            rows.append({"z": p.z, "warned": p.warned, "observable": p.observable, "chains": p.point["chains"]})
    out = {"generator_seeds": [first, last], "all": summarize(rows)}
    for key, keep in (("nn_correlation", lambda r: r["observable"] == "nn_correlation"),
                      ("m2", lambda r: r["observable"] == "m2"), ("4 chains", lambda r: r["chains"] == 4)):
        out[key] = summarize([r for r in rows if keep(r)])
    print("generator", out["all"], flush=True)
    return out


def main() -> int:
    import torch
    from machine import describe_machine, write_results

    from qlat.core.errors import QlatWarning

    torch.set_num_threads(1)
    warnings.simplefilter("ignore", QlatWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=0, metavar="REPS", help="seeded chains per fixed point")
    parser.add_argument("--generator", type=int, nargs=2, metavar=("FIRST", "LAST"), help="generator seeds")
    parser.add_argument("--out", default=str(HERE / "results" / "exact_local_coverage.json"))
    args = parser.parse_args()
    record: dict[str, Any] = {"benchmark": "exact_local_coverage", "machine": describe_machine(),
                              "command": " ".join(["benchmarks/probe_exact_local_coverage.py", *sys.argv[1:]])}
    if args.points:
        record["fixed_points"] = fixed_points(args.points)
    if args.generator:
        record["generator"] = generator(*args.generator)
    write_results(args.out, record)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
