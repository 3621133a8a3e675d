r"""The θ = π critical point of the massive Schwinger model: finite-size scaling on mirror-symmetric chains.

At θ = π the model has a Z₂ symmetry (C: E → −E).  Above (m/g)_c the two vacua E = ±E₀ are
degenerate (first-order line; Coleman's half-asymptotic particles are the kinks between them),
below it the vacuum is unique; the end point is in the 2D Ising universality class (Byrnes,
Sriganesh, Bursill, Hamer, PRD 66, 013002 (2002), hep-lat/0202014: (m/g)_c = 0.3335(2) from
DMRG finite-size scaling).

**Boundary conditions.**  On the usual open chain (N even, no net charge) the field at both ends
is θ/2π = +½, which favours the +E₀ vacuum: the gap does not close above m_c and the level
crossing moves off θ = π (issue 23).  qlat uses chains with *N odd* and total charge Q = −1
(:class:`~qlat.theories.schwinger_qubit.SchwingerChain`): the boundary fields are +½ left and
−½ right, and the mirror n → N−1−n maps E_n → −E_{N−2−n} — an exact Z₂ of the lattice
Hamiltonian (:meth:`SchwingerChain.symmetry` ``"reflection"``), so neither vacuum is favoured
(in Ising language, antiparallel fixed boundaries).  Electric formulation, staggered mass
shift m_lat = m − g²a/8 (Dempsey et al., arXiv:2206.05308; Angelides et al., arXiv:2312.12831
show that it matters at θ = π).

**Observables** per chain (N, a, m): the gap Δ between the two lowest levels (mirror-even and
mirror-odd), the scaled gap LΔ (L = Na), and the bulk order parameter ⟨Ē²⟩ with Ē the electric
field averaged over the central half of the links (⟨Ē⟩ = 0 in a mirror eigenstate).

**Finite-size scaling** (phenomenological renormalization, Nightingale 1976; Hamer & Barber,
J. Phys. A 14, 241 (1981), the method of Byrnes et al.): with z = 1, LΔ = f((m − m_c)L^{1/ν})
(ν = 1) — LΔ grows like L in the disordered phase and falls like 1/L in the ordered one (a kink
in a box), so the curves LΔ(m) of two lengths L₁ < L₂ cross at m*(L₁, L₂) → m_c.  Crossings are
located by cubic interpolation on the mass grid; m*(L̄), L̄ = (L₁L₂)^{1/2}, of the pairs with
L̄ ≥ ``min_volume`` (15/g: the pairs with L̄ ≈ 12 are far from the scaling regime) is
extrapolated linearly in 1/L̄² (Ising: 1/ν + ω with ω = 1 for boundary corrections; two pairs
give the line through them, with half the shift as its error), then m_c(a) linearly in a.  The
order parameter gives a second, diagnostic estimator: crossings of L^{2β/ν}⟨Ē²⟩ = L^{1/4}⟨Ē²⟩
(β = 1/8), reported as the variant ``order_parameter`` but *not* folded into the error: ⟨Ē²⟩ of
a lattice field carries a non-universal short-distance part that does not scale as L^{−1/4},
and with antiparallel boundary fields the ordered phase holds a delocalized kink, so its
crossings wander (0.323, 0.348, 0.308 for L̄ = 12, 17, 25 at a = 0.5, where the scaled-gap
crossings converge as 0.344, 0.332, 0.330).  The scaled-gap crossings themselves are not
monotonic in L: at a = 0.5 (χ = 48) they run 0.3318, 0.3301, 0.3313, 0.3327 for L̄ = 17, 25, 35,
49 (docs/hamiltonian-studies.md), so chain pairs with L̄ ≤ 25 alone extrapolate to ≈ 0.328.

Error: the fit error of the final extrapolation (propagated from the crossing-fit residuals) as
``error``; systematic sources: finite size (1/L̄ instead of 1/L̄², and all crossings including
L̄ < ``min_volume``), crossing interpolation (each crossing redone one polynomial degree lower on
the mass grid), continuum (degree + 1, coarsest a dropped), truncation (DMRG: the
crossing analysis redone on the gaps on the line in the discarded weight of χ/2 and χ,
:mod:`qlat.exact.dmrg_truncation`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.analysis.study_cache import RowCache
from qlat.analysis.study_fits import extrapolate_polynomial
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.exact.dmrg_truncation import record_warnings, truncation_variant
from qlat.exact.levels import ED_LEVELS_MAX_SITES, dmrg_levels, ed_levels
from qlat.exact.schwinger_references import CRITICAL_MASS_THETA_PI
from qlat.theories.schwinger_qubit import SchwingerChain

__all__ = ["ThetaPiResult", "analyze_theta_pi", "symmetric_theta_pi_chain", "measure_theta_pi_chain",
           "theta_pi_study"]

#: 2β/ν of the 2D Ising class (β = 1/8, ν = 1): ⟨E²⟩ ∝ L^{−2β/ν} at m_c.
ORDER_EXPONENT = 0.25


def symmetric_theta_pi_chain(n_sites: int, spacing: float, mass: float) -> SchwingerChain:
    """The mirror-symmetric θ = π chain: N odd, electric formulation, Q = −1, mass shift (module docstring)."""
    require(isinstance(n_sites, (int, np.integer)) and n_sites >= 3 and n_sites % 2 == 1, "n_sites",
            "must be an odd integer >= 3 (mirror-symmetric θ = π chain)", n_sites)
    chain = SchwingerChain(int(n_sites), float(spacing), float(mass), theta=math.pi, formulation="electric",
                           mass_shift=True, charge=-1)
    assert chain.symmetry() == "reflection"
    return chain


def _window_field_square(chain: SchwingerChain, lv: Any, level: int = 0) -> float:
    """⟨Ē²⟩, Ē the field averaged over the central half of the N − 1 links."""
    n = chain.n_sites
    links = n - 1
    lo, hi = links // 4, links - links // 4  # central half [lo, hi)
    window = np.arange(lo, hi)
    # E_n = c_n + ½ Σ_{i≤n} Z_i  with  c_n = ϑ + Σ_{i≤n} ((−1)^i/2 + q_i)
    c = chain.background_field + np.cumsum(0.5 * (-1.0) ** np.arange(n) + chain.charges())[:-1]
    sites = np.arange(hi)  # Z_i with i ≤ max(window)
    weights = np.array([0.5 * np.count_nonzero(window >= i) for i in sites]) / window.size
    const = float(c[window].mean())
    z = lv.z_expectations()[level][sites]
    zz = lv.zz_block(sites.tolist(), level)
    return float(const**2 + 2.0 * const * weights @ z + weights @ zz @ weights)


def measure_theta_pi_chain(n_sites: int, spacing: float, mass: float, *, method: str = "auto",
                           bond_dim: int = 64) -> dict[str, Any]:
    """One row: gap, scaled gap, mirror parities and ⟨Ē²⟩ of the symmetric θ = π chain (N, a, m)."""
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    start, cpu = time.perf_counter(), time.process_time()
    chain = symmetric_theta_pi_chain(n_sites, spacing, mass)
    use_ed = method == "ed" or (method == "auto" and n_sites <= ED_LEVELS_MAX_SITES)
    lv = ed_levels(chain, 2) if use_ed else dmrg_levels(chain, 2, bond_dim=bond_dim)
    gap = float(lv.gaps[0])
    row: dict[str, Any] = {
        "n_sites": int(n_sites), "spacing": float(spacing), "volume": float(n_sites * spacing), "mass": float(mass),
        "method": lv.method, "bond_dim": None if use_ed else int(bond_dim), "energies": lv.energies.tolist(),
        "gap": gap, "scaled_gap": gap * n_sites * spacing, "mirror": lv.mirror_values().tolist(),
        "field_square": _window_field_square(chain, lv),
    }
    if lv.reference_energies is not None:
        ref_gap = float(lv.reference_energies[1] - lv.reference_energies[0])
        line = lv.line_energies()
        line_gap = float(line[1] - line[0])
        row.update(gap_reference=ref_gap, scaled_gap_reference=ref_gap * n_sites * spacing,
                   gap_line=line_gap, scaled_gap_line=line_gap * n_sites * spacing,
                   truncation_warnings=lv.line_row_warnings())
    row.update(converged=bool(lv.details.get("converged", True)), seconds=round(time.perf_counter() - start, 3),
               cpu_seconds=round(time.process_time() - cpu, 3))
    return row


def _crossing(masses: np.ndarray, y1: np.ndarray, y2: np.ndarray, *, lower: bool = False) -> float | None:
    """The mass where y1(m) = y2(m), by a cubic through the grid points nearest the sign change
    (up to 4: the bracketing pair and one on each side).  ``lower``: one degree less, without the
    point farthest from the bracket (the interpolation-error variant)."""
    d = np.asarray(y1) - np.asarray(y2)
    idx = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)
    if idx.size == 0:
        return None
    i = int(idx[0])
    pts = list(range(max(0, i - 1), min(masses.size, i + 3)))
    if lower and len(pts) > 2:
        mid = 0.5 * (masses[i] + masses[i + 1])
        pts.remove(max((p for p in pts if p not in (i, i + 1)), key=lambda p: (abs(masses[p] - mid), p)))
    deg = min(3, len(pts) - 1)
    coef = np.polynomial.polynomial.polyfit(masses[pts], d[pts], deg)
    roots = [r.real for r in np.polynomial.polynomial.polyroots(coef) if abs(r.imag) < 1e-12
             and masses[i] - 1e-12 <= r.real <= masses[i + 1] + 1e-12]
    if not roots:  # fall back to the linear crossing
        return float(masses[i] - d[i] * (masses[i + 1] - masses[i]) / (d[i + 1] - d[i]))
    return float(roots[0])


def _crossings(rows: list[dict[str, Any]], key: str, exponent: float, *, lower: bool = False
               ) -> list[dict[str, Any]]:
    """m*(L₁, L₂) of y = L^exponent · row[key] for consecutive chain lengths, per spacing."""
    out = []
    for a in sorted({r["spacing"] for r in rows}, reverse=True):
        sel = [r for r in rows if r["spacing"] == a and r.get(key) is not None and not r.get("scan")]
        sizes = sorted({r["n_sites"] for r in sel})
        for n1, n2 in zip(sizes[:-1], sizes[1:]):
            m1 = {r["mass"]: r for r in sel if r["n_sites"] == n1}
            m2 = {r["mass"]: r for r in sel if r["n_sites"] == n2}
            common = np.array(sorted(set(m1) & set(m2)))
            if common.size < 2:
                continue
            y1 = np.array([m1[m][key] * m1[m]["volume"] ** exponent for m in common])
            y2 = np.array([m2[m][key] * m2[m]["volume"] ** exponent for m in common])
            cross = _crossing(common, y1, y2, lower=lower)
            out.append({"spacing": a, "n_sites": [n1, n2], "volumes": [n1 * a, n2 * a],
                        "mean_volume": math.sqrt(n1 * n2) * a, "crossing": cross})
    return out


def _extrapolate(crossings: list[dict[str, Any]], *, size_power: float, spacing_degree: int,
                 drop_coarsest: bool = False, min_volume: float = 0.0) -> dict[str, Any] | None:
    per_a = []
    spacings = sorted({c["spacing"] for c in crossings}, reverse=True)
    if drop_coarsest and len(spacings) > 1:
        spacings = spacings[1:]
    for a in spacings:
        pts = [c for c in crossings if c["spacing"] == a and c["crossing"] is not None
               and c["mean_volume"] >= min_volume]
        if len(pts) < 2:
            continue
        x = [c["mean_volume"] ** (-size_power) for c in pts]
        y = [c["crossing"] for c in pts]
        fit = extrapolate_polynomial(x, y, degree=1) if len(pts) >= 3 else _exact_line(x, y)
        per_a.append({"spacing": a, "value": fit["value"], "error": fit["error"], "fit": fit})
    if len(per_a) < spacing_degree + 1:
        return None
    final = extrapolate_polynomial([p["spacing"] for p in per_a], [p["value"] for p in per_a],
                                   sigma=[max(p["error"], 1e-6) for p in per_a], degree=spacing_degree)
    return {"per_spacing": per_a, "final": final}


def _exact_line(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """The line through two points, extrapolated to x = 0 (no error from the data: the error is
    set to the shift |y(0) − y_nearest|/2, a deliberately rough model doubt)."""
    (x1, x2), (y1, y2) = x, y
    slope = (y2 - y1) / (x2 - x1)
    value = y1 - slope * x1
    nearest = y1 if x1 < x2 else y2
    return {"value": float(value), "error": float(abs(value - nearest) / 2.0), "chi2": 0.0, "dof": 0,
            "degree": 1, "x": [float(v) for v in x], "y": [float(v) for v in y], "note": "two points"}


@dataclass
class ThetaPiResult:
    """Outcome of :func:`theta_pi_study`: rows, crossings, extrapolations, the Estimate of (m/g)_c."""

    rows: list[dict[str, Any]]
    crossings: dict[str, list[dict[str, Any]]]
    fits: dict[str, Any]
    variants: dict[str, float | None]
    estimate: Estimate | None
    reference: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        from qlat.analysis.tables import format_table

        lines = []
        if self.estimate is not None:
            ref = self.reference
            dev = self.estimate.value - ref["value"]
            lines.append(format_table(
                ["quantity", "estimate", "fit err", "syst", "reference", "deviation", "z"],
                [["(m/g)_c", str(self.estimate), f"{self.estimate.error:.1e}", f"{self.estimate.systematic:.1e}",
                  f"{ref['value']}({round(ref['error'] * 1e4)})", f"{dev:+.4f}",
                  f"{self.estimate.z_score(ref['value'], other_error=ref['error']):+.2f}"]]))
        order = {(c["spacing"], tuple(c["n_sites"])): c["crossing"] for c in self.crossings.get("order", [])}
        cross = []
        for c in self.crossings["gap"]:
            o = order.get((c["spacing"], tuple(c["n_sites"])))
            cross.append([f"{c['spacing']:.4g}", f"{c['n_sites'][0]}/{c['n_sites'][1]}", f"{c['mean_volume']:.3g}",
                          "—" if c["crossing"] is None else f"{c['crossing']:.5f}",
                          "—" if o is None else f"{o:.5f}"])
        lines.append("crossings L1Δ1 = L2Δ2 (used) and L1^¼<Ē²>1 = L2^¼<Ē²>2 (diagnostic):\n"
                     + format_table(["a", "N1/N2", "L̄", "m* (gap)", "m* (order p.)"], cross))
        fits = (self.fits.get("gap") or {}).get("per_spacing", [])
        if fits:
            lines.append("m_c(a), crossings extrapolated in 1/L̄²:\n" + format_table(
                ["a", "m_c(a)", "fit err"], [[f"{p['spacing']:.4g}", f"{p['value']:.5f}", f"{p['error']:.1e}"]
                                             for p in fits]))
        lines.append("variants: " + ", ".join(f"{k} = {'—' if v is None else f'{v:.5f}'}"
                                               for k, v in self.variants.items()))
        grid = [[f"{r['spacing']:.4g}", r["n_sites"], f"{r['mass']:.4g}", r["method"], f"{r['scaled_gap']:.5f}",
                 f"{math.sqrt(max(r['field_square'], 0.0)):.4f}"] for r in self.rows]
        lines.append("chains:\n" + format_table(["a", "N", "m/g", "method", "LΔ", "<Ē²>^½"], grid))
        lines += self.notes
        return "\n\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"study": "theta_pi", "settings": self.settings, "rows": self.rows, "crossings": self.crossings,
                "fits": self.fits, "variants": self.variants,
                "estimate": None if self.estimate is None else self.estimate.to_dict(), "reference": self.reference,
                "notes": self.notes}

    def plot(self, path: Any) -> None:
        """LΔ and ⟨Ē²⟩^½ vs m per chain (finest spacing), and the crossings m*(L̄) per spacing."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        a0 = max(r["spacing"] for r in self.rows)  # the coarsest spacing carries the scan masses
        for n in sorted({r["n_sites"] for r in self.rows if r["spacing"] == a0}):
            sel = sorted((r for r in self.rows if r["spacing"] == a0 and r["n_sites"] == n), key=lambda r: r["mass"])
            m = [r["mass"] for r in sel]
            axes[0].plot(m, [r["scaled_gap"] for r in sel], "o-", ms=3, label=f"N = {n} (L = {n * a0:.3g})")
            axes[1].plot(m, [math.sqrt(max(r["field_square"], 0.0)) for r in sel], "o-", ms=3, label=f"N = {n}")
        for ax, ylab in ((axes[0], "L Δ"), (axes[1], "⟨Ē²⟩^½ (central half)")):
            ax.axvline(self.reference["value"], color="k", ls="--", lw=0.8)
            ax.set_xlabel("m/g")
            ax.set_ylabel(ylab)
            ax.set_title(f"a g = {a0:.3g}")
            ax.legend(fontsize=7)
        for a in sorted({c["spacing"] for c in self.crossings["gap"]}):
            pts = [c for c in self.crossings["gap"] if c["spacing"] == a and c["crossing"] is not None]
            axes[2].plot([c["mean_volume"] ** -2 for c in pts], [c["crossing"] for c in pts], "o-", label=f"a = {a:.3g}")
        if self.estimate is not None:
            axes[2].errorbar([0.0], [self.estimate.value], yerr=[self.estimate.total_error], fmt="s", color="k",
                             capsize=3, label="continuum")
        axes[2].axhline(self.reference["value"], color="k", ls="--", lw=0.8, label="0.3335 (Byrnes et al.)")
        axes[2].set_xlabel("1/L̄²")
        axes[2].set_ylabel("m*(L1, L2)")
        axes[2].set_title("scaled-gap crossings")
        axes[2].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def analyze_theta_pi(rows: list[dict[str, Any]], *, size_power: float = 2.0, spacing_degree: int = 1,
                     min_volume: float = 15.0, settings: dict[str, Any] | None = None) -> ThetaPiResult:
    """Crossings and extrapolations (module docstring) of measured rows.

    ``min_volume``: only crossings of chain pairs with L̄ = (L₁L₂)^{1/2} >= min_volume enter the
    estimate (all of them give the variant ``all_crossings``, part of the finite-size systematic).
    """
    require(math.isfinite(min_volume) and min_volume >= 0, "min_volume", "must be a length >= 0", min_volume)
    crossings = {"gap": _crossings(rows, "scaled_gap", 0.0),
                 "order": _crossings(rows, "field_square", ORDER_EXPONENT)}
    # scaled_gap already contains L; field_square needs L^{2β/ν}

    def ext(key: str = "gap", **overrides: Any) -> dict[str, Any] | None:
        opts: dict[str, Any] = {"size_power": size_power, "spacing_degree": spacing_degree,
                                "min_volume": min_volume, **overrides}
        return _extrapolate(crossings[key], **opts)

    def value(result: dict[str, Any] | None) -> float | None:
        return None if result is None else float(result["final"]["value"])

    base = ext()
    notes = []
    missing = sum(c["crossing"] is None for c in crossings["gap"])
    if missing:
        notes.append(f"{missing} of {len(crossings['gap'])} chain pairs have no scaled-gap crossing inside the "
                     "mass grid")
    small = sum(c["crossing"] is not None and c["mean_volume"] < min_volume for c in crossings["gap"])
    if small:
        notes.append(f"{small} crossings of pairs with L̄ < min_volume = {min_volume:g} left out of the estimate "
                     "(variant all_crossings)")
    variants: dict[str, float | None] = {"all_crossings": value(ext(min_volume=0.0)),
                                         "size_power=1": value(ext(size_power=1.0))}
    n_spacings = len({c["spacing"] for c in crossings["gap"]})
    if n_spacings >= spacing_degree + 3:
        variants["spacing_degree+1"] = value(ext(spacing_degree=spacing_degree + 1))
    if n_spacings >= spacing_degree + 2:
        variants["drop_coarsest_a"] = value(ext(drop_coarsest=True))
    variants["order_parameter"] = value(ext("order"))
    # the crossings interpolated one degree lower: the mass grid's resolution (coarse at large L,
    # where LΔ(m) bends over the grid step)
    variants["lower_interpolation"] = value(_extrapolate(_crossings(rows, "scaled_gap", 0.0, lower=True),
                                                         size_power=size_power, spacing_degree=spacing_degree,
                                                         min_volume=min_volume))
    truncation = truncation_variant(rows, "scaled_gap")
    if truncation is not None:  # the gaps on the line in the discarded weight (qlat.exact.dmrg_truncation)
        suffix, vname = truncation
        ref_rows = [{**r, "scaled_gap": r.get("scaled_gap" + suffix, r["scaled_gap"])} for r in rows]
        variants[vname] = value(_extrapolate(_crossings(ref_rows, "scaled_gap", 0.0),
                                                           size_power=size_power, spacing_degree=spacing_degree,
                                                           min_volume=min_volume))
    estimate = None
    if base is not None:
        final = base["final"]
        groups = {"finite size": ("size_power=1", "all_crossings"), "crossing interpolation": ("lower_interpolation",),
                  "continuum": ("spacing_degree+1", "drop_coarsest_a"),
                  "truncation": ("truncation(line)", "truncation(chi/2)")}
        sources = {}
        for source, names in groups.items():
            shifts = [abs(variants[n] - final["value"]) for n in names if variants.get(n) is not None]
            if shifts:
                sources[source] = max(shifts)
        estimate = Estimate(final["value"], final["error"], name="critical_mass", unit="g",
                            backend="ed+dmrg", n_samples=len(final["x"]),
                            provenance=provenance(study="theta_pi", fit=final, variants=variants,
                                                  size_power=size_power, spacing_degree=spacing_degree,
                                                  min_volume=min_volume))
        estimate = estimate.with_systematic(sources)
        for message in record_warnings(rows):  # emitted when the chain was measured
            estimate = estimate.with_warning(message, emit=False)
        if final["dof"] == 0:
            estimate = estimate.with_warning(f"continuum extrapolation from {len(final['x'])} spacings with no "
                                             "degree of freedom: the fit cannot test its model")
    else:
        notes.append("too few crossings for the extrapolation (need >= 2 chain pairs at each of "
                     f">= {spacing_degree + 1} spacings)")
    return ThetaPiResult(rows=rows, crossings=crossings, fits={"gap": base}, variants=variants, estimate=estimate,
                         reference=CRITICAL_MASS_THETA_PI.as_dict(),
                         settings=dict(settings or {}, size_power=size_power, spacing_degree=spacing_degree,
                                       min_volume=min_volume),
                         notes=notes)


def theta_pi_study(
    *,
    spacings: Sequence[float] = (0.5, 0.4, 1.0 / 3.0),
    volumes: Sequence[float] = (15.0, 20.0, 30.0),
    masses: Sequence[float] = (0.30, 0.32, 0.34, 0.36, 0.38),
    scan_masses: Sequence[float] = (),
    method: str = "auto",
    bond_dim: int | Sequence[int] = 48,
    size_power: float = 2.0,
    spacing_degree: int = 1,
    min_volume: float = 15.0,
    cache: RowCache | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    plan_only: bool = False,
) -> ThetaPiResult | list[dict[str, Any]]:
    """Measure the symmetric θ = π chains on the (a, L, m) grid and locate (m/g)_c (module docstring).

    Each volume L gives the odd chain length N nearest to L/a (so the L are approximate); the
    estimate uses the chain pairs with L̄ >= ``min_volume`` (at least two per spacing).
    ``scan_masses``: extra masses computed on the chains of the coarsest spacing only, for the
    curves of the gap and the order parameter against m/g (not used by the crossings).
    ``bond_dim``: the DMRG χ, one for all spacings or one per spacing (in the order given), e.g.
    χ = 48 on a finer spacing added to chains computed at χ = 32.
    ``cache``: a :class:`RowCache` (finished chains are not recomputed).
    """
    require(len(spacings) >= 1 and all(math.isfinite(a) and a > 0 for a in spacings), "spacings",
            "must be positive lattice spacings", list(spacings))
    require(len(volumes) >= 2 and all(math.isfinite(v) and v > 0 for v in volumes), "volumes",
            "needs at least 2 positive lengths L = Na", list(volumes))
    require(len(masses) >= 2 and all(math.isfinite(m) and m > 0 for m in masses), "masses",
            "needs at least 2 positive masses around the critical point", list(masses))
    require(all(math.isfinite(m) and m > 0 for m in scan_masses), "scan_masses", "must be positive masses",
            list(scan_masses))
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    require(math.isfinite(min_volume) and min_volume >= 0, "min_volume", "must be a length >= 0", min_volume)
    dims = [bond_dim] * len(spacings) if isinstance(bond_dim, (int, np.integer)) else list(bond_dim)
    require(len(dims) == len(spacings) and all(isinstance(d, (int, np.integer)) and d >= 2 for d in dims),
            "bond_dim", f"must be one integer >= 2 or one per spacing ({len(spacings)})", bond_dim)
    chi = {float(a): int(d) for a, d in zip(spacings, dims, strict=True)}
    cache = cache if cache is not None else RowCache()
    planned: list[dict[str, Any]] = []
    start = time.perf_counter()
    rows = []
    grid = sorted({float(m) for m in masses})
    coarsest = max(float(a) for a in spacings)
    for a in sorted((float(a) for a in spacings), reverse=True):
        sizes = sorted({max(3, 2 * int(round((v / a - 1) / 2)) + 1) for v in volumes})
        require(len(sizes) >= 2, "volumes", f"give at least 2 distinct odd chain lengths at a = {a:g}", sizes)
        extra = sorted({float(m) for m in scan_masses} - set(grid)) if a == coarsest else []
        for n in sizes:
            for m in grid + extra:
                key = {"study": "theta_pi", "n_sites": n, "spacing": a, "mass": m, "method": method,
                       "bond_dim": chi[a]}
                if plan_only:
                    planned.append(key)
                    continue
                row, new = cache.fetch(key, lambda n=n, a=a, m=m: measure_theta_pi_chain(
                    n, a, m, method=method, bond_dim=chi[a]))
                if new and progress is not None:
                    progress(row)
                rows.append({**row, "scan": True} if m in extra else row)
    if plan_only:
        return planned
    settings = {"spacings": sorted(float(a) for a in spacings), "volumes": sorted(float(v) for v in volumes),
                "masses": grid, "scan_masses": sorted(float(m) for m in scan_masses), "method": method,
                "bond_dim": int(dims[0]) if len(set(dims)) == 1 else {str(a): d for a, d in chi.items()},
                "chain": "N odd, electric formulation, theta = pi, total charge -1, mass shift",
                "seconds": round(time.perf_counter() - start, 3)}
    return analyze_theta_pi(rows, size_power=size_power, spacing_degree=spacing_degree, min_volume=min_volume,
                            settings=settings)
