"""HMC throughput: qlat's batched torch HMC against a plain vectorized numpy HMC, side by side.

Both run the same algorithm on the same problem: many independent chains (batch axis), trajectory
length τ = 1 with 10 leapfrog steps, Gaussian momenta, Metropolis accept/reject per chain, the
same analytic forces.  Throughput is trajectories per second summed over chains.  Cases: U(1)
Wilson action at L = 16, 32, 64 (β = 3) and φ⁴ at L = 16, 32 (m² = −4, λ = 8; τ = 0.5 there,
since at τ = 1 with 10 steps the φ⁴ integrator is unstable at these couplings).  The numpy
baseline's force is checked against qlat's on the same configuration before timing, so the two
really compute the same thing.

    .venv/bin/python benchmarks/bench_hmc.py            # full (≈ 2–3 minutes)
    .venv/bin/python benchmarks/bench_hmc.py --quick    # shorter timing windows
    .venv/bin/python benchmarks/bench_hmc.py --threads 2 --out benchmarks/results/hmc_throughput_2threads.json

Writes ``benchmarks/results/hmc_throughput.json`` with the machine description.
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

from qlat.core.lattice import Lattice  # noqa: E402
from qlat.samplers.hmc import HMC  # noqa: E402
from qlat.theories import Phi4Theory, U1Theory  # noqa: E402
from machine import describe_machine, write_results  # noqa: E402


# ------------------------------------------------------------------------------ numpy baseline
class NumpyU1:
    """S = −β Σ cos θ_P, F_0 = β[sinθ_P(x) − sinθ_P(x−1̂)], F_1 = β[sinθ_P(x−0̂) − sinθ_P(x)]."""

    def __init__(self, beta: float) -> None:
        self.beta = beta

    def plaq(self, q: np.ndarray) -> np.ndarray:
        t0, t1 = q[:, 0], q[:, 1]
        return t0 + np.roll(t1, -1, 1) - np.roll(t0, -1, 2) - t1

    def action(self, q: np.ndarray) -> np.ndarray:
        return -self.beta * np.cos(self.plaq(q)).sum(axis=(1, 2))

    def force(self, q: np.ndarray) -> np.ndarray:
        s = np.sin(self.plaq(q))
        out = np.empty_like(q)
        out[:, 0] = s - np.roll(s, 1, 2)
        out[:, 1] = np.roll(s, 1, 1) - s
        out *= self.beta
        return out


class NumpyPhi4:
    """S = Σ[(2d + m²)φ² + λφ⁴ − 2Σ_μ φ_x φ_{x+μ}], F = 2(2d+m²)φ − 2Σ_μ(φ_{x+μ}+φ_{x−μ}) + 4λφ³."""

    def __init__(self, m2: float, lam: float) -> None:
        self.m2, self.lam = m2, lam

    def action(self, q: np.ndarray) -> np.ndarray:
        d = q.ndim - 1
        hop = sum(q * np.roll(q, -1, a) for a in range(1, q.ndim))
        q2 = q * q
        return ((2 * d + self.m2) * q2 + self.lam * q2 * q2 - 2.0 * hop).reshape(q.shape[0], -1).sum(1)

    def force(self, q: np.ndarray) -> np.ndarray:
        d = q.ndim - 1
        nb = sum(np.roll(q, -1, a) + np.roll(q, 1, a) for a in range(1, q.ndim))
        return 2.0 * (2 * d + self.m2) * q - 2.0 * nb + 4.0 * self.lam * q**3


def numpy_trajectory(theory, q, rng, eps, n_steps):
    chains = q.shape[0]
    p = rng.standard_normal(q.shape)
    h0 = 0.5 * (p * p).reshape(chains, -1).sum(1) + theory.action(q)
    q1 = q.copy()
    p = p - 0.5 * eps * theory.force(q1)
    for i in range(n_steps):
        q1 += eps * p
        p -= (eps if i < n_steps - 1 else 0.5 * eps) * theory.force(q1)
    h1 = 0.5 * (p * p).reshape(chains, -1).sum(1) + theory.action(q1)
    accept = np.log(rng.random(chains)) < -(h1 - h0)
    shape = (chains,) + (1,) * (q.ndim - 1)
    return np.where(accept.reshape(shape), q1, q), accept


# ------------------------------------------------------------------------------ timing
def time_loop(step, min_seconds: float, min_reps: int = 2) -> tuple[float, int]:
    step()  # warm-up
    reps = 0
    t0 = time.perf_counter()
    while True:
        step()
        reps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds and reps >= min_reps:
            return elapsed, reps


def bench_case(kind: str, L: int, chains: int, min_seconds: float, rounds: int) -> dict:
    lattice = Lattice((L, L))
    if kind == "u1":
        theory = U1Theory(lattice, beta=3.0)
        baseline = NumpyU1(3.0)
        tau = 1.0
    else:
        theory = Phi4Theory(lattice, m2=-4.0, lam=8.0)
        baseline = NumpyPhi4(-4.0, 8.0)
        tau = 0.5
    hmc = HMC(trajectory_length=tau, n_steps=10)
    state = hmc.init_state(theory, chains=chains, seed=1)
    gen = state.generator()
    eps = tau / 10
    fields = [state.fields.clone()]
    # same algorithm: the numpy force equals qlat's on a configuration
    f_np = baseline.force(fields[0].numpy())
    assert np.allclose(f_np, theory.force(fields[0]).numpy(), atol=1e-12), "numpy baseline force differs"
    assert np.allclose(baseline.action(fields[0].numpy()), theory.action(fields[0]).numpy(), rtol=1e-12)

    def torch_step():
        fields[0], _, _, _ = hmc.trajectory(theory, fields[0], gen, eps)

    rng = np.random.default_rng(1)
    q_np = [fields[0].numpy().copy()]
    acc_np = []

    def numpy_step():
        q_np[0], acc = numpy_trajectory(baseline, q_np[0], rng, eps, 10)
        acc_np.append(acc.mean())

    torch_rates, numpy_rates = [], []
    for _ in range(rounds):  # interleaved, so load changes on a shared machine hit both
        dt, reps = time_loop(torch_step, min_seconds)
        torch_rates.append(reps * chains / dt)
        dt, reps = time_loop(numpy_step, min_seconds)
        numpy_rates.append(reps * chains / dt)
    t_rate, n_rate = max(torch_rates), max(numpy_rates)
    return {
        "theory": kind,
        "L": L,
        "chains": chains,
        "trajectory_length": tau,
        "n_steps": 10,
        "integrator": "leapfrog",
        "torch_trajectories_per_s": round(t_rate, 1),
        "numpy_trajectories_per_s": round(n_rate, 1),
        "ratio_torch_over_numpy": round(t_rate / n_rate, 2),
        "torch_rates_all_rounds": [round(r, 1) for r in torch_rates],
        "numpy_rates_all_rounds": [round(r, 1) for r in numpy_rates],
        "numpy_acceptance": round(float(np.mean(acc_np)), 3),
    }


def machine() -> dict:
    info = describe_machine()
    info["torch"] = torch.__version__
    info["numpy"] = np.__version__
    info["torch_threads"] = torch.get_num_threads()
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing windows")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: on a shared 2-core machine two threads spin-wait "
                             "on each other and run several times slower, see results/hmc_throughput_2threads.json)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hmc_throughput.json")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    min_seconds, rounds = (0.5, 2) if args.quick else (1.5, 3)
    cases = [("u1", 16, 512), ("u1", 32, 128), ("u1", 64, 32), ("phi4", 16, 512), ("phi4", 32, 128)]
    results = []
    print(f"{'theory':6} {'L':>3} {'chains':>6} {'torch traj/s':>13} {'numpy traj/s':>13} {'ratio':>6}")
    for kind, L, chains in cases:
        r = bench_case(kind, L, chains, min_seconds, rounds)
        results.append(r)
        print(f"{kind:6} {L:3d} {chains:6d} {r['torch_trajectories_per_s']:13.0f} "
              f"{r['numpy_trajectories_per_s']:13.0f} {r['ratio_torch_over_numpy']:6.2f}", flush=True)
    record = {
        "benchmark": "hmc_throughput",
        "description": "HMC trajectories per second summed over chains (leapfrog, 10 steps), qlat torch vs "
                       "plain vectorized numpy of the same algorithm, best of interleaved rounds",
        "command": "benchmarks/bench_hmc.py" + (" --quick" if args.quick else "") + f" --threads {args.threads}",
        "machine": machine(),
        "results": results,
    }
    write_results(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
