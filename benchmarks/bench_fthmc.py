"""HMC vs field-transformation HMC (``fthmc``) in 2D U(1): CPU seconds per independent topological charge.

For each sampler the geometric charge Q is measured after every trajectory of many independent
chains (hot start, thermalization dropped); τ_int(Q) in trajectories comes from the Γ-method
(:func:`qlat.analysis.statistics.gamma_estimate`, chains as replicas).  The cost of one
statistically independent Q is

    cost = (CPU seconds of the sampling) × 2 τ_int(Q) / (trajectories, summed over chains),

and for FTHMC the training is added once: seconds for N independent Q = training + N × cost.
CPU (process) time, not wall time, because the benchmark machine is shared; one torch thread.

The flow: gauge-equivariant ``ncp`` couplings (:mod:`qlat.samplers.flow.gauge`, smooth, so the
molecular dynamics conserves H well), trained by ``qlat.samplers.flow.training.train`` at L = 8.
Transfer: the conditioner weights of that flow are copied into the same architecture at L = 16
(convolutions with circular padding do not depend on the lattice size) without retraining
(:func:`qlat.samplers.flow.checkpoint.transfer_checkpoint`).

Plain HMC runs the fused numba trajectory (:mod:`qlat.samplers.hmc_kernels`) — the fastest path
qlat has; FTHMC runs on torch with automatic differentiation through the flow, so its cost per
trajectory is orders of magnitude higher, and the comparison per independent Q is the honest one.
FTHMC starts from the final configurations of the HMC run (equilibrated): from a hot start the
flowed action of a briefly trained flow is so stiff around V = f⁻¹(U_hot) that the tuned step
collapses (measured: ε → 2e−4, plaquette 0.26 instead of 0.86 after 190 trajectories).
``reliable`` = chains longer than 50 τ_int and thermalization longer than 5 τ_int (else τ_int is a
lower bound).  ⟨Q²⟩ is checked against the exact torus value (:mod:`qlat.exact.u1_character_expansion`).

Measured (benchmarks/results/fthmc_vs_hmc.json, 2-core shared AMD EPYC, CPU seconds; command below
with ``--train-steps 600 --layers 4 --chains 16 --n 150 --thermalization 40 --n-hmc 3000
--thermalization-hmc 300``): the flow trained for 16.5 CPU s (600 steps, ESS/N ≈ 0.004) makes the
flowed action *stiffer*, not flatter — RMS force 70 in V against 2.5 in U on equilibrated
configurations (max 1222 against 7) — so the step size tuned to the same acceptance is ~100×
smaller (ε = 0.0014 at L = 8, 0.0004 at L = 16, against 0.18 and 0.13 for HMC), the chains hardly
move in 150 trajectories and τ_int(Q) ≥ 72 is a window-limited lower bound (HMC: 34 ± 5 at L = 8,
47 ± 7 at L = 16, reliable).  Per independent Q: HMC 0.0019 s (L = 8) and 0.0042 s (L = 16);
FTHMC ≥ 1.7 s and ≥ 3.5 s (+ 16.5 s training once).  Both reproduce ⟨P⟩ and ⟨Q²⟩ of the exact
torus values (|z| < 1.7).  A flow must map V to U with small, smooth forces to pay off (Jin
arXiv:2201.01862 trains for that and keeps the network C¹); a KL-trained flow of this size does not.

    .venv/bin/python benchmarks/bench_fthmc.py    # defaults: 8 layers, 300 steps, 32 chains (not run here)

Writes ``benchmarks/results/fthmc_vs_hmc.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.analysis.shootout import seconds_per_independent  # noqa: E402
from qlat.analysis.statistics import gamma_estimate  # noqa: E402
from qlat.core.lattice import Lattice  # noqa: E402
from qlat.exact import u1_character_expansion as exact_u1  # noqa: E402
from qlat.samplers.flow.checkpoint import save_checkpoint, transfer_checkpoint  # noqa: E402
from qlat.samplers.flow.networks import FlowModel  # noqa: E402
from qlat.samplers.flow.training import TrainConfig, train  # noqa: E402
from qlat.samplers.fthmc import FieldTransformationHMC  # noqa: E402
from qlat.samplers.hmc import HMC  # noqa: E402
from qlat.theories import U1Theory  # noqa: E402


def train_flow(theory: U1Theory, arch: dict, steps: int, batch: int, lr: float, out: Path) -> float:
    """Train a flow for ``theory`` into ``out``; CPU seconds."""
    torch.manual_seed(0)
    model = FlowModel(theory.params(), arch)
    config = TrainConfig(steps=steps, batch=batch, lr=lr, seed=0)
    t0 = time.process_time()
    state = train(model, theory, config=config)
    seconds = time.process_time() - t0
    save_checkpoint(out, model, config=config, state=state)
    return seconds


def measure(sampler, theory: U1Theory, *, chains: int, n: int, seed: int, start=None) -> tuple[dict, object]:
    """One run; ``start``: configurations to start from (else a hot start)."""
    state = sampler.init_state(theory, chains=chains, seed=seed)
    if start is not None:
        state = dataclasses.replace(state, fields=start.clone())
    t0, w0 = time.process_time(), time.perf_counter()
    batch, end = sampler.run(theory, n, state=state)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    flat = batch.configurations.reshape(-1, *theory.field_shape)
    q = theory.topological_charge(flat).reshape(n, chains).numpy()
    plaq = theory.mean_plaquette(flat).reshape(n, chains).numpy()
    trajectories = chains * (n + sampler.thermalization)
    est_q, est_q2 = gamma_estimate(q, name="Q"), gamma_estimate(q * q, name="Q^2")
    est_p = gamma_estimate(plaq, name="plaquette")
    beta, shape = theory.beta, tuple(theory.lattice.shape)
    tau = float(est_q.tau_int)
    q2_exact, p_exact = exact_u1.topological_q2(beta, shape), exact_u1.mean_plaquette(beta, shape)
    return {
        "sampler": sampler.name, "L": shape[0], "beta": beta, "chains": chains, "n_per_chain": n,
        "thermalization": sampler.thermalization, "trajectory_length": sampler.trajectory_length,
        "n_steps": sampler.n_steps, "tuned_step_size": end.step_size, "acceptance": round(float(batch.acceptance), 4),
        "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2),
        "cpu_seconds_per_trajectory": cpu / trajectories,
        "tau_int_Q": round(tau, 2), "tau_int_Q_error": round(float(est_q.tau_int_error), 2),
        "reliable": bool(n >= 50 * tau and sampler.thermalization >= 5 * tau),
        "cpu_seconds_per_independent_Q": seconds_per_independent(tau, 0.0, cpu / trajectories)[0],
        "q2": est_q2.value, "q2_error": est_q2.error, "q2_exact": q2_exact,
        "q2_z": (est_q2.value - q2_exact) / est_q2.error if est_q2.error > 0 else None,
        "plaquette": est_p.value, "plaquette_error": est_p.error, "plaquette_exact": p_exact,
        "plaquette_z": (est_p.value - p_exact) / est_p.error if est_p.error > 0 else None,
    }, end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beta", type=float, default=4.0)
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--n", type=int, default=300, help="FTHMC: kept trajectories per chain")
    parser.add_argument("--thermalization", type=int, default=50, help="FTHMC: trajectories dropped first")
    parser.add_argument("--n-hmc", type=int, default=4000, help="HMC (cheap): kept trajectories per chain")
    parser.add_argument("--thermalization-hmc", type=int, default=500)
    parser.add_argument("--steps", type=int, default=10, help="leapfrog steps per trajectory (tau = 1)")
    parser.add_argument("--target-acceptance", type=float, default=0.7,
                        help="both samplers: step size tuned to this acceptance during thermalization")
    parser.add_argument("--independent", type=int, default=1000, help="N for the cost of N independent Q")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fthmc_vs_hmc.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    arch = {"n_layers": args.layers, "hidden": [8, 8], "coupling": "ncp"}
    rows = []
    with tempfile.TemporaryDirectory(prefix="qlat-bench-fthmc-") as tmp:
        t8 = U1Theory(Lattice((8, 8)), beta=args.beta)
        t16 = U1Theory(Lattice((16, 16)), beta=args.beta)
        train_cpu = train_flow(t8, arch, args.train_steps, 64, 3e-3, Path(tmp) / "L8")
        print(f"training at L=8: {train_cpu:.1f} CPU s", flush=True)
        transfer_checkpoint(Path(tmp) / "L8", t16.params(), Path(tmp) / "L16")
        md = {"trajectory_length": 1.0, "n_steps": args.steps, "target_acceptance": args.target_acceptance}
        for theory, model in ((t8, Path(tmp) / "L8"), (t16, Path(tmp) / "L16")):
            runs = ((HMC(thermalization=args.thermalization_hmc, **md), args.n_hmc),
                    (FieldTransformationHMC(model=str(model), thermalization=args.thermalization, **md), args.n))
            equilibrated = None
            for sampler, n in runs:
                row, end = measure(sampler, theory, chains=args.chains, n=n, seed=args.seed, start=equilibrated)
                row["start"] = "hot" if equilibrated is None else "the final configurations of the HMC run"
                equilibrated = end.fields
                row["flow"] = None if sampler.name == "hmc" else (
                    "trained at L=8" if theory is t8 else "trained at L=8, weights transferred to L=16, not retrained")
                row["training_cpu_seconds"] = 0.0 if sampler.name == "hmc" else train_cpu
                row[f"cpu_seconds_for_{args.independent}_independent_Q"] = (
                    row["training_cpu_seconds"] + args.independent * row["cpu_seconds_per_independent_Q"])
                rows.append(row)
                print(f"L={row['L']:3d} {row['sampler']:6s} acc={row['acceptance']:.3f} "
                      f"tau_int(Q)={row['tau_int_Q']:.1f}±{row['tau_int_Q_error']:.1f} "
                      f"cpu/traj={row['cpu_seconds_per_trajectory']:.2e}s "
                      f"cpu/indep Q={row['cpu_seconds_per_independent_Q']:.2e}s "
                      f"<Q^2> z={row['q2_z']:+.2f} plaq z={row['plaquette_z']:+.2f} reliable={row['reliable']}",
                      flush=True)
    info = describe_machine()
    info["torch"] = torch.__version__
    info["torch_threads"] = torch.get_num_threads()
    record = {
        "benchmark": "fthmc_vs_hmc",
        "description": "CPU seconds per independent topological charge, 2 tau_int(Q) x CPU s per trajectory, of "
                       "HMC (fused numba) and FTHMC (ncp gauge-equivariant flow trained at L=8, torch autograd) "
                       "in 2D U(1); FTHMC's training added once; transfer of the L=8 flow to L=16",
        "command": "benchmarks/bench_fthmc.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": info,
        "architecture": arch,
        "train_steps": args.train_steps,
        "results": rows,
    }
    write_results(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
