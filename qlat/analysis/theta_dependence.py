r"""Continuum θ-dependence of the massive Schwinger model from open chains: ℰ(θ) − ℰ(0), χ_t and ⟨E⟩.

For each fermion mass m and spacing a, ground states of open chains in the *electric*
formulation (θ as the background field θ/2π at the ends, Honda et al. arXiv:2105.03276) with
the staggered mass shift m_lat = m − g²a/8 (Dempsey, Klebanov, Pufu, Zan, arXiv:2206.05308),
at physical lengths L₁ < L₂ (< L₃; N = L/a) and on a grid of θ.  The two *longest* chains form
the bulk differences, in which the open-boundary contributions cancel up to e^{−M L}
(as in :func:`qlat.analysis.schwinger_crosscheck.bulk_theta_point`):

- **energy density**: ℰ(θ) − ℰ(0) = [ΔE(N₂) − ΔE(N₁)]/((N₂ − N₁)a), ΔE(N) = E₀(N, θ) − E₀(N, 0);
- **electric field**: ⟨E⟩/g = [Σ_n E_n(N₂) − Σ_n E_n(N₁)]/(N₂ − N₁), the field summed over the
  links of each chain (an even number of extra links: the staggered oscillation cancels).  By
  Hellmann–Feynman, ∂E₀/∂θ = (g²a/2π) Σ_n ⟨E_n⟩/g, so this is E = 2π ∂ℰ/∂θ / g of the same
  bulk.  (The field averaged over the central half of one chain, kept in each row as ``field``,
  is not used: at m/g = 0.1, θ = 2.4 it is still 12 % above the bulk value at L = 20, the
  boundary layer decaying only as e^{−M x}, M ≈ 0.4 g near θ = π);
- **topological susceptibility** χ_t = ∂²ℰ/∂θ²|₀: from a fit of the θ grid,
  ℰ(θ) − ℰ(0) = (χ_t/2)θ² + c₄θ⁴ + c₆θ⁶ (variant: from the field, E = (2π/g²)(χ_t θ + …)).

Every quantity is then extrapolated a → 0 in one of two forms with d = ``spacing_degree``
non-constant terms: powers of a², c₀ + c₂a² + … + c_{2d}a^{2d} (``continuum="even"``: with the
mass shift the leading lattice artifact is O(a²), Dempsey et al.; on the recorded chains,
a = 0.5 … 0.2, c₀ + c₂a² + c₄a⁴ leaves residuals 0.5–4·10⁻⁵ (m/g = 0.1) and 4·10⁻³ (m/g = 2) of
those of c₀ + c₁a + c₂a²), or powers of a, c₀ + c₁a + … + c_d a^d (``"polynomial"``).  ``"auto"`` (default) takes per quantity the form with the smaller residual sum of
squares (same number of parameters) and the other one as a variant.
Errors: the fit error of the continuum extrapolation (``error``) and systematic sources:
continuum (one more power, dropping the coarsest a, the other form), finite volume (with a third length, the pair
(L₁, L₃) instead of (L₂, L₃): its shift is about twice the e^{−ML} error of the pair used, for
L's 4/g apart and M ≈ 0.4 g), truncation (DMRG: the ground states on the line in the discarded
weight of χ/2 and χ, :mod:`qlat.exact.dmrg_truncation`; × its observable factor for the field)
and, for χ_t, the θ-fit form.

Comparisons (:mod:`qlat.exact.continuum`; :meth:`ThetaDependenceResult.comparisons`): first-order
mass perturbation theory ℰ(θ) − ℰ(0) = mΣ(1 − cos θ), E/g = 2πmΣ sin θ/g², χ_t = mΣ
(Σ = e^γ g/(2π^{3/2})), with the second-order term of Adam (arXiv:hep-th/9704064) as in
Dempsey et al. arXiv:2206.05308 eq. (24), ⟨E⟩/g ⊃ −(8.9139 e^{2γ}/4π)(m/g)² sin 2θ, i.e.
ℰ ⊃ A m²(cos 2θ − 1) with A = 8.9139 e^{2γ}/(16π²) = 0.1791 (the O(m³) term is not known to
us); the heavy-mass limit ℰ(θ) − ℰ(0) = (g²/2)(θ/2π)², E/g = θ/2π, χ_t = g²/4π² (|θ| < π), and
the same times the one-loop screening 1 − g²/(6πm²) (:func:`qlat.exact.continuum.heavy_mass_screening`;
the O(g⁴/m⁴) term is not included).  Mass perturbation theory is the reference for m < g, the
screened heavy-mass limit for m ≥ g.
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
from qlat.exact import continuum
from qlat.exact.continuum import mpt_second_order_coefficient  # re-exported: A of ℰ ⊃ A m² cos 2θ
from qlat.exact.dmrg_truncation import OBSERVABLE_FACTOR, record_warnings, truncation_variant
from qlat.exact.levels import ED_LEVELS_MAX_SITES, dmrg_levels, ed_levels
from qlat.theories.schwinger_qubit import SchwingerChain

#: the number of Fourier terms c_k (1 − cos kθ) fitted to ℰ(θ) − ℰ(0) (fewer when the θ grid is small)
FOURIER_TERMS = 3

__all__ = ["ThetaDependenceResult", "analyze_theta_dependence", "measure_theta_chain", "mpt_second_order_coefficient",
           "theta_dependence_study"]

def _references(mass: float, theta: float) -> dict[str, dict[str, float]]:
    sigma = continuum.sigma()
    a2 = mpt_second_order_coefficient()
    mpt1 = {"delta_energy_density": float(continuum.mpt_energy_density(theta, mass=mass)),
            "electric_field": 2.0 * math.pi * mass * sigma * math.sin(theta),
            "chi_t": continuum.mpt_topological_susceptibility(mass=mass)}
    # E/g = (2π/g²) ∂ℰ/∂θ of the second-order ℰ (Dempsey et al. 2022, eq. (24))
    mpt2 = {"delta_energy_density": float(continuum.mpt_second_order_energy_density(theta, mass=mass)),
            "electric_field": mpt1["electric_field"] - 4.0 * math.pi * a2 * mass**2 * math.sin(2 * theta),
            "chi_t": continuum.mpt_second_order_topological_susceptibility(mass=mass)}
    heavy = {"delta_energy_density": float(continuum.quenched_energy_density(theta)),
             "electric_field": theta / (2.0 * math.pi) if abs(theta) <= math.pi else math.nan,
             "chi_t": continuum.quenched_topological_susceptibility()}
    # the Fourier coefficients of ℰ(θ) − ℰ(0) = Σ_k c_k (1 − cos kθ) (module docstring); none for the heavy mass
    for k in range(1, FOURIER_TERMS + 1):
        mpt1[f"fourier_c{k}"] = mass * sigma if k == 1 else 0.0
        mpt2[f"fourier_c{k}"] = {1: mass * sigma, 2: -a2 * mass**2}.get(k, 0.0)
        heavy[f"fourier_c{k}"] = math.nan
    refs = {"mpt_first_order": mpt1, "mpt_second_order": mpt2, "heavy_mass": heavy}
    if mass >= 1.0:  # the one-loop factor 1 − g²/(6πm²) is an expansion in g²/m² (negative below m ≈ 0.23 g)
        screening = continuum.heavy_mass_screening(mass=mass)
        refs["heavy_mass_one_loop"] = {k: v * screening for k, v in heavy.items()}
    return refs


#: the reference each mass is compared with (module docstring) and the size of its first omitted term
def _applicable(mass: float) -> str:
    return "mpt_second_order" if mass < 1.0 else "heavy_mass_one_loop"


def _omitted(mass: float, refs: dict[str, float], kind: str, key: str) -> float:
    """A heuristic size of the reference's first omitted term (not included in ``z``).

    MPT to O(m²): at order mᵏ only cos jθ with j ≤ k, j ≡ k (mod 2) appear, so the O(m³) term is
    δc₁(1 − cos θ) + c₃(1 − cos 3θ) and c₂ is exact to O(m⁴).  Each unknown coefficient is given
    the size κ = A m² x, x = 4Am/Σ = 4.48 m/g (the O(m²) term times the ratio of the O(m²) to the
    O(m) term of χ_t, as in :mod:`qlat.analysis.light_mass_crosscheck`); c₂ gets A m² x².  Hence
    κ√((1 − cos θ)² + (1 − cos 3θ)²) for ℰ, 2πκ√(sin²θ + 9 sin²3θ) for E/g and κ√(1 + 9²) for χ_t.
    Heavy mass: the one-loop term × g²/(6πm²).
    """
    if kind == "mpt_second_order":
        a2 = mpt_second_order_coefficient()
        x = 4.0 * a2 * mass / continuum.sigma()
        kappa = a2 * mass**2 * x
        name, theta = (key, 0.0) if "@" not in key else (key.split("@")[0], float(key.split("@")[1]))
        shape = {"fourier_c1": 1.0, "fourier_c2": x, "fourier_c3": 1.0, "chi_t": math.hypot(1.0, 9.0),
                 "delta_energy_density": math.hypot(1.0 - math.cos(theta), 1.0 - math.cos(3.0 * theta)),
                 "electric_field": 2.0 * math.pi * math.hypot(math.sin(theta), 3.0 * math.sin(3.0 * theta))}
        return kappa * shape[name]
    return abs(refs["heavy_mass"] - refs["heavy_mass_one_loop"]) / (6.0 * math.pi * mass**2)


def _central_field(chain: SchwingerChain, z: np.ndarray) -> float:
    field_profile = chain.electric_field(z)
    links = field_profile.size
    lo = links // 4
    hi = links - lo
    if (hi - lo) % 2:
        hi -= 1
    return float(field_profile[lo:hi].mean())


def _field_sum(chain: SchwingerChain, z: np.ndarray) -> float:
    """Σ_n E_n/g over the N − 1 links: (2π/(g²a)) ∂E₀/∂θ (Hellmann–Feynman, electric formulation)."""
    return float(chain.electric_field(z).sum())


def measure_theta_chain(n_sites: int, spacing: float, mass: float, theta: float, *, method: str = "auto",
                        bond_dim: int = 48) -> dict[str, Any]:
    """One row: ground energy and central field of the electric-formulation chain (N, a, m, θ) with the mass shift."""
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    start, cpu = time.perf_counter(), time.process_time()
    chain = SchwingerChain(int(n_sites), float(spacing), float(mass), theta=float(theta), formulation="electric",
                           mass_shift=True)
    use_ed = method == "ed" or (method == "auto" and n_sites <= ED_LEVELS_MAX_SITES)
    lv = ed_levels(chain, 1) if use_ed else dmrg_levels(chain, 1, bond_dim=bond_dim)
    row: dict[str, Any] = {
        "n_sites": int(n_sites), "spacing": float(spacing), "volume": float(n_sites * spacing), "mass": float(mass),
        "theta": float(theta), "method": lv.method, "bond_dim": None if use_ed else int(bond_dim),
        "energy": float(lv.energies[0]), "field": _central_field(chain, lv.z_expectations()[0]),
        "field_sum": _field_sum(chain, lv.z_expectations()[0]),
    }
    if lv.reference_energies is not None:
        row.update(energy_reference=float(lv.reference_energies[0]),
                   field_reference=_central_field(chain, lv.z_expectations(reference=True)[0]),
                   energy_line=float(lv.line_energies()[0]),
                   field_line=_central_field(chain, lv.z_expectations(line=True)[0]),
                   field_sum_reference=_field_sum(chain, lv.z_expectations(reference=True)[0]),
                   field_sum_line=_field_sum(chain, lv.z_expectations(line=True)[0]),
                   truncation_warnings=lv.line_row_warnings())
    row.update(converged=bool(lv.details.get("converged", True)), seconds=round(time.perf_counter() - start, 3),
               cpu_seconds=round(time.process_time() - cpu, 3))
    return row


def _per_spacing(rows: list[dict[str, Any]], *, mass: float, spacing: float, volumes: tuple[float, float],
                 suffix: str = "") -> dict[str, Any] | None:
    """ℰ(θ) − ℰ(0), ⟨E⟩(θ) and χ_t at one spacing from the bulk differences of the chains of lengths ``volumes``."""
    def chain_rows(vol: float) -> dict[float, dict[str, Any]]:
        return {r["theta"]: r for r in rows if r["mass"] == mass and r["spacing"] == spacing
                and abs(r["volume"] - vol) < 1e-9}

    short, long_ = chain_rows(volumes[0]), chain_rows(volumes[1])
    thetas = sorted(set(short) & set(long_))
    if 0.0 not in thetas or len(thetas) < 2:
        return None
    n1, n2 = next(iter(short.values()))["n_sites"], next(iter(long_.values()))["n_sites"]
    length = (n2 - n1) * spacing
    ekey, fkey = "energy" + suffix, "field_sum" + suffix
    get = (lambda r, k: r.get(k, r[k.replace(suffix, "")]) if suffix else r[k])
    out: dict[str, Any] = {"spacing": spacing, "n_sites": [n1, n2], "thetas": [t for t in thetas if t != 0.0],
                           "energy": [], "field": []}
    for t in out["thetas"]:
        d2 = get(long_[t], ekey) - get(long_[0.0], ekey)
        d1 = get(short[t], ekey) - get(short[0.0], ekey)
        out["energy"].append((d2 - d1) / length)
        out["field"].append((get(long_[t], fkey) - get(short[t], fkey)) / (n2 - n1))
    out["chi_t"] = _chi_t(out["thetas"], out["energy"])
    out["fourier"] = _fourier(out["thetas"], out["energy"])
    out["chi_t_field"] = _chi_t_field(out["thetas"], out["field"])
    return out


def _chi_t(thetas: Sequence[float], energy: Sequence[float], degree: int | None = None) -> float | None:
    """2c₁ of ℰ = c₁θ² + c₂θ⁴ + … through the origin (degree: number of even powers, ≤ points)."""
    t = np.asarray(thetas, dtype=float)
    y = np.asarray(energy, dtype=float)
    k = min(3, t.size) if degree is None else min(degree, t.size)
    if k < 1:
        return None
    design = np.stack([t ** (2 * (j + 1)) for j in range(k)], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(2.0 * coef[0])


def _fourier(thetas: Sequence[float], energy: Sequence[float], terms: int | None = None) -> list[float] | None:
    """c₁ … c_K of ℰ(θ) − ℰ(0) = Σ_k c_k (1 − cos kθ), K = min(FOURIER_TERMS, points − 1) (≥ 1 dof)."""
    t = np.asarray(thetas, dtype=float)
    k = min(FOURIER_TERMS, t.size - 1) if terms is None else min(terms, t.size)
    if k < 2:
        return None
    design = np.stack([1.0 - np.cos((j + 1) * t) for j in range(k)], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.asarray(energy, dtype=float), rcond=None)
    return [float(c) for c in coef]


def _chi_t_field(thetas: Sequence[float], field_values: Sequence[float], degree: int | None = None) -> float | None:
    """(g²/2π) b₁ of E = b₁θ + b₃θ³ + … (through the origin)."""
    t = np.asarray(thetas, dtype=float)
    y = np.asarray(field_values, dtype=float)
    k = min(3, t.size) if degree is None else min(degree, t.size)
    if k < 1:
        return None
    design = np.stack([t ** (2 * j + 1) for j in range(k)], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(coef[0] / (2.0 * math.pi))


def _powers(spacing_degree: int, even: bool) -> tuple[int, ...]:
    """The powers of a of the continuum fit: 0, 2, …, 2d (even) or 0, 1, …, d."""
    return tuple(range(0, 2 * spacing_degree + 1, 2)) if even else tuple(range(spacing_degree + 1))


def _continuum(per_a: list[dict[str, Any]], *, powers: tuple[int, ...], drop_coarsest: bool = False
               ) -> dict[str, Any]:
    """Continuum fits of every quantity (per θ) from the per-spacing results."""
    per_a = sorted((p for p in per_a if p is not None), key=lambda p: -p["spacing"])
    if drop_coarsest and len(per_a) > 1:
        per_a = per_a[1:]
    out: dict[str, Any] = {}
    if len(per_a) < len(powers) + 1:
        return out
    a = [p["spacing"] for p in per_a]
    thetas = sorted(set.intersection(*(set(p["thetas"]) for p in per_a)))
    for t in thetas:
        for name in ("energy", "field"):
            y = [p[name][p["thetas"].index(t)] for p in per_a]
            out[f"{name}@{t:.6g}"] = extrapolate_polynomial(a, y, powers=powers)
    for name in ("chi_t", "chi_t_field"):
        y = [p[name] for p in per_a]
        if all(v is not None for v in y):
            out[name] = extrapolate_polynomial(a, y, powers=powers)
    coefs = [p.get("fourier") for p in per_a]
    if all(c is not None for c in coefs) and len({len(c) for c in coefs}) == 1:  # type: ignore[arg-type]
        for j in range(len(coefs[0])):  # type: ignore[arg-type]
            out[f"fourier_c{j + 1}"] = extrapolate_polynomial(a, [c[j] for c in coefs],  # type: ignore[index]
                                                              powers=powers)
    return out


@dataclass
class ThetaDependenceResult:
    """Outcome of :func:`theta_dependence_study`: rows, per-spacing values, continuum Estimates per mass."""

    rows: list[dict[str, Any]]
    masses: dict[float, dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)

    def comparisons(self) -> list[dict[str, Any]]:
        """Every continuum estimate against the reference for its mass (module docstring).

        ``z`` = (value − reference)/total error of the estimate alone; ``omitted`` is the heuristic
        size of the reference's first omitted term (:func:`_omitted`), which ``z`` does not include
        and ``z_with_omitted`` adds in quadrature.  References that are not defined (NaN: the
        Fourier coefficients of the heavy-mass limit) are left out.
        """
        out = []
        for mass, data in sorted(self.masses.items()):
            kind = _applicable(mass)
            for key, est in data["estimates"].items():
                refs = data["references"][key]
                ref = refs[kind]
                if not math.isfinite(ref):
                    continue
                omitted = _omitted(mass, refs, kind, key)
                out.append({"mass": mass, "quantity": key, "value": est.value, "error": est.error,
                            "systematic": est.systematic, "total_error": est.total_error, "reference": kind,
                            "reference_value": ref, "deviation": est.value - ref,
                            "relative_deviation": (est.value - ref) / ref if ref else math.nan,
                            "z": est.z_score(ref), "omitted": omitted,
                            "z_with_omitted": est.z_score(ref, other_error=omitted),
                            "z_all": {k: est.z_score(v) for k, v in refs.items()}, "warned": bool(est.warnings)})
        return out

    def table(self) -> str:
        from qlat.analysis.tables import format_table

        out = []
        kinds = ("mpt_first_order", "mpt_second_order", "heavy_mass", "heavy_mass_one_loop")
        for mass, data in sorted(self.masses.items()):
            rows = []
            for key, est in data["estimates"].items():
                refs = data["references"].get(key, {})
                rows.append([key, str(est), f"{est.error:.1e}", f"{est.systematic:.1e}",
                             *(f"{refs.get(r, math.nan):.5f}" for r in kinds), "!" if est.warnings else ""])
            out.append(f"m/g = {mass:g}\n" + format_table(
                ["quantity", "continuum", "fit err", "syst", "MPT 1st", "MPT 2nd", "heavy mass", "heavy 1-loop",
                 "warn"], rows))
            comp = [c for c in self.comparisons() if c["mass"] == mass]
            if comp:
                out.append(f"m/g = {mass:g} against {comp[0]['reference']} (z: the estimate's error only; "
                           "omitted: size of the reference's first omitted term)\n" + format_table(
                               ["quantity", "reference", "deviation", "rel. dev.", "z", "omitted", "z (with omitted)"],
                               [[c["quantity"], f"{c['reference_value']:.6f}", f"{c['deviation']:+.2e}",
                                 f"{100 * c['relative_deviation']:+.3f}%" if c["reference_value"] else "—",
                                 f"{c['z']:+.2f}", f"{c['omitted']:.1e}", f"{c['z_with_omitted']:+.2f}"]
                                for c in comp]))
            var = data["variants"]
            if var:
                out.append("variants (a → 0 values): " + "; ".join(
                    f"{name}: " + ", ".join(f"{k} = {v:.6g}" for k, v in vals.items()
                                           if k.startswith(("energy@", "chi_t", "fourier")) and not k.startswith("chi_t_field"))
                    for name, vals in var.items() if vals))
        return "\n\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {"study": "theta_dependence", "settings": self.settings, "rows": self.rows,
                "masses": {f"{m:g}": {"per_spacing": d["per_spacing"], "fits": d["fits"], "variants": d["variants"],
                                      "estimates": {k: v.to_dict() for k, v in d["estimates"].items()},
                                      "references": d["references"]} for m, d in self.masses.items()},
                "comparisons": self.comparisons()}

    def plot(self, path: Any) -> None:
        """ℰ(θ) − ℰ(0) and ⟨E⟩(θ) in the continuum per mass, with MPT and the heavy-mass limit."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        grid = np.linspace(0.0, math.pi, 100)
        for mass, data in sorted(self.masses.items()):
            for ax, name in ((axes[0], "delta_energy_density"), (axes[1], "electric_field")):
                pts = [(float(k.split("@")[1]), v) for k, v in data["estimates"].items() if k.startswith(name + "@")]
                if not pts:
                    continue
                t, est = zip(*sorted(pts))
                bars = ax.errorbar(t, [e.value for e in est], yerr=[e.total_error for e in est], fmt="o", capsize=2,
                                   label=f"m/g = {mass:g} (a → 0)")
                color = bars[0].get_color()
                refs = [_references(mass, th) for th in grid]
                ax.plot(grid, [r[_applicable(mass)][name] for r in refs], "-", lw=0.8, color=color)
                if _applicable(mass) == "mpt_second_order":
                    ax.plot(grid, [r["mpt_first_order"][name] for r in refs], ":", lw=0.8, color=color)
        for ax, name, ylab in ((axes[0], "delta_energy_density", "(ℰ(θ) − ℰ(0)) / g²"),
                               (axes[1], "electric_field", "⟨E⟩ / g")):
            ax.plot(grid, [_references(1.0, th)["heavy_mass"][name] for th in grid], "k--", lw=0.8,
                    label="heavy-mass limit")
            ax.set_xlabel("θ")
            ax.set_ylabel(ylab)
            ax.legend(fontsize=7)
        axes[0].set_title("solid: MPT to O(m²) (m < g) or heavy mass × (1 − g²/6πm²); dotted: MPT O(m)", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def analyze_theta_dependence(rows: list[dict[str, Any]], *, volumes: Sequence[float], spacing_degree: int = 2,
                             continuum: str = "auto",
                             settings: dict[str, Any] | None = None) -> ThetaDependenceResult:
    """Bulk differences, χ_t fits and continuum extrapolations (module docstring)."""
    require(continuum in ("auto", "even", "polynomial"), "continuum", "must be auto, even or polynomial", continuum)
    vols = sorted(float(v) for v in volumes)
    require(len(vols) >= 2, "volumes", "needs at least two chain lengths L1 < L2", vols)
    masses: dict[float, dict[str, Any]] = {}
    for mass in sorted({r["mass"] for r in rows}):
        spacings = sorted({r["spacing"] for r in rows if r["mass"] == mass}, reverse=True)

        def actual(a: float, vol: float, mass: float = mass) -> float:
            cands = [r["volume"] for r in rows if r["mass"] == mass and r["spacing"] == a]
            return float(cands[int(np.argmin(np.abs(np.asarray(cands) - vol)))])

        def per_a(pair: tuple[int, int], suffix: str = "", mass: float = mass,
                  spacings: list[float] = spacings) -> list[dict[str, Any]]:
            out = []
            for a in spacings:
                res = _per_spacing(rows, mass=mass, spacing=a,
                                   volumes=(actual(a, vols[pair[0]]), actual(a, vols[pair[1]])), suffix=suffix)
                if res is not None:
                    out.append(res)
            return out

        base_pair = (len(vols) - 2, len(vols) - 1)  # the two longest chains
        base_a = per_a(base_pair)

        def values(fits: dict[str, Any]) -> dict[str, float]:
            return {k: float(v["value"]) for k, v in fits.items()}

        def form_fits(even: bool, base_a: list[dict[str, Any]] = base_a, mass: float = mass,
                      base_pair: tuple[int, int] = base_pair) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
            """The continuum fits in one form (powers of a² or of a) and its variants."""
            powers = _powers(spacing_degree, even)
            variants: dict[str, dict[str, float]] = {
                "spacing_degree+1": values(_continuum(base_a, powers=_powers(spacing_degree + 1, even))),
                "drop_coarsest_a": values(_continuum(base_a, powers=powers, drop_coarsest=True))}
            if len(vols) >= 3:  # the shorter chain one length down: about twice the e^{-ML} error of base_pair
                variants["shorter first chain"] = values(_continuum(per_a((len(vols) - 3, len(vols) - 1)),
                                                                   powers=powers))
            truncation = truncation_variant([r for r in rows if r["mass"] == mass], "energy")
            if truncation is not None:  # the chains on the line in the discarded weight (qlat.exact.dmrg_truncation)
                suffix, vname = truncation
                variants[vname] = values(_continuum(per_a(base_pair, suffix=suffix), powers=powers))
            theta_form = [{**p, "chi_t": _chi_t(p["thetas"], p["energy"], degree=2)} for p in base_a]
            theta_fit = _continuum(theta_form, powers=powers).get("chi_t")
            variants["chi_t_fit_degree-1"] = {} if theta_fit is None else {"chi_t": float(theta_fit["value"])}
            fewer = [{**p, "fourier": None if p["fourier"] is None else _fourier(p["thetas"], p["energy"],
                                                                                  terms=len(p["fourier"]) - 1)}
                     for p in base_a]
            variants["fourier_terms-1"] = {k: v for k, v in values(_continuum(fewer, powers=powers)).items()
                                           if k.startswith("fourier_c")}
            return _continuum(base_a, powers=powers), variants

        forms = {"even": form_fits(True), "polynomial": form_fits(False)}
        if continuum != "auto":
            forms = {continuum: forms[continuum]}
        # per quantity the form with the smaller residual sum of squares (same number of parameters);
        # the other form's value is the "continuum form" variant
        base: dict[str, Any] = {}
        variants: dict[str, dict[str, float]] = {}
        chosen: dict[str, str] = {}
        for key in forms[next(iter(forms))][0]:
            form = min(forms, key=lambda f: forms[f][0][key]["chi2"])
            chosen[key] = form
            base[key] = forms[form][0][key]
            for name, vals in forms[form][1].items():
                if key in vals:
                    variants.setdefault(name, {})[key] = vals[key]
            for other in forms:
                if other != form:
                    variants.setdefault("other continuum form", {})[key] = float(forms[other][0][key]["value"])
        groups = {"continuum": ("spacing_degree+1", "drop_coarsest_a", "other continuum form"),
                  "finite volume": ("shorter first chain",),
                  "truncation": ("truncation(line)", "truncation(chi/2)"), "theta fit": ("chi_t_fit_degree-1", "fourier_terms-1")}
        estimates: dict[str, Estimate] = {}
        references: dict[str, dict[str, float]] = {}
        for key, fit in base.items():
            if key == "chi_t_field":
                continue
            sources = {}
            for source, names in groups.items():
                # the field is first order in the state error: its line is x OBSERVABLE_FACTOR (dmrg_truncation)
                scale = OBSERVABLE_FACTOR if key.startswith("field") else 1.0
                shifts = [abs(variants[n][key] - fit["value"]) * (scale if n == "truncation(line)" else 1.0)
                          for n in names if key in variants.get(n, {})]
                if shifts:
                    sources[source] = max(shifts)
            if "chi_t_field" in base and key == "chi_t":
                sources["estimator (field slope)"] = abs(base["chi_t_field"]["value"] - fit["value"])
            name, theta = (key, 0.0) if "@" not in key else (key.split("@")[0], float(key.split("@")[1]))
            obs = {"energy": "delta_energy_density", "field": "electric_field"}.get(name, name)
            label = obs if "@" not in key else f"{obs}@{theta:.6g}"
            est = Estimate(fit["value"], fit["error"], name=label, unit="g" if obs == "electric_field" else "g^2",
                           backend="ed+dmrg", n_samples=len(fit["x"]),
                           provenance=provenance(study="theta_dependence", mass=mass, theta=theta, fit=fit,
                                                 continuum_form=chosen[key]))
            est = est.with_systematic(sources)
            for message in record_warnings([r for r in rows if r["mass"] == mass]):  # emitted when measured
                est = est.with_warning(message, emit=False)
            estimates[label] = est
            references[label] = {k: v[obs] for k, v in _references(mass, theta).items()}
        masses[mass] = {"per_spacing": base_a, "fits": base, "variants": variants, "estimates": estimates,
                        "references": references}
    return ThetaDependenceResult(rows=rows, masses=masses,
                                 settings=dict(settings or {}, spacing_degree=spacing_degree, continuum=continuum,
                                               volumes=vols))


def theta_dependence_study(
    *,
    masses: Sequence[float] = (0.1, 2.0),
    thetas: Sequence[float] = (0.4, 0.8, 1.6, 2.4),
    spacings: Sequence[float] = (0.5, 0.4, 1.0 / 3.0, 0.25, 0.2),
    volumes: Sequence[float] = (8.0, 12.0),
    method: str = "auto",
    bond_dim: int = 48,
    spacing_degree: int = 2,
    continuum: str = "auto",
    cache: RowCache | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    plan_only: bool = False,
) -> ThetaDependenceResult | list[dict[str, Any]]:
    """Ground states on the (m, a, L, θ) grid (θ = 0 added), then :func:`analyze_theta_dependence`.

    ``volumes``: the lengths L₁ < L₂ (< L₃: the finite-volume variant) of the bulk difference;
    each gives the even N nearest to L/a.  θ in radians, |θ| < π.  ``continuum``: the a → 0 fit in powers of a² ("even"), of a
    ("polynomial") or per quantity the one that fits better ("auto", the default), with
    ``spacing_degree`` non-constant terms (module docstring).
    """
    require(len(masses) >= 1 and all(math.isfinite(m) and m >= 0 for m in masses), "masses",
            "must be finite masses >= 0", list(masses))
    require(len(thetas) >= 1 and all(math.isfinite(t) and 0 < t < math.pi for t in thetas), "thetas",
            "must be angles in (0, pi) (radians)", list(thetas))
    require(len(spacings) >= spacing_degree + 2 and all(math.isfinite(a) and a > 0 for a in spacings), "spacings",
            f"needs at least spacing_degree + 2 = {spacing_degree + 2} positive spacings", list(spacings))
    require(len(volumes) >= 2 and all(math.isfinite(v) and v > 0 for v in volumes), "volumes",
            "needs at least two positive lengths", list(volumes))
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    require(continuum in ("auto", "even", "polynomial"), "continuum", "must be auto, even or polynomial", continuum)
    cache = cache if cache is not None else RowCache()
    planned: list[dict[str, Any]] = []
    start = time.perf_counter()
    rows = []
    grid = [0.0] + sorted(float(t) for t in thetas)
    for mass in sorted(float(m) for m in masses):
        for a in sorted((float(a) for a in spacings), reverse=True):
            sizes = sorted({max(4, 2 * int(round(v / a / 2.0))) for v in volumes})
            require(len(sizes) == len(set(volumes)), "volumes", f"give distinct chain lengths at a = {a:g}", sizes)
            for n in sizes:
                for t in grid:
                    key = {"study": "theta_dependence", "n_sites": n, "spacing": a, "mass": mass, "theta": t,
                           "method": method, "bond_dim": int(bond_dim)}
                    if plan_only:
                        planned.append(key)
                        continue
                    def compute(n: int = n, a: float = a, t: float = t, m: float = mass) -> dict[str, Any]:
                        return measure_theta_chain(n, a, m, t, method=method, bond_dim=bond_dim)

                    row, new = cache.fetch(key, compute)
                    if "field_sum" not in row:  # cached before the summed field was measured: measure again
                        row, new = compute(), True
                        cache.put(key, row)
                    if new and progress is not None:
                        progress(row)
                    rows.append(row)
    if plan_only:
        return planned
    settings = {"masses": sorted(float(m) for m in masses), "thetas": grid[1:],
                "spacings": sorted(float(a) for a in spacings), "method": method, "bond_dim": int(bond_dim),
                "formulation": "electric", "mass_shift": True, "seconds": round(time.perf_counter() - start, 3)}
    return analyze_theta_dependence(rows, volumes=volumes, spacing_degree=spacing_degree, continuum=continuum,
                                    settings=settings)
