"""Two-qubit gate cost of one second-order Trotter step of the adiabatic Schwinger circuit vs N.

Counts, for the rotated Schwinger model (a = 0.5, m = 0.1, θ = π/2 — θ adds no two-qubit
gates), the CNOT-equivalent two-qubit cost of one step of :func:`qlat.quantum.trotter.adiabatic_circuit`
(RZZ = 2 CNOTs, SWAP = 3, see :func:`qlat.quantum.trotter.gate_counts`):

- ``all-to-all``: every Z_iZ_j an RZZ;
- ``line``: nearest-neighbour gates only (odd–even swap network, arXiv:1711.04789);
- ``heavy-hex``: both circuits transpiled to a 27-qubit IBM heavy-hex fake device
  (``FakeKolkataV2`` from ``qiskit_ibm_runtime.fake_provider``; CX basis) with
  ``optimization_level=1`` and ``seed_transpiler=0``, counting CX gates.

"Per step" is the marginal cost in a long circuit, (cost(4 steps) − cost(2 steps))/2, so that the
bare-vacuum preparation, the half diagonal layers at the ends (second order fuses the inner
ones) and the final order restoration of the line layout do not count.  Reference curves
(docs/references.md): N(N−1) for a first-order all-to-all step, 3N(N−1)/2 + 2(N−1) for a swap
network on a line.  A second-order step (fused ZZ layers) adds one half layer of hopping on
the N/2 even bonds, 2 CNOTs each: + N to both (``reference_second_order_*`` in the JSON).

Writes ``benchmarks/results/gate_counts.json`` and ``benchmarks/results/gate_counts.png``.

Usage::

    .venv/bin/python benchmarks/bench_gate_counts.py [--sites 4 6 8 ...] [--no-device]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results  # noqa: E402

from qlat.quantum.adiabatic import AdiabaticSchedule  # noqa: E402
from qlat.quantum.trotter import adiabatic_circuit, gate_counts  # noqa: E402
from qlat.theories.schwinger_qubit import SchwingerModel  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEVICE = "FakeKolkataV2"
OPTIMIZATION_LEVEL = 1
SEED = 0


def _circuit(n: int, steps: int, layout: str):
    model = SchwingerModel(n, 0.5, 0.1, theta=1.5707963267948966)
    return adiabatic_circuit(model, AdiabaticSchedule(0.1 * steps, 0.1), order=2, layout=layout)


def per_step_logical(n: int, layout: str) -> dict:
    c2 = gate_counts(_circuit(n, 2, layout))
    c4 = gate_counts(_circuit(n, 4, layout))
    return {
        "cnot_cost": (c4["two_qubit"] - c2["two_qubit"]) / 2,
        "two_qubit_gates": (c4["two_qubit_gates"] - c2["two_qubit_gates"]) / 2,
        "two_qubit_depth": (c4["two_qubit_depth"] - c2["two_qubit_depth"]) / 2,
    }


def per_step_device(n: int, layout: str, backend) -> dict:
    from qiskit import transpile

    counts = {}
    times = 0.0
    for steps in (2, 4):
        start = time.perf_counter()
        isa = transpile(_circuit(n, steps, layout), backend, optimization_level=OPTIMIZATION_LEVEL,
                        seed_transpiler=SEED)
        times += time.perf_counter() - start
        ops = isa.count_ops()
        counts[steps] = sum(int(ops.get(g, 0)) for g in ("cx", "ecr", "cz"))
    return {"cnot_cost": (counts[4] - counts[2]) / 2, "cx_2_steps": counts[2], "cx_4_steps": counts[4],
            "transpile_time_s": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26])
    parser.add_argument("--no-device", action="store_true", help="skip the heavy-hex transpilation")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    backend = None
    if not args.no_device:
        from qiskit_ibm_runtime import fake_provider

        backend = getattr(fake_provider, DEVICE)()
    rows = []
    for n in args.sites:
        row = {
            "n_sites": n,
            "all_to_all": per_step_logical(n, "all-to-all"),
            "line": per_step_logical(n, "line"),
            "reference_first_order_all_to_all": n * (n - 1),
            "reference_swap_network_line": 3 * n * (n - 1) // 2 + 2 * (n - 1),
            "reference_second_order_all_to_all": n * (n - 1) + n,
            "reference_second_order_line": 3 * n * (n - 1) // 2 + 2 * (n - 1) + n,
        }
        if backend is not None and n <= backend.num_qubits:
            row["heavy_hex_from_all_to_all"] = per_step_device(n, "all-to-all", backend)
            row["heavy_hex_from_line"] = per_step_device(n, "line", backend)
        rows.append(row)
        msg = (f"N={n:2d}  all-to-all {row['all_to_all']['cnot_cost']:7.0f} (ref N(N-1) = {n * (n - 1):5d})  "
               f"line {row['line']['cnot_cost']:7.0f} (ref {row['reference_swap_network_line']:5d})")
        if "heavy_hex_from_line" in row:
            msg += (f"  heavy-hex: from all-to-all {row['heavy_hex_from_all_to_all']['cnot_cost']:7.0f}, "
                    f"from line {row['heavy_hex_from_line']['cnot_cost']:7.0f}")
        print(msg, flush=True)

    out = {
        "benchmark": "gate_counts",
        "description": "CNOT-equivalent two-qubit cost per second-order Trotter step (marginal, "
                       "(cost(4 steps) - cost(2 steps))/2) of the adiabatic Schwinger circuit; rotated, "
                       "a=0.5, m=0.1, theta=pi/2.",
        "device": None if backend is None else {"name": DEVICE, "num_qubits": backend.num_qubits,
                                                "optimization_level": OPTIMIZATION_LEVEL, "seed_transpiler": SEED},
        "machine": describe_machine(),
        "results": rows,
    }
    write_results(args.out / "gate_counts.json", out)
    plot(rows, args.out / "gate_counts.png")
    print(f"wrote {args.out / 'gate_counts.png'}")
    return 0


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["n_sites"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(ns, [r["all_to_all"]["cnot_cost"] for r in rows], "o-", label="all-to-all (2nd order)")
    ax.plot(ns, [r["line"]["cnot_cost"] for r in rows], "s-", label="line, swap network (2nd order)")
    hh = [r for r in rows if "heavy_hex_from_all_to_all" in r]
    if hh:
        ax.plot([r["n_sites"] for r in hh], [r["heavy_hex_from_all_to_all"]["cnot_cost"] for r in hh], "^-",
                label=f"{DEVICE}, from all-to-all")
        ax.plot([r["n_sites"] for r in hh], [r["heavy_hex_from_line"]["cnot_cost"] for r in hh], "v-",
                label=f"{DEVICE}, from line")
    ax.plot(ns, [n * (n - 1) for n in ns], "k--", lw=1, label="N(N−1)")
    ax.plot(ns, [3 * n * (n - 1) / 2 + 2 * (n - 1) for n in ns], "k:", lw=1, label="3N(N−1)/2 + 2(N−1)")
    ax.set_xlabel("N (qubits)")
    ax.set_ylabel("CNOTs per Trotter step")
    ax.set_yscale("log")
    ax.set_title("Adiabatic Schwinger circuit: two-qubit cost per step")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
