"""Flow vs HMC in 2D U(1): seconds per independent topological charge, and training histories.

For each β a gauge-equivariant flow (16 spline couplings, hidden [8, 8], Haar prior;
:mod:`qlat.samplers.flow`) is trained by reverse KL for a fixed wall-clock budget, then run as an
independence-Metropolis chain (:class:`~qlat.samplers.flow.sampler.FlowSampler`); HMC
(τ = 1, 10 leapfrog steps) runs side by side on the same lattice.  For both

    seconds per independent Q = 2 τ_int(Q) · t_sample,

t_sample = wall seconds / samples (all chains), τ_int from the Γ-method
(:func:`qlat.analysis.statistics.gamma_estimate`).  The training cost is reported separately and
also amortized over 10⁵ samples: 2 τ_int(Q) · (t_sample + t_train / 10⁵).  ⟨Q²⟩ of both chains is
compared with the character expansion (:mod:`qlat.exact.u1_character_expansion`).  A τ_int is ``reliable`` when the
chains are at least 50 τ_int long.

    nice -n 10 .venv/bin/python benchmarks/bench_flow.py                      # L = 8, β = 2, 4, 6
    nice -n 10 .venv/bin/python benchmarks/bench_flow.py --betas 2 3 4 5 6 --L 8 16 --train-minutes 10

Writes ``benchmarks/results/flow_vs_hmc.json`` and ``flow_topological_history.png`` (Q of one flow
chain and one HMC chain at the largest β); ``--history MODEL_DIR …`` also plots the training
history (loss, ESS, acceptance vs step) of trained models to ``flow_training_history.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.analysis.shootout import amortized_seconds_per_sample, seconds_per_independent  # noqa: E402
from qlat.analysis.statistics import gamma_estimate  # noqa: E402
from qlat.core.lattice import Lattice  # noqa: E402
from qlat.exact import u1_character_expansion as exact_u1  # noqa: E402
from qlat.samplers.flow import FlowModel, TrainConfig, save_checkpoint, train  # noqa: E402
from qlat.samplers.flow.checkpoint import card_architecture  # noqa: E402
from qlat.samplers.flow.sampler import FlowSampler  # noqa: E402
from qlat.samplers.hmc import HMC  # noqa: E402
from qlat.theories.u1 import U1Theory  # noqa: E402

AMORTIZE = 100_000


def _charges(theory: U1Theory, batch) -> np.ndarray:
    n, chains = batch.configurations.shape[:2]
    flat = batch.configurations.reshape(n * chains, *theory.field_shape)
    return theory.topological_charge(flat).reshape(n, chains).numpy()


def _summary(theory: U1Theory, q: np.ndarray, seconds: float, samples: int, acceptance: float) -> dict:
    est_q = gamma_estimate(q, name="Q")
    est_q2 = gamma_estimate(q * q, name="Q^2")
    tau = est_q.tau_int if est_q.tau_int is not None else float("nan")
    t_sample = seconds / samples
    L0, L1 = theory.lattice.shape
    exact_q2 = exact_u1.topological_q2(theory.beta, (L0, L1))
    return {
        "acceptance": round(float(acceptance), 4), "wall_seconds": round(seconds, 2),
        "seconds_per_sample": t_sample, "tau_int_Q": tau, "tau_int_Q_error": est_q.tau_int_error,
        "reliable": bool(q.shape[0] >= 50 * tau),
        "seconds_per_independent_Q": seconds_per_independent(tau, 0.0, t_sample)[0],
        "q2": est_q2.value, "q2_error": est_q2.error, "q2_exact": exact_q2,
        "q2_z": (est_q2.value - exact_q2) / est_q2.error if est_q2.error > 0 else None,
    }


def run_point(L: int, beta: float, *, train_minutes: float, layers: int, chains: int, n: int, hmc_chains: int,
              hmc_n: int, seed: int, workdir: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    theory = U1Theory(Lattice((L, L)), beta=beta)
    torch.manual_seed(seed)
    model = FlowModel(theory.params(), {"n_layers": layers, "hidden": [8, 8]})
    config = TrainConfig(steps=100_000, batch=64, lr=1e-3, schedule="constant", seed=seed)
    state = train(model, theory, config=config, time_limit_s=60.0 * train_minutes)
    model_dir = workdir / f"u1_L{L}_b{beta:g}"
    save_checkpoint(model_dir, model, config=config, state=state)
    flow = FlowSampler(model=str(model_dir), thermalization=20)
    fstate = flow.init_state(theory, chains=chains, seed=seed)
    t0 = time.perf_counter()
    fbatch, _ = flow.run(theory, n, state=fstate)
    f_seconds = time.perf_counter() - t0
    q_flow = _charges(theory, fbatch)
    flow_row = _summary(theory, q_flow, f_seconds, (n + 20) * chains, fbatch.acceptance)
    flow_row.update({"train_seconds": round(state.wall_s, 1), "train_steps": state.step,
                     "final_batch_ess": float(np.mean(state.history["ess"][-50:]))})
    flow_row["seconds_per_independent_Q_amortized"] = seconds_per_independent(
        flow_row["tau_int_Q"], 0.0, amortized_seconds_per_sample(flow_row["seconds_per_sample"], state.wall_s, AMORTIZE))[0]
    hmc = HMC(trajectory_length=1.0, n_steps=10, thermalization=200)
    hstate = hmc.init_state(theory, chains=hmc_chains, seed=seed)
    t0 = time.perf_counter()
    hbatch, _ = hmc.run(theory, hmc_n, state=hstate)
    h_seconds = time.perf_counter() - t0
    q_hmc = _charges(theory, hbatch)
    hmc_row = _summary(theory, q_hmc, h_seconds, (hmc_n + 200) * hmc_chains, hbatch.acceptance)
    row = {"L": L, "beta": beta, "flow": flow_row, "hmc": hmc_row,
           "hmc_over_flow": hmc_row["seconds_per_independent_Q"] / flow_row["seconds_per_independent_Q"],
           "hmc_over_flow_amortized": hmc_row["seconds_per_independent_Q"]
           / flow_row["seconds_per_independent_Q_amortized"]}
    return row, q_flow[:, 0], q_hmc[:, 0]


def plot_histories(model_dirs: list[Path], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for d in model_dirs:
        card = json.loads((Path(d) / "model.json").read_text())
        h = card["training"]["history"]
        t = card["theory"]
        a = card_architecture(card)
        label = f"{t['name']} L={t['shape'][0]} " + ", ".join(f"{k}={v}" for k, v in t.items()
                                                               if k not in ("name", "shape"))
        label += f"; {a['n_layers']} layers, hidden {a['hidden']}" + (f", {a['context']}" if "context" in a else "")
        steps = np.asarray(h["step"])
        for ax, key in zip(axes, ("loss", "ess", "acceptance")):
            y = np.asarray(h[key], dtype=float)
            k = max(1, len(y) // 100)
            smooth = np.convolve(y, np.ones(k) / k, mode="valid")
            if key == "loss":  # theories differ by log Z: U(1) shows KL(q‖p) = loss + log Z (exact log Z),
                if t["name"] == "u1":  # φ⁴ the excess over its lowest smoothed loss
                    volume = int(np.prod(t["shape"]))
                    smooth = smooth + 2 * volume * np.log(2 * np.pi) + exact_u1.log_partition_function(
                        t["beta"], tuple(t["shape"]))
                else:
                    smooth = smooth - smooth.min() + 1e-3
                ax.set_yscale("log")
            line, = ax.plot(steps[k - 1:], smooth, label=label)
            for phase in card["training"].get("phases", []):  # a new phase (batch, lr) began here
                ax.axvline(phase["until"], color=line.get_color(), ls=":", lw=0.8)
            ax.set_xlabel("step")
            ax.set_ylabel(key + " (batch)" if key != "loss" else "u1: KL(q‖p); phi4: <log q + S> − min")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--L", type=int, nargs="+", default=[8])
    parser.add_argument("--betas", type=float, nargs="+", default=[2.0, 4.0, 6.0])
    parser.add_argument("--train-minutes", type=float, default=3.0, help="training budget per (L, β)")
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--n", type=int, default=600, help="flow samples per chain")
    parser.add_argument("--hmc-chains", type=int, default=64)
    parser.add_argument("--hmc-n", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--history", type=Path, nargs="*", default=[], help="model dirs to plot training of")
    parser.add_argument("--only-history", action="store_true", help="plot --history and exit")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "flow_vs_hmc.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    if args.history:
        plot_histories(args.history, args.out.parent / "flow_training_history.png")
    if args.only_history:
        return 0
    rows, q_hist = [], None
    print(f"{'L':>3} {'beta':>5} {'acc':>6} {'tau(Q) flow':>11} {'tau(Q) hmc':>10} {'s/Q flow':>9} {'s/Q hmc':>9} "
          f"{'hmc/flow':>8} {'amort.':>7}")
    with tempfile.TemporaryDirectory(prefix="qlat-bench-flow-") as tmp:
        for L in args.L:
            for i, beta in enumerate(args.betas):
                row, qf, qh = run_point(L, beta, train_minutes=args.train_minutes, layers=args.layers,
                                        chains=args.chains, n=args.n, hmc_chains=args.hmc_chains, hmc_n=args.hmc_n,
                                        seed=args.seed + i, workdir=Path(tmp))
                rows.append(row)
                q_hist = (L, beta, qf, qh)
                f, h = row["flow"], row["hmc"]
                print(f"{L:3d} {beta:5.1f} {f['acceptance']:6.3f} {f['tau_int_Q']:11.2f} {h['tau_int_Q']:10.2f} "
                      f"{f['seconds_per_independent_Q']:9.2e} {h['seconds_per_independent_Q']:9.2e} "
                      f"{row['hmc_over_flow']:8.2f} {row['hmc_over_flow_amortized']:7.2f}", flush=True)
    info = describe_machine()
    info.update({"torch": torch.__version__, "numpy": np.__version__, "torch_threads": torch.get_num_threads()})
    record = {
        "benchmark": "flow_vs_hmc",
        "description": "2D U(1): seconds per independent Q = 2 tau_int(Q) t_sample for an independence-Metropolis "
                       "flow chain vs HMC (tau = 1, 10 leapfrog steps); flow training time-limited per point, "
                       f"reported separately and amortized over {AMORTIZE} samples",
        "command": "benchmarks/bench_flow.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": info,
        "results": rows,
    }
    write_results(args.out, record)
    if q_hist is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        L, beta, qf, qh = q_hist
        fig, ax = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
        ax[0].plot(qf, lw=0.7)
        ax[0].set_ylabel("Q (flow)")
        ax[1].plot(qh[: len(qf)], lw=0.7, color="C1")
        ax[1].set_ylabel("Q (HMC)")
        ax[1].set_xlabel("sample (one chain)")
        ax[0].set_title(f"2D U(1), L = {L}, β = {beta:g}: topological charge history")
        fig.tight_layout()
        png = args.out.parent / "flow_topological_history.png"
        fig.savefig(png, dpi=110)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
