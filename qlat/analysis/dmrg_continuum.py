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
  every N given; the bulk values b are extrapolated to a → 0 over polynomials in a of degree
  1 … ``spacing_degree`` on the fit ranges that leave out up to two of the coarsest spacings, and
  the continuum values b(L) to L → ∞ over polynomials of degree 0 … ``volume_degree`` in
  x = e^{−ML}, M = g/√π (with a single volume this stage is skipped, with a warning).  Both stages
  are Akaike-weighted model averages (:func:`qlat.analysis.schwinger_studies.two_stage_extrapolation`,
  :func:`qlat.analysis.extrapolation.extrapolate_models`), the same code as the ED study.
- *Errors kept apart.*  ``error``: the fit error of the (exact) DMRG values propagated through
  both stages.  ``systematic``, with its sources: ``truncation`` — each chain's truncation
  error of b, the extrapolation of b(χ/2), b(χ) in the discarded weight
  (:mod:`qlat.exact.dmrg_truncation`, the calibrated systematic of every DMRG number in qlat),
  propagated through the fits; ``a->0 fit_model``/``fit_range`` and ``L->inf fit_model``/``fit_range``
  — the spread of the fit models.  The recorded L = 20, 24 study shows why the spread matters:
  a quadratic in a misses −e^γ/(2π^{3/2}) by 4·10⁻⁵ (5σ of its own fit error), the cubic that the
  data select (χ² of the quadratic 5·10³ times larger) lands within 3·10⁻⁶.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from qlat.analysis.schwinger_studies import ContinuumResult, bulk_condensate, continuum_result
from qlat.core.errors import require
from qlat.exact import continuum
from qlat.exact.dmrg import DMRGSettings, ground_state
from qlat.theories.schwinger_observables import site_condensate_values
from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["ContinuumResult", "bulk_condensate", "continuum_condensate_massless_dmrg", "continuum_from_rows",
           "measure_bulk_condensate"]


def _site_condensate(psi: Any, spacing: float) -> np.ndarray:
    from qlat.exact.schwinger_mpo import quiet_tenpy

    with quiet_tenpy():
        z = np.real(np.asarray(psi.expectation_value("Sigmaz"), dtype=complex))
    return site_condensate_values(z, spacing)


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
    ``bulk_systematic`` is the truncation error of ``bulk``: |b(χ) − b(χ_ref)| on the line in the
    discarded weight (:func:`qlat.exact.dmrg_truncation.line_systematic`, a first-order observable),
    at least the rounding floor; ``truncation`` records the weights, the line's fraction and the
    warnings (:func:`qlat.exact.dmrg_truncation.run_warnings`, also emitted).
    """
    from qlat.core.errors import warn
    from qlat.exact.dmrg_truncation import line_systematic, rounding_floor, run_factor, run_warnings

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
    factor = run_factor(low.summary(), high.summary())
    trust = run_warnings("ground", low.summary(), high.summary())
    for message in trust:
        warn(f"dmrg (N = {n_sites}, a = {spacing:g}): {message}")
    systematic = max(float(line_systematic(bulk - bulk_condensate(profile_low), factor, energy=False)),
                     float(rounding_floor(bulk, int(n_sites))))
    return {
        "n_sites": int(n_sites), "spacing": float(spacing), "volume": float(n_sites * spacing),
        "bulk": bulk, "bulk_systematic": systematic,
        "truncation": {"discarded_weights": [low.discarded_weight, high.discarded_weight],
                       "line_fraction": factor, "warnings": trust},
        "chain_average": float(profile.mean()), "ground_energy": high.energy,
        "bond_dims": [int(ref), int(bond_dim)], "max_bond_dim": high.max_bond_dim,
        "discarded_weight": high.discarded_weight, "sweeps": [low.sweeps, high.sweeps],
        "seconds": time.perf_counter() - start,
    }


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
    spacing_degree: int = 3,
    volume_degree: int = 1,
    coupling: float = 1.0,
    settings: DMRGSettings | None = None,
    progress: Any = None,
) -> ContinuumResult:
    """Continuum, infinite-volume massless condensate from DMRG chains (module docstring).

    ``volumes``: physical lengths L = Na (L ≳ 20/g keeps the middle of the chain free of the
    boundaries).  Give ``n_sites`` (the same chain lengths for every L, a = L/N) or
    ``spacings`` (the same spacings for every L, N = L/a even), at least 3 chains per volume.
    Fit models: polynomials in a of degree 1 … ``spacing_degree``, in e^{−ML} of degree
    0 … ``volume_degree`` (:func:`~qlat.analysis.schwinger_studies.continuum_models`).
    ``progress``: a callable receiving each finished table row (or None).  Returns a
    :class:`~qlat.analysis.schwinger_studies.ContinuumResult` (method ``"fixed-volume"``).
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
        require(len(sizes) >= 3 and all(n >= 6 and n % 2 == 0 for n in sizes),
                "n_sites" if n_sites is not None else "spacings",
                f"needs at least 3 distinct even chain lengths >= 6 per volume (L = {vol:g})", sizes)
    rows = []
    for vol in vols:
        for n in lengths[vol]:
            row = measure_bulk_condensate(n, vol / n, bond_dim=bond_dim, coupling=coupling, settings=settings)
            row["volume"] = vol
            rows.append(row)
            if progress is not None:
                progress(row)
    return continuum_from_rows(rows, spacing_degree=spacing_degree, volume_degree=volume_degree, coupling=coupling,
                               bond_dim=bond_dim)


def continuum_from_rows(rows: list[dict[str, Any]], *, spacing_degree: int = 3, volume_degree: int = 1,
                        coupling: float = 1.0, bond_dim: int | None = None) -> ContinuumResult:
    """The continuum study of rows already measured (:func:`measure_bulk_condensate`), e.g. a recorded table.

    Re-analysing ``benchmarks/results/dmrg_continuum_condensate.json``::

        continuum_from_rows(json.load(open(path))["table"], bond_dim=64)
    """
    require(len(rows) >= 3, "rows", "needs at least 3 measured chains", len(rows))
    vols = sorted({round(float(r["volume"]), 9) for r in rows})
    study_settings = {
        "volumes": vols,
        "n_sites": {f"{vol:g}": sorted(int(r["n_sites"]) for r in rows if round(float(r["volume"]), 9) == vol)
                    for vol in vols},
        "bond_dim": None if bond_dim is None else int(bond_dim),
        "spacing_degree": int(spacing_degree), "volume_degree": int(volume_degree), "coupling": float(coupling),
        "mass_shift": True, "estimator": "bulk b = (10 c_h + 5 c_{h+1} + c_{h+2})/16, h = N/2",
        "volume_variable": "exp(-M L), M = g/sqrt(pi)",
    }
    result = continuum_result(rows, method="fixed-volume", settings=study_settings,
                              boson_mass=continuum.boson_mass(coupling=coupling), coupling=coupling, backend="dmrg",
                              study="continuum_condensate_massless_dmrg")
    trust = [f"N = {r['n_sites']}, a = {float(r['spacing']):g}: {m}" for r in rows
             for m in (r.get("truncation") or {}).get("warnings", [])]
    estimate = result.estimate
    for message in trust:  # already emitted when the row was measured
        estimate = estimate.with_warning(message, emit=False)
    return replace(result, estimate=estimate) if trust else result
