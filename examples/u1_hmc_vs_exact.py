"""2D U(1) gauge theory: HMC and heatbath against the exact character expansion, side by side.

The classical path behind `qlat sample u1`: theory → sampler → chain → observables → Γ-method
Estimates → cross-check with the exact finite-volume values (Bessel-function character
expansion, Bonati & Rossi arXiv:1901.09830).  Run:  .venv/bin/python examples/u1_hmc_vs_exact.py
"""

import torch

from qlat.analysis.crosscheck import CrossCheck
from qlat.analysis.statistics import gamma_estimate
from qlat.core import Estimate
from qlat.core.lattice import Lattice
from qlat.core.observables import PLAQUETTE, Q2
from qlat.exact import u1 as exact_u1
from qlat.samplers import HMC, U1Heatbath
from qlat.theories import U1Theory

torch.set_num_threads(1)  # batched chains run fastest on one thread on small machines
L, beta = 8, 2.0
theory = U1Theory(Lattice((L, L)), beta=beta)

check = CrossCheck(reference="exact")
check.add("exact", {
    "plaquette": Estimate(exact_u1.mean_plaquette(beta, L), unit=PLAQUETTE.unit, backend="exact"),
    "q2": Estimate(exact_u1.topological_q2(beta, L), unit=Q2.unit, backend="exact"),
})

for label, sampler in [("hmc", HMC(trajectory_length=1.0, n_steps=10, thermalization=100)),
                       ("heatbath", U1Heatbath(thermalization=50))]:
    state = sampler.init_state(theory, chains=8, seed=1)
    batch, state = sampler.run(theory, 600, state=state)
    configs = batch.configurations  # (n, chains, 2, L, L)
    flat = configs.reshape(-1, *configs.shape[2:])
    estimates = {}
    for obs in (PLAQUETTE, Q2):
        series = obs.realize(theory)(flat).reshape(configs.shape[0], configs.shape[1]).numpy()  # (n, chains)
        estimates[obs.name] = gamma_estimate(series, name=obs.name, unit=obs.unit, backend=label)
    check.add(label, estimates)
    print(f"{label}: acceptance {batch.accepted.mean():.3f}, "
          f"tau_int(Q^2) = {check.entries[label]['q2'].tau_int:.1f}")

print(check.table())
