"""Heavy-mass Schwinger cross-check: ED against the heavy-mass limit, table mechanics, CLI files and errors."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from qlat.analysis import schwinger_crosscheck as sc
from qlat.core.estimate import Estimate

pytestmark = pytest.mark.usefixtures("single_torch_thread")


TINY = sc.HeavyMassPreset(
    name="tiny", physical_volume=8.0, lattice_sizes=(4, 6, 8), samples=30, chains=4, thermalization=10,
    instanton_moves=1, fit_degree=1, theta=math.pi / 4, ed_mass=10.0, ed_sites=(4, 6), ed_spacings=(1.0, 0.5, 0.25))


def test_second_derivative_is_exact_on_quartic():
    def f(t):
        return 3.0 + 2.0 * t + 0.7 * t**2 - 0.3 * t**3 + 0.05 * t**4

    assert sc._second_derivative(f, 0.2) == pytest.approx(1.4, abs=1e-12)


def test_ed_point_approaches_heavy_mass_limit():
    point = sc.ed_heavy_mass_point(spacing=1.0, mass=20.0, sites=(6, 8), theta=math.pi / 4)
    assert point["chi_t"] == pytest.approx(1 / (4 * math.pi**2), rel=1e-4)
    assert point["delta_energy_density"] == pytest.approx(0.5 * (1 / 8) ** 2, rel=1e-4)
    lighter = sc.ed_heavy_mass_point(spacing=1.0, mass=2.0, sites=(6, 8), theta=math.pi / 4)
    assert lighter["chi_t"] < point["chi_t"] - 1e-4  # virtual pairs screen the background field


def test_crosscheck_z_uses_the_systematic():
    from qlat.analysis.crosscheck import CrossCheck

    cc = CrossCheck(reference="a")
    cc.add("a", {"x": Estimate(1.0, 0.0, unit="g^2")})
    cc.add("b", {"x": Estimate(1.3, 0.3, unit="g^2").with_systematic({"fit": 0.4})})
    assert cc.comparison("b", "x")["z"] == pytest.approx(0.3 / 0.5)


def _analytic(theta):
    from qlat.exact import continuum

    return {sc.CHI_T: continuum.quenched_topological_susceptibility(),
            sc.ENERGY: float(continuum.quenched_energy_density(theta))}


def test_quick_tori_character_column_within_two_sigma():
    """The quick preset's tori (g²A = 20, L = 10 … 16): the model-averaged continuum limit, moved to
    infinite volume, is within 2σ of g²/(4π²) and (g²/2)(θ/2π)²; a straight line alone (the old fit)
    misses by more than 3σ of its own error — the data curve."""
    p = sc.HEAVY_MASS_PRESETS["quick"]
    points = [sc.character_point(L, area=p.physical_volume, theta=p.theta) for L in p.lattice_sizes]
    row, fits = sc.character_column(points, area=p.physical_volume, theta=p.theta, models=p.models())
    exact = _analytic(p.theta)
    for name in (sc.CHI_T, sc.ENERGY):
        est = row[name]
        assert not est.warnings and abs(est.z_score(exact[name])) <= 2
        sources = est.provenance["systematic_sources"]
        assert set(sources) == {"a->0 fit_model", "a->0 fit_range"} and est.systematic > 0 and est.error > 0
        assert est.provenance["finite_volume_correction"] > 0  # the torus lowers both: χ_A < χ_∞, ℰ_A < ℰ_∞
        assert len(fits[name]["candidates"]) == 6
        line, _ = sc.character_column(points, area=p.physical_volume, theta=p.theta,
                                      models=(sc.FitModel.polynomial(1),), emit=False)
        assert abs(line[name].z_score(exact[name])) > 3


#: Tori (g²A, L) of the calibration check below: areas 9 … 24, 4 … 7 tori, coarse and fine.
TORI = [(20.0, (10, 12, 14, 16)), (12.0, (8, 10, 12, 14, 16)), (16.0, (9, 11, 13, 15, 17, 19)),
        (24.0, (12, 14, 16, 18)), (9.0, (6, 8, 10, 12, 14)), (18.0, (8, 11, 14, 17, 20)),
        (14.0, (10, 11, 12, 13, 14, 15)), (22.0, (7, 9, 11, 13, 15)), (10.0, (12, 14, 16, 18, 20)),
        (20.0, (6, 8, 10, 12, 14, 16, 18))]


def test_character_continuum_limits_are_calibrated():
    """Over ten sets of tori (both observables): |z| ≤ 2 for ≥ 90 % and median σ/|Δ| ≤ 5, the
    calibration goal — an error bar 20× too wide or a fit model that is not varied fails it."""
    p = sc.HEAVY_MASS_PRESETS["quick"]
    z, tightness = [], []
    for i, (area, sizes) in enumerate(TORI):
        theta = 0.4 + 0.25 * i
        points = [sc.character_point(L, area=area, theta=theta) for L in sizes]
        row, _ = sc.character_column(points, area=area, theta=theta, models=p.models(), emit=False)
        for name, exact in _analytic(theta).items():
            assert not row[name].warnings
            z.append(row[name].z_score(exact))
            tightness.append(row[name].total_error / abs(row[name].value - exact))
    assert np.mean(np.abs(z) <= 2) >= 0.9
    assert np.median(tightness) <= 5.0


def test_quick_ed_column_within_two_sigma():
    p = sc.HEAVY_MASS_PRESETS["quick"]
    row, fits, points = sc.ed_column(spacings=p.ed_spacings, mass=p.ed_mass, sites=p.ed_sites, theta=p.theta,
                                     models=p.ed_models())
    assert len(points) == 2 * len(p.ed_spacings)
    for name, exact in _analytic(p.theta).items():
        est = row[name]
        assert not est.warnings and abs(est.z_score(exact)) <= 2
        assert {"a->0 fit_model", "a->0 fit_range", "heavy-mass remainder (1/m² from m/2)"} == set(
            est.provenance["systematic_sources"])


@pytest.mark.filterwarnings("ignore:chi_t|delta_energy_density")
def test_tiny_heavy_mass_run(tmp_path):
    from qlat.exact import u1_character_expansion as exact_u1

    result = sc.heavy_mass(TINY, seed=3)
    cc = result.crosscheck
    assert set(cc.entries) == {"analytic", "character", "monte carlo", "ed"}
    assert cc.entries["analytic"][sc.CHI_T].value == pytest.approx(0.025330295910584444)
    # character points: the exact lattice formula in the plaquette scheme; Monte Carlo points agree with them
    for L in TINY.lattice_sizes:
        beta = L * L / TINY.physical_volume
        g2a2 = 2 * (1 - exact_u1.mean_plaquette(beta, L))
        (exact,) = [p for p in result.points if p["column"] == "character" and p["L"] == L
                    and p["observable"] == sc.CHI_T]
        assert exact["value"] == pytest.approx(exact_u1.topological_susceptibility(beta, L) / g2a2, rel=1e-12)
        (mc,) = [p for p in result.points if p["column"] == "monte carlo" and p["L"] == L
                 and p["observable"] == sc.CHI_T]
        assert abs(mc["value"] - exact["value"]) < 4 * mc["error"]
    ed = cc.entries["ed"][sc.CHI_T]
    assert abs(cc.comparison("ed", sc.CHI_T)["z"]) < 3 and ed.systematic > 0
    rows = list(csv.DictReader(io.StringIO(result.csv_text())))
    assert {r["column"] for r in rows} == {"analytic", "character", "monte carlo", "ed"}
    json.dumps(__import__("qlat.cli._common", fromlist=["jsonable"]).jsonable(result.to_dict()))
    result.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert "chi_t" in result.table()


@pytest.mark.filterwarnings("ignore:chi_t|delta_energy_density")
def test_cli_writes_files_and_json(tmp_path, monkeypatch, capsys):
    from qlat.cli.main import main

    monkeypatch.setitem(sc.HEAVY_MASS_PRESETS, "quick", TINY)
    assert main(["crosscheck", "heavy-mass", "--out", str(tmp_path), "--json", "--no-progress"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["table"]["reference"] == "analytic"
    assert {c["label"] for c in payload["table"]["comparisons"]} == {"character", "monte carlo", "ed"}
    for name in ("csv", "json", "png"):
        assert (tmp_path / f"crosscheck_heavy_mass.{name}").exists()


@pytest.mark.parametrize("argv,flag", [
    (["crosscheck", "heavy-mass", "--seed", "-1"], "--seed"),
    (["crosscheck", "heavy-mass", "--threads", "0"], "--threads"),
    (["crosscheck", "heavy-mass", "--preset", "huge"], "--preset"),
    (["crosscheck", "light-year"], "kind"),
])
def test_cli_bad_input(argv, flag, capsys, tmp_path):
    from qlat.cli.main import main

    with pytest.raises(SystemExit) as exc:
        code = main(argv + ["--out", str(tmp_path)])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("qlat: error:") and flag in err and err.count("\n") == 1


@pytest.mark.slow
def test_quick_preset_agrees_with_analytic():
    result = sc.heavy_mass("quick", seed=0)
    for label in ("monte carlo", "ed"):
        for name in (sc.CHI_T, sc.ENERGY):
            assert abs(result.crosscheck.comparison(label, name)["z"]) < 3
    assert np.isfinite(result.crosscheck.entries["monte carlo"][sc.CHI_T].error)
