"""Scale: the SC-ADAPT-VQE vacuum at N = 112 qubits on a 156-qubit fake Heron, next to the 13,858 / 370 anchor.

Farrell, Illa, Ciavarella, Savage (arXiv:2308.04481, 2401.08044) prepared the Schwinger vacuum on
112 qubits of ibm_torino (L = 56 spatial sites, i.e. N = 112 staggered sites = qubits) and ran 14
second-order Trotter steps of dynamics in 13,858 two-qubit gates at CNOT depth 370.  Here:

1. the ansatz is trained on chains of N = 6 … 14 (qlat.quantum.variational, exact sector
   optimization vs exact diagonalization) and its parameters extrapolated in 1/N to N = 112;
2. ``run_on_device(..., dry_run=True)`` on ``fake_fez`` (Heron r2, 156 qubits; ``fake_torino``'s
   calibration data has broken couplers and no line of 112 working qubits) — the ISA circuit, its
   two-qubit count and depth, estimated success probability and QPU seconds, without simulating
   the device; wall time of the dry run recorded;
3. the *same ISA circuit* (compiled again with the same seed: the same circuit hash) restricted to
   its line of qubits, in line order, and evaluated without noise by Aer's matrix-product-state
   simulator (condensate and energy);
4. DMRG of the N = 112 ground state (qlat.exact.dmrg, bond dimension 64 with the χ/2 truncation
   check); goal: |condensate(MPS of the circuit) − DMRG| ≤ 2 % with ≤ 13,858 two-qubit gates.

Model: a = 1, m = 0.5, θ = 0 (g = 1; the point of bench_ibm.py's noise part).  Writes
``benchmarks/results/hardware_scale.json``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_hardware_scale.py [--sites 112] [--device fake_fez]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ANCHOR = {"two_qubit_gates": 13858, "cnot_depth": 370, "qubits": 112,
          "source": "Farrell, Illa, Ciavarella, Savage arXiv:2401.08044: 14 second-order Trotter steps of dynamics "
                    "after the SC-ADAPT-VQE vacuum on 112 qubits of ibm_torino"}
TRAIN_SIZES = (6, 8, 10, 12, 14)
SEED = 0


def run(n_sites: int, device_name: str, bond_dim: int) -> dict:
    from qlat.core.backend import get_backend
    from qlat.quantum.aer import mps_expectations
    from qlat.quantum.ibm.active import remap_circuit, remap_observable
    from qlat.quantum.ibm.backend import run_on_device
    from qlat.quantum.ibm.compile import compile_adiabatic
    from qlat.quantum.ibm.devices import fake_device
    from qlat.quantum.observables import qubit_observable
    from qlat.quantum.trotter import gate_counts
    from qlat.quantum.variational import train_ansatz
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(n_sites, 1.0, 0.5)
    t0 = time.perf_counter()
    trained = train_ansatz(model, sizes=TRAIN_SIZES)
    train_s = time.perf_counter() - t0
    print(trained.table(), f"\n  trained in {train_s:.1f} s", flush=True)
    ansatz = trained.ansatz(n_sites)
    print(ansatz.describe(), flush=True)

    t0 = time.perf_counter()
    dry = run_on_device(model, backend=f"fake:{device_name}", preparation=ansatz, dry_run=True, seed=SEED)
    dry_s = time.perf_counter() - t0
    print(dry, f"\n  dry run in {dry_s:.1f} s", flush=True)

    device = fake_device(device_name, parameter="backend")
    keys = ("condensate", "energy")
    logical = [qubit_observable(k, model).operators[0] for k in keys]
    compiled = compile_adiabatic(model, ansatz, device, operators=logical, seed=SEED)
    isa = compiled.circuits[0]
    assert compiled.chosen.two_qubit == dry.report.chosen["two_qubit_gates"]
    line = compiled.chosen.physical_qubits
    counts = gate_counts(isa)
    chain = remap_circuit(isa, line)  # qubit i = the i-th qubit of the line: the MPS stays a chain
    ops = {k: remap_observable(op, line) for k, op in zip(keys, compiled.observables)}
    t0 = time.perf_counter()
    noiseless = mps_expectations(chain, ops)
    mps_s = time.perf_counter() - t0
    print(f"noiseless ISA circuit (Aer MPS, {mps_s:.1f} s): {noiseless}", flush=True)

    t0 = time.perf_counter()
    dmrg = get_backend("dmrg").estimate(model, list(keys), bond_dim=bond_dim)
    dmrg_s = time.perf_counter() - t0
    print(f"DMRG ({dmrg_s:.1f} s): " + ", ".join(f"{k} {dmrg[k]}" for k in keys), flush=True)

    rel = {k: (noiseless[k] - dmrg[k].value) / abs(dmrg[k].value) for k in keys}
    predicted = {k: trained.predicted_error(k, n_sites) for k in keys}
    two_q = int(compiled.chosen.two_qubit)
    record = {
        "benchmark": "hardware_scale",
        "model": model.params(),
        "device": device_name,
        "device_qubits": int(device.num_qubits),
        "n_sites": n_sites,
        "preparation": ansatz.to_dict(),
        "training": trained.to_dict(),
        "train_seconds": train_s,
        "dry_run": dry.report.to_dict(),
        "dry_run_seconds": dry_s,
        "seed": SEED,
        "isa": {"two_qubit_gates": two_q, "depth": int(isa.depth()), "two_qubit_depth": counts["two_qubit_depth"],
                "ops": counts["ops"], "circuit_hash": compiled.circuit_hash(),
                "estimated_success_probability": compiled.chosen.success_probability,
                "estimated_qpu_seconds": dry.report.estimated_qpu_seconds},
        "anchor": ANCHOR,
        "two_qubit_ratio_to_anchor": two_q / ANCHOR["two_qubit_gates"],
        "two_qubit_depth_ratio_to_anchor": counts["two_qubit_depth"] / ANCHOR["cnot_depth"],
        "noiseless_isa_circuit": {"method": "Aer matrix_product_state on the ISA circuit restricted to its line "
                                            "(no truncation beyond Aer's 1e-16)", "values": noiseless,
                                  "seconds": mps_s},
        "dmrg": {k: dmrg[k].to_dict() for k in keys},
        "dmrg_seconds": dmrg_s,
        "relative_difference_to_dmrg": rel,
        "variational_error_predicted_from_training": predicted,
        "goals": {"condensate_within_2_percent_of_dmrg": abs(rel["condensate"]) <= 0.02,
                  "two_qubit_gates_at_most_anchor": two_q <= ANCHOR["two_qubit_gates"]},
        "machine": describe_machine(),
    }
    print(f"two-qubit gates {two_q} (anchor {ANCHOR['two_qubit_gates']}), two-qubit depth "
          f"{counts['two_qubit_depth']} (anchor CNOT depth {ANCHOR['cnot_depth']}); condensate: circuit "
          f"{noiseless['condensate']:.6f}, DMRG {dmrg['condensate'].value:.6f}, rel {rel['condensate']:+.4%}; energy "
          f"rel {rel['energy']:+.4%}")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=112)
    parser.add_argument("--device", default="fake_fez")
    parser.add_argument("--bond-dim", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS / "hardware_scale.json")
    args = parser.parse_args()
    write_results(args.out, run(args.sites, args.device, args.bond_dim))


if __name__ == "__main__":
    main()
