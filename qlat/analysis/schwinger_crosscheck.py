r"""Classical ↔ quantum cross-check of the Schwinger model: one table, every column in units of g.

**Heavy mass** (``heavy_mass``).  For m ≫ g the fermions decouple and the Schwinger model is
pure U(1) gauge theory with a background field θ (Coleman 1976; docs/references.md):

.. math:: ℰ(θ) − ℰ(0) = \frac{g^2}{2}\Big(\frac{θ}{2π}\Big)^2 \;(|θ| ≤ π), \qquad
          χ_t = ℰ''(0) = \frac{g^2}{4π^2} = 0.025330\,g^2 .

Columns:

- ``analytic``: these values (the reference of the z-scores).
- ``character``: the exact lattice values of the Euclidean U(1) theory on the same L×L tori as
  the Monte Carlo (character expansion, :mod:`qlat.exact.u1_character_expansion`), continuum-extrapolated the same
  way — it separates the extrapolation systematics from the Monte Carlo statistics.
- ``monte carlo``: pure-gauge ensembles (U(1) heatbath + Q → Q ± 1 instanton Metropolis,
  :class:`~qlat.samplers.exact_determinant.HeatbathInstanton`; without the instanton moves the
  topology freezes at these β) at β = L²/(g²A) for fixed physical volume g²A.  The coupling in
  lattice units is taken in the plaquette scheme a²g² = 2(1 − ⟨P⟩) = 1/β + O(1/β²) (its lattice
  artifacts are about half those of 1/β; same continuum limit), so
  χ_t/g² = ⟨Q²⟩/(V a²g²) and ℰ(θ) − ℰ(0) = −log⟨cos θQ⟩/(V a²g²) by reweighting in Q
  (Γ-method errors with the plaquette fluctuations propagated).
- ``ed``: exact diagonalization of the staggered Hamiltonian in the electric formulation at
  m/g = ``ed_mass``, χ_t = E₀''(0) per unit length from bulk differences of two chain lengths,
  [E(N₂) − E(N₁)]/((N₂ − N₁)a) (removes the open-boundary energy), E'' by Richardson-improved
  central differences in θ, extrapolated a → 0; the remainder of the heavy-mass limit is
  estimated from a second run at m/2 (corrections ∝ 1/m²) and quoted as a systematic error.

*Continuum limits* (:func:`continuum_estimate`): every column is extrapolated over a set of fit
models — polynomials in the column's variable (a²g² for the tori, ag for the chains) of degree
1 … ``fit_degree`` on every fit range that leaves out up to ``fit_drops`` of the coarsest lattices
— and Akaike-averaged (:func:`qlat.analysis.extrapolation.extrapolate_models`); the Monte Carlo
column, whose points are noisy, only over what they can test (degree ≤ 2, at most one coarse
torus left out, a degree of freedom left in every fit).  The averaged fit
error is the ``error``, the spread of the models the systematic sources ``a->0 fit_model`` and
``a->0 fit_range``; a limit no model with a degree of freedom can test warns.  A straight line
through the four quick-preset tori misses the continuum by 4.7σ (χ_t) and 5.4σ (ℰ) of its own
error: the data curve.

*Finite volume*: the tori have the fixed physical area g²A, whose continuum values differ from
the infinite-volume ones by the exact flux-sector sum of the pure gauge theory on a torus
(:func:`qlat.exact.continuum.quenched_torus_topological_susceptibility`; −0.18 % for χ_t at
g²A = 20, comparable with the extrapolation errors), so the ``character`` and ``monte carlo``
columns are corrected by that shift (``finite_volume_correction`` in their provenance).

z-scores: :class:`~qlat.analysis.crosscheck.CrossCheck`, whose σ is √(error² + systematic²) of both
sides (:meth:`~qlat.core.estimate.Estimate.z_score`).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.analysis.crosscheck import CrossCheck
from qlat.analysis.extrapolation import FitModel, extrapolate_models, fit_polynomial, model_set
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance

CHI_T = "chi_t"
ENERGY = "delta_energy_density"
UNIT = "g^2"


@dataclass(frozen=True)
class HeavyMassPreset:
    """Parameters of one heavy-mass cross-check run.

    physical_volume: g²A = V/β of the Euclidean tori (fixed while β → ∞).
    lattice_sizes: L of the L×L tori, β = L²/(g²A).
    samples, chains, thermalization, instanton_moves: the Monte Carlo ensembles.
    fit_degree: the largest polynomial degree in a²g² = 2(1 − ⟨P⟩) among the continuum models (1 … fit_degree).
    theta: θ of the energy-density row (|θ| < π).
    ed_mass: m/g of the Hamiltonian side; ed_sites: (N₁, N₂) for the bulk differences;
    ed_spacings: lattice spacings ag of the ED continuum extrapolation.
    fit_drops: the fit ranges leave out 0 … fit_drops of the coarsest lattices.
    ed_fit_degree: the largest polynomial degree in ag of the ED continuum models.
    mc_fit_degree, mc_fit_drops: the same for the Monte Carlo column, whose candidates must also keep a
        degree of freedom (on noisy points a cubic, or a fit through as many points as parameters, follows the
        noise: on the recorded full run it moves χ_t by +0.008).
    """

    name: str
    physical_volume: float
    lattice_sizes: tuple[int, ...]
    samples: int
    chains: int
    thermalization: int
    instanton_moves: int
    fit_degree: int
    theta: float
    ed_mass: float
    ed_sites: tuple[int, int]
    ed_spacings: tuple[float, ...]
    fit_drops: int = 2
    ed_fit_degree: int = 2
    mc_fit_degree: int = 2
    mc_fit_drops: int = 1

    @staticmethod
    def models_for(*, fit_degree: int, fit_drops: int) -> tuple[FitModel, ...]:
        """Polynomials of degree 1 … ``fit_degree`` on the ranges without 0 … ``fit_drops`` coarsest points."""
        return model_set(degrees=range(1, fit_degree + 1), drops=range(fit_drops + 1))

    def models(self) -> tuple[FitModel, ...]:
        """The continuum models of the tori (character and Monte Carlo columns)."""
        return self.models_for(fit_degree=self.fit_degree, fit_drops=self.fit_drops)

    def mc_models(self) -> tuple[FitModel, ...]:
        """The continuum models of the Monte Carlo column: what noisy data can test (degree ≤ 2, one range less)."""
        return self.models_for(fit_degree=self.mc_fit_degree, fit_drops=self.mc_fit_drops)

    def ed_models(self) -> tuple[FitModel, ...]:
        """The continuum models of the ED column."""
        return self.models_for(fit_degree=self.ed_fit_degree, fit_drops=self.fit_drops)


HEAVY_MASS_PRESETS: dict[str, HeavyMassPreset] = {
    "quick": HeavyMassPreset(
        name="quick", physical_volume=20.0, lattice_sizes=(10, 12, 14, 16), samples=800, chains=16,
        thermalization=100, instanton_moves=2, fit_degree=3, theta=math.pi / 4, ed_mass=10.0,
        ed_sites=(10, 12), ed_spacings=(1.0, 0.5, 1.0 / 3.0, 0.25)),
    "full": HeavyMassPreset(
        name="full", physical_volume=20.0, lattice_sizes=(10, 12, 14, 16, 18, 20), samples=4000, chains=16,
        thermalization=200, instanton_moves=2, fit_degree=3, theta=math.pi / 4, ed_mass=20.0,
        ed_sites=(14, 16), ed_spacings=(1.0, 0.5, 1.0 / 3.0, 0.25, 0.2)),
}


@dataclass
class CrossCheckResult:
    """A cross-check table with the data behind it (per-point rows, fits) and the preset used."""

    kind: str
    preset: dict[str, Any]
    crosscheck: CrossCheck
    points: list[dict[str, Any]] = field(default_factory=list)
    fits: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        return self.crosscheck.table()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "preset": self.preset, "table": self.crosscheck.to_dict(),
                "points": self.points, "fits": self.fits, "notes": self.notes}

    def csv_text(self) -> str:
        """One row per (column, observable) result, then one row per data point."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["kind", "column", "observable", "x", "value", "error", "systematic", "z_vs_reference"])
        cc = self.crosscheck
        for label, row in cc.entries.items():
            for name, est in row.items():
                z = None if label == cc.reference else cc.comparison(label, name)["z"]
                w.writerow(["result", label, name, "", repr(est.value), repr(est.error), repr(est.systematic),
                            "" if z is None else f"{z:.4f}"])
        for p in self.points:
            w.writerow(["point", p["column"], p["observable"], repr(p["x"]), repr(p["value"]), repr(p["error"]),
                        "", ""])
        return buf.getvalue()

    def plot(self, path: Any) -> None:
        """χ_t/g² vs the lattice spacing (Monte Carlo, exact lattice, fits, analytic) and the ED values vs ag."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        light = self.kind == "light-mass"
        mc_axis = (("monte carlo", "monte carlo (big volume)"), "a g") if light else (
            ("monte carlo", "character"), "a²g² = 2(1 − ⟨P⟩)")
        analytic = self.crosscheck.entries.get("analytic", {}).get(CHI_T)
        ref_value = analytic.value if analytic is not None else 1.0 / (4.0 * math.pi**2)
        ref_label = "mΣ (first order)" if light else "1/(4π²)"
        ham_columns = ("hamiltonian",) if light else ("ed",)
        for ax, col, xlabel in ((axes[0], *mc_axis), (axes[1], ham_columns, "a g")):
            for c, marker in zip(col, ("o", "s")):
                pts = [p for p in self.points if p["column"] == c and p["observable"] == CHI_T]
                if not pts:
                    continue
                x = np.array([p["x"] for p in pts])
                y = np.array([p["value"] for p in pts])
                e = np.array([p["error"] for p in pts])
                bars = ax.errorbar(x, y, yerr=e, fmt=marker, label=c, capsize=2)
                fit = self.fits.get(f"{c}:{CHI_T}")
                if fit is not None:
                    xs = np.linspace(0.0, float(x.max()), 50)
                    coef = np.asarray(fit["coefficients"])
                    powers = fit.get("powers", range(coef.size))
                    ax.plot(xs, sum(c_k * xs**k for k, c_k in zip(powers, coef)), "-", lw=1,
                            color=bars[0].get_color(), label=f"{c} fit → 0")
            ax.axhline(ref_value, color="k", ls="--", lw=1, label=ref_label)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("χ_t / g²")
            ax.legend()
        fig.suptitle("light-mass Schwinger model (N_f = 1): χ_t/g² vs mΣ" if light
                     else "heavy-mass Schwinger model: χ_t/g² → 1/(4π²)")
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


# ------------------------------------------------------------------------------ helpers
def _fit_estimate(x: list[float], y: list[float], sigma: list[float] | None, *, degree: int, name: str,
                  backend: str, extra: dict[str, Any]) -> tuple[Estimate, dict[str, Any]]:
    """Polynomial extrapolation to x = 0; exact data (sigma None) get the error from the residuals."""
    fit = fit_polynomial(x, y, sigma=sigma, degree=degree)
    est = fit.value_at(0.0, name=name, unit=UNIT)
    summary = fit.summary()
    return Estimate(est.value, est.error, name=name, unit=UNIT, n_samples=len(x), backend=backend,
                    provenance=provenance(extrapolation=summary, **extra)), summary


def continuum_estimate(x: list[float], y: list[float], sigma: list[float] | None, *, models: tuple[FitModel, ...],
                       name: str, backend: str, extra: dict[str, Any], min_dof: int = 0,
                       emit: bool = True) -> tuple[Estimate, dict[str, Any]]:
    """a → 0 over the candidate ``models`` (Akaike average, :func:`~qlat.analysis.extrapolation.extrapolate_models`).

    Exact data (``sigma`` None) take their noise scale from the residuals; noisy data pass
    ``min_dof=1`` (an interpolation of noisy points tests nothing and only widens the average).  Returns the Estimate
    (error: averaged fit error; systematic: ``a->0 fit_model``, ``a->0 fit_range`` …; warnings of
    an untestable limit) and the JSON summary of every candidate.
    """
    average = extrapolate_models(x, y, sigma=sigma, models=models, name=name, unit=UNIT, backend=backend,
                                 source_prefix="a->0", min_dof=min_dof, emit=emit)
    summary = average.summary()
    return average.estimate.with_provenance(extrapolation=summary, **extra), summary


def finite_volume_corrected(est: Estimate, *, area: float, theta: float | None) -> Estimate:
    """``est`` (a continuum value on a torus of area g²A = ``area``) moved to infinite volume.

    Adds the exact continuum shift of the heavy-mass limit, ℰ_∞ − ℰ_A (``theta`` given) or
    χ_∞ − χ_A (``theta`` None), :mod:`qlat.exact.continuum`; recorded as ``finite_volume_correction``.
    """
    from dataclasses import replace

    from qlat.exact import continuum

    if theta is None:
        shift = continuum.quenched_topological_susceptibility() - continuum.quenched_torus_topological_susceptibility(
            area=area)
    else:
        shift = float(continuum.quenched_energy_density(theta)) - float(
            continuum.quenched_torus_energy_density(theta, area=area))
    return replace(est, value=est.value + shift,
                   provenance={**est.provenance, "finite_volume_correction": shift,
                               "finite_volume_note": f"+ exact continuum torus shift (g²A = {area:g} → ∞)"})


def _second_derivative(energy: Callable[[float], float], h: float) -> float:
    """E''(0) by Richardson-improved central differences: (4D(h/2) − D(h))/3, D(h) = [E(h)+E(−h)−2E(0)]/h²."""
    e0 = energy(0.0)

    def d(step: float) -> float:
        return (energy(step) + energy(-step) - 2.0 * e0) / (step * step)

    return (4.0 * d(0.5 * h) - d(h)) / 3.0


def bulk_theta_point(ground: Callable[[int, float], float], *, sites: tuple[int, int], spacing: float,
                     theta: float, h: float = 0.2, symmetric: bool = False) -> dict[str, float]:
    """Bulk E''(0) and ℰ(θ) − ℰ(0) per unit length from the ground energies ``ground(N, θ)`` of two chains.

    [X(N₂) − X(N₁)]/((N₂ − N₁)a) removes the open-boundary part; ``symmetric`` averages ℰ(±θ)
    (the θ-even part).
    """
    n1, n2 = sites
    require(n2 > n1, "sites", "must be (N1, N2) with N2 > N1", sites)
    length = (n2 - n1) * spacing
    d2 = [_second_derivative(functools.partial(ground, n), h) for n in (n1, n2)]
    if symmetric:
        de = [0.5 * (ground(n, theta) + ground(n, -theta)) - ground(n, 0.0) for n in (n1, n2)]
    else:
        de = [ground(n, theta) - ground(n, 0.0) for n in (n1, n2)]
    return {CHI_T: (d2[1] - d2[0]) / length, ENERGY: (de[1] - de[0]) / length}


def ed_heavy_mass_point(*, spacing: float, mass: float, sites: tuple[int, int], theta: float,
                        h: float = 0.2) -> dict[str, float]:
    """Bulk E''(0)/L and [ℰ(θ) − ℰ(0)] per unit length of the electric-formulation chain (ED)."""
    from qlat.exact.diagonalization import diagonalize_sector
    from qlat.theories.schwinger_qubit import SchwingerModel

    def ground(n: int, th: float) -> float:
        model = SchwingerModel(n_sites=n, spacing=spacing, mass=mass, theta=th, formulation="electric")
        return float(diagonalize_sector(model, k=1).energies[0])

    require(sites[1] > sites[0], "ed_sites", "must be (N1, N2) with N2 > N1", sites)
    return bulk_theta_point(ground, sites=sites, spacing=spacing, theta=theta, h=h)


def character_point(L: int, *, area: float, theta: float) -> dict[str, float]:
    """Exact lattice values on the L×L torus at β = L²/(g²A): x = a²g² = 2(1 − ⟨P⟩), χ_t/g², ℰ(θ) − ℰ(0).

    χ_t/g² = ⟨Q²⟩/(V a²g²), ℰ(θ) − ℰ(0) = −ln[Z(θ)/Z(0)]/(V a²g²) (character expansion, :mod:`qlat.exact.u1_character_expansion`).
    """
    from qlat.exact import u1_character_expansion as exact_u1

    beta = L * L / area
    volume = L * L
    plaq = exact_u1.mean_plaquette(beta, L)
    g2a2 = 2.0 * (1.0 - plaq)  # plaquette scheme: a²g²_P = 2(1 − ⟨P⟩) = 1/β + O(1/β²)
    dlogz = exact_u1.log_partition_function_theta(beta, L, theta) - exact_u1.log_partition_function(beta, L)
    return {"x": g2a2, "L": L, "beta": beta, "plaquette": plaq,
            CHI_T: exact_u1.topological_q2(beta, L) / (volume * g2a2), ENERGY: -dlogz / (volume * g2a2)}


def character_column(points: list[dict[str, float]], *, area: float, theta: float, models: tuple[FitModel, ...],
                     extra: dict[str, Any] | None = None,
                     emit: bool = True) -> tuple[dict[str, Estimate], dict[str, Any]]:
    """The exact-lattice column: :func:`character_point` values → a → 0 (:func:`continuum_estimate`) → infinite volume.

    Returns ({observable: Estimate}, {observable: fit summary}).
    """
    xs = [pt["x"] for pt in points]
    row: dict[str, Estimate] = {}
    fits: dict[str, Any] = {}
    for obs_name in (CHI_T, ENERGY):
        est, fits[obs_name] = continuum_estimate(xs, [pt[obs_name] for pt in points], None, models=models,
                                                 name=obs_name, backend="exact-lattice", extra=dict(extra or {}),
                                                 emit=emit)
        row[obs_name] = finite_volume_corrected(est, area=area, theta=None if obs_name == CHI_T else theta)
    return row, fits


def ed_column(*, spacings: tuple[float, ...], mass: float, sites: tuple[int, int], theta: float,
              models: tuple[FitModel, ...],
              emit: bool = True) -> tuple[dict[str, Estimate], dict[str, Any], list[dict[str, Any]]]:
    """The Hamiltonian column: ED at m and m/2 for each a (:func:`ed_heavy_mass_point`), a → 0, 1/m² remainder.

    The continuum value at m/2 gives the remainder of the heavy-mass limit: corrections ∝ 1/m²
    leave 1/3 of the m/2 → m change at m (systematic ``heavy-mass remainder``).  Returns
    ({observable: Estimate}, {observable: fit summary}, the points at m).
    """
    values: dict[str, dict[float, list[float]]] = {CHI_T: {}, ENERGY: {}}
    points: list[dict[str, Any]] = []
    for m in (mass, 0.5 * mass):
        for a in spacings:
            point = ed_heavy_mass_point(spacing=a, mass=m, sites=sites, theta=theta)
            for obs_name in (CHI_T, ENERGY):
                values[obs_name].setdefault(m, []).append(point[obs_name])
                if m == mass:
                    points.append({"column": "ed", "observable": obs_name, "x": a, "mass": m,
                                   "value": point[obs_name], "error": 0.0})
    row: dict[str, Estimate] = {}
    fits: dict[str, Any] = {}
    for obs_name in (CHI_T, ENERGY):
        est, fits[obs_name] = continuum_estimate(list(spacings), values[obs_name][mass], None, models=models,
                                                 name=obs_name, backend="ed",
                                                 extra={"mass": mass, "sites": list(sites), "formulation": "electric",
                                                        "theta": theta}, emit=emit)
        half, _ = continuum_estimate(list(spacings), values[obs_name][0.5 * mass], None, models=models,
                                     name=obs_name, backend="ed", extra={}, emit=False)
        remainder = abs(est.value - half.value) / 3.0
        row[obs_name] = est.with_systematic({"heavy-mass remainder (1/m² from m/2)": remainder})
    return row, fits, points


# ------------------------------------------------------------------------------ heavy mass
def heavy_mass(preset: str | HeavyMassPreset = "quick", *, seed: int = 0, progress: bool = False,
               monte_carlo_points: list[dict[str, Any]] | None = None) -> CrossCheckResult:
    """Run the heavy-mass cross-check (module docstring) and return its table and data.

    ``monte_carlo_points``: the ``"monte carlo"`` points of an earlier result of the same preset
    (``result.to_dict()["points"]``, e.g. a recorded JSON): the Monte Carlo column is then
    re-analysed from them instead of sampled again (the exact columns are recomputed).
    """
    from qlat.analysis.statistics import derived_estimate
    from qlat.core.lattice import Lattice
    from qlat.exact import continuum
    from qlat.samplers.exact_determinant import HeatbathInstanton
    from qlat.theories.u1 import U1Theory

    if isinstance(preset, str):
        require(preset in HEAVY_MASS_PRESETS, "preset", f"must be one of {', '.join(HEAVY_MASS_PRESETS)}", preset)
        preset = HEAVY_MASS_PRESETS[preset]
    p = preset
    theta = p.theta
    cc = CrossCheck(reference="analytic")
    result = CrossCheckResult(kind="heavy-mass", preset=dict(p.__dict__), crosscheck=cc)
    analytic_chi = continuum.quenched_topological_susceptibility()
    analytic_e = float(continuum.quenched_energy_density(theta))
    prov = provenance(source="continuum heavy-mass limit, qlat.exact.continuum")
    cc.add("analytic", {
        CHI_T: Estimate(analytic_chi, 0.0, name=CHI_T, unit=UNIT, backend="analytic", provenance=prov),
        ENERGY: Estimate(analytic_e, 0.0, name=ENERGY, unit=UNIT, backend="analytic",
                         provenance={**prov, "theta": theta}),
    })

    # --- Euclidean U(1): exact lattice values and Monte Carlo at fixed physical volume
    xs: list[float] = []
    data: dict[str, dict[str, list[float]]] = {"monte carlo": {CHI_T: [], ENERGY: [], "err_" + CHI_T: [],
                                                               "err_" + ENERGY: []}}
    sampler = HeatbathInstanton(instanton_moves=p.instanton_moves, thermalization=p.thermalization)
    char_points: list[dict[str, float]] = []
    recorded: dict[tuple[int, str], dict[str, Any]] = {}
    if monte_carlo_points is not None:
        recorded = {(int(pt["L"]), str(pt["observable"])): pt for pt in monte_carlo_points
                    if pt.get("column") == "monte carlo"}
        missing = [L for L in p.lattice_sizes for o in (CHI_T, ENERGY) if (L, o) not in recorded]
        require(not missing, "monte_carlo_points", f"must hold both observables at every L of the preset "
                f"{list(p.lattice_sizes)}", sorted(set(missing)))
    for i, L in enumerate(p.lattice_sizes):
        exact_point = character_point(L, area=p.physical_volume, theta=theta)
        char_points.append(exact_point)
        beta, volume, g2a2 = exact_point["beta"], L * L, exact_point["x"]
        xs.append(g2a2)
        for obs_name in (CHI_T, ENERGY):
            result.points.append({"column": "character", "observable": obs_name, "x": g2a2, "L": L, "beta": beta,
                                  "value": float(exact_point[obs_name]), "error": 0.0,
                                  "plaquette": exact_point["plaquette"]})
        if recorded:
            for obs_name in (CHI_T, ENERGY):
                pt = dict(recorded[(L, obs_name)])
                data["monte carlo"][obs_name].append(float(pt["value"]))
                data["monte carlo"]["err_" + obs_name].append(float(pt["error"]))
                result.points.append(pt)
            continue
        theory = U1Theory(Lattice((L, L)), beta=beta)
        batch, _ = sampler.run(theory, p.samples,
                               state=sampler.init_state(theory, chains=p.chains, seed=seed + 1000 * i),
                               progress=progress)
        configs = batch.configurations.reshape(-1, 2, L, L)
        q = theory.topological_charge(configs).numpy().reshape(p.samples, p.chains)
        pl = theory.mean_plaquette(configs).numpy().reshape(p.samples, p.chains)
        chi = derived_estimate(lambda q2, P, V=volume: q2 / (V * 2.0 * (1.0 - P)), q * q, pl)
        energy = derived_estimate(lambda c, P, V=volume: -np.log(c) / (V * 2.0 * (1.0 - P)), np.cos(theta * q), pl)
        mc_values = {CHI_T: chi, ENERGY: energy}
        for obs_name in (CHI_T, ENERGY):
            data["monte carlo"][obs_name].append(mc_values[obs_name].value)
            data["monte carlo"]["err_" + obs_name].append(mc_values[obs_name].error)
            common = {"observable": obs_name, "x": g2a2, "L": L, "beta": beta}
            result.points.append({"column": "monte carlo", **common, "value": mc_values[obs_name].value,
                                  "error": mc_values[obs_name].error, "tau_int": mc_values[obs_name].tau_int,
                                  "plaquette": float(pl.mean()), "instanton_acceptance": batch.acceptance})
    extra = {"physical_volume": p.physical_volume, "lattice_sizes": list(p.lattice_sizes),
             "scheme": "a^2 g^2 = 2(1 - <P>) (plaquette coupling)"}
    row_exact, char_fits = character_column(char_points, area=p.physical_volume, theta=theta, models=p.models(),
                                            extra=extra)
    row_mc = {}
    for obs_name in (CHI_T, ENERGY):
        result.fits[f"character:{obs_name}"] = char_fits[obs_name]
        est, summary = continuum_estimate(xs, data["monte carlo"][obs_name], data["monte carlo"]["err_" + obs_name],
                                          models=p.mc_models(), name=obs_name, backend="heatbath-instanton",
                                          extra={**extra, "samples": p.samples, "chains": p.chains, "seed": seed,
                                                 "reanalysed_from_recorded_points": bool(recorded)},
                                          min_dof=1)
        row_mc[obs_name] = finite_volume_corrected(est, area=p.physical_volume,
                                                   theta=None if obs_name == CHI_T else theta)
        result.fits[f"monte carlo:{obs_name}"] = summary
    cc.add("character", row_exact)
    cc.add("monte carlo", row_mc)

    # --- Hamiltonian side: ED at large mass, a → 0, heavy-mass remainder from m/2
    row_ed, ed_fits, ed_points = ed_column(spacings=p.ed_spacings, mass=p.ed_mass, sites=p.ed_sites, theta=theta,
                                           models=p.ed_models())
    result.points += ed_points
    for obs_name in (CHI_T, ENERGY):
        result.fits[f"ed:{obs_name}"] = ed_fits[obs_name]
    cc.add("ed", row_ed)
    if recorded:
        result.notes.append("the Monte Carlo column is re-analysed from recorded points (monte_carlo_points), "
                            "not sampled again")
    result.notes.append(
        f"Euclidean tori at fixed g²A = {p.physical_volume:g}, extrapolated in a²g² = 2(1 - <P>) over polynomials of "
        f"degree 1..{p.fit_degree} on ranges without up to {p.fit_drops} coarsest tori (Monte Carlo: degree "
        f"1..{p.mc_fit_degree}, up to {p.mc_fit_drops} left out, every fit with a degree of freedom; Akaike average, "
        f"the model spread is the systematic), then moved to infinite volume by the exact torus shift "
        f"({row_exact[CHI_T].provenance['finite_volume_correction']:+.2e} for χ_t); ED at m/g = {p.ed_mass:g}, bulk "
        f"differences N = {p.ed_sites}, a → 0 over degrees 1..{p.ed_fit_degree}.")
    return result
