r"""The continuum massless chiral condensate from DMRG on long chains (N up to ~200).

The same study as :func:`qlat.analysis.schwinger_studies.continuum_condensate_massless` (ED, N ≤
22), with DMRG (:mod:`qlat.exact.dmrg`) in place of ED, so that the chains are long enough for
the bulk of the chain to be free of boundary effects and the spacing small enough for a
controlled a → 0 limit.  Target: the continuum value −e^γ g/(2π^{3/2}) = −0.1599288 g
(:func:`qlat.exact.continuum.massless_condensate`; Bañuls et al. arXiv:1310.4118 find
0.159930(8) with MPS).

Method (as the ED study, ``docs/conventions.md``):

- *Lattice mass.*  The massless point of the staggered theory is m_lat = −g²a/8 (Dempsey et al.
  2022), i.e. ``SchwingerModel(mass=0, mass_shift=True)``.
- *Bulk estimator.*  The site condensate c_n = (−1)^n ⟨Z_n⟩/(2a) is measured in the middle of
  the chain with b = (10 c_h + 5 c_{h+1} + c_{h+2})/16, h = N/2, which cancels the linear and
  cubic envelope of the staggered boundary oscillation (θ = 0: mirror-symmetric profile).
- *Fixed volume, then infinite volume.*  For each physical length L the spacing is a = L/N for
  every N given; a polynomial in a of degree ``spacing_degree`` extrapolates b to a → 0 (least
  squares, covariance scaled by the residual variance; each point's DMRG truncation error enters
  as a floor on its σ).  The values b(L) are then extrapolated to L → ∞ with a polynomial of
  degree ``volume_degree`` in x = e^{−ML}, M = g/√π, weighted by their first-stage errors (with
  a single volume this stage is skipped and the volume's value is quoted).
- *Error.*  The fit error of the preferred fit and a systematic, the largest shift under the
  variations "spacing degree + 1" and "drop the coarsest spacing", combined in quadrature.  (The
  ED study lowers the degree instead; on long chains the curvature in a is resolved, a
  degree-lowered fit is excluded by the data, and the omitted next power is the relevant doubt.)

The least-squares fits are written out with numpy here (Cov = (AᵀWA)⁻¹, as
:mod:`qlat.analysis.extrapolation`): exact/ must not import analysis/ (layer rule).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qlat.analysis.extrapolation import fit_polynomial
from qlat.analysis.schwinger_studies import ContinuumResult, bulk_condensate
from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.exact import continuum
from qlat.exact.dmrg import DMRGSettings, ground_state
from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["ContinuumResult", "bulk_condensate", "continuum_condensate_massless_dmrg", "measure_bulk_condensate"]




def _site_condensate(psi: Any, spacing: float) -> np.ndarray:
    from qlat.exact.schwinger_mpo import quiet_tenpy

    with quiet_tenpy():
        z = np.real(np.asarray(psi.expectation_value("Sigmaz"), dtype=complex))
    return (-1.0) ** np.arange(z.size) * z / (2.0 * spacing)


def measure_bulk_condensate(
    n_sites: int,
    spacing: float,
    *,
    bond_dim: int = 64,
    reference_bond_dim: int | None = None,
    coupling: float = 1.0,
    mass_shift: bool = True,
    settings: DMRGSettings | None = None,
) -> dict[str, Any]:
    """DMRG ground state of the massless chain (N, a) and its bulk condensate, one table row.

    The state is computed at ``reference_bond_dim`` (default χ/2) and then, warm-started, at χ;
    ``bulk_systematic`` = |b(χ) − b(χ_ref)| is the truncation error of ``bulk``.
    """
    start = time.perf_counter()
    model = SchwingerModel(int(n_sites), float(spacing), 0.0, coupling=coupling, mass_shift=mass_shift)
    settings = settings or DMRGSettings()
    ref = reference_bond_dim if reference_bond_dim is not None else max(2, bond_dim // 2)
    require(isinstance(ref, (int, np.integer)) and 2 <= ref < bond_dim, "reference_bond_dim",
            f"must be an integer in [2, bond_dim = {bond_dim})", ref)
    low = ground_state(model, settings=replace(settings, bond_dim=int(ref)))
    high = ground_state(model, initial=low.psi,
                        settings=replace(settings, bond_dim=int(bond_dim), mixer_sweeps=0, min_sweeps=2))
    profile_low = _site_condensate(low.psi, model.spacing)
    profile = _site_condensate(high.psi, model.spacing)
    bulk = bulk_condensate(profile)
    return {
        "n_sites": int(n_sites), "spacing": float(spacing), "volume": float(n_sites * spacing),
        "bulk": bulk, "bulk_systematic": abs(bulk - bulk_condensate(profile_low)),
        "chain_average": float(profile.mean()), "ground_energy": high.energy,
        "bond_dims": [int(ref), int(bond_dim)], "max_bond_dim": high.max_bond_dim,
        "discarded_weight": high.discarded_weight, "sweeps": [low.sweeps, high.sweeps],
        "seconds": time.perf_counter() - start,
    }


@dataclass(frozen=True)
class _Fit:
    value: float
    error: float
    coefficients: list[float]
    chi2: float
    dof: int

    def summary(self) -> dict[str, Any]:
        return {"value": self.value, "error": self.error, "coefficients": self.coefficients, "chi2": self.chi2,
                "dof": self.dof}


def _polyfit(x: Sequence[float], y: Sequence[float], *, degree: int, sigma: Sequence[float] | None = None) -> _Fit:
    """y ≈ Σ_k c_k x^k by :func:`qlat.analysis.extrapolation.fit_polynomial`; value c_0 at x = 0 and √Cov₀₀."""
    fit = fit_polynomial(x, y, sigma=sigma, degree=degree, x0=0.0)
    coef = [float(c) for c in fit.coefficients]
    return _Fit(coef[0], float(math.sqrt(max(fit.covariance[0, 0], 0.0))), coef, float(fit.chi2), int(fit.dof))


def _extrapolate(rows: list[dict[str, Any]], *, spacing_degree: int, volume_degree: int,
                 boson_mass: float) -> tuple[list[dict[str, Any]], _Fit]:
    volumes = sorted({r["volume"] for r in rows})
    stage1 = []
    for vol in volumes:
        sel = sorted((r for r in rows if r["volume"] == vol), key=lambda r: r["n_sites"])
        a = [r["spacing"] for r in sel]
        b = [r["bulk"] for r in sel]
        fit = _polyfit(a, b, degree=spacing_degree)
        # The DMRG truncation error is a floor under the fit error (an exact fit has error 0).
        floor = max(r["bulk_systematic"] for r in sel)
        stage1.append({"volume": vol, "value": fit.value, "error": math.hypot(fit.error, floor),
                       "fit": fit.summary()})
    if len(stage1) == 1:
        s = stage1[0]
        return stage1, _Fit(s["value"], s["error"], [s["value"]], 0.0, 0)
    x = [math.exp(-boson_mass * s["volume"]) for s in stage1]
    errors = [max(s["error"], 1e-12) for s in stage1]
    final = _polyfit(x, [s["value"] for s in stage1], degree=min(volume_degree, len(stage1) - 1), sigma=errors)
    return stage1, final


def _chain_lengths(volume: float, n_sites: Sequence[int] | None, spacings: Sequence[float] | None) -> list[int]:
    """The chain lengths of one volume: ``n_sites`` as given, or N = L/a for each spacing."""
    if n_sites is not None:
        return sorted({int(n) for n in n_sites})
    assert spacings is not None
    out = []
    for a in spacings:
        n = round(volume / a)
        require(abs(n * a - volume) < 1e-9 * volume and n % 2 == 0, "spacings",
                f"L/a must be an even integer for every volume (L = {volume:g}, a = {a:g})", a)
        out.append(int(n))
    return sorted(set(out))


def continuum_condensate_massless_dmrg(
    *,
    volumes: Sequence[float],
    n_sites: Sequence[int] | None = None,
    spacings: Sequence[float] | None = None,
    bond_dim: int = 64,
    spacing_degree: int = 2,
    volume_degree: int = 1,
    coupling: float = 1.0,
    settings: DMRGSettings | None = None,
    progress: Any = None,
) -> ContinuumResult:
    """Continuum, infinite-volume massless condensate from DMRG chains (module docstring).

    ``volumes``: physical lengths L = Na (L ≳ 20/g keeps the middle of the chain free of the
    boundaries).  Give ``n_sites`` (the same chain lengths for every L, a = L/N) or
    ``spacings`` (the same spacings for every L, N = L/a even), so that each volume has at
    least ``spacing_degree + 2`` chains.  Systematic variations: "spacing_degree+1" (one more
    power of a, when a residual degree of freedom is left) and "drop_coarsest_a" (each volume's
    largest spacing left out).  ``progress``: a callable receiving each finished table row (or
    None).  Returns a :class:`~qlat.analysis.schwinger_studies.ContinuumResult` (method ``"fixed-volume"``).
    """
    require((n_sites is None) != (spacings is None), "n_sites/spacings", "give exactly one of them")
    require(isinstance(spacing_degree, (int, np.integer)) and spacing_degree >= 1, "spacing_degree",
            "must be an integer >= 1", spacing_degree)
    require(isinstance(volume_degree, (int, np.integer)) and volume_degree >= 1, "volume_degree",
            "must be an integer >= 1", volume_degree)
    vols = sorted({float(v) for v in volumes})
    require(len(vols) >= 1 and all(v > 0 for v in vols), "volumes", "must be positive lengths", list(volumes))
    lengths = {vol: _chain_lengths(vol, n_sites, spacings) for vol in vols}
    for vol, sizes in lengths.items():
        require(len(sizes) >= spacing_degree + 2 and all(n >= 6 and n % 2 == 0 for n in sizes),
                "n_sites" if n_sites is not None else "spacings",
                f"needs at least spacing_degree + 2 = {spacing_degree + 2} distinct even chain lengths >= 6 "
                f"per volume (L = {vol:g})", sizes)
    boson_mass = continuum.boson_mass(coupling=coupling)
    rows = []
    for vol in vols:
        for n in lengths[vol]:
            row = measure_bulk_condensate(n, vol / n, bond_dim=bond_dim, coupling=coupling, settings=settings)
            rows.append(row)
            if progress is not None:
                progress(row)
    stage1, final = _extrapolate(rows, spacing_degree=spacing_degree, volume_degree=volume_degree,
                                 boson_mass=boson_mass)
    variants: dict[str, float] = {}
    fewest = min(len(sizes) for sizes in lengths.values())
    if fewest >= spacing_degree + 3:
        variants["spacing_degree+1"] = _extrapolate(rows, spacing_degree=spacing_degree + 1,
                                                    volume_degree=volume_degree, boson_mass=boson_mass)[1].value
        coarsest = {vol: max(r["spacing"] for r in rows if r["volume"] == vol) for vol in vols}
        subset = [r for r in rows if r["spacing"] != coarsest[r["volume"]]]
        variants["drop_coarsest_a"] = _extrapolate(subset, spacing_degree=spacing_degree,
                                                   volume_degree=volume_degree, boson_mass=boson_mass)[1].value
    systematic = max((abs(v - final.value) for v in variants.values()), default=0.0)
    error = math.hypot(final.error, systematic)
    study_settings = {
        "volumes": vols, "n_sites": {f"{vol:g}": lengths[vol] for vol in vols}, "bond_dim": int(bond_dim),
        "spacing_degree": int(spacing_degree), "volume_degree": int(volume_degree), "coupling": float(coupling),
        "mass_shift": True, "estimator": "bulk b = (10 c_h + 5 c_{h+1} + c_{h+2})/16, h = N/2",
        "volume_variable": "exp(-M L), M = g/sqrt(pi)",
    }
    estimate = Estimate(
        final.value, error, name="condensate", unit="g", backend="dmrg",
        provenance=provenance(
            study="continuum_condensate_massless_dmrg", **study_settings, fit_error=final.error,
            systematic_error=systematic, variants=variants,
            error_note="error = sqrt(fit_error^2 + systematic^2); systematic = largest shift under the variations",
            total_dmrg_seconds=float(sum(r["seconds"] for r in rows)),
        ),
    )
    return ContinuumResult(
        method="fixed-volume", table=rows, stage1=stage1, final_fit=final.summary(), estimate=estimate, variants=variants,
        reference=continuum.massless_condensate(coupling=coupling), settings=study_settings,
    )
