r"""The spectrum of the Schwinger model from open chains: vector and scalar masses in the continuum.

Data: for every fermion mass m, spacing a and chain length N (L = Na), the k lowest levels of
the zero-charge sector with their quantum numbers (:mod:`qlat.analysis.spectrum_levels`: exact
CP, C from transition amplitudes, the vector's standing-wave tower V1, V2, … and the scalar S),
at θ = 0 with the staggered mass shift m_lat = m − g²a/8 (Dempsey, Klebanov, Pufu, Zan,
arXiv:2206.05308).  Gaps ΔE = E − E₀ in units of g.

**Finite volume (at each a).**  On an interval the boson field vanishes at both ends (the
boundary field is θ/2π = 0), so a particle of mass M in the lowest standing wave has

.. math:: ΔE_{V1}(L) = \sqrt{M^2 + \bigl(π/(L + δ)\bigr)^2},

δ an effective extension of the box (boundary phase shift; 0 in the continuum massless
theory, whose tower is exactly √(M² + (nπ/L)²)).  (M, δ) are fitted to V1 over the chains of
each spacing.  Higher tower levels are not used: their momenta nπ/L reach the lattice
dispersion artifacts (a²k⁴) first — at a = 0.5 the V1–V3 fit misses by 3·10⁻³, V1 alone by
10⁻⁴.  The scalar S: at m = 0 the two-boson threshold, ΔE_S = 2√((M_S/2)² + (π/(L + δ_S))²);
at m > 0 a bound state, √(M_S² + (π/(L + δ_S))²).

**Continuum.**  M(a) and M_S(a) are extrapolated to a → 0 by a polynomial of degree
``spacing_degree`` (1: with the mass shift the leading artifact is linear in a here), weighted
by the finite-volume fit errors (scaled by √(χ²/dof) when those do not explain the scatter).

**Model-averaged continuum** (``continuum="model_average"``).  Instead of one polynomial, the
M(a) are extrapolated by :func:`qlat.analysis.extrapolation.extrapolate_models`: polynomials of
degree 1, 2 and 3 in a on all spacings and without the coarsest one (and the two coarsest with
five or more spacings), Akaike-weighted (Jay & Neil, PRD 103, 114502 (2021), arXiv:2008.01069).  The
M(a) are treated as exact inputs (one common residual scale); the model spread is the
``a->0 fit_model`` / ``a->0 fit_range`` systematic.  The *finite volume* (smallest L dropped at
every spacing) and *truncation* (the χ/2 levels) variants are averaged the same way, and their
shifts of the limit are the systematics of those sources (the per-spacing shifts enter with their
signs; the χ/2 shift bounds the χ truncation error from above).  The estimate carries the extrapolation's warnings (e.g. the preferred model has no
degree of freedom).

**Errors.**  ``error`` (statistical in the Estimate's sense) is the fit error of this chain of
fits — for deterministic ED/DMRG data it measures how well the models describe the levels.
``systematic`` has its sources in ``provenance["systematic_sources"]``: *continuum* (largest
shift under spacing degree + 1 and dropping the coarsest spacing), *finite volume* (each
spacing's smallest L dropped — with three chains the remaining two determine (M, δ) exactly;
for the scalar also the other finite-volume form) and *truncation*
(DMRG only: the whole analysis redone on the levels on the line in the discarded weight,
:meth:`qlat.exact.levels.Levels.line_energies`, the calibrated truncation error of
:mod:`qlat.exact.dmrg_truncation`; rows recorded before keep the bare χ/2 redo).

References: M_V = g/√π and M_S = 2g/√π at m = 0 (exact); Bañuls, Cichy, Jansen, Cirac,
arXiv:1305.3765 for m/g = 0.125, 0.25, 0.5 (:mod:`qlat.exact.schwinger_references`: recalled,
not verified against the paper).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.analysis.extrapolation import extrapolate_models, model_set
from qlat.analysis.spectrum_levels import AUTO_ED_MAX_SITES, assign_labels, measure_chain_levels, tower_consistent
from qlat.analysis.study_cache import RowCache
from qlat.analysis.study_fits import curve_fit, extrapolate_polynomial
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.exact.dmrg_truncation import record_warnings, truncation_variant
from qlat.exact.schwinger_references import scalar_mass_reference, vector_mass_reference

__all__ = ["SpectrumResult", "analyze_spectrum", "chain_lengths", "spectrum_study"]

#: Chains per spacing that a finite-volume fit needs (two parameters and one degree of freedom).
MIN_CHAINS = 3


def _level(row: dict[str, Any], label: str) -> dict[str, Any] | None:
    for lv in row["levels"]:
        if lv["label"] == label:
            return lv
    return None


def _usable(row: dict[str, Any], label: str) -> bool:
    lv = _level(row, label)
    if lv is None or lv["ambiguous"]:
        return False
    if label == "V1":
        return round(lv["cp"]) == 1
    return bool(row["tower_consistent"])


def _one_particle(p: np.ndarray, L: np.ndarray) -> np.ndarray:
    return np.sqrt(p[0] ** 2 + (math.pi / (L + p[1])) ** 2)


def _two_particle(p: np.ndarray, L: np.ndarray) -> np.ndarray:
    return 2.0 * np.sqrt((p[0] / 2.0) ** 2 + (math.pi / (L + p[1])) ** 2)


def _finite_volume(rows: list[dict[str, Any]], label: str, key: str, form: str,
                   delta: float | None = None, min_chains: int = MIN_CHAINS) -> dict[str, Any] | None:
    """Fit ΔE(L) of ``label`` over ``rows`` with ``form`` (module docstring); None if too few chains."""
    points = []
    for r in sorted(rows, key=lambda r: r["volume"]):
        lv = _level(r, label)
        if lv is not None and _usable(r, label) and lv.get(key) is not None:
            points.append((r["volume"], lv[key]))
    if len(points) < min_chains:
        return None
    L = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    if form == "two-particle+1/L":
        assert delta is not None
        fit = curve_fit(lambda p, x: _two_particle(np.array([p[0], delta]), x) + p[1] / x, L, y.tolist(),
                        [2.0 * float(np.sqrt(max(y[-1] ** 2 / 4 - (math.pi / L[-1]) ** 2, 1e-4))), 0.0],
                        names=["mass", "c"])
    else:
        fn = _one_particle if form == "one-particle" else _two_particle
        factor = 1.0 if form == "one-particle" else 2.0
        guess = factor * float(np.sqrt(max((y[-1] / factor) ** 2 - (math.pi / L[-1]) ** 2, 1e-4)))
        fit = curve_fit(fn, L, y.tolist(), [guess, 0.5], names=["mass", "delta"])
    return {"label": label, "form": form, "volumes": L.tolist(), "gaps": y.tolist(), "mass": fit["params"][0],
            "error": fit["errors"][0], "fit": fit}


def _pipeline(rows: list[dict[str, Any]], *, mass: float, key: str = "gap", spacing_degree: int = 1,
              drop_coarsest: bool = False, drop_smallest_volume: bool = False,
              scalar_form: str | None = None) -> dict[str, Any]:
    """Stage 1 (finite volume per spacing) and stage 2 (continuum) for one mass."""
    spacings = sorted({r["spacing"] for r in rows}, reverse=True)
    if drop_coarsest and len(spacings) > 1:
        spacings = spacings[1:]
    if scalar_form is None:
        scalar_form = "two-particle" if mass == 0.0 else "one-particle"
    stage1: list[dict[str, Any]] = []
    for a in spacings:
        sel = sorted((r for r in rows if r["spacing"] == a), key=lambda r: r["volume"])
        need = MIN_CHAINS
        if drop_smallest_volume:  # the variant: the two (or more) longest chains, solved exactly if two
            sel, need = sel[1:], 2
        vector = _finite_volume(sel, "V1", key, "one-particle", min_chains=need)
        scalar = None
        if scalar_form == "two-particle+1/L":
            if vector is not None:
                scalar = _finite_volume(sel, "S", key, scalar_form, delta=vector["fit"]["params"][1], min_chains=need)
        else:
            scalar = _finite_volume(sel, "S", key, scalar_form, min_chains=need)
        stage1.append({"spacing": a, "vector": vector, "scalar": scalar})
    out: dict[str, Any] = {"stage1": stage1}
    for name in ("vector", "scalar"):
        pts = [(s["spacing"], s[name]["mass"], s[name]["error"] if math.isfinite(s[name]["error"]) else 1e-3)
               for s in stage1 if s[name] is not None]
        if len(pts) < spacing_degree + 1:
            out[name] = None
            continue
        a_arr, m_arr, e_arr = (list(v) for v in zip(*pts))
        out[name] = extrapolate_polynomial(a_arr, m_arr, sigma=e_arr, degree=spacing_degree)
    return out


CONTINUUM_METHODS = ("polynomial", "model_average")


def _per_spacing(stage1: list[dict[str, Any]], name: str) -> dict[float, float]:
    return {s["spacing"]: float(s[name]["mass"]) for s in stage1 if s[name] is not None}


def _average(a: list[float], y: list[float], drops: tuple[int, ...], *, key: str, backend: str,
             emit: bool) -> Any:
    return extrapolate_models(a, y, sigma=None, models=model_set(degrees=(1, 2, 3), drops=drops), name=key, unit="g",
                              backend=backend, source_prefix="a->0", emit=emit)


def _model_average(stage1: list[dict[str, Any]], name: str, variant_stage1: dict[str, list[dict[str, Any]]], *,
                   key: str, backend: str, mass: float) -> tuple[Estimate, dict[str, Any]]:
    """The model-averaged continuum limit of ``name`` (module docstring) and its fit record for the JSON/plot.

    Each variant (finite volume: smallest L dropped; truncation: the χ/2 levels) is averaged the
    same way on its own M(a), and |its limit − this limit| is the systematic of that source: the
    per-spacing shifts enter with their signs (coherently), as in the polynomial path.
    """
    base = _per_spacing(stage1, name)
    a = sorted(base)
    y = [base[x] for x in a]
    drops = (0, 1, 2) if len(a) >= 5 else (0, 1)
    ma = _average(a, y, drops, key=key, backend=backend, emit=True)
    shifts: dict[str, float] = {}
    per_spacing: dict[str, list[float | None]] = {}
    for source, st in variant_stage1.items():
        other = _per_spacing(st, name)
        per_spacing[source] = [other[x] - base[x] if x in other else None for x in a]
        ya = [other.get(x, base[x]) for x in a]  # a spacing the variant cannot fit keeps its value
        shifts[source] = abs(_average(a, ya, drops, key=key, backend=backend, emit=False).value - ma.value)
    summary = ma.summary()
    est = ma.estimate
    est = Estimate(est.value, est.error, est.systematic, name=key, unit="g", backend=backend, n_samples=len(a),
                   provenance={**est.provenance, "study": "spectrum", "mass": mass, "continuum": "model_average"})
    est = est.with_systematic(shifts)
    fit = {"value": est.value, "error": est.total_error, "x": a, "y": y, "dof": max(c.dof for c in ma.candidates),
           "coefficients": summary["coefficients"], "powers": summary["powers"], "model_average": summary,
           "variant_shifts_per_spacing": per_spacing, "variant_shifts": shifts}
    return est, fit


def _value(result: dict[str, Any], name: str) -> float | None:
    fit = result.get(name)
    return None if fit is None else float(fit["value"])


@dataclass
class SpectrumResult:
    """Outcome of :func:`spectrum_study` / :func:`analyze_spectrum`.

    rows:      one record per chain (levels with quantum numbers, :func:`measure_chain_levels`).
    masses:    per fermion mass: ``stage1`` (finite-volume fits per spacing), ``fits`` (continuum
               fits), ``variants`` and the Estimates ``vector_mass``, ``binding_energy`` (M_V − 2m)
               and ``scalar_mass`` (those that could be determined), with ``references``.
    settings:  the study's parameters.
    """

    rows: list[dict[str, Any]]
    masses: dict[float, dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)

    def estimates(self, mass: float) -> dict[str, Estimate]:
        return dict(self.masses[mass]["estimates"])

    def comparisons(self) -> list[dict[str, Any]]:
        """One record per (mass, quantity) with a reference: value, error, reference, relative deviation, z."""
        out = []
        for mass, data in sorted(self.masses.items()):
            for name, ref in data["references"].items():
                est = data["estimates"].get(name)
                if est is None or ref is None:
                    continue
                sigma = math.hypot(est.total_error, ref["error"])
                out.append({"mass": mass, "quantity": name, "value": est.value, "error": est.error,
                            "systematic": est.systematic, "reference": ref["value"],
                            "reference_error": ref["error"], "reference_verified": ref["verified"],
                            "relative_deviation": (est.value - ref["value"]) / ref["value"],
                            "z": (est.value - ref["value"]) / sigma if sigma > 0 else math.inf})
        return out

    def table(self) -> str:
        from qlat.analysis.tables import format_table

        rows = []
        for mass, data in sorted(self.masses.items()):
            for name in ("vector_mass", "binding_energy", "scalar_mass"):
                est = data["estimates"].get(name)
                if est is None:
                    continue
                ref = data["references"].get(name)
                ref_txt, dev_txt = "—", "—"
                if ref is not None:
                    ref_txt = f"{ref['value']:.5f}" + ("" if ref["verified"] else " (unverified)")
                    dev_txt = f"{(est.value - ref['value']) / ref['value']:+.2e}"
                rows.append([f"{mass:g}", name, str(est), f"{est.error:.1e}", f"{est.systematic:.1e}", ref_txt,
                             dev_txt, "!" if est.warnings else ""])
        head = format_table(["m/g", "quantity", "estimate", "fit err", "syst", "reference", "rel. dev.", "warn"],
                            rows)
        chains = []
        for r in self.rows:
            labels = " ".join(f"{lv['label']}:{lv['gap']:.4f}{'+' if lv['cp'] > 0 else '-'}"
                              for lv in r["levels"][1:])
            chains.append([f"{r['mass']:g}", r["n_sites"], f"{r['spacing']:.4g}", f"{r['volume']:.4g}", r["method"],
                           labels + ("" if r["tower_consistent"] else "  (tower inconsistent)")])
        return head + "\n\nlevels (gap, CP sign) per chain:\n" + format_table(
            ["m/g", "N", "a", "L", "method", "levels"], chains)

    def to_dict(self) -> dict[str, Any]:
        masses = {}
        for mass, data in self.masses.items():
            masses[f"{mass:g}"] = {
                "stage1": data["stage1"], "fits": data["fits"], "variants": data["variants"],
                "estimates": {k: v.to_dict() for k, v in data["estimates"].items()},
                "references": data["references"], "notes": data["notes"],
            }
        return {"study": "spectrum", "settings": self.settings, "rows": self.rows, "masses": masses,
                "comparisons": self.comparisons()}

    def plot(self, path: Any) -> None:
        """M_V(a) and M_S(a) per mass (finite-volume fits) with the continuum fits and references."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, name, title in ((axes[0], "vector", "vector  M_V/g"), (axes[1], "scalar", "scalar  M_S/g")):
            for mass, data in sorted(self.masses.items()):
                pts = [(s["spacing"], s[name]["mass"], s[name]["error"]) for s in data["stage1"] if s[name]]
                if not pts:
                    continue
                a, y, e = (np.array(v) for v in zip(*pts))
                bars = ax.errorbar(a, y, yerr=e, fmt="o", capsize=2, label=f"m/g = {mass:g}")
                fit = data["fits"].get(name)
                if fit is not None:
                    xs = np.linspace(0.0, float(a.max()), 40)
                    ax.plot(xs, np.polynomial.polynomial.polyval(xs, fit["coefficients"]), "-", lw=1,
                            color=bars[0].get_color())
                    ax.errorbar([0.0], [fit["value"]], yerr=[fit["error"]], fmt="s", color=bars[0].get_color(),
                                capsize=3)
                ref = data["references"].get(f"{name}_mass")
                if ref is not None:
                    ax.axhline(ref["value"], color=bars[0].get_color(), ls="--", lw=0.8)
            ax.set_xlabel("a g")
            ax.set_ylabel(title)
            ax.set_title(f"{title}: L → ∞ at each a, then a → 0\n(squares: continuum, dashed: reference)", fontsize=9)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def analyze_spectrum(rows: list[dict[str, Any]], *, spacing_degree: int = 1, continuum: str = "polynomial",
                     settings: dict[str, Any] | None = None) -> SpectrumResult:
    """The finite-volume and continuum analysis (module docstring) of measured chain rows.

    ``continuum``: ``"polynomial"`` (degree ``spacing_degree``, variants as systematics) or
    ``"model_average"`` (Akaike-weighted polynomials and fit ranges, per-spacing finite-volume and
    truncation shifts propagated; ``spacing_degree`` is then unused).
    """
    require(isinstance(spacing_degree, (int, np.integer)) and spacing_degree >= 0, "spacing_degree",
            "must be an integer >= 0", spacing_degree)
    require(continuum in CONTINUUM_METHODS, "continuum", f"must be one of {', '.join(CONTINUUM_METHODS)}",
            continuum)
    require(len(rows) >= 1, "rows", "needs at least one chain", len(rows))
    # Labels are re-assigned from the stored quantum numbers (thresholds of this qlat version).
    relabelled = []
    for r in rows:
        levels = assign_labels(r["levels"])
        relabelled.append({**r, "levels": levels, "tower_consistent": tower_consistent(levels)})
    rows = relabelled
    masses: dict[float, dict[str, Any]] = {}
    for mass in sorted({r["mass"] for r in rows}):
        sel = [r for r in rows if r["mass"] == mass]
        base = _pipeline(sel, mass=mass, spacing_degree=spacing_degree)
        n_spacings = len({r["spacing"] for r in sel})
        variants: dict[str, dict[str, float | None]] = {}
        if n_spacings >= spacing_degree + 3:
            run = _pipeline(sel, mass=mass, spacing_degree=spacing_degree + 1)
            variants["spacing_degree+1"] = {n: _value(run, n) for n in ("vector", "scalar")}
        if n_spacings >= spacing_degree + 2:
            run = _pipeline(sel, mass=mass, spacing_degree=spacing_degree, drop_coarsest=True)
            variants["drop_coarsest_a"] = {n: _value(run, n) for n in ("vector", "scalar")}
        run = _pipeline(sel, mass=mass, spacing_degree=spacing_degree, drop_smallest_volume=True)
        variants["drop_smallest_L"] = {n: _value(run, n) for n in ("vector", "scalar")}
        variant_stage1: dict[str, list[dict[str, Any]]] = {"finite volume": run["stage1"]}
        alt = "two-particle+1/L" if mass == 0.0 else "two-particle"
        run = _pipeline(sel, mass=mass, spacing_degree=spacing_degree, scalar_form=alt)
        variants[f"scalar_form={alt}"] = {"vector": None, "scalar": _value(run, "scalar")}
        truncation = truncation_variant([lv for r in sel for lv in r["levels"]], "gap")
        has_reference_levels = truncation is not None
        if truncation is not None:  # the levels on the line in the discarded weight (qlat.exact.dmrg_truncation)
            suffix, vname = truncation
            ref_rows = [{**r, "levels": [{**lv, "gap": lv.get("gap" + suffix, lv["gap"])} for lv in r["levels"]]}
                        for r in sel]
            run = _pipeline(ref_rows, mass=mass, spacing_degree=spacing_degree)
            variants[vname] = {n: _value(run, n) for n in ("vector", "scalar")}
            variant_stage1["truncation"] = run["stage1"]
        estimates: dict[str, Estimate] = {}
        notes: list[str] = []
        fits = {"vector": base["vector"], "scalar": base["scalar"]}
        backend = "ed+dmrg" if has_reference_levels else "ed"
        for name, key in (("vector", "vector_mass"), ("scalar", "scalar_mass")):
            fit = base[name]
            if continuum == "model_average":
                if len(_per_spacing(base["stage1"], name)) < 3:
                    notes.append(f"{key}: fewer than 3 spacings with >= {MIN_CHAINS} usable chains")
                    continue
                estimates[key], fits[name] = _model_average(base["stage1"], name, variant_stage1, key=key,
                                                            backend=backend, mass=mass)
                continue
            if fit is None:
                notes.append(f"{key}: too few spacings with >= {MIN_CHAINS} usable chains")
                continue
            shifts: dict[str, float] = {}
            for vname, vals in variants.items():
                v = vals.get(name)
                if v is None:
                    continue
                source = ("continuum" if vname in ("spacing_degree+1", "drop_coarsest_a") else
                          "truncation" if vname.startswith("truncation") else "finite volume")
                shifts[source] = max(shifts.get(source, 0.0), abs(v - fit["value"]))
            est = Estimate(fit["value"], fit["error"], name=key, unit="g", backend=backend, n_samples=len(fit["x"]),
                           provenance=provenance(study="spectrum", mass=mass, continuum_fit=fit,
                                                 variants={k: v.get(name) for k, v in variants.items()}))
            est = est.with_systematic(shifts)
            for message in record_warnings(sel):  # emitted when the chain was measured
                est = est.with_warning(message, emit=False)
            if fit["dof"] == 0:
                est = est.with_warning(f"continuum extrapolation from {len(fit['x'])} spacings with no degree of "
                                       "freedom: the fit cannot test its model")
            estimates[key] = est
        if "vector_mass" in estimates:
            vm = estimates["vector_mass"]
            estimates["binding_energy"] = Estimate(vm.value - 2.0 * mass, vm.error, vm.systematic, name="binding_energy",
                                                   unit="g", backend=vm.backend, n_samples=vm.n_samples,
                                                   provenance={**vm.provenance, "definition": "M_V - 2m"})
        vref = vector_mass_reference(mass)
        sref = scalar_mass_reference(mass)
        references: dict[str, Any] = {
            "vector_mass": None if vref is None else vref.as_dict(),
            "binding_energy": None if vref is None else {**vref.as_dict(), "value": vref.value - 2.0 * mass},
            "scalar_mass": None if sref is None else sref.as_dict(),
        }
        masses[mass] = {"stage1": base["stage1"], "fits": fits,
                        "variants": variants, "estimates": estimates, "references": references, "notes": notes}
    return SpectrumResult(rows=rows, masses=masses,
                          settings=dict(settings or {}, spacing_degree=spacing_degree, continuum=continuum))


def chain_lengths(volume: float, spacing: float) -> int:
    """The even chain length N nearest to L/a (at least 4)."""
    return max(4, 2 * int(round(volume / spacing / 2.0)))


def spectrum_study(
    *,
    masses: Sequence[float] = (0.0,),
    spacings: Sequence[float] = (0.5, 0.4, 1.0 / 3.0, 0.25, 0.2),
    volumes: Sequence[float] | None = (7.0, 9.0, 11.0),
    n_sites: Sequence[int] | None = None,
    levels: int = 6,
    dmrg_levels: int = 2,
    method: str = "auto",
    bond_dim: int = 48,
    spacing_degree: int = 2,
    continuum: str = "polynomial",
    cache: RowCache | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    plan_only: bool = False,
) -> SpectrumResult | list[dict[str, Any]]:
    """Measure every chain (m, a, L) and analyze (module docstring).

    Each (a, L) gives the even chain length N nearest to L/a (the fits use the actual L = Na);
    or give ``n_sites`` instead of ``volumes`` (volumes=None): the same N at every spacing.
    Each spacing needs at least three distinct lengths.  ``levels``: levels per ED chain (the
    scalar at m = 0 is the 4th–6th level for L ≈ 6–11); ``dmrg_levels``: per DMRG chain (2:
    the vacuum and V1, all the vector mass needs).  ``method``: ``"auto"`` (ED up to N = 22,
    DMRG beyond), ``"ed"`` or ``"dmrg"`` (bond dimension ``bond_dim``, truncation checked at
    χ/2).  ``continuum``: ``"polynomial"`` or ``"model_average"`` (:func:`analyze_spectrum`).
    ``cache``: a :class:`~qlat.analysis.study_cache.RowCache` — chains found there are
    not recomputed.  ``progress`` receives each new row.
    """
    from qlat.exact.levels import ED_LEVELS_MAX_SITES

    require(len(masses) >= 1 and all(math.isfinite(m) and m >= 0 for m in masses), "masses",
            "must be finite masses >= 0", list(masses))
    require(len(spacings) >= 1 and all(math.isfinite(a) and a > 0 for a in spacings), "spacings",
            "must be positive lattice spacings", list(spacings))
    require((volumes is None) != (n_sites is None), "volumes/n_sites", "give exactly one of them")
    if volumes is not None:
        require(len(volumes) >= MIN_CHAINS and all(math.isfinite(v) and v > 0 for v in volumes), "volumes",
                f"needs at least {MIN_CHAINS} positive lengths L = Na", list(volumes))
    else:
        assert n_sites is not None
        require(len(set(n_sites)) >= MIN_CHAINS and all(isinstance(n, (int, np.integer)) and n >= 4 and n % 2 == 0
                                                        for n in n_sites),
                "n_sites", f"needs at least {MIN_CHAINS} distinct even chain lengths >= 4", list(n_sites))
    for name, k in (("levels", levels), ("dmrg_levels", dmrg_levels)):
        require(isinstance(k, (int, np.integer)) and 2 <= k <= 12, name, "must be an integer in [2, 12]", k)
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    require(continuum in CONTINUUM_METHODS, "continuum", f"must be one of {', '.join(CONTINUUM_METHODS)}",
            continuum)
    plan = []
    for a in sorted((float(a) for a in spacings), reverse=True):
        sizes = (sorted({chain_lengths(v, a) for v in volumes}) if volumes is not None
                 else sorted({int(n) for n in n_sites or ()}))
        require(len(sizes) >= MIN_CHAINS, "volumes", f"give at least {MIN_CHAINS} distinct even chain lengths at "
                f"a = {a:g}", sizes)
        if method == "ed":
            require(max(sizes) <= ED_LEVELS_MAX_SITES, "volumes", f"exact diagonalization takes N <= "
                    f"{ED_LEVELS_MAX_SITES} (a = {a:g} gives N = {max(sizes)})", max(sizes))
        plan += [(a, n) for n in sizes]
    cache = cache if cache is not None else RowCache()
    planned: list[dict[str, Any]] = []
    start = time.perf_counter()
    out: list[dict[str, Any]] = []
    for mass in sorted(float(m) for m in masses):
        for a, n in plan:
            chain_method = "ed" if method == "ed" or (method == "auto" and n <= AUTO_ED_MAX_SITES) else "dmrg"
            k = int(levels if chain_method == "ed" else dmrg_levels)
            key = {"study": "spectrum", "n_sites": n, "spacing": a, "mass": mass, "method": chain_method, "levels": k,
                   "bond_dim": None if chain_method == "ed" else int(bond_dim)}
            if plan_only:
                planned.append(key)
                continue
            row, new = cache.fetch(key, lambda n=n, a=a, k=k, cm=chain_method, m=mass: measure_chain_levels(
                n, a, m, k=k, method=cm, bond_dim=bond_dim))
            if new and progress is not None:
                progress(row)
            out.append(row)
    if plan_only:
        return planned
    settings = {"masses": sorted(float(m) for m in masses), "spacings": sorted(float(a) for a in spacings),
                "volumes": None if volumes is None else sorted(float(v) for v in volumes),
                "n_sites": None if n_sites is None else sorted({int(n) for n in n_sites}), "levels": int(levels), "dmrg_levels": int(dmrg_levels),
                "method": method, "bond_dim": int(bond_dim), "units": "g = 1", "mass_shift": True, "theta": 0.0,
                "seconds": round(time.perf_counter() - start, 3)}
    return analyze_spectrum(out, spacing_degree=spacing_degree, continuum=continuum, settings=settings)
