"""String tension: probe charges against the quenched (heavy-mass) string, the small-m formula, the pipeline."""

from __future__ import annotations

import math

import pytest

from qlat.analysis.string_tension import (
    analyze_string_tension,
    measure_probe_chain,
    probe_chain,
    probe_separation,
    string_tension_mpt,
    string_tension_study,
)
from qlat.core.errors import ParameterError, QlatWarning
from qlat.exact import continuum


def _quenched_sigma(q: float, theta: float) -> float:
    """Heavy-mass string: (g²/2)[(θ/2π + q)² − (θ/2π)²] (the field between the probes is θ/2π + q)."""
    v = theta / (2 * math.pi)
    return 0.5 * ((v + q) ** 2 - v**2)


def test_probe_string_in_the_heavy_mass_limit():
    """m = 20 g, ED: E₀(ℓ) grows with slope (g²/2)[(θ/2π + q)² − (θ/2π)²]; +q sits left of −q."""
    rows = [measure_probe_chain(14, 0.5, 20.0, theta=1.0, q=0.25, separation=s, method="ed") for s in (3, 5, 7)]
    slope = (rows[2]["energy"] - rows[0]["energy"]) / (rows[2]["separation"] - rows[0]["separation"])
    assert slope == pytest.approx(_quenched_sigma(0.25, 1.0), rel=1e-3)
    assert slope != pytest.approx(_quenched_sigma(-0.25, 1.0), rel=0.5)  # the probe orientation matters
    assert rows[1]["central_field"] == pytest.approx(1.0 / (2 * math.pi) + 0.25, rel=1e-3)
    chain = probe_chain(14, 0.5, 0.1, theta=0.0, q=0.5, separation=5)
    assert chain.symmetry() == "cp" and chain.charges()[4] == 0.5 and chain.charges()[9] == -0.5


def test_small_mass_formula():
    m = 0.1
    sigma = continuum.sigma()
    assert string_tension_mpt(0.5, 0.0, mass=m, second_order=False) == pytest.approx(2 * m * sigma)
    # the O(m²) term ∝ cos 2θ cancels at q = 1/2 for every θ
    for theta in (0.0, 0.7, 2.0):
        assert string_tension_mpt(0.5, theta, mass=m) == pytest.approx(
            string_tension_mpt(0.5, theta, mass=m, second_order=False), abs=1e-15)
        assert string_tension_mpt(0.5, theta, mass=m) == pytest.approx(2 * m * sigma * math.cos(theta))
    assert string_tension_mpt(0.25, 0.0, mass=m, second_order=False) == pytest.approx(m * sigma)
    assert string_tension_mpt(0.25, 0.0, mass=m) != pytest.approx(m * sigma, rel=1e-3)


def test_pipeline_heavy_mass_continuum():
    res = string_tension_study(masses=[20.0], charges=[0.25], thetas=[1.0], spacings=[0.5, 0.4, 1 / 3],
                               length=6.0, separations=[1.0, 2.35, 3.65], method="ed", spacing_degree=1)
    est = res.points[0]["estimate"]
    # the continuum at m = 20 g keeps O((g/m)²) vacuum-polarization corrections to the quenched string
    assert est.value == pytest.approx(_quenched_sigma(0.25, 1.0), rel=1e-2)
    assert "σ/g²" in res.table() and res.to_dict()["points"][0]["q"] == 0.25


def test_probes_keep_their_sublattice_at_every_separation():
    """p = (N − 1 − s)/2 odd for every planned separation (one constant in E₀(ℓ) = c + σℓ): at
    a = 0.4, L = 32 the old odd-only rule put ℓ = 14 on the other sublattice (E₀ off by ≈ 0.09 g)."""
    for a in (0.5, 0.4, 1 / 3, 0.25):
        plan = string_tension_study(spacings=[a], separations=[8, 10, 12, 14], plan_only=True)
        seps = [c["separation"] for c in plan]
        n = plan[0]["n_sites"]
        assert len(set(seps)) == 4 and all(((n - 1 - s) // 2) % 2 == 1 and (n - 1 - s) % 2 == 0 for s in seps), a
        assert all(abs(s * a - ell) <= 2 * a for s, ell in zip(seps, (8, 10, 12, 14), strict=True)), a
    assert probe_separation(35.0, 80) == 33 and probe_separation(1.0, 80) == 1 and probe_separation(500.0, 80) == 77


def test_bad_input():
    with pytest.raises(ParameterError, match="charges"):
        string_tension_study(charges=[0.7], plan_only=True)
    with pytest.raises(ParameterError, match="separations"):
        string_tension_study(separations=[8.0, 40.0, 12.0], plan_only=True)
    with pytest.raises(ParameterError, match="separation"):
        probe_chain(10, 0.5, 0.1, theta=0.0, q=0.5, separation=4)


def test_dmrg_truncation_source_is_the_line_not_the_chi_half_redo():
    """DMRG rows carry E(χ/2) and E on the line in the discarded weight (qlat.exact.levels.line_energies);
    the truncation source is the study redone on the line (here 1e-5 g² per unit separation), not on
    χ/2 (1e-3: the bare difference); rows recorded before the line keep the bare χ/2 redo."""
    rows = string_tension_study(masses=[20.0], charges=[0.25], thetas=[1.0], spacings=[0.5, 0.4, 1 / 3],
                                length=6.0, separations=[1.0, 2.35, 3.65], method="ed", spacing_degree=1).rows
    shifted = [{**r, "energy_reference": r["energy"] + 1e-3 * r["separation"],
                "energy_line": r["energy"] - 1e-5 * r["separation"]} for r in rows]
    est = analyze_string_tension(shifted, spacing_degree=1).points[0]["estimate"]
    assert est.provenance["systematic_sources"]["truncation"] == pytest.approx(1e-5, rel=1e-3)
    assert "truncation(line)" in est.provenance["variants"] and est.warnings == ()
    shifted[0]["truncation_warnings"] = ["N = 12: DMRG truncation: the level 0 run at chi = 4 discards 0.001"]
    est = analyze_string_tension(shifted, spacing_degree=1).points[0]["estimate"]
    assert est.warnings == tuple(shifted[0]["truncation_warnings"])  # a chain's untrusted line reaches the estimate
    old = [{k: v for k, v in r.items() if k != "energy_line"} for r in shifted]
    est = analyze_string_tension(old, spacing_degree=1).points[0]["estimate"]
    assert est.provenance["systematic_sources"]["truncation"] == pytest.approx(1e-3, rel=1e-3)


def _synthetic_rows(sigma: float, tail: float, mass: float, separations: list[float], boundary: float = 0.0,
                    a2: float = 0.0) -> list[dict]:
    """E₀(ℓ) = c(a) + σ(a)ℓ + B e^{−Mℓ} + C e^{−0.7(40 − ℓ)/2} at three spacings, σ(a) = σ + a2·a²
    (what a probe chain of length 40 gives: the last term is both probes' boundary tails)."""
    rows = []
    for a, c in ((0.5, -36.0), (0.4, -58.0), (1 / 3, -86.0)):
        for ell in separations:
            rows.append({"mass": 0.1, "q": 0.5, "theta": 0.0, "spacing": a, "n_sites": int(round(40 / a)),
                         "separation": ell, "separation_sites": int(round(ell / a)),
                         "energy": c + (sigma + a2 * a * a) * ell + tail * math.exp(-mass * ell)
                         + boundary * math.exp(-0.35 * (40.0 - ell))})
    return rows


def test_screening_tail_fit_recovers_the_asymptotic_slope():
    """With ≥ 6 separations σ comes from E₀ = c + σℓ + B e^{−Mℓ}: it recovers σ where the straight
    line over ℓ = 8–20 is biased by the tail (here +1.8 %; +3.7 % over 8–14, as seen at m/g = 0.1, q = ½)."""
    sigma, tail, mass = 0.032, -0.2, 0.4
    seps = [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    res = analyze_string_tension(_synthetic_rows(sigma, tail, mass, seps), spacing_degree=1)
    point = res.points[0]
    est = point["estimate"]
    assert point["separation_model"] == "tail" and est.warnings == ()
    assert est.value == pytest.approx(sigma, abs=1e-6)
    assert all(s["tail_mass"] == pytest.approx(mass, rel=1e-3) for s in point["per_spacing"])
    line = point["variants"]["straight_line"]
    assert line - sigma > 0.015 * sigma  # the bias the tail fit removes ...
    assert est.total_error < 0.1 * (line - sigma)  # ... and the bar does not hide it
    assert {"screening tail", "probes near the ends"} <= set(est.provenance["systematic_sources"])
    assert "tail" in res.table()


def test_probes_near_the_ends_enter_the_error():
    """With 7 separations (the tail fit, no end term) a boundary tail rising at the longest
    separations shifts σ; the drop-longest variant puts the shift into the bar."""
    seps = [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    point = analyze_string_tension(_synthetic_rows(0.032, -0.2, 0.4, seps, boundary=1.0), spacing_degree=1).points[0]
    est = point["estimate"]
    assert point["separation_model"] == "tail"
    assert abs(est.value - 0.032) > 1e-4  # the boundary does move the fit ...
    assert abs(est.value - 0.032) <= 2 * est.total_error  # ... and the bar covers it
    assert est.provenance["systematic_sources"]["probes near the ends"] > 0.25 * abs(est.value - 0.032)


def test_tail_and_ends_fit_with_nine_separations():
    """With ≥ 8 separations the fit models both tails, E₀ = c + σℓ + B e^{−Mℓ} + C e^{−μ(L−ℓ)/2}
    (L from the rows): exact on such data, where the tail-only fit is off by the ends."""
    seps = [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0]
    point = analyze_string_tension(_synthetic_rows(0.032, -0.2, 0.4, seps, boundary=0.25), spacing_degree=1).points[0]
    est = point["estimate"]
    assert point["separation_model"] == "tail+ends" and est.warnings == ()
    assert est.value == pytest.approx(0.032, abs=1e-7)
    assert all(s["ends_mass"] == pytest.approx(0.7, rel=1e-4) for s in point["per_spacing"])
    assert abs(point["variants"]["tail_without_ends"] - 0.032) > 5e-5


def test_straight_line_on_curved_energies_is_warned():
    """With 4 separations (too few for the tail fit) the line's own check flags the bend; without a
    tail there is no warning (power: the same rows minus the tail pass)."""
    seps = [8.0, 10.0, 12.0, 14.0]
    with pytest.warns(QlatWarning, match="curved"):  # stderr on the CLI, and into the JSON
        point = analyze_string_tension(_synthetic_rows(0.032, -0.2, 0.4, seps), spacing_degree=1).points[0]
    assert point["separation_model"] == "line"
    assert any("curved" in w for w in point["estimate"].warnings)
    flat = analyze_string_tension(_synthetic_rows(0.032, 0.0, 0.4, seps), spacing_degree=1).points[0]
    assert flat["estimate"].warnings == () and flat["estimate"].value == pytest.approx(0.032, abs=1e-9)


def test_continuum_without_an_order_a_term_enters_the_error():
    """σ(a) = σ + c a² (the recorded run's shape: the mass shift removes O(a)): the straight line in a
    misses σ by ~c·a·a', the a² variant does not, and the continuum source covers the miss."""
    seps = [8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    point = analyze_string_tension(_synthetic_rows(0.032, -0.2, 0.4, seps, a2=6e-4), spacing_degree=1).points[0]
    est = point["estimate"]
    assert point["variants"]["a^2_not_a"] == pytest.approx(0.032, abs=1e-7)
    assert abs(est.value - 0.032) > 5e-5
    assert est.provenance["systematic_sources"]["continuum"] == pytest.approx(abs(est.value - 0.032), rel=1e-3)
