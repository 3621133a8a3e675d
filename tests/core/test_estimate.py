import json
import math

import pytest

from qlat.core import Estimate, ParameterError, format_value_error
from qlat.core.observable import Observable, ObservableRegistry
from qlat.core.errors import NoRealizationError


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
