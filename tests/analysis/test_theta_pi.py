"""θ = π study: the mirror-symmetric chains (gap closes in the ordered phase only), the crossing finder,
and the finite-size-scaling pipeline on synthetic Ising scaling data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qlat.analysis.theta_pi import (
    _crossing,
    analyze_theta_pi,
    measure_theta_pi_chain,
    symmetric_theta_pi_chain,
    theta_pi_study,
)
from qlat.core.errors import ParameterError
from qlat.exact.levels import ed_levels
from qlat.theories.schwinger_qubit import SchwingerChain


def test_symmetric_chain_gap_closes_only_in_the_ordered_phase():
    """ED, a = 0.5: deep in the ordered phase (m = 1) LΔ falls with L (a kink in a box), in the
    disordered phase (m = 0.1) it grows; the two lowest levels have mirror parities +1, −1."""
    scaled = {}
    for m in (0.1, 1.0):
        rows = [measure_theta_pi_chain(n, 0.5, m, method="ed") for n in (9, 13, 17)]
        scaled[m] = [r["scaled_gap"] for r in rows]
        for r in rows:
            assert np.allclose(r["mirror"], [1.0, -1.0], atol=1e-9)
    assert scaled[1.0][0] > scaled[1.0][1] > scaled[1.0][2]
    assert scaled[0.1][0] < scaled[0.1][1] < scaled[0.1][2]
    # the usual neutral even chain pins the field: its gap stays open at m = 1
    pinned = [ed_levels(SchwingerChain(n, 0.5, 1.0, theta=math.pi, mass_shift=True), 2).gaps[0] * n * 0.5
              for n in (10, 14, 18)]
    assert pinned[2] > pinned[0]


def test_order_parameter_is_larger_in_the_ordered_phase():
    low = measure_theta_pi_chain(13, 0.5, 0.1, method="ed")["field_square"]
    high = measure_theta_pi_chain(13, 0.5, 1.0, method="ed")["field_square"]
    assert high > 1.3 * low > 0


def test_crossing_finder_is_exact_for_cubics():
    m = np.linspace(0.2, 0.5, 7)
    y1 = 1.0 + (m - 0.3337) * 2.0 + 0.5 * (m - 0.3337) ** 3
    y2 = 1.0 - (m - 0.3337) * 1.5
    assert _crossing(m, y1, y2) == pytest.approx(0.3337, abs=1e-10)
    assert _crossing(m, y1, y1 + 1.0) is None


def test_crossing_interpolation_enters_the_error():
    """The crossing one degree lower (quadratic for a cubic) differs where the curves bend over the
    grid step; that difference is the "crossing interpolation" source (zero for straight lines)."""
    m = np.array([0.32, 0.34, 0.36])
    y1, y2 = 1.0 + 3.0 * (m - 0.3328) - 40.0 * (m - 0.3328) ** 2, 1.0 - 5.0 * (m - 0.3328)
    assert _crossing(m, y1, y2) == pytest.approx(0.3328, abs=1e-12)  # a quadratic through 3 points
    assert abs(_crossing(m, y1, y2, lower=True) - 0.3328) > 2e-4  # the line through the bracket
    res = analyze_theta_pi(_synthetic(0.3335))
    assert res.estimate.provenance["systematic_sources"]["crossing interpolation"] > 1e-6
    assert res.variants["lower_interpolation"] != pytest.approx(res.estimate.value, abs=1e-6)


def _synthetic(m_c: float, *, correction: float = 0.0, volumes=(10.0, 15.0, 20.0, 30.0)) -> list[dict]:
    """Ising scaling forms: LΔ = f((m − m_c)L) + c/L², ⟨Ē²⟩ = L^{−2β/ν} g((m − m_c)L), with an a-dependent m_c(a)."""
    rows = []
    for a in (0.5, 0.4, 1 / 3):
        mc_a = m_c + 0.01 * a
        for n in sorted({2 * round((v / a - 1) / 2) + 1 for v in volumes}):
            L = n * a
            for m in (0.30, 0.32, 0.34, 0.36, 0.38):
                x = (m - mc_a) * L
                rows.append({"n_sites": n, "spacing": a, "volume": L, "mass": m, "method": "synthetic",
                             "scaled_gap": 3.0 - 2.4 * x + 0.2 * x**2 - 0.01 * x**3 + correction / L**2,
                             "field_square": L ** (-0.25) * (0.3 + 0.2 * x - 0.01 * x**3)})
    return rows


def test_finite_size_scaling_recovers_the_critical_mass():
    res = analyze_theta_pi(_synthetic(0.3335))
    assert res.estimate is not None
    assert res.estimate.value == pytest.approx(0.3335, abs=1e-6)
    assert res.variants["order_parameter"] == pytest.approx(0.3335, abs=1e-6)
    # corrections to scaling move the crossings; the extrapolation in 1/L̄² removes most of it
    corrected = analyze_theta_pi(_synthetic(0.3335, correction=2.0)).estimate
    assert abs(corrected.z_score(0.3335)) < 3
    # power: a critical mass 0.01 away is not covered
    shifted = analyze_theta_pi(_synthetic(0.3435)).estimate
    assert abs(shifted.z_score(0.3335)) > 10
    assert "(m/g)_c" in res.table() and res.to_dict()["reference"]["value"] == pytest.approx(0.3335)
    # only pairs with L̄ >= min_volume enter: the small-L̄ crossings are a note and a variant
    assert any("min_volume" in n for n in res.notes) and res.variants["all_crossings"] is not None
    assert res.estimate.provenance["min_volume"] == 15.0


def test_only_pairs_above_min_volume_enter_the_estimate():
    """Crossings of pairs with L̄ < 15 (here the pairs with the L ≈ 6 chain, shifted by ~0.01 as
    short chains are) change the variant all_crossings, not the estimate."""
    rows = _synthetic(0.3335, volumes=(6.0, 15.0, 20.0, 30.0))
    for r in rows:
        if r["volume"] < 7:
            r["scaled_gap"] += 0.2
    res = analyze_theta_pi(rows)
    assert res.estimate.value == pytest.approx(0.3335, abs=1e-6)
    assert abs(res.variants["all_crossings"] - 0.3335) > 5e-4
    assert analyze_theta_pi(rows, min_volume=0.0).estimate.value == pytest.approx(res.variants["all_crossings"])


def test_bad_input():
    with pytest.raises(ParameterError, match="n_sites"):
        symmetric_theta_pi_chain(10, 0.5, 0.3)
    with pytest.raises(ParameterError, match="volumes"):
        theta_pi_study(volumes=[10.0], plan_only=True)
    with pytest.raises(ParameterError, match="masses"):
        theta_pi_study(masses=[0.33], plan_only=True)
    with pytest.raises(ParameterError, match="min_volume"):
        theta_pi_study(min_volume=-1.0, plan_only=True)
    plan = theta_pi_study(spacings=[0.5], volumes=[10, 20], masses=[0.3, 0.35], plan_only=True)
    assert sorted({p["n_sites"] for p in plan}) == [21, 41] and all(p["n_sites"] % 2 for p in plan)
    with pytest.raises(ParameterError, match="bond_dim"):
        theta_pi_study(spacings=[0.5, 0.4], bond_dim=[32], plan_only=True)


def test_bond_dimension_per_spacing():
    """χ per spacing (a finer spacing at χ = 48 joins chains computed at χ = 32): each chain's cache
    key carries its own χ, so the coarse chains are reused, not recomputed."""
    plan = theta_pi_study(spacings=[0.5, 1 / 3], volumes=[15, 20], masses=[0.32, 0.34], bond_dim=[32, 48],
                          plan_only=True)
    chi = {(p["spacing"], p["bond_dim"]) for p in plan}
    assert chi == {(0.5, 32), (1 / 3, 48)}
    same = theta_pi_study(spacings=[0.5, 1 / 3], volumes=[15, 20], masses=[0.32, 0.34], bond_dim=48, plan_only=True)
    assert {p["bond_dim"] for p in same} == {48}


@pytest.mark.slow
@pytest.mark.xfail(reason="issue 23 goal not met in the continuum: small volumes sit on the falling branch of the "
                   "non-monotone crossings (docs/hamiltonian-studies.md); a = 0.5 alone reaches 0.3317(11)(5)",
                   strict=False)
def test_recorded_critical_mass():
    """The issue-23 goal on the preset theta_pi_2core of benchmarks/hamiltonian_studies.py (~20 min
    of one idle core): (m/g)_c within 0.003 of 0.3335 and the error bar covering it."""
    res = theta_pi_study(spacings=[0.5, 0.4, 1 / 3], volumes=[15, 20, 30], masses=[0.32, 0.34, 0.36], bond_dim=32)
    assert res.estimate is not None
    assert abs(res.estimate.value - 0.3335) < 0.003
    assert abs(res.estimate.z_score(0.3335, other_error=0.0002)) <= 2


def test_recorded_large_volume_critical_mass_meets_the_goal():
    """Issue 23's θ = π goal on the recorded three-spacing large-volume run
    (benchmarks/results/hamiltonian_theta_pi_large_volume_3spacings_2core.json): (m/g)_c within 0.003 of
    Byrnes et al.'s 0.3335(2), its bar covering it, and the estimate the recorded constant-in-a fit of
    the recorded per-spacing values (so a hand-edited estimate cannot pass)."""
    import json
    from pathlib import Path


    path = (Path(__file__).resolve().parents[2] / "benchmarks" / "results"
            / "hamiltonian_theta_pi_large_volume_3spacings_2core.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    est, ref = record["estimate"], record["reference"]
    assert sorted(record["settings"]["spacings"]) == pytest.approx([1 / 3, 0.4, 0.5])
    per = record["fits"]["gap"]["per_spacing"]
    w = np.array([1 / p["error"] ** 2 for p in per])
    mean = float(np.sum(w * [p["value"] for p in per]) / np.sum(w))
    assert est["value"] == pytest.approx(mean, abs=1e-12)
    assert abs(est["value"] - ref["value"]) < 0.003
    total = float(np.hypot(np.hypot(est["error"], est["systematic"]), ref["error"]))
    assert abs(est["value"] - ref["value"]) <= 2 * total
