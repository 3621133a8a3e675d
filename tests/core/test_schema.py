"""qlat.core.schema: one check for every file qlat reads back; what it accepts, what it names when it refuses."""

from __future__ import annotations

import pytest

from qlat.core.errors import CorruptFileError, ParameterError
from qlat.core.estimate import Estimate
from qlat.core.schema import COUNT, PLAIN_NAME, Build, MalformedFileError, MapOf, Obj, check, load_json, parse_json

SPEC = {"name": str, "size": COUNT, "weight?": float, "files": [PLAIN_NAME],
        "estimates?": MapOf(Build(Estimate.from_dict, "an Estimate", spec=dict))}


def _refusal(data, spec=SPEC, **kw):
    with pytest.raises(MalformedFileError) as info:
        check(data, spec, file="f.json", **kw)
    return str(info.value)


def test_valid_data_passes_and_builds():
    data = {"name": "a", "size": 3, "files": ["x.qasm"], "weight": 2, "estimates": {"e": {"value": 1.5, "error": 0.1}},
            "extra": [1]}
    out = check(data, SPEC, file="f.json")
    assert out["estimates"]["e"] == Estimate(1.5, 0.1) and out["weight"] == 2 and out["extra"] == [1]
    assert check({"name": "a", "size": 0, "files": []}, SPEC, file="f.json")["files"] == []


@pytest.mark.parametrize("data, place", [
    ([1], "must be an object, not an array"),
    ({"size": 1, "files": []}, "name: missing"),
    ({"name": "a", "size": True, "files": []}, "size: must be an integer, not true"),
    ({"name": "a", "size": -1, "files": []}, "size: must be an integer >= 0, not -1"),
    ({"name": "a", "size": 1.5, "files": []}, "size: must be an integer"),
    ({"name": "a", "size": 1, "files": ["ok", "../etc"]}, "files[1]: must be a file name without folders"),
    ({"name": "a", "size": 1, "files": [], "weight": "heavy"}, "weight: must be a number"),
    ({"name": "a", "size": 1, "files": [], "estimates": {"e": 3}}, "estimates.e: must be an object"),
    ({"name": "a", "size": 1, "files": [], "estimates": {"e": {"value": 1, "colour": 2}}},
     "estimates.e: not an Estimate (data: unknown Estimate fields ['colour'])"),
])
def test_malformed_data_is_one_line_naming_the_place(data, place):
    message = _refusal(data)
    assert message == f"f.json: {place}" or message.startswith(f"f.json: {place}"), message
    assert "\n" not in message


def test_the_error_names_the_flag_and_is_a_parameter_and_a_corrupt_file_error():
    with pytest.raises(MalformedFileError) as info:
        check({"a": 1}, Obj({"b?": int}, closed=True), file="cc.json", flag="--cluster-config", where="entry 2")
    error = info.value
    assert isinstance(error, ParameterError) and isinstance(error, CorruptFileError)
    assert error.parameter == "--cluster-config"
    assert str(error) == "--cluster-config: cc.json: entry 2: unknown key a (known: b)"
    assert "did you mean queue" in _refusal({"queu": 1}, Obj({"queue?": str, "memory?": str}, closed=True))


def test_files_that_are_not_json_or_not_files(tmp_path):
    (tmp_path / "bad.json").write_text('{"name": ')
    with pytest.raises(MalformedFileError, match=r"bad.json: not valid JSON \(Expecting value at line 1"):
        load_json(tmp_path / "bad.json", SPEC)
    with pytest.raises(MalformedFileError, match="is a folder"):
        load_json(tmp_path, SPEC, flag="--dir")
    with pytest.raises(MalformedFileError, match="no such file"):
        load_json(tmp_path / "missing.json", SPEC)
    assert parse_json(b'{"k": [1, 2]}', {"k": [int]}, file="x")["k"] == [1, 2]
