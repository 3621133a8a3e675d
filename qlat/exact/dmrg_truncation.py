r"""Truncation error of a DMRG estimate: extrapolation in the discarded weight of two bond dimensions.

A two-site DMRG run at bond dimension χ discards, at each bond, the Schmidt weight w(χ) (the sum of
the dropped λ²; TeNPy's ``max_trunc_err`` of the last sweep).  The variational energy approaches
the ground-state energy *linearly* in w (White & Huse, PRB 48, 3844 (1993); Legeza & Fáth, PRB 53,
14349 (1996), arXiv:cond-mat/9809035; Hubig, Haegeman & Schollwöck, PRB 97, 045125 (2018),
arXiv:1711.01104, who compare it with the variance), so two runs at χ_ref < χ fix the line

.. math::
    E(\chi) - E_0 \approx \frac{E(\chi_\text{ref}) - E(\chi)}{w(\chi_\text{ref}) - w(\chi)}\, w(\chi),
    \qquad \delta E = |E(\chi) - E(\chi_\text{ref})|\,\frac{w(\chi)}{w(\chi_\text{ref}) - w(\chi)} .

The bare difference |O(χ) − O(χ_ref)| used before is the error of the χ_ref run, not of the χ one:
w falls by 10²–10⁵ from χ/2 to χ, so it was 100–2300× the real distance (issue 17).

Every other observable is *first order* in the state error ε (δO ≈ 2ε Re⟨0|O|χ⟩) while w and
δE are second order, so the straight line in w is a less certain model for them (between w and
√w): measured at N = 8–14, χ = 4–16 against ED (30 random chains, drawn apart from the calibration
points), the line underestimates their error by a median factor 2 with a wide spread.  Their systematic is the same extrapolation times
:data:`OBSERVABLE_FACTOR`; for a profile (electric field, charge density, entanglement entropy)
the bare difference of a component is the largest of its own and its neighbours' (the difference
profile crosses zero where the error need not).  The gap E₁ − E₀ takes the line of each energy
with its own discarded weight, combined in quadrature.

**Two references** (:func:`truncation_errors_of_runs`).  A line through two points cannot see an
O(χ) that is not monotone: near θ = π above the critical mass the two lowest branches of the level
crossing mix in the truncated state, and O(χ_ref) can land on the far side of O(∞), so that
|O(χ) − O(χ_ref)| is accidentally small while O(χ) is not (measured: a condensate at N = 12, χ = 6,
θ = 2.49, m = 0.53 at z = −102 on the χ/2 line, z = −0.2 on the 3χ/4 one), and a χ_ref run far outside
the linear regime (w(χ_ref) ≫ 10⁻⁴) puts the first-order observables' line off by more than the
factor 3 (the θ-scan field components of the issue, N = 10, χ = 8, θ = 2.5, m = 0.5: |z| up to 15).
So :func:`qlat.exact.dmrg.dmrg_estimates` runs a third bond dimension between them, χ_mid =
⌊(χ_ref + χ)/2⌋ (3χ/4 by default), and each value's systematic is the larger of the two lines,
(χ_ref, χ) and (χ_mid, χ) — from the runs alone, and a cost of about (3/4)³ ≈ 0.4 χ runs.  The larger
of two lines is wider than one, so the factor of the first-order observables is
:data:`TWO_LINE_OBSERVABLE_FACTOR` = 2 there (measured on 60 random chains near and away from π, N =
8–12, χ = 4–12, drawn apart from the calibration points: 607 unwarned values, |z| ≤ 1/2 for 85/98 %,
median σ/|Δ| 2.2, max |z| 4.8; with × 3: 93/99.5 %, 3.2).

A run whose χ did not bind (only ``svd_min`` truncated) has w ≈ 0 and no truncation error.  No
systematic is below the rounding of the MPS contractions, :data:`ROUNDING` · N · max(1, |O|)
(measured: 2·10⁻¹⁵–2·10⁻¹⁴ from ED at N = 8–14 where χ holds the state to w < 10⁻¹⁵).

**Warnings** (the bar cannot be trusted, from the runs alone): a DMRG run that stopped without
converging; a χ run that binds but whose discarded weight is not below the χ_ref run's (the line
has no lever arm; the bare difference is used instead); and a χ run that discards more than
:data:`DISCARDED_WEIGHT_WARN` = 10⁻⁴ (TeNPy's own default limit ``max_trunc_err`` for a trustworthy
DMRG state: far from the regime where the error is linear in w — measured, field errors 4–5× the
systematic at χ = 4, w ≈ 5·10⁻⁴).

**Calibration** (:mod:`qlat.analysis.calibration.dmrg`, against ED at N = 8–14, χ = 4–16, two seeds of
~155 points, one χ/2 line): |z| ≤ 2 for 98–99 % of the unwarned points, median σ/|Δ| 2.4–2.9 (energy
≈ 1.3).  Near θ = π (60 random chains at N = 8–12, χ = 4–12, 70 % within 0.8 of π, 294 unwarned values):
one χ/2 line 92 % (max |z| 102), one 3χ/4 line 96 % (max |z| 7.9), the larger of the two 99 % (max
|z| 3.2), median σ/|Δ| 2.0 / 2.9 / 3.6.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["DISCARDED_WEIGHT_WARN", "ENERGY_KEYS", "OBSERVABLE_FACTOR", "PROFILE_KEYS", "ROUNDING",
           "TWO_LINE_OBSERVABLE_FACTOR",
           "extrapolation_factor", "line_systematic", "rounding_floor", "run_factor", "run_warnings",
           "record_warnings", "middle_bond_dim", "truncation_errors", "truncation_errors_of_runs", "truncation_variant"]

#: Observables that are energies (second order in the state error): the plain line in w.
ENERGY_KEYS: tuple[str, ...] = ("energy", "energy_density")
#: Profiles: a component's bare difference is the largest of its own and its neighbours'.
PROFILE_KEYS: tuple[str, ...] = ("electric_field", "charge_density", "entanglement_entropy")
#: The line's uncertainty for observables first order in the state error (module docstring).
OBSERVABLE_FACTOR = 3.0
#: The same factor for the larger of two lines (χ_ref and χ_mid, :func:`truncation_errors_of_runs`), which is wider
#: than one line by itself (module docstring, "Two references").
TWO_LINE_OBSERVABLE_FACTOR = 2.0
#: Warn when the χ run discards more than this (TeNPy's default ``max_trunc_err``).
DISCARDED_WEIGHT_WARN = 1e-4
#: Rounding of a value contracted on an N-site MPS, per site and relative to max(1, |O|).
ROUNDING = 1e-14

METHOD = ("linear extrapolation in the discarded weight w of the runs at chi_ref and chi (White & Huse 1993; "
          "Legeza & Fath 1996): |O(chi) - O(chi_ref)| w(chi)/(w(chi_ref) - w(chi)); x{factor:g} for observables "
          "first order in the state error (profiles: max over neighbouring components); gap: each energy's line, "
          "in quadrature (qlat.exact.dmrg_truncation)")


def extrapolation_factor(w_ref: float, w: float, *, bound: bool) -> float:
    """w/(w_ref − w): the fraction of |O(χ) − O(χ_ref)| still missing at χ on the line in w.

    0 when χ did not bind (``bound`` False); 1 (the bare difference) when w does not decrease.
    """
    if not bound:
        return 0.0
    if w_ref > w:
        return float(max(w, 0.0) / (w_ref - w))
    return 1.0


def run_factor(reference_run: Mapping[str, Any], run: Mapping[str, Any]) -> float:
    """:func:`extrapolation_factor` of two run summaries (:meth:`qlat.exact.dmrg.DMRGRun.summary`:
    ``discarded_weight``, ``max_bond_dim``, ``bond_dim``); χ bound when ``max_bond_dim >= bond_dim``."""
    bound = int(run["max_bond_dim"]) >= int(run["bond_dim"])
    w_ref, w = float(reference_run["discarded_weight"]), float(run["discarded_weight"])
    return extrapolation_factor(w_ref, w, bound=bound)


def line_systematic(difference: Any, factor: float, *, energy: bool,
                    observable_factor: float = OBSERVABLE_FACTOR) -> np.ndarray:
    """The truncation systematic of a value from its bare difference |O(χ) − O(χ_ref)| and the line's
    fraction ``factor`` (:func:`extrapolation_factor`): × 1 for an energy (second order in the state
    error), × ``observable_factor`` (:data:`OBSERVABLE_FACTOR`; :data:`TWO_LINE_OBSERVABLE_FACTOR` when
    the larger of two lines is taken) for any other observable (module docstring).  No rounding floor."""
    return (1.0 if energy else float(observable_factor)) * np.abs(np.asarray(difference, dtype=float)) * float(factor)


def run_warnings(state: str, reference_run: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    """Why the line of the ``state`` runs at χ_ref and χ cannot be trusted (module docstring), from the
    run summaries alone: no lever arm, too much discarded weight, a run not converged."""
    warnings: list[str] = []
    w_ref, w = float(reference_run["discarded_weight"]), float(run["discarded_weight"])
    bound = int(run["max_bond_dim"]) >= int(run["bond_dim"])
    if bound and not w_ref > w:
        warnings.append(f"DMRG truncation: the {state} state's discarded weight did not decrease from "
                        f"chi = {reference_run['bond_dim']} to {run['bond_dim']} ({w_ref:.3g} -> {w:.3g}); the "
                        "extrapolation has no lever arm and the bare difference is used")
    if bound and w > DISCARDED_WEIGHT_WARN:
        warnings.append(f"DMRG truncation: the {state} run at chi = {run['bond_dim']} discards {w:.2g} > "
                        f"{DISCARDED_WEIGHT_WARN:g}, far from the regime where the error is linear in the "
                        "discarded weight; the truncation error is a rough guide (raise bond_dim)")
    for label, r in (("chi_ref", reference_run), ("chi", run)):
        if not r.get("converged", True):
            warnings.append(f"DMRG truncation: the {state} run at {label} = {r['bond_dim']} did not converge; "
                            "the truncation error model assumes converged runs")
    return warnings


def truncation_variant(records: Sequence[Mapping[str, Any]], key: str) -> tuple[str, str] | None:
    """``(suffix, variant name)`` of the truncation variant of a study redone on the records' ``key``:
    ``("_line", "truncation(line)")`` when every record with a χ_ref value ``key_reference`` also has
    its value on the line in w, ``key_line`` (:meth:`qlat.exact.levels.Levels.line_energies`); for
    records measured before the line was kept, ``("_reference", "truncation(chi/2)")``, the bare
    difference (an upper bound); None without χ_ref values (ED)."""
    with_ref = [r for r in records if r.get(f"{key}_reference") is not None]
    if not with_ref:
        return None
    if all(r.get(f"{key}_line") is not None for r in with_ref):
        return "_line", "truncation(line)"
    return "_reference", "truncation(chi/2)"


def record_warnings(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The distinct ``truncation_warnings`` of study rows (each a chain's :func:`run_warnings`, with its chain)."""
    out: list[str] = []
    for r in records:
        out.extend(m for m in r.get("truncation_warnings") or () if m not in out)
    return out


def rounding_floor(value: Any, n_sites: int) -> np.ndarray:
    """:data:`ROUNDING` · N · max(1, |O|): the smallest systematic of a value contracted on an N-site MPS."""
    return ROUNDING * n_sites * np.maximum(1.0, np.abs(np.asarray(value, dtype=float)))


def _spread(diff: np.ndarray) -> np.ndarray:
    """|Δ_i| → max(|Δ_{i−1}|, |Δ_i|, |Δ_{i+1}|) along a profile."""
    a = np.abs(diff.reshape(-1))
    if a.size <= 1:
        return a
    padded = np.concatenate([[0.0], a, [0.0]])
    return np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])


def truncation_errors(
    names: Sequence[str],
    reference: Mapping[str, Any],
    final: Mapping[str, Any],
    reference_runs: Mapping[str, Mapping[str, Any]],
    final_runs: Mapping[str, Mapping[str, Any]],
    *,
    n_sites: int,
    observable_factor: float = OBSERVABLE_FACTOR,
) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
    """``({name: systematic (array of the value's shape)}, description, warnings)`` (module docstring).

    ``reference``/``final``: the measured values at χ_ref and χ (``gap`` needs ``energy`` too);
    ``reference_runs``/``final_runs``: ``{"ground": summary, "excited": summary}``
    (:meth:`qlat.exact.dmrg.DMRGRun.summary`: ``discarded_weight``, ``max_bond_dim``, ``bond_dim``,
    ``converged``); ``n_sites``: N, for the rounding floor.
    """
    factors: dict[str, float] = {}
    warnings: list[str] = []
    weights: dict[str, list[float]] = {}
    for state, run in final_runs.items():
        ref_run = reference_runs[state]
        factors[state] = run_factor(ref_run, run)
        weights[state] = [float(ref_run["discarded_weight"]), float(run["discarded_weight"])]
        warnings.extend(run_warnings(state, ref_run, run))
    out: dict[str, np.ndarray] = {}
    for name in names:
        value = np.asarray(final[name], dtype=float)
        diff = value - np.asarray(reference[name], dtype=float)
        if name == "gap":
            e0 = abs(float(final["energy"]) - float(reference["energy"])) * factors["ground"]
            e1_final = float(final["energy"]) + float(final["gap"])
            e1_ref = float(reference["energy"]) + float(reference["gap"])
            e1 = abs(e1_final - e1_ref) * factors.get("excited", 1.0)
            out[name] = np.asarray(float(np.hypot(e0, e1)))
            value = np.asarray(abs(e1_final) + abs(float(final["energy"])))
        else:
            bare = _spread(diff).reshape(value.shape) if name in PROFILE_KEYS else np.abs(diff)
            out[name] = line_systematic(bare, factors["ground"], energy=name in ENERGY_KEYS,
                                        observable_factor=observable_factor)
        out[name] = np.maximum(out[name], rounding_floor(value, n_sites))
    description = {"method": METHOD.format(factor=observable_factor),
                   "discarded_weights": weights, "line_fraction": factors}
    return out, description, warnings


def middle_bond_dim(reference_bond_dim: int, bond_dim: int) -> int | None:
    """χ_mid = ⌊(χ_ref + χ)/2⌋, the second reference (module docstring), or None when no integer lies strictly between."""
    middle = (int(reference_bond_dim) + int(bond_dim)) // 2
    return middle if int(reference_bond_dim) < middle < int(bond_dim) else None


def truncation_errors_of_runs(
    names: Sequence[str],
    measured: Sequence[Mapping[str, Any]],
    runs: Sequence[Mapping[str, Mapping[str, Any]]],
    *,
    n_sites: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
    """:func:`truncation_errors` of the runs at [χ_ref, (χ_mid,) χ]: each value's systematic is the larger of
    the lines (χ_ref, χ) and (χ_mid, χ), × :data:`TWO_LINE_OBSERVABLE_FACTOR` for first-order observables
    (module docstring, "Two references"); the warnings of both, once each;
    the description of the χ_ref line with the χ_mid line's weights and fractions under ``"middle"``."""
    if len(measured) < 3:
        return truncation_errors(names, measured[0], measured[-1], runs[0], runs[-1], n_sites=n_sites)
    factor = TWO_LINE_OBSERVABLE_FACTOR
    out, description, warnings = truncation_errors(names, measured[0], measured[-1], runs[0], runs[-1],
                                                   n_sites=n_sites, observable_factor=factor)
    middle, middle_description, middle_warnings = truncation_errors(names, measured[1], measured[-1], runs[1],
                                                                    runs[-1], n_sites=n_sites, observable_factor=factor)
    for name in names:
        out[name] = np.maximum(out[name], middle[name])
    description = {**description, "method": description["method"] + "; the larger of the lines from chi_ref and "
                   "chi_mid = (chi_ref + chi)//2",
                   "middle": {k: middle_description[k] for k in ("discarded_weights", "line_fraction")}}
    warnings = warnings + [m for m in middle_warnings if m not in warnings]
    return out, description, warnings
