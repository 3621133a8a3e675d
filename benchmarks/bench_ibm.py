"""IBM devices: two-qubit cost of the compiled Trotter step, and mitigation on a fake-device noise model.

Part ``gates`` — per Trotter step, on the Eagle (``fake_sherbrooke``, ECR, heavy-hex) and Heron
(``fake_torino``, CZ) fake devices: the two-qubit gate count and depth of qlat's swap-network
circuit on the best line of qubits (``layout="line"`` of :mod:`qlat.quantum.ibm.compile`) next
to Qiskit's default transpilation of the same evolution written all-to-all (SabreLayout +
SabreSwap), both at ``optimization_level=2``, ``seed_transpiler=0``.  "Per step" is the marginal
cost (count(4 steps) − count(2 steps))/2, so the state preparation and the end layers do not
count.  Reference (docs/references.md): a first-order swap-network step costs
3N(N−1)/2 + 2(N−1) CNOTs on a line (arXiv:1711.04789); a second-order step adds one half layer of
even-bond hopping, + N.  Goal: qlat ≤ 1.5 × the first-order reference, and below Qiskit's default.

Part ``noise`` — the adiabatic vacuum (a = 1, m = 0.5, θ = 0, the 4-step
:func:`qlat.quantum.ibm.backend.hardware_schedule`) in local testing mode on small fake devices
(:data:`NOISE_DEVICES`; the runtime simulates their noise models with Aer), condensate and energy:
raw (Estimator, no mitigation), TREX (Estimator), the Sampler's raw bit strings, Gauss-law
post-selection (Sampler),
readout correction (Sampler, qlat's calibrated tensored inverse) and both (post-selection after
readout correction — the Sampler-side counterpart of "TREX + post-selection": TREX itself only
exists inside the Estimator, which returns no bit strings to post-select).  Each is compared with
exact diagonalization (``qlat.quantum.exact_backend``) and with the noiseless value of the same
circuit (statevector); "improvement" is |raw − exact| − |mitigated − exact| with its error.

Part ``curve`` — the same methods on *one* device for N = 4 … 12 (default ``fake_torino``, Heron:
two-qubit error ~0.3 %, readout ~2.5 % on the best line), every circuit on qlat's swap-network
line (``layout="line"``), each method repeated ``--repeats`` times with simulator seeds 1 + r·:data:`SEED_STRIDE` (Aer
seeds shot i with seed + i, so consecutive seeds would repeat the same trajectories) (value: the mean; error: the combined shot-noise error; the repeats' scatter and χ²/dof are
recorded as a check of that error).  Errors |value − exact| per method and N, the improvement of
each mitigation over its unmitigated baseline (raw Estimator for TREX, raw Sampler bit strings for
post-selection / readout correction) with its error and significance.  Writes
``benchmarks/results/ibm_mitigation_curve.json`` and ``ibm_mitigation_curve.png``.

Local testing mode simulates only the qubits the circuits act on, with the device's noise on them
(``local_qubits="active"`` of :func:`qlat.quantum.ibm.backend.run_on_device`,
:mod:`qlat.quantum.ibm.active`), so 127/133-qubit devices run.

Writes ``benchmarks/results/ibm_gate_counts.json`` and ``benchmarks/results/ibm_mitigation.json``
(``ibm_mitigation_<k>steps.json`` with ``--steps k``).

Usage::

    .venv/bin/python benchmarks/bench_ibm.py gates [--sites 4 6 8 10 12]
    .venv/bin/python benchmarks/bench_ibm.py noise [--sites 4 6 8] [--shots 4000] [--steps 4]
    .venv/bin/python benchmarks/bench_ibm.py curve [--device fake_torino] [--sites 4 6 8 10 12] [--shots 8000]
        [--repeats 4] [--steps 4]
    .venv/bin/python benchmarks/bench_ibm.py plot   # redraw ibm_mitigation_curve.png from the JSON
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results  # noqa: E402

from qlat.quantum.adiabatic import AdiabaticSchedule  # noqa: E402
from qlat.theories.schwinger_qubit import SchwingerModel  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
GATE_DEVICES = ("fake_sherbrooke", "fake_torino")
#: Fake device per N for the noise part: the smallest that holds N qubits (the 7-qubit H-shaped
#: fake_lagos has no line of 6, so N = 6 uses Qiskit's routed layout there).  Local testing mode
#: simulates the active qubits only, so the Estimator rows run on every device.
NOISE_DEVICES = {4: "fake_manila", 6: "fake_lagos", 8: "fake_guadalupe", 10: "fake_guadalupe",
                 12: "fake_guadalupe"}
#: Seed of repeat r is 1 + r·SEED_STRIDE: Aer seeds shot i of a run with seed + i, so runs with
#: nearby seeds share almost all their trajectories (seeds 1 and 2 gave nearly equal results).
SEED_STRIDE = 1_000_003
#: Device of the ``curve`` part (one device for every N).
CURVE_DEVICE = "fake_torino"
#: Unmitigated baseline of each method in the curve: the same primitive without mitigation.
CURVE_BASELINE = {"trex": "raw", "postselect": "sampler-raw", "readout": "sampler-raw",
                  "postselect+readout": "sampler-raw"}
OPTIMIZATION_LEVEL = 2
SEED = 0
#: (label, mitigation, primitive kind); "raw" is the Estimator without mitigation, "sampler-raw"
#: the Sampler's bit strings without post-selection or correction (the baseline of the Sampler rows).
METHODS = (("raw", None, "estimator"), ("trex", "trex", "estimator"), ("sampler-raw", None, "sampler"),
           ("postselect", "postselect", "sampler"), ("readout", "readout", "sampler"),
           ("postselect+readout", "postselect+readout", "sampler"))


def line_reference(n: int) -> int:
    return 3 * n * (n - 1) // 2 + 2 * (n - 1)


def gates(sites: list[int]) -> dict:
    from qlat.quantum.ibm.compile import compile_adiabatic
    from qlat.quantum.ibm.devices import fake_device

    rows = []
    for device_name in GATE_DEVICES:
        device = fake_device(device_name)
        for n in sites:
            model = SchwingerModel(n, 1.0, 0.5)
            row = {"device": device_name, "n_sites": n, "reference_first_order": line_reference(n),
                   "reference_second_order": line_reference(n) + n}
            for layout in ("line", "default"):
                counts = {}
                start = time.perf_counter()
                for steps in (2, 4):
                    compiled = compile_adiabatic(model, AdiabaticSchedule(0.5 * steps, 0.5), device, layout=layout,
                                                 optimization_level=OPTIMIZATION_LEVEL, seed=SEED)
                    counts[steps] = (compiled.chosen.two_qubit, compiled.chosen.depth,
                                     compiled.chosen.success_probability)
                row[layout] = {
                    "two_qubit_per_step": (counts[4][0] - counts[2][0]) / 2,
                    "depth_per_step": (counts[4][1] - counts[2][1]) / 2,
                    "two_qubit_4_steps": counts[4][0],
                    "esp_4_steps": counts[4][2],
                    "transpile_s": time.perf_counter() - start,
                }
            row["qlat_over_reference"] = row["line"]["two_qubit_per_step"] / row["reference_first_order"]
            row["qlat_over_default"] = row["line"]["two_qubit_per_step"] / row["default"]["two_qubit_per_step"]
            rows.append(row)
            print(f"{device_name:16s} N={n:2d}  qlat line {row['line']['two_qubit_per_step']:7.1f} 2q/step "
                  f"(depth {row['line']['depth_per_step']:6.1f})  qiskit default "
                  f"{row['default']['two_qubit_per_step']:7.1f} (depth {row['default']['depth_per_step']:6.1f})  "
                  f"reference {row['reference_first_order']:4d}  qlat/ref {row['qlat_over_reference']:.2f}  "
                  f"qlat/default {row['qlat_over_default']:.2f}", flush=True)
    return {"benchmark": "ibm_gate_counts", "optimization_level": OPTIMIZATION_LEVEL, "seed_transpiler": SEED,
            "model": {"spacing": 1.0, "mass": 0.5, "theta": 0.0}, "order": 2, "rows": rows,
            "machine": describe_machine()}


def _distance(est, exact: float) -> tuple[float, float]:
    return abs(est.value - exact), est.error


def noise(sites: list[int], shots: int, steps: int = 4) -> dict:
    from qlat.quantum.adiabatic_run import run_adiabatic
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.ibm.backend import hardware_schedule, run_on_device

    schedule = hardware_schedule()
    if steps != schedule.n_steps:  # same step size and ramp, shorter (or longer) ramp
        schedule = AdiabaticSchedule(total_time=steps * schedule.dt, dt=schedule.dt,
                                     initial_mass=schedule.initial_mass, ramp=schedule.ramp)
    out_name = "ibm_mitigation.json" if steps == 4 else f"ibm_mitigation_{steps}steps.json"
    rows = []
    with tempfile.TemporaryDirectory() as data:
        os.environ["QLAT_DATA_DIR"] = data  # keep the benchmark's jobs out of the user's store
        for n in sites:
            model = SchwingerModel(n, 1.0, 0.5)
            exact = exact_estimates(model, observables=("energy", "condensate"))
            ideal = run_adiabatic(model, schedule, observables=("energy", "condensate"))
            device = NOISE_DEVICES[n]
            methods = list(METHODS)
            row: dict = {"n_sites": n, "device": device, "shots": shots,
                         "exact": {k: exact[k].value for k in ("energy", "condensate")},
                         "noiseless_circuit": {k: ideal.estimates[k].value for k in ("energy", "condensate")},
                         "fidelity_noiseless": ideal.fidelity.value if ideal.fidelity is not None else None,
                         "methods": {}}
            for label, mitigation, kind in methods:
                start = time.perf_counter()
                run = run_on_device(model, backend=f"fake:{device}", schedule=schedule, shots=shots, seed=1,
                                    mitigation=mitigation, kind=kind)
                entry = {k: run.estimates[k].to_dict() for k in run.estimates}
                entry["wall_s"] = time.perf_counter() - start
                entry["layout"] = run.report.chosen["layout"]
                entry["two_qubit_gates"] = run.report.chosen["two_qubit_gates"]
                entry["estimated_success_probability"] = run.report.chosen["estimated_success_probability"]
                row["methods"][label] = entry
                parts = []
                for obs in ("condensate", "energy"):
                    d, e = _distance(run.estimates[obs], exact[obs].value)
                    parts.append(f"{obs} {run.estimates[obs]} (|Δ| {d:.3f}±{e:.3f})")
                print(f"N={n:2d} {label:20s} " + "  ".join(parts) + f"  [{entry['wall_s']:.0f} s]", flush=True)
            row["improvement"] = {}
            for label, _, kind in methods:
                for baseline in ("raw", "sampler-raw"):
                    if label in ("raw", "sampler-raw") or baseline not in row["methods"]:
                        continue
                    if kind == "estimator" and baseline == "sampler-raw":
                        continue
                    raw = row["methods"][baseline]
                    imp: dict = {}
                    for obs in ("condensate", "energy"):
                        d_raw, e_raw = abs(raw[obs]["value"] - exact[obs].value), raw[obs]["error"]
                        mit = row["methods"][label][obs]
                        d_mit, e_mit = abs(mit["value"] - exact[obs].value), mit["error"]
                        imp[obs] = {"value": d_raw - d_mit, "error": math.hypot(e_raw, e_mit),
                                    "ratio_remaining": d_mit / d_raw if d_raw > 0 else None}
                    row["improvement"][f"{label} vs {baseline}"] = imp
                    print(f"N={n:2d} {label:20s} vs {baseline:11s}: |Δ| reduced by condensate "
                          f"{imp['condensate']['value']:+.3f}±{imp['condensate']['error']:.3f}, energy "
                          f"{imp['energy']['value']:+.3f}±{imp['energy']['error']:.3f}", flush=True)
            rows.append(row)
            write_results(RESULTS / out_name, _noise_record(rows, schedule, shots))
    return _noise_record(rows, schedule, shots)


def _noise_record(rows: list, schedule, shots: int) -> dict:
    from qlat.quantum.adiabatic_run import schedule_description

    return {"benchmark": "ibm_mitigation", "devices": NOISE_DEVICES, "shots_per_circuit": shots,
            "schedule": schedule_description(schedule), "model": {"spacing": 1.0, "mass": 0.5, "theta": 0.0},
            "methods": [m for m, _, _ in METHODS], "rows": rows, "machine": describe_machine()}


def _combine(values: list[float], errors: list[float]) -> dict:
    """Mean of equal-shot repeats with its error: the larger of the shot-noise error √(Σσ²)/R and
    the repeats' scatter s/√R.  The repeats differ in the simulator *and* the transpiler seed, so
    their scatter also holds the circuit-to-circuit variation of the compiled circuit (χ²/dof > 1)."""
    import numpy as np

    v, e = np.asarray(values), np.asarray(errors)
    r = v.size
    mean = float(v.mean())
    shot = float(np.sqrt(np.sum(e**2)) / r)
    out = {"value": mean, "error": shot, "shot_error": shot, "repeats": [float(x) for x in v],
           "repeat_errors": [float(x) for x in e]}
    if r > 1:
        out["scatter_error"] = float(v.std(ddof=1) / np.sqrt(r))
        out["chi2_dof"] = float(np.sum(((v - mean) / e) ** 2) / (r - 1))
        out["error"] = max(shot, out["scatter_error"])
    return out


def _score(row: dict) -> None:
    """Errors vs exact / noiseless circuit of every method of ``row`` and the improvements over the baselines."""
    for entry in row["methods"].values():
        for est in entry.values():
            if isinstance(est, dict) and "repeats" in est:
                est.update(_combine(est["repeats"], est["repeat_errors"]))
        for obs in ("condensate", "energy"):
            entry[obs]["abs_error_vs_exact"] = abs(entry[obs]["value"] - row["exact"][obs])
            entry[obs]["abs_error_vs_noiseless"] = abs(entry[obs]["value"] - row["noiseless_circuit"][obs])
    row["improvement"] = {}
    for label, baseline in CURVE_BASELINE.items():
        for base in dict.fromkeys((baseline, "raw")):
            if label not in row["methods"] or base not in row["methods"]:
                continue
            imp: dict = {}
            for obs in ("condensate", "energy"):
                b, m = row["methods"][base][obs], row["methods"][label][obs]
                value = b["abs_error_vs_exact"] - m["abs_error_vs_exact"]
                error = math.hypot(b["error"], m["error"])
                imp[obs] = {"value": value, "error": error, "significance": value / error,
                            "ratio_remaining": m["abs_error_vs_exact"] / b["abs_error_vs_exact"]}
            row["improvement"][f"{label} vs {base}"] = imp


def curve(device: str, sites: list[int], shots: int, repeats: int, steps: int, command: str, *,
          methods: list[str] | None = None, append: bool = False) -> dict:
    """Condensate and energy error vs N on one fake device: raw, TREX, post-selected, both (module docstring).

    ``methods``: a subset of :data:`METHODS` labels; ``append``: keep the rows of other N already in
    ``ibm_mitigation_curve.json`` (each row records its own command, shots and repeats).
    """
    import json

    chosen = [m for m in METHODS if methods is None or m[0] in methods]
    path = RESULTS / "ibm_mitigation_curve.json"
    from qlat.quantum.adiabatic_run import run_adiabatic
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.ibm.backend import hardware_schedule, run_on_device

    schedule = hardware_schedule()
    if steps != schedule.n_steps:
        schedule = AdiabaticSchedule(total_time=steps * schedule.dt, dt=schedule.dt,
                                     initial_mass=schedule.initial_mass, ramp=schedule.ramp)
    rows: list[dict] = []
    if append and path.exists():
        old = json.loads(path.read_text())
        if old.get("device") != device:
            raise SystemExit(f"{path} holds device {old.get('device')}, not {device}; drop --append")
        rows = [r for r in old["rows"] if r["n_sites"] not in sites]
    record = {"benchmark": "ibm_mitigation_curve", "command": command, "device": device,
              "shots_per_circuit": shots, "repeats": repeats, "layout": "line",
              "local_qubits": "active", "optimization_level": OPTIMIZATION_LEVEL,
              "schedule": None, "model": {"spacing": 1.0, "mass": 0.5, "theta": 0.0},
              "methods": [m for m, _, _ in METHODS], "baselines": CURVE_BASELINE,
              "note": ("TREX exists only inside the Estimator, which returns no bit strings; the Sampler-side "
                       "'both' is post-selection after qlat's calibrated readout correction (postselect+readout)"),
              "rows": rows, "machine": describe_machine()}
    from qlat.quantum.adiabatic_run import schedule_description

    record["schedule"] = schedule_description(schedule)
    with tempfile.TemporaryDirectory() as data:
        os.environ["QLAT_DATA_DIR"] = data  # keep the benchmark's jobs out of the user's store
        for n in sites:
            model = SchwingerModel(n, 1.0, 0.5)
            exact = exact_estimates(model, observables=("energy", "condensate"))
            ideal = run_adiabatic(model, schedule, observables=("energy", "condensate"))
            row: dict = {"n_sites": n, "command": command, "shots_per_circuit": shots, "repeats": repeats,
                         "exact": {k: exact[k].value for k in ("energy", "condensate")},
                         "noiseless_circuit": {k: ideal.estimates[k].value for k in ("energy", "condensate")},
                         "fidelity_noiseless": ideal.fidelity.value if ideal.fidelity is not None else None,
                         "methods": {}, "improvement": {}}
            for label, mitigation, kind in chosen:
                start = time.perf_counter()
                got: dict[str, tuple[list[float], list[float]]] = {}
                info: dict = {}
                for r in range(repeats):
                    run = run_on_device(model, backend=f"fake:{device}", schedule=schedule, shots=shots,
                                        seed=1 + r * SEED_STRIDE,
                                        mitigation=mitigation, kind=kind, layout="line")
                    for key, est in run.estimates.items():
                        got.setdefault(key, ([], []))
                        got[key][0].append(est.value)
                        got[key][1].append(est.error)
                    info = {"physical_qubits": run.report.chosen["physical_qubits"],
                            "two_qubit_gates": run.report.chosen["two_qubit_gates"],
                            "estimated_success_probability": run.report.chosen["estimated_success_probability"]}
                entry: dict = {key: _combine(*vals) for key, vals in got.items()}
                for obs in ("condensate", "energy"):
                    entry[obs]["abs_error_vs_exact"] = abs(entry[obs]["value"] - exact[obs].value)
                entry.update(info)
                entry["wall_s"] = time.perf_counter() - start
                row["methods"][label] = entry
                parts = [f"{obs} {entry[obs]['value']:+.4f}({entry[obs]['error']:.4f}) |Δ| "
                         f"{entry[obs]['abs_error_vs_exact']:.4f} χ²/dof {entry[obs].get('chi2_dof', float('nan')):.2f}"
                         for obs in ("condensate", "energy")]
                print(f"N={n:2d} {label:19s} " + "  ".join(parts) + f"  [{entry['wall_s']:.0f} s]", flush=True)
            _score(row)
            for key, imp in row["improvement"].items():
                label, _, base = key.partition(" vs ")
                print(f"N={n:2d} {label:19s} vs {base:11s}: |Δ| reduced by condensate "
                      f"{imp['condensate']['value']:+.4f}±{imp['condensate']['error']:.4f} "
                      f"({imp['condensate']['significance']:+.1f}σ), energy {imp['energy']['value']:+.3f}"
                      f"±{imp['energy']['error']:.3f} ({imp['energy']['significance']:+.1f}σ)", flush=True)
            rows.append(row)
            rows.sort(key=lambda r: r["n_sites"])
            write_results(path, record)
    plot_curve(record)
    return record


#: Methods drawn in the curve plot: (label in the JSON, legend, marker).
PLOT_METHODS = (("raw", "raw (Estimator)", "o"), ("trex", "TREX (Estimator)", "s"),
                ("sampler-raw", "raw (Sampler)", "x"), ("postselect", "Gauss-law post-selected", "^"),
                ("postselect+readout", "post-selected + readout-corrected", "v"))


def plot_curve(record: dict | None = None) -> Path:
    """Draw |value − exact| vs N for condensate and energy (``ibm_mitigation_curve.png``)."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if record is None:  # redraw from the JSON, re-scoring its rows from the stored repeats
        record = json.loads((RESULTS / "ibm_mitigation_curve.json").read_text())
        for row in record["rows"]:
            _score(row)
        write_results(RESULTS / "ibm_mitigation_curve.json", record)
    rows = record["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, obs in zip(axes, ("condensate", "energy")):
        for label, legend, marker in PLOT_METHODS:
            pts = [(r["n_sites"], r["methods"][label][obs]) for r in rows if label in r["methods"]]
            if not pts:
                continue
            ax.errorbar([p[0] for p in pts], [p[1]["abs_error_vs_exact"] for p in pts],
                        yerr=[p[1]["error"] for p in pts], marker=marker, capsize=3, label=legend)
        ax.plot([r["n_sites"] for r in rows],
                [abs(r["noiseless_circuit"][obs] - r["exact"][obs]) for r in rows], "k:", label="noiseless circuit")
        ax.set_xlabel("N (sites)")
        ax.set_ylabel(f"|{obs} − exact|  [g]")
        ax.set_yscale("log")
        ax.set_title(f"{obs} on {record['device']} (shots per row in the JSON)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Schwinger vacuum (a = 1, m = 0.5), {record['schedule']['n_steps']} Trotter steps, "
                 "local testing mode (device noise model)", fontsize=10)
    fig.tight_layout()
    out = RESULTS / "ibm_mitigation_curve.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("gates", "noise", "curve", "plot"))
    parser.add_argument("--sites", type=int, nargs="+", default=None)
    parser.add_argument("--shots", type=int, default=None, help="shots per circuit (noise: 4000, curve: 8000)")
    parser.add_argument("--steps", type=int, default=4, help="Trotter steps of the noise/curve parts (dt = 0.75)")
    parser.add_argument("--device", default=CURVE_DEVICE, help="fake device of the curve part")
    parser.add_argument("--repeats", type=int, default=4, help="independent repeats per method (curve part)")
    parser.add_argument("--methods", nargs="+", default=None, choices=[m for m, _, _ in METHODS],
                        help="curve part: only these methods")
    parser.add_argument("--append", action="store_true", help="curve part: keep the JSON's rows of other N")
    args = parser.parse_args()
    if args.part == "gates":
        write_results(RESULTS / "ibm_gate_counts.json", gates(args.sites or [4, 6, 8, 10, 12]))
    elif args.part == "noise":
        noise(args.sites or [4, 6, 8], args.shots or 4000, args.steps)
    elif args.part == "curve":
        curve(args.device, args.sites or [4, 6, 8, 10, 12], args.shots or 8000, args.repeats, args.steps,
              "benchmarks/bench_ibm.py " + " ".join(sys.argv[1:]), methods=args.methods, append=args.append)
    else:
        plot_curve()


if __name__ == "__main__":
    main()
