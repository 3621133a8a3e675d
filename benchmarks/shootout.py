"""The shoot-out: CPU seconds per independent topological charge vs β for every U(1) sampler qlat has.

2D U(1) (Wilson action), samplers hmc, heatbath, heatbath-instanton (heatbath + one Q → Q ± 1
proposal per sweep), flow (independence Metropolis with a gauge-equivariant ``ncp`` flow) and
fthmc (HMC in the flow's variables).  For each (L, β) and sampler

    CPU seconds per independent Q = 2 τ_int(Q) × CPU seconds per sample,

τ_int from the Γ-method on chains run until they are ≥ 100 τ_int(Q) long or a per-point CPU
budget is spent — then the point is **flagged** (its cost a lower bound at best)
(:mod:`qlat.analysis.shootout`).  The flow is trained once per ``train_betas`` at L = 8 and
transferred untrained to the other β and L (:func:`qlat.samplers.flow.checkpoint.transfer_checkpoint`);
each point is charged the whole training CPU time, amortized over 10⁴ and 10⁶ samples.  HMC
starts hot; the other samplers start from HMC's final (equilibrated) configurations.  Speedup =
HMC's cost / the sampler's (> 1: the sampler wins); the crossover β is where an ML sampler's
speedup crosses 1 (ln-linear interpolation, error from both τ_int).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python benchmarks/shootout.py --preset quick
    PYTHONPATH=$PWD python benchmarks/shootout.py --preset full --dry-run     # the plan and its CPU estimate
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python benchmarks/shootout.py --preset l16_1core  # L = 16, reduced
    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python benchmarks/shootout.py --preset l16_tree   # tree flow, L = 16

Writes ``benchmarks/results/shootout_<preset>.json`` (with the machine) and ``shootout_<preset>.png``.
"""

from __future__ import annotations

import argparse
import json
import math
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

from qlat.analysis.shootout import (  # noqa: E402
    AMORTIZE_OVER,
    MIN_CHAIN_TAUS,
    ML_SAMPLERS,
    SAMPLER_NAMES,
    TRANSFERRED_FLOW_SAMPLERS,
    ChargeCost,
    SamplerPlan,
    ShootoutPlan,
    TreeFlowPlan,
    run_shootout,
)

#: CPU seconds per training step of the 8-layer ncp flow at L = 8, batch 64 (measured here: 4 layers, 600 steps,
#: 16.5 CPU s in benchmarks/results/fthmc_vs_hmc.json, doubled for 8 layers); used only for the estimate.
SECONDS_PER_TRAIN_STEP = 0.06

_MD = {"trajectory_length": 1.0, "n_steps": 10, "target_acceptance": 0.7}


#: HMC and heatbath-instanton at L = 16 in the l16_1core and l16_tree presets (the same plan, so the same chains)
_L16_HMC = SamplerPlan({**_MD, "thermalization": 8000}, chains=16, block=2000, max_cpu_seconds=160)
_L16_HEATBATH_INSTANTON = SamplerPlan({"instanton_moves": 1, "thermalization": 20}, chains=16, block=300,
                                      max_cpu_seconds=40)


def preset(name: str) -> ShootoutPlan:
    """``quick``: L = 8, β = 1…5, ≈ 17 CPU minutes at most; ``full``: L = 8 and 16, β = 1…6, hours;
    ``l16_1core``: L = 16, β = 3…6, ≈ 18 CPU minutes at most (a reduced L = 16 run)."""
    if name == "quick":
        samplers = {
            "hmc": SamplerPlan({**_MD, "thermalization": 1000}, chains=16, block=1000, max_cpu_seconds=30),
            "heatbath": SamplerPlan({"thermalization": 20}, chains=16, block=300, max_cpu_seconds=45),
            "heatbath-instanton": SamplerPlan({"instanton_moves": 1, "thermalization": 20}, chains=16, block=300,
                                              max_cpu_seconds=20),
            "flow": SamplerPlan({"thermalization": 20}, chains=16, block=200, max_cpu_seconds=30),
            "fthmc": SamplerPlan({**_MD, "thermalization": 30}, chains=8, block=30, max_cpu_seconds=40),
        }
        return ShootoutPlan(L=[8], betas=[1.0, 2.0, 3.0, 4.0, 5.0], samplers=samplers, train_betas=[1.0, 3.0, 5.0],
                            train_steps=1200)
    if name == "full":
        samplers = {
            "hmc": SamplerPlan({**_MD, "thermalization": 5000}, chains=32, block=2000, max_cpu_seconds=600),
            "heatbath": SamplerPlan({"thermalization": 20}, chains=32, block=1000, max_cpu_seconds=1200),
            "heatbath-instanton": SamplerPlan({"instanton_moves": 1, "thermalization": 20}, chains=32, block=1000,
                                              max_cpu_seconds=300),
            "flow": SamplerPlan({"thermalization": 20}, chains=32, block=1000, max_cpu_seconds=600),
            "fthmc": SamplerPlan({**_MD, "thermalization": 50}, chains=16, block=100, max_cpu_seconds=1800),
        }
        return ShootoutPlan(L=[8, 16], betas=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], samplers=samplers,
                            train_betas=[2.0, 4.0, 6.0], train_steps=5000)
    if name == "l16_1core":
        # The full preset's L = 16 half cut to ~18 CPU minutes on one core (15.2 h estimated for full):
        # β = 3…6 brackets the heatbath-instanton/HMC crossover (3.95(10) at L = 8) and reaches β = 6, where HMC's
        # tau_int(Q) is ~1.5·10³ at L = 16 (160 CPU s buy 100 tau_int; 8000 thermalization ≥ 5 tau_int); one
        # flow trained at L = 8, β = 4 (the quick preset's 1200 steps) is transferred to every β at L = 16; the
        # ML and heatbath budgets are small, so their chains are flagged where they are short of 100 tau_int.
        samplers = {
            "hmc": _L16_HMC,
            "heatbath": SamplerPlan({"thermalization": 20}, chains=16, block=300, max_cpu_seconds=45),
            "heatbath-instanton": _L16_HEATBATH_INSTANTON,
            "flow": SamplerPlan({"thermalization": 10}, chains=16, block=100, max_cpu_seconds=15),
            "fthmc": SamplerPlan({**_MD, "thermalization": 10}, chains=8, block=20, max_cpu_seconds=40),
        }
        return ShootoutPlan(L=[16], betas=[3.0, 4.0, 5.0, 6.0], samplers=samplers, train_betas=[4.0],
                            train_steps=1200)
    if name == "l16_tree":
        # The gauge-fixed tree flow (qlat.samplers.flow.tree) against HMC and heatbath-instanton at L = 16, β = 3…6,
        # with HMC as in l16_1core (same seeds and budgets): the shared one-plaquette map is trained at L = 8 per β,
        # its tail at L = 16; both phases are charged.  ≈ 25 CPU minutes.
        samplers = {
            "hmc": _L16_HMC,
            "heatbath-instanton": _L16_HEATBATH_INSTANTON,
            # 128 chains: the tree flow's 30 sequential stages cost less per sample in larger batches (0.42 → 0.31 ms
            # per sample from 64 to 256 chains at L = 16, measured here); 3000 tail steps: batch acceptance at β = 6
            # 0.36 after 2000 steps, 0.43 after 4000 (one seed each)
            # thermalization 100 ≥ 5 τ_int(Q) at every β (12 at β = 6): 112 of the 128 chains start from the flow's own
            # start, not from HMC's equilibrated configurations
            "flow-tree": SamplerPlan({"thermalization": 100}, chains=128, block=200, max_cpu_seconds=90),
        }
        return ShootoutPlan(L=[16], betas=[3.0, 4.0, 5.0, 6.0], samplers=samplers, train_betas=[],
                            tree=TreeFlowPlan(tail_steps=3000))
    raise SystemExit(f"unknown preset {name!r}")


def _fmt(value: float, error: float) -> str:
    if not math.isfinite(value):
        return "inf"
    return f"{value:.2e}±{error:.0e}" if math.isfinite(error) else f"{value:.2e}±?"


def print_tables(costs, speedups, crossovers) -> None:
    Ls = sorted({c.L for c in costs})
    names = [n for n in SAMPLER_NAMES if any(c.sampler == n for c in costs)]
    for L in Ls:
        betas = sorted({c.beta for c in costs if c.L == L})
        print(f"\nL = {L}: CPU seconds per independent Q (2 tau_int(Q) x CPU s/sample; * = flagged: chains "
              f"< {MIN_CHAIN_TAUS} tau_int or Gamma-method warning)")
        print(f"{'beta':>5} " + " ".join(f"{n:>20}" for n in names))
        for b in betas:
            cells = []
            for n in names:
                c = next(x for x in costs if (x.L, x.beta, x.sampler) == (L, b, n))
                cells.append(f"{_fmt(*c.seconds_per_independent_q) + ('*' if not c.reliable else ' '):>20}")
            print(f"{b:5.1f} " + " ".join(cells))
        print(f"\nL = {L}: tau_int(Q) [samples]")
        print(f"{'beta':>5} " + " ".join(f"{n:>20}" for n in names))
        for b in betas:
            cells = []
            for n in names:
                c = next(x for x in costs if (x.L, x.beta, x.sampler) == (L, b, n))
                cells.append(f"{f'{c.tau_int:.2f}±{c.tau_int_error:.2f}' + ('*' if not c.reliable else ' '):>20}")
            print(f"{b:5.1f} " + " ".join(cells))
        cols = [(r["sampler"], r["variant"]) for r in speedups if r["L"] == L and r["beta"] == betas[0]]
        print(f"\nL = {L}: speedup over HMC = HMC's cost / the sampler's (> 1: the sampler wins; amortized_N: "
              "training spread over N samples)")
        print(f"{'beta':>5} " + " ".join(f"{(s if v == 'sampling' else s + ' ' + v.replace('amortized_', 'N=')):>24}"
                                         for s, v in cols))
        for b in betas:
            cells = []
            for s, v in cols:
                r = next(x for x in speedups if (x["L"], x["beta"], x["sampler"], x["variant"]) == (L, b, s, v))
                cells.append(f"{_fmt(r['speedup'], r['error']) + ('*' if not r['reliable'] else ' '):>24}")
            print(f"{b:5.1f} " + " ".join(cells))
    print("\ncrossover beta (speedup over HMC crosses 1):")
    for x in crossovers:
        found = "; ".join(f"{c['direction']} HMC at beta = {c['beta']:.2f} ± {c['error']:.2f}" for c in x["crossovers"])
        print(f"  L={x['L']} {x['sampler']:18s} {x['variant']:17s} {found or 'none in range'}"
              + ("" if x["ml"] else "  (not ML)"))


def moonshot(costs, speedups) -> dict:
    """Issue 19's goal: at the largest β where HMC's τ_int(Q) >= 100 at L = 16, an ML sampler >= 10× HMC
    (training amortized over 10⁶ samples)."""
    out = {"goal": "at the largest beta where HMC's tau_int(Q) >= 100 at L = 16, an ML sampler (flow, fthmc or flow-tree) "
                   ">= 10x HMC per independent Q with training amortized over 1e6 samples"}
    hmc16 = [c for c in costs if c.sampler == "hmc" and c.L == 16 and c.tau_int >= 100]
    if not hmc16:
        out.update(met=False, measured="L = 16 not run (or HMC's tau_int(Q) < 100 everywhere): not measured")
        largest = max((c for c in costs if c.sampler == "hmc"), key=lambda c: (c.L, c.beta))
    else:
        largest = max(hmc16, key=lambda c: c.beta)
    best = max((r for r in speedups if r["L"] == largest.L and r["beta"] == largest.beta
                and r["sampler"] in ML_SAMPLERS and r["variant"] == f"amortized_{AMORTIZE_OVER[-1]}"),
               key=lambda r: r["speedup"], default=None)
    out["largest_point"] = {"L": largest.L, "beta": largest.beta, "hmc_tau_int_Q": largest.tau_int,
                            "best_ml": best}
    if hmc16:
        out["met"] = bool(best is not None and best["speedup"] >= 10 and best["reliable"])
    return out


def plot(costs, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ls = sorted({c.L for c in costs})
    fig, axes = plt.subplots(1, len(Ls), figsize=(6.5 * len(Ls) + 2.6, 4.8), squeeze=False)
    styles = {None: "-", AMORTIZE_OVER[0]: "--", AMORTIZE_OVER[-1]: (0, (6, 2, 1, 2))}
    for ax, L in zip(axes[0], Ls):
        for k, name in enumerate(n for n in SAMPLER_NAMES if any(c.sampler == n for c in costs)):
            sel = sorted((c for c in costs if c.L == L and c.sampler == name), key=lambda c: c.beta)
            variants = [None] + (list(AMORTIZE_OVER) if name in ML_SAMPLERS else [])
            for n in variants:
                vals = [c.seconds_per_independent_q if n is None else c.amortized(n) for c in sel]
                y = np.array([v for v, _ in vals])
                e = np.array([err if math.isfinite(err) else 0.0 for _, err in vals])
                b = np.array([c.beta for c in sel])
                ok = np.isfinite(y)
                label = name if n is None else f"{name}, training / {n:.0e} samples"
                ax.errorbar(b[ok], y[ok], yerr=e[ok], color=f"C{k}", ls=styles[n], lw=1.3 if n is None else 1.0,
                            capsize=3, label=label)
                flagged = np.array([not c.reliable for c in sel]) & ok
                good = ~flagged & ok
                ax.plot(b[good], y[good], "o", color=f"C{k}", ms=5)
                ax.plot(b[flagged], y[flagged], "o", mfc="white", color=f"C{k}", ms=5)
        ax.set_yscale("log")
        ax.set_xlabel("β")
        ax.set_ylabel("CPU seconds per independent Q")
        ax.set_title(f"2D U(1), L = {L}")
        ax.grid(alpha=0.3, which="both")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=("quick", "full", "l16_1core", "l16_tree"), default="quick")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and its CPU estimate, run nothing")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default results/shootout_<preset>.json)")
    parser.add_argument("--replot", action="store_true", help="redraw the plot of the recorded JSON, run nothing")
    args = parser.parse_args(argv)
    out = args.out or HERE / "results" / f"shootout_{args.preset}.json"
    if args.replot:
        plot(costs_from_record(json.loads(out.read_text())), out.with_suffix(".png"), _title(args.preset))
        return 0
    torch.set_num_threads(1)
    plan = preset(args.preset)
    estimate = plan.estimated_cpu_seconds(seconds_per_train_step=SECONDS_PER_TRAIN_STEP)
    trained = []
    if any(n in plan.samplers for n in TRANSFERRED_FLOW_SAMPLERS):
        trained.append(f"flow trained at beta = {list(plan.train_betas)} (L = {plan.train_L}, {plan.train_steps} steps)")
    if plan.tree is not None and "flow-tree" in plan.samplers:
        trained.append(f"tree flow trained at every beta (shared map at L = {plan.tree.train_L}, "
                       f"{plan.tree.shared_steps} steps; tail at each L, {plan.tree.tail_steps} steps)")
    print(f"shoot-out preset {args.preset}: L = {list(plan.L)}, beta = {list(plan.betas)}, samplers "
          f"{', '.join(plan.samplers)}; " + "; ".join(trained or ["nothing trained"]))
    for name, sp in plan.samplers.items():
        print(f"  {name:18s} {sp.chains} chains, up to {sp.max_cpu_seconds:g} CPU s per point, params {sp.params}")
    print(f"estimated cost: at most {estimate / 60:.0f} CPU minutes ({estimate / 3600:.1f} h) on one core "
          "(every point spending its whole budget, plus the training)", flush=True)
    if args.dry_run:
        return 0
    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="qlat-shootout-") as tmp:
        result = run_shootout(plan, tmp, log=lambda line: print(line, flush=True))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    costs, speedups, crossovers = result["costs"], result["speedups"], result["crossovers"]
    print_tables(costs, speedups, crossovers)
    goal = moonshot(costs, speedups)
    print(f"\nmoonshot goal met: {goal['met']} ({goal.get('measured', '')}); largest point {goal['largest_point']}")
    info = describe_machine()
    info.update({"torch": torch.__version__, "torch_threads": torch.get_num_threads()})
    write_results(out, {
        "benchmark": f"shootout_{args.preset}",
        "description": "2D U(1): CPU seconds per independent topological charge, 2 tau_int(Q) x CPU s per sample "
                       "(thermalization included), per sampler and beta; tau_int from chains >= "
                       f"{MIN_CHAIN_TAUS} tau_int(Q) long or flagged; flow training CPU time amortized over "
                       f"{' and '.join(str(n) for n in AMORTIZE_OVER)} samples; speedup = HMC cost / sampler cost",
        "command": "benchmarks/shootout.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": info,
        "plan": plan.to_dict(),
        "estimated_cpu_seconds": estimate,
        "total_cpu_seconds": round(cpu, 1),
        "total_wall_seconds": round(wall, 1),
        "training": result["training"],
        "results": [c.to_dict() for c in costs],
        "speedups_over_hmc": speedups,
        "crossovers": crossovers,
        "moonshot": goal,
    })
    plot(costs, out.with_suffix(".png"), _title(args.preset))
    return 0


def _title(name: str) -> str:
    return (f"shoot-out, {name} preset; open markers: flagged (chains < {MIN_CHAIN_TAUS} τ_int(Q) or a Γ-method "
            "warning),\ndashed: the flow's training CPU time amortized over 1e4 / 1e6 samples")


def costs_from_record(record: dict) -> list[ChargeCost]:
    """The :class:`ChargeCost` of each row of a results file (to redraw its plot)."""
    keys = {"sampler": "sampler", "beta": "beta", "L": "L", "chains": "chains", "n_per_chain": "n_per_chain",
            "thermalization": "thermalization", "cpu_seconds": "cpu_seconds", "samples": "samples",
            "acceptance": "acceptance", "tau_int": "tau_int_Q", "tau_int_error": "tau_int_Q_error", "q2": "q2",
            "q2_error": "q2_error", "q2_exact": "q2_exact", "training_seconds": "training_cpu_seconds",
            "reasons": "flags"}
    return [ChargeCost(**{k: row[v] for k, v in keys.items()}) for row in record["results"]]


if __name__ == "__main__":
    raise SystemExit(main())
