"""Renamed modules keep their old import path for one release: same objects, a DeprecationWarning."""

from __future__ import annotations

import importlib

import pytest

RENAMED = [
    ("qlat.core.observable", "qlat.core.observable_registry", "define"),
    ("qlat.core.observables", "qlat.core.observable_catalogue", "MAGNETIZATION"),
    ("qlat.exact.u1", "qlat.exact.u1_character_expansion", "mean_plaquette"),
    ("qlat.samplers.slmc.models", "qlat.samplers.slmc.effective_hamiltonians", "LinearEffectiveModel"),
]


@pytest.mark.parametrize(("old", "new", "name"), RENAMED)
def test_old_path_gives_the_same_object_with_a_deprecation_warning(old, new, name):
    shim = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=new):
        value = getattr(shim, name)
    assert value is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize(("old", "new", "name"), RENAMED)
def test_unknown_names_raise_attribute_error(old, new, name):
    shim = importlib.import_module(old)
    with pytest.raises(AttributeError):
        shim.no_such_name  # noqa: B018
    assert not hasattr(shim, "__all__") or hasattr(importlib.import_module(new), "__all__")
