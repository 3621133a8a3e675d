"""Self-learning HMC for the N_f = 2 Schwinger model: the talk's figure for a gauge theory.

At one point (default L = 8, β = 2, κ = 0.27, near κ_c(2) ≈ 0.277), all models trained on the same
exact-chain data (round 0 of the self-learning loop: SLHMC with the pure gauge action as S_eff):

- acceptance of SLHMC (Γ-method error) with the linear model (0 layers) and with 1, 2, 3 … gauge-covariant
  attention layers, and with wider/narrower single layers (``--widths``), against the parameter count;
  the validation residual Var(S_eff − S) of each;
- cost per independent sample: n_samples / (2 τ_int) / wall time for the plaquette, Q² and ψ̄ψ, for
  pf-hmc and for SLHMC with the linear and with the best attention model, same τ, steps and chains;
  "with training" adds the data and training time of the model to the SLHMC wall time.
  The ψ̄ψ measurement (exact trace) is not part of any wall time.

Writes ``benchmarks/results/slhmc_study.json`` (with the machine) and ``slhmc_study.png``::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_slhmc.py --L 8 --beta 2 --kappa 0.27
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.analysis.statistics import gamma_estimate  # noqa: E402
from qlat.core.lattice import Lattice  # noqa: E402
from qlat.samplers.pseudofermion import PseudofermionHMC  # noqa: E402
from qlat.samplers.slhmc.effective_actions import EffectiveAction, parameter_count  # noqa: E402
from qlat.samplers.slhmc.sampler import SLHMC  # noqa: E402
from qlat.samplers.slhmc.selflearn import chain_data  # noqa: E402
from qlat.samplers.slhmc.training import save_model, train_model  # noqa: E402
from qlat.theories.schwinger_wilson import SchwingerTheory  # noqa: E402

RESULTS = HERE / "results"


def _estimate(series: np.ndarray, name: str) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = gamma_estimate(series, name=name)
    return {"value": est.value, "error": est.error, "tau_int": est.tau_int,
            "warnings": sorted({str(w.message) for w in caught} | set(est.warnings))}


def _measure(theory: Any, configs: torch.Tensor) -> dict[str, np.ndarray]:
    n, chains = configs.shape[:2]
    flat = configs.reshape(-1, *theory.field_shape)
    q = theory.topological_charge(flat).numpy()
    return {"plaquette": theory.mean_plaquette(flat).numpy().reshape(n, chains),
            "q2": (q * q).reshape(n, chains),
            "psibarpsi": theory.condensate(flat).numpy().reshape(n, chains)}


def _cost_run(theory: Any, sampler: Any, *, n: int, chains: int, seed: int, extra_s: float = 0.0) -> dict[str, Any]:
    state = sampler.init_state(theory, chains=chains, seed=seed)
    warm, state = sampler.run(theory, 5, state=state)  # thermalization outside the timing
    start = time.perf_counter()
    batch, _ = sampler.run(theory, n, state=state)
    wall = time.perf_counter() - start
    out: dict[str, Any] = {"wall_s": wall, "trajectories": n * chains, "acceptance": float(batch.acceptance),
                           "training_s": extra_s, "observables": {}}
    for name, series in _measure(theory, batch.configurations).items():
        est = _estimate(series, name)
        tau = est["tau_int"] if est["tau_int"] is not None and np.isfinite(est["tau_int"]) else float("nan")
        independent = series.size / (2.0 * max(tau, 0.5)) if np.isfinite(tau) else float("nan")
        est["independent_per_s"] = independent / wall
        est["independent_per_s_with_training"] = independent / (wall + extra_s)
        out["observables"][name] = est
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--L", type=int, default=8)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--kappa", type=float, default=0.27)
    p.add_argument("--layers", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--widths", type=int, nargs="*", default=[2, 16], help="extra 1-layer models of these widths")
    p.add_argument("--hidden", type=int, default=8)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--chains", type=int, default=8)
    p.add_argument("--n-data", type=int, default=40, help="training configurations per chain (every 2nd trajectory)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--n-accept", type=int, default=40, help="trajectories per chain for each acceptance")
    p.add_argument("--n-cost", type=int, default=150, help="trajectories per chain of the cost runs")
    p.add_argument("--tau", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="slhmc_study")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    theory = SchwingerTheory(Lattice((args.L, args.L)), beta=args.beta, kappa=args.kappa, nf=2)
    work = Path(tempfile.mkdtemp(prefix="qlat-bench-slhmc-"))
    save_model(work / "pure", EffectiveAction.pure_gauge(args.beta), theory_params=theory.params())
    start = time.perf_counter()
    data, data_acc = chain_data(theory, work / "pure", n=args.n_data, chains=args.chains, seed=args.seed + 1,
                                thermalization=20, every=2, trajectory_length=args.tau, n_steps=args.steps)
    data_s = time.perf_counter() - start
    print(f"data: {len(data)} configurations in {data_s:.1f} s (pure-gauge S_eff acceptance {data_acc:.3f})")
    specs = [(layers, args.hidden) for layers in args.layers] + [(1, w) for w in args.widths]
    models: list[dict[str, Any]] = []
    for layers, hidden in specs:
        model = EffectiveAction(layers=layers, heads=args.heads, hidden=hidden, seed=args.seed)
        start = time.perf_counter()
        record = train_model(model, data, epochs=args.epochs if layers else 0, seed=args.seed)
        train_s = time.perf_counter() - start
        path = work / f"m{layers}-{hidden}"
        save_model(path, model, theory_params=theory.params())
        sampler = SLHMC(model=str(path), trajectory_length=args.tau, n_steps=args.steps, thermalization=10)
        start = time.perf_counter()
        batch, _ = sampler.run(theory, args.n_accept, state=sampler.init_state(theory, chains=args.chains,
                                                                               seed=args.seed + 2))
        run_s = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acc = gamma_estimate(batch.accepted.astype(float), name="acceptance")
        row = {"layers": layers, "hidden": hidden, "heads": args.heads, "parameters": parameter_count(model),
               "val_var": record.best_val_var, "val_var_linear_start": record.val_var[0],
               "acceptance": acc.value, "acceptance_error": acc.error,
               "mean_abs_dh": float(np.mean(np.abs(batch.delta_h))),
               "mean_abs_dh_md": float(np.mean(np.abs(batch.meta["delta_h_md"]))),
               "train_s": train_s, "s_per_trajectory": run_s / ((args.n_accept + 10) * args.chains),
               "path": str(path)}
        models.append(row)
        print(f"layers {layers} hidden {hidden}: {row['parameters']} parameters, Var {row['val_var']:.4g}, "
              f"acceptance {acc.value:.3f}({acc.error:.3f}), {row['s_per_trajectory'] * 1e3:.1f} ms/trajectory")
    linear = next(m for m in models if m["layers"] == 0)
    attention = [m for m in models if m["layers"] > 0]
    best = max(attention, key=lambda m: m["acceptance"]) if attention else linear
    cost: dict[str, Any] = {}
    for label, sampler, extra in (
            ("pf-hmc", PseudofermionHMC(trajectory_length=args.tau, n_steps=args.steps), 0.0),
            ("slhmc-linear", SLHMC(model=linear["path"], trajectory_length=args.tau, n_steps=args.steps),
             data_s + linear["train_s"]),
            (f"slhmc-attention-{best['layers']}x{best['hidden']}",
             SLHMC(model=best["path"], trajectory_length=args.tau, n_steps=args.steps), data_s + best["train_s"])):
        cost[label] = _cost_run(theory, sampler, n=args.n_cost, chains=args.chains, seed=args.seed + 3, extra_s=extra)
        obs = cost[label]["observables"]
        print(f"{label}: {cost[label]['wall_s']:.1f} s, acceptance {cost[label]['acceptance']:.3f}, independent/s "
              + ", ".join(f"{k} {v['independent_per_s']:.2f} (tau {v['tau_int']})" for k, v in obs.items()))
    record = {"benchmark": "slhmc_study", "command": "benchmarks/bench_slhmc.py " + " ".join(argv or sys.argv[1:]),
              "machine": describe_machine(), "theory": theory.params(), "kappa": args.kappa,
              "data": {"configurations": len(data), "seconds": data_s, "pure_gauge_acceptance": data_acc},
              "settings": vars(args), "models": models, "cost": cost}
    for row in models:
        row.pop("path")
    write_results(RESULTS / f"{args.out}.json", record)
    _plot(record, RESULTS / f"{args.out}.png")
    return 0


def _plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = record["models"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    lin = next(m for m in models if m["layers"] == 0)
    deep = sorted((m for m in models if m["hidden"] == record["settings"]["hidden"] or m["layers"] == 0),
                  key=lambda m: m["layers"])
    ax = axes[0]
    ax.errorbar([m["layers"] for m in deep], [m["acceptance"] for m in deep],
                yerr=[m["acceptance_error"] for m in deep], fmt="o-", capsize=3)
    ax.axhline(lin["acceptance"], ls="--", color="grey", label="linear model")
    ax.set_xlabel("attention layers")
    ax.set_ylabel("SLHMC acceptance")
    ax.legend()
    ax = axes[1]
    ax.errorbar([m["parameters"] for m in models], [m["acceptance"] for m in models],
                yerr=[m["acceptance_error"] for m in models], fmt="o", capsize=3)
    for m in models:
        ax.annotate(f"{m['layers']}L/{m['hidden']}", (m["parameters"], m["acceptance"]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("SLHMC acceptance")
    ax.axhline(lin["acceptance"], ls="--", color="grey")
    ax = axes[2]
    labels = list(record["cost"])
    names = ["plaquette", "q2", "psibarpsi"]
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        obs = record["cost"][label]["observables"]
        ax.bar(np.arange(len(names)) + i * width, [obs[n]["independent_per_s"] for n in names], width, label=label)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    ax.set_ylabel("independent samples / s (training excluded)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    t = record["theory"]
    fig.suptitle(f"SLHMC, Schwinger N_f=2, {t['shape'][0]}x{t['shape'][1]}, beta={t['beta']}, kappa={record['kappa']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
