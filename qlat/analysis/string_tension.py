r"""Probe charges and the string tension σ(q, θ) of the massive Schwinger model in the continuum.

Two static external charges +q and −q (units of g) sit on sites p and N−1−p of an open chain
(mirror-symmetric placement: the chain keeps its CP symmetry), separated by ℓ = (N − 1 − 2p)a.
They enter Gauss's law, L_n = Σ_{i≤n}(Q_i + q_i) (:class:`~qlat.theories.schwinger_qubit.SchwingerChain`,
``external_charges``; Honda, Itou, Kikuchi, Nagano, Okuda arXiv:2105.03276 prepare the same
states adiabatically), so between them the background field is θ/2π + q.  For |q| < 1 the
dynamical fermions cannot screen a fractional probe; the ground-state energy grows linearly,

.. math:: E_0(ℓ) = \text{const} + σ\,ℓ + O(e^{-Mℓ}), \qquad σ(q, θ) = ℰ(θ + 2πq) − ℰ(θ),

the second equality because the string is the θ + 2πq vacuum (Coleman 1976).  At small m,
first-order mass perturbation theory gives σ = mΣ[cos θ − cos(θ + 2πq)], Σ = e^γ g/(2π^{3/2}),
i.e. mΣ(1 − cos 2πq) at θ = 0.  The O(m²) term of ℰ (∝ cos 2θ, Dempsey et al.
arXiv:2206.05308 eq. (24), :func:`qlat.analysis.theta_dependence.mpt_second_order_coefficient`)
adds A m²[cos 2(θ + 2πq) − cos 2θ], which *vanishes at q = ½*: there σ = 2mΣ cos θ + O(m³), the
reference the studies print.  The O(m³) term is not known to us, and no published continuum value
at m/g = 0.1 was found (docs/references.md); the recorded run (docs/hamiltonian-studies.md,
``string_tension_long_2core``) measures σ(½, 0) − 2mΣ = −4.9(1.0)·10⁻⁴ g² (−1.5 %) at m/g = 0.1.

Method: electric formulation with the staggered mass shift m − g²a/8, chains of physical length
L at several spacings a; at each a, E₀ at the separations ℓ_j, and σ(a) from

.. math:: E_0(ℓ) = c + σℓ + B\,e^{−Mℓ} \;[+\; C\,e^{−μ(L−ℓ)/2}]

(the *screening tail*: the probes' screening clouds overlap through the string vacuum θ + 2πq,
whose lightest mass M can be small — at q = ½ it is the θ = π vacuum, M ≈ 0.4 g at m/g = 0.1 —
so that a straight line through ℓ ≈ 8–14/g overestimates σ: by +4.5 % at m/g = 0.1, the
discrepancy of the first recorded run, docs/hamiltonian-studies.md; the bracket: each probe's
tail to the nearer chain end, (L − ℓ)/2 away through the θ vacuum of mass μ, which raises E₀ at the
longest separations).  The fit (M, μ by scans with the amplitudes linear, then a joint nonlinear
fit, residual-based error) takes both tails when every spacing has ≥ ``ENDS_MIN_SEPARATIONS`` + 1
separations, the screening tail alone with ≥ ``TAIL_MIN_SEPARATIONS`` + 1; with fewer, the
straight line E₀ = c + σℓ, and a
warning when its own check sees E₀(ℓ) bend (the slope over the two longest separations below the
fitted one by > 2σ).  Variants: the shortest separation dropped (same model; the "screening tail"
source), with a tail fit the longest one dropped (the probes nearest the chain's ends: the
"probes near the ends" source), the DMRG energies on the line in the discarded weight of χ/2 and χ
(:mod:`qlat.exact.dmrg_truncation`), and for the record the straight line and the tail fit
without the ends (not sources: they are the models the full fit corrects).  Then σ(a) → a → 0
by a polynomial of degree ``spacing_degree`` (variants: degree + 1, coarsest a dropped, and for a
straight line σ + c a² instead of σ + c a — the mass shift removes the O(a) term — all in the
"continuum" source).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.analysis.extrapolation import fit_polynomial
from qlat.analysis.study_cache import RowCache
from qlat.analysis.study_fits import curve_fit, extrapolate_polynomial
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.exact import continuum
from qlat.exact.continuum import mpt_second_order_coefficient
from qlat.exact.dmrg_truncation import record_warnings, truncation_variant
from qlat.exact.levels import ED_LEVELS_MAX_SITES, dmrg_levels, ed_levels
from qlat.theories.schwinger_qubit import SchwingerChain

__all__ = ["StringTensionResult", "analyze_string_tension", "measure_probe_chain", "probe_chain",
           "probe_separation", "string_tension_mpt", "string_tension_study"]


def string_tension_mpt(q: float, theta: float, *, mass: float, second_order: bool = True) -> float:
    """σ(q, θ) = ℰ(θ + 2πq) − ℰ(θ) from mass perturbation theory (module docstring), units g²."""
    sigma1 = float(continuum.mpt_energy_density(theta + 2 * math.pi * q, mass=mass)
                   - continuum.mpt_energy_density(theta, mass=mass))
    if not second_order:
        return sigma1
    a2 = mpt_second_order_coefficient()
    return sigma1 + a2 * mass**2 * (math.cos(2 * (theta + 2 * math.pi * q)) - math.cos(2 * theta))


def probe_chain(n_sites: int, spacing: float, mass: float, *, theta: float, q: float, separation: int
                ) -> SchwingerChain:
    """The chain with +q on site p and −q on site N−1−p, ``separation`` = N − 1 − 2p sites (odd)."""
    require(isinstance(separation, (int, np.integer)) and separation % 2 == 1 and 1 <= separation <= n_sites - 1,
            "separation", f"must be an odd number of sites in [1, N − 1 = {n_sites - 1}]", separation)
    p = (n_sites - 1 - int(separation)) // 2
    charges = np.zeros(n_sites)
    charges[p], charges[n_sites - 1 - p] = q, -q
    return SchwingerChain(int(n_sites), float(spacing), float(mass), theta=float(theta), formulation="electric",
                          mass_shift=True, external_charges=tuple(charges))


def probe_separation(sites: float, n_sites: int) -> int:
    """The site count s nearest to ``sites`` with s ≡ N − 3 (mod 4), clipped to the chain.

    Then p = (N − 1 − s)/2 is odd for every separation: both probes stay on the same staggered
    sublattice (+q on an odd site, −q on an even one), so E₀(ℓ) = c + σℓ has one constant c.  A
    probe pair moved to the other sublattice changes c (at a = 0.4, m = 0.1, q = ½ by ≈ 0.09 g),
    which a straight-line fit would take for a change of slope.  Steps of s are 4 sites (2 unit
    cells, one per probe).
    """
    r = (int(n_sites) - 3) % 4
    s = 4 * int(round((float(sites) - r) / 4.0)) + r
    return int(min(max(s, r), n_sites - 3))


def measure_probe_chain(n_sites: int, spacing: float, mass: float, *, theta: float, q: float, separation: int,
                        method: str = "auto", bond_dim: int = 48) -> dict[str, Any]:
    """One row: the ground energy of the probe chain (and its field profile's central value)."""
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    start, cpu = time.perf_counter(), time.process_time()
    chain = probe_chain(n_sites, spacing, mass, theta=theta, q=q, separation=separation)
    use_ed = method == "ed" or (method == "auto" and n_sites <= ED_LEVELS_MAX_SITES)
    lv = ed_levels(chain, 1) if use_ed else dmrg_levels(chain, 1, bond_dim=bond_dim)
    field_profile = chain.electric_field(lv.z_expectations()[0])
    c = (n_sites - 2) // 2  # the central link (mirror image of itself)
    row: dict[str, Any] = {
        "n_sites": int(n_sites), "spacing": float(spacing), "mass": float(mass), "theta": float(theta), "q": float(q),
        "separation_sites": int(separation), "separation": float(separation * spacing), "method": lv.method,
        "bond_dim": None if use_ed else int(bond_dim), "energy": float(lv.energies[0]),
        "central_field": float((field_profile[c - 1] + 2 * field_profile[c] + field_profile[c + 1]) / 4.0),
    }
    if lv.reference_energies is not None:
        row["energy_reference"] = float(lv.reference_energies[0])
        row["energy_line"] = float(lv.line_energies()[0])
        row["truncation_warnings"] = lv.line_row_warnings()
    row.update(converged=bool(lv.details.get("converged", True)), seconds=round(time.perf_counter() - start, 3),
               cpu_seconds=round(time.process_time() - cpu, 3))
    return row


#: The fewest separations for the screening-tail fit E₀(ℓ) = c + σℓ + B e^{−Mℓ} (4 parameters, ≥ 1 dof).
TAIL_MIN_SEPARATIONS = 5
#: ... and for the fit with the chain ends, + C e^{−μ(L−ℓ)/2} (6 parameters, ≥ 1 dof).
ENDS_MIN_SEPARATIONS = 7


def _line(x: list[float], y: list[float]) -> dict[str, Any]:
    fit = fit_polynomial(x, y, degree=1)
    return {"sigma": float(fit.coefficients[1]), "error": float(math.sqrt(max(fit.covariance[1, 1], 0.0))),
            "intercept": float(fit.coefficients[0]), "dof": int(fit.dof), "model": "line"}


def _tail(x: list[float], y: list[float], length: float | None = None) -> dict[str, Any] | None:
    """E₀(ℓ) = c + σℓ + B e^{−Mℓ} [+ C e^{−μ(L−ℓ)/2} when the chain ``length`` L is given].

    M (and μ) by a scan with the other parameters linear, then the joint nonlinear fit
    (:func:`~qlat.analysis.study_fits.curve_fit`, error from the residuals).  The first term is the
    overlap of the two probes' screening clouds through the string vacuum θ + 2πq, whose lightest
    mass M can be small (at q = ½, m/g = 0.1: M ≈ 0.4 g, the θ = π vacuum), so that over ℓ ≈ 8–14/g
    a straight line overestimates σ by several per cent; the second is each probe's own tail to the
    nearer chain end, (L − ℓ)/2 away through the θ vacuum (mass μ), which raises E₀ at the longest
    separations.  Returns None when the fit is degenerate (no tail in the data).
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    grid = np.geomspace(0.02, 5.0, 160)

    def basis(mass: float, mu: float | None) -> np.ndarray:
        cols = [np.ones_like(xa), xa, np.exp(-mass * (xa - xa[0]))]
        if mu is not None and length is not None:
            cols.append(np.exp(-mu * (length - xa) / 2.0))
        return np.column_stack(cols)

    def rss(mass: float, mu: float | None) -> float:
        b = basis(mass, mu)
        coef, *_ = np.linalg.lstsq(b, ya, rcond=None)
        return float(np.sum((b @ coef - ya) ** 2))

    mass0, mu0 = float(min(grid, key=lambda m: rss(m, None))), None
    if length is not None:  # a joint scan of (M, μ) on a coarser grid (coordinate scans can stall)
        coarse = np.geomspace(0.05, 5.0, 48)
        mass0, mu0 = min(((float(m), float(u)) for m in coarse for u in coarse), key=lambda mu_pair: rss(*mu_pair))
    lin = np.linalg.lstsq(basis(mass0, mu0), ya, rcond=None)[0]
    p0 = [lin[0], lin[1], lin[2], math.log(mass0)]
    names = ["c", "sigma", "B", "log_M"]
    if mu0 is not None:
        p0 += [lin[3], math.log(mu0)]
        names += ["C", "log_mu"]

    def model(p: np.ndarray, ell: np.ndarray) -> np.ndarray:
        out = p[0] + p[1] * ell + p[2] * np.exp(-math.exp(p[3]) * (ell - xa[0]))
        if len(p) > 4 and length is not None:
            out = out + p[4] * np.exp(-math.exp(p[5]) * (length - ell) / 2.0)
        return out

    fit = curve_fit(model, xa, ya.tolist(), p0, names=names)
    params, errors = fit["params"], fit["errors"]
    if not all(math.isfinite(v) for v in (*params, errors[1])) or params[2] == 0.0:
        return None
    out = {"sigma": float(params[1]), "error": float(errors[1]), "intercept": float(params[0]),
           "dof": int(fit["dof"]), "model": "tail" if mu0 is None else "tail+ends",
           "tail_mass": float(math.exp(params[3])), "tail_amplitude": float(params[2]), "tail_at": float(xa[0]),
           "line_sigma": _line(x, y)["sigma"]}
    if mu0 is not None:
        out.update(ends_mass=float(math.exp(params[5])), ends_amplitude=float(params[4]), length=float(length or 0.0))
    return out


def _slope(rows: list[dict[str, Any]], key: str, drop_shortest: bool = False, model: str = "line", *,
           drop_longest: bool = False) -> dict[str, Any] | None:
    """σ from E₀(ℓ) at one spacing, with its residual-based error: the straight line E₀ = c + σℓ
    (``model="line"``, ≥ 3 separations), the screening-tail fit (``"tail"``, ≥
    ``TAIL_MIN_SEPARATIONS``) or the tail fit with the chain ends (``"tail+ends"``, ≥
    ``ENDS_MIN_SEPARATIONS``); None when the fit is degenerate."""
    sel = sorted(rows, key=lambda r: r["separation"])
    if drop_shortest:
        sel = sel[1:]
    if drop_longest:
        sel = sel[:-1]
    need = {"tail": TAIL_MIN_SEPARATIONS, "tail+ends": ENDS_MIN_SEPARATIONS}.get(model, 3)
    if len(sel) < need:
        return None
    x = [r["separation"] for r in sel]
    y = [r.get(key, r["energy"]) for r in sel]
    if model == "line":
        res: dict[str, Any] | None = _line(x, y)
    else:
        res = _tail(x, y, sel[0]["n_sites"] * sel[0]["spacing"] if model == "tail+ends" else None)
    return None if res is None else {**res, "separations": x, "energies": y}


def _curvature_warning(per_spacing: list[dict[str, Any]]) -> str | None:
    """The straight line's own check: over ≥ 4 separations, the slope between the two longest
    lies below the fitted slope by more than 2 of its errors (E₀(ℓ) bends: a screening tail)."""
    for s in per_spacing:
        if s.get("model") != "line" or len(s["separations"]) < 4:
            continue
        (x1, x2), (y1, y2) = s["separations"][-2:], s["energies"][-2:]
        last = (y2 - y1) / (x2 - x1)
        if s["sigma"] - last > 2.0 * max(s["error"], 1e-12):
            return (f"E(l) is curved at a = {s['spacing']:.4g}: the slope over the two longest separations "
                    f"({last:.5f}) lies below the straight-line slope ({s['sigma']:.5f} +- {s['error']:.1e}); the "
                    f"screening tail exp(-M l) biases sigma upwards: use >= {TAIL_MIN_SEPARATIONS + 1} separations "
                    "per spacing (the tail fit)")
    return None


@dataclass
class StringTensionResult:
    """Outcome of :func:`string_tension_study`: rows, per-spacing slopes, continuum σ per (m, q, θ)."""

    rows: list[dict[str, Any]]
    points: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        from qlat.analysis.tables import format_table

        rows = []
        for p in self.points:
            est = p["estimate"]
            ref = p["reference_mpt"]
            rows.append([f"{p['mass']:g}", f"{p['q']:g}", f"{p['theta']:.4g}", "—" if est is None else str(est),
                         "—" if est is None else f"{est.error:.1e}", "—" if est is None else f"{est.systematic:.1e}",
                         f"{ref:.6f}", f"{p['reference_first_order']:.6f}",
                         "—" if est is None else f"{(est.value - ref) / ref:+.3%}" if ref else "—",
                         f"!{len(est.warnings)}" if est is not None and est.warnings else ""])
        per_a = []
        for p in self.points:
            for s in p["per_spacing"]:
                tail = s.get("model", "line") != "line"
                per_a.append([f"{p['mass']:g}", f"{p['q']:g}", f"{p['theta']:.4g}", f"{s['spacing']:.4g}",
                              s["n_sites"], len(s["separations"]), s.get("model", "line"), f"{s['sigma']:.6f}",
                              f"{s['error']:.1e}", f"{s['tail_mass']:.3f}" if tail else "—",
                              f"{s['ends_mass']:.3f}" if "ends_mass" in s else "—",
                              f"{s['line_sigma']:.6f}" if tail else "—"])
        return (format_table(["m/g", "q", "θ", "σ/g² (a → 0)", "fit err", "syst", "MPT O(m²)", "MPT O(m)",
                              "rel. dev.", "warn"], rows)
                + "\n\nslopes per spacing:\n"
                + format_table(["m/g", "q", "θ", "a", "N", "ℓ's", "E₀(ℓ) model", "σ(a)", "fit err", "tail M",
                                "ends μ", "line σ(a)"], per_a)
                + "".join(f"\n\nwarning (m/g = {p['mass']:g}, q = {p['q']:g}): {w}" for p in self.points
                          if p["estimate"] is not None for w in p["estimate"].warnings))

    def to_dict(self) -> dict[str, Any]:
        points = [{**p, "estimate": None if p["estimate"] is None else p["estimate"].to_dict()} for p in self.points]
        return {"study": "string_tension", "settings": self.settings, "rows": self.rows, "points": points}

    def plot(self, path: Any) -> None:
        """E₀(ℓ) per spacing (first point) and σ(a) with the continuum fit and the MPT value, per point."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        first = self.points[0]
        for s in first["per_spacing"]:
            x = np.array(s["separations"])
            axes[0].plot(x, np.array(s["energies"]) - s["intercept"], "o-", ms=3, label=f"a = {s['spacing']:.3g}")
        axes[0].set_xlabel("ℓ g")
        axes[0].set_ylabel("E₀(ℓ) − c  [g]")
        axes[0].set_title(f"m/g = {first['mass']:g}, q = {first['q']:g}, θ = {first['theta']:.3g}")
        axes[0].legend(fontsize=7)
        for p in self.points:
            a = [s["spacing"] for s in p["per_spacing"]]
            y = [s["sigma"] for s in p["per_spacing"]]
            e = [s["error"] for s in p["per_spacing"]]
            bars = axes[1].errorbar(a, y, yerr=e, fmt="o", capsize=2,
                                    label=f"m = {p['mass']:g}, q = {p['q']:g}, θ = {p['theta']:.3g}")
            color = bars[0].get_color()
            if p["estimate"] is not None:
                axes[1].errorbar([0.0], [p["estimate"].value], yerr=[p["estimate"].total_error], fmt="s", color=color,
                                 capsize=3)
                fit = p["fit"]
                xs = np.linspace(0, max(a), 40)
                axes[1].plot(xs, np.polynomial.polynomial.polyval(xs, fit["coefficients"]), "-", lw=0.8, color=color)
            axes[1].axhline(p["reference_mpt"], color=color, ls="--", lw=0.8)
        axes[1].set_xlabel("a g")
        axes[1].set_ylabel("σ / g²")
        axes[1].set_title("slopes, continuum fit (dashed: MPT to O(m²))")
        axes[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def analyze_string_tension(rows: list[dict[str, Any]], *, spacing_degree: int = 2,
                           settings: dict[str, Any] | None = None) -> StringTensionResult:
    """Slopes per spacing and continuum extrapolation per (m, q, θ) (module docstring)."""
    points = []
    for mass, q, theta in sorted({(r["mass"], r["q"], r["theta"]) for r in rows}):
        sel = [r for r in rows if (r["mass"], r["q"], r["theta"]) == (mass, q, theta)]
        spacings = sorted({r["spacing"] for r in sel}, reverse=True)

        # the screening-tail fit where every spacing has the separations for it and one to spare
        # (the drop-shortest variant refits the same model), else the straight line
        n_seps = min(len([r for r in sel if r["spacing"] == a]) for a in spacings)
        model = ("tail+ends" if n_seps >= ENDS_MIN_SEPARATIONS + 1 else "tail" if n_seps >= TAIL_MIN_SEPARATIONS + 1
                 else "line")

        def per_a(key: str = "energy", drop_shortest: bool = False, spacings: list[float] = spacings,
                  sel: list[dict[str, Any]] = sel, model: str = model, fallback: bool = False,
                  drop_longest: bool = False) -> list[dict[str, Any]]:
            out = []
            for a in spacings:
                chain_rows = [r for r in sel if r["spacing"] == a]
                res = _slope(chain_rows, key, drop_shortest, model, drop_longest=drop_longest)
                if res is None and fallback and model != "line":  # a degenerate tail (none in the data)
                    res = _slope(chain_rows, key, drop_shortest, "line", drop_longest=drop_longest)
                if res is not None:
                    out.append({"spacing": a, "n_sites": chain_rows[0]["n_sites"], **res})
            return out

        def extrapolate(items: list[dict[str, Any]], degree: int, drop_coarsest: bool = False,
                        powers: tuple[int, ...] | None = None) -> dict[str, Any] | None:
            items = items[1:] if drop_coarsest and len(items) > 1 else items
            if len(items) < (degree if powers is None else len(powers) - 1) + 2:
                return None
            return extrapolate_polynomial([s["spacing"] for s in items], [s["sigma"] for s in items],
                                          sigma=[max(s["error"], 1e-9) for s in items], degree=degree, powers=powers)

        base_a = per_a(fallback=True)
        base = extrapolate(base_a, spacing_degree)
        variants: dict[str, float | None] = {}

        def value(fit: dict[str, Any] | None) -> float | None:
            return None if fit is None else float(fit["value"])

        variants["spacing_degree+1"] = value(extrapolate(base_a, spacing_degree + 1))
        variants["drop_coarsest_a"] = value(extrapolate(base_a, spacing_degree, drop_coarsest=True))
        if spacing_degree == 1:  # the mass shift m − g²a/8 removes O(a): σ(a) = σ + c a² is as good a model
            variants["a^2_not_a"] = value(extrapolate(base_a, 1, powers=(0, 2)))
        variants["drop_shortest_separation"] = value(extrapolate(per_a(drop_shortest=True), spacing_degree))
        if model != "line":  # the probes nearest the chain's ends (their own boundary tail)
            variants["drop_longest_separation"] = value(extrapolate(per_a(drop_longest=True), spacing_degree))
        if model != "line":  # for the record, not sources: the models the tail fit corrects
            variants["straight_line"] = value(extrapolate(per_a(model="line"), spacing_degree))
        if model == "tail+ends":
            variants["tail_without_ends"] = value(extrapolate(per_a(model="tail"), spacing_degree))
        truncation = truncation_variant(sel, "energy")
        if truncation is not None:  # the chains on the line in the discarded weight (qlat.exact.dmrg_truncation)
            suffix, vname = truncation
            variants[vname] = value(extrapolate(per_a("energy" + suffix), spacing_degree))
        estimate = None
        if base is not None:
            groups = {"continuum": ("spacing_degree+1", "drop_coarsest_a", "a^2_not_a"),
                      "screening tail": ("drop_shortest_separation",),
                      "probes near the ends": ("drop_longest_separation",), "truncation": ("truncation(line)", "truncation(chi/2)")}
            sources = {}
            for source, names in groups.items():
                shifts = [abs(variants[n] - base["value"]) for n in names if variants.get(n) is not None]
                if shifts:
                    sources[source] = max(shifts)
            estimate = Estimate(base["value"], base["error"], name="string_tension", unit="g^2", backend="ed+dmrg",
                                n_samples=len(base["x"]),
                                provenance=provenance(study="string_tension", mass=mass, q=q, theta=theta, fit=base,
                                                      variants=variants, separation_model=model)
                                ).with_systematic(sources)
            for message in record_warnings(sel):  # emitted when the chain was measured
                estimate = estimate.with_warning(message, emit=False)
            if base["dof"] == 0:
                estimate = estimate.with_warning(f"continuum extrapolation from {len(base['x'])} spacings with no "
                                                 "degree of freedom: the fit cannot test its model")
            curved = _curvature_warning(base_a)
            if curved is not None:
                estimate = estimate.with_warning(curved)
        points.append({"mass": mass, "q": q, "theta": theta, "separation_model": model, "per_spacing": base_a, "fit": base, "variants": variants,
                       "estimate": estimate, "reference_mpt": string_tension_mpt(q, theta, mass=mass),
                       "reference_first_order": string_tension_mpt(q, theta, mass=mass, second_order=False)})
    return StringTensionResult(rows=rows, points=points, settings=dict(settings or {}, spacing_degree=spacing_degree))


def string_tension_study(
    *,
    masses: Sequence[float] = (0.1,),
    charges: Sequence[float] = (0.5,),
    thetas: Sequence[float] = (0.0,),
    spacings: Sequence[float] = (0.5, 0.4, 1.0 / 3.0, 0.25),
    length: float = 32.0,
    separations: Sequence[float] = (8.0, 10.0, 12.0, 14.0),
    method: str = "auto",
    bond_dim: int = 48,
    spacing_degree: int = 2,
    cache: RowCache | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    plan_only: bool = False,
) -> StringTensionResult | list[dict[str, Any]]:
    """Ground energies with probe pairs on the (m, q, θ, a, ℓ) grid, then :func:`analyze_string_tension`.

    ``length``: the chain's physical length L (N = the even integer nearest L/a);
    ``separations``: probe distances ℓ (each becomes the odd number of sites nearest ℓ/a; keep
    (L − ℓ)/2 several correlation lengths).  q in units of g (|q| ≤ ½ for a string that pair
    creation cannot break), θ in radians.
    """
    require(len(masses) >= 1 and all(math.isfinite(m) and m >= 0 for m in masses), "masses",
            "must be finite masses >= 0", list(masses))
    require(len(charges) >= 1 and all(math.isfinite(q) and 0 < abs(q) <= 0.5 for q in charges), "charges",
            "must be probe charges with 0 < |q| <= 1/2", list(charges))
    require(len(thetas) >= 1 and all(math.isfinite(t) for t in thetas), "thetas", "must be finite angles (radians)",
            list(thetas))
    require(len(spacings) >= 1 and all(math.isfinite(a) and a > 0 for a in spacings), "spacings",
            "must be positive lattice spacings", list(spacings))
    require(math.isfinite(length) and length > 0, "length", "must be a positive length", length)
    require(len(separations) >= 3 and all(math.isfinite(s) and 0 < s < length for s in separations), "separations",
            "needs at least 3 distances in (0, length)", list(separations))
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    cache = cache if cache is not None else RowCache()
    planned: list[dict[str, Any]] = []
    start = time.perf_counter()
    rows = []
    for mass in sorted(float(m) for m in masses):
        for q in sorted(float(q) for q in charges):
            for theta in sorted(float(t) for t in thetas):
                for a in sorted((float(a) for a in spacings), reverse=True):
                    n = max(4, 2 * int(round(length / a / 2.0)))
                    seps = sorted({probe_separation(s / a, n) for s in separations})
                    require(len(seps) >= 3, "separations", f"give at least 3 distinct odd site counts at a = {a:g}",
                            seps)
                    for sep in seps:
                        key = {"study": "string_tension", "n_sites": n, "spacing": a, "mass": mass, "q": q,
                               "theta": theta, "separation": sep, "method": method, "bond_dim": int(bond_dim)}
                        if plan_only:
                            planned.append(key)
                            continue
                        row, new = cache.fetch(key, lambda n=n, a=a, sep=sep, m=mass, q=q, t=theta: measure_probe_chain(
                            n, a, m, theta=t, q=q, separation=sep, method=method, bond_dim=bond_dim))
                        if new and progress is not None:
                            progress(row)
                        rows.append(row)
    if plan_only:
        return planned
    settings = {"masses": sorted(float(m) for m in masses), "charges": sorted(float(q) for q in charges),
                "thetas": sorted(float(t) for t in thetas), "spacings": sorted(float(a) for a in spacings),
                "length": float(length), "separations": sorted(float(s) for s in separations), "method": method,
                "bond_dim": int(bond_dim), "formulation": "electric", "mass_shift": True,
                "seconds": round(time.perf_counter() - start, 3)}
    return analyze_string_tension(rows, spacing_degree=spacing_degree, settings=settings)
