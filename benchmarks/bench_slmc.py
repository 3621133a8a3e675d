"""Self-learning Monte Carlo for the double exchange model (arXiv:2306.11527): study and benchmarks.

Three parts, each writing ``benchmarks/results/slmc_<part>.json`` with the machine description:

- ``study``: at one documented 6×6 point, the SLMC acceptance (Γ-method error) of the linear model and
  of the equivariant transformer with 1, 2, 3 … layers, all trained on the same exact-chain data;
  the validation MSE against the parameter count (log-log, the power law of the talk) and the
  measured acceptance against the talk's relation acceptance ≈ exp(−√MSE).  Plots:
  ``slmc_acceptance_layers.png``, ``slmc_mse_params.png``, ``slmc_acceptance_mse.png``.
- ``shootout`` (issue 19): CPU seconds per independent staggered magnetization |m_s|,
  2 τ_int × CPU per sample, for the exact local Metropolis chain and for SLMC, chains run until
  ≥ 50 τ_int or flagged, the ratio exact/SLMC with its error, and SLMC's up-front cost — the CPU of
  the exact chain that generated its training data plus the fit — amortized over 10⁴ and 10⁶
  samples (:mod:`qlat.analysis.slmc_shootout`).  Writes ``slmc_shootout_<preset>.json``.
  It replaces the former ``throughput`` part, whose ``slmc_throughput.json`` and
  ``slmc_throughput_L10.json`` are **superseded**: their 6.8× (8×8) and 13–33× (10×10) ESS/s
  ratios came from 60–100-sample chains (far too short for a τ_int: 6×6 reruns differed by up to
  3×), used wall time, measured |m| instead of |m_s| and left out the training-data chain, whose
  cost alone exceeded the exact chain's run.
- ``diag``: diagonalization throughput (configurations/s) of the 2N×2N one-body matrix vs L:
  batched ``torch.linalg.eigvalsh`` against a loop of ``scipy.linalg.eigvalsh``, float64.

    .venv/bin/python benchmarks/bench_slmc.py study --L 6 --J 1 --mu 0 --T 0.05
    .venv/bin/python benchmarks/bench_slmc.py remeasure --inner 72     # same models, K = 72 inner updates
    nice -n 10 .venv/bin/python benchmarks/bench_slmc.py shootout --preset quick
    .venv/bin/python benchmarks/bench_slmc.py shootout --preset full --dry-run   # timed CPU estimate
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

from qlat.analysis.shootout import AMORTIZE_OVER  # noqa: E402
from qlat.analysis.slmc_shootout import (  # noqa: E402
    ChainPlan,
    SLMCShootoutPlan,
    estimated_cpu_seconds,
    run_slmc_shootout,
)
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


# ------------------------------------------------------------------------------ shoot-out (was: throughput)
#: SLMC's effective model and cumulative update in the shoot-out presets: the linear model with a coupling
#: for every pair distance of the lattice (the long-range couplings of Liu, Qi, Meng, Fu arXiv:1611.09364),
#: K = 8 N effective-model steps per exact test (the optimum of a K scan at 8×8: docs/tutorials), trained on
#: 4 exact chains × 40 sweeps after 30 discarded.
SLMC_MODEL: dict[str, Any] = {"shells": None, "inner_sweeps": 8, "data_chains": 4, "data_sweeps": 40,
                              "data_thermalization": 30}


def shootout_plan(name: str) -> SLMCShootoutPlan:
    """``test``: 4×4, seconds (the fast suite); ``quick``: 6×6, ≈ 5 CPU minutes; ``full``: 6, 8, 10 (longer exact
    chains: a τ_int error ≈ 14 % at 8×8).

    All at the documented point t = 1, J = 1, μ = 0, T = 0.05 (the ``study`` default); SLMC as in
    :data:`SLMC_MODEL`.
    """
    if name == "test":
        return SLMCShootoutPlan(sizes=[4], exact=ChainPlan(chains=2, thermalization=10, block=20, max_cpu_seconds=2),
                                slmc=ChainPlan(chains=2, thermalization=5, block=20, max_cpu_seconds=2),
                                **{**SLMC_MODEL, "data_chains": 2, "data_sweeps": 10, "data_thermalization": 10},
                                epochs=5)
    if name == "quick":
        return SLMCShootoutPlan(sizes=[6], exact=ChainPlan(chains=8, thermalization=20, block=400,
                                                           max_cpu_seconds=300),
                                slmc=ChainPlan(chains=8, thermalization=20, block=2000, max_cpu_seconds=400),
                                **SLMC_MODEL)
    if name == "full":
        return SLMCShootoutPlan(sizes=[6, 8, 10], exact=ChainPlan(chains=8, thermalization=20, block=600,
                                                                  max_cpu_seconds=3600),
                                slmc=ChainPlan(chains=8, thermalization=20, block=4000, max_cpu_seconds=3600),
                                **SLMC_MODEL)
    raise SystemExit(f"unknown preset {name!r}: test, quick or full")


def _dry_run(plan: SLMCShootoutPlan, args: argparse.Namespace) -> list[dict]:
    """Time one exact sweep and one SLMC update (untrained linear model) per size; estimate the run's CPU."""
    from qlat.samplers.slmc.training import make_model, save_model

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="slmc-dry-"))
    for L in plan.sizes:
        theory = plan.theory(L)
        exact = ExactLocalMetropolis()
        state = exact.init_state(theory, chains=plan.exact.chains, seed=0)  # batched as in the run
        exact.run(theory, 1, state=state)
        t0 = time.process_time()
        exact.run(theory, 1, state=state)
        sweep = (time.process_time() - t0) / plan.exact.chains
        save_model(tmp / f"lin{L}", make_model("linear", theory, shells=plan.shells_for(theory)),
                   theory_params=theory.params())
        slmc = SLMC(model=str(tmp / f"lin{L}"), n_inner=plan.inner_steps(theory))
        state = slmc.init_state(theory, chains=plan.slmc.chains, seed=0)
        slmc.run(theory, 1, state=state)
        t0 = time.process_time()
        slmc.run(theory, 5, state=state)
        update = (time.process_time() - t0) / (5 * plan.slmc.chains)
        est = estimated_cpu_seconds(plan, L, sweep_seconds=sweep, update_seconds=update, tau_exact=args.tau_exact,
                                    tau_slmc=args.tau_slmc, fit_seconds=args.fit_seconds)
        rows.append({**est, "cpu_seconds_per_exact_sweep_per_chain": sweep,
                     "cpu_seconds_per_slmc_update_per_chain": update})
        print(f"L={L}: exact sweep {sweep:.3g} s, SLMC update {update:.3g} s per chain; estimated CPU: training data "
              f"{est['training_data']:.0f} s + fit {est['fit']:.0f} s + exact {est['exact']:.0f} s (uncapped "
              f"{est['exact_uncapped']:.0f}) + SLMC {est['slmc']:.0f} s (uncapped {est['slmc_uncapped']:.0f}) = "
              f"{est['total'] / 60:.1f} CPU min", flush=True)
    return rows


def _fmt(value: float, error: float) -> str:
    return f"{value:.3g}±{error:.2g}" if math.isfinite(error) else f"{value:.3g}±inf"


def _plot_shootout(records: list[dict], path: Path) -> None:
    """CPU s per independent |m_s| against L (exact chain, SLMC sampling only and with T over 10⁴, 10⁶) and
    the ratio exact/SLMC with the issue's 10× line, from one or more ``shootout`` records."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    costs = sorted((c for r in records for c in r["costs"]), key=lambda c: c["L"])
    ratios = sorted((x for r in records for x in r["ratios"]), key=lambda x: x["L"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.6))
    series = [("exact-local", "", "exact local chain", "s-"), ("slmc", "", "SLMC, sampling only", "o-")]
    series += [("slmc", f"_amortized_{n}", f"SLMC, T over 1e{round(math.log10(n))}", "o--") for n in AMORTIZE_OVER]
    for sampler, suffix, label, fmt in series:
        rows = [c for c in costs if c["sampler"] == sampler]
        ax.errorbar([c["L"] for c in rows], [c[f"cpu_seconds_per_independent{suffix}"] for c in rows],
                    [c[f"cpu_seconds_per_independent{suffix}_error"] for c in rows], fmt=fmt, capsize=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("L (L×L lattice)")
    ax.set_ylabel("CPU s per independent |m_s|")
    ax.legend(fontsize=8)
    for k, variant in enumerate(["sampling", *(f"amortized_{n}" for n in AMORTIZE_OVER)]):
        rows = [x for x in ratios if x["variant"] == variant]
        bx.errorbar([x["L"] + 0.08 * (k - 1) for x in rows], [x["ratio"] for x in rows], [x["error"] for x in rows],
                    fmt="o", capsize=3, label=variant.replace("amortized_", "SLMC with T over "))
    bx.axhline(10.0, color="k", ls=":", label="issue 19 goal (8×8)")
    for axis in (ax, bx):
        axis.set_xticks(sorted({c["L"] for c in costs}))
    bx.set_yscale("log")
    bx.set_xlabel("L (L×L lattice)")
    bx.set_ylabel("exact / SLMC (CPU per independent |m_s|)")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def shootout(args: argparse.Namespace) -> None:
    """CPU seconds per independent |m_s|: exact local chain vs SLMC, training data + fit amortized."""
    import dataclasses
    import json

    if args.plot_from:
        _plot_shootout([json.loads(Path(f).read_text()) for f in args.plot_from],
                       Path(args.out) if args.out else RESULTS / "slmc_shootout.png")
        return
    plan = shootout_plan(args.preset)
    if args.sizes:
        plan = dataclasses.replace(plan, sizes=list(args.sizes))
    if args.dry_run:
        rows = _dry_run(plan, args)
        if args.out:  # a measured estimate on record (timings of one sweep/update, guessed tau_int)
            write_results(Path(args.out), {
                "command": " ".join(["benchmarks/bench_slmc.py", *sys.argv[1:]]), "preset": args.preset,
                "plan": plan.to_dict(), "dry_run": True,
                "guessed": {"tau_exact": args.tau_exact, "tau_slmc": args.tau_slmc, "fit_seconds": args.fit_seconds},
                "estimates_cpu_seconds": rows, "machine": describe_machine()})
        return
    t0 = time.process_time()
    w0 = time.perf_counter()
    out = run_slmc_shootout(plan, log=lambda line: print(line, flush=True))
    cpu = time.process_time() - t0
    print(f"\n{'L':>3} {'variant':>18} {'exact/SLMC':>14} {'rel. err':>9}")
    for r in out["ratios"]:
        rel = r["relative_error"]
        print(f"{r['L']:>3} {r['variant']:>18} {_fmt(r['ratio'], r['error']):>14} "
              f"{(f'{rel:.0%}' if rel is not None else '-'):>9}" + ("" if r["reliable"] else "  (flagged)"))
    goal = [r for r in out["ratios"] if r["L"] == 8 and r["variant"] != "sampling"]
    record = {"command": " ".join(["benchmarks/bench_slmc.py", *sys.argv[1:]]), "preset": args.preset,
              "plan": plan.to_dict(), "observable": "staggered_magnetization", "min_chain_taus": plan.min_chain_taus,
              "amortize_over": list(AMORTIZE_OVER), "training": out["training"],
              "costs": [c.to_dict() for c in out["costs"]], "ratios": out["ratios"],
              "goal": {"statement": "SLMC >= 10x the exact chain per effective sample at 8x8, training included, "
                                    "ratio error < 20 %",
                       "met": bool(goal) and all(r["reliable"] and r["ratio"] >= 10 and
                                                 (r["relative_error"] or 1.0) < 0.2 for r in goal),
                       "rows": goal},
              "cpu_seconds": cpu, "wall_seconds": time.perf_counter() - w0, "machine": describe_machine()}
    out_path = Path(args.out) if args.out else RESULTS / f"slmc_shootout_{args.preset}.json"
    write_results(out_path, record)
    _plot_shootout([record], out_path.with_suffix(".png"))


# ------------------------------------------------------------------------------ cumulative-update scan
def kscan(args: argparse.Namespace) -> None:
    """SLMC acceptance, τ_int(|m_s|) and CPU per update against K and the shells, one set of training data.

    The linear model with ``--shells`` neighbour shells (0: every pair distance) is fitted to the exact
    chains of :data:`SLMC_MODEL`; each (shells, K) then runs ``--chains`` × ``--n`` updates from the data
    chains' last configurations.  Short chains: an indicative scan that chose the shoot-out's K, not a record
    of its ratios (those come from ``shootout``).  Writes ``slmc_kscan_L<L>.json``.
    """
    import dataclasses

    from qlat.samplers.slmc.effective_hamiltonians import pair_distance_count
    from qlat.samplers.slmc.training import exact_training_data

    theory = DoubleExchangeTheory((args.L, args.L), t=1.0, J=1.0, mu=0.0, T=0.05)
    n_sites = theory.n_sites
    t0 = time.process_time()
    data = exact_training_data(theory, n=SLMC_MODEL["data_sweeps"], chains=SLMC_MODEL["data_chains"],
                               seed=args.seed, thermalization=SLMC_MODEL["data_thermalization"])
    data_seconds = time.process_time() - t0
    last = data.spins.reshape(SLMC_MODEL["data_sweeps"], SLMC_MODEL["data_chains"], *theory.field_shape)[-1]
    start = last.repeat((args.chains + len(last) - 1) // len(last), 1, 1, 1)[: args.chains]
    tmp = Path(tempfile.mkdtemp(prefix="slmc-kscan-"))
    rows = []
    for shells in args.shells:
        shells = shells or pair_distance_count(theory.shape, theory.boundary)
        model = make_model("linear", theory, shells=shells)
        fit = train_model(model, data, epochs=1, seed=0)
        save_model(tmp / f"lin{shells}", model, theory_params=theory.params())
        for sweeps in args.sweeps:
            k = int(round(sweeps * n_sites))
            sampler = SLMC(model=str(tmp / f"lin{shells}"), n_inner=k)
            state = dataclasses.replace(sampler.init_state(theory, chains=args.chains, seed=args.seed + 1),
                                        fields=start.clone())
            t0 = time.process_time()
            batch, _ = sampler.run(theory, args.n, state=state)
            per_update = (time.process_time() - t0) / (args.n * args.chains)
            ms = theory.staggered_magnetization(batch.configurations.reshape(-1, *theory.field_shape))
            est = gamma_estimate(ms.reshape(args.n, args.chains).numpy()[args.n // 10:])
            tau = float(est.tau_int) if est.tau_int is not None else math.nan
            tau_err = float(est.tau_int_error) if est.tau_int_error is not None else math.nan
            row = {"shells": shells, "validation_mse": fit.best_val_mse, "inner_sweeps": sweeps, "n_inner": k,
                   "acceptance": batch.acceptance, "inner_acceptance": batch.meta["inner_acceptance"],
                   "cpu_seconds_per_update": per_update, "tau_int": tau, "tau_int_error": tau_err,
                   "cpu_seconds_per_independent": 2 * tau * per_update,
                   "cpu_seconds_per_independent_error": 2 * tau_err * per_update}
            rows.append(row)
            print(f"shells={shells:2d} (val MSE {fit.best_val_mse:.2g}) K={k:5d}: acc={batch.acceptance:.3f} "
                  f"CPU/update={per_update * 1e3:.2f} ms tau_int={_fmt(tau, tau_err)} "
                  f"CPU/indep={_fmt(2 * tau * per_update * 1e3, 2 * tau_err * per_update * 1e3)} ms", flush=True)
    record = {"command": " ".join(["benchmarks/bench_slmc.py", *sys.argv[1:]]),
              "point": {"L": args.L, "t": 1.0, "J": 1.0, "mu": 0.0, "T": 0.05}, "training_data": SLMC_MODEL,
              "training_data_cpu_seconds": data_seconds, "chains": args.chains, "updates_per_chain": args.n,
              "note": "indicative: chains of a few hundred updates; the shoot-out records the ratios",
              "rows": rows, "machine": describe_machine()}
    write_results(RESULTS / f"slmc_kscan_L{args.L}.json", record)


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
    t = sub.add_parser("shootout", help="CPU seconds per independent |m_s|: exact chain vs SLMC (issue 19)")
    t.add_argument("--preset", default="quick", help="test, quick (6x6) or full (6, 8, 10)")
    t.add_argument("--sizes", type=int, nargs="+", default=None, help="override the preset's lattice sizes")
    t.add_argument("--dry-run", action="store_true", help="time one sweep/update per size and estimate the CPU")
    t.add_argument("--tau-exact", type=float, default=3.5,
                   help="dry run: guessed tau_int(|m_s|) of the exact chain (3.5 measured at 8x8)")
    t.add_argument("--tau-slmc", type=float, default=1.5,
                   help="dry run: guessed tau_int(|m_s|) of SLMC (about 1.4 at 8x8 with K = 8N, all shells)")
    t.add_argument("--fit-seconds", type=float, default=1.0, help="dry run: guessed CPU seconds of the fit")
    t.add_argument("--out", default=None, help="results file (default benchmarks/results/slmc_shootout_<preset>.json; "
                   "with --plot-from the figure, default slmc_shootout.png)")
    t.add_argument("--plot-from", nargs="+", default=None, metavar="JSON",
                   help="no run: plot these shootout records together (e.g. the 6x6 and 8x8 files)")
    k = sub.add_parser("kscan", help="SLMC acceptance, tau_int and CPU per update against K and the shells")
    k.add_argument("--L", type=int, default=8)
    k.add_argument("--shells", type=int, nargs="+", default=[4, 0], help="neighbour shells (0: every pair distance)")
    k.add_argument("--sweeps", type=float, nargs="+", default=[1, 4, 8, 16], help="K in units of N")
    k.add_argument("--chains", type=int, default=8)
    k.add_argument("--n", type=int, default=400, help="updates per chain")
    k.add_argument("--seed", type=int, default=11)
    d = sub.add_parser("diag")
    d.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 8, 10, 12])
    d.add_argument("--batch", type=int, default=16)
    d.add_argument("--seconds", type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    {"study": study, "remeasure": remeasure, "shootout": shootout, "kscan": kscan, "diag": diag}[args.part](args)


if __name__ == "__main__":
    main()
