"""The checks a command runs before any work, in the library (qlat.quantum.simulators.check_simulation,
qlat.analysis.distributed.check_distribution): one ParameterError naming the parameter as the caller shows it."""

from __future__ import annotations

import pytest

from qlat.analysis.distributed import check_distribution
from qlat.core.errors import ParameterError
from qlat.quantum.simulators import check_simulation

FLAGS = {"total_time": "--time", "dt": "--dt", "shots": "--shots", "workers": "--workers",
         "scheduler": "--scheduler", "cluster": "--cluster"}


def _refused(fn, **kwargs) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        fn(**kwargs)
    return info.value


def test_a_good_simulation_passes():
    check_simulation("statevector", total_time=2.0, dt=0.5, initial_mass=0.5, seed=1)
    check_simulation("aer", shots=100, noise="depolarizing:0.001,0.01")
    check_simulation("tdvp", bond_dim=16)


@pytest.mark.parametrize(("kwargs", "parameter", "words"), [
    ({"total_time": 1.0, "dt": 0.3}, "dt", "must divide total_time"),
    ({"total_time": 1.0, "dt": 2.0}, "dt", "must be <= total_time"),
    ({"total_time": 1.0, "dt": 1e-7}, "dt", "Trotter steps"),
    ({"shots": 100}, "shots", "exact and takes no shots"),
    ({"noise": "depolarizing:0.1,0.1"}, "noise", "takes no noise model"),
    ({"bond_dim": 8}, "bond_dim", "applies to the MPS backends"),
    ({"initial_mass": -1.0}, "initial_mass", "must be >= 0"),
])
def test_a_bad_simulation_is_named(kwargs, parameter, words):
    exc = _refused(check_simulation, backend="statevector", **kwargs)
    assert exc.parameter == parameter and words in str(exc)


def test_the_names_are_the_callers():
    exc = _refused(check_simulation, backend="statevector", total_time=1.0, dt=0.3, names=FLAGS)
    assert exc.parameter == "--dt" and "must divide --time" in str(exc)


def test_distribution_in_one_place_only():
    assert check_distribution() is None and check_distribution(workers=2) is None
    exc = _refused(check_distribution, workers=2, scheduler="tcp://x:1", names=FLAGS)
    assert exc.parameter == "--scheduler" and "choose one of --workers, --scheduler, --cluster" in str(exc)
    assert _refused(check_distribution, workers=0).parameter == "workers"
    assert _refused(check_distribution, scheduler="x:1").parameter == "scheduler"
