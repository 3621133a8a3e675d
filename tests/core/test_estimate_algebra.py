"""Estimate arithmetic: propagated errors, correlations kept by identity, systematics apart, units."""

import math

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.core.estimate import Estimate


def test_difference_of_independent_estimates_propagates_in_quadrature():
    a = Estimate(1.0, 0.3, unit="g")
    b = Estimate(2.0, 0.4, unit="g")
    d = a - b
    assert d.value == pytest.approx(-1.0) and d.error == pytest.approx(0.5) and d.unit == "g"
    s = a + b
    assert s.value == pytest.approx(3.0) and s.error == pytest.approx(0.5)


def test_an_estimate_minus_itself_or_its_copies_is_exact():
    a = Estimate(0.7, 0.05, unit="g").with_systematic({"trotter": 0.02})
    assert (a - a).error == 0.0 and (a - a).systematic == 0.0
    copy = a.with_provenance(note="same measurement")
    assert (a - copy).total_error == 0.0
    other = Estimate(0.7, 0.05, unit="g")  # made separately: independent
    assert (a - other).error == pytest.approx(0.05 * math.sqrt(2))


def test_products_quotients_powers_and_functions():
    a = Estimate(2.0, 0.1, unit="g")
    b = Estimate(4.0, 0.2, unit="g")
    p = a * b
    assert p.value == 8.0 and p.error == pytest.approx(8.0 * math.hypot(0.05, 0.05)) and p.unit == "g^2"
    q = a / b
    assert q.value == 0.5 and q.error == pytest.approx(0.5 * math.hypot(0.05, 0.05)) and q.unit == "1"
    assert (a**2).error == pytest.approx(2 * 2.0 * 0.1) and (a**2).unit == "g^2"
    assert a.sqrt().error == pytest.approx(0.1 / (2 * math.sqrt(2.0))) and a.sqrt().unit == "g^(1/2)"
    lg = np.log(a)
    assert lg.value == pytest.approx(math.log(2.0)) and lg.error == pytest.approx(0.05) and lg.unit == "1"
    assert (a / a).error == 0.0 and (a / a).value == 1.0
    assert (3 * a).error == pytest.approx(0.3) and (1 - a).value == -1.0 and (-a).value == -2.0
    assert abs(Estimate(-1.0, 0.1)).value == 1.0


def test_systematics_are_propagated_but_kept_apart():
    a = Estimate(1.0, 0.3).with_systematic({"trotter": 0.4})
    b = Estimate(1.0, 0.0).with_systematic({"trotter": 0.3, "adiabatic": 0.1})
    d = a - b
    assert d.error == pytest.approx(0.3)
    assert d.systematic == pytest.approx(math.sqrt(0.4**2 + 0.3**2 + 0.1**2))
    assert d.provenance["systematic_sources"]["trotter"] == pytest.approx(0.5)
    twice = 2 * a
    assert twice.error == pytest.approx(0.6) and twice.systematic == pytest.approx(0.8)


def test_units_must_match_for_sums():
    with pytest.raises(ParameterError, match="unit"):
        Estimate(1.0, 0.1, unit="g") + Estimate(1.0, 0.1, unit="lattice")
    assert (Estimate(1.0, unit="g^2") - Estimate(1.0, unit="g*g")).unit == "g^2"


def test_float_format_and_compatibility():
    a = Estimate(-0.15993, 0.00012, systematic=0.0003)
    assert float(a) == -0.15993
    assert f"{a:.3f}" == "-0.160 ± 0.000 ± 0.000 syst"
    assert f"{Estimate(1.23456, 0.012):.3f}" == "1.235 ± 0.012"
    assert f"{Estimate(1.5, 0.25):>12}" == "    1.50(25)"
    assert Estimate(1.0, 0.1).compatible_with(1.15) and not Estimate(1.0, 0.1).compatible_with(1.3)


def test_pyerrors_round_trip_keeps_values_and_errors():
    pe = pytest.importorskip("pyerrors")
    a = Estimate(0.25, 0.01, unit="g").with_systematic({"truncation": 0.002})
    obs = a.to_pyerrors()
    assert isinstance(obs, pe.Obs)
    back = Estimate.from_pyerrors(obs, unit="g")
    assert back.value == a.value and back.error == pytest.approx(a.error) and back.systematic == pytest.approx(0.002)
    rng = np.random.default_rng(1)
    chain = pe.Obs([rng.normal(1.0, 0.5, 500)], ["ens|r0"])
    est = Estimate.from_pyerrors(chain)
    chain.gamma_method()
    assert est.error == pytest.approx(chain.dvalue) and est.tau_int == pytest.approx(chain.e_tauint["ens"])
    assert (est - est).error == 0.0 and est.n_samples == 500
