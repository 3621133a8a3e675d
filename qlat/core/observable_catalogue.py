"""The physical quantities qlat knows, as :class:`~qlat.core.observable_registry.Observable` objects.

The definitions live here, once; realizations are registered by the modules that own the targets
(``qlat.theories.schwinger_observables`` for the qubit model, ``qlat.theories`` for classical actions).  Units: ``"g"``
means the Schwinger model in units of the coupling (g = 1); ``"lattice"`` means dimensionless
lattice units.
"""

from __future__ import annotations

from qlat.core.observable_registry import define

# --- Schwinger model (Hamiltonian, qubits) -------------------------------------------------
ENERGY = define(
    "energy",
    unit="g",
    description="⟨H⟩, the expectation of the full Hamiltonian as written in docs/conventions.md "
    "(no constant dropped).",
)
ENERGY_DENSITY = define(
    "energy_density",
    unit="g^2",
    description="⟨H⟩/(N a), energy per unit length.",
)
CHIRAL_CONDENSATE = define(
    "condensate",
    unit="g",
    description="Chiral condensate per unit length ⟨ψ̄ψ⟩ = (1/(2aN)) Σ_n (−1)^n ⟨Z_n⟩ "
    "(staggered fermions, arXiv:2001.00485).",
)
CONDENSATE_PROFILE = define(
    "condensate_profile",
    unit="g",
    description="Site condensate c_n = (−1)^n ⟨Z_n⟩/(2a) on each site; its mean over the chain is the condensate.",
)
CHIRAL_CONDENSATE_SUBTRACTED = define(
    "condensate_subtracted",
    unit="g",
    description="⟨ψ̄ψ⟩ − ⟨ψ̄ψ⟩_free: the condensate minus the free (J = 0) staggered chain value "
    "at the same m, a, θ, N, which removes the −(m/π) ln(4/(ma)) divergence.",
)
ELECTRIC_FIELD = define(
    "electric_field",
    unit="g",
    description="Electric field profile ⟨L_n⟩ on the N−1 links, L_n = Σ_{i≤n} (Z_i + (−1)^i)/2, "
    "plus θ/2π in the electric formulation.",
)
CHARGE_DENSITY = define(
    "charge_density",
    unit="1",
    description="Local charge ⟨Q_n⟩ = ⟨(Z_n + (−1)^n)/2⟩ on each site.",
)
TOTAL_CHARGE = define(
    "total_charge",
    unit="1",
    description="Total charge ⟨Σ_n Q_n⟩ (zero in the physical sector).",
)

# --- classical lattice theories ----------------------------------------------------------
PLAQUETTE = define(
    "plaquette",
    unit="lattice",
    description="Mean plaquette ⟨cos θ_P⟩ of a U(1) gauge field.",
)
TOPOLOGICAL_CHARGE = define(
    "topological_charge",
    unit="1",
    description="Geometric topological charge Q = (1/2π) Σ_P arg(e^{iθ_P}), arg in (−π, π].",
)
Q2 = define(
    "q2",
    unit="1",
    description="⟨Q²⟩, the second moment of the topological charge.",
)
TOPOLOGICAL_SUSCEPTIBILITY = define(
    "chi_t",
    unit="lattice",
    description="Topological susceptibility: χ_t = ⟨Q²⟩/V on a lattice ensemble (lattice units); "
    "on the Schwinger Hamiltonian χ_t = ∂²E/∂θ² per unit length.",
)
MAGNETIZATION = define(
    "magnetization",
    unit="lattice",
    description="Magnetization per site ⟨M⟩/V with M = Σ_x φ_x (scalar) or Σ_i S_i (spins).",
)
SUSCEPTIBILITY_CHI2 = define(
    "chi2",
    unit="lattice",
    description="Two-point susceptibility χ₂ = Σ_x G_c(x) = (⟨M²⟩ − ⟨M⟩²)/V (arXiv:2101.08176).",
)
TWO_POINT = define(
    "two_point",
    unit="lattice",
    description="Connected two-point function G_c(x) = (1/V) Σ_y ⟨φ_y φ_{y+x}⟩ − ⟨φ⟩².",
)
WILSON_LOOP = define(
    "wilson_loop",
    unit="lattice",
    description="Rectangular Wilson loops ⟨Re W(R, T)⟩ of a U(1) gauge field.",
)
