import pytest

from qlat.analysis.crosscheck import CrossCheck
from qlat.core import Estimate, ParameterError


def test_z_scores_against_the_reference_and_table():
    cc = CrossCheck(reference="exact")
    cc.add("exact", {"energy": Estimate(-4.35, 0.0, unit="g"), "condensate": Estimate(-0.2854, 0.0, unit="g")})
    cc.add("aer", {"energy": Estimate(-4.33, 0.025, unit="g"), "condensate": Estimate(-0.2745, 0.0073, unit="g")})
    cc.add("statevector", {"condensate": Estimate(-0.28535, 0.0, unit="g")})
    aer = cc.comparison("aer", "condensate")
    assert aer["z"] == pytest.approx((-0.2745 + 0.2854) / 0.0073)
    exact_vs_exact = cc.comparison("statevector", "condensate")
    assert exact_vs_exact["z"] is None and exact_vs_exact["difference"] == pytest.approx(5e-5)
    assert cc.comparison("statevector", "energy")["difference"] is None  # not measured there
    text = cc.table()
    assert "z aer" in text and "+1.49" in text and "-4.330(25)" in text
    d = cc.to_dict()
    assert d["reference"] == "exact" and len(d["comparisons"]) == 4


def test_mixed_units_are_refused():
    cc = CrossCheck(reference="exact")
    cc.add("exact", {"chi_t": Estimate(0.0194, 0.0, unit="lattice")})
    with pytest.raises(ParameterError, match="unit"):
        cc.add("hmc", {"chi_t": Estimate(0.0190, 0.0004, unit="g^2")})
    with pytest.raises(ParameterError, match="label"):
        cc.comparison("nope", "chi_t")
