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

Writes ``benchmarks/results/ibm_gate_counts.json`` and ``benchmarks/results/ibm_mitigation.json``
(``ibm_mitigation_<k>steps.json`` with ``--steps k``).

Usage::

    .venv/bin/python benchmarks/bench_ibm.py gates [--sites 4 6 8 10 12]
    .venv/bin/python benchmarks/bench_ibm.py noise [--sites 4 6 8] [--shots 4000] [--steps 4]
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
#: fake_lagos has no line of 6, so N = 6 uses Qiskit's routed layout there).  The runtime's local
#: Estimator simulates every device qubit — 250 s for N = 4 on the 16-qubit fake_guadalupe against
#: 4 s on the 5-qubit fake_manila — so the Estimator rows stop at 7-qubit devices.
NOISE_DEVICES = {4: "fake_manila", 6: "fake_lagos", 8: "fake_guadalupe", 10: "fake_guadalupe",
                 12: "fake_guadalupe"}
ESTIMATOR_MAX_DEVICE_QUBITS = 7
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
    from qlat.quantum.exact_backend import exact_estimates
    from qlat.quantum.ibm.backend import hardware_schedule, run_on_device
    from qlat.quantum.run import run_adiabatic

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
            from qlat.quantum.ibm.devices import fake_device

            small = fake_device(device).num_qubits <= ESTIMATOR_MAX_DEVICE_QUBITS
            methods = [m for m in METHODS if small or m[2] == "sampler"]
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
    from qlat.quantum.run import schedule_description

    return {"benchmark": "ibm_mitigation", "devices": NOISE_DEVICES, "shots_per_circuit": shots,
            "schedule": schedule_description(schedule), "model": {"spacing": 1.0, "mass": 0.5, "theta": 0.0},
            "methods": [m for m, _, _ in METHODS], "rows": rows, "machine": describe_machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("gates", "noise"))
    parser.add_argument("--sites", type=int, nargs="+", default=None)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=4, help="Trotter steps of the noise part (dt = 0.75)")
    args = parser.parse_args()
    if args.part == "gates":
        write_results(RESULTS / "ibm_gate_counts.json", gates(args.sites or [4, 6, 8, 10, 12]))
    else:
        noise(args.sites or [4, 6, 8], args.shots, args.steps)


if __name__ == "__main__":
    main()
