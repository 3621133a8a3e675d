"""DMRG (TeNPy) on the Schwinger chain: wall time and memory vs N and χ; compact vs generic MPO.

Three tables, each point run in a fresh subprocess (so its peak resident memory is its own):

1. *Scaling*: the compact automaton MPO (bond dimension 5, :mod:`qlat.exact.schwinger_mpo`), one
   ground-state DMRG from the bare vacuum, N = 20 … 200 at χ = 32 and 64.
2. *Bond dimension*: N = 100, χ = 16 … 128: time, memory, energy and its change with χ.
3. *Baseline*: the same DMRG with TeNPy's generic MPO built by ``CouplingModel`` from the
   explicit couplings (all N(N−1)/2 Z_iZ_j terms; MPO bond dimension N + 2), side by side
   with the compact MPO at χ = 32; the ratio of wall times and the energy difference (the two
   must agree) are printed.

Settings: a = 0.5, m = 0.1, θ = 0 (rotated), the DMRG defaults of :class:`DMRGSettings`
(svd_min 1e-12, |ΔE| < 1e-12 per sweep, 3 mixer sweeps), one BLAS thread.  Run niced:

    nice -n 10 .venv/bin/python benchmarks/bench_dmrg.py            # full (≈ 15–30 min on 2 busy cores)
    nice -n 10 .venv/bin/python benchmarks/bench_dmrg.py --quick    # N ≤ 80

Writes ``benchmarks/results/dmrg_scaling.json`` with the machine description.

``--continuum`` instead runs the continuum massless condensate study on DMRG chains
(:func:`qlat.analysis.dmrg_continuum.continuum_condensate_massless_dmrg`: L = 20 and 24, a = 0.4 … 1/6,
N = 50 … 144, χ = 64) and writes ``benchmarks/results/dmrg_continuum_condensate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

SPACING, MASS = 0.5, 0.1


def run_point(n_sites: int, bond_dim: int, mpo: str) -> dict[str, Any]:
    """One DMRG ground state; runs inside the child process."""
    import resource
    import time

    # TeNPy first: its import time is not DMRG time.
    import tenpy.algorithms.dmrg
    import tenpy.models.model  # noqa: F401

    from qlat.exact.dmrg import DMRGSettings, ground_state, mps_measurements
    from qlat.exact.schwinger_mpo import tenpy_model
    from qlat.theories.schwinger_observables import qubit_observable
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(n_sites, SPACING, MASS)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    t0 = time.perf_counter()
    c0 = time.process_time()
    mpo_bond_dim = max(tenpy_model(model, mpo=mpo).H_MPO.chi)
    build = time.perf_counter() - t0
    run = ground_state(model, settings=DMRGSettings(bond_dim=bond_dim, mpo=mpo))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    values = mps_measurements(model, run.psi, [qubit_observable("condensate", model)], energy=run.energy)
    mps_bytes = sum(run.psi.get_B(i).size * run.psi.get_B(i).dtype.itemsize for i in range(n_sites))
    return {
        "n_sites": n_sites, "bond_dim": bond_dim, "mpo": mpo, "mpo_bond_dim": int(mpo_bond_dim),
        "energy": run.energy, "condensate": float(values["condensate"]),
        "half_chain_entropy": float(values[f"entanglement_entropy[{n_sites // 2 - 1}]"]),
        "sweeps": run.sweeps, "converged": run.converged, "max_bond_dim": run.max_bond_dim,
        "discarded_weight": run.discarded_weight, "mpo_build_seconds": round(build, 3),
        "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
        "rss_after_imports_mib": round(rss_start, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "peak_rss_increase_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 - rss_start, 1),
        "mps_mib": round(mps_bytes / 2**20, 3),
    }


def in_subprocess(n_sites: int, bond_dim: int, mpo: str) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, __file__, "--point", json.dumps([n_sites, bond_dim, mpo])],
        check=True, capture_output=True, text=True, env=env,
    )
    record = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  N={n_sites:4d} chi={bond_dim:4d} {mpo:8s} D_W={record['mpo_bond_dim']:4d} "
          f"E={record['energy']:.12f} sweeps={record['sweeps']:2d} wall={record['wall_seconds']:8.2f}s "
          f"cpu={record['cpu_seconds']:8.2f}s peak={record['peak_rss_mib']:7.1f} "
          f"(+{record['peak_rss_increase_mib']:.1f}, MPS {record['mps_mib']:.2f}) MiB", flush=True)
    return record


def continuum_study() -> dict[str, Any]:
    """The continuum massless condensate from DMRG chains, printed row by row."""
    from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg
    from qlat.exact.dmrg import DMRGSettings

    def show(row: dict[str, Any]) -> None:
        print(f"  L={row['volume']:5.1f} N={row['n_sites']:4d} a={row['spacing']:.4f} bulk={row['bulk']:.9f} "
              f"(trunc {row['bulk_systematic']:.1e}) {row['seconds']:7.1f}s", flush=True)

    result = continuum_condensate_massless_dmrg(
        volumes=[20.0, 24.0], spacings=[0.4, 1 / 3, 0.25, 0.2, 1 / 6], bond_dim=64,
        settings=DMRGSettings(blas_threads=1), progress=show)
    est = result.estimate
    print(f"continuum condensate {est.value:.7f} ± {est.error:.1e} (fit {est.provenance['fit_error']:.1e}, "
          f"syst {est.provenance['systematic_error']:.1e}); reference {result.reference:.7f}; "
          f"deviation {100 * result.relative_deviation:.3f} %")
    return result.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N <= 80 only")
    parser.add_argument("--out", default=str(HERE / "results" / "dmrg_scaling.json"))
    parser.add_argument("--continuum", action="store_true", help="the continuum massless condensate study")
    parser.add_argument("--point", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.point:
        n_sites, bond_dim, mpo = json.loads(args.point)
        print(json.dumps(run_point(int(n_sites), int(bond_dim), str(mpo))))
        return

    from machine import describe_machine, write_results

    if args.continuum:
        out = args.out if args.out != str(HERE / "results" / "dmrg_scaling.json") else str(
            HERE / "results" / "dmrg_continuum_condensate.json")
        write_results(out, {"benchmark": "dmrg_continuum_condensate", "machine": describe_machine(),
                            **continuum_study()})
        return

    sizes = [20, 40, 80] if args.quick else [20, 40, 80, 120, 160, 200]
    chis = [32, 64]
    chi_scan_n = 40 if args.quick else 100
    chi_scan = [16, 32, 64] if args.quick else [16, 32, 64, 96, 128]
    baseline_sizes = [20, 40] if args.quick else [20, 40, 80, 160]

    print("1. compact MPO: time and memory vs N")
    scaling = [in_subprocess(n, chi, "compact") for chi in chis for n in sizes]
    print(f"2. compact MPO: N = {chi_scan_n} vs bond dimension")
    bond = [in_subprocess(chi_scan_n, chi, "compact") for chi in chi_scan]
    best = bond[-1]["energy"]
    for row in bond:
        row["energy_minus_largest_chi"] = row["energy"] - best
    print("3. compact automaton MPO vs TeNPy's generic MPO from explicit couplings (chi = 32)")
    baseline = []
    for n in baseline_sizes:
        # Both run back to back, so they see the same machine load; CPU time is the fairer ratio
        # on a shared machine.
        compact = in_subprocess(n, 32, "compact")
        explicit = in_subprocess(n, 32, "explicit")
        ratio = explicit["wall_seconds"] / compact["wall_seconds"]
        cpu_ratio = explicit["cpu_seconds"] / compact["cpu_seconds"]
        diff = explicit["energy"] - compact["energy"]
        print(f"  N={n:4d}: explicit/compact wall {ratio:6.2f}x cpu {cpu_ratio:6.2f}x, peak memory increase "
              f"{explicit['peak_rss_increase_mib']:.1f}/{compact['peak_rss_increase_mib']:.1f} MiB, ΔE = {diff:.2e}")
        baseline.append({"n_sites": n, "compact": compact, "explicit": explicit, "wall_ratio": ratio,
                         "cpu_ratio": cpu_ratio, "energy_difference": diff})

    from importlib import metadata

    write_results(args.out, {
        "benchmark": "dmrg_scaling",
        "description": __doc__.splitlines()[0],
        "settings": {"spacing": SPACING, "mass": MASS, "theta": 0.0, "formulation": "rotated",
                     "quick": bool(args.quick)},
        "tenpy": metadata.version("physics-tenpy"),
        "machine": describe_machine(),
        "scaling": scaling,
        "bond_dimension": bond,
        "baseline_explicit_mpo": baseline,
    })


if __name__ == "__main__":
    main()
