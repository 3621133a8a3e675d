"""Light-mass cross-check diagnostics: N_f = 1 χ_t, PCAC mass and χ_t/m_PCAC vs lattice spacing and volume.

The quick preset of ``qlat crosscheck light-mass`` (g²V = 16, a g = 0.5 … 0.33) does not reach the
ED continuum value of χ_t at m/g = 0.1.  This script measures, with the cross-check's own pieces
(:mod:`qlat.analysis.light_mass_crosscheck`: heatbath + instanton pure-gauge ensembles, exact-
determinant reweighting to one Wilson flavour at m₀ = m_c(β) + m·a, connected PCAC correlators),
each point on its own ensemble:

- ``spacing``: fixed g²V, L = … (β = L²/(g²V)): how χ_t/m_PCAC depends on a;
- ``volume``: fixed β, L = …: the finite-volume effect on χ_t, m_PCAC and their ratio.

    nice -n 10 .venv/bin/python benchmarks/probe_light_mass.py --spacing-volume 16 --spacing-sizes 8 10 12 16 \\
        --volume-beta 4 --volume-sizes 8 12 16 --extra-volume 36 --extra-sizes 12 14 18

Writes ``benchmarks/results/light_mass_probes.json`` with the machine description.
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

MASS = 0.1


def point(L: int, beta: float, samples: int, seed: int) -> dict[str, Any]:
    import numpy as np

    from qlat.analysis import light_mass_crosscheck as lm
    from qlat.theories.schwinger_wilson import critical_mass

    preset = lm.LightMassPreset(**{**lm.LIGHT_MASS_PRESETS["quick"].__dict__, "samples": samples})
    start, cpu = time.perf_counter(), time.process_time()
    ag = 1.0 / math.sqrt(beta)
    m0 = critical_mass(beta) + MASS * ag
    configs, q, _ = lm._ensemble(L, beta, preset, seed=seed, progress=False)
    fermions = lm._fermions(configs, L, beta, m0, preset)
    logw, sign = fermions["logw"], fermions["sign"]
    values = lm._reweighted(q, logw, sign, volume=L * L, g2a2=1.0 / beta, theta=0.5)
    values.update(lm._pcac(fermions, L, beta, q, preset))
    w = sign * np.exp(logw - logw.max())
    out = {"L": L, "beta": beta, "a_g": ag, "physical_volume": L * L / beta, "m0": m0,
           "reweighting_ess": float(w.sum() ** 2 / (w * w).sum() / w.size), "average_sign": float(sign.mean()),
           "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}
    for key in ("chi_t", lm.M_PCAC, lm.CHI_OVER_M):
        out[key] = {"value": values[key].value, "error": values[key].error}
    print(f"L={L:3d} β={beta:6.3f} a g={ag:.3f} g²V={out['physical_volume']:5.1f}  χ_t={out['chi_t']['value']:.5f}"
          f"({out['chi_t']['error']:.5f})  m_PCAC={out[lm.M_PCAC]['value']:.4f}({out[lm.M_PCAC]['error']:.4f})  "
          f"χ_t/m_PCAC={out[lm.CHI_OVER_M]['value']:.4f}({out[lm.CHI_OVER_M]['error']:.4f})  "
          f"ESS={out['reweighting_ess']:.2f}  {out['cpu_seconds']:.0f} s CPU", flush=True)
    return out


def main() -> int:
    import torch
    from machine import describe_machine, write_results

    from qlat.exact import continuum

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spacing-volume", type=float, default=16.0)
    parser.add_argument("--spacing-sizes", type=int, nargs="*", default=[8, 10, 12, 16])
    parser.add_argument("--volume-beta", type=float, default=4.0)
    parser.add_argument("--volume-sizes", type=int, nargs="*", default=[8, 12, 16])
    parser.add_argument("--extra-volume", type=float, default=36.0)
    parser.add_argument("--extra-sizes", type=int, nargs="*", default=[12, 14, 18])
    parser.add_argument("--samples", type=int, default=200, help="per chain (16 chains)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "light_mass_probes.json")
    args = parser.parse_args()
    record: dict[str, Any] = {"benchmark": "light_mass_probes", "machine": describe_machine(),
                              "command": " ".join(["benchmarks/probe_light_mass.py", *sys.argv[1:]]),
                              "mass": MASS, "sigma": continuum.sigma(), "chains": 16, "samples": args.samples}
    print(f"fixed g²V = {args.spacing_volume:g}: vs a")
    record["spacing"] = [point(L, L * L / args.spacing_volume, args.samples, 11) for L in args.spacing_sizes]
    print(f"fixed β = {args.volume_beta:g}: vs g²V")
    record["volume"] = [point(L, args.volume_beta, args.samples, 11) for L in args.volume_sizes]
    print(f"fixed g²V = {args.extra_volume:g}: vs a")
    record["spacing_big_volume"] = [point(L, L * L / args.extra_volume, args.samples, 11) for L in args.extra_sizes]
    write_results(args.out, record)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
