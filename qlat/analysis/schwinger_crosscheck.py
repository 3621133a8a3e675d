r"""Classical ↔ quantum cross-check of the Schwinger model: one table, every column in units of g.

**Heavy mass** (``heavy_mass``).  For m ≫ g the fermions decouple and the Schwinger model is
pure U(1) gauge theory with a background field θ (Coleman 1976; docs/references.md):

.. math:: ℰ(θ) − ℰ(0) = \frac{g^2}{2}\Big(\frac{θ}{2π}\Big)^2 \;(|θ| ≤ π), \qquad
          χ_t = ℰ''(0) = \frac{g^2}{4π^2} = 0.025330\,g^2 .

Columns:

- ``analytic``: these values (the reference of the z-scores).
- ``character``: the exact lattice values of the Euclidean U(1) theory on the same L×L tori as
  the Monte Carlo (character expansion, :mod:`qlat.exact.u1`), continuum-extrapolated the same
  way — it separates the extrapolation systematics from the Monte Carlo statistics.
- ``monte carlo``: pure-gauge ensembles (U(1) heatbath + Q → Q ± 1 instanton Metropolis,
  :class:`~qlat.samplers.exact_determinant.HeatbathInstanton`; without the instanton moves the
  topology freezes at these β) at β = L²/(g²A) for fixed physical volume g²A.  The coupling in
  lattice units is taken in the plaquette scheme a²g² = 2(1 − ⟨P⟩) = 1/β + O(1/β²) (its lattice
  artifacts are about half those of 1/β; same continuum limit), so
  χ_t/g² = ⟨Q²⟩/(V a²g²) and ℰ(θ) − ℰ(0) = −log⟨cos θQ⟩/(V a²g²) by reweighting in Q
  (Γ-method errors with the plaquette fluctuations propagated), extrapolated in a²g² by a
  weighted polynomial fit.  The same fit applied to the exact lattice values (``character``)
  misses the analytic value by a bias that is added to the Monte Carlo result as its
  systematic error.
- ``ed``: exact diagonalization of the staggered Hamiltonian in the electric formulation at
  m/g = ``ed_mass``, χ_t = E₀''(0) per unit length from bulk differences of two chain lengths,
  [E(N₂) − E(N₁)]/((N₂ − N₁)a) (removes the open-boundary energy), E'' by Richardson-improved
  central differences in θ, extrapolated a → 0; the remainder of the heavy-mass limit is
  estimated from a second run at m/2 (corrections ∝ 1/m²) and quoted as a systematic error.

z-scores: :class:`TotalErrorCrossCheck`, i.e. :class:`~qlat.analysis.crosscheck.CrossCheck`
with σ = √(error² + systematic²) of both sides.
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
from qlat.analysis.extrapolation import fit_polynomial
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance

CHI_T = "chi_t"
ENERGY = "delta_energy_density"
UNIT = "g^2"


class TotalErrorCrossCheck(CrossCheck):
    """:class:`CrossCheck` whose z-scores use the total (statistical ⊕ systematic) errors."""

    def comparison(self, label: str, name: str) -> dict[str, Any]:
        out = super().comparison(label, name)
        est, ref = out["value"], out["reference"]
        if est is not None and ref is not None:
            sigma = math.hypot(est.total_error, ref.total_error)
            out["z"] = out["difference"] / sigma if sigma > 0 else None
        return out


@dataclass(frozen=True)
class HeavyMassPreset:
    """Parameters of one heavy-mass cross-check run.

    physical_volume: g²A = V/β of the Euclidean tori (fixed while β → ∞).
    lattice_sizes: L of the L×L tori, β = L²/(g²A).
    samples, chains, thermalization, instanton_moves: the Monte Carlo ensembles.
    fit_degree: polynomial degree in a²g² = 2(1 − ⟨P⟩) of the continuum extrapolation.
    theta: θ of the energy-density row (|θ| < π).
    ed_mass: m/g of the Hamiltonian side; ed_sites: (N₁, N₂) for the bulk differences;
    ed_spacings: lattice spacings ag of the ED continuum extrapolation (degree 1).
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


HEAVY_MASS_PRESETS: dict[str, HeavyMassPreset] = {
    "quick": HeavyMassPreset(
        name="quick", physical_volume=20.0, lattice_sizes=(10, 12, 14, 16), samples=800, chains=16,
        thermalization=100, instanton_moves=2, fit_degree=1, theta=math.pi / 4, ed_mass=10.0,
        ed_sites=(10, 12), ed_spacings=(1.0, 0.5, 0.25)),
    "full": HeavyMassPreset(
        name="full", physical_volume=20.0, lattice_sizes=(10, 12, 14, 16, 18, 20), samples=4000, chains=16,
        thermalization=200, instanton_moves=2, fit_degree=2, theta=math.pi / 4, ed_mass=20.0,
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
                    ax.plot(xs, sum(c_k * xs**k for k, c_k in enumerate(coef)), "-", lw=1,
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


# ------------------------------------------------------------------------------ heavy mass
def heavy_mass(preset: str | HeavyMassPreset = "quick", *, seed: int = 0, progress: bool = False) -> CrossCheckResult:
    """Run the heavy-mass cross-check (module docstring) and return its table and data."""
    from qlat.analysis.statistics import derived_estimate
    from qlat.core.lattice import Lattice
    from qlat.exact import continuum
    from qlat.exact import u1 as exact_u1
    from qlat.samplers.exact_determinant import HeatbathInstanton
    from qlat.theories.u1 import U1Theory

    if isinstance(preset, str):
        require(preset in HEAVY_MASS_PRESETS, "preset", f"must be one of {', '.join(HEAVY_MASS_PRESETS)}", preset)
        preset = HEAVY_MASS_PRESETS[preset]
    p = preset
    theta = p.theta
    cc = TotalErrorCrossCheck(reference="analytic")
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
    data: dict[str, dict[str, list[float]]] = {c: {CHI_T: [], ENERGY: [], "err_" + CHI_T: [], "err_" + ENERGY: []}
                                               for c in ("character", "monte carlo")}
    sampler = HeatbathInstanton(instanton_moves=p.instanton_moves, thermalization=p.thermalization)
    for i, L in enumerate(p.lattice_sizes):
        beta = L * L / p.physical_volume
        volume = L * L
        plaq = exact_u1.mean_plaquette(beta, L)
        g2a2 = 2.0 * (1.0 - plaq)  # plaquette scheme: a²g²_P = 2(1 − ⟨P⟩) = 1/β + O(1/β²)
        xs.append(g2a2)
        dlogz = exact_u1.log_partition_function_theta(beta, L, theta) - exact_u1.log_partition_function(beta, L)
        exact_values = {CHI_T: exact_u1.topological_q2(beta, L) / (volume * g2a2), ENERGY: -dlogz / (volume * g2a2)}
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
            data["character"][obs_name].append(float(exact_values[obs_name]))
            data["monte carlo"][obs_name].append(mc_values[obs_name].value)
            data["monte carlo"]["err_" + obs_name].append(mc_values[obs_name].error)
            common = {"observable": obs_name, "x": g2a2, "L": L, "beta": beta}
            result.points.append({"column": "character", **common, "value": float(exact_values[obs_name]),
                                  "error": 0.0, "plaquette": plaq})
            result.points.append({"column": "monte carlo", **common, "value": mc_values[obs_name].value,
                                  "error": mc_values[obs_name].error, "tau_int": mc_values[obs_name].tau_int,
                                  "plaquette": float(pl.mean()), "instanton_acceptance": batch.acceptance})
    extra = {"physical_volume": p.physical_volume, "lattice_sizes": list(p.lattice_sizes),
             "scheme": "a^2 g^2 = 2(1 - <P>) (plaquette coupling)"}
    row_exact, row_mc = {}, {}
    analytic = {CHI_T: analytic_chi, ENERGY: analytic_e}
    for obs_name in (CHI_T, ENERGY):
        est, summary = _fit_estimate(xs, data["character"][obs_name], None, degree=p.fit_degree, name=obs_name,
                                     backend="exact-lattice", extra=extra)
        row_exact[obs_name] = est
        result.fits[f"character:{obs_name}"] = summary
        bias = abs(est.value - analytic[obs_name])
        est, summary = _fit_estimate(xs, data["monte carlo"][obs_name], data["monte carlo"]["err_" + obs_name],
                                     degree=p.fit_degree, name=obs_name, backend="heatbath-instanton",
                                     extra={**extra, "samples": p.samples, "chains": p.chains, "seed": seed})
        # the same fit applied to the exact lattice values misses the continuum value by `bias`
        row_mc[obs_name] = est.with_systematic({"extrapolation bias (same fit on exact lattice values)": bias})
        result.fits[f"monte carlo:{obs_name}"] = summary
    cc.add("character", row_exact)
    cc.add("monte carlo", row_mc)

    # --- Hamiltonian side: ED at large mass, a → 0, heavy-mass remainder from m/2
    ed_rows: dict[str, dict[float, list[float]]] = {CHI_T: {}, ENERGY: {}}
    for mass in (p.ed_mass, 0.5 * p.ed_mass):
        for a in p.ed_spacings:
            point = ed_heavy_mass_point(spacing=a, mass=mass, sites=p.ed_sites, theta=theta)
            for obs_name in (CHI_T, ENERGY):
                ed_rows[obs_name].setdefault(mass, []).append(point[obs_name])
                if mass == p.ed_mass:
                    result.points.append({"column": "ed", "observable": obs_name, "x": a, "mass": mass,
                                          "value": point[obs_name], "error": 0.0})
    row_ed = {}
    for obs_name in (CHI_T, ENERGY):
        est, summary = _fit_estimate(list(p.ed_spacings), ed_rows[obs_name][p.ed_mass], None, degree=1,
                                     name=obs_name, backend="ed",
                                     extra={"mass": p.ed_mass, "sites": list(p.ed_sites), "formulation": "electric"})
        half, _ = _fit_estimate(list(p.ed_spacings), ed_rows[obs_name][0.5 * p.ed_mass], None, degree=1,
                                name=obs_name, backend="ed", extra={})
        remainder = abs(est.value - half.value) / 3.0  # corrections ∝ 1/m²: what is left at m is 1/3 of the m/2 → m change
        row_ed[obs_name] = est.with_systematic({"heavy-mass remainder (1/m² from m/2)": remainder})
        result.fits[f"ed:{obs_name}"] = summary
    cc.add("ed", row_ed)
    result.notes.append(
        f"Euclidean tori at fixed g²A = {p.physical_volume:g} (finite-volume effect on χ_t ~ "
        f"{2 * p.physical_volume * math.exp(-p.physical_volume / 2):.1e} relative), extrapolated in a²g² = 2(1 - <P>) "
        f"with degree {p.fit_degree}; ED at m/g = {p.ed_mass:g}, bulk differences N = {p.ed_sites}.")
    return result
