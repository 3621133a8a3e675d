"""Wilson-fermion HMC cost: pseudofermion HMC (N_f = 2) vs pure-gauge HMC vs exact-determinant HMC.

Three tables, all at τ = 1, leapfrog, 10 steps, 4 chains (batch), one torch thread:

1. ``pf-hmc`` trajectories/s and CG iterations per trajectory vs L at β = 2, κ = 0.26, next to
   pure-gauge ``hmc`` on the same lattice (ratio = how much the fermions cost);
2. ``pf-hmc`` CG iterations per trajectory vs κ → κ_c(β = 2) ≈ 0.2773 at L = 8 (critical slowing
   of the solver: D†D's condition number grows as the pion mass falls);
3. exact-determinant ``det-hmc`` (dense LU, O(V³) per force) vs ``pf-hmc`` (sparse CG) time per
   trajectory vs L: the crossover.

    .venv/bin/python benchmarks/bench_fermion_hmc.py            # ≈ 3–5 minutes on 2 shared cores
    .venv/bin/python benchmarks/bench_fermion_hmc.py --quick    # fewer sizes and trajectories

Writes ``benchmarks/results/fermion_hmc.json`` with the machine description.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.core.lattice import Lattice  # noqa: E402
from qlat.samplers.exact_determinant import ExactDeterminantHMC  # noqa: E402
from qlat.samplers.hmc import HMC  # noqa: E402
from qlat.samplers.pseudofermion import PseudofermionHMC  # noqa: E402
from qlat.theories.schwinger_wilson import SchwingerTheory, critical_kappa  # noqa: E402
from qlat.theories.u1 import U1Theory  # noqa: E402

CHAINS = 4
STEPS = 10


def _time(sampler, theory, n: int, *, warm: int = 2) -> tuple[float, dict]:
    state = sampler.init_state(theory, chains=CHAINS, seed=1)
    _, state = sampler.run(theory, warm, state=state)  # thermalize a little, warm caches
    t0 = time.perf_counter()
    batch, _ = sampler.run(theory, n, state=state)
    dt = time.perf_counter() - t0
    return dt / n, {"acceptance": batch.acceptance, **batch.meta}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results" / "fermion_hmc.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_traj = 3 if args.quick else 8
    sizes = (8, 16) if args.quick else (8, 12, 16, 24, 32)
    pf = PseudofermionHMC(n_steps=STEPS)
    hmc = HMC(n_steps=STEPS)
    record: dict = {"benchmark": "fermion_hmc", "machine": describe_machine(), "chains": CHAINS, "n_steps": STEPS,
                    "trajectory_length": 1.0, "threads": 1}

    print(f"1. pf-hmc vs pure-gauge hmc, beta = 2, kappa = 0.26, {CHAINS} chains")
    print(f"{'L':>4} {'pf traj/s':>10} {'CG it/traj':>11} {'gauge traj/s':>13} {'cost ratio':>11}")
    rows = []
    for L in sizes:
        theory = SchwingerTheory(Lattice((L, L)), beta=2.0, kappa=0.26, nf=2)
        t_pf, meta = _time(pf, theory, n_traj)
        t_g, _ = _time(hmc, U1Theory(Lattice((L, L)), beta=2.0), max(n_traj, 20))
        row = {"L": L, "pf_trajectories_per_s": CHAINS / t_pf, "cg_iterations_per_trajectory":
               meta["cg_iterations_per_trajectory"], "gauge_trajectories_per_s": CHAINS / t_g, "ratio": t_pf / t_g,
               "pf_acceptance": meta["acceptance"]}
        rows.append(row)
        print(f"{L:>4} {row['pf_trajectories_per_s']:>10.3g} {row['cg_iterations_per_trajectory']:>11.0f} "
              f"{row['gauge_trajectories_per_s']:>13.4g} {row['ratio']:>11.3g}")
    record["pf_vs_gauge"] = rows

    kc = critical_kappa(2.0)
    kappas = (0.24, 0.26, 0.27) if args.quick else (0.22, 0.24, 0.26, 0.27, 0.275)
    print(f"\n2. CG iterations vs kappa at L = 8, beta = 2 (kappa_c ~ {kc:.4f})")
    print(f"{'kappa':>7} {'CG it/traj':>11} {'traj/s':>9} {'acc':>5}")
    rows = []
    for kappa in kappas:
        theory = SchwingerTheory(Lattice((8, 8)), beta=2.0, kappa=kappa, nf=2)
        t_pf, meta = _time(pf, theory, n_traj)
        rows.append({"kappa": kappa, "cg_iterations_per_trajectory": meta["cg_iterations_per_trajectory"],
                     "trajectories_per_s": CHAINS / t_pf, "acceptance": meta["acceptance"]})
        print(f"{kappa:>7} {rows[-1]['cg_iterations_per_trajectory']:>11.0f} {rows[-1]['trajectories_per_s']:>9.3g} "
              f"{meta['acceptance']:>5.2f}")
    record["cg_vs_kappa"] = {"L": 8, "beta": 2.0, "kappa_c": kc, "rows": rows}

    sizes = (4, 8, 12) if args.quick else (4, 6, 8, 12, 16)
    print("\n3. exact determinant (det-hmc) vs pseudofermions (pf-hmc), beta = 2, kappa = 0.26")
    print(f"{'L':>4} {'det s/traj':>11} {'pf s/traj':>10} {'det/pf':>8}")
    rows = []
    for L in sizes:
        theory = SchwingerTheory(Lattice((L, L)), beta=2.0, kappa=0.26, nf=2)
        t_det, _ = _time(ExactDeterminantHMC(n_steps=STEPS), theory, max(2, n_traj // 2), warm=1)
        t_pf, _ = _time(pf, theory, n_traj)
        rows.append({"L": L, "det_seconds_per_trajectory": t_det, "pf_seconds_per_trajectory": t_pf,
                     "ratio_det_over_pf": t_det / t_pf})
        print(f"{L:>4} {t_det:>11.3g} {t_pf:>10.3g} {t_det / t_pf:>8.3g}")
    record["det_vs_pf"] = rows
    write_results(args.out, record)


if __name__ == "__main__":
    main()
