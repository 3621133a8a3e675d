"""The θ-scan result object (qlat.analysis.scan.ThetaScan): units, MPT deviation, CSV, table, figure — from Python.

Synthetic rows (no diagonalization) keep this fast; tests/cli/test_schwinger_cli.py runs a real scan end to end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qlat.analysis.scan import MPT_WARN, ThetaScan
from qlat.analysis.schwinger_studies import mpt_relative_deviation
from qlat.core.estimate import Estimate

MASS, SIGMA = 0.1, 0.16


def _row(theta: float, *, bulk_factor: float, simulated: bool, truncation: float = 0.0) -> dict:
    mpt = -MASS * SIGMA * (math.cos(theta) - 1.0)
    row = {"n_sites": 8, "spacing": 0.5, "theta": theta, "energy": -3.0 + mpt,
           "condensate_design": -0.4 + 0.1 * theta, "bulk_condensate_physical_shift": 0.1 * theta,
           "mpt_condensate_shift": SIGMA * (1 - math.cos(theta)), "bulk_delta_energy_density": bulk_factor * mpt,
           "mpt_delta_energy_density": mpt}
    if truncation:
        row["truncation"] = {"bulk_delta_energy_density": truncation, "condensate_design": truncation}
    if simulated:
        row["condensate"] = Estimate(-0.4 + 0.1 * theta, 0.002, systematic=0.01, name="condensate", unit="g",
                                     backend="aer")
        row["fidelity"] = Estimate(0.99, 0.0, name="fidelity", unit="1", backend="aer")
    return row


def _scan(*, bulk_factor: float = 1.05, simulated: bool = False, dmrg: bool = False) -> ThetaScan:
    thetas = (0.0, 1.0, 2.0)
    rows = [_row(t, bulk_factor=bulk_factor, simulated=simulated, truncation=1e-4 if dmrg else 0.0) for t in thetas]
    return ThetaScan(rows=rows, lattices=[{"n_sites": 8, "spacing": 0.5, "lattice_sigma": 0.15}],
                     backend="aer" if simulated else ("dmrg" if dmrg else "exact"),
                     ground_state={"method": "dmrg", "bond_dim": 32} if dmrg else {"method": "ed"},
                     params={"mass": MASS, "coupling": 1.0, "formulation": "rotated", "mass_shift": False},
                     simulated=simulated, provenance={}, analytic={"sigma": SIGMA})


def test_deviation_is_mpt_relative_deviation_and_undefined_at_theta_zero():
    scan = _scan(bulk_factor=1.3)
    devs = scan.deviations()
    assert devs[0] is None  # ΔE_MPT(0) = 0
    expected = mpt_relative_deviation({"records": scan.rows})
    assert devs[1:] == [expected[1.0], expected[2.0]]
    assert devs[1] == pytest.approx(0.3)
    assert "+0.300" in scan.table()


@pytest.mark.parametrize(("factor", "warned"), [(1.0 + 0.5 * MPT_WARN, False), (1.0 + 2 * MPT_WARN, True),
                                                (1.0 - 2 * MPT_WARN, True)])
def test_warning_only_beyond_the_mpt_threshold(factor, warned):
    warnings = _scan(bulk_factor=factor).warnings()
    assert bool(warnings) is warned
    if warned:
        assert f"{100 * 2 * MPT_WARN:.0f} %" in warnings[0]


def test_units_and_backends_in_the_json():
    out = _scan(dmrg=True).to_dict()
    row = out["rows"][1]
    assert row["bulk_delta_energy_density"].unit == "g^2" and row["energy"].unit == "g^2"
    assert row["condensate_design"].unit == "g" and row["mpt_condensate_shift"].unit == "g"
    assert row["mpt_delta_energy_density"].backend == "analytic"
    assert row["bulk_delta_energy_density"].backend == "dmrg"
    assert row["bulk_delta_energy_density"].systematic == pytest.approx(1e-4)  # the χ vs χ/2 truncation
    assert row["theta"] == 1.0 and "truncation" not in row
    assert out["analytic"]["sigma"].unit == "g"


def test_csv_carries_errors_and_systematics():
    scan = _scan(simulated=True)
    lines = scan.csv_text().splitlines()
    header = lines[0].split(",")
    assert len(lines) == 1 + len(scan.rows)
    cells = dict(zip(header, lines[2].split(","), strict=True))
    assert float(cells["condensate"]) == scan.rows[1]["condensate"].value
    assert float(cells["condensate_error"]) == 0.002
    assert float(cells["condensate_systematic"]) == 0.01
    dmrg = dict(zip(*(line.split(",") for line in _scan(dmrg=True).csv_text().splitlines()[:2]), strict=True))
    assert float(dmrg["bulk_delta_energy_density_systematic"]) == 1e-4
    frame = scan.to_dataframe()
    assert list(frame["condensate_systematic"]) == [0.01] * 3


def test_table_shows_the_simulator_columns_only_when_simulated():
    assert "⟨ψ̄ψ⟩ aer" in _scan(simulated=True).table()
    assert "fidelity" not in _scan().table()
    assert "DMRG" in _scan(dmrg=True).table() and "ED" in _scan().table()


def test_figure_draws_systematic_bars_and_units_on_every_axis(tmp_path):
    import matplotlib.pyplot as plt

    scan = _scan(simulated=True)
    fig = scan.figure()
    try:
        for ax in fig.axes:
            assert "[" in ax.get_xlabel() and "[" in ax.get_ylabel(), (ax.get_xlabel(), ax.get_ylabel())
        # the condensate panel: statistical bars (±0.002) and total bars (±√(0.002² + 0.01²))
        lengths = set()
        for coll in fig.axes[0].collections:
            for seg in coll.get_segments():
                lengths.add(round(float(np.ptp(seg[:, 1])) / 2, 6))
        assert round(0.002, 6) in lengths and round(math.hypot(0.002, 0.01), 6) in lengths
    finally:
        plt.close(fig)
    scan.plot(tmp_path / "scan.png")
    assert (tmp_path / "scan.png").stat().st_size > 1000


def test_continuum_panel_has_fits_units_and_the_analytic_line():
    import matplotlib.pyplot as plt

    from qlat.analysis.schwinger_studies import continuum_condensate_massless

    scan = _scan()
    with pytest.warns(Warning):  # a two-volume extrapolation cannot test itself: it says so
        scan.continuum = continuum_condensate_massless(n_sites=[6, 8, 10], volumes=[3.0, 4.0], coupling=1.0)
    scan.continuum_method = "ed"
    assert "continuum massless condensate (ED, fixed-volume)" in scan.notes()
    fig = scan.figure()
    try:
        ax = fig.axes[3]
        assert "[1/g]" in ax.get_xlabel() and "[g]" in ax.get_ylabel()
        assert any(abs(y - scan.continuum.reference) < 1e-12 for line in ax.get_lines() for y in line.get_ydata())
        curves = [line for line in ax.get_lines() if len(line.get_xdata()) >= 50]  # the fits, drawn densely
        assert len(curves) == len(scan.continuum.stage1)  # one per volume, from a = 0
        assert all(min(c.get_xdata()) == 0.0 for c in curves)
    finally:
        plt.close(fig)
