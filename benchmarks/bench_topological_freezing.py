"""Topological freezing of HMC in 2D U(1): τ_int of Q vs β at L = 16, and the cost per independent Q.

HMC with trajectory length τ = 1 and 10 leapfrog steps, many independent chains (hot start,
then ``--thermalization`` trajectories dropped).  For each β the geometric charge Q is measured
after every trajectory; τ_int(Q) (in trajectories) comes from the Γ-method with automatic
windowing (:func:`qlat.analysis.statistics.gamma_estimate`, pyerrors; the chains are replicas).
The cost of one statistically independent Q is

    cost = (wall seconds of the sampling) × 2 τ_int / (number of trajectories, all chains).

This is the baseline that the flow samplers must beat.  A τ_int is only trustworthy when each
chain is much longer than it (here: flagged ``reliable`` when n_per_chain >= 50 τ_int) and when
the thermalization is longer than τ_int; at β >= 5 a run of a few minutes is neither, and the
number is then a lower bound.  ⟨Q²⟩ is compared with the exact torus value
(:mod:`qlat.exact.u1_character_expansion`) as a check on the runs.

Reference (numpy HMC, same setup): τ_int(Q) ≈ 13 (β = 3), 60 (β = 4), 290 (β = 5), ~1000 (β = 6).

    .venv/bin/python benchmarks/bench_topological_freezing.py            # --quick defaults, ~3 min
    .venv/bin/python benchmarks/bench_topological_freezing.py --full     # longer chains

Writes ``benchmarks/results/hmc_topological_freezing.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.analysis.shootout import seconds_per_independent  # noqa: E402
from qlat.analysis.statistics import gamma_estimate  # noqa: E402
from qlat.core.lattice import Lattice  # noqa: E402
from qlat.exact import u1_character_expansion as exact_u1  # noqa: E402
from qlat.samplers.hmc import HMC  # noqa: E402
from qlat.theories import U1Theory  # noqa: E402

REFERENCE_TAU_INT = {3.0: 13, 4.0: 60, 5.0: 290, 6.0: 1000}


def run_beta(beta: float, *, L: int, chains: int, n: int, thermalization: int, seed: int, block: int = 100) -> dict:
    theory = U1Theory(Lattice((L, L)), beta=beta)
    hmc = HMC(trajectory_length=1.0, n_steps=10, integrator="leapfrog", thermalization=thermalization)
    state = hmc.init_state(theory, chains=chains, seed=seed)
    charges = []
    accepted = []
    t0 = time.perf_counter()
    therm_seconds = None
    done = 0
    while done < n:
        m = min(block, n - done)
        batch, state = hmc.run(theory, m, state=state)
        if therm_seconds is None:  # the first block includes the thermalization
            therm_seconds = time.perf_counter() - t0
        flat = batch.configurations.reshape(-1, *theory.field_shape)
        charges.append(theory.topological_charge(flat).reshape(m, chains).numpy())
        accepted.append(batch.accepted)
        done += m
    seconds = time.perf_counter() - t0
    q = np.concatenate(charges)
    acc = float(np.concatenate(accepted).mean())
    # time per trajectory from the whole run, thermalization included in the count
    n_traj_total = chains * (n + thermalization)
    sec_per_traj = seconds / n_traj_total
    est_q = gamma_estimate(q, name="Q")
    est_q2 = gamma_estimate(q * q, name="Q^2")
    tau = est_q.tau_int
    cost = seconds_per_independent(tau, 0.0, sec_per_traj)[0]  # = seconds × 2τ_int / n (n: trajectories, all chains)
    exact_q2 = exact_u1.topological_q2(beta, L)
    return {
        "beta": beta,
        "L": L,
        "chains": chains,
        "n_per_chain": n,
        "thermalization": thermalization,
        "acceptance": round(acc, 4),
        "wall_seconds": round(seconds, 2),
        "trajectories_per_s": round(n_traj_total / seconds, 1),
        "tau_int_Q": round(tau, 2),
        "tau_int_Q_error": round(est_q.tau_int_error, 2),
        "tau_int_Q2": round(est_q2.tau_int, 2),
        "reliable": bool(n >= 50 * tau and thermalization >= 5 * tau),
        "reference_tau_int_Q": REFERENCE_TAU_INT.get(beta),
        "seconds_per_independent_Q": cost,
        "q2": est_q2.value,
        "q2_error": est_q2.error,
        "q2_exact": exact_q2,
        "q2_z": (est_q2.value - exact_q2) / est_q2.error if est_q2.error > 0 else None,
        "mean_Q": est_q.value,
        "mean_Q_error": est_q.error,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: a few minutes")
    mode.add_argument("--full", action="store_true", help="longer chains (tens of minutes)")
    parser.add_argument("--betas", type=float, nargs="+", default=[2.0, 3.0, 4.0, 5.0, 6.0])
    parser.add_argument("--L", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hmc_topological_freezing.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    chains, n, therm = (256, 10000, 2000) if args.full else (128, 1500, 300)
    rows = []
    print(f"{'beta':>5} {'acc':>6} {'tau_int(Q)':>14} {'ref':>5} {'<Q^2>':>16} {'exact':>8} {'s/indep Q':>10} reliable")
    for i, beta in enumerate(args.betas):
        r = run_beta(beta, L=args.L, chains=chains, n=n, thermalization=therm, seed=args.seed + i)
        rows.append(r)
        print(f"{beta:5.1f} {r['acceptance']:6.3f} {r['tau_int_Q']:8.1f}±{r['tau_int_Q_error']:<5.1f} "
              f"{str(r['reference_tau_int_Q']):>5} {r['q2']:9.4f}±{r['q2_error']:<6.4f} {r['q2_exact']:8.4f} "
              f"{r['seconds_per_independent_Q']:10.2e} {r['reliable']}", flush=True)
    info = describe_machine()
    info["torch"] = torch.__version__
    info["numpy"] = np.__version__
    info["torch_threads"] = torch.get_num_threads()
    record = {
        "benchmark": "hmc_topological_freezing",
        "description": "tau_int of the topological charge for HMC (tau = 1, 10 leapfrog steps) in 2D U(1), "
                       "and the wall-clock cost per independent Q = seconds * 2 tau_int / trajectories",
        "command": "benchmarks/bench_topological_freezing.py" + (" --full" if args.full else " --quick")
                   + f" --threads {args.threads}",
        "machine": info,
        "results": rows,
    }
    write_results(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
