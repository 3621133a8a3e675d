r"""Quantum numbers of the low-lying levels of an open Schwinger chain (the spectrum study's unit of work).

One chain (N, a, m, θ = 0, mass shift) → its k lowest levels in the zero-charge sector
(:mod:`qlat.exact.levels`: ED for N ≤ 22, DMRG beyond), each with

- **CP** (exact): ⟨ψ|U|ψ⟩ for U = reflection n → N−1−n with particle–hole conjugation, the
  mirror symmetry of the even open chain (:meth:`SchwingerChain.symmetry` ``"cp"``).  C and P
  alone are not symmetries of the staggered open chain (on the lattice C includes a one-site
  translation), but both are of the continuum theory on an interval at θ = 0 (boundary field
  0 ⇒ the boson φ, odd under C and P, vanishes at both ends), so:
- **C** (continuum): from the transition amplitudes t_n = ⟨k|Z_n|0⟩.  Split
  t_n = A_n + (−1)^n B_n into smooth parts, A_n = (t_{n−1} + 2t_n + t_{n+1})/4 (the charge
  density j⁰, C-odd) and B_n (the scalar density ψ̄ψ, C-even); with the field amplitude
  e_n = ½ Σ_{i≤n} A_i (E ∝ φ, which couples a one-boson state to the vacuum without the
  factor k that suppresses j⁰ = ∂φ/√π at small momentum), the C-odd fraction
  r = ‖e‖/(‖e‖ + ‖B‖) is ≈ 1 for a C-odd level and ≈ 0 for a C-even one (on N = 20, a = 0.5
  at m = 0: 0.52–0.72 against 0.01–0.04; on N = 8 the C-odd levels still give 0.42).
  C = −1 when r > :data:`C_ODD_THRESHOLD`.
- **tower index**: the C-odd levels in ascending order are the vector particle's standing
  waves with momenta k_n = nπ/L_eff, n = 1, 2, …; for a standing wave of a pseudoscalar (the
  Schwinger boson) the CP eigenvalue is (−1)^{n+1}, which the exact CP of each level must
  match (``tower_consistent``).  The scalar is the lowest C-even excited level.

The massless model is a free boson of mass g/√π (Schwinger 1962) with Dirichlet conditions at
the ends of the interval: E_n = √(M² + (nπ/L)²) for one boson, and the lowest two-boson state
(C = +1) is 2E₁ — the finite-volume forms that :mod:`qlat.analysis.spectrum` fits.
Bañuls, Cichy, Jansen, Cirac (JHEP 11 (2013) 158, arXiv:1305.3765) compute excitations of open
chains by MPS and identify them by their quantum numbers in the continuum; the construction
here (exact CP plus transition amplitudes for C) is qlat's own.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from qlat.core.errors import require
from qlat.exact.levels import ED_LEVELS_MAX_SITES, Levels, dmrg_levels, ed_levels
from qlat.theories.schwinger_qubit import SchwingerChain

__all__ = ["C_AMBIGUOUS", "C_ODD_THRESHOLD", "assign_labels", "c_odd_fraction", "classify_levels",
           "measure_chain_levels", "tower_consistent"]

#: A level is C-odd when its C-odd fraction r exceeds this.
C_ODD_THRESHOLD = 0.25
#: r within this distance of the threshold: the assignment is flagged as ambiguous (near-degenerate
#: levels of opposite C mix on the lattice; such a level is not used by the fits).
C_AMBIGUOUS = 0.1
#: ED up to this many sites (when the method is "auto").
AUTO_ED_MAX_SITES = 22


def _real_profile(t: np.ndarray) -> np.ndarray:
    """A transition profile with its arbitrary global phase removed (real up to rounding)."""
    t = np.asarray(t)
    if np.iscomplexobj(t):
        k = int(np.argmax(np.abs(t)))
        phase = t[k] / abs(t[k]) if abs(t[k]) > 0 else 1.0
        t = np.real(t / phase)
    return np.asarray(t, dtype=float)


def c_odd_fraction(transition: np.ndarray) -> float:
    """r = ‖e‖/(‖e‖ + ‖B‖) from t_n = ⟨k|Z_n|0⟩ (module docstring); NaN when both vanish."""
    t = _real_profile(transition)
    padded = np.concatenate([[0.0], t, [0.0]])
    smooth = (padded[:-2] + 2.0 * padded[1:-1] + padded[2:]) / 4.0
    staggered = (-1.0) ** np.arange(t.size) * (2.0 * padded[1:-1] - padded[:-2] - padded[2:]) / 4.0
    field = 0.5 * np.cumsum(smooth)
    e, b = float(np.linalg.norm(field)), float(np.linalg.norm(staggered))
    return e / (e + b) if e + b > 0 else math.nan


def classify_levels(levels: Levels) -> list[dict[str, Any]]:
    """One record per level: energy, gap, cp, c_odd_fraction and the labels of :func:`assign_labels`."""
    cps = levels.mirror_values()
    out: list[dict[str, Any]] = []
    for i in range(levels.k):
        record: dict[str, Any] = {"level": i, "energy": float(levels.energies[i]),
                                  "gap": float(levels.energies[i] - levels.energies[0]), "cp": float(cps[i]),
                                  "c_odd_fraction": None if i == 0 else c_odd_fraction(levels.transition_z(i, 0))}
        if levels.reference_energies is not None:
            record["gap_reference"] = float(levels.reference_energies[i] - levels.reference_energies[0])
            line = levels.line_energies()
            record["gap_line"] = float(line[i] - line[0])
        out.append(record)
    return assign_labels(out)


def assign_labels(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the level records with ``c``, ``label``, ``ambiguous`` (and ``expected_cp`` of tower levels).

    Labels: ``"vacuum"``, ``"V1"``, ``"V2"``, … (C-odd levels in order: the vector's standing
    waves), ``"S"`` (lowest C-even excited level: the scalar), ``"C+"`` (further C-even levels).
    A pure function of the stored (cp, c_odd_fraction), so an analysis can relabel stored rows.
    """
    out = []
    n_odd = 0
    scalar_found = False
    for i, rec in enumerate(records):
        record = {k: v for k, v in rec.items() if k not in ("c", "label", "ambiguous", "expected_cp")}
        if i == 0:
            record.update(c=1, label="vacuum", ambiguous=False)
            out.append(record)
            continue
        r = record.get("c_odd_fraction")
        r = math.nan if r is None or isinstance(r, str) else float(r)
        c = -1 if r > C_ODD_THRESHOLD else 1
        ambiguous = (not math.isfinite(r) or abs(r - C_ODD_THRESHOLD) < C_AMBIGUOUS
                     or abs(abs(record["cp"]) - 1) > 0.1)
        if c == -1:
            n_odd += 1
            label = f"V{n_odd}"
            record["expected_cp"] = (-1) ** (n_odd + 1)
        elif not scalar_found:
            label, scalar_found = "S", True
        else:
            label = "C+"
        record.update(c=c, label=label, ambiguous=bool(ambiguous))
        out.append(record)
    return out


def tower_consistent(records: list[dict[str, Any]]) -> bool:
    """Whether every C-odd level has the CP of its standing wave, (−1)^{n+1}."""
    return all(round(r["cp"]) == r["expected_cp"] for r in records if "expected_cp" in r)


def measure_chain_levels(
    n_sites: int,
    spacing: float,
    mass: float,
    *,
    k: int,
    method: str = "auto",
    bond_dim: int = 64,
    coupling: float = 1.0,
    mass_shift: bool = True,
    settings: Any = None,
) -> dict[str, Any]:
    """One table row: the k lowest levels of the neutral chain (N, a, m, θ = 0) and their quantum numbers.

    ``method``: ``"ed"``, ``"dmrg"`` (truncation check at χ/2) or ``"auto"`` (ED for N ≤ 22).
    """
    require(method in ("auto", "ed", "dmrg"), "method", "must be auto, ed or dmrg", method)
    start = time.perf_counter()
    cpu = time.process_time()
    chain = SchwingerChain(int(n_sites), float(spacing), float(mass), coupling=coupling, formulation="rotated",
                           mass_shift=mass_shift)
    use_ed = method == "ed" or (method == "auto" and n_sites <= min(AUTO_ED_MAX_SITES, ED_LEVELS_MAX_SITES))
    lv = ed_levels(chain, k) if use_ed else dmrg_levels(chain, k, bond_dim=bond_dim, settings=settings)
    records = classify_levels(lv)
    return {
        "n_sites": int(n_sites), "spacing": float(spacing), "volume": float(n_sites * spacing), "mass": float(mass),
        "method": lv.method, "bond_dim": None if lv.method == "ed" else int(bond_dim), "levels": records,
        "tower_consistent": tower_consistent(records),
        "converged": bool(lv.details.get("converged", True)),
        "seconds": round(time.perf_counter() - start, 3), "cpu_seconds": round(time.process_time() - cpu, 3),
        **({"truncation_warnings": lv.line_row_warnings()} if lv.method == "dmrg" else {}),
    }
