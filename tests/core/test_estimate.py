import json
import math

import pytest

from qlat.core import Estimate, ParameterError, format_value_error
from qlat.core.errors import NoRealizationError
from qlat.core.observable_registry import Observable, ObservableRegistry


@pytest.mark.parametrize(
    "value,error,text",
    [
        (-0.15993, 0.00012, "-0.15993(12)"),
        (1.2345, 0.0996, "1.23(10)"),
        (123.4, 5.6, "123.4(56)"),
        (1234.0, 56.0, "1234(56)"),
        (0.5, 0.0, "0.5"),
    ],
)
def test_parenthesis_notation(value, error, text):
    assert format_value_error(value, error) == text


def test_json_roundtrip_keeps_everything():
    e = Estimate(-0.16, 0.002, name="condensate", unit="g", tau_int=1.7, n_samples=4000,
                 backend="aer-shots", provenance={"seed": 3})
    back = Estimate.from_json(e.to_json())
    assert back == e
    d = json.loads(e.to_json())
    assert d["value"] == -0.16 and d["error"] == 0.002


def test_z_score_and_negative_error():
    a = Estimate(1.0, 0.3)
    b = Estimate(0.6, 0.4)
    assert math.isclose(a.z_score(b), 0.4 / 0.5)
    assert a.z_score(1.0) == 0.0
    with pytest.raises(ParameterError, match="error"):
        Estimate(1.0, -1.0)
    with pytest.raises(ParameterError, match="unknown Estimate fields"):
        Estimate.from_dict({"value": 1.0, "colour": "red"})


def test_observable_dispatch_and_missing_realization():
    class Base: ...
    class Child(Base): ...
    class Other: ...

    obs = Observable("thing", unit="1", description="a test quantity")
    obs.register(Base, lambda target: ("base", type(target).__name__))
    assert obs.realize(Child()) == ("base", "Child")
    assert obs.supports(Child()) and not obs.supports(Other())
    with pytest.raises(NoRealizationError, match="'thing' has no realization on Other"):
        obs.realize(Other())

    reg = ObservableRegistry()
    reg.add(obs)
    assert reg.get("thing") is obs
    with pytest.raises(ParameterError, match="observable: unknown; known observables are thing"):
        reg.get("nope")


def test_systematic_error_enters_z_scores_and_printing():
    a = Estimate(1.0, 0.03, systematic=0.04)
    assert a.total_error == pytest.approx(0.05)
    assert a.z_score(0.9) == pytest.approx(2.0)
    assert str(a) == "1.000(30)(40)"
    assert not a.exact and Estimate(1.0).exact and not Estimate(1.0, systematic=0.1).exact
    b = Estimate.from_json(a.to_json())
    assert b == a


def test_with_systematic_adds_sources_in_quadrature():
    est = Estimate(0.5, 0.0).with_systematic({"trotter": 3e-4}).with_systematic({"adiabatic": 4e-4})
    assert est.systematic == pytest.approx(5e-4)
    assert est.provenance["systematic_sources"] == {"trotter": 3e-4, "adiabatic": 4e-4}
    with pytest.raises(ParameterError):
        Estimate(0.5, systematic=-1.0)


def test_units_live_on_the_realization():
    class Lattice:  # two toy target types
        pass

    class Chain:
        pass

    chi = Observable("chi_toy", unit="lattice", description="toy")
    chi.register(Lattice, lambda t: "lattice realization")
    chi.register(Chain, lambda t: "chain realization", unit="g^2")
    assert chi.unit_on(Lattice()) == "lattice" and chi.unit_on(Chain()) == "g^2"
    assert chi.realize(Chain()) == "chain realization"


def test_unit_of_chi_t_on_a_u1_ensemble_is_lattice():
    import qlat.theories  # noqa: F401  (registers the classical realizations)
    from qlat.core.lattice import Lattice
    from qlat.core.observable_catalogue import TOPOLOGICAL_SUSCEPTIBILITY
    from qlat.theories import U1Theory

    assert TOPOLOGICAL_SUSCEPTIBILITY.unit_on(U1Theory(Lattice((4, 4)), beta=1.0)) == "lattice"


def test_one_strict_json_encoding_for_non_finite_numbers():
    import numpy as np

    from qlat.core.jsonio import dumps, jsonable

    frozen = Estimate(0.5, math.inf, name="q2")
    text = frozen.to_json()
    assert "Infinity" not in text and '"inf"' in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert Estimate.from_json(text).error == math.inf
    assert jsonable({"a": (np.float64(1.5), np.int64(2)), 3: -math.inf}) == {"a": [1.5, 2], "3": "-inf"}
    assert dumps({"est": frozen}) == dumps({"est": frozen.to_dict()})


def test_round_off_sized_errors_print_without_twenty_digits():
    assert str(Estimate(1.0, 8.7e-19)) == "1(0)"
    assert str(Estimate(0.25, 1e-17)) == "0.25(0)"
    assert str(Estimate(-0.1599, 0.0012)) == "-0.1599(12)"


def test_warnings_collect_every_source_and_survive_json():
    import warnings as _warnings

    from qlat.core.errors import QlatWarning

    est = Estimate(1.0, 0.1, name="energy", provenance={"warning": "old style", "warning_noise": "noisy"})
    with pytest.warns(QlatWarning, match="energy: not adiabatic"):
        est = est.with_warning("not adiabatic")
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")
        est = est.with_warning("not adiabatic", emit=False)  # no repeat, no emission
    assert est.warnings == ("not adiabatic", "old style", "noisy")
    assert Estimate.from_json(est.to_json()).warnings == est.warnings
    assert Estimate(1.0).warnings == ()


def test_crosscheck_marks_warned_cells():
    from qlat.analysis.crosscheck import CrossCheck

    cc = CrossCheck(reference="exact")
    cc.add("exact", {"energy": Estimate(-4.35, unit="g")})
    cc.add("sim", {"energy": Estimate(-4.0, 0.02, unit="g").with_warning("fidelity 0.23", emit=False)})
    text = cc.table()
    assert "!1" in text and "!1 fidelity 0.23" in text
    assert cc.to_dict()["warnings"] == ["fidelity 0.23"]
    assert cc.rows()[0]["warnings"] == ["fidelity 0.23"]


def test_crosscheck_exports_csv_and_dataframe_with_errors_units_backends():
    import csv
    import io

    from qlat.analysis.crosscheck import CrossCheck

    cc = CrossCheck(reference="ed")
    cc.add("ed", {"energy": Estimate(-4.35, unit="g", backend="exact")})
    cc.add("aer", {"energy": Estimate(-4.30, 0.02, systematic=0.01, unit="g", backend="aer-shots")})
    rows = list(csv.DictReader(io.StringIO(cc.csv_text())))
    assert [r["backend_label"] for r in rows] == ["ed", "aer"]
    assert rows[1]["error"] == "0.02" and rows[1]["systematic"] == "0.01" and rows[1]["unit"] == "g"
    assert float(rows[1]["z"]) == pytest.approx(0.05 / math.hypot(0.02, 0.01))
    frame = cc.to_dataframe()
    assert list(frame["backend"]) == ["exact", "aer-shots"] and frame.loc[1, "total_error"] > 0.02


def test_observable_refuses_a_silent_second_realization():
    class Target: ...

    obs = Observable("thing2", unit="1", description="a test quantity")
    first = obs.register(Target, lambda target: 1)
    obs.register(Target, first)  # the same factory again: fine (a module imported twice)
    with pytest.raises(ParameterError, match="already has a realization on Target"):
        obs.register(Target, lambda target: 2)
    obs.unregister(Target)
    obs.register(Target, lambda target: 3)
    assert obs.realize(Target()) == 3
