"""The figure of a θ scan (:class:`qlat.analysis.scan.ThetaScan`): condensate, physical condensate shift,
bulk vacuum energy against first-order mass perturbation theory, and the continuum limit.

Error bars: statistical (caps) and statistical ⊕ systematic (wide, light) where a number has a
systematic error (simulated values: Trotter and adiabatic; DMRG: the χ vs χ/2 truncation). The
continuum panel shows, per volume L, the chains' bulk condensate against a with the preferred
fit and the band spanned by the candidate fits of the model average, the a → 0 value with its
total error, the final L → ∞ estimate as a band and the analytic −e^γ g/(2π^{3/2}).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Font sizes (points) of the figure: readable when the 4-panel figure is shrunk to a page width.
LABEL_SIZE, TITLE_SIZE, LEGEND_SIZE = 10, 10, 7.5
#: Candidate fits of the continuum panel's band: those with at least this Akaike weight.
BAND_MIN_WEIGHT = 0.01


def _value(v: Any) -> float:
    return float(v.value) if hasattr(v, "value") else float(v)


def _truncation(row: dict[str, Any], key: str) -> float:
    return float((row.get("truncation") or {}).get(key, 0.0))


def _errorbars(ax: Any, x: Any, values: list[Any], *, color: Any, label: str, fmt: str = "o") -> None:
    """Statistical bars with caps and, where there is a systematic error, wider light total bars."""
    y = [v.value for v in values]
    stat = [v.error for v in values]
    total = [float(np.hypot(v.error, v.systematic)) for v in values]
    if any(v.systematic for v in values):
        ax.errorbar(x, y, yerr=total, fmt="none", color=color, alpha=0.35, elinewidth=4, capsize=0)
    ax.errorbar(x, y, yerr=stat, fmt=fmt, mfc="none", color=color, capsize=3, label=label)


def _ground(ax: Any, th: Any, sel: list[dict[str, Any]], key: str, *, label: str, fmt: str, color: Any = None) -> Any:
    """A ground-state column against θ, with the DMRG truncation as systematic bars where it is known."""
    y = [_value(r[key]) for r in sel]
    line, = ax.plot(th, y, fmt, color=color, label=label)
    trunc = [_truncation(r, key) for r in sel]
    if any(trunc):
        ax.errorbar(th, y, yerr=trunc, fmt="none", color=line.get_color(), alpha=0.35, elinewidth=4, capsize=0)
    return line


def _continuum_panel(ax: Any, c: Any) -> None:
    """Bulk condensate vs a per volume, fits with their candidate band, a → 0 values, the L → ∞ estimate."""
    total = float(np.hypot(c.estimate.error, c.estimate.systematic))
    for i, group in enumerate(c.stage1):
        color = f"C{i % 10}"
        key = "volume" if "volume" in group else "spacing"
        if key != "volume":  # fixed-spacing: the a → 0 stage comes second; show the first-stage values only
            ax.errorbar([group[key]], [group["value"]], yerr=[np.hypot(group["error"], group["systematic"])],
                        fmt="o", color=color)
            continue
        rows = sorted((r for r in c.table if abs(float(r["volume"]) - group["volume"]) < 1e-6),
                      key=lambda r: r["spacing"])
        a = np.array([r["spacing"] for r in rows])
        ax.errorbar(a, [r["bulk"] for r in rows], yerr=[float(r.get("bulk_systematic", 0.0)) for r in rows],
                    fmt="o", mfc="none", color=color, capsize=2, label=f"L = {group['volume']:g}")
        dense = np.linspace(0.0, float(a.max()) * 1.05, 120)
        fit = group.get("fit") or {}
        curves = [(cand["powers"], cand["coefficients"]) for cand in fit.get("candidates", [])
                  if cand.get("weight", 0.0) >= BAND_MIN_WEIGHT]
        if fit.get("coefficients"):
            ax.plot(dense, _poly(dense, fit["powers"], fit["coefficients"]), "-", color=color, lw=1)
        if curves:
            ys = np.array([_poly(dense, p, co) for p, co in curves])
            ax.fill_between(dense, ys.min(axis=0), ys.max(axis=0), color=color, alpha=0.15, lw=0)
        ax.errorbar([0.0], [group["value"]], yerr=[np.hypot(group["error"], group["systematic"])], fmt="s",
                    color=color, capsize=3)
    ax.axhline(c.reference, color="k", ls="--", label="analytic −exp(γ)/(2π^1.5)")
    ax.axhspan(c.estimate.value - total, c.estimate.value + total, color="0.5", alpha=0.3,
               label=f"continuum, L → ∞: {c.estimate}")
    volume = all("volume" in g for g in c.stage1)
    ax.set_xlabel("lattice spacing a  [1/g]" if volume else "physical volume L = Na  [1/g]", fontsize=LABEL_SIZE)
    ax.set_ylabel("massless bulk ⟨ψ̄ψ⟩  [g]", fontsize=LABEL_SIZE)
    ax.set_title("continuum limit (squares: a → 0; band: candidate fits)", fontsize=TITLE_SIZE)


def _poly(x: Any, powers: list[int], coefficients: list[float]) -> Any:
    """Σ c_i x^{p_i} (the fits' x₀ = 0: a → 0)."""
    return sum(c * np.asarray(x) ** p for p, c in zip(powers, coefficients, strict=True))


def scan_figure(scan: Any) -> Any:
    """The figure of a :class:`~qlat.analysis.scan.ThetaScan`: 3 panels against θ (4 with the continuum limit); matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qlat.exact import continuum

    rows = scan.rows
    mass, coupling = scan.params["mass"], scan.params["coupling"]
    has_continuum = scan.continuum is not None
    n_panels = 4 if has_continuum else 3
    fig, axes = plt.subplots(1, n_panels, figsize=(5.0 * n_panels, 4.4))
    ax1, axp, ax2 = axes[0], axes[1], axes[2]
    src = scan.source
    for n, a in sorted({(r["n_sites"], r["spacing"]) for r in rows}):
        sel = [r for r in rows if (r["n_sites"], r["spacing"]) == (n, a)]
        th = np.array([r["theta"] for r in sel])
        line = _ground(ax1, th, sel, "condensate_design", label=f"{src} N={n} a={a:g}", fmt="-")
        color = line.get_color()
        if scan.simulated and "condensate" in sel[0]:
            _errorbars(ax1, th, [r["condensate"] for r in sel], color=color, label=f"{scan.backend} N={n} a={a:g}")
        _ground(ax2, th, sel, "bulk_delta_energy_density", label=f"{src} bulk N={n} a={a:g}", fmt="o-", color=color)
        _ground(axp, th, sel, "bulk_condensate_physical_shift", label=f"{src} bulk N={n} a={a:g}", fmt="o-",
                color=color)
    th_all = [r["theta"] for r in rows]
    dense = np.linspace(min(th_all), max(th_all), 200)
    ax2.plot(dense, continuum.mpt_energy_density(dense, mass=mass, coupling=coupling), "k--",
             label="mass perturbation theory O(m)")
    axp.plot(dense, continuum.mpt_condensate(dense, coupling=coupling) - continuum.mpt_condensate(0.0, coupling=coupling),
             "k--", label="−Σ(cos θ − 1), mass perturbation theory")
    for ax in (ax1, axp, ax2):
        ax.set_xlabel("vacuum angle θ  [rad]", fontsize=LABEL_SIZE)
    axp.set_ylabel("⟨ψ̄ψ⟩_phys(θ) − ⟨ψ̄ψ⟩_phys(0)  [g]", fontsize=LABEL_SIZE)
    axp.set_title("physical condensate ∂ℰ/∂m (bulk)", fontsize=TITLE_SIZE)
    ax1.set_ylabel("⟨ψ̄ψ⟩ = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩  [g]", fontsize=LABEL_SIZE)
    ax1.set_title(f"chiral condensate, m = {mass:g} g ({scan.params['formulation']})", fontsize=TITLE_SIZE)
    ax2.set_ylabel("[E(θ) − E(0)] per length (bulk)  [g²]", fontsize=LABEL_SIZE)
    ax2.set_title("θ dependence of the vacuum energy", fontsize=TITLE_SIZE)
    if has_continuum:
        _continuum_panel(axes[3], scan.continuum)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=LABEL_SIZE - 1)
        ax.legend(fontsize=LEGEND_SIZE)
    fig.tight_layout()
    return fig
