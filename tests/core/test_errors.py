"""Errors name the parameter, what is allowed, what was given and — where there is one — how to fix it, on one line."""

from __future__ import annotations

import pytest

from qlat.core.errors import ParameterError, require


def test_hint_is_rendered_after_the_value_on_the_same_line():
    exc = ParameterError("n_sites", "must be even", 7, hint="use 8")
    assert str(exc) == "n_sites: must be even (got 7); hint: use 8"
    assert exc.hint == "use 8" and exc.requirement == "must be even"
    assert str(ParameterError("n_sites", "must be even", 7)) == "n_sites: must be even (got 7)"
    # a hint written over several lines still prints as one line
    assert "\n" not in str(ParameterError("x", "bad", hint="first\n   second"))
    with pytest.raises(ParameterError, match=r"^x: bad \(got 1\); hint: fix it$"):
        require(False, "x", "bad", 1, hint="fix it")


def test_renamed_keeps_hint_and_value():
    exc = ParameterError("dt", "must be > 0", -1.0, hint="try 0.1").renamed("--dt")
    assert str(exc) == "--dt: must be > 0 (got -1.0); hint: try 0.1"


@pytest.mark.parametrize("registry", ["THEORIES", "SAMPLERS", "BACKENDS"])
def test_unknown_plugin_names_list_what_exists_and_how_to_register(registry):
    from qlat.core import registry as reg

    reg_obj = getattr(reg, registry)
    with pytest.raises(ParameterError) as info:
        reg_obj.get("no-such-name")
    text = str(info.value)
    assert "\n" not in text and "known: " in text and reg_obj.names()[0] in text
    assert f"{registry}.register" in info.value.hint and "pip install -e ." in info.value.hint
    assert reg_obj.group in info.value.hint


def test_unknown_observable_says_how_to_define_one():
    import qlat.core.observable_catalogue  # noqa: F401  (the built-in definitions)
    from qlat.core.observable_registry import OBSERVABLES

    with pytest.raises(ParameterError) as info:
        OBSERVABLES.get("no_such_observable")
    assert "energy" in str(info.value) and "define(" in info.value.hint


def test_memory_refusal_suggests_a_smaller_size():
    from qlat.core.resources import require_memory

    with pytest.raises(ParameterError) as info:
        require_memory(float(2**80), "--sites", "a test")
    assert "smaller" in info.value.hint


def test_cli_prints_the_hint_on_the_one_error_line(capsys):
    from qlat.cli.main import main

    assert main(["schwinger", "exact", "--sites", "40", "--method", "ed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qlat: error: --sites: ")
    assert "; hint: use --method dmrg" in err
