"""θ-dependence study: bulk differences against the heavy-mass limit, the mass shift at m = 0,
the continuum pipeline, and the mass-perturbation-theory references."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from qlat.analysis.theta_dependence import (
    _references,
    measure_theta_chain,
    mpt_second_order_coefficient,
    theta_dependence_study,
)
from qlat.core.errors import ParameterError
from qlat.exact import continuum
from qlat.exact.levels import ed_levels
from qlat.theories.schwinger_qubit import SchwingerChain


def _bulk(mass: float, theta: float, *, sizes=(8, 12), spacing=0.5) -> float:
    e = {(n, t): measure_theta_chain(n, spacing, mass, t, method="ed")["energy"] for n in sizes for t in (0.0, theta)}
    n1, n2 = sizes
    return ((e[(n2, theta)] - e[(n2, 0.0)]) - (e[(n1, theta)] - e[(n1, 0.0)])) / ((n2 - n1) * spacing)


@pytest.mark.parametrize("theta", [0.8, 2.4])
def test_heavy_mass_limit(theta):
    """m = 20 g: ℰ(θ) − ℰ(0) = (g²/2)(θ/2π)² and ⟨E⟩ = θ/2π (pair creation suppressed) to 1e-4."""
    assert _bulk(20.0, theta) == pytest.approx(continuum.quenched_energy_density(theta), rel=1e-4)
    field = measure_theta_chain(12, 0.5, 20.0, theta, method="ed")["field"]
    assert field == pytest.approx(theta / (2 * math.pi), rel=1e-4)


def test_mass_shift_reduces_the_massless_theta_dependence():
    """At m = 0 the shifted lattice mass −g²a/8 cancels the staggered O(a) mass: the θ-dependence
    is well below that of the unshifted chain (the wrong sign of the shift would double it)."""
    shifted = _bulk(0.0, 1.6, sizes=(12, 16))

    def unshifted(n: int, t: float) -> float:
        return float(ed_levels(SchwingerChain(n, 0.5, 0.0, theta=t, formulation="electric"), 1).energies[0])

    plain = ((unshifted(16, 1.6) - unshifted(16, 0.0)) - (unshifted(12, 1.6) - unshifted(12, 0.0))) / 2.0
    assert 0 < shifted < 0.7 * plain


def test_continuum_pipeline_and_references():
    res = theta_dependence_study(masses=[20.0], thetas=[0.8, 1.6], spacings=[0.5, 0.4, 1 / 3],
                                 volumes=[3.0, 4.0], method="ed", spacing_degree=1)
    est = res.masses[20.0]["estimates"]
    assert est["delta_energy_density@1.6"].value == pytest.approx(continuum.quenched_energy_density(1.6), rel=1e-3)
    assert est["chi_t"].value == pytest.approx(continuum.quenched_topological_susceptibility(), rel=0.05)
    assert "heavy mass" in res.table()
    refs = _references(0.1, 1.0)
    a2 = mpt_second_order_coefficient()
    assert a2 == pytest.approx(8.9139 * math.exp(2 * 0.5772156649) / (16 * math.pi**2), rel=1e-5)  # Adam: 8.9139
    assert refs["mpt_second_order"]["chi_t"] == pytest.approx(0.1 * continuum.sigma() - 4 * a2 * 0.01)
    # ⟨E⟩ = (2π/g²) ∂ℰ/∂θ for every reference
    h = 1e-6
    for kind in ("mpt_first_order", "mpt_second_order", "heavy_mass"):
        de = (_references(0.1, 1.0 + h)[kind]["delta_energy_density"]
              - _references(0.1, 1.0 - h)[kind]["delta_energy_density"]) / (2 * h)
        assert refs[kind]["electric_field"] == pytest.approx(2 * math.pi * de, rel=1e-6)


def test_bad_input():
    with pytest.raises(ParameterError, match="thetas"):
        theta_dependence_study(thetas=[4.0], plan_only=True)
    with pytest.raises(ParameterError, match="volumes"):
        theta_dependence_study(volumes=[8.0], plan_only=True)
    with pytest.raises(ParameterError, match="spacings"):
        theta_dependence_study(spacings=[0.5, 0.4], plan_only=True)


def test_field_sum_is_the_theta_derivative_of_the_energy():
    """Hellmann–Feynman in the electric formulation: Σ_n⟨E_n⟩/g = (2π/(g²a)) ∂E₀/∂θ on every chain,
    so the bulk difference of the summed field is E/g = (2π/g²) ∂ℰ/∂θ of the energy's bulk."""
    a, m, theta, h = 0.5, 0.3, 1.1, 1e-4
    for n in (8, 12):
        row = measure_theta_chain(n, a, m, theta, method="ed")
        de = (measure_theta_chain(n, a, m, theta + h, method="ed")["energy"]
              - measure_theta_chain(n, a, m, theta - h, method="ed")["energy"]) / (2 * h)
        assert row["field_sum"] == pytest.approx(2 * math.pi * de / a, abs=1e-6)
        # the central-half average is a different (boundary-contaminated) number at these sizes
        assert abs(row["field"] - row["field_sum"] / (n - 1)) > 1e-3


def test_heavy_mass_continuum_needs_the_one_loop_screening():
    """m/g = 2, five spacings (ED): ⟨E⟩ and ℰ(θ) − ℰ(0) in the continuum agree with the screened
    heavy-mass limit (1 − g²/(6πm²)) (θ/2π), and the unscreened limit is many error bars away."""
    res = theta_dependence_study(masses=[2.0], thetas=[0.8], spacings=[0.5, 0.4, 1 / 3, 0.25, 0.2],
                                 volumes=[3.0, 4.0], method="ed")
    comp = {c["quantity"]: c for c in res.comparisons()}
    field = comp["electric_field@0.8"]
    assert field["reference"] == "heavy_mass_one_loop"
    screened = continuum.heavy_mass_screening(mass=2.0) * 0.8 / (2 * math.pi)
    assert field["reference_value"] == pytest.approx(screened, rel=1e-12)
    for key in ("electric_field@0.8", "delta_energy_density@0.8"):
        c = comp[key]
        assert abs(c["relative_deviation"]) < 1e-3 and abs(c["z"]) < 3
        # power: the quenched value is off by g²/(6πm²) = 1.3 %, far outside the bar
        assert abs(c["z_all"]["heavy_mass"]) > 10
        assert c["total_error"] < 0.3 * abs(c["reference_value"] / continuum.heavy_mass_screening(mass=2.0)
                                           - c["reference_value"])
    assert "heavy_mass_one_loop" in res.table()


def test_heavy_mass_screening_and_the_reference_choice():
    assert continuum.heavy_mass_screening(mass=2.0) == pytest.approx(1 - 1 / (24 * math.pi), rel=1e-12)
    assert continuum.heavy_mass_screening(mass=1.0, coupling=2.0) == pytest.approx(1 - 4 / (6 * math.pi))
    with pytest.raises(ParameterError, match="mass"):
        continuum.heavy_mass_screening(mass=0.0)
    refs = _references(2.0, 1.0)
    for obs, v in refs["heavy_mass"].items():
        if obs.startswith("fourier"):  # not defined for the heavy mass
            assert math.isnan(v) and math.isnan(refs["heavy_mass_one_loop"][obs])
            continue
        assert refs["heavy_mass_one_loop"][obs] == pytest.approx(v * (1 - 1 / (24 * math.pi)))
    assert "heavy_mass_one_loop" not in _references(0.0, 1.0)


def test_the_two_longest_chains_form_the_bulk_and_the_shortest_is_the_volume_variant():
    """volumes L1 < L2 < L3: the estimates are those of (L2, L3) alone; (L1, L3) is the finite-volume
    variant (its shift is the 'finite volume' systematic)."""
    common = {"masses": [0.3], "thetas": [1.2], "spacings": [0.5, 0.4, 1 / 3], "method": "ed", "spacing_degree": 1,
              "continuum": "polynomial"}
    three = theta_dependence_study(volumes=[2.0, 3.0, 4.0], **common)
    two = theta_dependence_study(volumes=[3.0, 4.0], **common)
    low = theta_dependence_study(volumes=[2.0, 4.0], **common)
    for key, est in two.masses[0.3]["estimates"].items():
        assert three.masses[0.3]["estimates"][key].value == pytest.approx(est.value, abs=1e-12)
        shift = abs(low.masses[0.3]["estimates"][key].value - est.value)
        assert shift > 0
        assert three.masses[0.3]["estimates"][key].provenance["systematic_sources"]["finite volume"] == \
            pytest.approx(shift, rel=1e-9)
    assert "finite volume" not in two.masses[0.3]["estimates"]["chi_t"].provenance["systematic_sources"]


def test_fourier_coefficients_and_their_mpt_references():
    """ℰ(θ) − ℰ(0) = Σ c_k (1 − cos kθ): the fit recovers c₁ … c₃ from four angles, and the MPT
    references are c₁ = mΣ, c₂ = −A m², c₃ = 0 (the first omitted orders m³, m⁴, m³)."""
    from qlat.analysis.theta_dependence import _fourier, _omitted

    thetas = [0.4, 0.8, 1.6, 2.4]
    c = [0.0153, -0.0017, 0.0002]
    energy = [sum(ck * (1 - math.cos((k + 1) * t)) for k, ck in enumerate(c)) for t in thetas]
    assert _fourier(thetas, energy) == pytest.approx(c, rel=1e-9)
    assert _fourier(thetas[:2], energy[:2]) is None  # one term leaves no angle over
    refs = _references(0.1, 0.0)
    a2 = mpt_second_order_coefficient()
    assert refs["mpt_second_order"]["fourier_c1"] == pytest.approx(0.1 * continuum.sigma())
    assert refs["mpt_second_order"]["fourier_c2"] == pytest.approx(-a2 * 0.01)
    assert refs["mpt_second_order"]["fourier_c3"] == 0.0
    assert math.isnan(refs["heavy_mass"]["fourier_c1"])
    # the m⁴ term of c₂ is estimated smaller than the m³ terms of c₁ and c₃ (x = 4.48 m/g < 1)
    sizes = {k: _omitted(0.1, {}, "mpt_second_order", k) for k in ("fourier_c1", "fourier_c2", "fourier_c3")}
    assert sizes["fourier_c2"] == pytest.approx(0.448 * sizes["fourier_c1"], rel=1e-2)
    assert sizes["fourier_c1"] == sizes["fourier_c3"] == pytest.approx(a2 * 0.01 * 0.448, rel=1e-2)


RECORDED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "hamiltonian_theta_dependence_1core.json"


@pytest.mark.slow
def test_recorded_theta_dependence_against_the_references():
    """The recorded run (preset theta_dependence_1core of benchmarks/hamiltonian_studies.py, ~20 CPU min):
    two of its chains recomputed, its rows re-analysed by this code, and the continuum values against
    the references: m/g = 2, the heavy-mass limit with the one-loop screening (the quenched limit, 1.3 %
    away, excluded); m/g = 0.1, mass perturbation theory — c₂ = −A m² (exact through O(m³)) within its
    bar and c₂ = 0 (first order) excluded; every other quantity within the bar plus the size of the
    unknown O(m³) term; χ_t equal to the light-mass study's independent Hamiltonian estimate."""
    from qlat.analysis.theta_dependence import analyze_theta_dependence

    rec = json.loads(RECORDED.read_text())
    rows = rec["rows"]
    for mass in (0.1, 2.0):  # the chains are reproducible (DMRG, χ = 32)
        row = next(r for r in rows if r["mass"] == mass and r["n_sites"] == 24 and r["theta"] == 2.4)
        again = measure_theta_chain(24, row["spacing"], mass, 2.4, bond_dim=row["bond_dim"])
        assert again["energy"] == pytest.approx(row["energy"], abs=1e-8)
        assert again["field_sum"] == pytest.approx(row["field_sum"], abs=1e-5)
    res = analyze_theta_dependence(rows, volumes=rec["settings"]["volumes"],
                                   spacing_degree=rec["settings"]["spacing_degree"])
    comps = res.comparisons()
    assert len(comps) == len(rec["comparisons"]) >= 20
    for new, old in zip(comps, rec["comparisons"], strict=True):  # the file is this code's output
        assert new["quantity"] == old["quantity"]
        assert new["value"] == pytest.approx(old["value"], rel=1e-9, abs=1e-12)
        assert new["total_error"] == pytest.approx(old["total_error"], rel=1e-6, abs=1e-12)
    heavy = [c for c in comps if c["mass"] == 2.0]
    light = {c["quantity"]: c for c in comps if c["mass"] == 0.1}
    assert len(heavy) == 9 and all(c["reference"] == "heavy_mass_one_loop" for c in heavy)
    for c in heavy:
        assert abs(c["z"]) <= 2 and abs(c["relative_deviation"]) < 1e-3, c
        assert abs(c["z_all"]["heavy_mass"]) > 5, c  # power: the unscreened limit fails
    c2 = light["fourier_c2"]
    assert c2["reference"] == "mpt_second_order" and abs(c2["z"]) <= 2
    assert abs(c2["value"]) > 5 * c2["total_error"]  # power: first order (c₂ = 0) fails
    for c in light.values():
        assert abs(c["z_with_omitted"]) <= 2, c
    lm = json.loads((RECORDED.parent / "light_mass_crosscheck_long.json").read_text())
    other = lm["table"]["estimates"]["hamiltonian"]["chi_t"]
    chi = res.masses[0.1]["estimates"]["chi_t"]
    assert abs(chi.z_score(other["value"], other_error=math.hypot(other["error"], other["systematic"]))) <= 2


def test_the_continuum_form_with_the_smaller_residuals_is_chosen():
    """On the recorded m/g = 0.1 chains (rows only, ~1 s) the fit in a² (c₀ + c₂a² + c₄a⁴) leaves far smaller
    residuals (10⁻¹–10⁻⁵) than c₀ + c₁a + c₂a²: "auto" takes it, and the polynomial's value is the continuum variant."""
    from qlat.analysis.theta_dependence import analyze_theta_dependence

    rows = [r for r in json.loads(RECORDED.read_text())["rows"] if r["mass"] == 0.1]
    fits = {form: analyze_theta_dependence(rows, volumes=[12, 16, 20], continuum=form).masses[0.1]
            for form in ("auto", "even", "polynomial")}
    for key in ("chi_t", "energy@0.4", "fourier_c2"):
        assert fits["even"]["fits"][key]["chi2"] < 0.1 * fits["polynomial"]["fits"][key]["chi2"]
        assert fits["auto"]["fits"][key]["value"] == fits["even"]["fits"][key]["value"]
        assert fits["auto"]["variants"]["other continuum form"][key] == pytest.approx(
            fits["polynomial"]["fits"][key]["value"], rel=1e-12)
    assert fits["auto"]["estimates"]["chi_t"].provenance["continuum_form"] == "even"
    with pytest.raises(ParameterError, match="continuum"):
        analyze_theta_dependence(rows, volumes=[12, 16, 20], continuum="odd")


def test_a_cached_row_without_the_field_sum_is_measured_again():
    """A row cached by an older qlat (points.jsonl without ``field_sum``) is measured again, not a KeyError."""
    from qlat.analysis.study_cache import RowCache

    common = {"masses": [0.3], "thetas": [1.2], "spacings": [0.5, 0.4, 1 / 3], "volumes": [3.0, 4.0],
              "method": "ed", "spacing_degree": 1}
    fresh = theta_dependence_study(**common)
    cache = RowCache()
    for key in theta_dependence_study(plan_only=True, **common):
        row = next(r for r in fresh.rows if (r["n_sites"], r["spacing"], r["theta"]) ==
                   (key["n_sites"], key["spacing"], key["theta"]))
        cache.put(key, {k: v for k, v in row.items() if not k.startswith("field_sum")})
    again = theta_dependence_study(cache=cache, **common)
    assert all("field_sum" in r for r in again.rows)
    for key, est in fresh.masses[0.3]["estimates"].items():
        assert again.masses[0.3]["estimates"][key].value == pytest.approx(est.value, abs=1e-12)
