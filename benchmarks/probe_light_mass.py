"""Light-mass diagnostics: the O(m²) term of χ_t on the Hamiltonian side, and Monte Carlo torus scans.

``--hamiltonian``: χ_t/(mΣ) of the staggered chain (DMRG, bulk differences of chains of physical
lengths ℓ g = 12, 16 — at m/g = 0.02 chains of 8, 12 are still 6 % off —, mass shift m − g²a/8)
at several small masses and spacings, in both formulations, each extrapolated linearly in a → 0.  It settles which small-mass slope is right:
with χ_t = mΣ(1 + c₂m + c₃m² + …), second-order mass perturbation theory (Adam; arXiv:2206.05308
eq. 24) gives c₂ = E₊e^{2γ}/(4π²Σ) = −4.4786 for the θ that couples to the topological charge
(the *electric* formulation), while the *rotated* formulation (θ in the mass phase) carries the
contact term +m²/π, i.e. c₂ = −4.4786 + 1/(πΣ) = −2.4883.  A fit of R(m) − 1 = c₂m + c₃m² to
the continuum values gives c₂ of each formulation with its fit error.

``--monte-carlo``: the pieces of the light-mass cross-check (:mod:`qlat.analysis.light_mass_crosscheck`)
on tori of several sizes at fixed β (the finite-volume effect at the PCAC-tuned bare mass) and
at fixed g²V (the a-dependence of the tuned χ_t).

    nice -n 10 .venv/bin/python benchmarks/probe_light_mass.py --hamiltonian

Writes ``benchmarks/results/light_mass_probes.json`` (the parts run) with the machine description.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def hamiltonian(masses: list[float], spacings: list[float], lengths: tuple[float, float], bond_dim: int
                ) -> dict[str, Any]:
    """Continuum χ_t/(mΣ) per mass and formulation, and the fitted slopes c₂."""
    import numpy as np

    from qlat.analysis.extrapolation import fit_polynomial
    from qlat.analysis.ground_solvers import DMRGSolver
    from qlat.analysis.light_mass_crosscheck import hamiltonian_light_mass_point, second_order_coefficient
    from qlat.exact import continuum

    sigma = continuum.sigma()
    solver = DMRGSolver(bond_dim)
    out: dict[str, Any] = {"masses": masses, "spacings": spacings, "chain_lengths": list(lengths),
                           "bond_dim": bond_dim, "points": []}
    c2_pt = second_order_coefficient() * math.exp(2 * np.euler_gamma) / (4 * math.pi**2 * sigma)
    out["c2_perturbation_theory"] = {"electric": c2_pt, "rotated": c2_pt + 1.0 / (math.pi * sigma)}
    for form in ("electric", "rotated"):
        ratios = []
        for m in masses:
            ys = []
            for a in spacings:
                start = time.process_time()
                chi = hamiltonian_light_mass_point(spacing=a, mass=m, lengths=lengths, theta=0.2, solver=solver,
                                                   formulation=form)["chi_t"]
                ys.append(chi / (m * sigma))
                out["points"].append({"formulation": form, "mass": m, "a": a, "chi_t": chi, "ratio": ys[-1],
                                      "cpu_seconds": time.process_time() - start})
                print(f"{form:8s} m = {m:5.3f} a = {a:.4f}: χ_t/(mΣ) = {ys[-1]:.6f}  "
                      f"({out['points'][-1]['cpu_seconds']:.0f} s CPU)", flush=True)
            fit = fit_polynomial(spacings, ys, degree=1)
            ratios.append((float(fit.coefficients[0]), float(math.sqrt(fit.covariance[0, 0]))))
            print(f"{form:8s} m = {m:5.3f}: a → 0: {ratios[-1][0]:.5f}({ratios[-1][1]:.5f})", flush=True)
        r = np.array([v for v, _ in ratios])
        s = np.array([max(e, 1e-6) for _, e in ratios])
        mm = np.asarray(masses)
        # R − 1 = c₂m + c₃m²: a polynomial in m through the origin, i.e. (R − 1)/m = c₂ + c₃m
        fit = fit_polynomial(mm, (r - 1.0) / mm, sigma=s / mm, degree=1)
        c2, c2_err = float(fit.coefficients[0]), float(math.sqrt(fit.covariance[0, 0]))
        out[form] = {"continuum_ratio": [v for v, _ in ratios], "continuum_ratio_error": [e for _, e in ratios],
                     "c2": c2, "c2_error": c2_err, "c3": float(fit.coefficients[1]),
                     "chi2_per_dof": None if fit.dof == 0 else fit.chi2_per_dof}
        print(f"{form}: c₂ = {c2:.3f}({c2_err:.3f}) against perturbation theory "
              f"{out['c2_perturbation_theory'][form]:.4f}", flush=True)
    return out


def monte_carlo(args: argparse.Namespace) -> dict[str, Any]:
    """Tuned χ_t on tori of several sizes at one β, and at fixed g²V for several a."""
    from qlat.analysis import light_mass_crosscheck as lm

    base = lm.LightMassPreset(**{**lm.LIGHT_MASS_PRESETS["quick"].__dict__, "samples": args.samples})
    out: dict[str, Any] = {"samples": args.samples, "chains": base.chains}
    series = []
    for i, L in enumerate(args.spacing_sizes):
        p = lm.LightMassPreset(**{**base.__dict__, "physical_volume": args.spacing_volume})
        lat = lm._series_lattice(L, p, seed=11 + 1000 * i, progress=False)
        t = lat["tuned"]["main"]
        series.append({**lat["diag"], "chi_t": [t["chi_t"].value, t["chi_t"].error]})
        print(f"g²V = {args.spacing_volume:g}, L = {L}: a g = {lat['diag']['a_g']:.3f}, tuned χ_t = "
              f"{t['chi_t'].value:.5f}({t['chi_t'].error:.5f}), m₀ = {lat['diag']['tuned_m0']:.5f}", flush=True)
    out["spacing"] = series
    beta = args.volume_beta
    m0 = series[0]["tuned_m0"] if args.volume_m0 is None else args.volume_m0
    tori = lm._fv_study(beta, args.volume_sizes, m0, base, seed=23, progress=False)
    out["volume"] = [{"L": t["L"], "beta": beta, "length": t["length"], "m0": m0,
                      "chi_t": [t["chi_t"].value, t["chi_t"].error]} for t in tori]
    for t in out["volume"]:
        print(f"β = {beta:g}, L = {t['L']}: ℓ g = {t['length']:.2f}, χ_t = {t['chi_t'][0]:.5f}({t['chi_t'][1]:.5f})",
              flush=True)
    return out


def project(path: Path, preset_name: str, draws: int) -> dict[str, Any]:
    """Projected continuum error of χ_t for a preset, from the per-lattice points of a measured run.

    Not a measurement: synthetic per-lattice values c₀ + c₁a + c₂a² at the preset's spacings,
    with c₀ the Hamiltonian value of the run and c₁, c₂ fitted to the run's lattices with c₀ fixed,
    and errors σ(a) = the run's median relative error × √(its samples / the preset's samples) × S,
    S = the run's continuum √(χ²/dof) (its observed excess scatter); analysed by the cross-check's
    own continuum fit (Akaike average), scale factor and model spread.  The finite-volume and PCAC-window
    terms of the run (fractions of its value) are added in quadrature unchanged: ``total_with_run_terms``
    (conservative where the preset measures the finite volume at a second β or on more samples).
    """
    import json

    import numpy as np

    from qlat.analysis import light_mass_crosscheck as lm
    from qlat.core.estimate import Estimate

    run = json.loads(path.read_text())
    pts = [p for p in run["points"] if p["column"] == "monte carlo" and p["observable"] == "chi_t"]
    x = np.array([p["x"] for p in pts])
    y = np.array([p["value"] for p in pts])
    s = np.array([p["error"] for p in pts])
    c0 = run["table"]["estimates"]["hamiltonian"]["chi_t"]["value"]
    design = np.stack([x, x * x], axis=1) / s[:, None]
    c1, c2 = np.linalg.lstsq(design, (y - c0) / s, rcond=None)[0]
    _, scale = lm._continuum(list(x), [Estimate(v, e, name="chi_t") for v, e in zip(y, s, strict=True)])
    mc = run["table"]["estimates"]["monte carlo"]["chi_t"]
    other = [v / abs(mc["value"]) for k, v in mc["provenance"]["systematic_sources"].items()
             if not k.startswith("continuum")]
    preset = lm.LIGHT_MASS_PRESETS[preset_name]
    xs = np.array([1.0 / math.sqrt(L * L / preset.physical_volume) for L in preset.lattice_sizes])
    truth = c0 + c1 * xs + c2 * xs * xs
    rel = float(np.median(s / y)) * math.sqrt(run["preset"]["samples"] / preset.samples) * scale
    rng = np.random.default_rng(1)
    totals, zs = [], []
    for _ in range(draws):
        vals = truth + rng.normal(0.0, rel * truth)
        ests = [Estimate(v, rel * t, name="chi_t") for v, t in zip(vals, truth, strict=True)]
        average, s_fit = lm._continuum(list(xs), ests)
        est = average.estimate
        total = math.hypot(s_fit * est.error, *est.provenance["systematic_sources"].values())
        totals.append(total / c0)
        zs.append((est.value - c0) / total)
    out = {"run": str(path), "preset": preset_name, "c0": c0, "c1": float(c1), "c2": float(c2),
           "relative_error_per_lattice": rel, "scale_factor_of_the_run": scale, "draws": draws,
           "total_error_over_value_median": float(np.median(totals)),
           "total_error_over_value_quartiles": [float(np.quantile(totals, 0.25)), float(np.quantile(totals, 0.75))],
           "fraction_within_15_percent": float(np.mean(np.array(totals) <= 0.15)),
           "run_terms_other_than_the_continuum": other,
           "total_with_run_terms_median": float(np.median([math.hypot(t, *other) for t in totals])),
           "coverage_2_sigma": float(np.mean(np.abs(zs) <= 2.0))}
    print(json.dumps(out, indent=1))
    return out


def main() -> int:
    import torch
    from machine import describe_machine, write_results

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hamiltonian", action="store_true", help="the O(m²) study (DMRG)")
    parser.add_argument("--masses", type=float, nargs="*", default=[0.02, 0.05, 0.1])
    parser.add_argument("--spacings", type=float, nargs="*", default=[0.5, 1.0 / 3.0, 0.25])
    parser.add_argument("--lengths", type=float, nargs=2, default=[12.0, 16.0])
    parser.add_argument("--bond-dim", type=int, default=32)
    parser.add_argument("--monte-carlo", action="store_true", help="the torus scans")
    parser.add_argument("--spacing-volume", type=float, default=25.0)
    parser.add_argument("--spacing-sizes", type=int, nargs="*", default=[10, 12, 14, 16])
    parser.add_argument("--volume-beta", type=float, default=4.0)
    parser.add_argument("--volume-m0", type=float, default=None, help="default: the tuned m₀ of the first size")
    parser.add_argument("--volume-sizes", type=int, nargs="*", default=[8, 10, 12, 16])
    parser.add_argument("--samples", type=int, default=200, help="per chain (16 chains)")
    parser.add_argument("--project", type=Path, default=None, metavar="RUN_JSON",
                        help="projected continuum error of --project-preset from a light-mass run's JSON")
    parser.add_argument("--project-preset", default="full")
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "light_mass_probes.json")
    args = parser.parse_args()
    if args.project is not None:
        project(args.project, args.project_preset, args.draws)
        return 0
    if not (args.hamiltonian or args.monte_carlo):
        parser.error("choose --hamiltonian and/or --monte-carlo (or --project)")
    record: dict[str, Any] = {"benchmark": "light_mass_probes", "machine": describe_machine(),
                              "command": " ".join(["benchmarks/probe_light_mass.py", *sys.argv[1:]])}
    start = time.perf_counter()
    if args.hamiltonian:
        record["hamiltonian"] = hamiltonian(args.masses, args.spacings, tuple(args.lengths), args.bond_dim)
    if args.monte_carlo:
        record["monte_carlo"] = monte_carlo(args)
    record["wall_seconds"] = time.perf_counter() - start
    write_results(args.out, record)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
