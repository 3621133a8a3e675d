"""The classical ↔ quantum cross-check at light mass: N_f = 1 Monte Carlo vs the Hamiltonian by DMRG.

The same physical number, the topological susceptibility χ_t of the one-flavour Schwinger model
at m/g = 0.1, from two formulations that share no code below the observable interface:

- Euclidean: U(1) links with one dynamical Wilson fermion on L×L tori (exact-determinant
  reweighting of heatbath + instanton ensembles), the bare mass tuned on each lattice so that the
  PCAC mass is m, χ_t = ⟨Q²⟩/V, a → 0 at fixed volume, the finite volume corrected;
- Hamiltonian: the staggered qubit chain with θ as the background field, E₀''(θ = 0) per unit
  length by DMRG, a → 0;

next to mass perturbation theory to first (mΣ) and second order (Adam; arXiv:2206.05308 eq. 24).
This is `qlat crosscheck light-mass` (quick preset; its notes say what difference it can resolve).
Run:  .venv/bin/python examples/light_mass_crosscheck.py   (checks its own numbers; exit 1 if one is off)
"""
# qlat-example: slow

import sys

import torch

from qlat.analysis.light_mass_crosscheck import light_mass
from qlat.analysis.schwinger_crosscheck import CHI_T, ENERGY


def main() -> None:
    torch.set_num_threads(1)
    result = light_mass("quick", seed=0)
    cc = result.crosscheck
    print(cc.table())
    for note in result.notes:
        print("note:", note)

    checks = []
    hamiltonian = cc.entries["hamiltonian"][CHI_T]
    second = cc.entries["analytic O(m²)"][CHI_T]
    # the Hamiltonian value lies between second-order perturbation theory (0.0088; the O(m³) term is
    # positive) and first order (0.0160)
    checks.append((f"hamiltonian chi_t = {hamiltonian.value:.5f} between 2nd and 1st order",
                   second.value < hamiltonian.value < cc.entries["analytic"][CHI_T].value))
    for name in (CHI_T, ENERGY):
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
