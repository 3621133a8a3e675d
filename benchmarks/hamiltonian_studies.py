"""The recorded runs of the Hamiltonian studies of issue 23 (spectrum, θ = π, θ-dependence, string tension).

Each study runs with the parameters below through the same library call as
``qlat schwinger <study>`` (the command line for each is printed and stored), with its finished
chains kept in ``<work>/<study>/points.jsonl`` (a rerun recomputes nothing), and writes
``benchmarks/results/hamiltonian_<study>.{json,txt,png}``: the study's JSON plus the machine
description, the wall time of this run and the CPU seconds summed over the chains.

    nice -n 10 .venv/bin/python benchmarks/hamiltonian_studies.py spectrum_massless spectrum theta_pi \\
        theta_dependence string_tension --work /tmp/hamiltonian-studies

DMRG is CPU-heavy: the full set is several hours of one core (see each file's ``cpu_seconds``).
The ``*_2core`` presets are the reduced runs recorded on a shared two-core machine
(docs/hamiltonian-studies.md): spectrum_massless, spectrum_m025_2core, theta_pi_2spacings_2core
and string_tension_2core; ``spectrum_massive_fine`` (m/g = 0.125, 0.25, 0.5 at χ = 96),
``spectrum_m025_fine`` (its m/g = 0.25 part), ``spectrum_m025_fine_chi48`` and
``spectrum_m0125_fine_chi48`` the massive spectrum down to a = 0.2 with the model-averaged
continuum limit; ``string_tension_long_2core`` (nine separations out to ℓ = 24, the screening-tail
fit) and ``theta_pi_3spacings_2core`` (a = 1/3 at χ = 48 added to theta_pi_2spacings_2core);
``theta_dependence_1core`` the continuum θ-dependence (a = 0.5 … 0.2, L = 12, 16, 20; ≈ 20 CPU min).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

THIRD = 1.0 / 3.0

#: study name → (library function, keyword arguments, the equivalent command line)
RUNS: dict[str, tuple[str, dict[str, Any], str]] = {
    "spectrum_massless": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.0], "spacings": [0.5, 0.4, THIRD, 0.25], "volumes": None, "n_sites": [16, 18, 20, 22],
         "levels": 6, "method": "ed", "spacing_degree": 1},
        "qlat schwinger spectrum --masses 0 --method ed --spacings 0.5 0.4 0.3333333333333333 0.25 "
        "--sites 16 18 20 22 --levels 6 --spacing-degree 1",
    ),
    "spectrum": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.0, 0.125, 0.25, 0.5], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2, 0.15, 0.1],
         "volumes": [7.0, 9.0, 11.0], "levels": 6, "dmrg_levels": 2, "bond_dim": 48, "spacing_degree": 2},
        "qlat schwinger spectrum --masses 0 0.125 0.25 0.5 --spacings 0.5 0.4 0.3333333333333333 0.25 0.2 0.15 0.1 "
        "--volumes 7 9 11 --levels 6 --dmrg-levels 2 --bond-dim 48 --spacing-degree 2",
    ),
    "theta_pi": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4, THIRD], "volumes": [10.0, 15.0, 20.0, 30.0],
         "masses": [0.30, 0.32, 0.34, 0.36, 0.38], "scan_masses": [0.1, 0.2, 0.5, 0.7, 1.0], "bond_dim": 48},
        "qlat schwinger theta-pi --spacings 0.5 0.4 0.3333333333333333 --volumes 10 15 20 30 "
        "--masses 0.30 0.32 0.34 0.36 0.38 --scan-masses 0.1 0.2 0.5 0.7 1.0 --bond-dim 48",
    ),
    "theta_pi_large_volume": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5], "volumes": [10.0, 15.0, 20.0, 30.0, 40.0, 60.0],
         "masses": [0.30, 0.32, 0.34, 0.36, 0.38], "bond_dim": 48, "spacing_degree": 0},
        "qlat schwinger theta-pi --spacings 0.5 --volumes 10 15 20 30 40 60 "
        "--masses 0.30 0.32 0.34 0.36 0.38 --bond-dim 48 --spacing-degree 0",
    ),
    "theta_dependence": (
        "qlat.analysis.theta_dependence:theta_dependence_study",
        {"masses": [0.1, 2.0], "thetas": [0.4, 0.8, 1.6, 2.4], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2],
         "volumes": [8.0, 12.0], "bond_dim": 48},
        "qlat schwinger theta-dependence --masses 0.1 2 --thetas 0.4 0.8 1.6 2.4 "
        "--spacings 0.5 0.4 0.3333333333333333 0.25 0.2 --volumes 8 12 --bond-dim 48",
    ),
    "string_tension": (
        "qlat.analysis.string_tension:string_tension_study",
        {"masses": [0.1], "charges": [0.25, 0.5], "thetas": [0.0], "spacings": [0.5, 0.4, THIRD, 0.25],
         "length": 32.0, "separations": [8.0, 10.0, 12.0, 14.0], "bond_dim": 48},
        "qlat schwinger string-tension --masses 0.1 --charges 0.25 0.5 --thetas 0 "
        "--spacings 0.5 0.4 0.3333333333333333 0.25 --length 32 --separations 8 10 12 14 --bond-dim 48",
    ),
    # Reduced presets for about an hour of two shared cores (the recorded run of
    # benchmarks/results/hamiltonian_*_2core.*): fewer volumes/masses than the above and χ = 32
    # (truncation still checked at χ/2 = 16).
    "spectrum_massive_2core": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.125, 0.25, 0.5], "spacings": [0.5, 0.4, THIRD, 0.25], "volumes": [7.0, 9.0, 11.0],
         "levels": 6, "dmrg_levels": 2, "bond_dim": 32, "spacing_degree": 1},
        "qlat schwinger spectrum --masses 0.125 0.25 0.5 --spacings 0.5 0.4 0.3333333333333333 0.25 "
        "--volumes 7 9 11 --levels 6 --dmrg-levels 2 --bond-dim 32 --spacing-degree 1",
    ),
    "theta_pi_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4, THIRD], "volumes": [15.0, 20.0, 30.0],
         "masses": [0.32, 0.34, 0.36], "bond_dim": 32},
        "qlat schwinger theta-pi --spacings 0.5 0.4 0.3333333333333333 --volumes 15 20 30 "
        "--masses 0.32 0.34 0.36 --bond-dim 32",
    ),
    "spectrum_m025_2core": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.25], "spacings": [0.5, 0.4, THIRD], "volumes": [7.0, 9.0, 11.0],
         "levels": 3, "dmrg_levels": 2, "bond_dim": 32, "spacing_degree": 1},
        "qlat schwinger spectrum --masses 0.25 --spacings 0.5 0.4 0.3333333333333333 "
        "--volumes 7 9 11 --levels 3 --dmrg-levels 2 --bond-dim 32 --spacing-degree 1",
    ),
    # Finer spacings (down to a = 0.2, DMRG up to N = 70) and four volumes L = 8 … 14 per spacing,
    # with the model-averaged continuum limit (the recorded runs of
    # benchmarks/results/hamiltonian_spectrum_*_fine.*).  χ = 96: its truncation check at χ/2 = 48
    # is ~300× smaller than χ = 48's check at 24 (N = 40, a = 0.2), for about the same CPU time.
    "spectrum_m025_fine": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.25], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2], "volumes": [8.0, 10.0, 12.0, 14.0],
         "levels": 3, "dmrg_levels": 2, "bond_dim": 96, "spacing_degree": 2, "continuum": "model_average"},
        "qlat schwinger spectrum --masses 0.25 --spacings 0.5 0.4 0.3333333333333333 0.25 0.2 "
        "--volumes 8 10 12 14 --levels 3 --dmrg-levels 2 --bond-dim 96 --spacing-degree 2 --continuum model-average",
    ),
    "spectrum_m025_fine_chi48": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.25], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2], "volumes": [8.0, 10.0, 12.0, 14.0],
         "levels": 3, "dmrg_levels": 2, "bond_dim": 48, "spacing_degree": 2, "continuum": "model_average"},
        "qlat schwinger spectrum --masses 0.25 --spacings 0.5 0.4 0.3333333333333333 0.25 0.2 "
        "--volumes 8 10 12 14 --levels 3 --dmrg-levels 2 --bond-dim 48 --spacing-degree 2 --continuum model-average",
    ),
    "spectrum_m0125_fine_chi48": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.125], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2], "volumes": [8.0, 10.0, 12.0, 14.0],
         "levels": 3, "dmrg_levels": 2, "bond_dim": 48, "spacing_degree": 2, "continuum": "model_average"},
        "qlat schwinger spectrum --masses 0.125 --spacings 0.5 0.4 0.3333333333333333 0.25 0.2 "
        "--volumes 8 10 12 14 --levels 3 --dmrg-levels 2 --bond-dim 48 --spacing-degree 2 --continuum model-average",
    ),
    "spectrum_massive_fine": (
        "qlat.analysis.spectrum:spectrum_study",
        {"masses": [0.125, 0.25, 0.5], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2], "volumes": [8.0, 10.0, 12.0, 14.0],
         "levels": 3, "dmrg_levels": 2, "bond_dim": 96, "spacing_degree": 2, "continuum": "model_average"},
        "qlat schwinger spectrum --masses 0.125 0.25 0.5 --spacings 0.5 0.4 0.3333333333333333 0.25 0.2 "
        "--volumes 8 10 12 14 --levels 3 --dmrg-levels 2 --bond-dim 96 --spacing-degree 2 --continuum model-average",
    ),
    "theta_pi_2spacings_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4], "volumes": [15.0, 20.0, 30.0], "masses": [0.32, 0.34, 0.36], "bond_dim": 32},
        "qlat schwinger theta-pi --spacings 0.5 0.4 --volumes 15 20 30 --masses 0.32 0.34 0.36 --bond-dim 32",
    ),
    "theta_dependence_2core": (
        "qlat.analysis.theta_dependence:theta_dependence_study",
        {"masses": [0.1, 2.0], "thetas": [0.8, 1.6, 2.4], "spacings": [0.5, 0.4, THIRD],
         "volumes": [8.0, 12.0], "bond_dim": 32, "spacing_degree": 1},
        "qlat schwinger theta-dependence --masses 0.1 2 --thetas 0.8 1.6 2.4 "
        "--spacings 0.5 0.4 0.3333333333333333 --volumes 8 12 --bond-dim 32 --spacing-degree 1",
    ),
    # Issue 23 item 3, recorded (benchmarks/results/hamiltonian_theta_dependence_1core.*): 1200 CPU s (≈ 20 CPU min) of
    # one core.  theta_dependence_2core's L = 8, 12 leave e^{−ML} ≈ 2 % in the bulk differences at m/g = 0.1,
    # θ = 2.4 (M ≈ 0.39 g near θ = π) and its three spacings give no continuum fit at degree 2: here
    # L = 12, 16, 20 (the two longest form the bulk difference, L₁ the finite-volume variant) and
    # five spacings down to a = 0.2 (N = 24 … 100).
    "theta_dependence_1core": (
        "qlat.analysis.theta_dependence:theta_dependence_study",
        {"masses": [0.1, 2.0], "thetas": [0.4, 0.8, 1.6, 2.4], "spacings": [0.5, 0.4, THIRD, 0.25, 0.2],
         "volumes": [12.0, 16.0, 20.0], "bond_dim": 32},
        "qlat schwinger theta-dependence --masses 0.1 2 --thetas 0.4 0.8 1.6 2.4 "
        "--spacings 0.5 0.4 0.3333333333333333 0.25 0.2 --volumes 12 16 20 --bond-dim 32",
    ),
    "string_tension_2core": (
        "qlat.analysis.string_tension:string_tension_study",
        {"masses": [0.1], "charges": [0.5], "thetas": [0.0], "spacings": [0.5, 0.4, THIRD],
         "length": 32.0, "separations": [8.0, 10.0, 12.0, 14.0], "bond_dim": 32, "spacing_degree": 1},
        "qlat schwinger string-tension --masses 0.1 --charges 0.5 --thetas 0 "
        "--spacings 0.5 0.4 0.3333333333333333 --length 32 --separations 8 10 12 14 --bond-dim 32 "
        "--spacing-degree 1",
    ),
    # Issue 23 follow-up.  The string tension with separations out to ℓ = 24 on L = 40 (probes ≥ 8/g
    # from the ends): nine separations per spacing, enough for the screening-tail fit
    # E₀ = c + σℓ + B e^{−Mℓ} that the four separations of string_tension_2core could not support.
    "string_tension_long_2core": (
        "qlat.analysis.string_tension:string_tension_study",
        {"masses": [0.1], "charges": [0.5], "thetas": [0.0], "spacings": [0.5, 0.4, THIRD],
         "length": 40.0, "separations": [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0], "bond_dim": 32,
         "spacing_degree": 1},
        "qlat schwinger string-tension --masses 0.1 --charges 0.5 --thetas 0 "
        "--spacings 0.5 0.4 0.3333333333333333 --length 40 --separations 8 10 12 14 16 18 20 22 24 "
        "--bond-dim 32 --spacing-degree 1",
    ),
    # θ = π with the third spacing a = 1/3 (N = 45, 61, 89) at χ = 48 added to the χ = 32 chains of
    # theta_pi_2spacings_2core (χ per spacing; those chains are reused from its points.jsonl).
    "theta_pi_3spacings_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4, THIRD], "volumes": [15.0, 20.0, 30.0], "masses": [0.32, 0.34, 0.36],
         "bond_dim": [32, 32, 48]},
        "python -c 'from qlat.analysis.theta_pi import theta_pi_study; theta_pi_study(spacings=[0.5, 0.4, 1/3], "
        "volumes=[15, 20, 30], masses=[0.32, 0.34, 0.36], bond_dim=[32, 32, 48])' (χ per spacing: library only)",
    ),
    # θ = π at one spacing out to L = 60 (N = 121), χ = 48: four chain pairs (L̄ ≈ 17 … 49) to see
    # which finite-size form the crossings follow (m_c(a) is flat in a: the open question is L).
    "theta_pi_large_volume_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5], "volumes": [15.0, 20.0, 30.0, 40.0, 60.0], "masses": [0.32, 0.33, 0.34, 0.36],
         "bond_dim": 48, "spacing_degree": 0},
        "qlat schwinger theta-pi --spacings 0.5 --volumes 15 20 30 40 60 --masses 0.32 0.33 0.34 0.36 "
        "--bond-dim 48 --spacing-degree 0",
    ),
    # the same volumes at a second and third spacing (N up to 151 and 181): m_c(a) at large volume, a → 0 by
    # a constant (m_c(a) was flat in a at small volume)
    "theta_pi_large_volume_2spacings_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4], "volumes": [15.0, 20.0, 30.0, 40.0, 60.0], "masses": [0.32, 0.33, 0.34, 0.36],
         "bond_dim": 48, "spacing_degree": 0},
        "qlat schwinger theta-pi --spacings 0.5 0.4 --volumes 15 20 30 40 60 --masses 0.32 0.33 0.34 0.36 "
        "--bond-dim 48 --spacing-degree 0",
    ),
    "theta_pi_large_volume_3spacings_2core": (
        "qlat.analysis.theta_pi:theta_pi_study",
        {"spacings": [0.5, 0.4, THIRD], "volumes": [15.0, 20.0, 30.0, 40.0, 60.0],
         "masses": [0.32, 0.33, 0.34, 0.36], "bond_dim": 48, "spacing_degree": 0},
        "qlat schwinger theta-pi --spacings 0.5 0.4 0.333333333333 --volumes 15 20 30 40 60 --masses 0.32 0.33 "
        "0.34 0.36 --bond-dim 48 --spacing-degree 0",
    ),
}


def run(name: str, work: Path, results: Path) -> None:
    import importlib

    from machine import describe_machine

    from qlat.analysis.study_cache import RowCache
    from qlat.core.files import atomic_write_bytes
    from qlat.core.jsonio import dumps

    target, kwargs, command = RUNS[name]
    module, fn = target.split(":")
    study = getattr(importlib.import_module(module), fn)
    cache = RowCache(work / name / "points.jsonl")
    start = time.perf_counter()
    result = study(**kwargs, cache=cache,
                   progress=lambda row: print(f"{name}: {row.get('n_sites')} a={row.get('spacing'):.4g} "
                                              f"{row['method']} {row['seconds']:.1f}s", flush=True))
    wall = time.perf_counter() - start
    record = result.to_dict()
    record["benchmark"] = {
        "command": command if command.startswith("python") else command + f" --out {work / name}", "library_call": f"{target}(**{kwargs!r})",
        "wall_seconds_this_run": round(wall, 1),
        "cpu_seconds_of_all_chains": round(sum(float(r.get("cpu_seconds", 0.0)) for r in result.rows), 1),
        "wall_seconds_of_all_chains": round(sum(float(r.get("seconds", 0.0)) for r in result.rows), 1),
        "chains": len(result.rows), "machine": describe_machine(),
        "note": "chains were computed niced on a shared 2-core machine; wall >> cpu means waiting for a core",
    }
    results.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(results / f"hamiltonian_{name}.json", (dumps(record, indent=1) + "\n").encode())
    atomic_write_bytes(results / f"hamiltonian_{name}.txt", (result.table() + "\n").encode())
    result.plot(results / f"hamiltonian_{name}.png")
    print(result.table())
    print(f"wrote {results / f'hamiltonian_{name}.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("studies", nargs="+", choices=sorted(RUNS))
    parser.add_argument("--work", type=Path, default=Path("/tmp/hamiltonian-studies"),
                        help="where the points.jsonl of each study live")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    for name in args.studies:
        run(name, args.work, args.results)


if __name__ == "__main__":
    main()
