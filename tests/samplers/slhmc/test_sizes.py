"""The memory estimate of an SLHMC training (qlat.samplers.slhmc.sizes): each part, and the flags it blames."""

from __future__ import annotations

import pytest

from qlat.core.errors import ParameterError
from qlat.samplers.slhmc.sizes import require_training_memory, training_parts

SMALL = {"L": 4, "rounds": 2, "n": 10, "chains": 2, "layers": 1, "heads": 2, "hidden": 4, "batch": 8}
NAMES = {k: f"--{k}" for k in ("L", "n", "chains", "rounds", "layers", "heads", "hidden")}


def test_each_part_is_what_it_holds():
    dirac, data, network = training_parts(**SMALL)
    assert dirac[0] == 16.0 * (2 * 16) ** 2 * 3  # complex (2N)^2 Dirac matrix, N = L^2, with LU workspace
    assert data[0] == 8.0 * 2 * 16 * (2 * 10 * 2)  # float64 links of every kept configuration
    width = 2 * 4
    assert network[0] == 8.0 * 1 * (3 * width * 4 + 16 * width * 2 * 16 * 8)
    require_training_memory(**SMALL, names=NAMES)


@pytest.mark.parametrize(("change", "blamed"), [
    ({"L": 100_000}, "--L"),
    ({"n": 10**11}, "--n/--chains/--rounds"),
    ({"hidden": 10**8}, "--layers/--heads/--hidden"),
])
def test_the_part_that_does_not_fit_names_its_flags(change, blamed):
    with pytest.raises(ParameterError) as err:
        require_training_memory(**{**SMALL, **change}, names=NAMES)
    assert err.value.parameter == blamed
