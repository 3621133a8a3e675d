"""Light-mass Schwinger cross-check: the N_f = 1 reweighting, the ED point, the table mechanics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qlat.analysis import light_mass_crosscheck as lm
from qlat.analysis.schwinger_crosscheck import CHI_T, ENERGY

pytestmark = pytest.mark.usefixtures("single_torch_thread")


TINY = lm.LightMassPreset(
    name="tiny", mass=0.2, theta=math.pi / 4, physical_volume=9.0, lattice_sizes=(4, 6, 8), samples=40, chains=4,
    thermalization=10, instanton_moves=1, big_volume=(8, 16.0), mass_uncertainty=(0.001, 0.003),
    chain_lengths=(4.0, 6.0), hamiltonian_spacings=(1.0, 0.5, 1 / 3), solver="ed")


def test_very_heavy_fermions_reweight_to_the_quenched_values():
    """m₀ ≫ 1: det D barely depends on the gauge field, so ⟨Q² w⟩/⟨w⟩ is the quenched ⟨Q²⟩ (1e-3)."""
    L, beta = 4, 2.0
    configs, q, _ = lm._ensemble(L, beta, TINY, seed=5, progress=False)
    fermions = lm._fermions(configs, L, beta, 200.0, TINY)
    logw, sign = fermions["logw"], fermions["sign"]
    assert np.all(sign == 1.0)
    values = lm._reweighted(q, logw, sign, volume=L * L, g2a2=1.0 / beta, theta=0.5)
    quenched = float(np.mean(q * q)) * beta / (L * L)
    assert values[CHI_T].value == pytest.approx(quenched, rel=1e-3)
    # and a light fermion suppresses the topological charge (det D ~ m^|Q| in the Q ≠ 0 sectors)
    fermions = lm._fermions(configs, L, beta, -0.05, TINY)
    logw, sign = fermions["logw"], fermions["sign"]
    light = lm._reweighted(q, logw, sign, volume=L * L, g2a2=1.0 / beta, theta=0.5)
    assert light[CHI_T].value < 0.8 * quenched


def test_hamiltonian_point_is_a_bulk_second_derivative():
    """χ_t from the bulk difference equals the finite difference of the θ-even bulk ΔE(θ)."""
    from qlat.analysis.ground_solvers import EDSolver

    h = 0.05
    point = lm.hamiltonian_light_mass_point(spacing=0.5, mass=0.2, lengths=(3.0, 4.0), theta=h, solver=EDSolver())
    # ΔE(h) ≈ χ_t h²/2 for small h (E is even in θ)
    assert point[ENERGY] == pytest.approx(0.5 * point[CHI_T] * h * h, rel=0.02)
    assert point[CHI_T] > 0


def test_tiny_light_mass_run(tmp_path):
    result = lm.light_mass(TINY, seed=2)
    cc = result.crosscheck
    assert cc.reference == "hamiltonian"
    assert set(cc.entries) == {"hamiltonian", "analytic", "monte carlo"}
    assert cc.entries["analytic"][CHI_T].value == pytest.approx(0.2 * 0.15992883492168569, rel=1e-12)
    mc = cc.entries["monte carlo"][CHI_T]
    sources = mc.provenance["systematic_sources"]
    assert any(k.startswith("mass renormalization") for k in sources)
    assert any(k.startswith("finite volume") for k in sources)
    assert math.isfinite(mc.value) and mc.error > 0
    diag = [p for p in result.points if p["column"] == "monte carlo" and p["observable"] == CHI_T]
    assert [p["L"] for p in diag] == [4, 6, 8]
    for p in diag:
        assert p["average_sign"] > 0.5 and 0 < p["reweighting_ess"] <= 1
        assert p["m0"] == pytest.approx(p["m_c"] + 0.2 * p["a_g"])
    assert "budget" in result.notes[1] and "PCAC" in result.notes[2]
    assert cc.entries["hamiltonian"][lm.M_PCAC].value == 0.2
    assert cc.entries["analytic"][lm.CHI_OVER_M].value == pytest.approx(0.15992883492168569, rel=1e-12)
    pcac = [p for p in result.points if p["column"] == "monte carlo" and p["observable"] == lm.M_PCAC]
    assert len(pcac) == 3 and all(np.isfinite(p["value"]) and p["error"] > 0 for p in pcac)
    assert 0.1 < pcac[-1]["value"] < 0.5  # L = 8 has a plateau t ∈ [2, 4) (L = 4 has none)
    json.dumps(__import__("qlat.cli._common", fromlist=["jsonable"]).jsonable(result.to_dict()))
    result.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    # the Hamiltonian column in a second process gives the same table as the serial run
    serial = lm.light_mass(TINY, seed=2, parallel=False)
    for label, row in cc.entries.items():
        for name, est in row.items():
            assert serial.crosscheck.entries[label][name].value == est.value, (label, name)


def test_dmrg_and_ed_give_the_same_hamiltonian_point():
    from qlat.analysis.ground_solvers import DMRGSolver, EDSolver

    common = {"spacing": 0.5, "mass": 0.1, "lengths": (2.0, 3.0), "theta": 0.4}
    ed = lm.hamiltonian_light_mass_point(**common, solver=EDSolver())
    dmrg = lm.hamiltonian_light_mass_point(**common, solver=DMRGSolver(16))
    for key in (CHI_T, ENERGY):
        assert dmrg[key] == pytest.approx(ed[key], abs=1e-8)


def test_chain_lengths_must_fit_the_spacings():
    from qlat.analysis.ground_solvers import EDSolver
    from qlat.core.errors import ParameterError

    with pytest.raises(ParameterError, match="chain_lengths"):
        lm.hamiltonian_light_mass_point(spacing=0.4, mass=0.1, lengths=(3.0, 4.0), theta=0.1, solver=EDSolver())


def test_big_volume_must_sit_at_the_middle_beta():
    from qlat.core.errors import ParameterError

    bad = lm.LightMassPreset(**{**TINY.__dict__, "big_volume": (8, 10.0)})  # β = 6.4, not 4
    with pytest.raises(ParameterError, match="big_volume"):
        lm.light_mass(bad, seed=0)
