r"""Light-mass cross-check of the Schwinger model: N_f = 1 Monte Carlo vs the Hamiltonian (DMRG).

At m ≪ g the one-flavour Schwinger model has, to second order in mass perturbation theory
(Adam, arXiv:hep-th/9704064, Ann. Phys. 259 (1997) 1; the O(m²) coefficient as quoted in eq. (24) of Dempsey,
Klebanov, Pufu, Zan, arXiv:2206.05308; docs/references.md),

.. math:: ℰ(θ) − ℰ(0) = mΣ(1 − \cos θ) + \frac{E_+ e^{2γ}}{16π^2}\,m^2 (1 − \cos 2θ) + O(m^3),
          \qquad χ_t = ℰ''(0) = mΣ + \frac{E_+ e^{2γ}}{4π^2}\,m^2 + O(m^3),

Σ = e^γ g/(2π^{3/2}), E₊ = 2π∫₀^∞ r dr (e^{−2K₀(μr)} − 1) μ² = −8.91388 (:func:`second_order_coefficient`),
i.e. χ_t = mΣ(1 − 4.4786 m/g + …): the θ that couples to the topological charge Q = (1/2π)∫F,
which is the θ of the Monte Carlo and of the *electric* Hamiltonian formulation.

Columns (units g = 1; z-scores against the ``hamiltonian`` column):

- ``analytic``: first order, mΣ and mΣ(1 − cos θ); ``analytic O(m²)``: the second order above.
  Each carries the size of its first omitted term as a systematic (first order: the O(m²)
  term; second order: the O(m²) term times |c₂|m, a heuristic for the unknown O(m³) term).
- ``hamiltonian``: the staggered Hamiltonian in the *electric* formulation (θ as the background
  field J Σ(L_n + θ/2π)², lattice mass m − g²a/8 of Dempsey et al.), ground states by DMRG
  (:class:`~qlat.analysis.ground_solvers.DMRGSolver`; exact diagonalization for tiny presets);
  χ_t = E₀''(0) per unit length from bulk differences of two chains of fixed *physical* lengths
  ℓ₁ < ℓ₂, [E(N₂) − E(N₁)]/((N₂ − N₁)a) (Richardson-improved central differences in θ),
  extrapolated a → 0 linearly in a (error from the fit residuals); systematics: the spread of
  the fit model (linear in a², and quadratic in a when ≥ 4 spacings) and the change when both
  chains are longer by ℓ₂ − ℓ₁.  Not the *rotated* formulation (θ in the mass phase): on the
  staggered lattice its pseudoscalar mass term m sin θ is a different lattice operator from the
  scalar one, and E''(0) picks up a finite contact term that survives a → 0 — +m²/π for free
  fermions (from the band energy −(1/2πa)∫dk [m² − m²sin²θ cos²k + cos²k/a²]^{1/2}), measured
  +0.0031 g² at m/g = 0.1 in the interacting chain (rotated − electric, extrapolated a → 0;
  ``benchmarks/probe_light_mass.py --hamiltonian``).  It shifts the O(m²) coefficient from
  −4.48 to −4.48 + 1/(πΣ) = −2.49, which is what the rotated column of qlat ≤ 0.2 showed.
- ``monte carlo``: Euclidean 2D U(1) with one Wilson fermion on L×L tori at fixed physical
  volume g²V = L²/β, a g = 1/√β.  Pure-gauge ensembles (heatbath + Q → Q ± 1 instanton moves,
  :class:`~qlat.samplers.exact_determinant.HeatbathInstanton`) reweighted by the exact
  determinant w = sign(det D)|det D| at several bare masses m₀ₖ = m_c(β) + sₖ·m·a per
  configuration (even-odd reduced, :meth:`~qlat.theories.wilson_dirac.WilsonOperator.even_odd_masses`):
  ⟨O⟩ = ⟨O w⟩/⟨w⟩.  *Mass tuning by the PCAC mass on these ensembles*: the PCAC mass
  m_PCAC(m₀ₖ) = −Σ_t ∂̃C_AP/(2Σ_t C_PP) a⁻¹ (connected correlators, t ∈ [L/4, L/2)) and the
  observables at the same m₀ₖ are interpolated (Lagrange, in m_PCAC) to m_PCAC = m — one
  Γ-method derived quantity of all the means, so the error of the tuning is in the error
  (:func:`tune_to_pcac_mass`); the literature κ_c only places the bracket.
  χ_t = ⟨Q²⟩/(V a²g²), ℰ(θ) − ℰ(0) = −log⟨cos θQ⟩/(V a²g²).  *Post-stratified in Q*: the
  pure-gauge probabilities P(|Q| = k) of the torus are known exactly (character expansion,
  :func:`quenched_charge_distribution`), so every mean is Σₖ P(k)⟨O w⟩ₖ/⟨1⟩ₖ over the charge
  sectors (:func:`stratified_series`) — the light determinant suppresses |Q| ≥ 1, and the plain
  ⟨Q²w⟩/⟨w⟩ spent most of its variance counting how often the chain visited those sectors
  (quick preset: per-lattice error 4–5 % → 3 %, the same configurations).  Extrapolated in a g
  by an Akaike average (Jay & Neil, arXiv:2008.01069) of c₀ + c₁a, c₀ + c₂a² and
  c₀ + c₁a + c₂a² over fit ranges (Wilson fermions: O(a); the 1/β scheme of a²g²: O(a²);
  :func:`_continuum`, :data:`CONTINUUM_MODELS`); the spread of the models is the systematic.
  *Finite volume corrected*: independent ensembles at the same β and tuned m₀ on tori of several
  sizes give χ(ℓ), ℓ = L a g, fitted by χ_∞ + c e^{−Mℓ} (M² = μ² + 4πmΣ, the boson mass of the
  bosonized potential to first order in m, Coleman 1976); the continuum value is multiplied by
  the fitted χ_∞/χ(ℓ_ref) (:func:`finite_volume_ratio`).  Statistical error: the continuum fit's
  (× √(χ²/dof) of the preferred fit when the lattices scatter more than their errors,
  :func:`_scale_factor`) and the
  ratio's (independent ensembles) combined.  Systematics, each named in the provenance:
  continuum fit model and fit range (the Akaike spread within and between the ranges),
  PCAC window (t ∈ [3L/8, L/2) instead: the tuning's O(a) ambiguity carried to a = 0 with the
  same continuum models and weights, :func:`_with_the_same_models`),
  finite-volume model (M × 0.9, × 1.1, e^{−Mℓ}/√(Mℓ), without the smallest torus) and its
  a-dependence (the ratio at a second β, or the whole correction when one β is measured).
  :func:`error_budget` splits the total error into these parts (a note of the table).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qlat.analysis.crosscheck import CrossCheck
from qlat.analysis.extrapolation import FitModel
from qlat.analysis.schwinger_crosscheck import (
    CHI_T,
    ENERGY,
    UNIT,
    CrossCheckResult,
    bulk_theta_point,
)
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.exact.continuum import mpt_second_order_integral

__all__ = ["LIGHT_MASS_PRESETS", "LightMassPreset", "error_budget", "finite_volume_ratio",
           "hamiltonian_light_mass_point", "light_mass", "quenched_charge_distribution", "second_order_coefficient",
           "second_order_values", "stratified_series", "tune_to_pcac_mass"]

#: the candidates of the Monte Carlo a → 0 fit (:func:`_continuum`): c₀ + c₁a and c₀ + c₂a² on all lattices and
#: without the one or two coarsest, c₀ + c₁a + c₂a² on all and without the coarsest.  The quadratic on two
#: lattices fewer is left out: with 4 points for 3 parameters its intercept error (25–40× the per-lattice
#: error) carried ≈ 10 % of the weight and swamped the average (synthetic a-series of the quick range with
#: 1–3 % errors: total error 2–3× the distance, median |z| 0.35; without it 0.4–0.8, and ≥ 85 % within 2σ
#: also for curved artifacts 0.016a − 0.012a², tests/analysis/test_light_mass_crosscheck.py)
CONTINUUM_MODELS = (FitModel((0, 1)), FitModel((0, 1), 1), FitModel((0, 1), 2), FitModel((0, 2)),
                    FitModel((0, 2), 1), FitModel((0, 2), 2), FitModel((0, 1, 2)), FitModel((0, 1, 2), 1))

#: the PCAC windows t ∈ [t₀, L/2): the main one and the alternative of the "PCAC window" systematic
PCAC_WINDOWS = {"main": lambda L: (L // 4, L // 2), "alternative": lambda L: (3 * L // 8, L // 2)}


@dataclass(frozen=True)
class LightMassPreset:
    """Parameters of one light-mass cross-check run.

    mass: m/g of both sides; theta: θ of the energy-density row.
    physical_volume: g²V of the tori of the continuum series; lattice_sizes: their L (β = L²/(g²V),
    ascending, even, ≥ 3); samples, chains, thermalization, instanton_moves: each pure-gauge ensemble.
    mass_steps: sₖ of the bare masses m₀ₖ = m_c(β) + sₖ m a of the PCAC bracket (≥ 2, ascending).
    fv_lattices: indices into lattice_sizes whose β hosts a finite-volume study (the first is the
    correction, a second one its a-dependence); fv_sizes: for each of them, the L of the extra
    tori (the series size is measured again on an independent ensemble).
    chain_lengths: physical lengths (ℓ₁, ℓ₂) g of the two chains of the bulk differences;
    hamiltonian_spacings: a g of the a → 0 extrapolation; solver: ``"dmrg"`` or ``"ed"``;
    bond_dim: DMRG bond dimension.
    """

    name: str
    mass: float
    theta: float
    physical_volume: float
    lattice_sizes: tuple[int, ...]
    samples: int
    chains: int
    thermalization: int
    instanton_moves: int
    mass_steps: tuple[float, ...]
    fv_lattices: tuple[int, ...]
    fv_sizes: tuple[tuple[int, ...], ...]
    chain_lengths: tuple[float, float]
    hamiltonian_spacings: tuple[float, ...]
    solver: str = "dmrg"
    bond_dim: int = 32


#: What the presets can resolve (Monte Carlo χ_t total error / value; issue 17 asks ≤ 15 %), measured with
#: seed 0 (benchmarks/results/light_mass_crosscheck_<preset>.json, :func:`error_budget`):
#: quick 0.49 (1.36 before the stratification in Q and the Akaike continuum): per-lattice errors 3.2 %
#: (4.9 % unstratified), the a → 0 average magnifies them 6.5× and S = 1.58, model and range spread 25 % and
#: 21 %, finite volume 6.4 % + 6.9 %, PCAC window 5.5 %; 270 s CPU.
#: full 0.20 (z = +0.68): per-lattice 2.0 % (2.8 % unstratified), statistics 9.7 % (amplification 4.5×,
#: S = 1.00), model and range spread 10.9 % and 9.8 %, finite-volume a-dependence 8.0 % (one β: the whole
#: correction), PCAC window 3.7 %, finite-volume model 1.8 %; 820 s CPU.  Not yet 15 %: 800 samples per
#: chain and a second finite-volume β (tori 12, 18, 24 at β(18): the a-dependence becomes a difference of two
#: ratios) are estimated at 13–16 % for ≈ 45–60 min CPU (fermion cost ∝ L⁶: L = 20 takes 28 s per 1600
#: configurations and 3 bare masses); the continuum spread of the full series alone projects to 0.10
#: (``benchmarks/probe_light_mass.py --project`` from the quick run, 800 samples).
#: long 0.144 (z = +0.84): 600 samples and the second finite-volume β at β(14): statistics 7.0 %, continuum
#: fit range 9.0 % and model 7.8 %, PCAC window 3.6 %, finite-volume model 1.9 % and a-dependence 0.9 %;
#: 1505 s CPU.
LIGHT_MASS_PRESETS: dict[str, LightMassPreset] = {
    "quick": LightMassPreset(
        name="quick", mass=0.1, theta=math.pi / 4, physical_volume=25.0, lattice_sizes=(10, 12, 14, 16, 18, 20),
        samples=100, chains=16, thermalization=100, instanton_moves=2, mass_steps=(0.5, 0.75, 1.0),
        fv_lattices=(1,), fv_sizes=((8, 16),), chain_lengths=(8.0, 12.0),
        hamiltonian_spacings=(0.5, 0.4, 1.0 / 3.0)),
    "full": LightMassPreset(
        name="full", mass=0.1, theta=math.pi / 4, physical_volume=25.0,
        lattice_sizes=(10, 12, 14, 16, 18, 20, 22, 24), samples=300, chains=16, thermalization=100,
        instanton_moves=2, mass_steps=(0.5, 0.75, 1.0), fv_lattices=(1,), fv_sizes=((8, 16),),
        chain_lengths=(8.0, 12.0), hamiltonian_spacings=(0.5, 0.4, 1.0 / 3.0)),
    # the full series with twice the samples and a second finite-volume β (tori 10, 20 at β(14)), so the
    # a-dependence of the finite-volume ratio is measured, not the whole correction: ≈ 25–40 min CPU (`qlat crosscheck light-mass --preset long`,
    # ``light_mass("long")``; benchmarks/record_light_mass.py --preset long)
    "long": LightMassPreset(
        name="long", mass=0.1, theta=math.pi / 4, physical_volume=25.0,
        lattice_sizes=(10, 12, 14, 16, 18, 20, 22, 24), samples=600, chains=16, thermalization=100,
        instanton_moves=2, mass_steps=(0.5, 0.75, 1.0), fv_lattices=(1, 2), fv_sizes=((8, 16), (10, 20)),
        chain_lengths=(8.0, 12.0), hamiltonian_spacings=(0.5, 0.4, 1.0 / 3.0)),
}


# ------------------------------------------------------------------------------ analytic
#: E₊ = −8.91388, the O(m²) vacuum-energy integral: its one home is qlat.exact.continuum.
second_order_coefficient = mpt_second_order_integral


def second_order_values(mass: float, theta: float) -> dict[str, float]:
    r"""χ_t/g² and [ℰ(θ) − ℰ(0)]/g² to O(m²) (module docstring), and their O(m²) parts (``*_m2``)."""
    from qlat.exact import continuum

    chi = continuum.mpt_second_order_topological_susceptibility(mass=mass)
    energy = continuum.mpt_second_order_energy_density(theta, mass=mass)
    return {CHI_T: chi, ENERGY: energy, CHI_T + "_m2": chi - continuum.mpt_topological_susceptibility(mass=mass),
            ENERGY + "_m2": energy - float(continuum.mpt_energy_density(theta, mass=mass))}


def boson_mass(mass: float) -> float:
    """M = (μ² + 4πmΣ)^{1/2}: curvature of the bosonized potential ½μ²φ² − mΣ cos 2√πφ at φ = 0 (g = 1)."""
    from qlat.exact import continuum

    return math.sqrt(continuum.boson_mass() ** 2 + 4.0 * math.pi * mass * continuum.sigma())


# ------------------------------------------------------------------------------ Hamiltonian
def _chain_sites(length: float, spacing: float) -> int:
    n = length / spacing
    require(abs(n - round(n)) < 1e-9 and round(n) % 2 == 0 and round(n) >= 4, "chain_lengths",
            f"ℓ/a must be an even integer >= 4 at every spacing (a = {spacing:g})", length)
    return int(round(n))


def hamiltonian_light_mass_point(*, spacing: float, mass: float, lengths: tuple[float, float], theta: float,
                                 solver: Any, h: float = 0.2, formulation: str = "electric") -> dict[str, float]:
    """Bulk E''(0)/L and the θ-even [ℰ(θ) − ℰ(0)] per length of two chains with the mass shift.

    ``formulation``: ``"electric"`` (θ the background field: the θ of the topological charge) or
    ``"rotated"`` (θ in the mass phase: carries the contact term of the module docstring).
    """
    from qlat.theories.schwinger_qubit import SchwingerModel

    require(formulation in ("electric", "rotated"), "formulation", "must be electric or rotated", formulation)

    @functools.cache  # θ = ±h of the derivative may coincide with ±θ
    def ground(n: int, th: float) -> float:
        model = SchwingerModel(n_sites=n, spacing=spacing, mass=mass, theta=th, mass_shift=True,
                               formulation=formulation)  # type: ignore[arg-type]
        return float(solver.energy(solver.solve(model)))

    require(lengths[1] > lengths[0] > 0, "chain_lengths", "must be (ℓ1, ℓ2) with ℓ2 > ℓ1 > 0", lengths)
    sites = (_chain_sites(lengths[0], spacing), _chain_sites(lengths[1], spacing))
    # symmetrized in θ: the open chain has a boundary part odd in θ; E(θ) of the bulk is even
    return bulk_theta_point(ground, sites=sites, spacing=spacing, theta=theta, h=h, symmetric=True)


def _hamiltonian_column(p: LightMassPreset) -> dict[str, Any]:
    """The Hamiltonian points of the light-mass cross-check (runs in its own process when parallel)."""
    from qlat.analysis.ground_solvers import DMRGSolver, EDSolver

    solver: Any = DMRGSolver(p.bond_dim) if p.solver == "dmrg" else EDSolver()
    spacings = list(p.hamiltonian_spacings)
    values: dict[str, list[float]] = {CHI_T: [], ENERGY: []}
    for a in spacings:
        point = hamiltonian_light_mass_point(spacing=a, mass=p.mass, lengths=p.chain_lengths, theta=p.theta,
                                             solver=solver)
        for name in (CHI_T, ENERGY):
            values[name].append(point[name])
    shift = p.chain_lengths[1] - p.chain_lengths[0]
    longer = (p.chain_lengths[0] + shift, p.chain_lengths[1] + shift)
    long_point = hamiltonian_light_mass_point(spacing=max(spacings), mass=p.mass, lengths=longer, theta=p.theta,
                                              solver=solver)
    return {"spacings": spacings, "values": values, "longer": longer, "long_point": long_point,
            "spec": solver.spec()}


def _hamiltonian_row(p: LightMassPreset, ham: dict[str, Any], result: CrossCheckResult) -> dict[str, Estimate]:
    """a → 0 of the Hamiltonian points: linear in a, systematics from the fit model and the chain lengths."""
    from qlat.analysis.extrapolation import fit_polynomial

    spacings = np.asarray(ham["spacings"], dtype=float)
    coarsest, longer = float(spacings.max()), ham["longer"]
    row = {}
    for name in (CHI_T, ENERGY):
        y = ham["values"][name]
        for a, v in zip(spacings, y, strict=True):
            result.points.append({"column": "hamiltonian", "observable": name, "x": float(a), "value": v,
                                  "error": 0.0, "chain_lengths": list(p.chain_lengths), "solver": p.solver})
        fit = fit_polynomial(spacings, y, degree=1)
        est = fit.value_at(0.0, name=name, unit=UNIT)
        variants = {"linear in a²": fit_polynomial(spacings**2, y, degree=1).coefficients[0]}
        if spacings.size >= 4:
            variants["quadratic in a"] = fit_polynomial(spacings, y, degree=2).coefficients[0]
        spread = max(abs(v - est.value) for v in variants.values())
        at_coarsest = y[int(np.argmax(spacings))]
        summary = fit.summary()
        result.fits[f"hamiltonian:{name}"] = summary
        row[name] = Estimate(
            est.value, est.error, name=name, unit=UNIT, n_samples=len(y), backend=p.solver,
            provenance=provenance(extrapolation=summary, mass=p.mass, chain_lengths=list(p.chain_lengths),
                                  formulation="electric", mass_shift=True, ground_state=ham["spec"],
                                  fit_variants={k: float(v) for k, v in variants.items()}),
        ).with_systematic({
            "continuum fit model (c0 + c1 a + c2 a^2 vs " + " / ".join(variants) + ")": spread,
            f"chain length (ℓ = {longer} vs {p.chain_lengths} at a = {coarsest:.3g})":
                abs(at_coarsest - ham["long_point"][name]),
        })
    return row


# ------------------------------------------------------------------------------ Monte Carlo
def _lagrange(nodes: list[Any], values: list[Any], at: float) -> Any:
    """The interpolating polynomial through (nodes, values) at ``at`` (arithmetic only: autograd-safe)."""
    total = 0.0
    for k, (xk, yk) in enumerate(zip(nodes, values, strict=True)):
        weight = 1.0
        for j, xj in enumerate(nodes):
            if j != k:
                weight = weight * (at - xj) / (xk - xj)
        total = total + weight * yk
    return total


#: fewest configurations a charge stratum must hold; sectors beyond are pooled into the tail |Q| ≥ k
STRATUM_MIN_COUNT = 20


def quenched_charge_distribution(beta: float, L: int, *, q_max: int = 12) -> np.ndarray:
    r"""P(|Q| = k), k = 0…q_max, of the pure-gauge Wilson action on the L×L torus (exact).

    P(Q) = (1/2π)∫dθ e^{−iθQ} Z(θ)/Z(0) with Z(θ) of the character expansion
    (:func:`qlat.exact.u1_character_expansion.log_partition_function_theta`; Wiese 1989, Bonati & Rossi
    arXiv:1901.09830), by the trapezoidal rule on M = 64 angles (exact for a periodic Z up to the
    aliased P(Q ± M)).  The entries sum to 1 − P(|Q| > q_max).
    """
    from qlat.exact import u1_character_expansion as exact_u1

    n_theta = 64
    thetas = 2.0 * math.pi * np.arange(n_theta) / n_theta - math.pi
    log_z0 = exact_u1.log_partition_function_theta(beta, L, 0.0)
    ratio = np.array([math.exp(exact_u1.log_partition_function_theta(beta, L, float(t)) - log_z0) for t in thetas])
    k = np.arange(q_max + 1)
    p_signed = (np.cos(np.outer(k, thetas)) @ ratio) / n_theta
    return np.where(k == 0, 1.0, 2.0) * np.clip(p_signed, 0.0, None)


def _strata(q: np.ndarray, probabilities: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """The charge strata |Q| = 0, 1, …, k−1 and the tail |Q| ≥ k with their exact probabilities.

    Each stratum holds ≥ :data:`STRATUM_MIN_COUNT` configurations (a sector with fewer, or whose
    successors together hold fewer, starts the tail); returns (indicator series, probability).
    """
    absq = np.rint(np.abs(q)).astype(int)
    out: list[tuple[np.ndarray, float]] = []
    k = 0
    while True:
        this, beyond = int((absq == k).sum()), int((absq > k).sum())
        if k >= probabilities.size - 1 or this < STRATUM_MIN_COUNT or beyond < STRATUM_MIN_COUNT:
            tail = max(0.0, 1.0 - float(np.sum(probabilities[:k])))
            out.append(((absq >= k).astype(float), tail))
            return out
        out.append(((absq == k).astype(float), float(probabilities[k])))
        k += 1


def stratified_series(observables: list[np.ndarray], q: np.ndarray,
                      probabilities: np.ndarray | None) -> tuple[list[np.ndarray], Any]:
    r"""Primary series and the map from their means to ⟨Oᵢ⟩, post-stratified in the topological charge.

    Plain (``probabilities`` None): the series are the observables, the map the identity.
    Stratified: the pure-gauge chain visits the sectors at random, but their probabilities pₕ are
    known exactly (:func:`quenched_charge_distribution`), so the multinomial noise of the visits is
    removed: ⟨O⟩ = Σₕ pₕ ⟨O 1ₕ⟩/⟨1ₕ⟩ (post-stratification, e.g. Cochran, *Sampling Techniques*
    §5A.9), a derived quantity of the means of O·1ₕ and 1ₕ whose Γ-method error keeps the
    autocorrelations.  Unbiased up to the O(1/n) of a ratio, like ⟨O w⟩/⟨w⟩ itself.  At light
    mass it is what makes the reweighted χ_t precise: ⟨Q² w⟩/⟨w⟩ counts rare |Q| ≥ 1 visits
    (the weight suppresses them), the stratified form needs only the mean weight in each sector.
    """
    if probabilities is None:
        return list(observables), lambda means: list(means)
    strata = _strata(q, np.asarray(probabilities, dtype=float))
    n_obs, n_h = len(observables), len(strata)
    prim = [ind for ind, _ in strata] + [o * ind for o in observables for ind, _ in strata]
    probs = [p for _, p in strata]

    def to_means(means: Any) -> list[Any]:
        counts = means[:n_h]
        out = []
        for i in range(n_obs):
            total = 0.0
            for h in range(n_h):
                total = total + probs[h] * means[n_h + i * n_h + h] / counts[h]
            out.append(total)
        return out

    return prim, to_means


def tune_to_pcac_mass(series: dict[str, np.ndarray], *, target: float, spacing: float, volume_g2: float,
                      theta: float, masses: list[float],
                      charge_distribution: np.ndarray | None = None) -> dict[str, Any]:
    r"""Observables at m_PCAC = ``target`` by Lagrange interpolation over the bare masses, with Γ-method errors.

    ``series`` holds arrays ``(K, n, chains)`` measured on the same pure-gauge configurations for
    each of the K bare masses m₀ₖ: ``w`` (reweighting factor sign·|det D|/max), ``q`` (Q, the same
    for every k) and the PCAC sums ``num`` = −Σ_t ∂̃C_AP, ``den`` = 2Σ_t C_PP.  With
    mₖ = ⟨num w⟩ₖ/⟨den w⟩ₖ/a, χₖ = ⟨Q² w⟩ₖ/⟨w⟩ₖ/(g²V), ℰₖ = −log(⟨cos θQ w⟩ₖ/⟨w⟩ₖ)/(g²V) the result
    is Σₖ lₖ(target) Oₖ (lₖ the Lagrange weights of the nodes mₖ), one derived quantity of the 5K
    means.  ``charge_distribution``: the exact P(|Q| = k) of the ensemble's pure-gauge action; given,
    every mean is post-stratified in Q (:func:`stratified_series`).  Returns the Estimates
    ``chi_t``, ``delta_energy_density``, ``m0`` (the tuned bare mass), ``m_pcac`` (list, one per
    bare mass), ``chi_t_fixed_nodes`` (χ_t with the interpolation weights frozen at the central mₖ:
    its error is the part of the error that does not come from the tuning, :func:`error_budget`)
    and ``bracketed`` (target inside [min mₖ, max mₖ]).
    """
    from qlat.analysis.statistics import derived_estimate

    w, q, num, den = series["w"], series["q"], series["num"], series["den"]
    K = w.shape[0]
    require(K >= 2 and len(masses) == K, "masses", "needs >= 2 bare masses, one per series row", masses)
    flat = []
    for k in range(K):
        flat += [w[k], q * q * w[k], np.cos(theta * q) * w[k], num[k] * w[k], den[k] * w[k]]
    prim, to_means = stratified_series(flat, q, charge_distribution)

    def unpack(primary_means: tuple[Any, ...]) -> tuple[list[Any], list[Any], list[Any]]:
        means = to_means(primary_means)
        m_k, chi_k, e_k = [], [], []
        for k in range(K):
            mw, qw, cw, nw, dw = means[5 * k:5 * k + 5]
            m_k.append(nw / dw / spacing)
            chi_k.append(qw / mw / volume_g2)
            e_k.append(-np.log(cw / mw) / volume_g2)
        return m_k, chi_k, e_k

    def chi(*means: Any) -> Any:
        m_k, chi_k, _ = unpack(means)
        return _lagrange(m_k, chi_k, target)

    def energy(*means: Any) -> Any:
        m_k, _, e_k = unpack(means)
        return _lagrange(m_k, e_k, target)

    def bare(*means: Any) -> Any:
        m_k, _, _ = unpack(means)
        return _lagrange(m_k, list(masses), target)

    def pcac(k: int) -> Any:
        return lambda *means: unpack(means)[0][k]

    out: dict[str, Any] = {
        CHI_T: derived_estimate(chi, *prim, name=CHI_T, unit=UNIT),
        ENERGY: derived_estimate(energy, *prim, name=ENERGY, unit=UNIT),
        "m0": derived_estimate(bare, *prim, name="m0"),
        "m_pcac": [derived_estimate(pcac(k), *prim, name="m_pcac", unit="g") for k in range(K)],
    }
    m_values = [e.value for e in out["m_pcac"]]
    frozen = [_lagrange(m_values, [1.0 if j == k else 0.0 for j in range(K)], target) for k in range(K)]
    out["chi_t_fixed_nodes"] = derived_estimate(
        lambda *means: sum(lk * ck for lk, ck in zip(frozen, unpack(means)[1], strict=True)), *prim, name=CHI_T,
        unit=UNIT)
    out["bracketed"] = min(m_values) <= target <= max(m_values)
    return out


def _fv_model_ratio(lengths: np.ndarray, values: np.ndarray, errors: np.ndarray, *, mass: float,
                    reference_length: float, form: str) -> tuple[float, float]:
    """χ_∞/χ(ℓ_ref) and its error from the weighted fit χ(ℓ) = c₀ + c₁ f(Mℓ)."""
    from qlat.analysis.extrapolation import fit_polynomial

    def f(x: np.ndarray | float) -> Any:
        x = np.asarray(x, dtype=float) * mass
        return np.exp(-x) if form == "exp" else np.exp(-x) / np.sqrt(x)

    fit = fit_polynomial(f(lengths), values, sigma=errors.tolist(), degree=1)
    c0, c1 = fit.coefficients
    x_ref = float(f(reference_length))
    at_ref = c0 + c1 * x_ref
    ratio = c0 / at_ref
    grad = np.array([c1 * x_ref, -c0 * x_ref]) / at_ref**2
    return float(ratio), float(math.sqrt(max(float(grad @ fit.covariance @ grad), 0.0)))


def finite_volume_ratio(lengths: Any, values: Any, errors: Any, *, boson_mass: float,
                        reference_length: float) -> dict[str, Any]:
    r"""Infinite-volume correction factor χ_∞/χ(ℓ_ref) of a torus observable measured at lengths ℓ = L a g.

    Weighted fit χ(ℓ) = c₀ + c₁ e^{−Mℓ} (the lightest state, of mass M, wrapping the torus),
    ratio c₀/(c₀ + c₁e^{−Mℓ_ref}) with its error from the fit covariance.  Model systematic: the
    largest change of the ratio under M → 0.75M, 1.33M, the form e^{−Mℓ}/√(Mℓ), and (≥ 3 tori)
    dropping the smallest torus.  Returns ``ratio``, ``error``, ``model`` (systematic) and ``variants``.
    """
    ell = np.asarray(lengths, dtype=float)
    y = np.asarray(values, dtype=float)
    s = np.asarray(errors, dtype=float)
    require(ell.size >= 2 and ell.size == y.size == s.size and np.unique(ell).size == ell.size, "lengths",
            "needs >= 2 distinct tori with one value and error each", ell.tolist())
    require(boson_mass > 0 and reference_length > 0, "boson_mass", "M and ℓ_ref must be > 0",
            (boson_mass, reference_length))
    ratio, error = _fv_model_ratio(ell, y, s, mass=boson_mass, reference_length=reference_length, form="exp")
    variants = {
        "M × 0.9": _fv_model_ratio(ell, y, s, mass=0.9 * boson_mass, reference_length=reference_length,
                                    form="exp")[0],
        "M × 1.1": _fv_model_ratio(ell, y, s, mass=1.1 * boson_mass, reference_length=reference_length,
                                    form="exp")[0],
        "e^{-Mℓ}/√(Mℓ)": _fv_model_ratio(ell, y, s, mass=boson_mass, reference_length=reference_length,
                                         form="sqrt")[0],
    }
    if ell.size >= 3:
        keep = ell > ell.min()
        variants["without the smallest torus"] = _fv_model_ratio(
            ell[keep], y[keep], s[keep], mass=boson_mass, reference_length=reference_length, form="exp")[0]
    model = max(abs(v - ratio) for v in variants.values())
    return {"ratio": ratio, "error": error, "model": model, "variants": variants}


def _ensemble(L: int, beta: float, p: LightMassPreset, *, seed: int, progress: bool) -> tuple[Any, np.ndarray, Any]:
    from qlat.core.lattice import Lattice
    from qlat.samplers.exact_determinant import HeatbathInstanton
    from qlat.theories.u1 import U1Theory

    theory = U1Theory(Lattice((L, L)), beta=beta)
    sampler = HeatbathInstanton(instanton_moves=p.instanton_moves, thermalization=p.thermalization)
    batch, _ = sampler.run(theory, p.samples, state=sampler.init_state(theory, chains=p.chains, seed=seed),
                           progress=progress)
    configs = batch.configurations.reshape(-1, 2, L, L)
    q = theory.topological_charge(configs).numpy().reshape(p.samples, p.chains)
    return configs, q, batch


def _fermions(configs: Any, L: int, beta: float, masses: list[float], p: LightMassPreset) -> dict[str, Any]:
    """Per bare mass: the N_f = 1 weights and the PCAC sums of both windows, ``(K, samples, chains)``."""
    from qlat.core.lattice import Lattice
    from qlat.theories.schwinger_wilson import SchwingerTheory
    from qlat.theories.wilson_dirac import pcac_from_propagator

    K, n = len(masses), configs.shape[0]
    logs, signs = np.empty((K, n)), np.empty((K, n))
    sums = {f"{kind}_{win}": np.empty((K, n)) for kind in ("num", "den") for win in PCAC_WINDOWS}
    theory = SchwingerTheory(Lattice((L, L)), beta=beta, mass=max(masses), nf=1)  # only its hopping terms are used
    chunk = 256
    for start in range(0, n, chunk):
        sel = slice(start, min(start + chunk, n))
        lg, sg, props = theory.dirac(configs[sel]).even_odd_masses(masses)
        logs[:, sel], signs[:, sel] = lg, sg
        for k in range(K):
            c_pp, c_ap = pcac_from_propagator(props[k], (L, L))
            for win, window in PCAC_WINDOWS.items():
                t = np.arange(*window(L))
                sums[f"num_{win}"][k, sel] = (-0.5 * (c_ap[:, t + 1] - c_ap[:, t - 1])).sum(axis=1)
                sums[f"den_{win}"][k, sel] = (2.0 * c_pp[:, t]).sum(axis=1)
    shape = (K, p.samples, p.chains)
    w = signs * np.exp(logs - logs.max(axis=1, keepdims=True))
    out = {"w": w.reshape(shape), "sign": signs.reshape(shape)}
    out.update({key: value.reshape(shape) for key, value in sums.items()})
    return out


def _reweighted(q: np.ndarray, w: np.ndarray, *, volume_g2: float, theta: float,
                charge_distribution: np.ndarray | None = None) -> dict[str, Estimate]:
    """χ_t and ℰ(θ) − ℰ(0) at one bare mass from ⟨O w⟩/⟨w⟩ (w = sign·|det D|/max, shapes (n, chains)),
    post-stratified in Q when the exact ``charge_distribution`` is given (:func:`stratified_series`)."""
    from qlat.analysis.statistics import derived_estimate

    prim, to_means = stratified_series([q * q * w, np.cos(theta * q) * w, w], q, charge_distribution)

    def chi(*means: Any) -> Any:
        qw, _, ww = to_means(means)
        return qw / ww / volume_g2

    def energy(*means: Any) -> Any:
        _, cw, ww = to_means(means)
        return -np.log(cw / ww) / volume_g2

    return {CHI_T: derived_estimate(chi, *prim, name=CHI_T, unit=UNIT),
            ENERGY: derived_estimate(energy, *prim, name=ENERGY, unit=UNIT)}


def _series_lattice(L: int, p: LightMassPreset, *, seed: int, progress: bool) -> dict[str, Any]:
    """One lattice of the continuum series: the ensemble, the bracket of bare masses, the tuned values."""
    from qlat.theories.schwinger_wilson import critical_mass

    beta = L * L / p.physical_volume
    ag = 1.0 / math.sqrt(beta)
    masses = [critical_mass(beta) + s * p.mass * ag for s in p.mass_steps]
    configs, q, batch = _ensemble(L, beta, p, seed=seed, progress=progress)
    ferm = _fermions(configs, L, beta, masses, p)
    p_q = quenched_charge_distribution(beta, L)
    tuned = {win: tune_to_pcac_mass({"w": ferm["w"], "q": q, "num": ferm[f"num_{win}"], "den": ferm[f"den_{win}"]},
                                    target=p.mass, spacing=ag, volume_g2=p.physical_volume, theta=p.theta,
                                    masses=masses, charge_distribution=p_q) for win in PCAC_WINDOWS}
    # the plain estimator ⟨Q² w⟩/⟨w⟩ beside it: the error budget's measure of what stratification removes
    plain = tune_to_pcac_mass({"w": ferm["w"], "q": q, "num": ferm["num_main"], "den": ferm["den_main"]},
                              target=p.mass, spacing=ag, volume_g2=p.physical_volume, theta=p.theta, masses=masses)
    w = ferm["w"]
    ess = [float(w[k].sum() ** 2 / (w[k] * w[k]).sum() / w[k].size) for k in range(len(masses))]
    diag = {"L": L, "beta": beta, "a_g": ag, "m_c_table": critical_mass(beta), "m0": masses,
            "m_pcac": [e.value for e in tuned["main"]["m_pcac"]],
            "m_pcac_error": [e.error for e in tuned["main"]["m_pcac"]],
            "tuned_m0": tuned["main"]["m0"].value, "tuned_m0_error": tuned["main"]["m0"].error,
            "tuned_kappa": 1.0 / (2.0 * tuned["main"]["m0"].value + 4.0), "bracketed": tuned["main"]["bracketed"],
            "average_sign": [float(ferm["sign"][k].mean()) for k in range(len(masses))], "reweighting_ess": ess,
            "quenched_chi_t": float(np.mean(q * q)) * beta / (L * L), "instanton_acceptance": batch.acceptance,
            "strata": [float(pk) for _, pk in _strata(q, p_q)],
            "chi_t_plain": plain[CHI_T].value,
            "chi_t_plain_error": plain[CHI_T].error,
            "chi_t_fixed_nodes_error": tuned["main"]["chi_t_fixed_nodes"].error}
    return {"tuned": tuned, "diag": diag}


def _fv_study(beta: float, sizes: list[int], m0: float, p: LightMassPreset, *, seed: int,
              progress: bool) -> list[dict[str, Any]]:
    """Independent ensembles at one β and bare mass m₀ on tori of the given sizes: χ_t, ℰ per size."""
    out = []
    for i, L in enumerate(sizes):
        configs, q, _ = _ensemble(L, beta, p, seed=seed + 7919 * i, progress=progress)
        ferm = _fermions(configs, L, beta, [m0], p)
        volume_g2 = L * L / beta
        values = _reweighted(q, ferm["w"][0], volume_g2=volume_g2, theta=p.theta,
                             charge_distribution=quenched_charge_distribution(beta, L))
        out.append({"L": L, "beta": beta, "length": L / math.sqrt(beta), "physical_volume": volume_g2,
                    "m0": m0, **{name: values[name] for name in (CHI_T, ENERGY)}})
    return out


def _continuum(xs: list[float], ests: list[Estimate], *, emit: bool = False) -> tuple[Any, float]:
    """a → 0 of the tuned values: the Akaike average over :data:`CONTINUUM_MODELS` and its scale factor.

    Wilson fermions have O(a) artifacts, the 1/β scheme of a²g² O(a²): the candidates are
    c₀ + c₁a, c₀ + c₂a² and c₀ + c₁a + c₂a², on all lattices and without the one or two coarsest,
    each with ≥ 1 degree of freedom, weighted by exp[−½(χ² + 2k + 2n_cut)]
    (:func:`~qlat.analysis.extrapolation.extrapolate_models`; Jay & Neil, arXiv:2008.01069).
    Returns the :class:`~qlat.analysis.extrapolation.ModelAverage` (error: the averaged fit error;
    systematic: the model and range spread) and the scale factor S of the preferred fit
    (:func:`_scale_factor`) by which the error is to be widened.
    """
    from qlat.analysis.extrapolation import extrapolate_models

    average = extrapolate_models(xs, [e.value for e in ests], sigma=[e.error for e in ests], models=CONTINUUM_MODELS,
                                 name=ests[0].name, unit=UNIT, backend="nf1-reweighted", source_prefix="a->0",
                                 min_dof=1, emit=emit)
    return average, _scale_factor(average.preferred.fit)


def _with_the_same_models(average: Any, xs: list[float], ests: list[Estimate]) -> float:
    """c̄₀ = Σ_M w_M c₀,M of other inputs (a variation of the analysis) fitted with the candidates and weights of
    ``average``: the variation's effect alone, without the noise of the Akaike weights moving between models."""
    from qlat.analysis.extrapolation import fit_powers

    x = np.asarray(xs, dtype=float)
    y = np.array([e.value for e in ests])
    s = np.array([e.error for e in ests])
    total = 0.0
    for cand in average.candidates:
        keep = np.isin(x, cand.fit.x)
        fit = fit_powers(x[keep], y[keep], sigma=s[keep].tolist(), powers=cand.model.powers)
        total += cand.weight * float(fit.coefficients[0])
    return total


def _scale_factor(fit: Any) -> float:
    """S = max(1, √(χ²/dof)) of a weighted fit (the PDG scale factor); 1 for dof = 0.

    When the lattices scatter more than their Γ-method errors allow (χ²/dof > 1), the fit's own
    covariance understates the intercept's error; S widens it by the observed scatter.
    """
    scale = max(1.0, math.sqrt(fit.chi2 / fit.dof)) if fit.dof > 0 else 1.0
    return float(scale)


def _monte_carlo(p: LightMassPreset, *, seed: int, progress: bool) -> dict[str, Any]:
    """Every Monte Carlo ensemble of the run (series and finite-volume studies)."""
    lattices = [_series_lattice(L, p, seed=seed + 1000 * i, progress=progress)
                for i, L in enumerate(p.lattice_sizes)]
    studies = []
    for j, (index, extra) in enumerate(zip(p.fv_lattices, p.fv_sizes, strict=True)):
        L_ref = p.lattice_sizes[index]
        beta = L_ref * L_ref / p.physical_volume
        m0 = lattices[index]["diag"]["tuned_m0"]
        sizes = sorted({L_ref, *extra})
        studies.append({"index": index, "L_ref": L_ref,
                        "tori": _fv_study(beta, sizes, m0, p, seed=seed + 500_000 + 100_000 * j, progress=progress)})
    return {"lattices": lattices, "fv": studies}


def _monte_carlo_row(p: LightMassPreset, mc: dict[str, Any], result: CrossCheckResult, *,
                     seed: int) -> dict[str, Estimate]:
    """Continuum × finite-volume correction, with every systematic named."""
    lattices, studies = mc["lattices"], mc["fv"]
    xs = [lat["diag"]["a_g"] for lat in lattices]
    m_boson = boson_mass(p.mass)
    ell_ref = math.sqrt(p.physical_volume)
    row = {}
    for name in (CHI_T, ENERGY):
        main = [lat["tuned"]["main"][name] for lat in lattices]
        alt = [lat["tuned"]["alternative"][name] for lat in lattices]
        for lat, est in zip(lattices, main, strict=True):
            result.points.append({"column": "monte carlo", "observable": name, "x": lat["diag"]["a_g"],
                                  "value": est.value, "error": est.error, "tau_int": est.tau_int, **lat["diag"]})
        average, scale = _continuum(xs, main)
        cont = average.value
        cont_err_fit = average.estimate.error
        cont_err = scale * cont_err_fit
        model_sources = average.estimate.provenance["systematic_sources"]
        fv = []
        for study in studies:
            tori = study["tori"]
            for t in tori:
                result.points.append({"column": "monte carlo (finite volume)", "observable": name,
                                      "x": t["length"], "value": t[name].value, "error": t[name].error,
                                      "L": t["L"], "beta": t["beta"], "physical_volume": t["physical_volume"],
                                      "m0": t["m0"]})
            fv.append(finite_volume_ratio([t["length"] for t in tori], [t[name].value for t in tori],
                                          [t[name].error for t in tori], boson_mass=m_boson,
                                          reference_length=ell_ref))
        r = fv[0]
        value = cont * r["ratio"]
        error = math.hypot(cont_err * r["ratio"], cont * r["error"])
        summary = average.summary()
        result.fits[f"monte carlo:{name}"] = summary
        models = " / ".join(m.name for m in CONTINUUM_MODELS)
        sources = {
            f"continuum fit model (Akaike average over {models}: spread within a range)":
                r["ratio"] * model_sources["a->0 fit_model"],
            "continuum fit range (all lattices / without the 1, 2 coarsest: spread between the ranges)":
                r["ratio"] * model_sources["a->0 fit_range"],
            "PCAC window (t in [3L/8, L/2) vs [L/4, L/2), the same continuum models)":
                r["ratio"] * abs(_with_the_same_models(average, xs, alt) - cont),
            "finite-volume model (M x 0.9 / x 1.1, e^{-Ml}/sqrt(Ml), smallest torus dropped)": abs(cont) * r["model"],
        }
        if len(fv) >= 2:
            sources[f"finite-volume a-dependence (ratio at a g = {xs[studies[1]['index']]:.3g} vs "
                    f"{xs[studies[0]['index']]:.3g})"] = abs(cont) * abs(fv[1]["ratio"] - r["ratio"])
        else:
            sources["finite-volume a-dependence (one β measured: the whole correction)"] = abs(value - cont)
        est = Estimate(value, error, name=name, unit=UNIT, n_samples=len(xs), backend="nf1-reweighted",
                       provenance=provenance(
                           extrapolation=summary, continuum=cont, continuum_error=cont_err,
                           continuum_error_unscaled=cont_err_fit, continuum_error_scale_factor=scale,
                           finite_volume=[{**f, "L_ref": s["L_ref"]} for f, s in zip(fv, studies, strict=True)],
                           physical_volume=p.physical_volume, lattice_sizes=list(p.lattice_sizes), nf=1,
                           method="exact-determinant reweighting of heatbath+instanton pure-gauge ensembles, "
                                  "post-stratified in Q with the exact quenched P(Q), bare mass tuned by the "
                                  "PCAC mass",
                           samples=p.samples, chains=p.chains, seed=seed,
                           boson_mass_of_the_fv_model=m_boson)).with_systematic(sources)
        if not all(lat["diag"]["bracketed"] for lat in lattices):
            outside = [lat["diag"]["L"] for lat in lattices if not lat["diag"]["bracketed"]]
            est = est.with_warning(f"the PCAC masses of the bare-mass bracket do not contain m = {p.mass:g} at L = "
                                   f"{outside}: the tuned values there are extrapolations")
        for message in average.estimate.warnings:
            est = est.with_warning(f"Monte Carlo a -> 0 of {name}: {message}")
        row[name] = est
    return row


# ------------------------------------------------------------------------------ error budget
def error_budget(result: CrossCheckResult, name: str = CHI_T) -> dict[str, float]:
    """Where the Monte Carlo column's total error comes from: every part as a fraction of |value|.

    ``total``, ``statistics`` (the continuum intercept's error, scale factor included, with the
    finite-volume ratio's), ``systematic: <source>`` for each named systematic; and the inputs
    of the statistics: ``per-lattice error (median)``, ``continuum amplification`` (σ(c₀) of the
    fit over the median per-lattice σ: how much the a → 0 extrapolation magnifies them, a
    factor), ``scale factor S``, ``finite-volume ratio error``, ``reweighting ESS (min)`` (Kish,
    per bare mass) and, for χ_t, ``per-lattice PCAC tuning (median)`` (√(σ² − σ²_frozen), σ_frozen
    with the interpolation weights fixed) and ``per-lattice error unstratified (median)`` (the
    plain ⟨Q²w⟩/⟨w⟩ on the same data).
    """
    est = result.crosscheck.entries["monte carlo"][name]
    prov = est.provenance
    scale = abs(est.value)
    lattices = [p for p in result.points if p["column"] == "monte carlo" and p["observable"] == name]
    rel = np.array([p["error"] / abs(p["value"]) for p in lattices])
    out = {"total": est.total_error / scale, "statistics": est.error / scale}
    out.update({f"systematic: {k}": v / scale for k, v in prov["systematic_sources"].items()})
    out["per-lattice error (median)"] = float(np.median(rel))
    if name == CHI_T:
        tuning = [math.sqrt(max(p["error"] ** 2 - p["chi_t_fixed_nodes_error"] ** 2, 0.0)) / abs(p["value"])
                  for p in lattices]
        out["per-lattice PCAC tuning (median)"] = float(np.median(tuning))
        out["per-lattice error unstratified (median)"] = float(np.median(
            [p["chi_t_plain_error"] / abs(p["chi_t_plain"]) for p in lattices]))
    out["continuum amplification"] = float(prov["continuum_error_unscaled"] / np.median([p["error"] for p in lattices]))
    out["scale factor S"] = float(prov["continuum_error_scale_factor"])
    out["finite-volume ratio error"] = float(prov["finite_volume"][0]["error"])
    out["reweighting ESS (min)"] = float(min(min(p["reweighting_ess"]) for p in lattices))
    return out


# ------------------------------------------------------------------------------ the table
def _analytic_rows(p: LightMassPreset) -> dict[str, dict[str, Estimate]]:
    from qlat.exact import continuum

    m, theta = p.mass, p.theta
    sigma = continuum.sigma()
    second = second_order_values(m, theta)
    c2 = second[CHI_T + "_m2"] / (m * sigma * m)  # χ_t = mΣ(1 + c₂ m + …)
    first = {CHI_T: m * sigma, ENERGY: m * sigma * (1.0 - math.cos(theta))}
    prov1 = provenance(source="first-order mass perturbation theory, qlat.exact.continuum", mass=m)
    prov2 = provenance(source="second-order mass perturbation theory (Adam 1997; arXiv:2206.05308 eq. 24), "
                              "qlat.analysis.light_mass_crosscheck.second_order_values",
                       mass=m, second_order_coefficient=second_order_coefficient(), c2=c2)
    rows: dict[str, dict[str, Estimate]] = {"analytic": {}, "analytic O(m²)": {}}
    for name in (CHI_T, ENERGY):
        extra = {"theta": theta} if name == ENERGY else {}
        rows["analytic"][name] = Estimate(first[name], 0.0, name=name, unit=UNIT, backend="analytic",
                                          provenance={**prov1, **extra}).with_systematic(
            {"truncation (the O(m²) term)": abs(second[name + "_m2"])})
        rows["analytic O(m²)"][name] = Estimate(second[name], 0.0, name=name, unit=UNIT, backend="analytic",
                                                provenance={**prov2, **extra}).with_systematic(
            {"truncation (heuristic: the O(m²) term × |c₂| m)": abs(second[name + "_m2"] * c2 * m)})
    return rows


def light_mass(preset: str | LightMassPreset = "quick", *, seed: int = 0, progress: bool = False,
               parallel: bool = True) -> CrossCheckResult:
    """Run the light-mass cross-check (module docstring) and return its table and data.

    ``parallel``: the Hamiltonian column runs in a second (spawned) process beside the Monte
    Carlo — the two cores of a laptop; the numbers are the same either way.  A script calling
    this must guard its top level with ``if __name__ == "__main__":`` (the spawned process
    imports it; ``examples/light_mass_crosscheck.py``), or pass ``parallel=False``.
    """
    if isinstance(preset, str):
        require(preset in LIGHT_MASS_PRESETS, "preset", f"must be one of {', '.join(LIGHT_MASS_PRESETS)}", preset)
        preset = LIGHT_MASS_PRESETS[preset]
    p = preset
    _check_preset(p)
    cc = CrossCheck(reference="hamiltonian")
    result = CrossCheckResult(kind="light-mass", preset=dict(p.__dict__), crosscheck=cc)

    pool = None
    if parallel:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        pending = pool.submit(_hamiltonian_column, p)
    try:
        ham = None if pool is not None else _hamiltonian_column(p)
        mc = _monte_carlo(p, seed=seed, progress=progress)
        if pool is not None:
            ham = pending.result()
    finally:
        if pool is not None:
            pool.shutdown()
    assert ham is not None
    cc.add("hamiltonian", _hamiltonian_row(p, ham, result))
    for label, row in _analytic_rows(p).items():
        cc.add(label, row)
    cc.add("monte carlo", _monte_carlo_row(p, mc, result, seed=seed))
    _notes(p, mc, result)
    return result


def _check_preset(p: LightMassPreset) -> None:
    sizes = list(p.lattice_sizes)
    require(len(sizes) >= 3 and sizes == sorted(set(sizes)) and all(L % 2 == 0 and L >= 4 for L in sizes),
            "lattice_sizes", "needs >= 3 distinct even sizes >= 4, ascending", p.lattice_sizes)
    require(len(p.hamiltonian_spacings) >= 3, "hamiltonian_spacings",
            "needs at least 3 spacings (a linear fit with a residual)", p.hamiltonian_spacings)
    require(p.solver in ("dmrg", "ed"), "solver", "must be dmrg or ed", p.solver)
    require(p.mass > 0, "mass", "must be > 0", p.mass)
    steps = list(p.mass_steps)
    require(len(steps) >= 2 and steps == sorted(set(steps)), "mass_steps", "needs >= 2 distinct steps, ascending",
            p.mass_steps)
    require(len(p.fv_lattices) >= 1 and len(p.fv_lattices) == len(p.fv_sizes)
            and all(0 <= i < len(sizes) for i in p.fv_lattices), "fv_lattices",
            "needs >= 1 index into lattice_sizes, one fv_sizes entry each", (p.fv_lattices, p.fv_sizes))
    for index, extra in zip(p.fv_lattices, p.fv_sizes, strict=True):
        tori = {sizes[index], *extra}
        require(len(tori) >= 2 and all(L % 2 == 0 and L >= 4 for L in tori), "fv_sizes",
                "each study needs >= 1 extra even size >= 4 besides the series size", extra)


def _notes(p: LightMassPreset, mc: dict[str, Any], result: CrossCheckResult) -> None:
    cc = result.crosscheck
    mc_chi, ham_chi = cc.entries["monte carlo"][CHI_T], cc.entries["hamiltonian"][CHI_T]
    comparison = cc.comparison("monte carlo", CHI_T)
    z = comparison["z"]
    if z is not None and abs(z) > 3.0:
        from qlat.core.errors import warn

        warn(f"light-mass χ_t: Monte Carlo and the Hamiltonian differ by z = {z:+.1f}, beyond their listed errors")
    diags = [lat["diag"] for lat in mc["lattices"]]
    sigma = math.hypot(mc_chi.total_error, ham_chi.total_error)
    resolve = 3.0 * sigma
    zs = ", ".join(f"{label} z = {(cc.entries[label][CHI_T].value - mc_chi.value) / sigma:+.1f}"
                   for label in ("analytic", "analytic O(m²)"))
    result.notes.append(
        f"m/g = {p.mass:g}; Hamiltonian ({p.solver}, electric formulation, m − g²a/8): chains of ℓ g = "
        f"{p.chain_lengths}, a → 0; Monte Carlo: N_f = 1 Wilson on tori g²V = {p.physical_volume:g}, "
        f"L = {list(p.lattice_sizes)}, bare mass tuned to m_PCAC = m on each lattice, χ_t post-stratified in Q, a g → 0 by an Akaike "
        f"average of c0 + c1 a (+ c2 a²), c0 + c2 a² over fit ranges, finite "
        f"volume corrected; smallest average sign {min(min(d['average_sign']) for d in diags):.3f}, reweighting "
        f"ESS {min(min(d['reweighting_ess']) for d in diags):.2f}–{max(max(d['reweighting_ess']) for d in diags):.2f}.")
    result.notes.append(
        f"χ_t Monte Carlo − Hamiltonian = {comparison['difference']:+.5f} (z = {z:+.2f}); Monte Carlo total "
        f"error {mc_chi.total_error:.5f} = {100 * mc_chi.total_error / abs(mc_chi.value):.0f} % of its value "
        f"(statistics {mc_chi.error:.5f}; "
        + ", ".join(f"{k} {v:.5f}" for k, v in mc_chi.provenance["systematic_sources"].items()) + ").")
    result.notes.append(
        f"resolving power ({p.name} preset): this table separates values of χ_t/g² that differ by more than "
        f"3σ = {resolve:.5f} ({100 * resolve / abs(ham_chi.value):.0f} % of the Hamiltonian value); against the "
        f"Monte Carlo, {zs} (σ of MC ⊕ Hamiltonian).")
    per = "; ".join(
        f"a g = {d['a_g']:.3f}: m₀ = {d['tuned_m0']:.5f}({1e5 * d['tuned_m0_error']:.0f}e-5) "
        f"(table m_c + m a = {d['m_c_table'] + p.mass * d['a_g']:.5f}), m_PCAC over the bracket "
        + "/".join(f"{v:.4f}" for v in d["m_pcac"]) for d in diags)
    result.notes.append(f"mass tuning by the PCAC mass (target m = {p.mass:g}): {per}.")
    budget = error_budget(result)
    fractions = ", ".join(f"{k} {100 * v:.1f} %" for k, v in budget.items()
                          if k not in ("continuum amplification", "scale factor S", "reweighting ESS (min)"))
    result.notes.append(
        f"error budget of the Monte Carlo χ_t (fractions of its value): {fractions}; continuum amplification "
        f"{budget['continuum amplification']:.1f}× the median per-lattice error, scale factor S = "
        f"{budget['scale factor S']:.2f}, smallest reweighting ESS {budget['reweighting ESS (min)']:.2f}.")
