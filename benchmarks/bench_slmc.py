"""Self-learning Monte Carlo for the double exchange model (arXiv:2306.11527): study and benchmarks.

Three parts, each writing ``benchmarks/results/slmc_<part>.json`` with the machine description:

- ``study``: at one documented 6×6 point, the SLMC acceptance (Γ-method error) of the linear model and
  of the equivariant transformer with 1, 2, 3 … layers, all trained on the same exact-chain data;
  the validation MSE against the parameter count (log-log, the power law of the talk) and the
  measured acceptance against the talk's relation acceptance ≈ exp(−√MSE).  Plots:
  ``slmc_acceptance_layers.png``, ``slmc_mse_params.png``, ``slmc_acceptance_mse.png``.
- ``throughput``: effective independent samples per second of |m| and of the energy,
  n_samples / (2 τ_int) / wall time, for the exact local Metropolis chain and for SLMC with a
  transformer (training cost reported separately), one run per lattice size.
- ``diag``: diagonalization throughput (configurations/s) of the 2N×2N one-body matrix vs L:
  batched ``torch.linalg.eigvalsh`` against a loop of ``scipy.linalg.eigvalsh``, float64.

    .venv/bin/python benchmarks/bench_slmc.py study --L 6 --J 1 --mu 0 --T 0.05
    .venv/bin/python benchmarks/bench_slmc.py remeasure --inner 72     # same models, K = 72 inner updates
    .venv/bin/python benchmarks/bench_slmc.py throughput --sizes 6 8
    .venv/bin/python benchmarks/bench_slmc.py diag --sizes 4 6 8 10 12
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# one BLAS thread for numpy/scipy too (torch.set_num_threads(1) below does not limit OpenBLAS), so the
# torch-vs-scipy comparison is single-threaded on both sides; set before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

from qlat.analysis.statistics import gamma_estimate  # noqa: E402
from qlat.samplers.slmc.effective_hamiltonians import deepen, parameter_count  # noqa: E402
from qlat.samplers.slmc.exact_local import ExactLocalMetropolis  # noqa: E402
from qlat.samplers.slmc.sampler import SLMC  # noqa: E402
from qlat.samplers.slmc.training import (  # noqa: E402
    TrainingData,
    energies_of,
    make_model,
    mse,
    save_model,
    train_model,
)
from qlat.theories.double_exchange import DoubleExchangeTheory  # noqa: E402

RESULTS = HERE / "results"


def _est(series: np.ndarray) -> dict:
    e = gamma_estimate(np.asarray(series, dtype=float))
    return {"value": e.value, "error": e.error, "tau_int": e.tau_int}


def _exact_data(theory, *, n: int, chains: int, seed: int, thermalization: int, every: int,
                cache: Path | None) -> tuple[TrainingData, float]:
    if cache is not None and cache.exists():
        z = np.load(cache)
        return TrainingData(torch.from_numpy(z["spins"]), torch.from_numpy(z["energies"])), float(z["seconds"])
    t0 = time.perf_counter()
    sampler = ExactLocalMetropolis(thermalization=thermalization, every=every)
    batch, _ = sampler.run(theory, n, state=sampler.init_state(theory, chains=chains, seed=seed))
    seconds = time.perf_counter() - t0
    spins = batch.configurations.reshape(-1, *theory.field_shape)
    data = TrainingData(spins, energies_of(theory, spins))
    if cache is not None:
        np.savez(cache, spins=spins.numpy(), energies=data.energies.numpy(), seconds=seconds)
    return data, seconds


def _acceptance(theory, path: str, *, n: int, chains: int, seed: int, n_inner: int = 0) -> tuple[dict, float, float]:
    sampler = SLMC(model=path, thermalization=5, n_inner=n_inner)
    t0 = time.perf_counter()
    batch, _ = sampler.run(theory, n, state=sampler.init_state(theory, chains=chains, seed=seed))
    return _est(batch.accepted), batch.meta["inner_acceptance"], time.perf_counter() - t0


# ------------------------------------------------------------------------------ study
def study(args: argparse.Namespace) -> None:
    theory = DoubleExchangeTheory((args.L, args.L), t=1.0, J=args.J, mu=args.mu, T=args.T)
    cache = Path(args.data_cache) if args.data_cache else None
    data, data_seconds = _exact_data(theory, n=args.n, chains=args.chains, seed=args.seed,
                                     thermalization=args.thermalize, every=args.every, cache=cache)
    print(f"{len(data)} exact configurations in {data_seconds:.0f} s; E std {float(data.energies.std()):.4g} t")
    tmp = Path(tempfile.mkdtemp(prefix="slmc-study-"))
    slmc_seconds = 0.0
    n_exact = len(data)
    if args.slmc_data:  # online data: the (exact) SLMC chain of the linear model fitted on the exact data
        lin = make_model("linear", theory, shells=args.shells)
        train_model(lin, data)
        save_model(tmp / "seed-linear", lin, theory_params=theory.params())
        t0 = time.perf_counter()
        sampler = SLMC(model=str(tmp / "seed-linear"), thermalization=20)
        batch, _ = sampler.run(theory, args.slmc_data, state=sampler.init_state(theory, chains=args.chains,
                                                                                seed=args.seed + 100))
        spins = batch.configurations.reshape(-1, *theory.field_shape)
        data = data + TrainingData(spins, energies_of(theory, spins))
        slmc_seconds = time.perf_counter() - t0
        print(f"+ {len(spins)} linear-SLMC configurations in {slmc_seconds:.0f} s (acceptance {batch.acceptance:.2f})")
    train, val = data.split(val_fraction=0.2, seed=0)
    rows = []
    specs = [("linear", 0)] + [("transformer", k) for k in args.layers]
    previous: Any = None
    for kind, layers in specs:
        model: Any
        if args.grow and previous is not None and len(previous.layers) == layers - 1:
            model = deepen(previous)  # grown from the trained shallower model: starts at its loss
        else:
            model = make_model(kind, theory, layers=layers, heads=args.heads, radius=args.radius,
                               shells=args.shells, seed=args.seed)
        t0 = time.perf_counter()
        trained = train_model(model, data, epochs=args.epochs, lr=args.lr, batch_size=args.batch, seed=0,
                              init_linear=not (args.grow and previous is not None))
        if kind == "transformer":
            previous = model
        train_seconds = time.perf_counter() - t0
        path = str(tmp / f"{kind}{layers}")
        save_model(path, model, theory_params=theory.params(), training=trained.to_dict())
        acc, inner, run_seconds = _acceptance(theory, path, n=args.check, chains=args.chains, seed=args.seed + 1)
        with torch.no_grad():
            r2 = (model(val.spins) - val.energies).square()
        row = {"kind": kind, "layers": layers, "parameters": parameter_count(model),
               "val_mse": {"value": float(r2.mean()), "error": float(r2.std() / math.sqrt(len(r2)))},
               "train_mse": mse(model, train), "best_epoch": trained.best_epoch, "acceptance": acc,
               "inner_acceptance": inner, "train_seconds": train_seconds, "slmc_seconds": run_seconds,
               "action_val_mse": theory.beta ** 2 * float(r2.mean()),
               "exp_minus_sqrt_action_mse": math.exp(-theory.beta * math.sqrt(float(r2.mean()))),
               "model_dir": path}
        rows.append(row)
        print(f"{kind:11s} layers={layers} params={row['parameters']:4d} val MSE={row['val_mse']['value']:.3e} "
              f"acc={acc['value']:.3f}±{acc['error']:.3f} (inner {inner:.2f}) train {train_seconds:.0f}s", flush=True)
    record = {"point": theory.params(), "models_dir": str(tmp), "data": {"configurations": len(data), "exact_configurations": n_exact,
              "n_per_chain": args.n, "chains": args.chains, "every": args.every, "thermalization": args.thermalize,
              "exact_seconds": data_seconds, "slmc_updates_per_chain": args.slmc_data,
              "slmc_seconds": slmc_seconds},
              "model": {"heads": args.heads, "radius": args.radius, "shells": args.shells, "epochs": args.epochs,
                        "lr": args.lr, "batch": args.batch, "grown": bool(args.grow)},
              "slmc": {"updates_per_chain": args.check, "inner_updates": theory.n_sites}, "rows": rows,
              "machine": describe_machine()}
    write_results(RESULTS / "slmc_study.json", record)
    _plot_study(rows, theory.beta)


def _plot_study(rows: list[dict], beta: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lin = rows[0]
    tr = rows[1:]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for k, (key, est) in enumerate(sorted(lin.get("acceptance_by_inner", {"": lin["acceptance"]}).items())):
        colour = f"C{k}"
        suffix = f", K = {key}" if key else ""
        a, e = est["value"], est["error"]
        ax.axhline(a, color=colour, ls="--", label=f"linear{suffix}")
        ax.axhspan(a - e, a + e, color=colour, alpha=0.15)
        series = [r.get("acceptance_by_inner", {"": r["acceptance"]})[key] for r in tr]
        ax.errorbar([r["layers"] for r in tr], [x["value"] for x in series], [x["error"] for x in series],
                    fmt="o-", color=colour, label=f"equivariant transformer{suffix}")
    ax.set_xticks([r["layers"] for r in tr])
    ax.set_xlabel("attention layers")
    ax.set_ylabel("SLMC acceptance")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "slmc_acceptance_layers.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.errorbar([r["parameters"] for r in tr], [r["val_mse"]["value"] for r in tr],
                [r["val_mse"]["error"] for r in tr], fmt="o", label="transformer")
    ax.errorbar([lin["parameters"]], [lin["val_mse"]["value"]], [lin["val_mse"]["error"]], fmt="s", label="linear")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("validation MSE (t²)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "slmc_mse_params.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    # the MSE of the action S = βE (dimensionless), the scale on which the acceptance depends
    s = np.array([beta * math.sqrt(r["val_mse"]["value"]) for r in rows])
    ax.errorbar(s, [r["acceptance"]["value"] for r in rows], [r["acceptance"]["error"] for r in rows], fmt="o",
                label="measured")
    grid = np.linspace(0, s.max() * 1.2, 100)
    ax.plot(grid, np.exp(-grid), label="exp(−√MSE)")
    ax.set_xlabel("√MSE of the action βE")
    ax.set_ylabel("SLMC acceptance")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "slmc_acceptance_mse.png", dpi=120)


def remeasure(args: argparse.Namespace) -> None:
    """Acceptance of the models of the last study at other inner-update counts K (merged into its JSON)."""
    import json

    path = RESULTS / "slmc_study.json"
    record = json.loads(path.read_text())
    theory = DoubleExchangeTheory.from_params(record["point"])
    for row in record["rows"]:
        by_k = row.setdefault("acceptance_by_inner", {str(record["slmc"]["inner_updates"]): row["acceptance"]})
        for k in args.inner:
            model_dir = row.get("model_dir") or str(Path(args.models or record["models_dir"]) /
                                                    f"{row['kind']}{row['layers']}")
            acc, inner, _ = _acceptance(theory, model_dir, n=args.check, chains=args.chains,
                                        seed=args.seed + 2, n_inner=k)
            by_k[str(k)] = {**acc, "inner_acceptance": inner}
            print(f"{row['kind']:11s} layers={row['layers']} K={k}: acc={acc['value']:.3f}±{acc['error']:.3f}",
                  flush=True)
    record["machine_remeasure"] = describe_machine()
    write_results(path, record)
    _plot_study(record["rows"], theory.beta)


# ------------------------------------------------------------------------------ throughput
def _ess(theory, batch, seconds: float) -> dict:
    out = {}
    c = batch.configurations
    for name, fn in (("magnetization", theory.magnetization), ("energy", theory.energy_density)):
        series = fn(c.reshape(-1, *theory.field_shape)).reshape(c.shape[0], c.shape[1]).numpy()
        e = gamma_estimate(series)
        tau = e.tau_int if e.tau_int is not None else math.nan
        ess = series.size / (2.0 * max(tau, 0.5))
        out[name] = {"value": e.value, "error": e.error, "tau_int": tau, "ess": ess, "ess_per_second": ess / seconds}
    return out


def throughput(args: argparse.Namespace) -> None:
    rows = []
    for L in args.sizes:
        theory = DoubleExchangeTheory((L, L), t=1.0, J=args.J, mu=args.mu, T=args.T)
        exact = ExactLocalMetropolis(thermalization=args.thermalize)
        state = exact.init_state(theory, chains=args.chains, seed=1)
        t0 = time.perf_counter()
        train_batch, state = exact.run(theory, args.n_exact, state=state)
        data_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch, _ = exact.run(theory, args.n_exact, state=state)
        exact_seconds = time.perf_counter() - t0
        row: dict = {"L": L, "exact": {"seconds": exact_seconds, "sweeps": args.n_exact, **_ess(theory, batch,
                                                                                             exact_seconds)},
                     "training_data_seconds": data_seconds}
        spins = train_batch.configurations.reshape(-1, *theory.field_shape)
        data = TrainingData(spins, energies_of(theory, spins))
        tmp = Path(tempfile.mkdtemp(prefix="slmc-bench-"))
        lin = make_model("linear", theory, shells=4)
        train_model(lin, data)
        save_model(tmp / "lin", lin, theory_params=theory.params())
        tr = make_model("transformer", theory, layers=args.layers, heads=2, radius=1, shells=4, seed=0)
        t0 = time.perf_counter()
        train_model(tr, data, epochs=args.epochs, lr=args.lr, batch_size=32, seed=0)
        row["transformer_train_seconds"] = time.perf_counter() - t0
        save_model(tmp / "tr", tr, theory_params=theory.params())
        variants = {
            "slmc_linear": SLMC(model=str(tmp / "lin")),
            "slmc_transformer": SLMC(model=str(tmp / "tr")),
            "slmc_transformer_two_level": SLMC(model=str(tmp / "tr"), proposal_model=str(tmp / "lin"),
                                               proposal_steps=args.proposal_steps),
        }
        for label, sampler in variants.items():
            if args.variants and label not in args.variants:
                continue
            t0 = time.perf_counter()
            sb, _ = sampler.run(theory, args.n_slmc, state=state)  # starts from the thermalized exact chain
            seconds = time.perf_counter() - t0
            row[label] = {"seconds": seconds, "updates": args.n_slmc, "acceptance": sb.acceptance,
                          "inner_acceptance": sb.meta["inner_acceptance"], **_ess(theory, sb, seconds)}
            for name in ("magnetization", "energy"):
                row[label][f"ratio_{name}"] = row[label][name]["ess_per_second"] / row["exact"][name]["ess_per_second"]
            print(f"L={L} {label}: acc {sb.acceptance:.2f}, {seconds:.0f}s vs exact {exact_seconds:.0f}s; ESS/s ratio "
                  f"|m| {row[label]['ratio_magnetization']:.2f}, energy {row[label]['ratio_energy']:.2f}", flush=True)
        rows.append(row)
    write_results(RESULTS / args.out,
                  {"point": {"J": args.J, "mu": args.mu, "T": args.T, "t": 1.0}, "chains": args.chains,
                   "layers": args.layers, "proposal_steps": args.proposal_steps, "rows": rows,
                   "machine": describe_machine()})


# ------------------------------------------------------------------------------ diagonalization
def diag(args: argparse.Namespace) -> None:
    import scipy.linalg

    rows = []
    for L in args.sizes:
        theory = DoubleExchangeTheory((L, L), t=1.0, J=1.0, mu=0.0, T=0.1)
        spins = theory.hot_start(args.batch, generator=torch.Generator().manual_seed(0))
        h = theory.one_body_matrix(spins)
        hn = h.numpy()
        torch.linalg.eigvalsh(h)
        t0 = time.perf_counter()
        reps = 0
        while time.perf_counter() - t0 < args.seconds:
            ev_t = torch.linalg.eigvalsh(h)
            reps += 1
        torch_rate = reps * args.batch / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        reps = 0
        while time.perf_counter() - t0 < args.seconds:
            ev_s = np.stack([scipy.linalg.eigvalsh(m) for m in hn])
            reps += 1
        scipy_rate = reps * args.batch / (time.perf_counter() - t0)
        assert np.allclose(ev_s, ev_t.numpy(), atol=1e-10)
        rows.append({"L": L, "matrix": 2 * L * L, "torch_per_second": torch_rate, "scipy_per_second": scipy_rate,
                     "ratio": torch_rate / scipy_rate})
        print(f"L={L:2d} ({2 * L * L}×{2 * L * L}): torch {torch_rate:8.1f}/s  scipy {scipy_rate:8.1f}/s  "
              f"ratio {torch_rate / scipy_rate:.2f}", flush=True)
    write_results(RESULTS / "slmc_diag.json", {"batch": args.batch, "threads": torch.get_num_threads(),
                                               "rows": rows, "machine": describe_machine()})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="part", required=True)
    s = sub.add_parser("study")
    s.add_argument("--L", type=int, default=6)
    s.add_argument("--J", type=float, default=1.0)
    s.add_argument("--mu", type=float, default=0.0)
    s.add_argument("--T", type=float, default=0.05)
    s.add_argument("--n", type=int, default=100)
    s.add_argument("--chains", type=int, default=8)
    s.add_argument("--every", type=int, default=2)
    s.add_argument("--thermalize", type=int, default=100)
    s.add_argument("--layers", type=int, nargs="+", default=[1, 2, 3])
    s.add_argument("--heads", type=int, default=2)
    s.add_argument("--radius", type=int, default=1)
    s.add_argument("--shells", type=int, default=4)
    s.add_argument("--epochs", type=int, default=60)
    s.add_argument("--lr", type=float, default=1e-2)
    s.add_argument("--batch", type=int, default=32)
    s.add_argument("--check", type=int, default=150)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--data-cache", default=None)
    s.add_argument("--slmc-data", type=int, default=0, help="linear-SLMC updates per chain added to the data")
    s.add_argument("--grow", action="store_true", help="train k+1 layers starting from the trained k-layer model")
    r = sub.add_parser("remeasure")
    r.add_argument("--inner", type=int, nargs="+", default=[72])
    r.add_argument("--models", default=None, help="model directory of the study (default: from its JSON)")
    r.add_argument("--check", type=int, default=200)
    r.add_argument("--chains", type=int, default=8)
    r.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("throughput")
    t.add_argument("--sizes", type=int, nargs="+", default=[6, 8])
    t.add_argument("--J", type=float, default=1.0)
    t.add_argument("--mu", type=float, default=0.0)
    t.add_argument("--T", type=float, default=0.05)
    t.add_argument("--chains", type=int, default=4)
    t.add_argument("--thermalize", type=int, default=50)
    t.add_argument("--n-exact", type=int, default=60)
    t.add_argument("--n-slmc", type=int, default=60)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--proposal-steps", type=int, default=8)
    t.add_argument("--variants", nargs="+", default=None,
                   help="slmc_linear slmc_transformer slmc_transformer_two_level (default: all)")
    t.add_argument("--out", default="slmc_throughput.json", help="results file name in benchmarks/results")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--lr", type=float, default=1e-2)
    d = sub.add_parser("diag")
    d.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 8, 10, 12])
    d.add_argument("--batch", type=int, default=16)
    d.add_argument("--seconds", type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    {"study": study, "remeasure": remeasure, "throughput": throughput, "diag": diag}[args.part](args)


if __name__ == "__main__":
    main()
