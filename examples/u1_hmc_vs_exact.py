"""2D U(1) gauge theory: HMC and heatbath against the exact character expansion, side by side.

The classical path behind `qlat sample u1`: theory → sampler → chain → stored ensemble →
Γ-method Estimates (backend "ensemble") → cross-check with the exact finite-volume values
(backend "u1-exact": Bessel-function character expansion, Bonati & Rossi arXiv:1901.09830).
Run:  .venv/bin/python examples/u1_hmc_vs_exact.py   (checks its own numbers; exit 1 if one is off)
"""

import sys
import tempfile
from pathlib import Path

import torch

import qlat
from qlat.analysis.crosscheck import CrossCheck
from qlat.core.ensemble import Ensemble
from qlat.core.lattice import Lattice
from qlat.samplers import HMC, U1Heatbath
from qlat.theories import U1Theory

torch.set_num_threads(1)  # batched chains run fastest on one thread on small machines
L, beta = 8, 2.0
theory = U1Theory(Lattice((L, L)), beta=beta)
names = ["plaquette", "q2"]

check = CrossCheck(reference="exact")
check.add("exact", qlat.estimate(theory, names, backend="u1-exact"))

with tempfile.TemporaryDirectory() as tmp:
    for label, sampler in [("hmc", HMC(trajectory_length=1.0, n_steps=10, thermalization=100)),
                           ("heatbath", U1Heatbath(thermalization=50))]:
        state = sampler.init_state(theory, chains=8, seed=1)
        batch, state = sampler.run(theory, 600, state=state)
        with Ensemble.create(Path(tmp) / f"{label}.h5", theory=theory, sampler=sampler, chains=8, seed=1) as ens:
            ens.append(batch, state)
            check.add(label, qlat.estimate(ens, names, backend="ensemble"))
        print(f"{label}: acceptance {batch.accepted.mean():.3f}, "
              f"tau_int(Q^2) = {check.entries[label]['q2'].tau_int:.1f}")

print(check.table())
failures = [(row["label"], row["observable"], row["z"]) for row in check.rows() if abs(row["z"]) >= 3]
for label, name, z in failures:
    print(f"  [FAILED] {label} {name}: z = {z:+.2f}")
if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("all checks passed: every Monte Carlo value within 3σ of the exact value")
