"""The classical ↔ quantum cross-check at light mass: N_f = 1 Monte Carlo vs the Hamiltonian by DMRG.

The same physical number, the topological susceptibility χ_t of the one-flavour Schwinger model
at m/g = 0.1, from two formulations that share no code below the observable interface:

- Euclidean: U(1) links with one dynamical Wilson fermion on L×L tori (exact-determinant
  reweighting of heatbath + instanton ensembles), χ_t = ⟨Q²⟩/V, a → 0 at fixed volume, with the
  PCAC mass measured;
- Hamiltonian: the staggered qubit chain, E₀''(θ = 0) per unit length by DMRG, a → 0;

next to the first-order mass perturbation theory χ_t = mΣ.  This is `qlat crosscheck light-mass`
(quick preset, ≈ 4 min on two cores).
Run:  .venv/bin/python examples/light_mass_crosscheck.py   (checks its own numbers; exit 1 if one is off)
"""
# qlat-example: slow

import sys

import torch

from qlat.analysis.light_mass_crosscheck import CHI_OVER_M, M_PCAC, light_mass
from qlat.analysis.schwinger_crosscheck import CHI_T


def main() -> None:
    torch.set_num_threads(1)
    result = light_mass("quick", seed=0)
    cc = result.crosscheck
    print(cc.table())
    for note in result.notes:
        print("note:", note)

    checks = []
    hamiltonian = cc.entries["hamiltonian"][CHI_T]
    analytic = cc.entries["analytic"][CHI_T]
    # the O(m²) correction at m/g = 0.1 is ~10 %: the Hamiltonian value must be within 20 % of mΣ
    checks.append(("hamiltonian chi_t within 20 % of m Sigma", abs(hamiltonian.value / analytic.value - 1) < 0.2))
    for name in (CHI_T, M_PCAC, CHI_OVER_M):
        z = cc.comparison("monte carlo", name)["z"]
        checks.append((f"monte carlo {name} vs hamiltonian: z = {z:+.2f}", z is not None and abs(z) < 3))
    failures = [label for label, ok in checks if not ok]
    for label, ok in checks:
        print(("  ok      " if ok else "  [FAILED] ") + label)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("all checks passed: the Monte Carlo and the Hamiltonian agree within 3σ of their total errors")


if __name__ == "__main__":  # the Hamiltonian column runs in a spawned process, which imports this file
    main()
